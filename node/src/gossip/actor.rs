//! The gossip actor's event loop (see the [module docs](super)).

use std::{
    collections::{BTreeSet, HashMap},
    time::SystemTime,
};

use alloy_primitives::B256;
use commonware_codec::{Decode as _, Encode as _};
use commonware_cryptography::ed25519;
use commonware_macros::select;
use commonware_p2p::{Blocker, Receiver, Recipients, Sender};
use commonware_runtime::{Clock, Handle, Metrics, Spawner};
use commonware_utils::channel::{mpsc, oneshot};
use tracing::{debug, warn};

use super::{
    Admit, Config, GossipMessage, MAX_SYNC, Mailbox, SYNC_AFTER, SYNC_COOLDOWN, ingress::Forward,
};
use trestle_light_client::records::RecordError;

use crate::{block::BlockTransaction, mempool::SubmitError};

/// The gossip actor. Create with [`Actor::new`], give the application its [`Mailbox`], then
/// [`Actor::start`] it with the network channel.
pub struct Actor<E: Spawner + Clock + Metrics> {
    context: E,
    config: Config,
    forwards: mpsc::Receiver<Forward>,
}

impl<E: Spawner + Clock + Metrics> Actor<E> {
    /// Creates the actor and its mailbox.
    pub fn new(context: E, config: Config) -> (Self, Mailbox) {
        let (sender, forwards) = mpsc::channel(config.mailbox_size.get());
        let replicas = config.replicas;
        (Self { context, config, forwards }, Mailbox::new(sender, replicas))
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
        context.spawn(move |context| run(context, config, forwards, application, network, blocker))
    }
}

/// A client waiting for peers to say they hold a transaction.
struct Waiter {
    /// The peers that said so.
    holders: BTreeSet<ed25519::PublicKey>,
    /// Where the count goes, once [`Config::replicas`] peers said so or at the deadline.
    done: oneshot::Sender<usize>,
    /// When it stops waiting.
    deadline: SystemTime,
}

/// A forwarded transaction some client waits on: sent again every [`RESENDS`]th of the
/// replica timeout until enough peers hold it (a forward or its answer may be lost on the way,
/// or a peer may just have reconnected).
struct Pending {
    transaction: BlockTransaction,
    waiters: Vec<Waiter>,
    resend_at: SystemTime,
}

/// Forwards per replica timeout (the first included).
const RESENDS: u32 = 4;

/// Far enough ahead to mean "no deadline".
const IDLE: std::time::Duration = std::time::Duration::from_secs(3_600);

async fn run<E, A, S, R, B>(
    context: E,
    config: Config,
    mut forwards: mpsc::Receiver<Forward>,
    application: A,
    (mut sender, mut receiver): (S, R),
    mut blocker: B,
) where
    E: Clock,
    A: Admit,
    S: Sender<PublicKey = ed25519::PublicKey>,
    R: Receiver<PublicKey = ed25519::PublicKey>,
    B: Blocker<PublicKey = ed25519::PublicKey>,
{
    let mut waiting: HashMap<B256, Pending> = HashMap::new();
    let resend_every = config.replica_timeout / RESENDS;
    // When to ask the peers for their pending transactions (this validator just started).
    let started = context.current();
    let mut syncs: Vec<SystemTime> =
        SYNC_AFTER.iter().rev().map(|after| started + *after).collect();
    // When each peer's last Sync was answered.
    let mut synced: HashMap<ed25519::PublicKey, SystemTime> = HashMap::new();
    loop {
        let next_deadline = waiting
            .values()
            .flat_map(|pending| {
                pending.waiters.iter().map(|w| w.deadline).chain([pending.resend_at])
            })
            .chain(syncs.last().copied())
            .min()
            .unwrap_or_else(|| context.current() + IDLE);
        select! {
            forward = forwards.recv() => {
                let Some(Forward { hash, transaction, held }) = forward else { break };
                let message = GossipMessage::Forward(transaction.clone()).encode();
                sender.send(Recipients::All, message, false);
                if config.replicas == 0 {
                    let _ = held.send(0);
                } else {
                    let now = context.current();
                    let waiter = Waiter {
                        holders: BTreeSet::new(),
                        done: held,
                        deadline: now + config.replica_timeout,
                    };
                    waiting
                        .entry(hash)
                        .or_insert_with(|| Pending {
                            transaction,
                            waiters: Vec::new(),
                            resend_at: now + resend_every,
                        })
                        .waiters
                        .push(waiter);
                }
            },
            message = receiver.recv() => {
                let Ok((peer, bytes)) = message else { break };
                let message = match GossipMessage::decode_cfg(bytes, &config.max_payload) {
                    Ok(message) => message,
                    Err(err) => {
                        warn!(?peer, %err, "undecodable mempool gossip; blocking");
                        blocker.block(peer);
                        continue;
                    }
                };
                match message {
                    GossipMessage::Forward(transaction) => {
                        // The application hashes the transaction (once); every answer that
                        // means "held" carries that hash.
                        let held = match application.admit(transaction).await {
                            Ok(hash) => {
                                debug!(?peer, %hash, "admitted a gossiped transaction");
                                Some(hash)
                            }
                            Err(err) if is_peers_fault(&err) => {
                                warn!(?peer, %err,
                                    "peer forwarded an inadmissible transaction; blocking");
                                blocker.block(peer.clone());
                                None
                            }
                            Err(
                                SubmitError::Duplicate(hash) | SubmitError::AlreadyFinalized(hash),
                            ) => Some(hash),
                            Err(err) => {
                                debug!(?peer, %err, "gossiped transaction not admitted");
                                None
                            }
                        };
                        if let Some(hash) = held {
                            let held = GossipMessage::Held(hash).encode();
                            sender.send(Recipients::One(peer), held, false);
                        }
                    }
                    GossipMessage::Sync => {
                        let now = context.current();
                        let recent = synced.get(&peer).is_some_and(|at| {
                            now.duration_since(*at).unwrap_or_default() < SYNC_COOLDOWN
                        });
                        if recent {
                            continue;
                        }
                        synced.insert(peer.clone(), now);
                        let pending = application.pending(MAX_SYNC).await;
                        debug!(?peer, transactions = pending.len(), "a peer asked for our pending");
                        for transaction in pending {
                            let message = GossipMessage::Forward(transaction).encode();
                            sender.send(Recipients::One(peer.clone()), message, false);
                        }
                    }
                    GossipMessage::Held(hash) => {
                        let Some(pending) = waiting.get_mut(&hash) else { continue };
                        for waiter in &mut pending.waiters {
                            waiter.holders.insert(peer.clone());
                        }
                        let (done, still): (Vec<_>, Vec<_>) = std::mem::take(&mut pending.waiters)
                            .into_iter()
                            .partition(|waiter| waiter.holders.len() >= config.replicas);
                        for waiter in done {
                            let _ = waiter.done.send(waiter.holders.len());
                        }
                        pending.waiters = still;
                        if pending.waiters.is_empty() {
                            waiting.remove(&hash);
                        }
                    }
                }
            },
            _ = context.sleep_until(next_deadline) => {
                // Answer the clients whose peers did not all answer in time with the count so
                // far; forward again what others still wait on.
                let now = context.current();
                if syncs.last().is_some_and(|at| *at <= now) {
                    syncs.pop();
                    sender.send(Recipients::All, GossipMessage::Sync.encode(), false);
                }
                waiting.retain(|_, pending| {
                    let (expired, still): (Vec<_>, Vec<_>) = std::mem::take(&mut pending.waiters)
                        .into_iter()
                        .partition(|w| w.deadline <= now);
                    for waiter in expired {
                        let _ = waiter.done.send(waiter.holders.len());
                    }
                    pending.waiters = still;
                    if !pending.waiters.is_empty() && pending.resend_at <= now {
                        let message = GossipMessage::Forward(pending.transaction.clone()).encode();
                        sender.send(Recipients::All, message, false);
                        pending.resend_at = now + resend_every;
                    }
                    !pending.waiters.is_empty()
                });
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
            reason:
                RecordError::Malformed(_)
                | RecordError::WrongChain { .. }
                | RecordError::BeforeFirst { .. },
            ..
        } => true,
        // (Those three hold whatever the chain: genesis decides them.) Whether a record
        // extends the confirmed ones depends on how far the peer's chain is, and a
        // conflicting record is its owner's fault.
        SubmitError::Record { .. } | SubmitError::ConflictingRecord { .. } => false,
        SubmitError::Duplicate(_)
        | SubmitError::AlreadyFinalized(_)
        | SubmitError::Full { .. }
        | SubmitError::Unavailable
        | SubmitError::NotReplicated { .. } => false,
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
