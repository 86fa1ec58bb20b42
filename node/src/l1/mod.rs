//! The node's L1: what it sees of the chain holding the StakeTable (DESIGN §3a).
//!
//! Blocks name an L1 block their proposer saw at a safe depth; verifiers ask their own
//! [`L1View`] whether it holds that block ([`L1Check`]) and wait while it lags; the epoch's last
//! block carries the committee that the stake table at its reference yields, which every
//! verifier recomputes from its view. The view is fed by [`follow`] from an [`L1Source`]: the
//! JSON-RPC client in the validator process ([`JsonRpcL1`]) ([`crate::service`]), a [`scripted`] chain in tests.
//!
//! A node without an L1 (no stake table in its genesis) has an empty view: its blocks all
//! carry the genesis reference, and its committee is carried forward forever.

mod json_rpc;
mod source;
mod view;

#[cfg(feature = "test-utils")]
pub mod scripted;

pub use json_rpc::JsonRpcL1;
pub use source::{FollowConfig, L1Source, L1SourceError, follow};
pub use view::{DEFAULT_RETAIN, L1Block, L1Check, L1View, L1ViewError};
