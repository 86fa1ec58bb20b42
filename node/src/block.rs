//! Blocks: a header, its transactions and their owner authorizations.
//!
//! # Digest
//!
//! The consensus digest (what simplex votes on and certificates sign) is
//!
//! ```text
//! digest = keccak256("trestle.block.v2" ‖ header.hash() ‖ parentDigest ‖ successionHash
//!                     ‖ authorizationsHash)
//! successionHash = keccak256(l1.number u64 BE ‖ l1.hash ‖ nextCommittee encoding)
//! ```
//!
//! * `header.hash()` is the protocol header hash (DESIGN §4); the header's `payloadRoot` binds
//!   every transaction, and decoding rejects a block whose transactions do not rebuild it, so a
//!   decoded block can never pair a header with other transactions.
//! * `parentDigest` is the digest of the parent *block* (the header only names the parent
//!   *header* hash). Commonware walks ancestry by block digest, so the block carries it and the
//!   digest binds it, making digests a hash chain of their own.
//! * `authorizationsHash = keccak256(a_0 ‖ a_1 ‖ …)` over every transaction in block order, with
//!   `a_i = 0x00` for an unowned namespace and `0x01 ‖ signature` for an owned one. Authorizations
//!   are not in the header (a contract recomputes a transaction leaf from the message alone), but
//!   they are bound here so nobody can swap them in transit under the same digest.
//! * `successionHash` binds the block's [`Succession`]: the L1 block its proposer referred to
//!   and, at an epoch's last height, the committee two epochs on (DESIGN §3a; the rule is in
//!   [`trestle_light_client::rotation`]). Neither is in the protocol header: light clients
//!   follow committees through light-client states, and consensus, which does need them, signs
//!   the digest.
//!
//! To link a consensus certificate to a header one therefore needs the header plus the two extra
//! 32-byte words; heights, headers and history proofs never need the block digest.
//!
//! # Encoding (commonware-codec, canonical)
//!
//! ```text
//! header          288 bytes, abi.encode(Header) (the same bytes Solidity hashes)
//! parentDigest    32 bytes
//! l1              number u64 BE ‖ hash 32 bytes
//! nextCommittee   0x00, or 0x01 ‖ capacity u16 BE ‖ count varint ‖ per member: consensus key
//!                 32 bytes ‖ light-client key 64 bytes ‖ p2p address (commonware SocketAddr)
//! txCount         varint
//! per tx:         namespace u64 BE ‖ payload (varint length ‖ bytes) ‖ authorization Option
//!                 (0x00, or 0x01 ‖ 64-byte ed25519 signature)
//! ```
//!
//! Decoding enforces [`BlockLimits`] (transaction count, per-payload and per-block payload
//! bytes), rebuilds `payloadRoot` and checks a committee record (valid light-client keys,
//! distinct keys, within capacity); anything else is a decoding error, never a panic.

use std::sync::Arc;

use alloy_primitives::{B256, keccak256};
use bytes::BufMut;
use commonware_codec::{
    Buf, EncodeSize, Error as CodecError, MaxEncodeSize, RangeCfg, Read, ReadExt, Write,
    varint::UInt,
};
use commonware_consensus::{BoundedBlock, Heightable, types::Height as CwHeight};
use commonware_cryptography::{Digestible, ed25519, keccak256::Digest as Keccak};
use trestle_api::GenesisLimits;
use trestle_light_client::{Header, Namespace, PayloadTree, Transaction, header::HEADER_LEN};

pub use crate::succession::Succession;
use crate::{known::KnownTransactions, succession::SUCCESSION_MAX_ENCODE_SIZE};

/// The consensus digest of a block (32 bytes, keccak256).
pub type Digest = Keccak;

/// Domain tag of block digests.
pub const BLOCK_TAG: &[u8] = b"trestle.block.v2";

/// Length of an ed25519 signature on the wire.
const SIGNATURE_LEN: usize = 64;

/// Converts a protocol hash into a consensus digest.
pub fn digest_from_b256(hash: &B256) -> Digest {
    Keccak(hash.0)
}

/// Converts a consensus digest into a protocol hash.
pub fn b256_from_digest(digest: &Digest) -> B256 {
    B256::from(digest.0)
}

/// Size limits a network enforces on blocks (and therefore on what its decoders accept).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockLimits {
    /// Most transactions in one block.
    pub max_transactions: usize,
    /// Largest payload of one transaction, in bytes.
    pub max_payload: usize,
    /// Largest sum of payload bytes in one block.
    pub max_block_payload: usize,
}

impl Default for BlockLimits {
    /// A genesis's default limits (1,024 transactions, 1 MiB per payload, 4 MiB per block).
    fn default() -> Self {
        Self::from(GenesisLimits::default())
    }
}

impl From<GenesisLimits> for BlockLimits {
    fn from(limits: GenesisLimits) -> Self {
        Self {
            max_transactions: limits.max_transactions,
            max_payload: limits.max_payload,
            max_block_payload: limits.max_block_payload,
        }
    }
}

/// How blocks decode: the network's limits and, on a running node, its memory of the
/// transactions it hashed already (so a block of transactions its mempool holds is decoded
/// without hashing their payloads again; see [`crate::known`]).
#[derive(Clone, Debug, Default)]
pub struct BlockCodec {
    /// The limits a decoded block must keep.
    pub limits: BlockLimits,
    /// Transactions hashed already (`None`: hash every one).
    pub known: Option<KnownTransactions>,
}

impl From<BlockLimits> for BlockCodec {
    fn from(limits: BlockLimits) -> Self {
        Self { limits, known: None }
    }
}

impl BlockLimits {
    /// Upper bound on the encoded size of any block these limits admit.
    pub fn max_encoded_size(&self) -> usize {
        // Length prefixes are `u32` varints.
        let prefix = UInt::<u32>::MAX_ENCODE_SIZE;
        let per_tx = 8 + prefix + 1 + SIGNATURE_LEN;
        (HEADER_LEN + 32 + SUCCESSION_MAX_ENCODE_SIZE + prefix)
            .saturating_add(self.max_transactions.saturating_mul(per_tx))
            .saturating_add(self.max_block_payload)
    }
}

/// A transaction as carried in a block: the transaction and, for an owned namespace, the
/// owner's signature over its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockTransaction {
    /// The transaction (what the payload tree commits to).
    pub transaction: Transaction,
    /// The namespace owner's ed25519 signature over the transaction hash (domain
    /// [`AUTHORIZATION_NAMESPACE`](trestle_api::authorization::AUTHORIZATION_NAMESPACE)); `None` for unowned namespaces.
    pub authorization: Option<ed25519::Signature>,
}

impl BlockTransaction {
    /// A transaction of an unowned namespace.
    pub fn unowned(transaction: Transaction) -> Self {
        Self { transaction, authorization: None }
    }
}

/// A block. Immutable once built: the constructor computes `payloadRoot` and the digest, and
/// decoding checks them, so every `Block` value is internally consistent.
///
/// Every transaction is hashed exactly once per block value (when it is built or decoded): the
/// hashes and the payload tree over them are carried with the block, so the rules, the
/// finalization path, the indexes and the proof endpoints never hash a payload again.
#[derive(Clone)]
pub struct Block {
    header: Header,
    parent_digest: Digest,
    succession: Succession,
    transactions: Arc<Vec<BlockTransaction>>,
    /// `transactions[i].transaction.hash()`, in block order.
    tx_hashes: Arc<[B256]>,
    /// The payload tree over `tx_hashes` (its root is `payloadRoot` for every block but the
    /// deliberately wrong ones tests assemble with [`Block::from_parts`]).
    payload: Arc<PayloadTree>,
    header_hash: B256,
    digest: Digest,
}

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Block")
            .field("header", &self.header)
            .field("parent_digest", &self.parent_digest)
            .field("succession", &self.succession)
            .field("transactions", &self.transactions.len())
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Block {
    /// The derived parts (hashes, tree, digest) follow from these.
    fn eq(&self, other: &Self) -> bool {
        self.header == other.header
            && self.parent_digest == other.parent_digest
            && self.succession == other.succession
            && self.transactions == other.transactions
    }
}

impl Eq for Block {}

/// Each transaction's hash (once; from `known` where this node hashed it before) and the
/// payload tree over them.
fn hash_transactions(
    transactions: &[BlockTransaction],
    known: Option<&KnownTransactions>,
) -> (Arc<[B256]>, PayloadTree) {
    let hashes: Arc<[B256]> = match known {
        Some(known) => transactions.iter().map(|t| known.hash(&t.transaction)).collect(),
        None => transactions.iter().map(|t| t.transaction.hash()).collect(),
    };
    let tree = PayloadTree::from_hashes(
        transactions.iter().zip(hashes.iter()).map(|(t, hash)| (t.transaction.namespace, *hash)),
    );
    (hashes, tree)
}

/// The fields a block builder chooses; `payloadRoot` is derived from the transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderFields {
    /// Network id.
    pub chain_id: trestle_light_client::ChainId,
    /// Committee period.
    pub epoch: trestle_light_client::Epoch,
    /// Height (parent + 1).
    pub height: trestle_light_client::Height,
    /// Consensus view of the proposal.
    pub view: trestle_light_client::View,
    /// Proposer timestamp (ms since the Unix epoch).
    pub timestamp_ms: u64,
    /// Parent header hash.
    pub parent: B256,
    /// History root over headers `0..height`.
    pub history_root: B256,
    /// Committee commitment.
    pub committee: B256,
    /// The L1 reference and, at an epoch's last height, the committee after next.
    pub succession: Succession,
}

impl Block {
    /// Builds a block, computing `payloadRoot` from `transactions`.
    pub fn new(
        fields: HeaderFields,
        parent_digest: Digest,
        transactions: Vec<BlockTransaction>,
    ) -> Self {
        Self::build(fields, parent_digest, transactions, None)
    }

    /// [`new`](Self::new), taking the hashes of transactions this node hashed before from
    /// `known`.
    pub fn build(
        fields: HeaderFields,
        parent_digest: Digest,
        transactions: Vec<BlockTransaction>,
        known: Option<&KnownTransactions>,
    ) -> Self {
        let (tx_hashes, payload) = hash_transactions(&transactions, known);
        let header = Header {
            chain_id: fields.chain_id,
            epoch: fields.epoch,
            height: fields.height,
            view: fields.view,
            timestamp_ms: fields.timestamp_ms,
            parent: fields.parent,
            payload_root: payload.root(),
            history_root: fields.history_root,
            committee: fields.committee,
        };
        Self::assemble(header, parent_digest, fields.succession, transactions, tx_hashes, payload)
    }

    /// Assembles a block from a header as given (no check that `payloadRoot` matches). Only for
    /// callers that checked it (the decoder) or that build deliberately wrong blocks (tests).
    #[doc(hidden)]
    pub fn from_parts(
        header: Header,
        parent_digest: Digest,
        succession: Succession,
        transactions: Vec<BlockTransaction>,
    ) -> Self {
        let (tx_hashes, payload) = hash_transactions(&transactions, None);
        Self::assemble(header, parent_digest, succession, transactions, tx_hashes, payload)
    }

    fn assemble(
        header: Header,
        parent_digest: Digest,
        succession: Succession,
        transactions: Vec<BlockTransaction>,
        tx_hashes: Arc<[B256]>,
        payload: PayloadTree,
    ) -> Self {
        let header_hash = header.hash();
        let digest = compute_digest(&header_hash, &parent_digest, &succession, &transactions);
        Self {
            header,
            parent_digest,
            succession,
            transactions: Arc::new(transactions),
            tx_hashes,
            payload: Arc::new(payload),
            header_hash,
            digest,
        }
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// `keccak256(abi.encode(header))`.
    pub fn header_hash(&self) -> B256 {
        self.header_hash
    }

    /// Digest of the parent block.
    pub fn parent_digest(&self) -> Digest {
        self.parent_digest
    }

    /// The L1 reference and, at an epoch's last height, the committee after next.
    pub fn succession(&self) -> &Succession {
        &self.succession
    }

    /// Transactions in block order, with their authorizations.
    pub fn transactions(&self) -> &[BlockTransaction] {
        &self.transactions
    }

    /// The transactions' hashes, in block order (computed once, when the block was built or
    /// decoded).
    pub fn tx_hashes(&self) -> &[B256] {
        &self.tx_hashes
    }

    /// The payload tree over the transactions, for `payloadRoot` and inclusion proofs.
    pub fn payload_tree(&self) -> &PayloadTree {
        &self.payload
    }

    /// Sum of the transactions' payload bytes.
    pub fn payload_bytes(&self) -> usize {
        self.transactions.iter().map(|t| t.transaction.payload.len()).sum()
    }
}

/// `keccak256(a_0 ‖ a_1 ‖ …)` over the authorizations in block order (see the module docs).
pub fn authorizations_hash(transactions: &[BlockTransaction]) -> B256 {
    let mut buf = Vec::with_capacity(transactions.len());
    for tx in transactions {
        match &tx.authorization {
            None => buf.push(0u8),
            Some(sig) => {
                buf.push(1u8);
                buf.extend_from_slice(sig.as_ref());
            }
        }
    }
    keccak256(buf)
}

fn compute_digest(
    header_hash: &B256,
    parent_digest: &Digest,
    succession: &Succession,
    transactions: &[BlockTransaction],
) -> Digest {
    let auth = authorizations_hash(transactions);
    let mut buf = Vec::with_capacity(BLOCK_TAG.len() + 128);
    buf.extend_from_slice(BLOCK_TAG);
    buf.extend_from_slice(header_hash.as_slice());
    buf.extend_from_slice(&parent_digest.0);
    buf.extend_from_slice(succession.hash().as_slice());
    buf.extend_from_slice(auth.as_slice());
    digest_from_b256(&keccak256(buf))
}

impl Write for BlockTransaction {
    fn write(&self, buf: &mut impl BufMut) {
        self.transaction.namespace.get().write(buf);
        self.transaction.payload.0.write(buf);
        self.authorization.write(buf);
    }
}

impl EncodeSize for BlockTransaction {
    fn encode_size(&self) -> usize {
        8 + self.transaction.payload.0.encode_size() + self.authorization.encode_size()
    }
}

impl Read for BlockTransaction {
    /// Largest payload.
    type Cfg = usize;

    fn read_cfg(buf: &mut impl Buf, max_payload: &usize) -> Result<Self, CodecError> {
        let namespace = Namespace(u64::read(buf)?);
        let payload = bytes::Bytes::read_cfg(buf, &RangeCfg::from(..=*max_payload))?;
        let authorization = Option::<ed25519::Signature>::read(buf)?;
        Ok(Self { transaction: Transaction::new(namespace, payload), authorization })
    }
}

impl Write for Block {
    fn write(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.header.encode());
        self.parent_digest.write(buf);
        self.succession.write(buf);
        self.transactions.as_slice().write(buf);
    }
}

impl EncodeSize for Block {
    fn encode_size(&self) -> usize {
        HEADER_LEN
            + self.parent_digest.encode_size()
            + self.succession.encode_size()
            + self.transactions.as_slice().encode_size()
    }
}

impl Read for Block {
    type Cfg = BlockCodec;

    fn read_cfg(buf: &mut impl Buf, codec: &BlockCodec) -> Result<Self, CodecError> {
        let limits = &codec.limits;
        let raw = <[u8; HEADER_LEN]>::read(buf)?;
        let header =
            Header::decode(&raw).map_err(|_| CodecError::Invalid("Block", "header encoding"))?;
        let parent_digest = Digest::read(buf)?;
        let succession = Succession::read(buf)?;
        let transactions = Vec::<BlockTransaction>::read_cfg(
            buf,
            &(RangeCfg::from(..=limits.max_transactions), limits.max_payload),
        )?;
        let total: usize = transactions.iter().map(|t| t.transaction.payload.len()).sum();
        if total > limits.max_block_payload {
            return Err(CodecError::Invalid("Block", "payload bytes over the block limit"));
        }
        let (tx_hashes, payload) = hash_transactions(&transactions, codec.known.as_ref());
        if payload.root() != header.payload_root {
            return Err(CodecError::Invalid("Block", "payloadRoot does not match transactions"));
        }
        Ok(Self::assemble(header, parent_digest, succession, transactions, tx_hashes, payload))
    }
}

impl Digestible for Block {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        self.digest
    }
}

impl Heightable for Block {
    fn height(&self) -> CwHeight {
        CwHeight::new(self.header.height.get())
    }
}

impl commonware_consensus::Block for Block {
    fn parent(&self) -> Digest {
        self.parent_digest
    }
}

impl BoundedBlock for Block {
    fn max_encode_size(codec: &BlockCodec) -> usize {
        codec.limits.max_encoded_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commonware_codec::{Decode as _, Encode as _};
    use commonware_cryptography::Signer as _;
    use trestle_light_client::{
        ChainId, Epoch, Height, View,
        rotation::{CommitteeRecord, CommitteeSeat, L1Reference},
    };

    fn fields() -> HeaderFields {
        HeaderFields {
            chain_id: ChainId(7),
            epoch: Epoch(0),
            height: Height(3),
            view: View(5),
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
                p2p_address: match i % 3 {
                    0 => None,
                    1 => Some(format!("10.0.0.{i}:3000").parse().expect("v4")),
                    _ => Some(format!("[2001:db8::{i}]:3000").parse().expect("v6")),
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
            let decoded =
                Block::decode_cfg(bytes.clone(), &BlockCodec::default()).expect("decodes");
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
            block.transactions().to_vec(),
        );
        assert_ne!(other_parent.digest(), block.digest());
        let mut txs = block.transactions().to_vec();
        txs[1].authorization = None;
        other_parent = Block::from_parts(
            block.header().clone(),
            block.parent_digest(),
            succession.clone(),
            txs,
        );
        assert_ne!(other_parent.digest(), block.digest());
        let mut header = block.header().clone();
        header.view = View(6);
        let other = Block::from_parts(
            header,
            block.parent_digest(),
            succession,
            block.transactions().to_vec(),
        );
        assert_ne!(other.digest(), block.digest());
        let elsewhere = Succession::at(L1Reference { number: 18, hash: B256::repeat_byte(6) });
        let other = Block::from_parts(
            block.header().clone(),
            block.parent_digest(),
            elsewhere,
            block.transactions().to_vec(),
        );
        assert_ne!(other.digest(), block.digest(), "the digest binds the L1 reference");
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
}
