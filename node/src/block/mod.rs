//! Blocks: a header, its transactions and their owner authorizations.
//!
//! # Digest
//!
//! The consensus digest (what simplex votes on and certificates sign) is
//!
//! ```text
//! digest = keccak256("trestle.block.v3" ‖ header.hash() ‖ parentDigest ‖ successionHash
//!                     ‖ authorizationsHash ‖ contextHash)
//! successionHash = keccak256(l1.number u64 BE ‖ l1.hash ‖ nextCommittee encoding)
//! contextHash    = keccak256(context encoding)
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
//! * `contextHash` binds the consensus [`BlockContext`] the block was proposed in: its round
//!   (epoch, view), its leader and its parent's view and [`Commitment`]. Blocks travel as
//!   erasure-coded shards (commonware `marshal::coding`, DESIGN §3b): votes sign a
//!   [`Commitment`] (block digest ‖ coding root ‖ context hash ‖ coding config), and a validator
//!   that never saw the proposal must still be able to check, from the rebuilt block alone,
//!   that it belongs to the round it certifies. The header's `view` is the context's view.
//!
//! To link a consensus certificate to a header one therefore needs the header plus the three extra
//! 32-byte words; heights, headers and history proofs never need the block digest.
//!
//! # Encoding (commonware-codec, canonical)
//!
//! ```text
//! header          288 bytes, abi.encode(Header) (the same bytes Solidity hashes)
//! parentDigest    32 bytes
//! l1              number u64 BE ‖ hash 32 bytes
//! nextCommittee   0x00, or 0x01 ‖ capacity u16 BE ‖ count varint ‖ per member: consensus key
//!                 32 bytes ‖ light-client key 64 bytes ‖ p2p address: 0x00 (none), 0x01 ‖
//!                 commonware SocketAddr, or 0x02 ‖ name length u8 ‖ DNS name ‖ port u16 BE
//! context         epoch varint ‖ view varint ‖ leader 32 bytes ‖ parent view varint ‖ parent
//!                 commitment 100 bytes (commonware's `simplex::types::Context`)
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
use commonware_codec::Encode as _;
use commonware_codec::{
    Buf, EncodeSize, Error as CodecError, MaxEncodeSize, RangeCfg, Read, ReadExt, Write,
    varint::UInt,
};
use commonware_consensus::{
    BoundedBlock, CertifiableBlock, Heightable,
    simplex::types::Context,
    types::{Epoch as CwEpoch, Height as CwHeight, Round, View as CwView},
};
use commonware_cryptography::{
    Digestible, Hasher, Signer as _, ed25519, keccak256::Digest as Keccak,
};
use trestle_api::GenesisLimits;
use trestle_light_client::{Header, Namespace, PayloadTree, Transaction, header::HEADER_LEN};

pub use crate::succession::Succession;
use crate::{known::KnownTransactions, succession::SUCCESSION_MAX_ENCODE_SIZE};

/// The consensus digest of a block (32 bytes, keccak256).
pub type Digest = Keccak;

/// Domain tag of block digests.
pub const BLOCK_TAG: &[u8] = b"trestle.block.v3";

/// The hash of erasure coding: the Merkle tree over a block's shards and the digest of its
/// consensus context in the [`Commitment`]. BLAKE3, not keccak or SHA-256: every validator
/// hashes the whole coded block (about twice its size, N = 4) and the leader all of it, and on
/// this box BLAKE3 checks a 4 MiB block's shard 3.4 times faster than SHA-256 (with SHA-NI) and
/// 15 times faster than keccak (BENCHMARKS "Erasure coding of a block"). Nothing outside
/// consensus recomputes it: clients take the commitment's bytes from the certificate.
pub type CodingHasher = commonware_cryptography::Blake3;

/// A [`CodingHasher`] digest (coding roots and context digests in a [`Commitment`]).
pub type CodingDigest = <CodingHasher as Hasher>::Digest;

/// How blocks are erasure-coded for dissemination: Reed-Solomon shards under a [`CodingHasher`]
/// Merkle root (commonware-coding).
pub type CodingScheme = commonware_coding::ReedSolomon<CodingHasher>;

/// What consensus votes on: the block digest, the coding root of its shards, the hash of its
/// consensus context and the coding configuration (100 bytes).
pub type Commitment =
    commonware_consensus::types::coding::Commitment<Block, CodingScheme, CodingHasher>;

/// The consensus context a block is proposed in (round, leader, parent view and commitment);
/// the block embeds it and its digest binds it.
pub type BlockContext = Context<Commitment, ed25519::PublicKey>;

/// The coding configuration of the genesis block (it is never coded: every node builds it).
pub const GENESIS_CODING_CONFIG: commonware_coding::Config = commonware_coding::Config {
    minimum_shards: std::num::NonZeroU16::MIN,
    extra_shards: std::num::NonZeroU16::MIN,
};

/// The parent commitment the genesis block's context names: all zeros, nothing precedes it.
pub fn zero_commitment() -> Commitment {
    Commitment::from((
        Keccak([0u8; 32]),
        CodingDigest::from([0u8; 32]),
        CodingDigest::from([0u8; 32]),
        GENESIS_CODING_CONFIG,
    ))
}

/// The commitment of a block that is not coded (the genesis block, which every node builds
/// itself): the digest in place of a coding root.
pub fn uncoded_commitment(block: &Block) -> Commitment {
    let digest = block.digest();
    Commitment::from((
        digest,
        CodingDigest::from(digest.0),
        commonware_consensus::marshal::coding::types::hash_context::<CodingHasher, _>(
            &block.context,
        ),
        GENESIS_CODING_CONFIG,
    ))
}

/// A context for blocks built outside consensus (tests, fixtures): round `(epoch, view)`, a
/// fixed leader and the zero parent commitment one view back.
#[doc(hidden)]
pub fn context_at(epoch: u64, view: u64) -> BlockContext {
    BlockContext {
        round: Round::new(CwEpoch::new(epoch), CwView::new(view)),
        leader: ed25519::PrivateKey::from_seed(0).public_key(),
        parent: (CwView::new(view.saturating_sub(1)), zero_commitment()),
    }
}

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
        (HEADER_LEN + 32 + SUCCESSION_MAX_ENCODE_SIZE + BlockContext::MAX_ENCODE_SIZE + prefix)
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
    context: BlockContext,
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
            .field("context", &self.context)
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
            && self.context == other.context
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
    /// The consensus context of the proposal (the header's `view` is its view).
    pub context: BlockContext,
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
            view: trestle_light_client::View(fields.context.round.view().get()),
            timestamp_ms: fields.timestamp_ms,
            parent: fields.parent,
            payload_root: payload.root(),
            history_root: fields.history_root,
            committee: fields.committee,
        };
        Self::assemble(
            header,
            parent_digest,
            fields.succession,
            fields.context,
            transactions,
            tx_hashes,
            payload,
        )
    }

    /// Assembles a block from a header as given (no check that `payloadRoot` matches). Only for
    /// callers that checked it (the decoder) or that build deliberately wrong blocks (tests).
    #[doc(hidden)]
    pub fn from_parts(
        header: Header,
        parent_digest: Digest,
        succession: Succession,
        context: BlockContext,
        transactions: Vec<BlockTransaction>,
    ) -> Self {
        let (tx_hashes, payload) = hash_transactions(&transactions, None);
        Self::assemble(header, parent_digest, succession, context, transactions, tx_hashes, payload)
    }

    fn assemble(
        header: Header,
        parent_digest: Digest,
        succession: Succession,
        context: BlockContext,
        transactions: Vec<BlockTransaction>,
        tx_hashes: Arc<[B256]>,
        payload: PayloadTree,
    ) -> Self {
        let header_hash = header.hash();
        let digest =
            compute_digest(&header_hash, &parent_digest, &succession, &context, &transactions);
        Self {
            header,
            parent_digest,
            succession,
            context,
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

    /// The consensus context the block was proposed in.
    pub fn consensus_context(&self) -> &BlockContext {
        &self.context
    }

    /// `keccak256` of the encoded consensus context (bound by the digest).
    pub fn context_hash(&self) -> B256 {
        keccak256(self.context.encode())
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
    context: &BlockContext,
    transactions: &[BlockTransaction],
) -> Digest {
    let auth = authorizations_hash(transactions);
    let mut buf = Vec::with_capacity(BLOCK_TAG.len() + 160);
    buf.extend_from_slice(BLOCK_TAG);
    buf.extend_from_slice(header_hash.as_slice());
    buf.extend_from_slice(&parent_digest.0);
    buf.extend_from_slice(succession.hash().as_slice());
    buf.extend_from_slice(auth.as_slice());
    buf.extend_from_slice(keccak256(context.encode()).as_slice());
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
        self.context.write(buf);
        self.transactions.as_slice().write(buf);
    }
}

impl EncodeSize for Block {
    fn encode_size(&self) -> usize {
        HEADER_LEN
            + self.parent_digest.encode_size()
            + self.succession.encode_size()
            + self.context.encode_size()
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
        let context = BlockContext::read(buf)?;
        if header.view.get() != context.round.view().get() {
            return Err(CodecError::Invalid("Block", "header view is not the context's view"));
        }
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
        Ok(Self::assemble(
            header,
            parent_digest,
            succession,
            context,
            transactions,
            tx_hashes,
            payload,
        ))
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

impl CertifiableBlock for Block {
    type Context = BlockContext;

    fn context(&self) -> BlockContext {
        self.context.clone()
    }
}

impl BoundedBlock for Block {
    fn max_encode_size(codec: &BlockCodec) -> usize {
        codec.limits.max_encoded_size()
    }
}

#[cfg(test)]
mod tests;
