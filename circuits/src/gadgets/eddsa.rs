//! Conditional EdDSA-Poseidon verification with the semantics of circomlib's
//! `EdDSAPoseidonVerifier`.
//!
//! For a public key `A`, a message `M` (one field element) and a signature `(R8, S)`:
//! 1. `S < l` (the prime subgroup order) — the canonical scalar, no malleability;
//! 2. `e = Poseidon(R8.x, R8.y, A.x, A.y, M)` (5 inputs, circomlib parameters);
//! 3. `S·B8 == R8 + (8·e)·A`, with `e` used as a 254-bit *integer* (its canonical
//!    decomposition), exactly like circomlib's `mulPointEscalar(A, 8*hm)`.
//!
//! [`EddsaPoseidonVerifier::verify_if`] enforces all of this only when `enabled` holds; when it
//! does not, *every* witness satisfies the constraints (all zeros, garbage, a wrong
//! signature…), so unused or non-signing committee slots need no special witness.
//! [`EddsaPoseidonVerifier::verify_if_flag`] is the same check with the condition given as a
//! field element the caller constrains to be boolean (the light-client circuit's signer flags).
//!
//! # Preconditions
//! When `enabled`, `A` must be a curve point whose multiple `4·A` is a non-identity point of
//! the prime-order subgroup — true for every valid key (`A` in the prime-order subgroup,
//! `A ≠ O`). The light-client protocol guarantees this outside the circuit (committee keys are
//! validated natively before the committee commitment is formed), so the circuit does not
//! re-check it. The identity makes the constraints unsatisfiable; for an invalid key outside
//! the precondition (off the curve, or with an order-8 component) the constraints lose their
//! meaning for that key's slot only. `R8` needs no check: the final equality makes it equal
//! to a computed point of the prime-order subgroup (so it is on the curve and in the subgroup;
//! a prover-chosen off-curve `R8` simply fails).
//!
//! # How it is computed, and why it is exact
//! Everything expensive happens on the Montgomery form, whose incomplete addition costs 3
//! constraints (a combined `2P + Q` costs 5). Incomplete formulas are only exact when the two
//! operands have different `u` coordinates; instead of range arguments on scalars, the
//! accumulators carry a known multiple of the order-8 point `σ` ([`TORSION8`]) that the
//! other operand never carries. Since the `l`-part and the 8-torsion part of a point are
//! independent, `P = ±Q` is then impossible *for every scalar*, and no addition is ever
//! exceptional — for any witness, enabled or not. Writing `t(P)` for the torsion multiple:
//!
//! * **Variable base** `8e·A`: `H = 4·A` (two doublings), `Hσ = H + σ`. A signed-digit ladder
//!   over all 254 bits of `e`, most significant first, computes
//!   `acc ← 2·acc + dᵢ·Tᵢ` with `dᵢ = 2eᵢ − 1 ∈ {±1}` (so `dᵢ·Tᵢ` has a fixed `u` and its `v`
//!   costs one product) starting from `acc = Hσ`; this yields `(2e + 1)·H`. `Tᵢ = H` on two steps
//!   out of three and `Hσ` on every third: `t(acc)` then cycles `1 → ±2 → 4 → ±1 …`, is never
//!   equal to `±t(Tᵢ)` (`0` or `±1`), and `2·acc + Tᵢ` never has torsion 0. After 254 steps
//!   (`254 ≡ 2 mod 3`) `t = 4` exactly, and subtracting `Hσ` leaves `2e·H + 3σ = 8e·A + 3σ`.
//!   Cost: 6 per bit.
//! * **Fixed base** `S·B8`: 3-bit windows `j`, each a lookup into constants
//!   `v·8ʲ·B8 + sⱼ·σ` (3 constraints: one bit product and one product per coordinate; the
//!   last, 2-bit window costs 1) and an addition (3). With `s₀ = 1`, `sⱼ = 2` and a final
//!   correction, the running torsion stays odd while every added entry has torsion `2` or
//!   `4`, and the result is `S·B8 + σ`.
//! * `W = (S·B8 + σ) − (8e·A + 3σ)` (torsions `1` vs `5`: never exceptional), converted to
//!   Edwards (`W` has torsion 6, so never order 2), and `W + 2σ` is computed for free because
//!   `2σ = (x₂, 0)` has a linear addition map. It must equal `R8`.
//!
//! # Cost (constraints)
//! | part | constraints |
//! |---|---|
//! | `e = Poseidon5(…)` | 321 |
//! | canonical 254-bit decomposition of `e` (`e ≤ p − 1`) | 254 + 1 + 106 |
//! | `S` into 251 bits, conditional packing, conditional `S ≤ l − 1` | 251 + 1 + 120 |
//! | `A' = enabled ? A : B8`, to Montgomery, `H = 4A'`, `Hσ` | 2 + 2 + 8 + 3 |
//! | ladder, 254 bits | 1524 |
//! | fixed base, 84 windows | 499 |
//! | two additions, back to Edwards, conditional equality | 6 + 2 + 2 |
//! | **total** | **3,102** |

use std::{borrow::Borrow, sync::OnceLock};

use ark_ff::{BigInt, BigInteger, Zero};
use ark_r1cs_std::{
    alloc::{AllocVar, AllocationMode},
    boolean::Boolean,
    fields::{FieldVar, fp::FpVar},
};
use ark_relations::gr1cs::{Namespace, SynthesisError};

use super::{
    affine_combination,
    babyjubjub::{
        AffinePoint, BASE8, MontgomeryPoint, MontgomeryPointVar, PointVar, SUBGROUP_ORDER, TORSION8,
    },
    bits::{enforce_le_constant_if, to_canonical_bits_le, witness_bits_le},
    fixed_base::FixedBaseMulGadget,
    one,
    poseidon::PoseidonGadget,
};
use crate::{CircuitError, Fr};

/// Number of bits of a canonical `S` (`l < 2²⁵¹`).
pub const SCALAR_BITS: usize = 251;

/// A native signature in circomlib's form: `R8` in circom coordinates and `S` as an integer
/// (held in a field element; canonical signatures have `S < l < p`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SignatureWitness {
    /// The nonce point `R8 = r·B8`.
    pub r8: AffinePoint,
    /// The scalar `S = r + 8·e·a mod l`.
    pub s: Fr,
}

/// An EdDSA-Poseidon signature in-circuit.
#[derive(Clone, Debug)]
#[must_use]
pub struct SignatureVar {
    /// `R8`, not constrained to the curve by allocation (the verification does it).
    pub r8: PointVar,
    /// `S` as a field element; the verification decomposes it into 251 bits.
    pub s: FpVar<Fr>,
}

impl AllocVar<SignatureWitness, Fr> for SignatureVar {
    fn new_variable<T: Borrow<SignatureWitness>>(
        cs: impl Into<Namespace<Fr>>,
        f: impl FnOnce() -> Result<T, SynthesisError>,
        mode: AllocationMode,
    ) -> Result<Self, SynthesisError> {
        let cs = cs.into().cs();
        let sig = f().map(|s| *s.borrow());
        let r8 = PointVar::new_variable(cs.clone(), || sig.map(|s| s.r8), mode)?;
        let s = FpVar::new_variable(cs, || sig.map(|s| s.s), mode)?;
        Ok(Self { r8, s })
    }
}

/// Torsion multiple the fixed-base result carries (`S·B8 + σ`).
const FIXED_BASE_TORSION: u8 = 1;

static BASE8_TABLE: OnceLock<Result<FixedBaseMulGadget, CircuitError>> = OnceLock::new();

/// The (cached) table for `S·B8` with 251-bit `S`.
pub fn base8_table() -> Result<&'static FixedBaseMulGadget, CircuitError> {
    BASE8_TABLE
        .get_or_init(|| FixedBaseMulGadget::new(&BASE8, SCALAR_BITS, FIXED_BASE_TORSION))
        .as_ref()
        .map_err(Clone::clone)
}

/// `(2k + 1)·H + 4σ` for the little-endian bits of `k` (`bits.len() ≡ 2 mod 3`), by the
/// signed-digit ladder described in the module docs. `h_sigma = H + σ`. 6 constraints per bit.
fn signed_ladder(
    h: &MontgomeryPointVar,
    h_sigma: &MontgomeryPointVar,
    bits_le: &[Boolean<Fr>],
) -> Result<MontgomeryPointVar, SynthesisError> {
    if bits_le.len() % 3 != 2 {
        return Err(SynthesisError::ArityMismatch);
    }
    let mut acc = h_sigma.clone();
    for (step, bit) in bits_le.iter().rev().enumerate() {
        let base = if step % 3 == 2 { h_sigma } else { h };
        // T = (u, (2b − 1)·v): one product.
        let bv = FpVar::from(bit.clone()) * &base.v;
        let v = affine_combination([(Fr::from(2u8), &bv), (-one(), &base.v)], Fr::zero())?;
        let digit = MontgomeryPointVar { u: base.u.clone(), v };
        acc = acc.double_and_add_unchecked(&digit)?;
    }
    Ok(acc)
}

/// The EdDSA-Poseidon verification gadget (circomlib semantics). Cheap to clone; build it once
/// per circuit and call [`verify_if`](Self::verify_if) per signature.
#[derive(Debug, Clone)]
pub struct EddsaPoseidonVerifier {
    poseidon: PoseidonGadget,
    table: &'static FixedBaseMulGadget,
    sigma: MontgomeryPoint,
    two_sigma: AffinePoint,
    l_minus_one: BigInt<4>,
}

impl EddsaPoseidonVerifier {
    /// Loads the Poseidon parameters and the fixed-base table (both cached per process).
    pub fn new() -> Result<Self, CircuitError> {
        let mut l_minus_one = SUBGROUP_ORDER;
        l_minus_one.sub_with_borrow(&BigInt::from(1u64));
        Ok(Self {
            poseidon: PoseidonGadget::circom(5)?,
            table: base8_table()?,
            sigma: TORSION8.to_montgomery()?,
            two_sigma: TORSION8.mul_u64(2)?,
            l_minus_one,
        })
    }

    /// Enforces that `signature` is a valid signature of `message` under `public_key`
    /// (see the module docs for preconditions).
    pub fn verify(
        &self,
        public_key: &PointVar,
        message: &FpVar<Fr>,
        signature: &SignatureVar,
    ) -> Result<(), SynthesisError> {
        self.verify_if(&Boolean::TRUE, public_key, message, signature)
    }

    /// Enforces the verification only when `enabled` is true; otherwise any assignment of the
    /// inputs satisfies the added constraints. 3,102 constraints (see the module docs).
    pub fn verify_if(
        &self,
        enabled: &Boolean<Fr>,
        public_key: &PointVar,
        message: &FpVar<Fr>,
        signature: &SignatureVar,
    ) -> Result<(), SynthesisError> {
        self.verify_if_flag(&FpVar::from(enabled.clone()), public_key, message, signature)
    }

    /// [`verify_if`](Self::verify_if) with the condition given as a field element: the
    /// verification is enforced when `enabled = 1` and vacuous when `enabled = 0`. The caller
    /// must constrain `enabled` to be boolean; for any other value the constraints are
    /// unrelated to a signature check (the key is replaced by the affine combination
    /// `B8 + enabled·(A − B8)` of coordinates). Same cost as [`verify_if`](Self::verify_if):
    /// every use of the condition is linear in it.
    ///
    /// This form lets a circuit allocate its condition bits as plain field elements, so that a
    /// test can assign a non-boolean value and observe that the caller's booleanity
    /// constraint rejects it.
    pub fn verify_if_flag(
        &self,
        enabled: &FpVar<Fr>,
        public_key: &PointVar,
        message: &FpVar<Fr>,
        signature: &SignatureVar,
    ) -> Result<(), SynthesisError> {
        let r8 = &signature.r8;
        // e = Poseidon(R8.x, R8.y, A.x, A.y, M) and its canonical bits: always satisfiable.
        let e = self.poseidon.hash(&[
            r8.x.clone(),
            r8.y.clone(),
            public_key.x.clone(),
            public_key.y.clone(),
            message.clone(),
        ])?;
        let e_bits = to_canonical_bits_le(&e)?;

        // S: 251 bits, packing and S ≤ l − 1 only when enabled.
        let (s_bits, s_packed) = witness_bits_le(&signature.s, SCALAR_BITS)?;
        enforce_equal_if(&s_packed, &signature.s, enabled)?;
        enforce_le_constant_if(&s_bits, &self.l_minus_one, enabled)?;

        // A' = A when enabled, else B8: the ladder then never sees an invalid point.
        let base8 = PointVar::constant(BASE8);
        let a = PointVar {
            x: select_flag(enabled, &public_key.x, &base8.x)?,
            y: select_flag(enabled, &public_key.y, &base8.y)?,
        };
        let h = a.to_montgomery()?.double()?.double()?; // 4·A'
        let h_sigma = h.add_unchecked(&MontgomeryPointVar::constant(self.sigma))?;

        // (2e + 1)·H + 4σ − (H + σ) = 8e·A' + 3σ
        let ladder = signed_ladder(&h, &h_sigma, &e_bits)?;
        let eight_e_a = ladder.add_unchecked(&h_sigma.negate())?;

        // S·B8 + σ − (8e·A' + 3σ) = S·B8 − 8e·A' − 2σ, then + 2σ on the Edwards side.
        let s_b8 = self.table.mul(&s_bits)?;
        let w = s_b8.add_unchecked(&eight_e_a.negate())?;
        let expected_r8 = w
            .to_edwards()?
            .add_low_order(&self.two_sigma)
            .map_err(|_| SynthesisError::Unsatisfiable)?;
        enforce_equal_if(&expected_r8.x, &r8.x, enabled)?;
        enforce_equal_if(&expected_r8.y, &r8.y, enabled)
    }
}

/// `(a − b)·enabled = 0`: `a = b` when `enabled ≠ 0`. One constraint (none if all constant).
fn enforce_equal_if(
    a: &FpVar<Fr>,
    b: &FpVar<Fr>,
    enabled: &FpVar<Fr>,
) -> Result<(), SynthesisError> {
    let diff = affine_combination([(one(), a), (-one(), b)], Fr::zero())?;
    diff.mul_equals(enabled, &FpVar::Constant(Fr::zero()))
}

/// `f + enabled·(t − f)`: `t` when `enabled = 1`, `f` when `enabled = 0`. One constraint
/// (none if `enabled` is constant).
fn select_flag(
    enabled: &FpVar<Fr>,
    t: &FpVar<Fr>,
    f: &FpVar<Fr>,
) -> Result<FpVar<Fr>, SynthesisError> {
    let diff = affine_combination([(one(), t), (-one(), f)], Fr::zero())?;
    let product = enabled * &diff;
    affine_combination([(one(), f), (one(), &product)], Fr::zero())
}

#[cfg(test)]
mod tests {
    use ark_ed_on_bn254::Fr as Scalar;
    use ark_ff::{Field, PrimeField, UniformRand};
    use ark_r1cs_std::GR1CSVar;
    use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef, SynthesisMode};
    use light_poseidon::{Poseidon, PoseidonHasher};
    use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

    use super::*;

    /// A tiny native EdDSA-Poseidon signer in circomlib's conventions (test reference only;
    /// nonces are random, not derived).
    struct Signer {
        secret: Scalar,
        public: AffinePoint,
    }

    fn scalar_to_fr(s: Scalar) -> Fr {
        Fr::from_bigint(s.into_bigint()).expect("l < p")
    }

    fn challenge(r8: &AffinePoint, a: &AffinePoint, m: Fr) -> Fr {
        Poseidon::<Fr>::new_circom(5)
            .expect("params")
            .hash(&[r8.x, r8.y, a.x, a.y, m])
            .expect("hash")
    }

    impl Signer {
        fn random(rng: &mut ChaCha20Rng) -> Self {
            let secret = Scalar::rand(rng);
            let public = BASE8.mul(&secret.into_bigint()).expect("mul");
            Self { secret, public }
        }

        fn sign(&self, m: Fr, rng: &mut ChaCha20Rng) -> SignatureWitness {
            let r = Scalar::rand(rng);
            let r8 = BASE8.mul(&r.into_bigint()).expect("mul");
            let e = challenge(&r8, &self.public, m);
            let e_mod_l = Scalar::from_le_bytes_mod_order(&e.into_bigint().to_bytes_le());
            let s = r + Scalar::from(8u8) * e_mod_l * self.secret;
            SignatureWitness { r8, s: scalar_to_fr(s) }
        }
    }

    /// Native circomlib check: S < l and S·B8 == R8 + (8·e)·A with e as an integer.
    fn native_verify(a: &AffinePoint, m: Fr, sig: &SignatureWitness) -> bool {
        let s = sig.s.into_bigint();
        if s >= SUBGROUP_ORDER || !sig.r8.is_on_curve() {
            return false;
        }
        let e = challenge(&sig.r8, a, m);
        let lhs = BASE8.mul(&s).expect("mul");
        let rhs = a
            .mul(&e.into_bigint())
            .and_then(|p| p.mul_u64(8))
            .and_then(|p| p.add(&sig.r8))
            .expect("arith");
        lhs == rhs
    }

    #[derive(Clone, Copy)]
    struct Instance {
        enabled: Option<bool>, // None = constant true
        key: AffinePoint,
        message: Fr,
        sig: SignatureWitness,
    }

    fn synthesize(cs: &ConstraintSystemRef<Fr>, inst: &Instance) -> usize {
        let verifier = EddsaPoseidonVerifier::new().expect("verifier");
        let enabled = match inst.enabled {
            None => Boolean::TRUE,
            Some(b) => Boolean::new_witness(cs.clone(), || Ok(b)).expect("alloc"),
        };
        let key = PointVar::new_witness(cs.clone(), || Ok(inst.key)).expect("alloc");
        let message = FpVar::new_witness(cs.clone(), || Ok(inst.message)).expect("alloc");
        let sig = SignatureVar::new_witness(cs.clone(), || Ok(inst.sig)).expect("alloc");
        let before = cs.num_constraints();
        verifier.verify_if(&enabled, &key, &message, &sig).expect("synthesis");
        cs.num_constraints() - before
    }

    fn satisfied(inst: &Instance) -> bool {
        let cs = ConstraintSystem::<Fr>::new_ref();
        synthesize(&cs, inst);
        cs.is_satisfied().expect("checkable")
    }

    fn valid_instance(rng: &mut ChaCha20Rng) -> (Signer, Instance) {
        let signer = Signer::random(rng);
        let message = Fr::rand(rng);
        let sig = signer.sign(message, rng);
        assert!(native_verify(&signer.public, message, &sig));
        let inst = Instance { enabled: Some(true), key: signer.public, message, sig };
        (signer, inst)
    }

    const EXPECTED_CONSTRAINTS: usize = 3102;

    #[test]
    fn valid_signatures_verify() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for _ in 0..4 {
            let (_, inst) = valid_instance(&mut rng);
            assert!(satisfied(&inst));
            assert!(satisfied(&Instance { enabled: None, ..inst }));
        }
    }

    #[test]
    fn tampered_signatures_fail() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let (_, inst) = valid_instance(&mut rng);
        let sig = inst.sig;

        let tampered_s = SignatureWitness { s: sig.s + Fr::from(1u8), ..sig };
        assert!(!satisfied(&Instance { sig: tampered_s, ..inst }), "tampered S");

        assert!(
            !satisfied(&Instance { message: inst.message + Fr::from(1u8), ..inst }),
            "tampered message"
        );

        let other = Signer::random(&mut rng);
        assert!(!satisfied(&Instance { key: other.public, ..inst }), "wrong key");

        let off_curve = AffinePoint::new(sig.r8.x, sig.r8.y + Fr::from(1u8));
        assert!(!off_curve.is_on_curve());
        let sig_off = SignatureWitness { r8: off_curve, ..sig };
        assert!(!satisfied(&Instance { sig: sig_off, ..inst }), "R8 off curve");

        // R8 + a small-order point: a valid-looking but different nonce point.
        let r8_torsion = sig.r8.add(&TORSION8.mul_u64(4).expect("mul")).expect("add");
        let sig_torsion = SignatureWitness { r8: r8_torsion, ..sig };
        assert!(!satisfied(&Instance { sig: sig_torsion, ..inst }), "R8 + torsion");

        // A signature by another key on the same message.
        let foreign = other.sign(inst.message, &mut rng);
        assert!(!satisfied(&Instance { sig: foreign, ..inst }), "foreign signature");
        assert!(satisfied(&Instance { key: other.public, sig: foreign, ..inst }));
    }

    #[test]
    fn non_canonical_s_fails() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let l = Fr::from_bigint(SUBGROUP_ORDER).expect("l < p");
        let two_251 = BigInt::<4>::from(1u64) << 251u32;
        // Find a signature whose S + l still fits in 251 bits: then the curve equation holds
        // for S + l and only the range check can reject it.
        let (inst, alias) = loop {
            let (_, inst) = valid_instance(&mut rng);
            let alias = inst.sig.s + l;
            if alias.into_bigint() < two_251 {
                break (inst, alias);
            }
        };
        let sig = SignatureWitness { s: alias, ..inst.sig };
        assert!(!satisfied(&Instance { sig, ..inst }), "S + l");
        // Same with the range check disabled: the equation alone accepts S + l, which is
        // exactly why the check is needed.
        let cs = ConstraintSystem::<Fr>::new_ref();
        let bits: Vec<Boolean<Fr>> = (0..SCALAR_BITS)
            .map(|i| {
                Boolean::new_witness(cs.clone(), || Ok(alias.into_bigint().get_bit(i)))
                    .expect("alloc")
            })
            .collect();
        let lhs = base8_table().expect("table").mul(&bits).expect("mul");
        let canonical = BASE8.mul(&inst.sig.s.into_bigint()).expect("mul");
        let with_torsion =
            canonical.add(&TORSION8.mul_u64(u64::from(FIXED_BASE_TORSION)).expect("t")).expect("a");
        assert_eq!(lhs.value().expect("value"), with_torsion.to_montgomery().expect("m"));

        // S + 2l does not fit in 251 bits: rejected by the packing equality.
        let sig = SignatureWitness { s: inst.sig.s + l + l, ..inst.sig };
        assert!(sig.s.into_bigint() >= two_251);
        assert!(!satisfied(&Instance { sig, ..inst }), "S + 2l");
    }

    #[test]
    fn disabled_slots_accept_any_witness() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let zeros = Instance {
            enabled: Some(false),
            key: AffinePoint::new(Fr::zero(), Fr::zero()),
            message: Fr::zero(),
            sig: SignatureWitness { r8: AffinePoint::new(Fr::zero(), Fr::zero()), s: Fr::zero() },
        };
        assert!(satisfied(&zeros));
        assert!(!satisfied(&Instance { enabled: Some(true), ..zeros }));
        for _ in 0..3 {
            let garbage = Instance {
                enabled: Some(false),
                key: AffinePoint::new(Fr::rand(&mut rng), Fr::rand(&mut rng)),
                message: Fr::rand(&mut rng),
                sig: SignatureWitness {
                    r8: AffinePoint::new(Fr::rand(&mut rng), Fr::rand(&mut rng)),
                    s: Fr::rand(&mut rng),
                },
            };
            assert!(satisfied(&garbage));
        }
        let (_, inst) = valid_instance(&mut rng);
        let wrong = SignatureWitness { s: inst.sig.s + Fr::from(1u8), ..inst.sig };
        assert!(satisfied(&Instance { enabled: Some(false), sig: wrong, ..inst }));
        // The identity as key (invalid committee key) with the slot disabled.
        assert!(satisfied(&Instance { enabled: Some(false), key: AffinePoint::IDENTITY, ..inst }));
    }

    #[test]
    fn setup_and_prove_have_the_same_shape() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let (_, inst) = valid_instance(&mut rng);
        let prove = ConstraintSystem::<Fr>::new_ref();
        let n_prove = synthesize(&prove, &inst);

        let setup = ConstraintSystem::<Fr>::new_ref();
        setup.set_mode(SynthesisMode::Setup);
        let verifier = EddsaPoseidonVerifier::new().expect("verifier");
        let missing = || -> Result<Fr, SynthesisError> { Err(SynthesisError::AssignmentMissing) };
        let enabled = Boolean::new_witness(setup.clone(), || -> Result<bool, SynthesisError> {
            Err(SynthesisError::AssignmentMissing)
        })
        .expect("alloc");
        let point = || PointVar {
            x: FpVar::new_witness(setup.clone(), missing).expect("alloc"),
            y: FpVar::new_witness(setup.clone(), missing).expect("alloc"),
        };
        let key = point();
        let sig = SignatureVar {
            r8: point(),
            s: FpVar::new_witness(setup.clone(), missing).expect("alloc"),
        };
        let message = FpVar::new_witness(setup.clone(), missing).expect("alloc");
        verifier.verify_if(&enabled, &key, &message, &sig).expect("synthesis");
        assert_eq!(setup.num_constraints(), n_prove + 1); // + booleanity of `enabled`
        assert_eq!(setup.num_witness_variables(), prove.num_witness_variables());
    }

    #[test]
    fn ladder_handles_extreme_scalars() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let a = Signer::random(&mut rng).public;
        let l = Fr::from_bigint(SUBGROUP_ORDER).expect("l < p");
        let h = a.mul_u64(4).expect("mul");
        let sigma = TORSION8.to_montgomery().expect("m");
        for e in [Fr::zero(), Fr::from(1u8), -Fr::from(1u8), l, l + l, Fr::from(2u8).pow([253u64])]
        {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let av = PointVar::new_witness(cs.clone(), || Ok(a)).expect("alloc");
            let ev = FpVar::new_witness(cs.clone(), || Ok(e)).expect("alloc");
            let bits = to_canonical_bits_le(&ev).expect("bits");
            let hv = av.to_montgomery().expect("m").double().expect("d").double().expect("d");
            let h_sigma = hv.add_unchecked(&MontgomeryPointVar::constant(sigma)).expect("add");
            let out = signed_ladder(&hv, &h_sigma, &bits).expect("ladder");
            assert!(cs.is_satisfied().expect("checkable"), "e = {e}");
            // (2e + 1)·H + 4σ, with e as an integer.
            let mut k = e.into_bigint();
            k.mul2();
            k.add_with_carry(&BigInt::from(1u64));
            let expected = h
                .mul(&k)
                .and_then(|p| p.add(&TORSION8.mul_u64(4)?))
                .and_then(|p| p.to_montgomery())
                .expect("native");
            assert_eq!(out.value().expect("value"), expected, "e = {e}");
        }
    }

    #[test]
    fn fixed_base_handles_extreme_scalars() {
        let table = base8_table().expect("table");
        let l_minus_one = {
            let mut l = SUBGROUP_ORDER;
            l.sub_with_borrow(&BigInt::from(1u64));
            l
        };
        let mut all_ones = BigInt::<4>::from(1u64) << 251u32;
        all_ones.sub_with_borrow(&BigInt::from(1u64));
        for k in [
            BigInt::<4>::zero(),
            BigInt::from(1u64),
            BigInt::from(8u64),
            l_minus_one,
            SUBGROUP_ORDER,
            all_ones,
        ] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let bits: Vec<Boolean<Fr>> = (0..SCALAR_BITS)
                .map(|i| Boolean::new_witness(cs.clone(), || Ok(k.get_bit(i))).expect("alloc"))
                .collect();
            let out = table.mul(&bits).expect("mul");
            assert!(cs.is_satisfied().expect("checkable"));
            let expected = BASE8
                .mul(&k)
                .and_then(|p| p.add(&TORSION8))
                .and_then(|p| p.to_montgomery())
                .expect("native");
            assert_eq!(out.value().expect("value"), expected, "k = {k}");
        }
    }

    #[test]
    fn light_client_signatures_verify() {
        use trestle_light_client::SecretKey;
        for seed in 0..3u8 {
            let key = SecretKey::from_seed([seed; 32]);
            let message = Fr::from(1000u64 + u64::from(seed));
            let sig = key.sign(&message);
            let (ax, ay) = key.public_key().circom();
            let (rx, ry) = sig.r8().circom();
            let witness = SignatureWitness {
                r8: AffinePoint::new(rx, ry),
                s: Fr::from_bigint(sig.s().into_bigint()).expect("l < p"),
            };
            let inst = Instance {
                enabled: Some(true),
                key: AffinePoint::new(ax, ay),
                message,
                sig: witness,
            };
            assert!(native_verify(&inst.key, message, &witness));
            assert!(satisfied(&inst), "seed {seed}");
            assert!(!satisfied(&Instance { message: message + Fr::from(1u8), ..inst }));
        }
    }

    #[test]
    #[allow(clippy::print_stdout)]
    fn constraint_counts() {
        // Poseidon per arity.
        for n in 1..=6 {
            let gadget = PoseidonGadget::circom(n).expect("params");
            let cs = ConstraintSystem::<Fr>::new_ref();
            let inputs: Vec<FpVar<Fr>> = (0..n)
                .map(|i| FpVar::new_witness(cs.clone(), || Ok(Fr::from(i as u64))).expect("a"))
                .collect();
            let _ = gadget.hash(&inputs).expect("hash");
            cs.finalize();
            let nonzeros: usize = cs
                .to_matrices()
                .expect("matrices")
                .values()
                .flatten()
                .flatten()
                .map(|row| row.len())
                .sum();
            println!(
                "poseidon: {n} inputs (width {}): {} constraints, {nonzeros} non-zero entries",
                n + 1,
                cs.num_constraints()
            );
            assert_eq!(cs.num_constraints(), gadget.config().num_constraints());
        }

        // One conditional EdDSA-Poseidon verification, and its parts.
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let (_, inst) = valid_instance(&mut rng);
        let cs = ConstraintSystem::<Fr>::new_ref();
        let total = synthesize(&cs, &inst);
        assert!(cs.is_satisfied().expect("checkable"));
        cs.finalize();
        let matrices = cs.to_matrices().expect("matrices");
        let nonzeros: usize = matrices.values().flatten().flatten().map(|row| row.len()).sum();
        println!(
            "eddsa verify_if (conditional): {total} constraints, {} witness variables, \
             {nonzeros} non-zero matrix entries",
            cs.num_witness_variables()
        );

        let cs = ConstraintSystem::<Fr>::new_ref();
        let e = FpVar::new_witness(cs.clone(), || Ok(Fr::rand(&mut rng))).expect("a");
        let bits = to_canonical_bits_le(&e).expect("bits");
        let n_bits = cs.num_constraints();
        let a = PointVar::new_witness(cs.clone(), || Ok(inst.key)).expect("a");
        let h = a.to_montgomery().expect("m").double().expect("d").double().expect("d");
        let h_sigma = h
            .add_unchecked(&MontgomeryPointVar::constant(TORSION8.to_montgomery().expect("m")))
            .expect("add");
        let n_prep = cs.num_constraints() - n_bits;
        let _ = signed_ladder(&h, &h_sigma, &bits).expect("ladder");
        let n_ladder = cs.num_constraints() - n_bits - n_prep;
        let s_bits: Vec<Boolean<Fr>> = (0..SCALAR_BITS)
            .map(|i| Boolean::new_witness(cs.clone(), || Ok(i % 2 == 0)).expect("a"))
            .collect();
        let before = cs.num_constraints();
        let _ = base8_table().expect("table").mul(&s_bits).expect("mul");
        let n_fixed = cs.num_constraints() - before;
        println!("  canonical 254-bit decomposition of e: {n_bits}");
        println!("  to Montgomery + 4·A + (H + σ): {n_prep}");
        println!("  variable-base ladder (254 bits): {n_ladder}");
        println!("  fixed-base S·B8 (251 bits, excl. booleanity): {n_fixed}");
        assert_eq!(n_bits, 361);
        assert_eq!(n_prep, 13);
        assert_eq!(n_ladder, 6 * 254);
        assert_eq!(n_fixed, 499);
        assert_eq!(total, EXPECTED_CONSTRAINTS);
    }
}
