//! Criterion benchmarks of the light-client kernel (issue: foundation).
//!
//! `cargo bench --bench light_client` — numbers are summarized in BENCHMARKS.md.

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use trestle_light_client::{
    B256, ChainId, Committee, Epoch, Height, HistoryTree, LightClientState, MerkleTree, SecretKey,
    StateSignature, babyjubjub::FixedBaseTable, field::Fr, poseidon, verify_quorum,
};

fn digests(n: u64) -> Vec<B256> {
    (0..n).map(|i| trestle_light_client::B256::from(alloy_keccak(i))).collect()
}

fn alloy_keccak(i: u64) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[..8].copy_from_slice(&i.to_be_bytes());
    out[31] = 0x5a;
    out
}

fn merkle(c: &mut Criterion) {
    for n in [1_000u64, 1_000_000] {
        let leaves = digests(n);
        let mut group = c.benchmark_group(format!("merkle/{n}"));
        group.sample_size(10);
        group.bench_function("build", |b| b.iter(|| MerkleTree::from_digests(black_box(&leaves))));
        let tree = MerkleTree::from_digests(&leaves);
        let root = tree.root();
        let index = n / 3;
        group.bench_function("prove", |b| b.iter(|| tree.prove(black_box(index))));
        let proof = tree.prove(index).expect("in range");
        group.bench_function("verify", |b| {
            b.iter(|| proof.verify(black_box(&leaves[index as usize]), &root))
        });
        group.finish();
    }
}

fn history(c: &mut Criterion) {
    let mut group = c.benchmark_group("history");
    let leaves = digests(1_000_000);
    group.bench_function("append_at_1M", |b| {
        b.iter_batched_ref(
            || MerkleTree::from_digests(&leaves),
            |tree| tree.push(black_box(&leaves[7])),
            BatchSize::LargeInput,
        )
    });
    let mut history = HistoryTree::new();
    for leaf in &leaves {
        history.append(leaf);
    }
    group.bench_function("root_at_1M", |b| b.iter(|| history.root_at(black_box(Height(765_432)))));
    group.bench_function("prove_at_1M", |b| {
        b.iter(|| history.prove(black_box(Height(12_345)), Height(765_432)))
    });
    group.finish();
}

fn eddsa(c: &mut Criterion) {
    let key = SecretKey::from_seed([7; 32]);
    let message = Fr::from(123_456u64);
    let signature = key.sign(&message);
    let mut group = c.benchmark_group("eddsa");
    group.bench_function("sign", |b| b.iter(|| key.sign(black_box(&message))));
    group.bench_function("verify", |b| {
        b.iter(|| signature.verify(key.public_key(), black_box(&message)))
    });
    let table = FixedBaseTable::new(key.public_key().point());
    group.bench_function("verify_prepared", |b| {
        b.iter(|| signature.verify_prepared(key.public_key(), &table, black_box(&message)))
    });
    group.bench_function("poseidon5", |b| b.iter(|| poseidon::hash_fixed(black_box([message; 5]))));
    group.finish();
}

fn quorum(c: &mut Criterion) {
    let keys: Vec<SecretKey> = (0..100u32)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&i.to_be_bytes());
            SecretKey::from_seed(seed)
        })
        .collect();
    let committee =
        Committee::equal_weight(keys.iter().map(|k| *k.public_key()), 100).expect("valid");
    let state = LightClientState {
        chain_id: ChainId(1),
        epoch: Epoch(3),
        height: Height(1_000),
        history_root: B256::repeat_byte(0x42),
        next_committee: committee.commitment_bytes(),
    };
    let message = state.message().expect("valid");
    let signatures: Vec<StateSignature> = keys
        .iter()
        .enumerate()
        .map(|(slot, key)| StateSignature { slot: slot as u32, signature: key.sign(&message) })
        .collect();
    let mut group = c.benchmark_group("quorum");
    group.sample_size(20);
    group.bench_function("verify_100_signers_cold", |b| {
        b.iter(|| verify_quorum(&committee, black_box(&state), black_box(&signatures)))
    });
    committee.prepare();
    group.bench_function("verify_100_signers_prepared", |b| {
        b.iter(|| verify_quorum(&committee, black_box(&state), black_box(&signatures)))
    });
    group.bench_function("prepare_100", |b| {
        b.iter_batched(
            || Committee::equal_weight(keys.iter().map(|k| *k.public_key()), 100).expect("valid"),
            |committee| committee.prepare().tables().map(<[_]>::len),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("committee_commitment_100", |b| {
        b.iter(|| Committee::equal_weight(keys.iter().map(|k| *k.public_key()), 100))
    });
    group.finish();
}

criterion_group!(benches, merkle, history, eddsa, quorum);
criterion_main!(benches);
