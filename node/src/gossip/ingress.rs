//! Ingress of the gossip actor: transactions to forward.

use commonware_utils::channel::{mpsc, oneshot};

use crate::block::BlockTransaction;

/// A transaction to forward, and who waits until it was handed to the network.
pub(crate) struct Forward {
    pub(crate) transaction: BlockTransaction,
    pub(crate) sent: oneshot::Sender<()>,
}

/// Handle to the gossip actor.
#[derive(Clone, Debug)]
pub struct Mailbox {
    sender: mpsc::Sender<Forward>,
}

impl Mailbox {
    pub(crate) fn new(sender: mpsc::Sender<Forward>) -> Self {
        Self { sender }
    }

    /// Hands `transaction` to the network for every peer and returns once it did: whether it
    /// was sent (not when the queue is full or the actor stopped: the transaction then stays
    /// only in this validator's mempool, which the submission's answer already allows for).
    pub async fn forward(&self, transaction: BlockTransaction) -> bool {
        let (sent, done) = oneshot::channel();
        if self.sender.try_send(Forward { transaction, sent }).is_err() {
            return false;
        }
        done.await.is_ok()
    }
}
