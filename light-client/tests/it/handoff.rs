//! Committee hand-offs (`handoff`): an anchor at epoch 0 follows the signed last state of each
//! epoch to the next committee, and confirms a transaction of a later epoch signed only by that
//! committee; an anchor that moved on still confirms older transactions through a newer state;
//! every way a hand-off can be wrong is refused with its typed error.

use std::num::NonZeroU64;

use alloy_primitives::{B256, Bytes};
use trestle_light_client::{
    Anchor, ChainId, Committee, Epoch, Evidence, Header, Height, HistoryTree, LightClientState,
    Namespace, PayloadTree, SecretKey, StateSignature, Subject, Transaction, View,
    confirmation::{ConfirmError, verify_confirmation},
    handoff::{Handoff, HandoffError, follow_handoff, follow_handoffs},
    transaction::DEFAULT_MAX_PAYLOAD,
};

const CHAIN: ChainId = ChainId(7);
const NAMESPACE: Namespace = Namespace(9);
const LENGTH: u64 = 4;

fn keys(seeds: std::ops::RangeInclusive<u8>) -> Vec<SecretKey> {
    seeds.map(|i| SecretKey::from_seed([i; 32])).collect()
}

fn committee(keys: &[SecretKey]) -> Committee {
    Committee::equal_weight(keys.iter().map(|k| *k.public_key()), 8).unwrap()
}

fn sign(keys: &[SecretKey], state: &LightClientState) -> Vec<StateSignature> {
    let message = state.message().unwrap();
    (0..keys.len() as u32)
        .map(|slot| StateSignature { slot, signature: keys[slot as usize].sign(&message) })
        .collect()
}

fn anchor(committee: Committee) -> Anchor {
    Anchor {
        chain_id: CHAIN,
        epoch: Epoch(0),
        committee,
        max_payload: DEFAULT_MAX_PAYLOAD,
        epoch_length: NonZeroU64::new(LENGTH).unwrap(),
    }
}

/// Epoch 0 is run by `old` (keys 1..=4), epoch 1 by `new` (keys 3..=6): headers 0..=6, a
/// transaction at height 5 and an older one at height 2, the hand-off state at height 3 and
/// the state at height 6.
struct Chain {
    old: Vec<SecretKey>,
    new: Vec<SecretKey>,
    states: Vec<LightClientState>,
    header5: Bytes,
    tx: Transaction,
    tx_proof: Bytes,
    header2: Bytes,
    old_tx: Transaction,
    old_tx_proof: Bytes,
    history: HistoryTree,
}

fn chain() -> Chain {
    let (old, new) = (keys(1..=4), keys(3..=6));
    let (c0, c1) = (committee(&old), committee(&new));
    let tx = Transaction::new(NAMESPACE, b"a message across the hand-off".to_vec());
    let old_tx = Transaction::new(NAMESPACE, b"a message before the hand-off".to_vec());
    let mut history = HistoryTree::new();
    let mut states = Vec::new();
    let (mut parent, mut header5, mut tx_proof) = (B256::ZERO, Bytes::new(), Bytes::new());
    let (mut header2, mut old_tx_proof) = (Bytes::new(), Bytes::new());
    for height in 0..=6u64 {
        let epoch = Epoch(height / LENGTH);
        let current = if epoch.get() == 0 { &c0 } else { &c1 };
        let txs = match height {
            5 => vec![tx.clone()],
            2 => vec![old_tx.clone()],
            _ => Vec::new(),
        };
        let payload = PayloadTree::new(&txs);
        let header = Header {
            chain_id: CHAIN,
            epoch,
            height: Height(height),
            view: View(height + 1),
            timestamp_ms: height,
            parent,
            payload_root: payload.root(),
            history_root: history.root(),
            committee: current.commitment_bytes(),
        };
        if height == 5 {
            header5 = header.encode().into();
            tx_proof = payload.transaction_proof_by_hash(&tx.hash()).unwrap().encode().into();
        }
        if height == 2 {
            header2 = header.encode().into();
            old_tx_proof =
                payload.transaction_proof_by_hash(&old_tx.hash()).unwrap().encode().into();
        }
        parent = header.hash();
        history.append(&parent);
        // The last state of epoch 0 names C(1); every other names its own epoch's committee.
        let next = if height == LENGTH - 1 { &c1 } else { current };
        states.push(LightClientState {
            chain_id: CHAIN,
            epoch,
            height: Height(height),
            history_root: history.root_at(Height(height)).unwrap(),
            next_committee: next.commitment_bytes(),
        });
    }
    Chain { old, new, states, header5, tx, tx_proof, header2, old_tx, old_tx_proof, history }
}

impl Chain {
    /// Evidence of the transaction at height 5 (`recent`) or 2, proven into the state at
    /// height 6 signed by the new committee, with `handoffs`.
    fn evidence(&self, recent: bool, handoffs: Vec<Handoff>) -> Evidence {
        let (tx, header, tx_proof, height) = match recent {
            true => (&self.tx, &self.header5, &self.tx_proof, 5),
            false => (&self.old_tx, &self.header2, &self.old_tx_proof, 2),
        };
        Evidence {
            transaction: tx.encode().into(),
            header: header.clone(),
            tx_proof: tx_proof.clone(),
            history_proof: self.history.prove(Height(height), Height(6)).unwrap().encode().into(),
            state: self.states[6].encode().into(),
            signatures: sign(&self.new, &self.states[6]),
            handoffs,
        }
    }
}

fn handoff(state: &LightClientState, signers: &[SecretKey], next: &Committee) -> Handoff {
    Handoff {
        state: state.encode().into(),
        signatures: sign(signers, state),
        next_slots: next.slots().to_vec(),
        next_capacity: next.capacity() as u64,
    }
}

#[test]
fn an_anchor_follows_the_hand_off_and_confirms_under_the_next_committee() {
    let c = chain();
    let (c0, c1) = (committee(&c.old), committee(&c.new));
    let genesis = anchor(c0.clone());
    let to_one = handoff(&c.states[3], &c.old, &c1);
    let moved = follow_handoff(&genesis, &to_one).unwrap();
    assert_eq!((moved.epoch, &moved.committee), (Epoch(1), &c1));
    assert_eq!(follow_handoffs(&genesis, &[]).unwrap().epoch, Epoch(0));

    let evidence = c.evidence(true, vec![to_one.clone()]);
    let subject = Subject::Transaction { hash: c.tx.hash() };
    let verdict = verify_confirmation(&evidence, NAMESPACE, &subject, &genesis).unwrap();
    assert_eq!(verdict.state.epoch, Epoch(1));
    // Without the hand-off, the genesis committee does not sign epoch 1.
    let bare = Evidence { handoffs: Vec::new(), ..evidence.clone() };
    assert!(matches!(
        verify_confirmation(&bare, NAMESPACE, &subject, &genesis),
        Err(ConfirmError::WrongEpoch { .. })
    ));
    // A hand-off that does not apply makes the whole confirmation fail.
    let doubled = Evidence { handoffs: vec![to_one.clone(), to_one], ..evidence };
    assert!(matches!(
        verify_confirmation(&doubled, NAMESPACE, &subject, &genesis),
        Err(ConfirmError::Handoff(HandoffError::WrongEpoch { expected: 1, found: 0 }))
    ));
}

#[test]
fn an_anchor_that_moved_on_still_confirms_an_older_transaction() {
    let c = chain();
    let (c0, c1) = (committee(&c.old), committee(&c.new));
    let genesis = anchor(c0);
    let to_one = handoff(&c.states[3], &c.old, &c1);
    let moved = follow_handoff(&genesis, &to_one).unwrap();
    // The transaction of epoch 0, proven into epoch 1's state at height 6, signed by C(1).
    let evidence = c.evidence(false, Vec::new());
    let subject = Subject::Transaction { hash: c.old_tx.hash() };
    // Under the anchor at epoch 1 (a cached one) with no hand-off, and under the genesis
    // anchor with it: the header names C(0), which the history root vouches for.
    let verdict = verify_confirmation(&evidence, NAMESPACE, &subject, &moved).unwrap();
    assert_eq!((verdict.header.epoch, verdict.state.epoch), (Epoch(0), Epoch(1)));
    let walked = Evidence { handoffs: vec![to_one], ..evidence.clone() };
    verify_confirmation(&walked, NAMESPACE, &subject, &genesis).unwrap();
    // The genesis anchor without the hand-off does not trust epoch 1's state.
    assert!(matches!(
        verify_confirmation(&evidence, NAMESPACE, &subject, &genesis),
        Err(ConfirmError::WrongEpoch { what: "state", expected: 0, found: 1 })
    ));
    // A header of the anchor's epoch must still name the anchor's committee: epoch 1's header
    // at height 5 checked against an anchor claiming epoch 1 with C(0) fails.
    let impostor = Anchor { epoch: Epoch(1), ..genesis.clone() };
    let new_tx = c.evidence(true, Vec::new());
    let new_subject = Subject::Transaction { hash: c.tx.hash() };
    assert!(matches!(
        verify_confirmation(&new_tx, NAMESPACE, &new_subject, &impostor),
        Err(ConfirmError::WrongCommittee { .. })
    ));
}

#[test]
fn wrong_hand_offs_are_refused_with_typed_errors() {
    let c = chain();
    let (c0, c1) = (committee(&c.old), committee(&c.new));
    let genesis = anchor(c0.clone());
    let refused = |h: &Handoff| follow_handoff(&genesis, h).unwrap_err();

    // A mid-epoch state names the current committee: it hands nothing over.
    assert!(matches!(
        refused(&handoff(&c.states[2], &c.old, &c0)),
        HandoffError::NotLastHeight { epoch: 0, expected: 3, found: 2 }
    ));
    // Signed by the incoming committee instead of the outgoing one.
    assert!(matches!(refused(&handoff(&c.states[3], &c.new, &c1)), HandoffError::Quorum { .. }));
    // Members that are not the committee the state names.
    assert!(matches!(
        refused(&handoff(&c.states[3], &c.old, &c0)),
        HandoffError::NextCommitteeMismatch { epoch: 0, .. }
    ));
    let mut empty = handoff(&c.states[3], &c.old, &c1);
    empty.next_slots.clear();
    assert!(matches!(refused(&empty), HandoffError::Committee { .. }));
    // Another chain, another epoch, garbage bytes.
    let foreign = LightClientState { chain_id: ChainId(8), ..c.states[3].clone() };
    assert!(matches!(
        refused(&handoff(&foreign, &c.old, &c1)),
        HandoffError::WrongChain { expected: 7, found: 8 }
    ));
    assert!(matches!(
        refused(&handoff(&c.states[6], &c.new, &c1)),
        HandoffError::WrongEpoch { expected: 0, found: 1 }
    ));
    let mut garbage = handoff(&c.states[3], &c.old, &c1);
    garbage.state = Bytes::from_static(&[1, 2, 3]);
    assert!(matches!(refused(&garbage), HandoffError::State(_)));
    // A network of one endless epoch never hands over.
    let endless = Anchor { epoch_length: trestle_light_client::epoch::ENDLESS, ..genesis.clone() };
    assert!(matches!(
        follow_handoff(&endless, &handoff(&c.states[3], &c.old, &c1)),
        Err(HandoffError::Endless)
    ));
}
