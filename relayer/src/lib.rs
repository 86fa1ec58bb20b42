//! Carry rollup blocks, proofs and messages between EVM chains and the trestle network.
//!
//! Empty until the relayer issue lands: the post, prove and deliver loops are built here.
