//! The block validity rules, as pure functions (no I/O, no clock).
//!
//! A proposer builds with [`next_fields`]; every validator runs [`check_block`] on a proposal
//! and recomputes every header field from the parent, the network parameters and the
//! committee of the block's epoch. The inputs that do not come from the chain itself are the
//! consensus view (checked by [`check_view`]), the local clock (the caller delays a block from
//! the future) and the L1: [`check_block`] only checks that the block's L1 reference follows its
//! parent's and that exactly an epoch's last block names the committee after next; whether the
//! reference is on L1 and the committee is the one the stake table yields is the application's
//! question to its L1 view (see [`crate::application`] and [`crate::l1`]).
//!
//! Epochs (DESIGN §3a): the header's epoch is `height / epochLength`; views restart in every
//! epoch (each epoch runs its own simplex instance), so a view must exceed the parent's only
//! within one epoch, and the first block of an epoch may carry any view from 1 on.

use std::{
    collections::{BTreeMap, HashSet},
    num::NonZeroU64,
    sync::Arc,
};

use alloy_primitives::B256;
use commonware_cryptography::{Digestible as _, ed25519};
use trestle_api::ResolvedGenesis;
use trestle_light_client::{
    ChainId, Epoch, Frontier, Height, Namespace, View, epoch,
    records::RecordError,
    rotation::{CommitteeRecord, L1Reference, L1ReferenceError, check_advance},
    stake::StakeTableId,
};

use crate::{
    block::{Block, BlockContext, BlockLimits, Digest, HeaderFields},
    mempool::{SubmitError, check_authorization},
    records::BlockNamespaces,
    succession::Succession,
};

/// The parameters every validator of a network agrees on.
#[derive(Clone, Debug)]
pub struct ChainParams {
    /// Network id.
    pub chain_id: ChainId,
    /// Heights per epoch.
    pub epoch_length: NonZeroU64,
    /// The committee of epochs 0 and 1.
    pub genesis_committee: Arc<CommitteeRecord>,
    /// The genesis L1 reference ([`L1Reference::NONE`] without an L1).
    pub genesis_l1: L1Reference,
    /// The StakeTable later committees come from (`None`: the genesis committee forever).
    pub stake_table: Option<StakeTableId>,
    /// Block size limits.
    pub limits: BlockLimits,
    /// Owned namespaces and their owners' keys.
    pub owners: BTreeMap<Namespace, ed25519::PublicKey>,
    /// The block namespaces among them (their records must chain: [`crate::records`]).
    pub block_namespaces: BlockNamespaces,
    /// Timestamp of the genesis header (ms since the Unix epoch).
    pub genesis_timestamp_ms: u64,
    /// Least time between a block and its parent (ms): a child's timestamp is at least the
    /// parent's plus this. It paces an idle network (empty blocks are allowed) and bounds how
    /// fast even a Byzantine leader can grow the chain. 0 lets blocks follow each other as
    /// fast as consensus finishes them.
    pub min_block_interval_ms: u64,
}

impl ChainParams {
    /// The parameters a (checked) genesis sets.
    pub fn from_genesis(genesis: &ResolvedGenesis) -> Self {
        Self {
            chain_id: genesis.chain_id,
            epoch_length: genesis.epoch_length,
            genesis_committee: Arc::new(genesis.committee_record()),
            genesis_l1: genesis.l1_reference(),
            stake_table: genesis.l1.map(|l1| l1.stake_table),
            limits: BlockLimits::from(genesis.limits),
            owners: genesis.owners.clone(),
            block_namespaces: genesis.block_namespaces.clone(),
            genesis_timestamp_ms: genesis.timestamp_ms,
            min_block_interval_ms: genesis.min_block_interval_ms,
        }
    }

    /// The epoch of `height`.
    pub fn epoch_of(&self, height: Height) -> Epoch {
        epoch::epoch_of(height, self.epoch_length)
    }

    /// Whether `height` is the last of its epoch (its block names the committee after next).
    pub fn is_last(&self, height: Height) -> bool {
        epoch::is_last(height, self.epoch_length)
    }

    /// Earliest timestamp a child of a block with `parent_timestamp_ms` may carry.
    pub fn earliest_child_timestamp(&self, parent_timestamp_ms: u64) -> u64 {
        parent_timestamp_ms.saturating_add(self.min_block_interval_ms)
    }
}

/// What a child needs to know about its parent: a block already known to be valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parent {
    /// The parent block's digest.
    pub digest: Digest,
    /// The parent header's hash.
    pub header_hash: B256,
    /// The parent's height.
    pub height: Height,
    /// The parent's epoch.
    pub epoch: Epoch,
    /// The parent's view.
    pub view: View,
    /// The parent's L1 reference.
    pub l1: L1Reference,
    /// The parent's timestamp.
    pub timestamp_ms: u64,
    /// History over headers `0..=parent.height` (so its root is the child's `historyRoot`).
    pub history: Frontier,
}

impl Parent {
    /// The parent record of `block`, given the history *before* it (over `0..block.height`).
    pub fn of(block: &Block, history_before: &Frontier) -> Self {
        Self {
            digest: block.digest(),
            header_hash: block.header_hash(),
            height: block.header().height,
            epoch: block.header().epoch,
            view: block.header().view,
            l1: block.succession().l1,
            timestamp_ms: block.header().timestamp_ms,
            history: history_before.with(&block.header_hash()),
        }
    }
}

/// Why a block is invalid. Every variant is permanent: the same block on the same parent is
/// never valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The block names another parent block.
    #[error("parent digest {found:?} is not the parent's {expected:?}")]
    ParentDigest {
        /// Digest of the actual parent.
        expected: Digest,
        /// Digest the block names.
        found: Digest,
    },
    /// `header.parent` is not the parent header's hash.
    #[error("header.parent {found} is not the parent header hash {expected}")]
    ParentHash {
        /// Hash of the parent header.
        expected: B256,
        /// Hash the header names.
        found: B256,
    },
    /// `header.chainId` is not this network's.
    #[error("chain id {found} (expected {expected})")]
    ChainId {
        /// This network's id.
        expected: u64,
        /// The header's.
        found: u64,
    },
    /// `header.epoch` is not the epoch of its height.
    #[error("epoch {found} (expected {expected})")]
    Epoch {
        /// The height's epoch.
        expected: u64,
        /// The header's.
        found: u64,
    },
    /// `header.height` is not the parent's plus one.
    #[error("height {found} (expected {expected})")]
    Height {
        /// Parent height + 1.
        expected: u64,
        /// The header's.
        found: u64,
    },
    /// `header.view` is not the consensus view of the proposal, or not above the parent's in
    /// the same epoch (or 0).
    #[error("view {found} (expected {expected})")]
    View {
        /// The proposal's consensus view.
        expected: u64,
        /// The header's.
        found: u64,
    },
    /// The timestamp is below the parent's plus the minimum block interval (timestamps never
    /// decrease, and blocks are paced).
    #[error("timestamp {found} is below the earliest allowed {earliest} (parent {parent})")]
    Timestamp {
        /// The parent's timestamp.
        parent: u64,
        /// The parent's timestamp plus the minimum block interval.
        earliest: u64,
        /// The header's.
        found: u64,
    },
    /// `payloadRoot` does not commit to the block's transactions.
    #[error("payloadRoot does not match the transactions")]
    PayloadRoot,
    /// `historyRoot` is not the root over headers `0..height`.
    #[error("historyRoot {found} (expected {expected})")]
    HistoryRoot {
        /// The root over the parent chain.
        expected: B256,
        /// The header's.
        found: B256,
    },
    /// `committee` is not the epoch's committee commitment.
    #[error("committee {found} (expected {expected})")]
    Committee {
        /// The epoch's commitment.
        expected: B256,
        /// The header's.
        found: B256,
    },
    /// The L1 reference does not follow the parent's.
    #[error("L1 reference: {0}")]
    L1Reference(#[from] L1ReferenceError),
    /// An epoch's last block that names no committee after next.
    #[error("block at height {0} ends its epoch but names no next committee")]
    MissingNextCommittee(u64),
    /// A block that names a committee after next without ending its epoch.
    #[error("block at height {0} names a next committee but does not end its epoch")]
    UnexpectedNextCommittee(u64),
    /// The named committee is padded to another capacity than the circuit's.
    #[error("next committee capacity {found} (the circuit's is {expected})")]
    CommitteeCapacity {
        /// The network's capacity.
        expected: usize,
        /// The record's.
        found: usize,
    },
    /// The committee after next is not the one the rotation rule yields.
    #[error("next committee {found} is not the rule's {expected}")]
    NextCommittee {
        /// The rule's commitment.
        expected: B256,
        /// The block's.
        found: B256,
    },
    /// The L1 reference names a block that is not on this node's L1.
    #[error("L1 reference {number} names {found}, L1 has {ours} there")]
    NotOnL1 {
        /// The L1 block number.
        number: u64,
        /// Our L1 block's hash there.
        ours: B256,
        /// The reference's hash.
        found: B256,
    },
    /// The L1 reference is older than what this node's L1 view keeps, so it cannot be
    /// checked (honest proposers name recent blocks).
    #[error("L1 reference {0} is older than this node's L1 view keeps")]
    L1Forgotten(u64),
    /// The L1 reference moved on a network whose genesis names no stake table.
    #[error("L1 reference {0} on a network without a stake table")]
    NoStakeTable(u64),
    /// Too many transactions or payload bytes.
    #[error("block exceeds its limits ({transactions} transactions, {bytes} payload bytes)")]
    TooLarge {
        /// Transactions in the block.
        transactions: usize,
        /// Payload bytes in the block.
        bytes: usize,
    },
    /// A transaction appears twice in the block.
    #[error("transaction {0} appears twice")]
    DuplicateTransaction(B256),
    /// A transaction is already in the chain (finalized, or in an unfinalized ancestor).
    #[error("transaction {0} is already in the chain")]
    AlreadyIncluded(B256),
    /// A transaction's payload or authorization is not admissible.
    #[error("transaction {index}: {reason}")]
    Transaction {
        /// Position in the block.
        index: usize,
        /// The admission rule it breaks.
        reason: SubmitError,
    },
    /// A block record that does not extend its namespace's records on the block's branch (a
    /// gap, a wrong parent, a second record for a number, another rollup's record).
    #[error("transaction {index}: {reason}")]
    Record {
        /// Position in the block.
        index: usize,
        /// The rule it breaks.
        reason: RecordError,
    },
}

/// The fields of the child of `parent` proposed in consensus context `context` (its view is the
/// header's) at local time `now_ms`, in an epoch
/// whose committee commitment is `committee`, with `succession` (the L1 reference and, at an
/// epoch's last height, the committee after next).
///
/// The timestamp is the later of `now_ms` and the parent's plus the minimum block interval; a
/// proposer should not publish the block before its clock reaches that timestamp (verifiers
/// hold blocks from the future).
pub fn next_fields(
    params: &ChainParams,
    parent: &Parent,
    context: BlockContext,
    now_ms: u64,
    committee: B256,
    succession: Succession,
) -> HeaderFields {
    let height = Height(parent.height.get() + 1);
    HeaderFields {
        chain_id: params.chain_id,
        epoch: params.epoch_of(height),
        height,
        context,
        timestamp_ms: now_ms.max(params.earliest_child_timestamp(parent.timestamp_ms)),
        parent: parent.header_hash,
        history_root: parent.history.root(),
        committee,
        succession,
    }
}

/// Checks everything about `block` that follows from its parent, the network parameters and
/// `committee`, the commitment of the committee of the block's epoch.
pub fn check_block(
    params: &ChainParams,
    parent: &Parent,
    block: &Block,
    committee: &B256,
) -> Result<(), BlockError> {
    let header = block.header();
    if block.parent_digest() != parent.digest {
        return Err(BlockError::ParentDigest {
            expected: parent.digest,
            found: block.parent_digest(),
        });
    }
    if header.parent != parent.header_hash {
        return Err(BlockError::ParentHash { expected: parent.header_hash, found: header.parent });
    }
    if header.chain_id != params.chain_id {
        return Err(BlockError::ChainId {
            expected: params.chain_id.get(),
            found: header.chain_id.get(),
        });
    }
    let height = parent.height.get() + 1;
    if header.height.get() != height {
        return Err(BlockError::Height { expected: height, found: header.height.get() });
    }
    let epoch = params.epoch_of(header.height);
    if header.epoch != epoch {
        return Err(BlockError::Epoch { expected: epoch.get(), found: header.epoch.get() });
    }
    // Views restart with every epoch's simplex instance: order (epoch, view).
    let least_view = if parent.epoch == epoch { parent.view.get() + 1 } else { 1 };
    if header.view.get() < least_view {
        return Err(BlockError::View { expected: least_view, found: header.view.get() });
    }
    check_advance(&parent.l1, &block.succession().l1)?;
    let last = params.is_last(header.height);
    match &block.succession().next_committee {
        Some(record) if last => {
            let expected = params.genesis_committee.capacity();
            if record.capacity() != expected {
                return Err(BlockError::CommitteeCapacity { expected, found: record.capacity() });
            }
        }
        None if !last => {}
        None => return Err(BlockError::MissingNextCommittee(height)),
        Some(_) => return Err(BlockError::UnexpectedNextCommittee(height)),
    }
    let earliest = params.earliest_child_timestamp(parent.timestamp_ms);
    if header.timestamp_ms < earliest {
        return Err(BlockError::Timestamp {
            parent: parent.timestamp_ms,
            earliest,
            found: header.timestamp_ms,
        });
    }
    let history = parent.history.root();
    if header.history_root != history {
        return Err(BlockError::HistoryRoot { expected: history, found: header.history_root });
    }
    if header.committee != *committee {
        return Err(BlockError::Committee { expected: *committee, found: header.committee });
    }
    let transactions = block.transactions();
    let bytes = block.payload_bytes();
    if transactions.len() > params.limits.max_transactions
        || bytes > params.limits.max_block_payload
    {
        return Err(BlockError::TooLarge { transactions: transactions.len(), bytes });
    }
    let mut seen = HashSet::with_capacity(transactions.len());
    for (index, (tx, &hash)) in transactions.iter().zip(block.tx_hashes()).enumerate() {
        let len = tx.transaction.payload.len();
        if len > params.limits.max_payload {
            return Err(BlockError::Transaction {
                index,
                reason: SubmitError::Oversized { len, limit: params.limits.max_payload },
            });
        }
        if !seen.insert(hash) {
            return Err(BlockError::DuplicateTransaction(hash));
        }
        check_authorization(&params.owners, tx, &hash)
            .map_err(|reason| BlockError::Transaction { index, reason })?;
    }
    // The tree was built from these transactions when the block was; a block assembled with a
    // header from elsewhere (only tests can) is caught here.
    if block.payload_tree().root() != header.payload_root {
        return Err(BlockError::PayloadRoot);
    }
    Ok(())
}

/// Checks that the header carries the consensus view it was proposed in.
pub fn check_view(block: &Block, view: View) -> Result<(), BlockError> {
    if block.header().view != view {
        return Err(BlockError::View { expected: view.get(), found: block.header().view.get() });
    }
    Ok(())
}

/// The genesis block of a network: height 0, epoch 0, view 0, no transactions, zero parent,
/// empty history, the genesis committee and L1 reference.
pub fn genesis(params: &ChainParams) -> Block {
    Block::new(
        HeaderFields {
            chain_id: params.chain_id,
            epoch: Epoch(0),
            height: Height(0),
            context: crate::block::context_at(0, 0),
            timestamp_ms: params.genesis_timestamp_ms,
            parent: B256::ZERO,
            history_root: Frontier::new().root(),
            committee: params.genesis_committee.commitment(),
            succession: Succession::at(params.genesis_l1),
        },
        commonware_cryptography::keccak256::Digest([0u8; 32]),
        Vec::new(),
    )
}

/// A committee of `members` test validators (fixed seeds) padded to `capacity`.
#[cfg(test)]
pub(crate) fn test_committee(members: u8, capacity: usize) -> Arc<CommitteeRecord> {
    let members = (1..=members)
        .map(|i| trestle_light_client::rotation::CommitteeSeat {
            consensus_key: B256::repeat_byte(i),
            light_client_key: *trestle_light_client::SecretKey::from_seed([i; 32]).public_key(),
            p2p_address: None,
        })
        .collect();
    Arc::new(CommitteeRecord::new(members, capacity).expect("a valid test committee"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::BlockTransaction;
    use commonware_cryptography::{Signer as _, keccak256::Digest as Keccak};
    use trestle_light_client::{Header, Transaction};

    fn params() -> (ChainParams, ed25519::PrivateKey) {
        let owner = ed25519::PrivateKey::from_seed(11);
        let params = ChainParams {
            chain_id: ChainId(5),
            epoch_length: epoch::ENDLESS,
            genesis_committee: test_committee(4, 4),
            genesis_l1: L1Reference::NONE,
            stake_table: None,
            limits: BlockLimits { max_transactions: 4, max_payload: 8, max_block_payload: 16 },
            owners: BTreeMap::from([(Namespace(50), owner.public_key())]),
            block_namespaces: BlockNamespaces::new(),
            genesis_timestamp_ms: 1_000,
            min_block_interval_ms: 0,
        };
        (params, owner)
    }

    fn committee(params: &ChainParams) -> B256 {
        params.genesis_committee.commitment()
    }

    fn honest(params: &ChainParams, parent: &Parent, view: View, now_ms: u64) -> HeaderFields {
        let context = crate::block::context_at(0, view.get());
        next_fields(params, parent, context, now_ms, committee(params), Succession::at(parent.l1))
    }

    fn child(params: &ChainParams, parent: &Parent, txs: Vec<BlockTransaction>) -> Block {
        Block::new(honest(params, parent, View(parent.view.get() + 2), 2_000), parent.digest, txs)
    }

    fn check(params: &ChainParams, parent: &Parent, block: &Block) -> Result<(), BlockError> {
        check_block(params, parent, block, &committee(params))
    }

    /// Rebuilds `block` with one header field changed.
    fn tweak(block: &Block, f: impl FnOnce(&mut Header)) -> Block {
        let mut header = block.header().clone();
        f(&mut header);
        Block::from_parts(
            header,
            block.parent_digest(),
            block.succession().clone(),
            block.consensus_context().clone(),
            block.transactions().to_vec(),
        )
    }

    #[test]
    fn built_blocks_verify_and_every_field_is_checked() {
        let (params, owner) = params();
        let genesis = genesis(&params);
        let root = Parent::of(&genesis, &Frontier::new());
        let owned = Transaction::new(Namespace(50), b"m".to_vec());
        let sig = trestle_api::authorization::authorize(&owner, &owned);
        let txs = vec![
            BlockTransaction::unowned(Transaction::new(Namespace(1), b"a".to_vec())),
            BlockTransaction { transaction: owned, authorization: Some(sig) },
        ];
        let block = child(&params, &root, txs.clone());
        check(&params, &root, &block).expect("valid");
        check_view(&block, View(2)).expect("view");
        assert!(check_view(&block, View(3)).is_err());
        // Chained: history root of height 2 covers headers 0 and 1.
        let one = Parent::of(&block, &root.history);
        let two = child(&params, &one, vec![]);
        check(&params, &one, &two).expect("valid");
        let mut tree = trestle_light_client::HistoryTree::new();
        tree.append(&genesis.header_hash());
        tree.append(&block.header_hash());
        assert_eq!(two.header().history_root, tree.root());

        let bad = [
            tweak(&block, |h| h.chain_id = ChainId(6)),
            tweak(&block, |h| h.epoch = Epoch(1)),
            tweak(&block, |h| h.height = Height(2)),
            tweak(&block, |h| h.view = View(0)),
            tweak(&block, |h| h.timestamp_ms = 999),
            tweak(&block, |h| h.parent = B256::repeat_byte(1)),
            tweak(&block, |h| h.payload_root = B256::repeat_byte(1)),
            tweak(&block, |h| h.history_root = B256::repeat_byte(1)),
            tweak(&block, |h| h.committee = B256::repeat_byte(1)),
            Block::from_parts(
                block.header().clone(),
                Keccak([9; 32]),
                block.succession().clone(),
                block.consensus_context().clone(),
                txs.clone(),
            ),
        ];
        for (i, b) in bad.iter().enumerate() {
            assert!(check(&params, &root, b).is_err(), "tweak {i} accepted");
        }
        // Authorization removed (digest changes, header does not).
        let mut stripped = txs.clone();
        stripped[1].authorization = None;
        let b = Block::from_parts(
            block.header().clone(),
            root.digest,
            block.succession().clone(),
            block.consensus_context().clone(),
            stripped,
        );
        assert!(matches!(
            check(&params, &root, &b),
            Err(BlockError::Transaction {
                index: 1,
                reason: SubmitError::MissingAuthorization(50)
            })
        ));
        // Duplicates and limits.
        let dup = child(&params, &root, vec![txs[0].clone(), txs[0].clone()]);
        assert!(matches!(check(&params, &root, &dup), Err(BlockError::DuplicateTransaction(_))));
        let big: Vec<_> = (0..5u8)
            .map(|i| BlockTransaction::unowned(Transaction::new(Namespace(1), vec![i])))
            .collect();
        let big = child(&params, &root, big);
        assert!(matches!(check(&params, &root, &big), Err(BlockError::TooLarge { .. })));
        let oversized = child(
            &params,
            &root,
            vec![BlockTransaction::unowned(Transaction::new(Namespace(1), vec![0u8; 9]))],
        );
        assert!(matches!(
            check(&params, &root, &oversized),
            Err(BlockError::Transaction { index: 0, reason: SubmitError::Oversized { .. } })
        ));
    }

    #[test]
    fn timestamps_never_decrease() {
        let (params, _) = params();
        let genesis = genesis(&params);
        let root = Parent::of(&genesis, &Frontier::new());
        let fields = honest(&params, &root, View(1), 5);
        assert_eq!(fields.timestamp_ms, params.genesis_timestamp_ms);
        let fields = honest(&params, &root, View(1), 5_000);
        assert_eq!(fields.timestamp_ms, 5_000);
    }

    #[test]
    fn blocks_are_paced_by_the_minimum_interval() {
        let (mut params, _) = params();
        params.min_block_interval_ms = 250;
        let genesis = genesis(&params);
        let root = Parent::of(&genesis, &Frontier::new());
        // A proposer whose clock is early still stamps the earliest allowed time.
        let fields = honest(&params, &root, View(1), 1_100);
        assert_eq!(fields.timestamp_ms, 1_250);
        let block = Block::new(fields, root.digest, Vec::new());
        assert_eq!(check(&params, &root, &block), Ok(()));
        // A block stamped inside the interval is invalid (a leader cannot outpace the rule).
        let early = tweak(&block, |h| h.timestamp_ms = 1_249);
        assert_eq!(
            check(&params, &root, &early),
            Err(BlockError::Timestamp { parent: 1_000, earliest: 1_250, found: 1_249 })
        );
        // Empty blocks are fine.
        assert!(block.transactions().is_empty());
    }
}
