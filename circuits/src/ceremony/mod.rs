//! Keys from a multi-party ceremony, with the ecosystem's tools (snarkjs).
//!
//! The INSECURE dev setup ([`crate::setup`]) derives the toxic waste from a public seed. A
//! deployment that must be sound takes its keys from a Groth16 phase-2 ceremony over a
//! powers-of-tau file, run with snarkjs, which anyone can re-verify:
//!
//! 1. [`r1cs::write_r1cs`] exports the light-client constraint system of a capacity in
//!    circom's `.r1cs` format (`trestle circuit r1cs`);
//! 2. `snarkjs groth16 setup circuit.r1cs pot.ptau key_0.zkey` starts phase 2; each
//!    participant runs `snarkjs zkey contribute` on the previous participant's key; a random
//!    beacon may close it (`snarkjs zkey beacon`); `snarkjs zkey verify circuit.r1cs pot.ptau
//!    final.zkey` checks the whole chain against the circuit (`scripts/ceremony` runs all of it);
//! 3. [`import::import_zkey`] reads the final key, checks it against our circuit, and the CLI
//!    (`trestle circuit import-zkey`) writes trestle key files, the Solidity verifier and the
//!    snarkjs verification key from it.
//!
//! The same prover serves both kinds of keys: this crate's reduction publishes the `H` query in
//! snarkjs's form ([`crate::reduction`]) and orders the matrices as the export does.

pub mod import;
pub mod r1cs;
pub mod zkey;

pub use import::{ImportedKey, import_zkey};
pub use r1cs::{R1csSummary, write_r1cs};
pub use zkey::{Contribution, Zkey, parse_zkey};
