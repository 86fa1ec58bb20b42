//! The signatures actor's book of states and signatures: pure (no I/O, no clock), so every
//! rule (verification against our own state and the sender's slot in the committee of the
//! state's epoch, the bounded buffer of early signatures, retention, catch-up ranges) is
//! unit-tested directly.
//!
//! The state of a height in epoch e is signed by the committee of e. The book learns each
//! epoch's committee with our own state of its first height it sees (the application hands it
//! over with every finalized block), so a signature is attributed to its authenticated sender's
//! slot *in that epoch*, and a validator signs exactly the heights of the epochs it belongs to.

use std::{collections::BTreeMap, num::NonZeroU64, sync::Arc};

use commonware_codec::DecodeExt as _;
use commonware_cryptography::ed25519;
use trestle_light_client::{
    Committee, Height, LightClientState, PublicKey, SecretKey, Signature, StateSignature, epoch,
    rotation::CommitteeRecord,
};

use super::{
    Config, Rejected,
    record::Record,
    wire::{Gossip, MAX_BATCH, MAX_REQUEST_SPAN},
};

/// A peer's signature held until our own state at its height is known.
#[derive(Clone, Debug)]
pub(super) struct Pending {
    state: LightClientState,
    signature: Signature,
}

/// What became of a peer's signature that was not rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Accepted {
    /// Verified against our state; to be persisted.
    Stored,
    /// Already known.
    Duplicate,
    /// Held until our own state at its height is known.
    Pending,
}

/// The committee that signs one epoch's states, with its members' slots by consensus key.
struct Signers {
    record: Arc<CommitteeRecord>,
    slots: BTreeMap<ed25519::PublicKey, u32>,
}

impl Signers {
    fn new(record: Arc<CommitteeRecord>) -> Self {
        record.light_client().prepare();
        let slots = record
            .members()
            .iter()
            .enumerate()
            .filter_map(|(slot, seat)| {
                // A decided committee's keys all decode (their proofs of possession verified).
                let key = ed25519::PublicKey::decode(seat.consensus_key.to_vec()).ok()?;
                Some((key, u32::try_from(slot).ok()?))
            })
            .collect();
        Self { record, slots }
    }

    fn committee(&self) -> &Committee {
        self.record.light_client()
    }
}

/// The in-memory book of states and signatures (pure: no I/O), with the retention rules.
pub(super) struct Book {
    public_key: ed25519::PublicKey,
    retention: u64,
    epoch_length: NonZeroU64,
    max_ahead: u64,
    max_pending: usize,
    catch_up: u64,
    /// The committee of each epoch we have a state of.
    committees: BTreeMap<u64, Signers>,
    /// Our own finalized states, by height.
    states: BTreeMap<u64, LightClientState>,
    /// Verified signatures on them, by height then slot (in the height's epoch).
    signatures: BTreeMap<u64, BTreeMap<u32, Signature>>,
    /// Peers' signatures on heights we have not finalized yet, by height then sender.
    pending: BTreeMap<u64, BTreeMap<ed25519::PublicKey, Pending>>,
    pending_len: usize,
    /// Where the next catch-up request to each peer starts.
    cursors: BTreeMap<ed25519::PublicKey, u64>,
    /// Highest height of our own states.
    pub(super) tip: Option<u64>,
}

/// Outcome of learning our own state at a height.
#[derive(Debug, Default)]
pub(super) struct OwnOutcome {
    /// Records to persist (state first), empty if the state was already known or is pruned.
    pub(super) records: Vec<Record>,
    /// Held signatures that failed verification, with the peers that sent them.
    pub(super) rejected: Vec<(ed25519::PublicKey, Rejected)>,
    /// We are a member of the state's committee, but our light-client key is not our seat's:
    /// the state is kept, not signed.
    pub(super) wrong_key: bool,
}

impl Book {
    /// An empty book for the validator `config.public_key`.
    pub(super) fn new(config: &Config) -> Self {
        Self {
            public_key: config.public_key.clone(),
            retention: config.retention.get(),
            epoch_length: config.epoch_length,
            max_ahead: config.max_ahead,
            max_pending: config.max_pending,
            catch_up: config.catch_up,
            committees: BTreeMap::new(),
            states: BTreeMap::new(),
            signatures: BTreeMap::new(),
            pending: BTreeMap::new(),
            pending_len: 0,
            cursors: BTreeMap::new(),
            tip: None,
        }
    }

    /// Whether `height` is the last of its epoch (kept forever).
    pub(super) fn is_epoch_end(&self, height: u64) -> bool {
        epoch::is_last(Height(height), self.epoch_length)
    }

    fn epoch_of(&self, height: u64) -> u64 {
        epoch::epoch_of(Height(height), self.epoch_length).get()
    }

    fn signers(&self, height: u64) -> Option<&Signers> {
        self.committees.get(&self.epoch_of(height))
    }

    /// `peer`'s slot in the committee that signs `height`.
    fn slot(&self, height: u64, peer: &ed25519::PublicKey) -> Result<u32, Rejected> {
        let signers = self.signers(height).ok_or(Rejected::Pruned { height })?;
        signers.slots.get(peer).copied().ok_or(Rejected::NotAMember)
    }

    /// Lowest height kept by retention (epoch ends below it are kept too).
    fn floor(&self) -> u64 {
        self.tip.map_or(0, |tip| tip.saturating_sub(self.retention - 1))
    }

    fn retained(&self, height: u64) -> bool {
        height >= self.floor() || self.is_epoch_end(height)
    }

    /// Verifies `signature` of `slot` (in the committee of the state's height) on `state`.
    pub(super) fn verify(
        &self,
        slot: u32,
        state: &LightClientState,
        signature: &Signature,
    ) -> Result<(), Rejected> {
        let height = state.height.get();
        let committee = self.signers(height).ok_or(Rejected::Pruned { height })?.committee();
        let index = slot as usize;
        let member = committee.slots().get(index).ok_or(Rejected::NotAMember)?;
        let message = state.message().map_err(|_| Rejected::InvalidState)?;
        let result = match committee.tables() {
            Some(tables) => signature.verify_prepared(&member.key, &tables[index], &message),
            None => signature.verify(&member.key, &message),
        };
        result.map_err(|source| Rejected::InvalidSignature { slot, height, source })
    }

    /// Re-inserts a record read back from storage (already verified when written). The
    /// committees come back with the application's replay of the finalized chain.
    pub(super) fn restore(&mut self, record: Record) {
        match record {
            Record::State(state) => {
                let height = state.height.get();
                self.tip = Some(self.tip.map_or(height, |tip| tip.max(height)));
                self.states.insert(height, state);
            }
            Record::Signature { height, slot, signature } => {
                self.signatures.entry(height).or_default().insert(slot, signature);
            }
        }
    }

    /// Learns our own finalized state and the committee that signs it, and signs it with
    /// `signer` (this validator's key) if we are a member. Returns the records to persist:
    /// nothing (and no signing) if the state is already known (a replay after a restart) or
    /// below retention.
    pub(super) fn own(
        &mut self,
        state: &LightClientState,
        committee: &Arc<CommitteeRecord>,
        signer: &SecretKey,
    ) -> Result<OwnOutcome, Rejected> {
        let height = state.height.get();
        let epoch = self.epoch_of(height);
        self.committees.entry(epoch).or_insert_with(|| Signers::new(committee.clone()));
        if let Some(known) = self.states.get(&height) {
            if known != state {
                return Err(Rejected::OwnStateChanged { height });
            }
            return Ok(OwnOutcome::default());
        }
        if !self.retained(height) {
            return Ok(OwnOutcome::default());
        }
        let message = state.message().map_err(|_| Rejected::InvalidState)?;
        self.states.insert(height, state.clone());
        self.tip = Some(self.tip.map_or(height, |tip| tip.max(height)));
        let mut outcome = OwnOutcome::default();
        outcome.records.push(Record::State(state.clone()));
        if let Ok(slot) = self.slot(height, &self.public_key.clone()) {
            let seat = self.signers(height).and_then(|s| s.committee().slots().get(slot as usize));
            if seat.is_some_and(|seat| seat.key == *signer.public_key()) {
                outcome.records.push(self.insert(height, slot, signer.sign(&message)));
            } else {
                outcome.wrong_key = true;
            }
        }
        let held = self.pending.remove(&height).unwrap_or_default();
        self.pending_len -= held.len();
        for (peer, pending) in held {
            let checked = self.slot(height, &peer).and_then(|slot| {
                self.check(slot, &pending.state, &pending.signature).map(|()| slot)
            });
            match checked {
                Ok(slot) => outcome.records.push(self.insert(height, slot, pending.signature)),
                Err(rejected) => outcome.rejected.push((peer, rejected)),
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

    /// A peer's gossiped signature, attributed to its slot in the committee of the height.
    pub(super) fn peer(
        &mut self,
        peer: &ed25519::PublicKey,
        gossip: Gossip,
    ) -> Result<(Accepted, Option<Record>), Rejected> {
        let height = gossip.height.get();
        if self.states.contains_key(&height) {
            let slot = self.slot(height, peer)?;
            if self.signatures.get(&height).is_some_and(|s| s.contains_key(&slot)) {
                return Ok((Accepted::Duplicate, None));
            }
            self.check(slot, &gossip.state, &gossip.signature)?;
            return Ok((Accepted::Stored, Some(self.insert(height, slot, gossip.signature))));
        }
        if !self.retained(height) || self.tip.is_some_and(|tip| height <= tip) {
            return Err(Rejected::Pruned { height });
        }
        let tip = self.tip.unwrap_or(0);
        if height > tip.saturating_add(self.max_ahead) {
            return Err(Rejected::TooFarAhead { height, tip });
        }
        if self.pending.get(&height).is_some_and(|held| held.contains_key(peer)) {
            return Ok((Accepted::Duplicate, None));
        }
        if self.pending_len >= self.max_pending {
            return Err(Rejected::PendingFull);
        }
        let pending = Pending { state: gossip.state, signature: gossip.signature };
        self.pending.entry(height).or_default().insert(peer.clone(), pending);
        self.pending_len += 1;
        Ok((Accepted::Pending, None))
    }

    /// Drops what retention no longer keeps; returns the floor.
    pub(super) fn prune(&mut self) -> u64 {
        let floor = self.floor();
        let epoch_length = self.epoch_length;
        let keep = |h: &u64| *h >= floor || epoch::is_last(Height(*h), epoch_length);
        self.states.retain(|h, _| keep(h));
        self.signatures.retain(|h, _| keep(h));
        // Held signatures at or below our tip whose state we do not have will never verify.
        if let Some(tip) = self.tip {
            self.pending = self.pending.split_off(&tip.saturating_add(1));
            self.pending_len = self.pending.values().map(BTreeMap::len).sum();
        }
        floor
    }

    /// Our own signatures at `from..=to`, as gossip.
    pub(super) fn own_gossip(&self, from: u64, to: u64) -> Vec<Gossip> {
        self.states
            .range(from..=to)
            .filter_map(|(height, state)| {
                let slot = self.slot(*height, &self.public_key).ok()?;
                let signature = *self.signatures.get(height)?.get(&slot)?;
                Some(Gossip { height: Height(*height), state: state.clone(), signature })
            })
            .take(MAX_BATCH)
            .collect()
    }

    /// The lowest height of the catch-up window.
    fn catch_up_low(&self, tip: u64) -> u64 {
        self.floor().max(tip.saturating_sub(self.catch_up.saturating_sub(1)))
    }

    /// The other members of the committees of the catch-up window (whom we ask for what we
    /// miss).
    pub(super) fn peers(&self) -> Vec<ed25519::PublicKey> {
        let Some(tip) = self.tip else { return Vec::new() };
        let low = self.epoch_of(self.catch_up_low(tip));
        let mut peers: Vec<_> = self
            .committees
            .range(low..=self.epoch_of(tip))
            .flat_map(|(_, signers)| signers.slots.keys())
            .filter(|peer| **peer != self.public_key)
            .cloned()
            .collect();
        peers.sort();
        peers.dedup();
        peers
    }

    /// The next range of heights to ask `peer` for: the first height (from its cursor, wrapping
    /// around the catch-up window) where we have our state, `peer` is in its committee, and we
    /// lack its signature.
    pub(super) fn missing(&mut self, peer: &ed25519::PublicKey) -> Option<(u64, u64)> {
        let tip = self.tip?;
        let low = self.catch_up_low(tip);
        let start = self.cursors.get(peer).copied().unwrap_or(low).clamp(low, tip);
        let lacks = |h: &u64| {
            self.states.contains_key(h)
                && self.slot(*h, peer).is_ok_and(|slot| {
                    !self.signatures.get(h).is_some_and(|s| s.contains_key(&slot))
                })
        };
        let from = (start..=tip).find(lacks).or_else(|| (low..start).find(lacks))?;
        let to = tip.min(from + MAX_REQUEST_SPAN - 1);
        self.cursors.insert(peer.clone(), to + 1);
        Some((from, to))
    }

    /// The verified signatures at `height`, by slot, with their slots' keys.
    pub(super) fn signatures_at(&self, height: u64) -> Vec<(u32, PublicKey, Signature)> {
        let Some(signers) = self.signers(height) else { return Vec::new() };
        let slots = signers.committee().slots();
        self.signatures
            .get(&height)
            .into_iter()
            .flatten()
            .filter_map(|(&slot, signature)| {
                slots.get(slot as usize).map(|member| (slot, member.key, *signature))
            })
            .collect()
    }

    /// Our state at `height` with its signatures, once they carry a quorum of its committee's
    /// weight.
    pub(super) fn quorum_at(&self, height: u64) -> Option<(LightClientState, Vec<StateSignature>)> {
        let state = self.states.get(&height)?;
        let signatures = self.signatures.get(&height)?;
        let committee = self.signers(height)?.committee();
        let slots = committee.slots();
        let weight: u128 = signatures
            .keys()
            .filter_map(|slot| slots.get(*slot as usize))
            .map(|member| u128::from(member.weight))
            .sum();
        if !committee.is_quorum(weight) {
            return None;
        }
        let signatures = signatures
            .iter()
            .filter(|(slot, _)| (**slot as usize) < slots.len())
            .map(|(&slot, &signature)| StateSignature { slot, signature })
            .collect();
        Some((state.clone(), signatures))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use alloy_primitives::B256;
    use commonware_cryptography::Signer as _;
    use trestle_light_client::{ChainId, Epoch, SecretKey, rotation::CommitteeSeat};

    use super::*;

    /// `book.own` of our state at `height`, signed with slot 0's key.
    fn learn_own(book: &mut Book, f: &Fixture, height: u64) -> Result<OwnOutcome, Rejected> {
        book.own(&f.state(height), &f.record, &f.light[0])
    }

    /// `n` validators' keys and the configuration of validator 0's actor (shared with the
    /// actor's tests).
    pub(in crate::signatures) struct Fixture {
        pub(in crate::signatures) light: Vec<SecretKey>,
        pub(in crate::signatures) peers: Vec<ed25519::PublicKey>,
        pub(in crate::signatures) config: Config,
        pub(in crate::signatures) record: Arc<CommitteeRecord>,
    }

    pub(in crate::signatures) fn fixture(n: usize) -> Fixture {
        let light: Vec<_> = (0..n).map(|i| SecretKey::from_seed([i as u8 + 1; 32])).collect();
        let peers: Vec<_> =
            (0..n as u64).map(|i| ed25519::PrivateKey::from_seed(i).public_key()).collect();
        let seats = peers
            .iter()
            .zip(&light)
            .map(|(peer, key)| CommitteeSeat {
                consensus_key: B256::from_slice(peer.as_ref()),
                light_client_key: *key.public_key(),
                p2p_address: None,
            })
            .collect();
        let record = Arc::new(CommitteeRecord::new(seats, n).expect("committee"));
        let config = Config::new(peers[0].clone(), light[0].clone(), "test".into());
        Fixture { light, peers, config, record }
    }

    impl Fixture {
        pub(in crate::signatures) fn state(&self, height: u64) -> LightClientState {
            LightClientState {
                chain_id: ChainId(1),
                epoch: Epoch(0),
                height: Height(height),
                history_root: B256::from(alloy_primitives::U256::from(height)),
                next_committee: self.record.commitment(),
            }
        }

        pub(in crate::signatures) fn signed(
            &self,
            slot: usize,
            state: &LightClientState,
        ) -> Signature {
            self.light[slot].sign(&state.message().expect("message"))
        }

        pub(in crate::signatures) fn gossip(&self, slot: usize, height: u64) -> Gossip {
            let state = self.state(height);
            Gossip { height: Height(height), signature: self.signed(slot, &state), state }
        }
    }

    #[test]
    fn signatures_are_checked_against_our_state_and_the_senders_slot() {
        let f = fixture(4);
        let mut book = Book::new(&f.config);
        let own = learn_own(&mut book, &f, 1).expect("own");
        assert_eq!(own.records.len(), 2);
        assert!(book.quorum_at(1).is_none());

        assert_eq!(book.peer(&f.peers[1], f.gossip(1, 1)).expect("valid").0, Accepted::Stored);
        assert_eq!(book.peer(&f.peers[1], f.gossip(1, 1)).expect("dup").0, Accepted::Duplicate);
        // Slot 1's signature replayed by slot 2.
        assert!(matches!(
            book.peer(&f.peers[2], f.gossip(1, 1)),
            Err(Rejected::InvalidSignature { slot: 2, height: 1, .. })
        ));
        // A valid signature on another state at our height.
        let mut forged = f.gossip(2, 1);
        forged.state.history_root = B256::repeat_byte(0xbd);
        forged.signature = f.signed(2, &forged.state);
        assert_eq!(
            book.peer(&f.peers[2], forged),
            Err(Rejected::DifferentState { slot: 2, height: 1 })
        );
        assert!(book.quorum_at(1).is_none(), "2 of 4 is no quorum");
        book.peer(&f.peers[3], f.gossip(3, 1)).expect("valid");
        let (state, quorum) = book.quorum_at(1).expect("3 of 4");
        assert_eq!(state, f.state(1));
        assert_eq!(quorum.iter().map(|s| s.slot).collect::<Vec<_>>(), vec![0, 1, 3]);
        trestle_light_client::verify_quorum(f.record.light_client(), &state, &quorum)
            .expect("valid");
        let listed = book.signatures_at(1);
        assert_eq!(listed.iter().map(|s| s.0).collect::<Vec<_>>(), vec![0, 1, 3]);
        assert_eq!(listed[1].1, *f.light[1].public_key());
        // Our own state changing is refused; a misconfigured key is caught.
        // Our own state changing is refused (and a replay of the same one is a no-op).
        let mut changed = f.state(1);
        changed.history_root = B256::ZERO;
        assert_eq!(
            book.own(&changed, &f.record, &f.light[0]).err(),
            Some(Rejected::OwnStateChanged { height: 1 })
        );
        assert!(learn_own(&mut book, &f, 1).expect("replay").records.is_empty());
    }

    #[test]
    fn early_signatures_wait_for_our_state_within_bounds() {
        let mut f = fixture(4);
        f.config.max_ahead = 5;
        f.config.max_pending = 3;
        let mut book = Book::new(&f.config);
        learn_own(&mut book, &f, 0).expect("own");
        assert_eq!(book.peer(&f.peers[1], f.gossip(1, 3)).expect("held").0, Accepted::Pending);
        let mut forged = f.gossip(2, 3);
        forged.state.history_root = B256::repeat_byte(0xbd);
        forged.signature = f.signed(2, &forged.state);
        assert_eq!(book.peer(&f.peers[2], forged).expect("held").0, Accepted::Pending);
        let mut invalid = f.gossip(3, 3);
        invalid.signature = f.signed(1, &invalid.state);
        assert_eq!(book.peer(&f.peers[3], invalid).expect("held").0, Accepted::Pending);
        assert_eq!(book.peer(&f.peers[1], f.gossip(1, 4)), Err(Rejected::PendingFull));
        assert_eq!(
            book.peer(&f.peers[1], f.gossip(1, 6)),
            Err(Rejected::TooFarAhead { height: 6, tip: 0 })
        );
        let outcome = learn_own(&mut book, &f, 3).expect("own");
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
        f.config.epoch_length = NonZeroU64::new(4).expect("non-zero");
        let mut book = Book::new(&f.config);
        for h in 0..=20 {
            learn_own(&mut book, &f, h).expect("own");
            book.peer(&f.peers[1], f.gossip(1, h)).expect("valid");
            book.prune();
        }
        let kept: Vec<u64> = book.signatures.keys().copied().collect();
        assert_eq!(kept, vec![3, 7, 11, 15, 16, 17, 18, 19, 20]);
        assert_eq!(book.states.keys().copied().collect::<Vec<_>>(), kept);
        // A pruned height is neither stored again nor requested.
        assert_eq!(learn_own(&mut book, &f, 2).expect("ignored").records.len(), 0);
        assert_eq!(book.peer(&f.peers[1], f.gossip(1, 2)), Err(Rejected::Pruned { height: 2 }));
        assert!(f.config.is_epoch_end(7) && !f.config.is_epoch_end(8));
    }

    #[test]
    fn catch_up_requests_cycle_through_the_gaps() {
        let mut f = fixture(2);
        f.config.catch_up = 100;
        let mut book = Book::new(&f.config);
        for h in 0..80 {
            learn_own(&mut book, &f, h).expect("own");
            if h % 10 != 0 {
                book.peer(&f.peers[1], f.gossip(1, h)).expect("valid");
            }
        }
        assert_eq!(book.missing(&f.peers[1]), Some((0, 31)));
        assert_eq!(book.missing(&f.peers[1]), Some((40, 71)));
        assert_eq!(book.missing(&f.peers[1]), Some((0, 31)), "wraps around");
        assert_eq!(book.own_gossip(5, 9).len(), 5);
        for h in (0..80).step_by(10) {
            book.peer(&f.peers[1], f.gossip(1, h)).expect("valid");
        }
        assert_eq!(book.missing(&f.peers[1]), None);
    }
}
