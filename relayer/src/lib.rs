//! Carry rollup blocks, proofs and messages between EVM chains and the trestle network.
//!
//! The post, prove and deliver loops arrive with the relayer issue. What is here now are the
//! contract bindings they will use: [`bindings`], generated from forge's build artifacts.

pub mod bindings;

// Used by the relayer loops (prove: trestle-circuits; all: the light-client kernel).
use trestle_circuits as _;
use trestle_light_client as _;
