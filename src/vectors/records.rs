//! `block_records.json`: rollup block records (DESIGN.md section 4, hybrid mode) in a short chain of
//! real trestle blocks, each with the proof `RollupConfirmations` checks on L1.
//!
//! The chain: trestle chain 31,337, heights 0 to [`TIP`], one epoch. Rollup [`ROLLUP`] (the
//! devnet's first EVM chain) posts its `BlockRecord`s into its block namespace [`ROLLUP_NS`]
//! (the devnet's `1,000,000 + chain id`), numbered contiguously from [`FIRST_NUMBER`], each
//! `parentHash` the previous record's `hash`; some blocks carry none, some several. Around them:
//! the same rollup's message namespace, a second rollup's records in its own block namespace
//! (what a wrong namespace must not confirm) and a filler namespace.
//!
//! Each record comes with a `recordProof` — Solidity's `RecordProof {Header header;
//! TransactionProof txProof; MerkleTree.Proof historyProof; bytes32 historyRoot}` — against the
//! signed state at the tip, and `encodedRecordProof = abi.encode(recordProof)`, so that the node
//! side can check it builds byte-identical calldata.

use alloy_primitives::{B256, hex};
use alloy_sol_types::SolValue;
use serde_json::{Value, json};
use trestle_light_client::{
    ChainId, Epoch, Height, LightClientState, Namespace, PayloadTree, Transaction, abi::BlockRecord,
};

use trestle_api::records::RecordFields;

use super::{
    build_chain, digest, header_json, namespace_proof_json, proof_json, sample_committee,
    state_fields_json,
};

/// The rollup whose records the fixture proves (the devnet's first EVM chain id).
const ROLLUP: u64 = 901;
/// Its block namespace (the devnet's convention: 1,000,000 + chain id).
const ROLLUP_NS: u64 = 1_000_901;
/// A second rollup, whose records sit in their own block namespace.
const OTHER_ROLLUP: u64 = 902;
/// Its block namespace.
const OTHER_NS: u64 = 1_000_902;
/// A namespace of neither rollup.
const FILLER_NS: u64 = 5;
/// The trestle network.
const TRESTLE_CHAIN: u64 = 31_337;
/// Last height of the chain, the signed state's.
const TIP: u64 = 7;
/// Number of the rollup's first recorded block.
const FIRST_NUMBER: u64 = 40;
/// Records of rollup [`ROLLUP`] per trestle height.
const RECORDS_PER_HEIGHT: [u64; TIP as usize + 1] = [0, 1, 2, 0, 1, 3, 1, 0];

/// The hash of block `number` of `rollup` (made up, deterministic).
fn rollup_block_hash(rollup: u64, number: u64) -> B256 {
    digest(&format!("trestle.vectors.rollup-{rollup}-block"), number)
}

/// A rollup's contiguous chain of records, from `first`.
struct RecordChain {
    rollup: u64,
    next: u64,
}

impl RecordChain {
    fn next_record(&mut self) -> BlockRecord {
        let number = self.next;
        self.next += 1;
        BlockRecord {
            chainId: self.rollup,
            number,
            hash: rollup_block_hash(self.rollup, number),
            parentHash: rollup_block_hash(self.rollup, number - 1),
        }
    }
}

fn record_json(record: &BlockRecord) -> Value {
    // The API's readable form of a record (the same camelCase fields).
    serde_json::to_value(RecordFields::from(record)).unwrap_or_else(|e| unreachable!("{e}"))
}

/// The transactions of the block at `height`, and the records of [`ROLLUP`] among them.
fn block(
    height: u64,
    ours: &mut RecordChain,
    theirs: &mut RecordChain,
) -> (Vec<Transaction>, Vec<BlockRecord>) {
    let mut txs = Vec::new();
    let mut records = Vec::new();
    // A message of the rollup, in its message namespace (same chain id).
    if height % 2 == 1 {
        let payload = digest("trestle.vectors.rollup-message", height).0[..20].to_vec();
        txs.push(Transaction::new(Namespace(ROLLUP), payload));
    }
    for k in 0..RECORDS_PER_HEIGHT[height as usize] {
        let record = ours.next_record();
        txs.push(Transaction::new(Namespace(ROLLUP_NS), record.encode()));
        records.push(record);
        // Interleave the other rollup's records and some filler.
        if (height + k).is_multiple_of(2) {
            txs.push(Transaction::new(Namespace(OTHER_NS), theirs.next_record().encode()));
        }
        if k == 1 {
            let payload = digest("trestle.vectors.filler", height * 10 + k).0.to_vec();
            txs.push(Transaction::new(Namespace(FILLER_NS), payload));
        }
    }
    if height.is_multiple_of(3) {
        txs.push(Transaction::new(Namespace(OTHER_NS), theirs.next_record().encode()));
    }
    (txs, records)
}

/// The fixture (see the module documentation).
pub(super) fn block_records() -> Value {
    let committee = sample_committee(4, 10);
    let mut ours = RecordChain { rollup: ROLLUP, next: FIRST_NUMBER };
    let mut theirs = RecordChain { rollup: OTHER_ROLLUP, next: 7 };
    let blocks: Vec<(Vec<Transaction>, Vec<BlockRecord>)> =
        (0..=TIP).map(|height| block(height, &mut ours, &mut theirs)).collect();
    let transactions: Vec<Vec<Transaction>> = blocks.iter().map(|(txs, _)| txs.clone()).collect();
    let (headers, history) = build_chain(
        TRESTLE_CHAIN,
        &committee,
        &transactions,
        |height| height + 3,
        |height| 1_760_000_100_000 + height * 400,
    );
    let tip = Height(TIP);
    let state = LightClientState {
        chain_id: ChainId(TRESTLE_CHAIN),
        epoch: Epoch(0),
        height: tip,
        history_root: history.root_at(tip).unwrap_or_else(|e| unreachable!("{e}")),
        next_committee: committee.commitment_bytes(),
    };

    let mut records = Vec::new();
    for ((txs, block_records), header) in blocks.iter().zip(&headers) {
        let payload = PayloadTree::new(txs);
        let history_proof = history
            .prove(header.height, tip)
            .unwrap_or_else(|e| unreachable!("recorded heights prove: {e}"));
        for record in block_records {
            let tx = Transaction::new(Namespace(ROLLUP_NS), record.encode());
            let tx_proof = payload
                .transaction_proof_by_hash(&tx.hash())
                .unwrap_or_else(|| unreachable!("block transactions prove"));
            // abi.encode(RecordProof): the struct as a tuple of its fields, in order.
            let encoded =
                (header.to_abi(), tx_proof.clone(), history_proof.clone(), state.history_root)
                    .abi_encode();
            records.push(json!({
                "height": header.height.get(),
                "record": record_json(record),
                "payload": tx.payload,
                "txHash": tx.hash(),
                "recordProof": {
                    "header": header_json(header),
                    "txProof": {
                        "txProof": proof_json(&tx_proof.txProof),
                        "namespaceProof": namespace_proof_json(&tx_proof.namespaceProof),
                    },
                    "historyProof": proof_json(&history_proof),
                    "historyRoot": state.history_root,
                },
                "encodedRecordProof": hex::encode_prefixed(encoded),
            }));
        }
    }
    json!({
        "rollup": { "chainId": ROLLUP, "blockNamespace": ROLLUP_NS },
        "otherRollup": { "chainId": OTHER_ROLLUP, "blockNamespace": OTHER_NS },
        "committee": committee.commitment_bytes(),
        "headers": headers.iter().map(|h| json!({ "header": header_json(h), "hash": h.hash() })).collect::<Vec<_>>(),
        "state": state_fields_json(&state),
        "records": records,
    })
}
