//! Mempool gossip: a transaction accepted by one validator reaches every other one, and its
//! submitter learns that it did.
//!
//! Without it a transaction waits in the mempool of the validator it was submitted to until that
//! validator leads a view (with 4 validators, 3 views out of 4 are someone else's), and it is lost
//! if that validator restarts before then. So when a validator admits a transaction submitted to
//! it (`trestle_submit`), it forwards the transaction as carried in a block (with its owner's
//! authorization) to all of its peers on [`CHANNEL_MEMPOOL`](crate::engine::CHANNEL_MEMPOOL)
//! ([`GossipMessage::Forward`]).
//!
//! A peer admits a forwarded transaction exactly as a submission, with every check a verifier
//! makes on a block (size, owner authorization), but does not forward it again: the first hop
//! already reached everyone, and one hop keeps the traffic at N − 1 copies per transaction.
//! A peer that then holds it (admitted now or pending already) or finalized it says so to the
//! forwarder ([`GossipMessage::Held`]). A peer whose message does not decode, or that forwards a
//! transaction no honest validator would have admitted (malformed, oversized, unauthorized), is
//! blocked. Duplicates, transactions finalized meanwhile and a full mempool are not the sender's
//! fault.
//!
//! A validator that restarts comes back with an empty mempool. So its gossip asks its peers,
//! a few times in its first seconds ([`GossipMessage::Sync`]), for their pending transactions,
//! which each peer forwards to it (the oldest [`MAX_SYNC`], at most once per peer per
//! [`SYNC_COOLDOWN`], so a peer cannot make it a flood): every transaction then again has as
//! many holders as before the restart, and a series of crashes, one at a time, cannot wear a
//! pending transaction's copies away.
//!
//! What a submission's answer then guarantees. Handing a message to the network is not
//! delivering it: the p2p layer queues it in this process, and a validator killed right after
//! answering took the queue with it (measured: `cargo bench --bench consensus -- --mode loopback
//! --scenario chaos` lost about 3 accepted transactions per kill that way). So the answer waits
//! until [`Config::replicas`] peers said they hold the transaction: the genesis committee's
//! fault bound f, so that with this validator f + 1 hold it and any f crashes leave a copy. A
//! submission that does not get there within [`Config::replica_timeout`] (peers down or
//! unreachable) is answered [`SubmitError::NotReplicated`](crate::mempool::SubmitError): it stays
//! in this mempool and may well be finalized, but nothing promises it; resubmitting forwards it
//! again (a resubmission of a pending transaction is replicated before it is answered
//! `Duplicate`). Against Byzantine peers (which may claim to hold what they dropped) the
//! guarantee is weaker; it is still not durable until it is finalized (mempools live in
//! memory), so a client that must not lose it resubmits until `trestle_txProof` answers.

mod actor;
mod ingress;
mod message;

pub use actor::Actor;
pub use ingress::{Mailbox, Replication};
pub use message::GossipMessage;

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

    /// The oldest `limit` transactions pending here (for a peer that asks after a restart).
    fn pending(&self, limit: usize) -> impl Future<Output = Vec<BlockTransaction>> + Send;
}

/// Gossip configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Largest transaction payload (the network's limit; larger messages do not decode).
    pub max_payload: usize,
    /// Transactions waiting to be sent; past it a forward is dropped (the transaction stays in
    /// this validator's mempool).
    pub mailbox_size: NonZeroUsize,
    /// Peers that must say they hold a submitted transaction before its submission is answered
    /// (f of the genesis committee; 0 answers at once).
    pub replicas: usize,
    /// How long a submission waits for them.
    pub replica_timeout: std::time::Duration,
}

/// Most pending transactions forwarded to a peer that asks ([`GossipMessage::Sync`]).
pub const MAX_SYNC: usize = 4_096;

/// Least time between two answers to one peer's [`GossipMessage::Sync`].
pub const SYNC_COOLDOWN: std::time::Duration = std::time::Duration::from_secs(10);

/// When, after its start, the gossip asks its peers for their pending transactions (peers
/// connect at their own pace; each answers at most once per [`SYNC_COOLDOWN`]).
pub const SYNC_AFTER: [std::time::Duration; 4] = [
    std::time::Duration::from_secs(1),
    std::time::Duration::from_secs(3),
    std::time::Duration::from_secs(6),
    std::time::Duration::from_secs(12),
];

/// Default of [`Config::replica_timeout`]: many round trips of a slow network, yet short for a
/// client that then resubmits elsewhere.
pub const DEFAULT_REPLICA_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
