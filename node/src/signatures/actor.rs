//! The signatures actor: signs our light-client state at each finalized height, and
//! collects, verifies, persists, gossips and serves everyone's signatures (see the
//! [module docs](super)). The rules are the [`Book`]'s; this file is the event loop around it.

use std::sync::Arc;

use commonware_codec::{Decode as _, Encode as _};
use commonware_cryptography::ed25519;
use commonware_macros::select;
use commonware_p2p::{Blocker, Receiver, Recipients, Sender};
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage};
use commonware_utils::channel::mpsc;
use tracing::{debug, error, info, warn};
use trestle_light_client::{Height, LightClientState, SecretKey, rotation::CommitteeRecord};

use super::{
    Config, Error, Rejected,
    book::Book,
    ingress::{Mailbox, Message},
    store::Store,
    wire::Wire,
};
use crate::application::Finalized;

/// The signatures actor. Create with [`Actor::init`] (opens and replays its storage), then
/// [`Actor::start`] it with the application's stream of finalized heights and the network.
pub struct Actor<E: Storage + Metrics> {
    context: E,
    inner: Inner<E>,
    control: mpsc::Receiver<Message>,
}

/// The actor's state (everything but the runtime context and the mailbox receiver).
struct Inner<E: Storage + Metrics> {
    book: Book,
    store: Store<E>,
    signer: SecretKey,
    public_key: ed25519::PublicKey,
    sync_interval: std::time::Duration,
}

impl<E: Clock + Spawner + Storage + Metrics> Actor<E> {
    /// Validates `config`, opens the journals under `config.partition_prefix` and restores
    /// the states and signatures they hold.
    pub async fn init(context: E, config: Config) -> Result<(Self, Mailbox), Error> {
        config.validate()?;
        let mut book = Book::new(&config);
        let store = Store::open(&context, &config.partition_prefix, &mut book).await?;
        book.prune();
        if let Some(tip) = book.tip {
            info!(tip, "restored light-client signatures");
        }
        let (sender, control) = mpsc::channel(config.mailbox_size.get());
        let inner = Inner {
            book,
            store,
            signer: config.signer,
            public_key: config.public_key,
            sync_interval: config.sync_interval,
        };
        let actor = Self { context, inner, control };
        Ok((actor, Mailbox::new(sender)))
    }

    /// Starts the actor: it signs, stores and gossips our light-client state of every height
    /// in `finalized` (the application's, in height order), and collects the peers' signatures
    /// from `network`, blocking peers that send malformed messages or invalid signatures.
    pub fn start<S, R, B>(
        self,
        finalized: mpsc::UnboundedReceiver<Finalized>,
        network: (S, R),
        blocker: B,
    ) -> Handle<()>
    where
        S: Sender<PublicKey = ed25519::PublicKey>,
        R: Receiver<PublicKey = ed25519::PublicKey>,
        B: Blocker<PublicKey = ed25519::PublicKey>,
    {
        let Self { context, inner, control } = self;
        context.spawn(move |context| inner.run(context, control, finalized, network, blocker))
    }
}

impl<E: Clock + Spawner + Storage + Metrics> Inner<E> {
    async fn run<S, R, B>(
        mut self,
        context: E,
        mut control: mpsc::Receiver<Message>,
        mut finalized: mpsc::UnboundedReceiver<Finalized>,
        (mut sender, mut receiver): (S, R),
        mut blocker: B,
    ) where
        S: Sender<PublicKey = ed25519::PublicKey>,
        R: Receiver<PublicKey = ed25519::PublicKey>,
        B: Blocker<PublicKey = ed25519::PublicKey>,
    {
        let mut next_sync = context.current() + self.sync_interval;
        loop {
            let result = select! {
                next = finalized.recv() => {
                    let Some(Finalized { state, committee, .. }) = next else { break };
                    self.on_finalized(&state, &committee, &mut sender, &mut blocker).await
                },
                message = control.recv() => {
                    let Some(message) = message else { break };
                    self.on_query(message);
                    Ok(())
                },
                message = receiver.recv() => {
                    let Ok((peer, bytes)) = message else { break };
                    match Wire::decode_cfg(bytes, &()) {
                        Ok(wire) => self.on_wire(peer, wire, &mut sender, &mut blocker).await,
                        Err(err) => {
                            warn!(?peer, %err, "undecodable signatures message; blocking");
                            blocker.block(peer);
                            Ok(())
                        }
                    }
                },
                _ = context.sleep_until(next_sync) => {
                    next_sync = context.current() + self.sync_interval;
                    self.request_missing(&mut sender);
                    Ok(())
                },
            };
            if let Err(err) = result {
                error!(%err, "signatures storage failed; stopping");
                break;
            }
        }
        debug!("signatures actor stopped");
    }

    /// Signs our state of a newly finalized height (if `committee`, its epoch's, seats us),
    /// stores it, then gossips our signature.
    async fn on_finalized<S, B>(
        &mut self,
        state: &LightClientState,
        committee: &Arc<CommitteeRecord>,
        sender: &mut S,
        blocker: &mut B,
    ) -> Result<(), Error>
    where
        S: Sender<PublicKey = ed25519::PublicKey>,
        B: Blocker<PublicKey = ed25519::PublicKey>,
    {
        let outcome = match self.book.own(state, committee, &self.signer) {
            Ok(outcome) => outcome,
            Err(rejected) => {
                error!(%rejected, "own light-client state not stored");
                return Ok(());
            }
        };
        if outcome.wrong_key {
            error!(
                height = state.height.get(),
                "our light-client key is not the one our committee seat names; not signing"
            );
        }
        for (peer, rejected) in outcome.rejected {
            self.reject(peer, &rejected, blocker);
        }
        if outcome.records.is_empty() {
            return Ok(());
        }
        self.store.append(&self.book, &outcome.records).await?;
        let gossip = self.book.own_gossip(state.height.get(), state.height.get());
        sender.send(Recipients::All, Wire::Signatures(gossip).encode(), false);
        let floor = self.book.prune();
        self.store.prune(floor).await
    }

    fn on_query(&self, message: Message) {
        match message {
            Message::Signatures { height, response } => {
                let _ = response.send(self.book.signatures_at(height.get()));
            }
            Message::Quorum { height, response } => {
                let _ = response.send(self.book.quorum_at(height.get()));
            }
        }
    }

    async fn on_wire<S, B>(
        &mut self,
        peer: ed25519::PublicKey,
        wire: Wire,
        sender: &mut S,
        blocker: &mut B,
    ) -> Result<(), Error>
    where
        S: Sender<PublicKey = ed25519::PublicKey>,
        B: Blocker<PublicKey = ed25519::PublicKey>,
    {
        if peer == self.public_key {
            return Ok(());
        }
        match wire {
            Wire::Signatures(items) => {
                let mut records = Vec::new();
                for gossip in items {
                    match self.book.peer(&peer, gossip) {
                        Ok((_, Some(record))) => records.push(record),
                        Ok((_, None)) => {}
                        Err(rejected) => {
                            let blocked = rejected.blocks();
                            self.reject(peer.clone(), &rejected, blocker);
                            if blocked {
                                break;
                            }
                        }
                    }
                }
                if !records.is_empty() {
                    self.store.append(&self.book, &records).await?;
                }
            }
            Wire::Request { from, to } => {
                let items = self.book.own_gossip(from.get(), to.get());
                if !items.is_empty() {
                    sender.send(Recipients::One(peer), Wire::Signatures(items).encode(), false);
                }
            }
        }
        Ok(())
    }

    fn reject<B: Blocker<PublicKey = ed25519::PublicKey>>(
        &self,
        peer: ed25519::PublicKey,
        rejected: &Rejected,
        blocker: &mut B,
    ) {
        if rejected.blocks() {
            warn!(?peer, %rejected, "invalid light-client signature message; blocking peer");
            blocker.block(peer);
        } else if matches!(rejected, Rejected::DifferentState { .. }) {
            warn!(?peer, %rejected, "peer signed a different light-client state (faulty or Byzantine)");
        } else {
            debug!(?peer, %rejected, "light-client signature ignored");
        }
    }

    /// Asks each peer for the first range of recent heights where we lack its signature.
    fn request_missing<S: Sender<PublicKey = ed25519::PublicKey>>(&mut self, sender: &mut S) {
        for peer in self.book.peers() {
            if let Some((from, to)) = self.book.missing(&peer) {
                let request = Wire::Request { from: Height(from), to: Height(to) };
                sender.send(Recipients::One(peer), request.encode(), false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU64;

    use commonware_runtime::{Runner as _, Supervisor as _, deterministic};

    use super::*;
    use crate::signatures::{book::tests::fixture, record::Record};

    #[test]
    fn signatures_survive_a_restart() {
        let f = fixture(2);
        let mut config = f.config.clone();
        config.epoch_length = NonZeroU64::new(3).expect("non-zero");
        deterministic::Runner::default().start(|context| async move {
            let (mut actor, _) =
                Actor::init(context.child("first"), config.clone()).await.expect("init");
            for h in 0..6 {
                let outcome =
                    actor.inner.book.own(&f.state(h), &f.record, &f.light[0]).expect("own");
                actor
                    .inner
                    .store
                    .append(&actor.inner.book, &outcome.records)
                    .await
                    .expect("append");
                let (_, record) =
                    actor.inner.book.peer(&f.peers[1], f.gossip(1, h)).expect("valid");
                let records: Vec<Record> = record.into_iter().collect();
                actor.inner.store.append(&actor.inner.book, &records).await.expect("append");
            }
            let expected: Vec<_> = (0..6).map(|h| actor.inner.book.signatures_at(h)).collect();
            drop(actor);
            let (mut actor, _) =
                Actor::init(context.child("second"), config).await.expect("reopen");
            assert_eq!(actor.inner.book.tip, Some(5));
            // The application's replay brings the committees back; nothing is signed again.
            for h in 0..6 {
                let outcome =
                    actor.inner.book.own(&f.state(h), &f.record, &f.light[0]).expect("replay");
                assert!(outcome.records.is_empty(), "height {h} signed again");
            }
            let restored: Vec<_> = (0..6).map(|h| actor.inner.book.signatures_at(h)).collect();
            assert_eq!(restored, expected);
            assert_eq!(actor.inner.book.tip, Some(5));
            assert!(actor.inner.book.quorum_at(5).is_some());
        });
    }
}
