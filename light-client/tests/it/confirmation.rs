//! Native confirmation (`confirmation`): valid evidence confirms a block record and a
//! transaction; every way evidence can be wrong gives its typed error.

use alloy_primitives::{B256, Bytes, keccak256};
use trestle_light_client::{
    Anchor, ChainId, Committee, Epoch, Evidence, Header, Height, HistoryTree, LightClientState,
    Namespace, PayloadTree, SecretKey, StateSignature, Subject, Transaction, Verdict, View,
    abi::BlockRecord,
    confirmation::{ConfirmError, verify_confirmation},
    history::HistoryError,
    payload::PayloadError,
    quorum::QuorumError,
    transaction::DEFAULT_MAX_PAYLOAD,
};

const CHAIN: ChainId = ChainId(7);
const NAMESPACE: Namespace = Namespace(1_000_901);

/// A small chain built with the light-client kernel: 4 signers, 6 headers, a block record and
/// a plain transaction at height 3, the state of height 5 signed by everyone.
struct Fixture {
    keys: Vec<SecretKey>,
    anchor: Anchor,
    record: BlockRecord,
    record_tx: Transaction,
    plain_tx: Transaction,
    evidence: Evidence,
    state: LightClientState,
}

fn record(number: u64) -> BlockRecord {
    BlockRecord {
        chainId: 901,
        number,
        hash: keccak256(format!("rollup block {number}")),
        parentHash: keccak256(format!("rollup block {}", number.wrapping_sub(1))),
    }
}

fn sign(keys: &[SecretKey], slots: &[u32], state: &LightClientState) -> Vec<StateSignature> {
    let message = state.message().unwrap();
    slots
        .iter()
        .map(|&slot| StateSignature { slot, signature: keys[slot as usize].sign(&message) })
        .collect()
}

fn anchor_of(committee: Committee) -> Anchor {
    Anchor {
        chain_id: CHAIN,
        epoch: Epoch(0),
        committee,
        max_payload: DEFAULT_MAX_PAYLOAD,
        epoch_length: trestle_light_client::epoch::ENDLESS,
    }
}

impl Fixture {
    fn new() -> Self {
        let keys: Vec<SecretKey> = (1..=4u8).map(|i| SecretKey::from_seed([i; 32])).collect();
        let committee = Committee::equal_weight(keys.iter().map(|k| *k.public_key()), 8).unwrap();
        let record = record(42);
        let record_tx = Transaction::new(NAMESPACE, record.encode());
        let plain_tx = Transaction::new(NAMESPACE, b"not a record".to_vec());
        let other = Transaction::new(Namespace(5), b"another rollup".to_vec());
        let mut history = HistoryTree::new();
        let mut parent = B256::ZERO;
        let mut proof = None;
        let mut header_bytes = Vec::new();
        for height in 0..=5u64 {
            let txs: Vec<Transaction> = if height == 3 {
                vec![other.clone(), plain_tx.clone(), record_tx.clone()]
            } else {
                vec![Transaction::new(Namespace(5), format!("filler {height}").into_bytes())]
            };
            let payload = PayloadTree::new(&txs);
            let header = Header {
                chain_id: CHAIN,
                epoch: Epoch(0),
                height: Height(height),
                view: View(height * 2),
                timestamp_ms: 1_000 + height,
                parent,
                payload_root: payload.root(),
                history_root: history.root(),
                committee: committee.commitment_bytes(),
            };
            if height == 3 {
                proof = payload.transaction_proof_by_hash(&record_tx.hash());
                header_bytes = header.encode();
            }
            parent = header.hash();
            history.append(&parent);
        }
        let state = LightClientState {
            chain_id: CHAIN,
            epoch: Epoch(0),
            height: Height(5),
            history_root: history.root_at(Height(5)).unwrap(),
            next_committee: committee.commitment_bytes(),
        };
        let evidence = Evidence {
            transaction: record_tx.encode().into(),
            header: header_bytes.into(),
            tx_proof: proof.unwrap().encode().into(),
            history_proof: history.prove(Height(3), Height(5)).unwrap().encode().into(),
            state: state.encode().into(),
            signatures: sign(&keys, &[0, 1, 2, 3], &state),
            handoffs: Vec::new(),
        };
        Self { keys, anchor: anchor_of(committee), record, record_tx, plain_tx, evidence, state }
    }

    fn block_subject(&self) -> Subject {
        Subject::Block { number: self.record.number, hash: self.record.hash }
    }

    fn verify(&self, evidence: &Evidence) -> Result<Verdict, ConfirmError> {
        verify_confirmation(evidence, NAMESPACE, &self.block_subject(), &self.anchor)
    }
}

fn flip_last_byte(bytes: &Bytes) -> Bytes {
    let mut tampered = bytes.to_vec();
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    tampered.into()
}

#[test]
fn valid_evidence_confirms_a_block_record_and_a_transaction() {
    let f = Fixture::new();
    let verdict = f.verify(&f.evidence).unwrap();
    assert_eq!(verdict.tx_hash, f.record_tx.hash());
    assert_eq!(verdict.header.height, Height(3));
    assert_eq!(verdict.state, f.state);
    assert_eq!((verdict.signed_weight, verdict.total_weight), (3, 4));
    let record = verdict.block_record.unwrap();
    assert_eq!((record.chainId, record.number, record.hash), (901, 42, f.record.hash));
    // The verdict's quorum is minimal: three of four carry more than two thirds.
    assert_eq!(verdict.signatures.iter().map(|s| s.slot).collect::<Vec<_>>(), [0, 1, 2]);

    let by_hash = Subject::Transaction { hash: f.record_tx.hash() };
    let verdict = verify_confirmation(&f.evidence, NAMESPACE, &by_hash, &f.anchor).unwrap();
    assert_eq!(verdict.block_record, None);

    // The evidence survives its JSON form (what `trestle confirm --json` prints).
    #[cfg(feature = "serde")]
    {
        let json = serde_json::to_string(&f.evidence).unwrap();
        let back: Evidence = serde_json::from_str(&json).unwrap();
        assert!(f.verify(&back).is_ok());
    }
}

#[test]
fn the_wrong_subject_is_not_confirmed() {
    let f = Fixture::new();
    let other_hash = Subject::Transaction { hash: f.plain_tx.hash() };
    assert!(matches!(
        verify_confirmation(&f.evidence, NAMESPACE, &other_hash, &f.anchor),
        Err(ConfirmError::WrongTransaction { .. })
    ));
    let made_up = Subject::Block { number: 42, hash: keccak256("made up") };
    assert!(matches!(
        verify_confirmation(&f.evidence, NAMESPACE, &made_up, &f.anchor),
        Err(ConfirmError::WrongBlock { expected_number: 42, .. })
    ));
    assert!(matches!(
        verify_confirmation(&f.evidence, Namespace(5), &f.block_subject(), &f.anchor),
        Err(ConfirmError::WrongNamespace { expected: 5, found: 1_000_901 })
    ));
    // A transaction of the namespace that is not a block record is not a block.
    let mut plain = f.evidence.clone();
    plain.transaction = f.plain_tx.encode().into();
    assert!(matches!(f.verify(&plain), Err(ConfirmError::NotABlockRecord(_))));
}

#[test]
fn tampered_or_malformed_proofs_give_typed_errors() {
    let f = Fixture::new();
    let mut e = f.evidence.clone();
    e.tx_proof = flip_last_byte(&e.tx_proof);
    assert!(matches!(f.verify(&e), Err(ConfirmError::Inclusion(PayloadError::NamespacePath(_)))));

    let mut e = f.evidence.clone();
    e.history_proof = flip_last_byte(&e.history_proof);
    assert!(matches!(f.verify(&e), Err(ConfirmError::History(HistoryError::Path(_)))));

    // A header with another payload root: the transaction proof no longer leads to it.
    let mut header = Header::decode(&f.evidence.header).unwrap();
    header.payload_root = keccak256("forged");
    let mut e = f.evidence.clone();
    e.header = header.encode().into();
    assert!(matches!(f.verify(&e), Err(ConfirmError::Inclusion(_))));

    // A state over another history: the header is not in it.
    let mut state = f.state.clone();
    state.history_root = keccak256("forged history");
    let mut e = f.evidence.clone();
    e.state = state.encode().into();
    e.signatures = sign(&f.keys, &[0, 1, 2, 3], &state);
    assert!(matches!(f.verify(&e), Err(ConfirmError::History(_))));

    // Non-canonical bytes (a trailing byte) are refused before anything else.
    for field in 0..5 {
        let mut e = f.evidence.clone();
        let target = match field {
            0 => &mut e.transaction,
            1 => &mut e.header,
            2 => &mut e.tx_proof,
            3 => &mut e.history_proof,
            _ => &mut e.state,
        };
        let mut longer = target.to_vec();
        longer.push(0);
        *target = longer.into();
        let result = f.verify(&e);
        let expected = match field {
            0 => matches!(result, Err(ConfirmError::Transaction(_))),
            1 => matches!(result, Err(ConfirmError::Header(_))),
            2 => matches!(result, Err(ConfirmError::TransactionProof(_))),
            3 => matches!(result, Err(ConfirmError::HistoryProofEncoding(_))),
            _ => matches!(result, Err(ConfirmError::State(_))),
        };
        assert!(expected, "field {field}: {result:?}");
    }
}

#[test]
fn signatures_must_be_a_quorum_of_the_anchor() {
    let f = Fixture::new();
    let mut e = f.evidence.clone();
    e.signatures = sign(&f.keys, &[0, 2], &f.state);
    assert!(matches!(
        f.verify(&e),
        Err(ConfirmError::Quorum(QuorumError::InsufficientWeight { signed: 2, total: 4 }))
    ));
    e.signatures = sign(&f.keys, &[1, 3, 3], &f.state);
    assert!(matches!(
        f.verify(&e),
        Err(ConfirmError::Quorum(QuorumError::InsufficientWeight { signed: 2, total: 4 }))
    ));

    // A signature on another state is invalid: skipped while the others still carry a quorum.
    let mut other = f.state.clone();
    other.height = Height(6);
    let mut e = f.evidence.clone();
    e.signatures[1] = sign(&f.keys, &[1], &other)[0];
    let verdict = f.verify(&e).unwrap();
    assert_eq!(verdict.signatures.iter().map(|s| s.slot).collect::<Vec<_>>(), [0, 2, 3]);
    // Two invalid ones leave half the weight: not confirmed, and the valid weight is reported.
    e.signatures[2] = sign(&f.keys, &[2], &other)[0];
    assert!(matches!(
        f.verify(&e),
        Err(ConfirmError::Quorum(QuorumError::InsufficientWeight { signed: 2, total: 4 }))
    ));
}

#[test]
fn the_anchor_decides_which_committee_and_network_count() {
    let f = Fixture::new();
    // Another committee (another genesis): the header does not commit to it.
    let strangers: Vec<SecretKey> = (11..=14u8).map(|i| SecretKey::from_seed([i; 32])).collect();
    let committee = Committee::equal_weight(strangers.iter().map(|k| *k.public_key()), 8).unwrap();
    assert!(matches!(
        f.verify_with(&anchor_of(committee)),
        Err(ConfirmError::WrongCommittee { .. })
    ));

    let mut anchor = f.anchor.clone();
    anchor.chain_id = ChainId(8);
    assert!(matches!(
        f.verify_with(&anchor),
        Err(ConfirmError::WrongChain { what: "header", expected: 8, found: 7 })
    ));
    // An anchor of a later epoch: its committee does not sign this epoch's state (the header
    // of an earlier epoch alone would be fine, see handoff.rs).
    let mut anchor = f.anchor.clone();
    anchor.epoch = Epoch(1);
    assert!(matches!(f.verify_with(&anchor), Err(ConfirmError::WrongEpoch { what: "state", .. })));

    // The signers of the state must be the anchor's: a quorum of strangers is no quorum.
    let mut e = f.evidence.clone();
    e.signatures = sign(&strangers, &[0, 1, 2, 3], &f.state);
    assert!(matches!(
        f.verify(&e),
        Err(ConfirmError::Quorum(QuorumError::InsufficientWeight { signed: 0, total: 4 }))
    ));
}

impl Fixture {
    fn verify_with(&self, anchor: &Anchor) -> Result<Verdict, ConfirmError> {
        verify_confirmation(&self.evidence, NAMESPACE, &self.block_subject(), anchor)
    }
}
