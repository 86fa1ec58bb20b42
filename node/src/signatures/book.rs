//! The signatures actor's book of states and signatures: pure (no I/O, no clock), so every
//! rule (verification against our own state and the sender's slot, the bounded buffer of early
//! signatures, retention, catch-up ranges) is unit-tested directly.

use std::{collections::BTreeMap, num::NonZeroU64};

use commonware_cryptography::ed25519;
use trestle_light_client::{
    Committee, Height, LightClientState, PublicKey, SecretKey, Signature, StateSignature, epoch,
};

use super::{
    Config, Rejected,
    record::Record,
    wire::{Gossip, MAX_BATCH, MAX_REQUEST_SPAN},
};

/// A peer's signature held until our own state at its height is known.
#[derive(Clone, Debug)]
pub(super) struct Pending {
    peer: ed25519::PublicKey,
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

/// The in-memory book of states and signatures (pure: no I/O), with the retention rules.
pub(super) struct Book {
    committee: Committee,
    own_slot: u32,
    retention: u64,
    epoch_length: NonZeroU64,
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
    pub(super) tip: Option<u64>,
}

/// Outcome of learning our own state at a height.
#[derive(Debug, Default)]
pub(super) struct OwnOutcome {
    /// Records to persist (state first), empty if the state was already known or is pruned.
    pub(super) records: Vec<Record>,
    /// Held signatures that failed verification, with the peers that sent them.
    pub(super) rejected: Vec<(ed25519::PublicKey, Rejected)>,
}

impl Book {
    /// An empty book for the validator of `own_slot`.
    pub(super) fn new(config: &Config, own_slot: u32) -> Self {
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

    /// Whether `height` is the last of its epoch (kept forever).
    pub(super) fn is_epoch_end(&self, height: u64) -> bool {
        epoch::is_last(Height(height), self.epoch_length)
    }

    /// Lowest height kept by retention (epoch ends below it are kept too).
    fn floor(&self) -> u64 {
        self.tip.map_or(0, |tip| tip.saturating_sub(self.retention - 1))
    }

    fn retained(&self, height: u64) -> bool {
        height >= self.floor() || self.is_epoch_end(height)
    }

    /// Verifies `signature` of `slot` on `state`.
    pub(super) fn verify(
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
    pub(super) fn restore(&mut self, record: Record) {
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

    /// Learns our own finalized state and signs it with `signer` (this validator's key, checked
    /// against our slot when the actor starts). Returns the records to persist: nothing (and
    /// no signing) if the state is already known (a replay after a restart) or below retention.
    pub(super) fn own(
        &mut self,
        state: &LightClientState,
        signer: &SecretKey,
    ) -> Result<OwnOutcome, Rejected> {
        let height = state.height.get();
        if let Some(known) = self.states.get(&height) {
            if known != state {
                return Err(Rejected::OwnStateChanged { height });
            }
            return Ok(OwnOutcome::default());
        }
        if !self.retained(height) {
            return Ok(OwnOutcome::default());
        }
        let signature = signer.sign(&state.message().map_err(|_| Rejected::InvalidState)?);
        self.states.insert(height, state.clone());
        self.tip = Some(self.tip.map_or(height, |tip| tip.max(height)));
        let mut outcome = OwnOutcome::default();
        outcome.records.push(Record::State(state.clone()));
        outcome.records.push(self.insert(height, self.own_slot, signature));
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
    pub(super) fn peer(
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
    pub(super) fn prune(&mut self) -> u64 {
        let floor = self.floor();
        let epoch_length = self.epoch_length;
        let keep = |h: &u64| *h >= floor || epoch::is_last(Height(*h), epoch_length);
        self.states.retain(|h, _| keep(h));
        self.signatures.retain(|h, _| keep(h));
        let tip = self.tip;
        // Held signatures at or below our tip whose state we do not have will never verify.
        self.pending.retain(|(h, _), _| tip.is_none_or(|tip| *h > tip));
        floor
    }

    /// Our own signatures at `from..=to`, as gossip.
    pub(super) fn own_gossip(&self, from: u64, to: u64) -> Vec<Gossip> {
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
    pub(super) fn missing(&mut self, slot: u32) -> Option<(u64, u64)> {
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

    /// The verified signatures at `height`, by slot, with their slots' keys.
    pub(super) fn signatures_at(&self, height: u64) -> Vec<(u32, PublicKey, Signature)> {
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

    /// Our state at `height` with its signatures, once they carry a quorum's weight.
    pub(super) fn quorum_at(&self, height: u64) -> Option<(LightClientState, Vec<StateSignature>)> {
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

#[cfg(test)]
pub(super) mod tests {
    use alloy_primitives::B256;
    use commonware_cryptography::Signer as _;
    use trestle_light_client::{ChainId, Epoch, SecretKey};

    use super::*;

    /// `book.own` of our state at `height`, signed with slot 0's key.
    fn learn_own(book: &mut Book, f: &Fixture, height: u64) -> Result<OwnOutcome, Rejected> {
        book.own(&f.state(height), &f.light[0])
    }

    /// `n` validators' keys and the configuration of validator 0's actor (shared with the
    /// actor's tests).
    pub(in crate::signatures) struct Fixture {
        pub(in crate::signatures) light: Vec<SecretKey>,
        pub(in crate::signatures) peers: Vec<ed25519::PublicKey>,
        pub(in crate::signatures) config: Config,
    }

    pub(in crate::signatures) fn fixture(n: usize) -> Fixture {
        let light: Vec<_> = (0..n).map(|i| SecretKey::from_seed([i as u8 + 1; 32])).collect();
        let peers: Vec<_> =
            (0..n as u64).map(|i| ed25519::PrivateKey::from_seed(i).public_key()).collect();
        let committee =
            Committee::equal_weight(light.iter().map(|k| *k.public_key()), n).expect("committee");
        let slots = peers.iter().enumerate().map(|(i, pk)| (pk.clone(), i as u32)).collect();
        let config =
            Config::new(peers[0].clone(), light[0].clone(), committee, slots, "test".into());
        Fixture { light, peers, config }
    }

    impl Fixture {
        pub(in crate::signatures) fn state(&self, height: u64) -> LightClientState {
            LightClientState {
                chain_id: ChainId(1),
                epoch: Epoch(0),
                height: Height(height),
                history_root: B256::from(alloy_primitives::U256::from(height)),
                next_committee: self.config.committee.commitment_bytes(),
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
        let mut book = Book::new(&f.config, 0);
        let own = learn_own(&mut book, &f, 1).expect("own");
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
        // Our own state changing is refused (and a replay of the same one is a no-op).
        let mut changed = f.state(1);
        changed.history_root = B256::ZERO;
        assert_eq!(
            book.own(&changed, &f.light[0]).err(),
            Some(Rejected::OwnStateChanged { height: 1 })
        );
        assert!(learn_own(&mut book, &f, 1).expect("replay").records.is_empty());
    }

    #[test]
    fn early_signatures_wait_for_our_state_within_bounds() {
        let mut f = fixture(4);
        f.config.max_ahead = 5;
        f.config.max_pending = 3;
        let mut book = Book::new(&f.config, 0);
        learn_own(&mut book, &f, 0).expect("own");
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
        let mut book = Book::new(&f.config, 0);
        for h in 0..=20 {
            learn_own(&mut book, &f, h).expect("own");
            book.peer(&f.peers[1], 1, f.gossip(1, h)).expect("valid");
            book.prune();
        }
        let kept: Vec<u64> = book.signatures.keys().copied().collect();
        assert_eq!(kept, vec![3, 7, 11, 15, 16, 17, 18, 19, 20]);
        assert_eq!(book.states.keys().copied().collect::<Vec<_>>(), kept);
        // A pruned height is neither stored again nor requested.
        assert_eq!(learn_own(&mut book, &f, 2).expect("ignored").records.len(), 0);
        assert_eq!(book.peer(&f.peers[1], 1, f.gossip(1, 2)), Err(Rejected::Pruned { height: 2 }));
        assert!(f.config.is_epoch_end(7) && !f.config.is_epoch_end(8));
    }

    #[test]
    fn catch_up_requests_cycle_through_the_gaps() {
        let mut f = fixture(2);
        f.config.catch_up = 100;
        let mut book = Book::new(&f.config, 0);
        for h in 0..80 {
            learn_own(&mut book, &f, h).expect("own");
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
}
