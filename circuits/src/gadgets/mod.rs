//! In-circuit gadgets over the BN254 scalar field [`Fr`].
//!
//! Conventions (arkworks style): native values are plain types, their in-circuit
//! counterparts are named `*Var`; gadgets return
//! [`SynthesisError`]; fallible one-time setup
//! (parameters, constant tables) returns [`CircuitError`](crate::CircuitError).
//!
//! Constraint counts are part of the contract of each gadget and are pinned by tests
//! (`cargo test -p trestle-circuits constraint_counts -- --nocapture` prints them):
//!
//! | gadget | constraints |
//! |---|---|
//! | [`poseidon::PoseidonGadget::hash`], `n` inputs (width `t = n + 1`) | `3·(8·t + R_P(t) − 1)` |
//! | [`babyjubjub::MontgomeryPointVar::add_unchecked`] | 3 |
//! | [`babyjubjub::MontgomeryPointVar::double`] | 4 |
//! | [`babyjubjub::MontgomeryPointVar::double_and_add_unchecked`] | 5 |
//! | [`babyjubjub::PointVar::to_montgomery`] / [`babyjubjub::MontgomeryPointVar::to_edwards`] | 2 |
//! | [`bits::enforce_le_constant`] | one per run of equal bits of the constant |
//! | [`fixed_base::FixedBaseMulGadget::mul`], `n`-bit scalar | 3 per full 3-bit window + 3 per addition |
//! | [`eddsa::EddsaPoseidonVerifier::verify_if`] (and `verify_if_flag`, its field-element-condition form) | see [`eddsa`] |
//!
//! Linear operations never cost constraints: they build (symbolic) linear combinations,
//! and [`affine_combination`] folds a whole weighted sum into a single one.

pub mod babyjubjub;
pub mod bits;
pub mod eddsa;
pub mod fixed_base;
pub mod poseidon;

use ark_ff::{One, Zero};
use ark_r1cs_std::{
    GR1CSVar,
    fields::fp::{AllocatedFp, FpVar},
};
use ark_relations::gr1cs::{ConstraintSystemRef, LinearCombination, SynthesisError, Variable};

use crate::Fr;

/// Returns `constant + Σ coeff·var` as one linear combination (no constraint).
///
/// Arithmetic on [`FpVar`] already builds linear combinations lazily, but creates one
/// symbolic variable per operation; a weighted sum of `k` terms would create `2k` of
/// them. This helper creates a single one, which keeps the constraint system small and
/// fast to finalize. Constant operands are folded into the constant term.
pub fn affine_combination<'a>(
    terms: impl IntoIterator<Item = (Fr, &'a FpVar<Fr>)>,
    constant: Fr,
) -> Result<FpVar<Fr>, SynthesisError> {
    let mut cs = ConstraintSystemRef::None;
    let mut lc = LinearCombination::<Fr>::zero();
    let mut folded = constant;
    let mut value = Some(constant);
    for (coeff, var) in terms {
        if coeff.is_zero() {
            continue;
        }
        match var {
            FpVar::Constant(c) => {
                folded += coeff * c;
                value = value.map(|v| v + coeff * c);
            }
            FpVar::Var(allocated) => {
                cs = cs.or(allocated.cs.clone());
                lc.0.push((coeff, allocated.variable));
                value = match (value, allocated.value()) {
                    (Some(v), Ok(x)) => Some(v + coeff * x),
                    _ => None,
                };
            }
        }
    }
    if lc.0.is_empty() {
        return Ok(FpVar::Constant(folded));
    }
    if !folded.is_zero() {
        lc.0.push((folded, Variable::One));
    }
    lc.compactify();
    let variable = cs.new_lc(|| lc)?;
    Ok(FpVar::Var(AllocatedFp::new(value, variable, cs)))
}

/// Returns the constraint system of the first non-constant variable, or
/// [`ConstraintSystemRef::None`] if all are constants.
pub(crate) fn cs_of<'a>(vars: impl IntoIterator<Item = &'a FpVar<Fr>>) -> ConstraintSystemRef<Fr> {
    vars.into_iter().fold(ConstraintSystemRef::None, |cs, var| cs.or(var.cs()))
}

/// `value` of `var`, for witness closures.
pub(crate) fn val(var: &FpVar<Fr>) -> Result<Fr, SynthesisError> {
    var.value()
}

/// Native division that never fails: `a / b`, or zero if `b == 0`.
///
/// Witness generation uses it so that degenerate inputs produce an *unsatisfied*
/// constraint system rather than a synthesis error (the same convention as
/// `FpVar::inverse`).
pub(crate) fn div_or_zero(a: Fr, b: Fr) -> Fr {
    use ark_ff::Field;
    b.inverse().map_or(Fr::zero(), |inv| a * inv)
}

/// The constant one, for readability at call sites.
pub(crate) fn one() -> Fr {
    Fr::one()
}
