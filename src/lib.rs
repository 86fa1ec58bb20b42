//! Run, query and prove a trestle confirmation network from the command line.
//!
//! The `trestle` binary is thin wiring over the workspace crates; this library holds the parts of
//! it that tests call directly.

pub mod anchor_cache;
pub mod anchor_follow;
pub mod ceremony;
pub mod confirm;
pub mod devnet;
pub mod explorer;
pub mod genesis;
pub mod node_init;
pub mod prove;
pub mod stake_table;
pub mod vectors;
