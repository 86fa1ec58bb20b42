//! The signatures actor: collects, verifies, persists and serves light-client state
//! signatures (see the [module docs](super)).

use std::{collections::BTreeMap, num::NonZeroUsize};

use bytes::BufMut;
use commonware_codec::{
    Buf, Decode as _, Encode as _, EncodeSize, Error as CodecError, Read, ReadExt as _, Write,
};
use commonware_cryptography::ed25519;
use commonware_macros::select;
use commonware_p2p::{Blocker, Receiver, Recipients, Sender};
use commonware_runtime::{
    Clock, Handle, Metrics, ReadOptions, Spawner, Storage, buffer::paged::CacheRef,
};
use commonware_storage::journal::segmented::variable::{Config as JournalConfig, Journal};
use commonware_utils::channel::mpsc;
use tracing::{debug, error, info, warn};
use trestle_light_client::{
    Committee, Height, LightClientState, PublicKey, Signature, StateSignature,
    eddsa::SIGNATURE_LEN, state::STATE_LEN,
};

use super::{
    Config, Error, Rejected,
    ingress::{Gossip, MAX_BATCH, MAX_REQUEST_SPAN, Mailbox, Message, Wire},
};
use crate::application::SignedState;

/// Heights per section of the recent journal (pruning works on whole sections).
const RECENT_SECTION: u64 = 1_024;
/// Heights per section of the epoch-ends journal (never pruned).
const EPOCHS_SECTION: u64 = 1 << 20;
const PAGE_SIZE: std::num::NonZeroU16 = std::num::NonZeroU16::new(4096).expect("non-zero");
const PAGE_CACHE_PAGES: NonZeroUsize = NonZeroUsize::new(16).expect("non-zero");
const WRITE_BUFFER: NonZeroUsize = NonZeroUsize::new(64 * 1024).expect("non-zero");

/// What the journals hold: our own finalized states and verified signatures on them.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Record {
    /// Our finalized light-client state at its height.
    State(LightClientState),
    /// A verified signature of `slot` on our state at `height`.
    Signature { height: u64, slot: u32, signature: Signature },
}

impl Record {
    fn height(&self) -> u64 {
        match self {
            Self::State(state) => state.height.get(),
            Self::Signature { height, .. } => *height,
        }
    }
}

impl Write for Record {
    fn write(&self, buf: &mut impl BufMut) {
        match self {
            Self::State(state) => {
                0u8.write(buf);
                buf.put_slice(&state.encode());
            }
            Self::Signature { height, slot, signature } => {
                1u8.write(buf);
                height.write(buf);
                slot.write(buf);
                buf.put_slice(&signature.to_bytes());
            }
        }
    }
}

impl EncodeSize for Record {
    fn encode_size(&self) -> usize {
        1 + match self {
            Self::State(_) => STATE_LEN,
            Self::Signature { .. } => 8 + 4 + SIGNATURE_LEN,
        }
    }
}

impl Read for Record {
    type Cfg = ();

    fn read_cfg(buf: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        match u8::read(buf)? {
            0 => {
                let bytes = <[u8; STATE_LEN]>::read(buf)?;
                LightClientState::decode(&bytes)
                    .map(Self::State)
                    .map_err(|_| CodecError::Invalid("Record", "state encoding"))
            }
            1 => {
                let height = u64::read(buf)?;
                let slot = u32::read(buf)?;
                let bytes = <[u8; SIGNATURE_LEN]>::read(buf)?;
                let signature = Signature::from_bytes(&bytes)
                    .map_err(|_| CodecError::Invalid("Record", "signature encoding"))?;
                Ok(Self::Signature { height, slot, signature })
            }
            tag => Err(CodecError::InvalidEnum(tag)),
        }
    }
}

/// A peer's signature held until our own state at its height is known.
#[derive(Clone, Debug)]
struct Pending {
    peer: ed25519::PublicKey,
    state: LightClientState,
    signature: Signature,
}

/// What became of a peer's signature that was not rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Accepted {
    /// Verified against our state; to be persisted.
    Stored,
    /// Already known.
    Duplicate,
    /// Held until our own state at its height is known.
    Pending,
}

/// The in-memory book of states and signatures (pure: no I/O), with the retention rules.
struct Book {
    committee: Committee,
    own_slot: u32,
    retention: u64,
    epoch_length: Option<std::num::NonZeroU64>,
    max_ahead: u64,
    max_pending: usize,
    catch_up: u64,
    /// Our own finalized states, by height.
    states: BTreeMap<u64, LightClientState>,
    /// Verified signatures on them, by height then slot.
    signatures: BTreeMap<u64, BTreeMap<u32, Signature>>,
    /// Peers' signatures on heights we have not finalized yet, by (height, slot).
    pending: BTreeMap<(u64, u32), Pending>,
    /// Where the next catch-up request to each slot starts.
    cursors: BTreeMap<u32, u64>,
    /// Highest height of our own states.
    tip: Option<u64>,
}

/// Outcome of learning our own state at a height.
#[derive(Debug, Default)]
struct OwnOutcome {
    /// Records to persist (state first), empty if the state was already known or is pruned.
    records: Vec<Record>,
    /// Held signatures that failed verification, with the peers that sent them.
    rejected: Vec<(ed25519::PublicKey, Rejected)>,
}

impl Book {
    fn new(config: &Config, own_slot: u32) -> Self {
        Self {
            committee: config.committee.clone(),
            own_slot,
            retention: config.retention.get(),
            epoch_length: config.epoch_length,
            max_ahead: config.max_ahead,
            max_pending: config.max_pending,
            catch_up: config.catch_up,
            states: BTreeMap::new(),
            signatures: BTreeMap::new(),
            pending: BTreeMap::new(),
            cursors: BTreeMap::new(),
            tip: None,
        }
    }

    fn is_epoch_end(&self, height: u64) -> bool {
        self.epoch_length.is_some_and(|len| height % len.get() == len.get() - 1)
    }

    /// Lowest height kept by retention (epoch ends below it are kept too).
    fn floor(&self) -> u64 {
        self.tip.map_or(0, |tip| tip.saturating_sub(self.retention - 1))
    }

    fn retained(&self, height: u64) -> bool {
        height >= self.floor() || self.is_epoch_end(height)
    }

    /// Verifies `signature` of `slot` on `state`.
    fn verify(
        &self,
        slot: u32,
        state: &LightClientState,
        signature: &Signature,
    ) -> Result<(), Rejected> {
        let index = slot as usize;
        let member = self.committee.slots().get(index).ok_or(Rejected::NotAMember)?;
        let message = state.message().map_err(|_| Rejected::InvalidState)?;
        let result = match self.committee.tables() {
            Some(tables) => signature.verify_prepared(&member.key, &tables[index], &message),
            None => signature.verify(&member.key, &message),
        };
        result.map_err(|source| Rejected::InvalidSignature {
            slot,
            height: state.height.get(),
            source,
        })
    }

    /// Re-inserts a record read back from storage (already verified when written).
    fn restore(&mut self, record: Record) {
        match record {
            Record::State(state) => {
                let height = state.height.get();
                self.tip = Some(self.tip.map_or(height, |tip| tip.max(height)));
                self.states.insert(height, state);
            }
            Record::Signature { height, slot, signature } => {
                if (slot as usize) < self.committee.slots().len() {
                    self.signatures.entry(height).or_default().insert(slot, signature);
                }
            }
        }
    }

    /// Learns our own signed state. Returns the records to persist: nothing if the state is
    /// already known or below retention.
    fn own(&mut self, signed: &SignedState) -> Result<OwnOutcome, Rejected> {
        let height = signed.state.height.get();
        if let Some(known) = self.states.get(&height) {
            if *known != signed.state {
                return Err(Rejected::OwnStateChanged { height });
            }
            return Ok(OwnOutcome::default());
        }
        if !self.retained(height) {
            return Ok(OwnOutcome::default());
        }
        self.verify(self.own_slot, &signed.state, &signed.signature)
            .map_err(|_| Rejected::OwnKeyMismatch { slot: self.own_slot })?;
        self.states.insert(height, signed.state.clone());
        self.tip = Some(self.tip.map_or(height, |tip| tip.max(height)));
        let mut outcome = OwnOutcome::default();
        outcome.records.push(Record::State(signed.state.clone()));
        outcome.records.push(self.insert(height, self.own_slot, signed.signature));
        let held: Vec<_> =
            self.pending.range((height, 0)..=(height, u32::MAX)).map(|(k, _)| *k).collect();
        for key in held {
            let Some(pending) = self.pending.remove(&key) else { continue };
            let (_, slot) = key;
            match self.check(slot, &pending.state, &pending.signature) {
                Ok(()) => outcome.records.push(self.insert(height, slot, pending.signature)),
                Err(rejected) => outcome.rejected.push((pending.peer, rejected)),
            }
        }
        Ok(outcome)
    }

    /// A peer's signature against our own state at its height.
    fn check(
        &self,
        slot: u32,
        state: &LightClientState,
        signature: &Signature,
    ) -> Result<(), Rejected> {
        let height = state.height.get();
        let own = self.states.get(&height).ok_or(Rejected::Pruned { height })?;
        if own != state {
            return Err(Rejected::DifferentState { slot, height });
        }
        self.verify(slot, state, signature)
    }

    fn insert(&mut self, height: u64, slot: u32, signature: Signature) -> Record {
        self.signatures.entry(height).or_default().insert(slot, signature);
        Record::Signature { height, slot, signature }
    }

    /// A peer's (`slot`'s) gossiped signature.
    fn peer(
        &mut self,
        peer: &ed25519::PublicKey,
        slot: u32,
        gossip: Gossip,
    ) -> Result<(Accepted, Option<Record>), Rejected> {
        let height = gossip.height.get();
        if self.signatures.get(&height).is_some_and(|s| s.contains_key(&slot)) {
            return Ok((Accepted::Duplicate, None));
        }
        if self.states.contains_key(&height) {
            self.check(slot, &gossip.state, &gossip.signature)?;
            return Ok((Accepted::Stored, Some(self.insert(height, slot, gossip.signature))));
        }
        if !self.retained(height) {
            return Err(Rejected::Pruned { height });
        }
        let tip = self.tip.unwrap_or(0);
        if height > tip.saturating_add(self.max_ahead) {
            return Err(Rejected::TooFarAhead { height, tip });
        }
        if self.pending.contains_key(&(height, slot)) {
            return Ok((Accepted::Duplicate, None));
        }
        if self.pending.len() >= self.max_pending {
            return Err(Rejected::PendingFull);
        }
        let pending =
            Pending { peer: peer.clone(), state: gossip.state, signature: gossip.signature };
        self.pending.insert((height, slot), pending);
        Ok((Accepted::Pending, None))
    }

    /// Drops what retention no longer keeps; returns the floor.
    fn prune(&mut self) -> u64 {
        let floor = self.floor();
        let epoch_length = self.epoch_length;
        let keep =
            |h: &u64| *h >= floor || epoch_length.is_some_and(|len| h % len.get() == len.get() - 1);
        self.states.retain(|h, _| keep(h));
        self.signatures.retain(|h, _| keep(h));
        let tip = self.tip;
        // Held signatures at or below our tip whose state we do not have will never verify.
        self.pending.retain(|(h, _), _| tip.is_none_or(|tip| *h > tip));
        floor
    }

    /// Our own signatures at `from..=to`, as gossip.
    fn own_gossip(&self, from: u64, to: u64) -> Vec<Gossip> {
        self.states
            .range(from..=to)
            .filter_map(|(height, state)| {
                let signature = *self.signatures.get(height)?.get(&self.own_slot)?;
                Some(Gossip { height: Height(*height), state: state.clone(), signature })
            })
            .take(MAX_BATCH)
            .collect()
    }

    /// The next range of heights to ask `slot` for: the first height (from its cursor, wrapping
    /// around the catch-up window) where we have our state but not its signature.
    fn missing(&mut self, slot: u32) -> Option<(u64, u64)> {
        let tip = self.tip?;
        let low = self.floor().max(tip.saturating_sub(self.catch_up.saturating_sub(1)));
        let start = self.cursors.get(&slot).copied().unwrap_or(low).clamp(low, tip);
        let lacks = |h: &u64| {
            self.states.contains_key(h)
                && !self.signatures.get(h).is_some_and(|s| s.contains_key(&slot))
        };
        let from = (start..=tip).find(lacks).or_else(|| (low..start).find(lacks))?;
        let to = tip.min(from + MAX_REQUEST_SPAN - 1);
        self.cursors.insert(slot, to + 1);
        Some((from, to))
    }

    fn signatures_at(&self, height: u64) -> Vec<(u32, PublicKey, Signature)> {
        let slots = self.committee.slots();
        self.signatures
            .get(&height)
            .into_iter()
            .flatten()
            .filter_map(|(&slot, signature)| {
                slots.get(slot as usize).map(|member| (slot, member.key, *signature))
            })
            .collect()
    }

    fn quorum_at(&self, height: u64) -> Option<(LightClientState, Vec<StateSignature>)> {
        let state = self.states.get(&height)?;
        let signatures = self.signatures.get(&height)?;
        let slots = self.committee.slots();
        let weight: u128 = signatures
            .keys()
            .filter_map(|slot| slots.get(*slot as usize))
            .map(|member| u128::from(member.weight))
            .sum();
        if !self.committee.is_quorum(weight) {
            return None;
        }
        let signatures = signatures
            .iter()
            .map(|(&slot, &signature)| StateSignature { slot, signature })
            .collect();
        Some((state.clone(), signatures))
    }
}

/// The two journals: recent heights (pruned by retention) and epoch ends (kept forever).
struct Store<E: Storage + Metrics> {
    recent: Option<Journal<E, Record>>,
    epochs: Option<Journal<E, Record>>,
}

fn journal_config(partition: String, page_cache: &CacheRef) -> JournalConfig<()> {
    JournalConfig {
        partition,
        compression: None,
        codec_config: (),
        page_cache: page_cache.clone(),
        write_buffer: WRITE_BUFFER,
    }
}

async fn replay<E: Storage + Metrics>(
    journal: Journal<E, Record>,
    book: &mut Book,
) -> Result<Journal<E, Record>, Error> {
    let mut replay = journal.replay(0, 0, WRITE_BUFFER, ReadOptions::default()).await?;
    while let Some(item) = replay.next().await {
        let (_, _, _, record) = item?;
        book.restore(record);
    }
    Ok(replay.finish()?)
}

impl<E: Storage + Metrics> Store<E> {
    /// Appends `records` and syncs the sections written.
    async fn append(&mut self, book: &Book, records: &[Record]) -> Result<(), Error> {
        for epoch_end in [false, true] {
            let mine: Vec<&Record> =
                records.iter().filter(|r| book.is_epoch_end(r.height()) == epoch_end).collect();
            if mine.is_empty() {
                continue;
            }
            let (slot, per_section) = if epoch_end {
                (&mut self.epochs, EPOCHS_SECTION)
            } else {
                (&mut self.recent, RECENT_SECTION)
            };
            let mut journal = slot.take().ok_or(Error::StorageClosed)?;
            let mut sections = Vec::new();
            for record in mine {
                let section = record.height() / per_section;
                journal = journal.append(section, record).await?.0;
                if !sections.contains(&section) {
                    sections.push(section);
                }
            }
            for section in sections {
                journal = journal.sync(section).await?;
            }
            *slot = Some(journal);
        }
        Ok(())
    }

    async fn prune(&mut self, floor: u64) -> Result<(), Error> {
        let journal = self.recent.take().ok_or(Error::StorageClosed)?;
        self.recent = Some(journal.prune(floor / RECENT_SECTION).await?.0);
        Ok(())
    }
}

/// The signatures actor. Create with [`Actor::init`] (opens and replays its storage), then
/// [`Actor::start`] it with the application's stream of signed states and the network.
pub struct Actor<E: Storage + Metrics> {
    context: E,
    inner: Inner<E>,
    control: mpsc::Receiver<Message>,
}

/// The actor's state (everything but the runtime context and the mailbox receiver).
struct Inner<E: Storage + Metrics> {
    book: Book,
    store: Store<E>,
    slots: BTreeMap<ed25519::PublicKey, u32>,
    public_key: ed25519::PublicKey,
    sync_interval: std::time::Duration,
}

impl<E: Clock + Spawner + Storage + Metrics> Actor<E> {
    /// Validates `config`, opens the journals under `config.partition_prefix` and restores
    /// the states and signatures they hold.
    pub async fn init(context: E, config: Config) -> Result<(Self, Mailbox), Error> {
        let own_slot = config.validate()?;
        config.committee.prepare();
        let mut book = Book::new(&config, own_slot);
        let page_cache = CacheRef::new(PAGE_SIZE, PAGE_CACHE_PAGES);
        let prefix = &config.partition_prefix;
        let recent = Journal::init(
            context.child("recent"),
            journal_config(format!("{prefix}-recent"), &page_cache),
        )
        .await?;
        let epochs = Journal::init(
            context.child("epochs"),
            journal_config(format!("{prefix}-epochs"), &page_cache),
        )
        .await?;
        let recent = replay(recent, &mut book).await?;
        let epochs = replay(epochs, &mut book).await?;
        book.prune();
        if let Some(tip) = book.tip {
            info!(tip, heights = book.signatures.len(), "restored light-client signatures");
        }
        let (sender, control) = mpsc::channel(config.mailbox_size.get());
        let inner = Inner {
            book,
            store: Store { recent: Some(recent), epochs: Some(epochs) },
            slots: config.slots,
            public_key: config.public_key,
            sync_interval: config.sync_interval,
        };
        let actor = Self { context, inner, control };
        Ok((actor, Mailbox::new(sender)))
    }

    /// Starts the actor: it stores and gossips the states in `own` (signed by this
    /// validator, in height order), and collects the peers' signatures from `network`,
    /// blocking peers that send malformed messages or invalid signatures.
    pub fn start<S, R, B>(
        self,
        own: mpsc::UnboundedReceiver<SignedState>,
        network: (S, R),
        blocker: B,
    ) -> Handle<()>
    where
        S: Sender<PublicKey = ed25519::PublicKey>,
        R: Receiver<PublicKey = ed25519::PublicKey>,
        B: Blocker<PublicKey = ed25519::PublicKey>,
    {
        let Self { context, inner, control } = self;
        context.spawn(move |context| inner.run(context, control, own, network, blocker))
    }
}

impl<E: Clock + Spawner + Storage + Metrics> Inner<E> {
    async fn run<S, R, B>(
        mut self,
        context: E,
        mut control: mpsc::Receiver<Message>,
        mut own: mpsc::UnboundedReceiver<SignedState>,
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
                signed = own.recv() => {
                    let Some(signed) = signed else { break };
                    self.on_own(&signed, &mut sender, &mut blocker).await
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

    async fn on_own<S, B>(
        &mut self,
        signed: &SignedState,
        sender: &mut S,
        blocker: &mut B,
    ) -> Result<(), Error>
    where
        S: Sender<PublicKey = ed25519::PublicKey>,
        B: Blocker<PublicKey = ed25519::PublicKey>,
    {
        let outcome = match self.book.own(signed) {
            Ok(outcome) => outcome,
            Err(rejected) => {
                error!(%rejected, "own light-client state not stored");
                return Ok(());
            }
        };
        for (peer, rejected) in outcome.rejected {
            self.reject(peer, &rejected, blocker);
        }
        if outcome.records.is_empty() {
            return Ok(());
        }
        self.store.append(&self.book, &outcome.records).await?;
        let gossip = Gossip {
            height: signed.state.height,
            state: signed.state.clone(),
            signature: signed.signature,
        };
        sender.send(Recipients::All, Wire::Signatures(vec![gossip]).encode(), false);
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
        let Some(&slot) = self.slots.get(&peer) else {
            self.reject(peer, &Rejected::NotAMember, blocker);
            return Ok(());
        };
        if peer == self.public_key {
            return Ok(());
        }
        match wire {
            Wire::Signatures(items) => {
                let mut records = Vec::new();
                for gossip in items {
                    match self.book.peer(&peer, slot, gossip) {
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
        let peers: Vec<(ed25519::PublicKey, u32)> = self
            .slots
            .iter()
            .filter(|(peer, _)| **peer != self.public_key)
            .map(|(peer, slot)| (peer.clone(), *slot))
            .collect();
        for (peer, slot) in peers {
            if let Some((from, to)) = self.book.missing(slot) {
                let request = Wire::Request { from: Height(from), to: Height(to) };
                sender.send(Recipients::One(peer), request.encode(), false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU64;

    use alloy_primitives::B256;
    use commonware_cryptography::Signer as _;
    use commonware_runtime::{Runner as _, Supervisor as _, deterministic};
    use trestle_light_client::{ChainId, Epoch, SecretKey};

    use super::*;

    struct Fixture {
        light: Vec<SecretKey>,
        peers: Vec<ed25519::PublicKey>,
        config: Config,
    }

    fn fixture(n: usize) -> Fixture {
        let light: Vec<_> = (0..n).map(|i| SecretKey::from_seed([i as u8 + 1; 32])).collect();
        let peers: Vec<_> =
            (0..n as u64).map(|i| ed25519::PrivateKey::from_seed(i).public_key()).collect();
        let committee =
            Committee::equal_weight(light.iter().map(|k| *k.public_key()), n).expect("committee");
        let slots = peers.iter().enumerate().map(|(i, pk)| (pk.clone(), i as u32)).collect();
        let config = Config::new(peers[0].clone(), committee, slots, "test".into());
        Fixture { light, peers, config }
    }

    impl Fixture {
        fn state(&self, height: u64) -> LightClientState {
            LightClientState {
                chain_id: ChainId(1),
                epoch: Epoch(0),
                height: Height(height),
                history_root: B256::from(alloy_primitives::U256::from(height)),
                next_committee: self.config.committee.commitment_bytes(),
            }
        }

        fn signed(&self, slot: usize, state: &LightClientState) -> Signature {
            self.light[slot].sign(&state.message().expect("message"))
        }

        fn own(&self, height: u64) -> SignedState {
            let state = self.state(height);
            SignedState { signature: self.signed(0, &state), state }
        }

        fn gossip(&self, slot: usize, height: u64) -> Gossip {
            let state = self.state(height);
            Gossip { height: Height(height), signature: self.signed(slot, &state), state }
        }
    }

    #[test]
    fn signatures_are_checked_against_our_state_and_the_senders_slot() {
        let f = fixture(4);
        let mut book = Book::new(&f.config, 0);
        let own = book.own(&f.own(1)).expect("own");
        assert_eq!(own.records.len(), 2);
        assert!(book.quorum_at(1).is_none());

        assert_eq!(book.peer(&f.peers[1], 1, f.gossip(1, 1)).expect("valid").0, Accepted::Stored);
        assert_eq!(book.peer(&f.peers[1], 1, f.gossip(1, 1)).expect("dup").0, Accepted::Duplicate);
        // Slot 1's signature replayed by slot 2.
        assert!(matches!(
            book.peer(&f.peers[2], 2, f.gossip(1, 1)),
            Err(Rejected::InvalidSignature { slot: 2, height: 1, .. })
        ));
        // A valid signature on another state at our height.
        let mut forged = f.gossip(2, 1);
        forged.state.history_root = B256::repeat_byte(0xbd);
        forged.signature = f.signed(2, &forged.state);
        assert_eq!(
            book.peer(&f.peers[2], 2, forged),
            Err(Rejected::DifferentState { slot: 2, height: 1 })
        );
        assert!(book.quorum_at(1).is_none(), "2 of 4 is no quorum");
        book.peer(&f.peers[3], 3, f.gossip(3, 1)).expect("valid");
        let (state, quorum) = book.quorum_at(1).expect("3 of 4");
        assert_eq!(state, f.state(1));
        assert_eq!(quorum.iter().map(|s| s.slot).collect::<Vec<_>>(), vec![0, 1, 3]);
        trestle_light_client::verify_quorum(&f.config.committee, &state, &quorum).expect("valid");
        let listed = book.signatures_at(1);
        assert_eq!(listed.iter().map(|s| s.0).collect::<Vec<_>>(), vec![0, 1, 3]);
        assert_eq!(listed[1].1, *f.light[1].public_key());
        // Our own state changing is refused; a misconfigured key is caught.
        let mut changed = f.own(1);
        changed.state.history_root = B256::ZERO;
        assert_eq!(book.own(&changed).err(), Some(Rejected::OwnStateChanged { height: 1 }));
        let mut wrong_key = f.own(2);
        wrong_key.signature = f.signed(1, &wrong_key.state);
        assert_eq!(book.own(&wrong_key).err(), Some(Rejected::OwnKeyMismatch { slot: 0 }));
    }

    #[test]
    fn early_signatures_wait_for_our_state_within_bounds() {
        let mut f = fixture(4);
        f.config.max_ahead = 5;
        f.config.max_pending = 3;
        let mut book = Book::new(&f.config, 0);
        book.own(&f.own(0)).expect("own");
        assert_eq!(book.peer(&f.peers[1], 1, f.gossip(1, 3)).expect("held").0, Accepted::Pending);
        let mut forged = f.gossip(2, 3);
        forged.state.history_root = B256::repeat_byte(0xbd);
        forged.signature = f.signed(2, &forged.state);
        assert_eq!(book.peer(&f.peers[2], 2, forged).expect("held").0, Accepted::Pending);
        let mut invalid = f.gossip(3, 3);
        invalid.signature = f.signed(1, &invalid.state);
        assert_eq!(book.peer(&f.peers[3], 3, invalid).expect("held").0, Accepted::Pending);
        assert_eq!(book.peer(&f.peers[1], 1, f.gossip(1, 4)), Err(Rejected::PendingFull));
        assert_eq!(
            book.peer(&f.peers[1], 1, f.gossip(1, 6)),
            Err(Rejected::TooFarAhead { height: 6, tip: 0 })
        );
        let outcome = book.own(&f.own(3)).expect("own");
        // State, own signature, slot 1's held signature.
        assert_eq!(outcome.records.len(), 3);
        let rejected: Vec<_> =
            outcome.rejected.iter().map(|(p, r)| (p.clone(), r.blocks())).collect();
        assert_eq!(rejected, vec![(f.peers[2].clone(), false), (f.peers[3].clone(), true)]);
        assert!(book.pending.is_empty());
        assert_eq!(book.signatures_at(3).len(), 2);
    }

    #[test]
    fn retention_keeps_recent_heights_and_epoch_ends() {
        let mut f = fixture(2);
        f.config.retention = NonZeroU64::new(5).expect("non-zero");
        f.config.epoch_length = NonZeroU64::new(4);
        let mut book = Book::new(&f.config, 0);
        for h in 0..=20 {
            book.own(&f.own(h)).expect("own");
            book.peer(&f.peers[1], 1, f.gossip(1, h)).expect("valid");
            book.prune();
        }
        let kept: Vec<u64> = book.signatures.keys().copied().collect();
        assert_eq!(kept, vec![3, 7, 11, 15, 16, 17, 18, 19, 20]);
        assert_eq!(book.states.keys().copied().collect::<Vec<_>>(), kept);
        // A pruned height is neither stored again nor requested.
        assert_eq!(book.own(&f.own(2)).expect("ignored").records.len(), 0);
        assert_eq!(book.peer(&f.peers[1], 1, f.gossip(1, 2)), Err(Rejected::Pruned { height: 2 }));
        assert!(f.config.is_epoch_end(7) && !f.config.is_epoch_end(8));
    }

    #[test]
    fn catch_up_requests_cycle_through_the_gaps() {
        let mut f = fixture(2);
        f.config.catch_up = 100;
        let mut book = Book::new(&f.config, 0);
        for h in 0..80 {
            book.own(&f.own(h)).expect("own");
            if h % 10 != 0 {
                book.peer(&f.peers[1], 1, f.gossip(1, h)).expect("valid");
            }
        }
        assert_eq!(book.missing(1), Some((0, 31)));
        assert_eq!(book.missing(1), Some((40, 71)));
        assert_eq!(book.missing(1), Some((0, 31)), "wraps around");
        assert_eq!(book.own_gossip(5, 9).len(), 5);
        for h in (0..80).step_by(10) {
            book.peer(&f.peers[1], 1, f.gossip(1, h)).expect("valid");
        }
        assert_eq!(book.missing(1), None);
    }

    #[test]
    fn records_round_trip_and_survive_a_restart() {
        let f = fixture(2);
        let record = Record::Signature { height: 9, slot: 1, signature: f.signed(1, &f.state(9)) };
        assert_eq!(Record::decode_cfg(record.encode(), &()).expect("decodes"), record);
        let state = Record::State(f.state(9));
        assert_eq!(Record::decode_cfg(state.encode(), &()).expect("decodes"), state);

        let mut config = f.config.clone();
        config.epoch_length = NonZeroU64::new(3);
        deterministic::Runner::default().start(|context| async move {
            let (mut actor, _) =
                Actor::init(context.child("first"), config.clone()).await.expect("init");
            for h in 0..6 {
                let outcome = actor.inner.book.own(&f.own(h)).expect("own");
                actor
                    .inner
                    .store
                    .append(&actor.inner.book, &outcome.records)
                    .await
                    .expect("append");
                let (_, record) =
                    actor.inner.book.peer(&f.peers[1], 1, f.gossip(1, h)).expect("valid");
                let records: Vec<Record> = record.into_iter().collect();
                actor.inner.store.append(&actor.inner.book, &records).await.expect("append");
            }
            let expected: Vec<_> = (0..6).map(|h| actor.inner.book.signatures_at(h)).collect();
            drop(actor);
            let (actor, _) = Actor::init(context.child("second"), config).await.expect("reopen");
            let restored: Vec<_> = (0..6).map(|h| actor.inner.book.signatures_at(h)).collect();
            assert_eq!(restored, expected);
            assert_eq!(actor.inner.book.tip, Some(5));
            assert!(actor.inner.book.quorum_at(5).is_some());
        });
    }
}
