//! Prove in Groth16 over BN254 that more than two thirds of a committee signed a light-client state.
//!
//! Empty until the circuit issue lands.
