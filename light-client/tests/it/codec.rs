use proptest::prelude::*;
use trestle_light_client::{
    B256, ChainId, Epoch, Header, Height, LightClientState, Namespace, PublicKey, Signature,
    Transaction, View,
    abi::{BlockRecord, MerkleProof, NamespaceAbsenceProof, NamespaceProof, TransactionProof},
    field::fr_to_b256,
};

fn b256() -> impl Strategy<Value = B256> {
    any::<[u8; 32]>().prop_map(B256::from)
}

fn header() -> impl Strategy<Value = Header> {
    (any::<[u64; 5]>(), b256(), b256(), b256(), b256()).prop_map(
        |(n, parent, payload, history, committee)| Header {
            chain_id: ChainId(n[0]),
            epoch: Epoch(n[1]),
            height: Height(n[2]),
            view: View(n[3]),
            timestamp_ms: n[4],
            parent,
            payload_root: payload,
            history_root: history,
            committee,
        },
    )
}

proptest! {
    /// The streamed hash is the hash of the ABI encoding, for every padding length.
    #[test]
    fn transaction_hash_is_the_keccak_of_its_encoding(namespace in any::<u64>(), payload in proptest::collection::vec(any::<u8>(), 0..200)) {
        let tx = Transaction::new(Namespace(namespace), payload);
        prop_assert_eq!(tx.hash(), alloy_primitives::keccak256(tx.encode()));
    }

    #[test]
    fn header_encoding_round_trips_and_is_canonical(h in header(), byte in 0..288usize, flip in 1..=255u8) {
        let encoded = h.encode();
        prop_assert_eq!(encoded.len(), 288);
        prop_assert_eq!(Header::decode(&encoded).unwrap(), h.clone());
        // Any change either decodes to a different header or is rejected (dirty padding).
        let mut changed = encoded.clone();
        changed[byte] ^= flip;
        if let Ok(other) = Header::decode(&changed) {
            prop_assert_ne!(other.hash(), h.hash());
        }
        let mut longer = encoded;
        longer.push(0);
        prop_assert!(Header::decode(&longer).is_err());
    }

    #[test]
    fn transaction_encoding_round_trips(ns in any::<u64>(), payload in prop::collection::vec(any::<u8>(), 0..200)) {
        let tx = Transaction::new(Namespace(ns), payload.clone());
        prop_assert_eq!(Transaction::decode(&tx.encode(), payload.len()).unwrap(), tx.clone());
        if let Some(smaller) = payload.len().checked_sub(1) {
            prop_assert!(Transaction::decode(&tx.encode(), smaller).is_err());
        }
    }

    #[test]
    fn state_encoding_round_trips(c in any::<[u64; 3]>(), root in b256(), next in any::<u64>()) {
        let state = LightClientState {
            chain_id: ChainId(c[0]),
            epoch: Epoch(c[1]),
            height: Height(c[2]),
            history_root: root,
            next_committee: fr_to_b256(&next.into()),
        };
        prop_assert_eq!(LightClientState::decode(&state.encode()).unwrap(), state.clone());
        prop_assert!(state.message().is_ok());
    }

    #[test]
    fn block_record_encoding_round_trips(n in any::<[u64; 2]>(), hash in b256(), parent in b256(), byte in 0..128usize) {
        let record = BlockRecord { chainId: n[0], number: n[1], hash, parentHash: parent };
        let encoded = record.encode();
        prop_assert_eq!(encoded.len(), 128);
        prop_assert_eq!(BlockRecord::decode(&encoded).unwrap(), record);
        // Dirty padding of the uint64 fields and trailing bytes are refused.
        let mut dirty = encoded.clone();
        if byte < 24 || (32..56).contains(&byte) {
            dirty[byte] = 1;
            prop_assert!(BlockRecord::decode(&dirty).is_err());
        }
        let mut longer = encoded;
        longer.push(0);
        prop_assert!(BlockRecord::decode(&longer).is_err());
    }

    /// Decoders of outside bytes never panic and accept only canonical encodings.
    #[test]
    fn decoders_survive_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..700)) {
        if let Ok(h) = Header::decode(&bytes) { prop_assert_eq!(h.encode(), bytes.clone()); }
        if let Ok(s) = LightClientState::decode(&bytes) { prop_assert_eq!(s.encode(), bytes.clone()); }
        if let Ok(t) = Transaction::decode(&bytes, 1 << 20) { prop_assert_eq!(t.encode(), bytes.clone()); }
        if let Ok(t) = Transaction::decode(&bytes, usize::MAX) { prop_assert_eq!(t.encode(), bytes.clone()); }
        if let Ok(p) = MerkleProof::decode(&bytes) { prop_assert_eq!(p.encode(), bytes.clone()); }
        if let Ok(p) = NamespaceProof::decode(&bytes) { prop_assert_eq!(p.encode(), bytes.clone()); }
        if let Ok(p) = TransactionProof::decode(&bytes) { prop_assert_eq!(p.encode(), bytes.clone()); }
        if let Ok(p) = NamespaceAbsenceProof::decode(&bytes) { prop_assert_eq!(p.encode(), bytes.clone()); }
        if let Ok(r) = BlockRecord::decode(&bytes) { prop_assert_eq!(r.encode(), bytes.clone()); }
        if let Ok(k) = PublicKey::from_bytes(&bytes) { prop_assert_eq!(k.to_bytes().to_vec(), bytes.clone()); }
        if let Ok(s) = Signature::from_bytes(&bytes) { prop_assert_eq!(s.to_bytes().to_vec(), bytes.clone()); }
    }

    /// Well-formed but random proof structures are rejected by verification, never panic.
    #[test]
    fn random_proofs_are_rejected(index in any::<u64>(), count in any::<u64>(), siblings in prop::collection::vec(b256(), 0..70), leaf in b256(), root in b256()) {
        let proof = MerkleProof { index, count, siblings };
        prop_assert!(proof.verify(&leaf, &root).is_err());
    }
}
