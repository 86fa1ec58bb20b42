//! The evidence `trestle confirm` verifies for a block record, with a committee of 100, within
//! one epoch or across committee hand-offs: built with the light-client kernel (no RPC), shared
//! by the `confirm` and `e2e` benchmarks.

use alloy_primitives::{B256, keccak256};
use trestle_light_client::{
    Anchor, ChainId, Committee, Epoch, Evidence, Header, Height, HistoryTree, LightClientState,
    Namespace, PayloadTree, SecretKey, StateSignature, Subject, Transaction, View,
    abi::BlockRecord, handoff::Handoff, minimal_quorum, transaction::DEFAULT_MAX_PAYLOAD,
};

/// Committee size.
pub(crate) const VALIDATORS: u32 = 100;
/// Heights in the synthetic history (the proof's depth grows with its log).
const HEIGHTS: u64 = 1_000;
/// The block namespace of the record confirmed.
pub(crate) const NAMESPACE: Namespace = Namespace(1_000_901);

/// The keys of epoch `epoch`'s committee (a different committee each epoch).
fn epoch_keys(epoch: u64) -> Vec<SecretKey> {
    (0..VALIDATORS)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&i.to_be_bytes());
            seed[4..12].copy_from_slice(&epoch.to_be_bytes());
            SecretKey::from_seed(seed)
        })
        .collect()
}

fn committee_of(keys: &[SecretKey]) -> Committee {
    Committee::equal_weight(keys.iter().map(|k| *k.public_key()), VALIDATORS as usize)
        .expect("valid")
}

/// A minimal quorum of `keys` signing `state`, as `trestle confirm` selects it.
fn quorum(
    keys: &[SecretKey],
    committee: &Committee,
    state: &LightClientState,
) -> Vec<StateSignature> {
    let message = state.message().expect("valid");
    let signatures: Vec<StateSignature> = keys
        .iter()
        .enumerate()
        .map(|(slot, key)| StateSignature { slot: slot as u32, signature: key.sign(&message) })
        .collect();
    minimal_quorum(committee, &signatures).expect("quorum")
}

/// Evidence for a block record at height 500 of 1,000 signed by a minimal quorum of 100
/// validators, the genesis anchor, and the subject.
pub(crate) fn setup() -> (Evidence, Anchor, Subject) {
    setup_across(0)
}

/// As [`setup`], with `handoffs` committee rotations between the anchor and the evidence:
/// epochs of [`HEIGHTS`] heights, each run by its own committee of 100; the block record is at
/// the 500th height of epoch `handoffs`, and the evidence carries each earlier epoch's last
/// state signed by a minimal quorum of its committee, naming the next (what `trestle confirm`
/// verifies for a transaction `handoffs` epochs after its anchor). `setup_across(0)` is the
/// single-epoch evidence of [`setup`].
pub(crate) fn setup_across(handoffs: u64) -> (Evidence, Anchor, Subject) {
    let epoch_length = match handoffs {
        0 => trestle_light_client::epoch::ENDLESS,
        _ => std::num::NonZeroU64::new(HEIGHTS).expect("non-zero"),
    };
    let committees: Vec<(Vec<SecretKey>, Committee)> = (0..=handoffs)
        .map(|epoch| {
            let keys = epoch_keys(epoch);
            let committee = committee_of(&keys);
            (keys, committee)
        })
        .collect();
    let mut history = HistoryTree::new();
    // The earlier epochs' blocks: only their hashes matter to the history proof.
    let base = handoffs * HEIGHTS;
    let mut handoff_list = Vec::new();
    for height in 0..base {
        history.append(&keccak256(height.to_be_bytes()));
        if (height + 1) % HEIGHTS == 0 {
            let epoch = height / HEIGHTS;
            let (keys, committee) = &committees[epoch as usize];
            let next = &committees[epoch as usize + 1].1;
            let state = LightClientState {
                chain_id: ChainId(31_337),
                epoch: Epoch(epoch),
                height: Height(height),
                history_root: history.root_at(Height(height)).expect("covered"),
                next_committee: next.commitment_bytes(),
            };
            handoff_list.push(Handoff {
                state: state.encode().into(),
                signatures: quorum(keys, committee, &state),
                next_slots: next.slots().to_vec(),
                next_capacity: next.capacity() as u64,
            });
        }
    }
    let (keys, committee) = committees.last().expect("one committee at least").clone();
    let epoch = Epoch(handoffs);
    let record = BlockRecord {
        chainId: 901,
        number: 7,
        hash: keccak256("block 7"),
        parentHash: keccak256("block 6"),
    };
    let target = Transaction::new(NAMESPACE, record.encode());
    let included_at = base + HEIGHTS / 2;
    let mut parent = B256::ZERO;
    let mut included = None;
    for height in base..base + HEIGHTS {
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
            epoch,
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
    // The newest height; in an epoch that ends, the one before its last height (whose state
    // would name the next committee).
    let root_height = Height(match handoffs {
        0 => HEIGHTS - 1,
        _ => base + HEIGHTS - 2,
    });
    let state = LightClientState {
        chain_id: ChainId(31_337),
        epoch,
        height: root_height,
        history_root: history.root_at(root_height).expect("covered"),
        next_committee: committee.commitment_bytes(),
    };
    // What `trestle confirm` verifies: a minimal quorum (67 of 100).
    let signatures = quorum(&keys, &committee, &state);
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
        handoffs: handoff_list,
    };
    let anchor = Anchor {
        chain_id: ChainId(31_337),
        epoch: Epoch(0),
        committee: committees[0].1.clone(),
        max_payload: DEFAULT_MAX_PAYLOAD,
        epoch_length,
    };
    (evidence, anchor, Subject::Block { number: record.number, hash: record.hash })
}
