//! Bit decompositions and comparisons against constants.
//!
//! [`enforce_le_constant`] is the workhorse of the canonicity checks in
//! [`eddsa`](super::eddsa) (`S < l`, and `e < p` for the hash used as a scalar). It costs one
//! constraint per *run* of equal bits of the constant instead of one or two per bit.

use ark_ff::{BigInteger, PrimeField, Zero};
use ark_r1cs_std::{
    GR1CSVar,
    alloc::AllocVar,
    boolean::Boolean,
    eq::EqGadget,
    fields::{FieldVar, fp::FpVar},
};
use ark_relations::gr1cs::SynthesisError;

use super::{affine_combination, cs_of, div_or_zero};
use crate::Fr;

/// Allocates `n` witness bits (little-endian) holding the low `n` bits of `value`
/// (`n` booleanity constraints) and returns them with their packing `Σ bᵢ·2ⁱ` (a linear
/// combination, no constraint). Nothing ties the bits to `value`: the caller enforces the
/// packing equality it needs (unconditionally, or only when a condition holds).
pub fn witness_bits_le(
    value: &FpVar<Fr>,
    n: usize,
) -> Result<(Vec<Boolean<Fr>>, FpVar<Fr>), SynthesisError> {
    let cs = cs_of([value]);
    let bits = match value {
        FpVar::Constant(c) => {
            let big = c.into_bigint();
            (0..n).map(|i| Boolean::Constant(big.get_bit(i))).collect()
        }
        FpVar::Var(_) => (0..n)
            .map(|i| {
                Boolean::new_witness(cs.clone(), || {
                    value.value().map(|v| v.into_bigint().get_bit(i))
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let packed = pack_le(&bits)?;
    Ok((bits, packed))
}

/// `Σ bᵢ·2ⁱ` as one linear combination (no constraint). Wraps modulo `p` for 254+ bits.
pub fn pack_le(bits: &[Boolean<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    let vars: Vec<FpVar<Fr>> = bits.iter().map(|b| FpVar::from(b.clone())).collect();
    let mut power = Fr::from(1u8);
    let mut terms = Vec::with_capacity(vars.len());
    for var in &vars {
        terms.push((power, var));
        power = power + power;
    }
    affine_combination(terms, Fr::zero())
}

/// Decomposes `value` into its canonical little-endian 254-bit representation: booleanity
/// (254 constraints), packing equality (1) and the canonicity check `bits ≤ p − 1`
/// (106 constraints, see [`enforce_le_constant`]). 361 constraints in total.
///
/// Canonicity matters whenever the bits are used as an *integer* (e.g. a scalar): without
/// it a prover could use `value + p` for values below `2²⁵⁴ − p`.
pub fn to_canonical_bits_le(value: &FpVar<Fr>) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    let n = Fr::MODULUS_BIT_SIZE as usize;
    let (bits, packed) = witness_bits_le(value, n)?;
    packed.enforce_equal(value)?;
    let mut p_minus_one = Fr::MODULUS;
    p_minus_one.sub_with_borrow(&<Fr as PrimeField>::BigInt::from(1u64));
    enforce_le_constant(&bits, &p_minus_one, &Boolean::TRUE)?;
    Ok(bits)
}

/// Enforces `Σ bitsᵢ·2ⁱ ≤ bound` (bits little-endian, bound any big integer) when
/// `enabled` is true; when it is false every assignment of `bits` satisfies the constraints.
///
/// Works most-significant bit first over the *runs* of equal bits of `bound`, carrying a
/// flag `eq` that must be 1 while the prefix of `bits` equals the prefix of `bound`
/// (initially `eq = enabled`):
/// * a run of zeros of `bound`: `(Σ_run bᵢ)·eq = 0` — while equal, the bits must be zero
///   (a sum of fewer than `p` booleans is zero only if all are);
/// * a run of `k` ones: with `t = k − Σ_run bᵢ` (zero iff all bits of the run are one), a new
///   flag `eq'` and a witness `w`, `t·w = eq − eq'`. If `t = 0` this forces `eq' = eq`;
///   otherwise the prover may (and honestly does) clear the flag. A final run of ones needs
///   no constraint.
///
/// Soundness: if the integer exceeds `bound`, take the most significant differing position
/// `i` (there `bitsᵢ = 1`, `boundᵢ = 0`); all runs above it are equal, so `eq` is forced to
/// `enabled = 1` into the zero run containing `i`, whose constraint then fails. `eq` need
/// not be boolean: a non-boolean flag can only add restrictions.
///
/// Cost: one constraint per run of `bound` within `bits.len()` bits (minus a trailing run of
/// ones); zero if `enabled` is the constant false or `bound ≥ 2^bits.len()` (nothing to
/// check). Bits above the bound's length count as a leading run of zeros.
pub fn enforce_le_constant<B: BigInteger>(
    bits: &[Boolean<Fr>],
    bound: &B,
    enabled: &Boolean<Fr>,
) -> Result<(), SynthesisError> {
    if matches!(enabled, Boolean::Constant(false)) {
        return Ok(());
    }
    enforce_le_constant_if(bits, bound, &FpVar::from(enabled.clone()))
}

/// [`enforce_le_constant`] with the condition given as a field element `enabled`: enforced
/// when `enabled ≠ 0`, vacuous when `enabled = 0`. The caller constrains `enabled` (usually
/// to be boolean); a non-boolean non-zero value enforces the bound as well (the flag argument
/// of [`enforce_le_constant`] holds for any non-zero start value). Same cost.
pub fn enforce_le_constant_if<B: BigInteger>(
    bits: &[Boolean<Fr>],
    bound: &B,
    enabled: &FpVar<Fr>,
) -> Result<(), SynthesisError> {
    if matches!(enabled, FpVar::Constant(c) if c.is_zero()) || bound_exceeds_bits(bound, bits.len())
    {
        return Ok(());
    }
    let bound_bit = |i: usize| i < B::NUM_LIMBS * 64 && bound.get_bit(i);
    let fp_bits: Vec<FpVar<Fr>> = bits.iter().map(|b| FpVar::from(b.clone())).collect();
    let mut eq: FpVar<Fr> = enabled.clone();
    let mut hi = bits.len();
    while hi > 0 {
        let run_bit = bound_bit(hi - 1);
        let mut lo = hi - 1;
        while lo > 0 && bound_bit(lo - 1) == run_bit {
            lo -= 1;
        }
        let run = &fp_bits[lo..hi];
        let sum = affine_combination(run.iter().map(|b| (Fr::from(1u8), b)), Fr::zero())?;
        if !run_bit {
            // While equal so far, every bit of this run must be zero.
            sum.mul_equals(&eq, &FpVar::Constant(Fr::zero()))?;
        } else if lo > 0 {
            // t = k − Σ run; eq' = eq·[t == 0] (honestly), enforced as t·w = eq − eq'.
            let k = Fr::from(u64::try_from(hi - lo).map_err(|_| SynthesisError::Unsatisfiable)?);
            let t = affine_combination([(-Fr::from(1u8), &sum)], k)?;
            let cs = cs_of([&t, &eq]);
            if cs.is_none() {
                // Everything is constant: so is the flag.
                let (t, eq_value) = (t.value()?, eq.value()?);
                eq = FpVar::Constant(if t.is_zero() { eq_value } else { Fr::zero() });
                hi = lo;
                continue;
            }
            let next_eq = FpVar::new_witness(cs.clone(), || {
                let (t, eq) = (t.value()?, eq.value()?);
                Ok(if t.is_zero() { eq } else { Fr::zero() })
            })?;
            let w = FpVar::new_witness(cs, || {
                Ok(div_or_zero(eq.value()? - next_eq.value()?, t.value()?))
            })?;
            t.mul_equals(&w, &(&eq - &next_eq))?;
            eq = next_eq;
        }
        hi = lo;
    }
    Ok(())
}

/// Number of constraints [`enforce_le_constant`] adds for `n` bits against `bound` (with a
/// non-constant `enabled`).
pub fn le_constant_cost<B: BigInteger>(n: usize, bound: &B) -> usize {
    if bound_exceeds_bits(bound, n) {
        return 0;
    }
    let bound_bit = |i: usize| i < B::NUM_LIMBS * 64 && bound.get_bit(i);
    let mut cost = 0;
    let mut hi = n;
    while hi > 0 {
        let run_bit = bound_bit(hi - 1);
        let mut lo = hi - 1;
        while lo > 0 && bound_bit(lo - 1) == run_bit {
            lo -= 1;
        }
        if !run_bit || lo > 0 {
            cost += 1;
        }
        hi = lo;
    }
    cost
}

/// Whether `bound ≥ 2ⁿ`, i.e. every `n`-bit integer is below it.
fn bound_exceeds_bits<B: BigInteger>(bound: &B, n: usize) -> bool {
    (n..B::NUM_LIMBS * 64).any(|i| bound.get_bit(i))
}

#[cfg(test)]
mod tests {
    use ark_ff::{BigInt, UniformRand};
    use ark_relations::gr1cs::ConstraintSystem;
    use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

    use super::*;

    fn check_le(value: &BigInt<4>, bound: &BigInt<4>, n: usize, enabled: bool) -> (bool, usize) {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let enabled = Boolean::new_witness(cs.clone(), || Ok(enabled)).expect("alloc");
        let bits: Vec<Boolean<Fr>> = (0..n)
            .map(|i| Boolean::new_witness(cs.clone(), || Ok(value.get_bit(i))).expect("alloc"))
            .collect();
        let before = cs.num_constraints();
        enforce_le_constant(&bits, bound, &enabled).expect("synthesis");
        let cost = cs.num_constraints() - before;
        (cs.is_satisfied().expect("checkable"), cost)
    }

    fn big(v: u64) -> BigInt<4> {
        BigInt::from(v)
    }

    #[test]
    fn exhaustive_small_bounds() {
        for n in 1..=6usize {
            for bound in 0..(1u64 << n) + 3 {
                for value in 0..(1u64 << n) {
                    let (ok, cost) = check_le(&big(value), &big(bound), n, true);
                    assert_eq!(ok, value <= bound, "n={n} value={value} bound={bound}");
                    assert_eq!(cost, le_constant_cost(n, &big(bound)));
                    let (ok, _) = check_le(&big(value), &big(bound), n, false);
                    assert!(ok, "disabled must always be satisfiable");
                }
            }
        }
    }

    #[test]
    fn large_bounds_near_the_boundary() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let mut p_minus_one = Fr::MODULUS;
        p_minus_one.sub_with_borrow(&BigInt::from(1u64));
        for _ in 0..20 {
            let bound = Fr::rand(&mut rng).into_bigint();
            let mut above = bound;
            above.add_with_carry(&BigInt::from(1u64));
            let mut below = bound;
            below.sub_with_borrow(&BigInt::from(1u64));
            assert!(check_le(&bound, &bound, 254, true).0);
            assert!(check_le(&below, &bound, 254, true).0);
            assert!(!check_le(&above, &bound, 254, true).0);
            assert!(check_le(&above, &bound, 254, false).0);
        }
        let (ok, cost) = check_le(&p_minus_one, &p_minus_one, 254, true);
        assert!(ok);
        assert_eq!(cost, 106);
        assert!(!check_le(&Fr::MODULUS, &p_minus_one, 254, true).0);
    }

    #[test]
    fn canonical_decomposition() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        for _ in 0..5 {
            let x = Fr::rand(&mut rng);
            let cs = ConstraintSystem::<Fr>::new_ref();
            let var = FpVar::new_witness(cs.clone(), || Ok(x)).expect("alloc");
            let bits = to_canonical_bits_le(&var).expect("decompose");
            assert_eq!(cs.num_constraints(), 361);
            assert!(cs.is_satisfied().expect("checkable"));
            let big = x.into_bigint();
            for (i, b) in bits.iter().enumerate() {
                assert_eq!(b.value().expect("value"), big.get_bit(i));
            }
        }
    }

    #[test]
    fn non_canonical_decomposition_is_rejected() {
        // x + p < 2^254 has a second 254-bit representation; the check must reject it.
        let x = Fr::from(5u8);
        let mut alias = x.into_bigint();
        alias.add_with_carry(&Fr::MODULUS);
        let cs = ConstraintSystem::<Fr>::new_ref();
        let var = FpVar::new_witness(cs.clone(), || Ok(x)).expect("alloc");
        let bits: Vec<Boolean<Fr>> = (0..254)
            .map(|i| Boolean::new_witness(cs.clone(), || Ok(alias.get_bit(i))).expect("alloc"))
            .collect();
        pack_le(&bits).expect("pack").enforce_equal(&var).expect("eq");
        assert!(cs.is_satisfied().expect("checkable"), "packing alone accepts the alias");
        let mut p_minus_one = Fr::MODULUS;
        p_minus_one.sub_with_borrow(&BigInt::from(1u64));
        enforce_le_constant(&bits, &p_minus_one, &Boolean::TRUE).expect("synthesis");
        assert!(!cs.is_satisfied().expect("checkable"));
    }
}
