//! Groth16 (BN254) circuits of trestle.
//!
//! This crate proves, inside a rank-1 constraint system over the BN254 scalar field,
//! what the `trestle-light-client` crate checks natively: that more than two thirds of a
//! committee signed a light-client state (DESIGN.md §5).
//!
//! So far it contains the building blocks ([`gadgets`]):
//! * [`gadgets::poseidon`] — circomlib-compatible Poseidon (the constants of `light-poseidon`),
//! * [`gadgets::babyjubjub`] — Baby Jubjub points in circomlib's coordinates, in-circuit
//!   twisted Edwards and Montgomery arithmetic,
//! * [`gadgets::eddsa`] — conditional EdDSA-Poseidon verification with the semantics of
//!   circomlib's `EdDSAPoseidonVerifier`,
//! * [`gadgets::bits`] — bit decompositions and comparisons against constants.
//!
//! The full light-client circuit, setup, proving and the exporters come later.

#![forbid(unsafe_code)]

pub mod error;
pub mod gadgets;

pub use error::CircuitError;

/// The field every circuit of this crate is defined over: the BN254 scalar field, which is
/// also the base field of Baby Jubjub.
pub type Fr = ark_bn254::Fr;
