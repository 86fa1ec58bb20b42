//! Every proof decoder: never panics, canonical, and verifying a decoded proof never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trestle_light_client::{
    B256, Namespace,
    abi::{MerkleProof, NamespaceAbsenceProof, NamespaceProof, TransactionProof},
};

fuzz_target!(|data: &[u8]| {
    let root = B256::repeat_byte(0x11);
    if let Ok(p) = MerkleProof::decode(data) {
        assert_eq!(p.encode(), data);
        let _ = p.verify(&B256::ZERO, &root);
    }
    if let Ok(p) = NamespaceProof::decode(data) {
        assert_eq!(p.encode(), data);
        let _ = p.verify(&root);
    }
    if let Ok(p) = TransactionProof::decode(data) {
        assert_eq!(p.encode(), data);
        let _ = p.verify_hash(Namespace(p.namespaceProof.leaf.namespace), &B256::ZERO, &root);
    }
    if let Ok(p) = NamespaceAbsenceProof::decode(data) {
        assert_eq!(p.encode(), data);
        let _ = p.verify(Namespace(5), &root);
    }
});
