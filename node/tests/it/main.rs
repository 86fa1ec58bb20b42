//! Deterministic simulations of trestle validators (one test binary, reth-style).
//!
//! Every scenario runs in commonware's deterministic runtime over its simulated network and is
//! seeded; the same seed replays the same execution.

mod common;
mod epochs;
mod gossip;
mod ingress;
mod names;
mod records;
mod restart;
mod retention;
mod rotation;
mod rpc;
mod signatures;
mod simulation;
