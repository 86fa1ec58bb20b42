//! The gossip actor's event loop (see the [module docs](super)).

use commonware_codec::{Decode as _, Encode as _};
use commonware_cryptography::ed25519;
use commonware_macros::select;
use commonware_p2p::{Blocker, Receiver, Recipients, Sender};
use commonware_runtime::{Handle, Metrics, Spawner};
use commonware_utils::channel::mpsc;
use tracing::{debug, warn};

use super::{Admit, Config, Mailbox, ingress::Forward};
use trestle_light_client::records::RecordError;

use crate::{block::BlockTransaction, mempool::SubmitError};

/// The gossip actor. Create with [`Actor::new`], give the application its [`Mailbox`], then
/// [`Actor::start`] it with the network channel.
pub struct Actor<E: Spawner + Metrics> {
    context: E,
    config: Config,
    forwards: mpsc::Receiver<Forward>,
}

impl<E: Spawner + Metrics> Actor<E> {
    /// Creates the actor and its mailbox.
    pub fn new(context: E, config: Config) -> (Self, Mailbox) {
        let (sender, forwards) = mpsc::channel(config.mailbox_size.get());
        (Self { context, config, forwards }, Mailbox::new(sender))
    }

    /// Starts the actor: it sends the transactions its mailbox receives to every peer, and
    /// has `application` admit the peers' (without forwarding them again).
    pub fn start<A, S, R, B>(self, application: A, network: (S, R), blocker: B) -> Handle<()>
    where
        A: Admit,
        S: Sender<PublicKey = ed25519::PublicKey>,
        R: Receiver<PublicKey = ed25519::PublicKey>,
        B: Blocker<PublicKey = ed25519::PublicKey>,
    {
        let Self { context, config, forwards } = self;
        context.spawn(move |_| run(config, forwards, application, network, blocker))
    }
}

async fn run<A, S, R, B>(
    config: Config,
    mut forwards: mpsc::Receiver<Forward>,
    application: A,
    (mut sender, mut receiver): (S, R),
    mut blocker: B,
) where
    A: Admit,
    S: Sender<PublicKey = ed25519::PublicKey>,
    R: Receiver<PublicKey = ed25519::PublicKey>,
    B: Blocker<PublicKey = ed25519::PublicKey>,
{
    loop {
        select! {
            forward = forwards.recv() => {
                let Some(Forward { transaction, sent }) = forward else { break };
                sender.send(Recipients::All, transaction.encode(), false);
                let _ = sent.send(());
            },
            message = receiver.recv() => {
                let Ok((peer, bytes)) = message else { break };
                let transaction = match BlockTransaction::decode_cfg(bytes, &config.max_payload) {
                    Ok(transaction) => transaction,
                    Err(err) => {
                        warn!(?peer, %err, "undecodable mempool gossip; blocking");
                        blocker.block(peer);
                        continue;
                    }
                };
                match application.admit(transaction).await {
                    Ok(hash) => debug!(?peer, %hash, "admitted a gossiped transaction"),
                    Err(err) if is_peers_fault(&err) => {
                        warn!(?peer, %err, "peer forwarded an inadmissible transaction; blocking");
                        blocker.block(peer);
                    }
                    Err(err) => debug!(?peer, %err, "gossiped transaction not admitted"),
                }
            },
        }
    }
    debug!("gossip actor stopped");
}

/// Whether a peer that forwarded a transaction refused with `err` broke the protocol: it must
/// only forward what it admitted itself, under the same rules.
fn is_peers_fault(err: &SubmitError) -> bool {
    match err {
        SubmitError::Malformed(_)
        | SubmitError::Oversized { .. }
        | SubmitError::MissingAuthorization(_)
        | SubmitError::InvalidAuthorization(_)
        | SubmitError::UnexpectedAuthorization(_)
        | SubmitError::Record {
            reason: RecordError::Malformed(_) | RecordError::WrongChain { .. },
            ..
        } => true,
        // Whether a record extends the confirmed ones depends on how far the peer's chain
        // is, and a conflicting record is its owner's fault.
        SubmitError::Record { .. } | SubmitError::ConflictingRecord { .. } => false,
        SubmitError::Duplicate(_)
        | SubmitError::AlreadyFinalized(_)
        | SubmitError::Full { .. }
        | SubmitError::Unavailable => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::B256;

    #[test]
    fn only_inadmissible_transactions_are_the_peers_fault() {
        assert!(is_peers_fault(&SubmitError::InvalidAuthorization(7)));
        assert!(is_peers_fault(&SubmitError::Oversized { len: 2, limit: 1 }));
        assert!(!is_peers_fault(&SubmitError::Duplicate(B256::ZERO)));
        assert!(!is_peers_fault(&SubmitError::AlreadyFinalized(B256::ZERO)));
        assert!(!is_peers_fault(&SubmitError::Full { transactions: 1, bytes: 1 }));
        assert!(!is_peers_fault(&SubmitError::Unavailable));
    }
}
