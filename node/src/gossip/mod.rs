//! Mempool gossip: a transaction accepted by one validator reaches every other one.
//!
//! Without it a transaction waits in the mempool of the validator it was submitted to until that
//! validator leads a view (with 4 validators, 3 views out of 4 are someone else's), and it is lost
//! if that validator restarts before then. So when a validator admits a transaction submitted to
//! it (`trestle_submit`), it forwards the transaction as carried in a block (with its owner's
//! authorization) to all of its peers on [`CHANNEL_MEMPOOL`](crate::engine::CHANNEL_MEMPOOL).
//!
//! A peer admits a forwarded transaction exactly as a submission, with every check a verifier
//! makes on a block (size, owner authorization), but does not forward it again: the first hop
//! already reached everyone, and one hop keeps the traffic at N − 1 copies per transaction.
//! A peer whose message does not decode, or that forwards a transaction no honest validator
//! would have admitted (malformed, oversized, unauthorized), is blocked. Duplicates, transactions
//! finalized meanwhile and a full mempool are not the sender's fault and are dropped quietly.
//!
//! What a submission's answer then guarantees: the transaction is in this validator's mempool
//! and was handed to the network for every peer (the answer waits for that, so a validator that
//! crashes after answering has already let it go). It is not durable until it is finalized (a
//! validator's mempool lives in memory): a client that must not lose it resubmits until
//! `trestle_txProof` answers (resubmission is idempotent: `Duplicate` / `AlreadyFinalized`).

mod actor;
mod ingress;

pub use actor::Actor;
pub use ingress::Mailbox;

use std::{future::Future, num::NonZeroUsize};

use alloy_primitives::B256;

use crate::{block::BlockTransaction, mempool::SubmitError};

/// Where the transactions peers forward are admitted: the application's mailbox, which admits
/// them as submissions without forwarding them again.
pub trait Admit: Send + Sync + 'static {
    /// Admits a forwarded transaction (or says why not).
    fn admit(
        &self,
        transaction: BlockTransaction,
    ) -> impl Future<Output = Result<B256, SubmitError>> + Send;
}

/// Gossip configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Largest transaction payload (the network's limit; larger messages do not decode).
    pub max_payload: usize,
    /// Transactions waiting to be sent; past it a forward is dropped (the transaction stays in
    /// this validator's mempool).
    pub mailbox_size: NonZeroUsize,
}
