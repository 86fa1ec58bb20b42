//! Ingress of the gossip actor: transactions to forward.

use alloy_primitives::B256;
use commonware_utils::channel::{mpsc, oneshot};

use crate::block::BlockTransaction;

/// A transaction to forward, and who waits for the peers that hold it.
pub(crate) struct Forward {
    /// The transaction's hash (the caller's, so the actor does not hash the payload again).
    pub(crate) hash: B256,
    pub(crate) transaction: BlockTransaction,
    /// Gets how many peers said they hold it: once [`Config::replicas`](super::Config) did,
    /// or at the deadline.
    pub(crate) held: oneshot::Sender<usize>,
}

/// How far a forwarded transaction got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replication {
    /// Peers that said they hold it (or finalized it).
    pub holders: usize,
    /// Peers that had to ([`Config::replicas`](super::Config)).
    pub needed: usize,
}

impl Replication {
    /// Whether enough peers hold it.
    pub fn reached(&self) -> bool {
        self.holders >= self.needed
    }
}

/// Handle to the gossip actor.
#[derive(Clone, Debug)]
pub struct Mailbox {
    sender: mpsc::Sender<Forward>,
    replicas: usize,
}

impl Mailbox {
    pub(crate) fn new(sender: mpsc::Sender<Forward>, replicas: usize) -> Self {
        Self { sender, replicas }
    }

    /// Sends `transaction` to every peer and waits until [`Config::replicas`](super::Config)
    /// of them said they hold it, or the replica timeout passed; returns how far it got (no
    /// holder when the queue is full or the actor stopped).
    pub async fn forward(&self, hash: B256, transaction: BlockTransaction) -> Replication {
        let (held, done) = oneshot::channel();
        let needed = self.replicas;
        if self.sender.try_send(Forward { hash, transaction, held }).is_err() {
            return Replication { holders: 0, needed };
        }
        Replication { holders: done.await.unwrap_or(0), needed }
    }

    /// [`forward`](Self::forward), waiting for room in the actor's queue instead of giving up
    /// when it is full: for a batch, whose forwards are queued together.
    pub async fn forward_queued(&self, hash: B256, transaction: BlockTransaction) -> Replication {
        let (held, done) = oneshot::channel();
        let needed = self.replicas;
        if self.sender.send(Forward { hash, transaction, held }).await.is_err() {
            return Replication { holders: 0, needed };
        }
        Replication { holders: done.await.unwrap_or(0), needed }
    }
}
