//! The evidence `trestle confirm` verifies for a block record, with a committee of 100: built
//! with the light-client kernel (no RPC), shared by the `confirm` and `e2e` benchmarks.

use alloy_primitives::{B256, keccak256};
use trestle_light_client::{
    Anchor, ChainId, Committee, Epoch, Evidence, Header, Height, HistoryTree, LightClientState,
    Namespace, PayloadTree, SecretKey, StateSignature, Subject, Transaction, View,
    abi::BlockRecord, minimal_quorum, transaction::DEFAULT_MAX_PAYLOAD,
};

/// Committee size.
pub(crate) const VALIDATORS: u32 = 100;
/// Heights in the synthetic history (the proof's depth grows with its log).
const HEIGHTS: u64 = 1_000;
/// The block namespace of the record confirmed.
pub(crate) const NAMESPACE: Namespace = Namespace(1_000_901);

/// Evidence for a block record at height 500 of 1,000 signed by a minimal quorum of 100
/// validators, the genesis anchor, and the subject.
pub(crate) fn setup() -> (Evidence, Anchor, Subject) {
    let keys: Vec<SecretKey> = (0..VALIDATORS)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&i.to_be_bytes());
            SecretKey::from_seed(seed)
        })
        .collect();
    let committee =
        Committee::equal_weight(keys.iter().map(|k| *k.public_key()), 100).expect("valid");
    let record = BlockRecord {
        chainId: 901,
        number: 7,
        hash: keccak256("block 7"),
        parentHash: keccak256("block 6"),
    };
    let target = Transaction::new(NAMESPACE, record.encode());
    let included_at = HEIGHTS / 2;
    let mut history = HistoryTree::new();
    let mut parent = B256::ZERO;
    let mut included = None;
    for height in 0..HEIGHTS {
        // 64 transactions over 8 namespaces per block; the target among them at one height.
        let mut txs: Vec<Transaction> = (0..64u64)
            .map(|i| {
                Transaction::new(Namespace(1_000_895 + i % 8), format!("{height}/{i}").into_bytes())
            })
            .collect();
        if height == included_at {
            txs.push(target.clone());
        }
        let payload = PayloadTree::new(&txs);
        let header = Header {
            chain_id: ChainId(31_337),
            epoch: Epoch(0),
            height: Height(height),
            view: View(height),
            timestamp_ms: height,
            parent,
            payload_root: payload.root(),
            history_root: history.root(),
            committee: committee.commitment_bytes(),
        };
        if height == included_at {
            let proof = payload.transaction_proof_by_hash(&target.hash()).expect("included");
            included = Some((header.encode(), proof.encode()));
        }
        parent = header.hash();
        history.append(&parent);
    }
    let (header, tx_proof) = included.expect("built");
    let root_height = Height(HEIGHTS - 1);
    let state = LightClientState {
        chain_id: ChainId(31_337),
        epoch: Epoch(0),
        height: root_height,
        history_root: history.root_at(root_height).expect("covered"),
        next_committee: committee.commitment_bytes(),
    };
    let message = state.message().expect("valid");
    let signatures: Vec<StateSignature> = keys
        .iter()
        .enumerate()
        .map(|(slot, key)| StateSignature { slot: slot as u32, signature: key.sign(&message) })
        .collect();
    // What `trestle confirm` verifies: a minimal quorum (67 of 100).
    let signatures = minimal_quorum(&committee, &signatures).expect("quorum");
    let evidence = Evidence {
        transaction: target.encode().into(),
        header: header.into(),
        tx_proof: tx_proof.into(),
        history_proof: history
            .prove(Height(included_at), root_height)
            .expect("covered")
            .encode()
            .into(),
        state: state.encode().into(),
        signatures,
        handoffs: Vec::new(),
    };
    let anchor = Anchor {
        chain_id: ChainId(31_337),
        epoch: Epoch(0),
        committee,
        max_payload: DEFAULT_MAX_PAYLOAD,
        epoch_length: trestle_light_client::epoch::ENDLESS,
    };
    (evidence, anchor, Subject::Block { number: record.number, hash: record.hash })
}
