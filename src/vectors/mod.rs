//! Golden vectors: what Rust computes, written as JSON for Solidity and JavaScript to agree with.
//!
//! `trestle vectors --out solidity/test/fixtures` writes one file per topic; forge tests read them
//! and check that the contracts compute the same hashes and accept the same proofs, the
//! circomlibjs cross-check reads `circomlib.json`, and a Rust test regenerates every file and
//! fails on any drift. Everything is derived from fixed seeds, so the output is byte-stable.
//!
//! Conventions: `u64` fields are JSON numbers, byte strings and `bytes32` are 0x-hex, and field
//! elements in `circomlib.json` are decimal strings (the form circomlibjs and snarkjs use).

use alloy_primitives::{B256, hex, keccak256};
use alloy_sol_types::SolValue;
use serde_json::{Value, json};
use trestle_light_client::{
    ChainId, Committee, CommitteeSlot, Epoch, Header, Height, HistoryTree, LightClientState,
    MerkleTree, Namespace, PayloadTree, SecretKey, StateSignature, Transaction, View,
    abi::{MerkleProof, NamespaceProof},
    babyjubjub::{BASE8_X, BASE8_Y, Scalar},
    epoch,
    field::{Fr, fr_to_b256, fr_to_decimal},
    poseidon,
    stake::{StakeTableId, light_client_pop_message, pop_message},
};

mod records;

/// One fixture file: its name and JSON content.
pub struct Fixture {
    /// File name inside the fixtures directory.
    pub name: &'static str,
    /// Pretty-printed JSON with a trailing newline.
    pub contents: String,
}

/// Every fixture, in a fixed order.
pub fn all() -> Vec<Fixture> {
    [
        ("headers.json", headers()),
        ("merkle.json", merkle()),
        ("payload.json", payload()),
        ("history.json", history()),
        ("circomlib.json", circomlib()),
        ("committee.json", committee()),
        ("state.json", state()),
        ("chain.json", chain()),
        ("epochs.json", epochs()),
        ("stake_table.json", stake_table()),
        ("block_records.json", records::block_records()),
    ]
    .into_iter()
    .map(|(name, value)| Fixture { name, contents: pretty(&value) })
    .collect()
}

fn pretty(value: &Value) -> String {
    let mut out = serde_json::to_string_pretty(value).unwrap_or_else(|e| {
        unreachable!("serde_json values always serialize: {e}");
    });
    out.push('\n');
    out
}

fn digest(label: &str, i: u64) -> B256 {
    keccak256([label.as_bytes(), &i.to_be_bytes()].concat())
}

fn key(i: u64) -> SecretKey {
    SecretKey::from_seed(digest("trestle.vectors.key", i).0)
}

fn proof_json(proof: &MerkleProof) -> Value {
    json!({ "index": proof.index, "count": proof.count, "siblings": proof.siblings })
}

fn namespace_proof_json(proof: &NamespaceProof) -> Value {
    json!({
        "leaf": {
            "namespace": proof.leaf.namespace,
            "txCount": proof.leaf.txCount,
            "txRoot": proof.leaf.txRoot,
        },
        "proof": proof_json(&proof.proof),
    })
}

fn header_json(header: &Header) -> Value {
    json!({
        "chainId": header.chain_id.get(),
        "epoch": header.epoch.get(),
        "height": header.height.get(),
        "viewNumber": header.view.get(),
        "timestampMs": header.timestamp_ms,
        "parent": header.parent,
        "payloadRoot": header.payload_root,
        "historyRoot": header.history_root,
        "committee": header.committee,
    })
}

fn sample_headers() -> Vec<Header> {
    let mut headers = vec![
        Header {
            chain_id: ChainId(1),
            epoch: Epoch(0),
            height: Height(0),
            view: View(0),
            timestamp_ms: 0,
            parent: B256::ZERO,
            payload_root: B256::ZERO,
            history_root: B256::ZERO,
            committee: B256::ZERO,
        },
        Header {
            chain_id: ChainId(u64::MAX),
            epoch: Epoch(u64::MAX),
            height: Height(u64::MAX),
            view: View(u64::MAX),
            timestamp_ms: u64::MAX,
            parent: B256::repeat_byte(0xff),
            payload_root: B256::repeat_byte(0xff),
            history_root: B256::repeat_byte(0xff),
            committee: B256::repeat_byte(0xff),
        },
    ];
    for i in 2..6 {
        headers.push(Header {
            chain_id: ChainId(31_337),
            epoch: Epoch(i / 3),
            height: Height(i * 1_000 + 7),
            view: View(i * 1_000 + 9),
            timestamp_ms: 1_760_000_000_000 + i,
            parent: digest("parent", i),
            payload_root: digest("payload", i),
            history_root: digest("history", i),
            committee: digest("committee", i) & B256::left_padding_from(&[0x0f; 31]),
        });
    }
    headers
}

fn headers() -> Value {
    let headers: Vec<Value> = sample_headers()
        .iter()
        .map(|h| json!({ "header": header_json(h), "encoded": hex::encode_prefixed(h.encode()), "hash": h.hash() }))
        .collect();
    let transactions: Vec<Value> =
        [(0u64, vec![]), (7, b"hello".to_vec()), (u64::MAX, vec![0xab; 33])]
            .into_iter()
            .map(|(ns, payload)| {
                let tx = Transaction::new(Namespace(ns), payload);
                json!({
                    "namespace": ns,
                    "payload": tx.payload,
                    "encoded": hex::encode_prefixed(tx.encode()),
                    "hash": tx.hash(),
                })
            })
            .collect();
    json!({ "headers": headers, "transactions": transactions })
}

fn merkle() -> Value {
    let trees: Vec<Value> = [0u64, 1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 33]
        .into_iter()
        .map(|n| {
            let leaves: Vec<B256> = (0..n).map(|i| digest("leaf", i)).collect();
            let tree = MerkleTree::from_digests(&leaves);
            let proofs: Vec<Value> =
                (0..n).filter_map(|i| tree.prove(i)).map(|p| proof_json(&p)).collect();
            json!({ "count": n, "leaves": leaves, "root": tree.root(), "proofs": proofs })
        })
        .collect();
    json!({ "trees": trees })
}

fn sample_block() -> Vec<Transaction> {
    (0u64..24)
        .map(|i| {
            let namespace = Namespace([1_000, 7, 42, 7, 1_000, 99][(i % 6) as usize]);
            let payload: Vec<u8> = digest("payload-bytes", i).0[..(i as usize % 32) + 1].to_vec();
            Transaction::new(namespace, payload)
        })
        .collect()
}

fn payload() -> Value {
    let txs = sample_block();
    let tree = PayloadTree::new(&txs);
    let root = tree.root();
    let transactions: Vec<Value> = txs
        .iter()
        .map(|tx| {
            let proof = tree.transaction_proof_by_hash(&tx.hash());
            let proof = proof.unwrap_or_else(|| unreachable!("every block transaction proves"));
            json!({
                "namespace": tx.namespace.get(),
                "payload": tx.payload,
                "encoded": hex::encode_prefixed(tx.encode()),
                "hash": tx.hash(),
                "txProof": proof_json(&proof.txProof),
                "namespaceProof": namespace_proof_json(&proof.namespaceProof),
                "encodedProof": hex::encode_prefixed(proof.abi_encode()),
            })
        })
        .collect();
    let namespaces: Vec<Value> = tree
        .namespaces()
        .filter_map(|ns| tree.namespace_proof(ns))
        .map(|p| namespace_proof_json(&p))
        .collect();
    let absences: Vec<Value> = [0u64, 8, 500, 5_000]
        .into_iter()
        .filter_map(|ns| {
            let proof = tree.absence_proof(Namespace(ns))?;
            let neighbours: Vec<Value> =
                proof.neighbours.iter().map(namespace_proof_json).collect();
            Some(json!({ "namespace": ns, "leafCount": proof.leafCount, "neighbours": neighbours }))
        })
        .collect();
    json!({
        "payloadRoot": root,
        "transactions": transactions,
        "namespaces": namespaces,
        "absences": absences,
        "emptyPayloadRoot": PayloadTree::new(&[]).root(),
    })
}

fn history() -> Value {
    let hashes: Vec<B256> = sample_history_hashes();
    let mut tree = HistoryTree::new();
    let mut roots = Vec::new();
    for hash in &hashes {
        tree.append(hash);
        roots.push(tree.root());
    }
    let mut proofs = Vec::new();
    for (height, root_height) in
        [(0u64, 0u64), (0, 20), (5, 5), (5, 16), (16, 16), (7, 20), (20, 20)]
    {
        let proof = tree.prove(Height(height), Height(root_height));
        let proof = proof.unwrap_or_else(|_| unreachable!("heights are recorded"));
        proofs.push(json!({
            "height": height,
            "rootHeight": root_height,
            "headerHash": hashes[height as usize],
            "root": roots[root_height as usize],
            "proof": proof_json(&proof),
        }));
    }
    json!({ "headerHashes": hashes, "roots": roots, "proofs": proofs })
}

fn sample_history_hashes() -> Vec<B256> {
    (0u64..21).map(|h| digest("header", h)).collect()
}

fn circomlib() -> Value {
    let poseidon: Vec<Value> = (1..=poseidon::MAX_INPUTS as u64)
        .map(|n| {
            let inputs: Vec<Fr> = (0..n).map(|i| Fr::from(i * 1_000_003 + n)).collect();
            let output = poseidon::hash(&inputs).unwrap_or_else(|e| unreachable!("{e}"));
            let inputs: Vec<String> = inputs.iter().map(fr_to_decimal).collect();
            json!({ "inputs": inputs, "output": fr_to_decimal(&output) })
        })
        .chain([json!({ "inputs": ["1", "2"], "output": fr_to_decimal(&poseidon::hash_fixed([Fr::from(1u64), Fr::from(2u64)])) })])
        .collect();
    let messages = [
        Fr::from(0u64),
        Fr::from(1u64),
        -Fr::from(1u64),
        sample_state().message().unwrap_or_else(|e| unreachable!("{e}")),
    ];
    let eddsa: Vec<Value> = (0u64..4)
        .flat_map(|k| messages.iter().map(move |m| (k, *m)))
        .map(|(k, message)| {
            let sk = key(k);
            let signature = sk.sign(&message);
            let (ax, ay) = sk.public_key().circom();
            let (rx, ry) = signature.r8().circom();
            json!({
                "publicKey": [fr_to_decimal(&ax), fr_to_decimal(&ay)],
                "message": fr_to_decimal(&message),
                "signature": {
                    "r8": [fr_to_decimal(&rx), fr_to_decimal(&ry)],
                    "s": ark_ff::PrimeField::into_bigint(*signature.s()).to_string(),
                },
                "publicKeyBytes": hex::encode_prefixed(sk.public_key().to_bytes()),
                "signatureBytes": hex::encode_prefixed(signature.to_bytes()),
            })
        })
        .collect();
    json!({
        "curve": {
            "base8": [fr_to_decimal(&BASE8_X), fr_to_decimal(&BASE8_Y)],
            "subOrder": <Scalar as ark_ff::PrimeField>::MODULUS.to_string(),
        },
        "poseidon": poseidon,
        "eddsa": eddsa,
    })
}

fn sample_committee(members: u64, capacity: usize) -> Committee {
    let slots = (0..members)
        .map(|i| CommitteeSlot { key: *key(i).public_key(), weight: 1 + i % 3 })
        .collect();
    Committee::new(slots, capacity)
        .unwrap_or_else(|e| unreachable!("sample committee is valid: {e}"))
}

fn committee_json(committee: &Committee) -> Value {
    let slots: Vec<Value> = committee
        .slots()
        .iter()
        .map(|s| {
            let (x, y) = s.key.circom();
            json!({ "x": fr_to_b256(&x), "y": fr_to_b256(&y), "weight": s.weight })
        })
        .collect();
    json!({
        "capacity": committee.capacity(),
        "slots": slots,
        "totalWeight": committee.total_weight() as u64,
        "commitment": committee.commitment_bytes(),
        "commitmentDecimal": fr_to_decimal(&committee.commitment()),
    })
}

fn committee() -> Value {
    let committees: Vec<Value> = [(1u64, 1usize), (4, 4), (4, 10), (10, 10)]
        .into_iter()
        .map(|(m, c)| committee_json(&sample_committee(m, c)))
        .collect();
    json!({ "committees": committees })
}

fn sample_state() -> LightClientState {
    let committee = sample_committee(4, 10);
    LightClientState {
        chain_id: ChainId(31_337),
        epoch: Epoch(2),
        height: Height(20),
        history_root: {
            let mut tree = HistoryTree::new();
            sample_history_hashes().iter().for_each(|h| {
                tree.append(h);
            });
            tree.root()
        },
        next_committee: committee.commitment_bytes(),
    }
}

fn state() -> Value {
    let committee = sample_committee(4, 10);
    let state = sample_state();
    let message = state.message().unwrap_or_else(|e| unreachable!("{e}"));
    let signatures: Vec<StateSignature> = (0..4u32)
        .map(|slot| StateSignature { slot, signature: key(u64::from(slot)).sign(&message) })
        .collect();
    let signed = trestle_light_client::verify_quorum(&committee, &state, &signatures)
        .unwrap_or_else(|e| unreachable!("sample quorum is valid: {e}"));
    let signatures: Vec<Value> = signatures
        .iter()
        .map(|s| json!({ "slot": s.slot, "signature": hex::encode_prefixed(s.signature.to_bytes()) }))
        .collect();
    let inputs =
        trestle_circuits::circuit::PublicInputs::new(&state, &committee.commitment_bytes())
            .unwrap_or_else(|e| unreachable!("sample commitments are field elements: {e}"));
    let inputs: Vec<B256> = inputs.to_field_elements().iter().map(fr_to_b256).collect();
    json!({
        "state": state_fields_json(&state),
        "encoded": hex::encode_prefixed(state.encode()),
        "packedCounters": fr_to_b256(&state.packed_counters()),
        "publicInputs": inputs,
        "message": fr_to_b256(&message),
        "messageDecimal": fr_to_decimal(&message),
        "committee": committee_json(&committee),
        "signatures": signatures,
        "signedWeight": signed as u64,
    })
}

/// Real headers over `blocks` (the transactions of heights 0, 1, …) in epoch 0 of `chain_id`:
/// parents, payload and history roots computed, views and timestamps as given; with the history
/// tree over them.
fn build_chain(
    chain_id: u64,
    committee: &Committee,
    blocks: &[Vec<Transaction>],
    view: impl Fn(u64) -> u64,
    timestamp_ms: impl Fn(u64) -> u64,
) -> (Vec<Header>, HistoryTree) {
    let mut history = HistoryTree::new();
    let mut headers: Vec<Header> = Vec::new();
    for (height, txs) in (0u64..).zip(blocks) {
        let header = Header {
            chain_id: ChainId(chain_id),
            epoch: Epoch(0),
            height: Height(height),
            view: View(view(height)),
            timestamp_ms: timestamp_ms(height),
            parent: headers.last().map_or(B256::ZERO, Header::hash),
            payload_root: PayloadTree::new(txs).root(),
            history_root: history.root(),
            committee: committee.commitment_bytes(),
        };
        history.append(&header.hash());
        headers.push(header);
    }
    (headers, history)
}

/// A light-client state's fields as the fixtures write them.
fn state_fields_json(state: &LightClientState) -> Value {
    json!({
        "chainId": state.chain_id.get(),
        "epoch": state.epoch.get(),
        "height": state.height.get(),
        "historyRoot": state.history_root,
        "nextCommittee": state.next_committee,
    })
}

/// A short chain of real blocks: headers carrying real payload and history roots, the signed
/// state after the last one, and end-to-end proofs tx ∈ namespace ∈ payloadRoot ∈ header ∈
/// historyRoot of that state — what a mailbox checks on delivery.
fn chain() -> Value {
    let committee = sample_committee(4, 10);
    let blocks: Vec<Vec<Transaction>> = (0u64..6)
        .map(|height| {
            (0..height * 2)
                .map(|i| {
                    let namespace = Namespace(if i % 3 == 0 { 10 } else { 20 + height % 2 });
                    Transaction::new(
                        namespace,
                        digest("chain-tx", height * 100 + i).0[..(i as usize + 3)].to_vec(),
                    )
                })
                .collect()
        })
        .collect();
    let (headers, history) = build_chain(
        31_337,
        &committee,
        &blocks,
        |height| height * 2 + 1,
        |height| 1_760_000_000_000 + height * 250,
    );
    let tip = Height(headers.len() as u64 - 1);
    let state = LightClientState {
        chain_id: ChainId(31_337),
        epoch: Epoch(0),
        height: tip,
        history_root: history.root_at(tip).unwrap_or_else(|e| unreachable!("{e}")),
        next_committee: committee.commitment_bytes(),
    };
    let mut proofs = Vec::new();
    for (height, txs) in blocks.iter().enumerate() {
        let payload = PayloadTree::new(txs);
        for tx in txs.iter().step_by(3) {
            let tx_proof = payload
                .transaction_proof_by_hash(&tx.hash())
                .unwrap_or_else(|| unreachable!("block transactions prove"));
            let history_proof = history
                .prove(Height(height as u64), tip)
                .unwrap_or_else(|e| unreachable!("recorded heights prove: {e}"));
            proofs.push(json!({
                "height": height,
                "namespace": tx.namespace.get(),
                "payload": tx.payload,
                "txHash": tx.hash(),
                "transactionProof": {
                    "txProof": proof_json(&tx_proof.txProof),
                    "namespaceProof": namespace_proof_json(&tx_proof.namespaceProof),
                },
                "encodedTransactionProof": hex::encode_prefixed(tx_proof.abi_encode()),
                "historyProof": proof_json(&history_proof),
            }));
        }
    }
    let message = state.message().unwrap_or_else(|e| unreachable!("{e}"));
    json!({
        "headers": headers.iter().map(|h| json!({ "header": header_json(h), "hash": h.hash() })).collect::<Vec<_>>(),
        "state": state_fields_json(&state),
        "message": fr_to_b256(&message),
        "proofs": proofs,
    })
}

/// Epoch arithmetic (`light_client::epoch`) over small, boundary and extreme cases: for a light
/// client at `latest` with epochs of `epochLength`, the epoch and last height of `latest`, the
/// furthest height it accepts next, and the next height to prove on the way to `wanted`. The
/// forge test deploys a `LightClient` at `latest` and checks that it accepts `target` and
/// refuses the height after `furthest`. Heights are decimal strings (they reach 2^64 − 1).
fn epochs() -> Value {
    let text = |height: Option<Height>| height.map(|h| h.get().to_string());
    let mut cases = Vec::new();
    let lengths = [1u64, 2, 3, 10, 1 << 32, u64::MAX - 1, u64::MAX];
    for length in lengths {
        let length = std::num::NonZeroU64::new(length).unwrap_or(epoch::ENDLESS);
        let l = length.get();
        let mut latests = vec![0, 1, l.saturating_sub(2), l - 1, l, l.saturating_add(3)];
        latests.extend([l.saturating_sub(1).saturating_mul(2), u64::MAX - 2, u64::MAX - 1]);
        latests.sort_unstable();
        latests.dedup();
        for latest in latests {
            let furthest = epoch::furthest_next(Height(latest), length);
            let mut wanteds = vec![
                latest.saturating_add(1),
                furthest.map_or(u64::MAX, Height::get),
                furthest.map_or(u64::MAX, |f| f.get().saturating_add(1)),
                latest.saturating_add(l.saturating_mul(2)),
                u64::MAX,
            ];
            wanteds.sort_unstable();
            wanteds.dedup();
            for wanted in wanteds {
                if wanted <= latest {
                    continue;
                }
                let target = epoch::next_target(Height(latest), length, Height(wanted));
                // Absent keys, not nulls, where no height answers (forge reads keys).
                let mut case = serde_json::Map::new();
                let mut put = |key: &str, value: Option<String>| {
                    if let Some(value) = value {
                        case.insert(key.to_owned(), Value::String(value));
                    }
                };
                put("epochLength", Some(l.to_string()));
                put("latest", Some(latest.to_string()));
                put("latestEpoch", Some(epoch::epoch_of(Height(latest), length).get().to_string()));
                put("latestEpochEnd", text(epoch::last_height_of(Height(latest), length)));
                put("furthest", text(furthest));
                put(
                    "furthestEpoch",
                    furthest.map(|f| epoch::epoch_of(f, length).get().to_string()),
                );
                put("wanted", Some(wanted.to_string()));
                put("target", text(target));
                put("targetEpoch", target.map(|t| epoch::epoch_of(t, length).get().to_string()));
                case.insert(
                    "latestIsLast".to_owned(),
                    Value::Bool(epoch::is_last(Height(latest), length)),
                );
                cases.push(Value::Object(case));
            }
        }
    }
    json!({ "cases": cases })
}

/// Proof-of-possession messages (`StakeTable.popMessage`) for real light-client keys, on chains up
/// to `u64::MAX`; forge checks the contract computes the same and accepts each key as a point.
fn stake_table() -> Value {
    let chains = [1u64, 900, 31_337, u64::MAX];
    let cases: Vec<Value> = chains
        .iter()
        .enumerate()
        .map(|(i, chain_id)| {
            let i = i as u64;
            let table = StakeTableId {
                chain_id: *chain_id,
                address: alloy_primitives::Address::from_word(digest("stake table", i)),
            };
            let account = alloy_primitives::Address::from_word(digest("account", i));
            let consensus_key = digest("consensus key", i);
            let light_client_key = key(100 + i).public_key().to_bytes();
            let message = pop_message(&table, &account, &consensus_key, &light_client_key);
            json!({
                "chainId": chain_id.to_string(),
                "table": table.address,
                "account": account,
                "consensusKey": consensus_key,
                "lightClientKeyX": B256::from_slice(&light_client_key[..32]),
                "lightClientKeyY": B256::from_slice(&light_client_key[32..]),
                "message": message,
                "lightClientMessage": fr_to_decimal(&light_client_pop_message(&message)),
            })
        })
        .collect();
    json!({
        "domain": keccak256(trestle_light_client::stake::POP_DOMAIN_TAG),
        "maxP2pAddressLength": trestle_light_client::stake_log::MAX_P2P_ADDRESS_LENGTH,
        "cases": cases,
    })
}
