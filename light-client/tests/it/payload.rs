use proptest::prelude::*;
use trestle_light_client::{
    B256, Namespace, PayloadTree, Transaction,
    abi::{NamespaceAbsenceProof, TransactionProof},
};

fn block() -> impl Strategy<Value = Vec<Transaction>> {
    prop::collection::vec(
        (0u64..6, prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(ns, payload)| Transaction::new(Namespace(ns * 1_000), payload)),
        0..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn every_transaction_proves_and_mutations_fail(
        txs in block(),
        pick in any::<usize>(),
        byte in 0..32usize,
        bit in 0..8u8,
        which in 0..6u8,
    ) {
        let tree = PayloadTree::new(&txs);
        let root = tree.root();
        prop_assume!(!txs.is_empty());
        let tx = &txs[pick % txs.len()];
        let proof = tree.transaction_proof_by_hash(&tx.hash()).unwrap();
        prop_assert!(proof.verify(tx, &root).is_ok());
        prop_assert_eq!(TransactionProof::decode(&proof.encode()).unwrap(), proof.clone());

        let flip = |b: &mut B256| b.0[byte] ^= 1 << bit;
        let mut bad = proof;
        let (mut bad_tx, mut bad_root) = (tx.clone(), root);
        match which {
            0 => bad.namespaceProof.leaf.txCount = bad.namespaceProof.leaf.txCount.wrapping_add(1),
            1 => flip(&mut bad.namespaceProof.leaf.txRoot),
            2 => bad.namespaceProof.leaf.namespace ^= 1,
            3 => bad_tx.payload = [bad_tx.payload.as_ref(), &[bit]].concat().into(),
            4 => flip(&mut bad_root),
            _ => bad.txProof.count = bad.txProof.count.wrapping_add(1),
        }
        prop_assert!(bad.verify(&bad_tx, &bad_root).is_err());
    }

    #[test]
    fn absence_is_provable_exactly_when_absent(txs in block(), probe in 0u64..7_000) {
        let tree = PayloadTree::new(&txs);
        let root = tree.root();
        let present = txs.iter().any(|t| t.namespace == Namespace(probe));
        match tree.absence_proof(Namespace(probe)) {
            Some(proof) => {
                prop_assert!(!present);
                prop_assert!(proof.verify(Namespace(probe), &root).is_ok());
                prop_assert_eq!(NamespaceAbsenceProof::decode(&proof.encode()).unwrap(), proof.clone());
                // It excludes nothing that is present.
                for ns in tree.namespaces() {
                    prop_assert!(proof.verify(ns, &root).is_err());
                }
            }
            None => prop_assert!(present),
        }
        if let Some(proof) = tree.namespace_proof(Namespace(probe)) {
            let members: Vec<Transaction> =
                txs.iter().filter(|t| t.namespace == Namespace(probe)).cloned().collect();
            prop_assert!(proof.verify_complete(&members, &root).is_ok());
        }
    }
}
