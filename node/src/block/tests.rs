use super::*;
use commonware_codec::Decode as _;
use trestle_light_client::{
    ChainId, Epoch, Height, View,
    rotation::{CommitteeRecord, CommitteeSeat, L1Reference},
};

fn fields() -> HeaderFields {
    HeaderFields {
        chain_id: ChainId(7),
        epoch: Epoch(0),
        height: Height(3),
        context: context_at(0, 5),
        timestamp_ms: 1_000,
        parent: B256::repeat_byte(1),
        history_root: B256::repeat_byte(2),
        committee: B256::repeat_byte(3),
        succession: Succession::at(L1Reference { number: 17, hash: B256::repeat_byte(6) }),
    }
}

fn record() -> Arc<CommitteeRecord> {
    let members = (1..=5u8)
        .map(|i| CommitteeSeat {
            consensus_key: B256::repeat_byte(i),
            light_client_key: *trestle_light_client::SecretKey::from_seed([i; 32]).public_key(),
            p2p_address: match i % 4 {
                0 => None,
                1 => Some(format!("10.0.0.{i}:3000").parse().expect("v4")),
                2 => Some(format!("[2001:db8::{i}]:3000").parse().expect("v6")),
                _ => Some(format!("validator-{i}.example.org:3000").parse().expect("name")),
            },
        })
        .collect();
    Arc::new(CommitteeRecord::new(members, 8).expect("valid record"))
}

/// A boundary block: [`sample`] carrying the committee after next.
fn boundary() -> Block {
    let block = sample();
    let succession = Succession { l1: block.succession().l1, next_committee: Some(record()) };
    Block::from_parts(
        block.header().clone(),
        block.parent_digest(),
        succession,
        block.consensus_context().clone(),
        block.transactions().to_vec(),
    )
}

fn sample() -> Block {
    let key = ed25519::PrivateKey::from_seed(1);
    let owned = Transaction::new(Namespace(9), vec![1u8, 2, 3]);
    let sig = trestle_api::authorization::authorize(&key, &owned);
    Block::new(
        fields(),
        Keccak([4u8; 32]),
        vec![
            BlockTransaction::unowned(Transaction::new(Namespace(2), vec![0u8; 10])),
            BlockTransaction { transaction: owned, authorization: Some(sig) },
        ],
    )
}

#[test]
fn roundtrip_is_canonical_and_keeps_digest() {
    for block in [sample(), boundary()] {
        let bytes = block.encode();
        assert_eq!(bytes.len(), block.encode_size());
        let decoded = Block::decode_cfg(bytes.clone(), &BlockCodec::default()).expect("decodes");
        assert_eq!(decoded, block);
        assert_eq!(decoded.digest(), block.digest());
        assert_eq!(decoded.encode(), bytes);
        assert!(bytes.len() <= BlockLimits::default().max_encoded_size());
    }
    assert_ne!(sample().digest(), boundary().digest(), "the digest binds the committee");
}

#[test]
fn committee_records_are_checked_when_decoded() {
    let block = boundary();
    let bytes = block.encode().to_vec();
    // Offsets inside the succession: header, parent digest, l1 (40 bytes), tag.
    let tag = HEADER_LEN + 32 + 40;
    let limits = BlockCodec::default();
    let mut unknown_tag = bytes.clone();
    unknown_tag[tag] = 2;
    assert!(Block::decode_cfg(unknown_tag, &limits).is_err());
    // Capacity 4 below the five members.
    let mut small = bytes.clone();
    small[tag + 1..tag + 3].copy_from_slice(&4u16.to_be_bytes());
    assert!(Block::decode_cfg(small, &limits).is_err());
    // Capacity above the circuit maximum.
    let mut huge = bytes.clone();
    huge[tag + 1..tag + 3].copy_from_slice(&u16::MAX.to_be_bytes());
    assert!(Block::decode_cfg(huge, &limits).is_err());
    // The second member repeats the first consensus key.
    let first = tag + 4;
    let second = first + 32 + 64 + 8; // member 1: Some(v4), 1 + 7 bytes
    let mut repeated = bytes.clone();
    let key = repeated[first..first + 32].to_vec();
    repeated[second..second + 32].copy_from_slice(&key);
    assert!(Block::decode_cfg(repeated, &limits).is_err());
    // A light-client key off the curve.
    let mut off_curve = bytes;
    off_curve[first + 32 + 63] ^= 1;
    assert!(Block::decode_cfg(off_curve, &limits).is_err());
}

#[test]
fn digest_binds_header_parent_and_authorizations() {
    let block = sample();
    let succession = block.succession().clone();
    let mut other_parent = Block::from_parts(
        block.header().clone(),
        Keccak([5u8; 32]),
        succession.clone(),
        block.consensus_context().clone(),
        block.transactions().to_vec(),
    );
    assert_ne!(other_parent.digest(), block.digest());
    let mut txs = block.transactions().to_vec();
    txs[1].authorization = None;
    other_parent = Block::from_parts(
        block.header().clone(),
        block.parent_digest(),
        succession.clone(),
        block.consensus_context().clone(),
        txs,
    );
    assert_ne!(other_parent.digest(), block.digest());
    let mut header = block.header().clone();
    header.view = View(6);
    let other = Block::from_parts(
        header,
        block.parent_digest(),
        succession,
        block.consensus_context().clone(),
        block.transactions().to_vec(),
    );
    assert_ne!(other.digest(), block.digest());
    let elsewhere = Succession::at(L1Reference { number: 18, hash: B256::repeat_byte(6) });
    let other = Block::from_parts(
        block.header().clone(),
        block.parent_digest(),
        elsewhere,
        block.consensus_context().clone(),
        block.transactions().to_vec(),
    );
    assert_ne!(other.digest(), block.digest(), "the digest binds the L1 reference");
    let mut context = block.consensus_context().clone();
    context.leader = ed25519::PrivateKey::from_seed(9).public_key();
    let other = Block::from_parts(
        block.header().clone(),
        block.parent_digest(),
        block.succession().clone(),
        context,
        block.transactions().to_vec(),
    );
    assert_ne!(other.digest(), block.digest(), "the digest binds the consensus context");
}

#[test]
fn decoding_rejects_a_header_view_other_than_the_contexts() {
    let block = sample();
    let mut header = block.header().clone();
    header.view = View(6);
    let other = Block::from_parts(
        header,
        block.parent_digest(),
        block.succession().clone(),
        block.consensus_context().clone(),
        block.transactions().to_vec(),
    );
    let limits = BlockCodec::from(BlockLimits::default());
    assert!(Block::decode_cfg(other.encode(), &limits).is_err());
    assert_eq!(Block::decode_cfg(block.encode(), &limits).expect("decodes"), block);
}

#[test]
fn decoding_rejects_tampering_and_oversize() {
    let block = sample();
    // A transaction swapped under the same header: payloadRoot mismatch.
    let mut txs = block.transactions().to_vec();
    txs[0].transaction.payload = vec![9u8; 10].into();
    let forged = Block::from_parts(
        block.header().clone(),
        block.parent_digest(),
        block.succession().clone(),
        block.consensus_context().clone(),
        txs,
    );
    assert!(Block::decode_cfg(forged.encode(), &BlockCodec::default()).is_err());
    // Limits.
    let tight = BlockLimits { max_transactions: 1, ..BlockLimits::default() };
    assert!(Block::decode_cfg(block.encode(), &tight.into()).is_err());
    let tight = BlockLimits { max_payload: 5, ..BlockLimits::default() };
    assert!(Block::decode_cfg(block.encode(), &tight.into()).is_err());
    let tight = BlockLimits { max_block_payload: 12, ..BlockLimits::default() };
    assert!(Block::decode_cfg(block.encode(), &tight.into()).is_err());
    // Truncation and trailing bytes.
    let bytes = block.encode();
    for cut in [0, 1, HEADER_LEN, bytes.len() - 1] {
        assert!(Block::decode_cfg(bytes.slice(..cut), &BlockCodec::default()).is_err());
    }
    let mut long = bytes.to_vec();
    long.push(0);
    assert!(Block::decode_cfg(long, &BlockCodec::default()).is_err());
    // Garbage never panics.
    for len in [0usize, 10, 300, 400] {
        let _ = Block::decode_cfg(vec![0xffu8; len], &BlockCodec::default());
    }
}

/// Random byte flips, truncations and extensions of a valid encoding either fail to decode
/// or decode to a block that re-encodes to exactly the input (canonical), never panic.
#[test]
fn mutated_encodings_fail_or_are_canonical() {
    let limits = BlockCodec::default();
    let bytes = boundary().encode().to_vec();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..5_000 {
        let mut mutated = bytes.clone();
        match next() % 4 {
            0 => {
                let i = (next() as usize) % mutated.len();
                mutated[i] ^= 1 << (next() % 8);
            }
            1 => mutated.truncate((next() as usize) % mutated.len()),
            2 => mutated.extend((0..next() % 8).map(|_| next() as u8)),
            _ => {
                let i = (next() as usize) % mutated.len();
                mutated[i] = next() as u8;
            }
        }
        if let Ok(block) = Block::decode_cfg(mutated.clone(), &limits) {
            assert_eq!(block.encode().to_vec(), mutated, "non-canonical decoding accepted");
        }
    }
}
