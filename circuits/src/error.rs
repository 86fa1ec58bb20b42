//! Errors of the circuit crate.
//!
//! Gadgets that add constraints return [`ark_relations::gr1cs::SynthesisError`] as every
//! arkworks gadget does; [`CircuitError`] covers everything that can go wrong *outside*
//! constraint synthesis: loading parameters, building constant tables, native point
//! arithmetic on invalid inputs.

use ark_relations::gr1cs::SynthesisError;

/// An error of the circuit crate outside constraint synthesis.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CircuitError {
    /// circomlib Poseidon parameters exist for 1 to 12 inputs only.
    #[error("unsupported Poseidon arity {inputs}: circomlib parameters exist for 1..=12 inputs")]
    UnsupportedPoseidonArity {
        /// The requested number of inputs.
        inputs: usize,
    },
    /// `light-poseidon` refused to produce parameters.
    #[error("light-poseidon parameters unavailable: {0}")]
    PoseidonParameters(String),
    /// A point is not on the Baby Jubjub curve `168700·x² + y² = 1 + 168696·x²·y²`.
    #[error("point is not on the Baby Jubjub curve")]
    NotOnCurve,
    /// A point that must be in the prime-order subgroup is not.
    #[error("point is not in the prime-order subgroup of Baby Jubjub")]
    NotInPrimeSubgroup,
    /// The identity has no image on the Montgomery form of Baby Jubjub.
    #[error("the identity has no affine Montgomery representation")]
    IdentityHasNoMontgomeryForm,
    /// A native point operation divided by zero (its inputs were not valid curve points or
    /// hit an exceptional case of an incomplete formula).
    #[error("degenerate point operation (division by zero)")]
    Degenerate,
    /// A torsion schedule violates the invariant that keeps incomplete additions exact.
    /// This is an internal invariant and indicates a bug.
    #[error("torsion schedule would allow an exceptional addition: {0}")]
    UnsafeTorsionSchedule(&'static str),
    /// Constraint synthesis failed.
    #[error("constraint synthesis failed: {0}")]
    Synthesis(#[from] SynthesisError),
}
