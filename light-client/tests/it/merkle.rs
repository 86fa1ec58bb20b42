use proptest::prelude::*;
use trestle_light_client::{B256, Height, HistoryTree, MerkleTree, abi::MerkleProof, history};

/// A proof with one of its parts changed, or the leaf/root changed.
#[derive(Debug, Clone)]
enum Mutation {
    Leaf(usize, u8),
    Sibling(usize, usize, u8),
    Index(u64),
    Count(u64),
    Root(usize, u8),
    DropSibling,
    ExtraSibling([u8; 32]),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0..32usize, 1..=255u8).prop_map(|(i, x)| Mutation::Leaf(i, x)),
        (any::<usize>(), 0..32usize, 1..=255u8).prop_map(|(s, i, x)| Mutation::Sibling(s, i, x)),
        any::<u64>().prop_map(Mutation::Index),
        any::<u64>().prop_map(Mutation::Count),
        (0..32usize, 1..=255u8).prop_map(|(i, x)| Mutation::Root(i, x)),
        Just(Mutation::DropSibling),
        any::<[u8; 32]>().prop_map(Mutation::ExtraSibling),
    ]
}

/// Applies `m`; returns `false` if it happens to change nothing (then there is nothing to test).
fn apply(m: &Mutation, leaf: &mut B256, proof: &mut MerkleProof, root: &mut B256) -> bool {
    match m {
        Mutation::Leaf(i, x) => leaf.0[*i] ^= x,
        Mutation::Sibling(s, i, x) => {
            if proof.siblings.is_empty() {
                return false;
            }
            let s = s % proof.siblings.len();
            proof.siblings[s].0[*i] ^= x;
        }
        Mutation::Index(i) => {
            if *i == proof.index {
                return false;
            }
            proof.index = *i;
        }
        Mutation::Count(c) => {
            if *c == proof.count {
                return false;
            }
            proof.count = *c;
        }
        Mutation::Root(i, x) => root.0[*i] ^= x,
        Mutation::DropSibling => {
            if proof.siblings.pop().is_none() {
                return false;
            }
        }
        Mutation::ExtraSibling(s) => proof.siblings.push(B256::from(*s)),
    }
    true
}

fn leaves(n: usize, seed: u8) -> Vec<B256> {
    (0..n).map(|i| alloy_primitives_keccak(&[seed, (i >> 8) as u8, i as u8])).collect()
}

fn alloy_primitives_keccak(bytes: &[u8]) -> B256 {
    trestle_light_client::merkle::leaf_hash(&B256::right_padding_from(bytes))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn merkle_proofs_round_trip_and_reject_every_mutation(
        n in 1usize..300,
        index_seed in any::<usize>(),
        seed in any::<u8>(),
        m in mutation(),
    ) {
        let all = leaves(n, seed);
        let tree = MerkleTree::from_digests(&all);
        let index = index_seed % n;
        let proof = tree.prove(index as u64).unwrap();
        prop_assert!(proof.verify(&all[index], &tree.root()).is_ok());
        prop_assert_eq!(MerkleProof::decode(&proof.encode()).unwrap(), proof.clone());

        let (mut leaf, mut proof, mut root) = (all[index], proof, tree.root());
        if apply(&m, &mut leaf, &mut proof, &mut root) {
            prop_assert!(proof.verify(&leaf, &root).is_err(), "mutation {:?} accepted", m);
        }
    }

    #[test]
    fn history_proofs_hold_against_every_later_root(
        n in 1u64..200,
        a in any::<u64>(),
        b in any::<u64>(),
        m in mutation(),
    ) {
        let hashes = leaves(n as usize, 7);
        let mut tree = HistoryTree::new();
        let mut roots = Vec::new();
        for h in &hashes {
            tree.append(h);
            roots.push(tree.root());
        }
        let root_height = a % n;
        let height = b % (root_height + 1);
        let proof = tree.prove(Height(height), Height(root_height)).unwrap();
        let root = roots[root_height as usize];
        prop_assert!(history::verify_history_proof(
            &proof, &hashes[height as usize], Height(height), &root, Height(root_height)
        ).is_ok());

        let (mut leaf, mut proof, mut root) = (hashes[height as usize], proof, root);
        if apply(&m, &mut leaf, &mut proof, &mut root) {
            prop_assert!(proof.verify(&leaf, &root).is_err(), "mutation {:?} accepted", m);
        }
    }

    #[test]
    fn appending_matches_building_at_once(n in 0usize..160) {
        let all = leaves(n, 3);
        let mut appended = MerkleTree::new();
        for (i, leaf) in all.iter().enumerate() {
            appended.push(leaf);
            prop_assert_eq!(appended.root(), MerkleTree::from_digests(&all[..=i]).root());
        }
        prop_assert_eq!(appended.len(), n as u64);
    }
}
