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
//! On top of them:
//! * [`circuit`] — [`LightClientCircuit`], the statement proven for a committee capacity `N`;
//! * [`reduction`] — the R1CS-to-QAP reduction setup and proving share (libsnark's with `A`
//!   and `B` exchanged, so the cheaper side lands in G2);
//! * [`setup`] — Groth16 setup (an INSECURE seeded dev setup) and key files;
//! * [`ceremony`] — production keys: the `.r1cs` export and the import of a snarkjs
//!   ceremony's `.zkey`;
//! * [`prove`] — [`Prover`]: signed light-client state → proof;
//! * [`verify`] — [`Verifier`]: state + committee commitment + proof → accept/reject;
//! * [`export`] — the generated Solidity verifier, snarkjs JSON files and forge fixtures.

#![forbid(unsafe_code)]

pub mod ceremony;
pub mod circuit;
pub mod error;
pub mod export;
pub mod gadgets;
pub mod prove;
pub mod reduction;
pub mod setup;
pub mod verify;

pub use circuit::{LightClientCircuit, PublicInputs};
pub use error::CircuitError;
pub use prove::Prover;
pub use verify::Verifier;

/// The field every circuit of this crate is defined over: the BN254 scalar field, which is
/// also the base field of Baby Jubjub (the light client's own [`Fr`](trestle_light_client::field::Fr)).
pub use trestle_light_client::field::Fr;

#[cfg(test)]
mod tests;
