//! The application's chain state: the mempool, the finalized chain (headers, history, the
//! transaction index) and the verified unfinalized blocks above it. Pure (no I/O, no clock: the
//! actor passes the time in), so proposing, verifying and finalizing are unit-tested directly.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use alloy_primitives::B256;
use commonware_consensus::Heightable as _;
use commonware_cryptography::{Digested, Digestible as _};
use commonware_utils::channel::mpsc;
use tracing::{debug, warn};
use trestle_light_client::{
    Epoch, Frontier, Header, Height, HistoryTree, LightClientState, Namespace, View,
    records::{self as record_rules, RecordError, RecordTip},
    rotation::{RotationError, check_advance},
};

use super::{
    Config, Finalized,
    committees::{Committees, ExpectedError},
    evidence::StoredEquivocation,
    index::IndexedBlock,
    metrics::Metrics,
    recent::RecentBlocks,
    records::{Equivocation, FirstRecord, RecordIndex},
};
use crate::{
    block::{Block, BlockContext, BlockTransaction, Digest},
    known::KnownTransactions,
    l1::{L1Check, L1View},
    mempool::{Mempool, SubmitError},
    records::{TipChanges, Tracker, check_records},
    rules::{self, BlockError, ChainParams, Parent},
    succession::Succession,
};

/// Why a block marshal delivered as finalized was refused. Each one means this node's chain
/// and the network's finality disagree (or its storage lost a block): the node halts with the
/// reason rather than acknowledge the block, sign anything on it, or stall silently.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FinalizeError {
    /// The block is not at the next height of our finalized chain.
    #[error("finalized block at height {height}, expected height {expected}")]
    OutOfOrder {
        /// The block's height.
        height: u64,
        /// The next height of our chain.
        expected: u64,
    },
    /// Another block is finalized at this height in our chain (a safety violation).
    #[error("finalized block at height {height} conflicts with our finalized block there")]
    Conflicting {
        /// The block's height.
        height: u64,
    },
    /// The block's parent is not our finalized tip.
    #[error("finalized block at height {height} does not extend our finalized tip")]
    NotOnTip {
        /// The block's height.
        height: u64,
    },
    /// The block's history root is not the root over our finalized headers.
    #[error("finalized block at height {height} carries history root {found}, ours is {expected}")]
    WrongHistoryRoot {
        /// The block's height.
        height: u64,
        /// The root over our finalized headers `0..height`.
        expected: B256,
        /// The root the block carries.
        found: B256,
    },
    /// An epoch's last block without the committee after next (the rules refuse such a block,
    /// so a quorum finalized what no honest validator verifies).
    #[error("finalized block at height {height} ends its epoch but names no next committee")]
    MissingNextCommittee {
        /// The block's height.
        height: u64,
    },
    /// A block marshal recorded as processed is missing from its archive (after a restart).
    #[error("processed block at height {height} is missing from marshal's archive")]
    MissingBlock {
        /// The missing height.
        height: u64,
    },
}

/// What applying a finalized block did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Applied {
    /// The block extended the finalized chain.
    Extended,
    /// The block was finalized already (marshal delivers at least once).
    Duplicate,
}

/// The answer to a proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verification {
    /// Valid: vote for it.
    Valid,
    /// Permanently invalid.
    Invalid,
    /// Not decidable yet: this node's L1 view lags the block's reference, or its chain has not
    /// decided the block's epoch. Ask again later (consensus moves on if it takes too long).
    Later,
}

/// A block this node knows to be valid (verified, proposed or finalized), as a parent.
#[derive(Clone, Debug)]
pub(super) struct Known {
    pub(super) parent: Parent,
    parent_digest: Digest,
    tx_hashes: Vec<B256>,
    /// The block namespaces' tips after this block, for those it moved.
    record_tips: TipChanges,
}

impl Known {
    fn new(block: &Block, history_before: &Frontier, record_tips: TipChanges) -> Self {
        Self {
            parent: Parent::of(block, history_before),
            parent_digest: block.parent_digest(),
            tx_hashes: block.tx_hashes().to_vec(),
            record_tips,
        }
    }
}

/// The actor's state (everything but the channels and the runtime context).
pub(super) struct State {
    /// Prometheus metrics (absent in unit tests that drive the state directly).
    pub(super) metrics: Option<Metrics>,
    pub(super) params: ChainParams,
    /// Where each finalized block and its light-client state go, in height order.
    sinks: Vec<mpsc::UnboundedSender<Finalized>>,
    pub(super) mempool: Mempool,
    /// Finalized tip and verified blocks above it, by digest.
    pub(super) known: HashMap<Digest, Known>,
    /// Digests of finalized blocks.
    pub(super) finalized: HashMap<Digest, Height>,
    /// Heights of finalized blocks by header hash.
    pub(super) header_heights: HashMap<B256, Height>,
    /// Finalized headers by height (in memory for now; marshal keeps the blocks on disk).
    pub(super) headers: Vec<Header>,
    /// History over the finalized headers.
    pub(super) history: HistoryTree,
    /// The same history, as peaks (to extend unfinalized branches cheaply).
    frontier: Frontier,
    /// Digest of the finalized tip.
    pub(super) tip: Digest,
    /// Every finalized transaction by hash, with the height of its block (a transaction
    /// appears at most once in the chain). In memory for now (rebuilt by recovery).
    pub(super) finalized_txs: HashMap<B256, Height>,
    /// The finalized block records and the owners' equivocations.
    pub(super) records: RecordIndex,
    /// Equivocations kept since the actor last wrote them to its journal.
    pub(super) unsaved: Vec<StoredEquivocation>,
    /// The committees the finalized chain decided.
    pub(super) committees: Committees,
    /// Index entries of the blocks finalized since the actor last wrote them (`None`: this
    /// state keeps no index).
    unindexed: Option<Vec<IndexedBlock>>,
    /// This node's L1 view.
    l1: L1View,
    /// The transactions this node hashed, by content (shared with the block decoders).
    hashed: Option<KnownTransactions>,
    /// Where each finalized block goes for the mailboxes' reads (absent in unit tests).
    pub(super) recent: Option<Arc<RecentBlocks>>,
}

impl State {
    /// The state of a fresh validator: genesis finalized, nothing else known.
    pub(super) fn new(config: Config) -> Self {
        let mut mempool_config = config.mempool.clone();
        mempool_config.max_payload =
            mempool_config.max_payload.min(config.params.limits.max_payload);
        let genesis = rules::genesis(&config.params);
        let mut state = Self {
            metrics: None,
            committees: Committees::new(&config.params),
            records: RecordIndex::new(&config.params.block_namespaces),
            unsaved: Vec::new(),
            l1: config.l1,
            hashed: config.known,
            mempool: Mempool::new(mempool_config, config.params.owners.clone()),
            params: config.params,
            sinks: config.finalized,
            known: HashMap::new(),
            finalized: HashMap::new(),
            header_heights: HashMap::new(),
            headers: Vec::new(),
            history: HistoryTree::new(),
            frontier: Frontier::new(),
            tip: genesis.digest(),
            finalized_txs: HashMap::new(),
            unindexed: None,
            recent: None,
        };
        // Genesis is the chain's first block by construction: applying it cannot fail.
        let _ = state.apply_finalized(&genesis);
        state
    }

    #[cfg(test)]
    pub(super) fn submit(&mut self, transaction: BlockTransaction) -> Result<B256, SubmitError> {
        let hash = transaction.transaction.hash();
        self.submit_hashed(transaction, hash)
    }

    /// Admits a transaction whose hash the submitter computed (`hash` is
    /// `transaction.transaction.hash()`: the ingress paths hash before the actor sees it).
    pub(super) fn submit_hashed(
        &mut self,
        transaction: BlockTransaction,
        hash: B256,
    ) -> Result<B256, SubmitError> {
        // Shares the payload buffer, no copy.
        let remembered = self.hashed.is_some().then(|| transaction.transaction.clone());
        let admitted = self.admit(transaction, hash);
        if let (Ok(_), Some(known), Some(remembered)) = (&admitted, &self.hashed, remembered) {
            known.remember(&remembered, hash);
        }
        admitted
    }

    fn admit(&mut self, transaction: BlockTransaction, hash: B256) -> Result<B256, SubmitError> {
        if self.finalized_txs.contains_key(&hash) {
            return Err(SubmitError::AlreadyFinalized(hash));
        }
        let namespace = transaction.transaction.namespace;
        let Some(spec) = self.records.spec(namespace) else {
            return self.mempool.submit_hashed(transaction, hash);
        };
        // A block record: it must be able to extend the confirmed records, now (the next
        // number) or later (a number ahead, once the ones between arrive).
        let refuse = |reason| SubmitError::Record { namespace: namespace.get(), reason };
        // The owner's signature first: only a signed record can prove an equivocation.
        crate::mempool::check_authorization(&self.params.owners, &transaction, &hash)?;
        let record = record_rules::decode(&transaction.transaction.payload).map_err(refuse)?;
        let tip = self.records.tip(namespace);
        match record_rules::check_extends(&spec, tip.as_ref(), &record) {
            Ok(_) | Err(RecordError::Gap { .. }) => {}
            Err(RecordError::Taken { number, tip }) => {
                let Some(confirmed) = self.records.get(namespace, number) else {
                    // Not reached: records are contiguous from genesis' first number, which
                    // `check_extends` refuses anything below.
                    return Err(refuse(RecordError::Taken { number, tip }));
                };
                let first =
                    FirstRecord::Confirmed { height: confirmed.height, tx_hash: confirmed.tx_hash };
                self.equivocation(namespace, number, first, transaction);
                return Err(SubmitError::ConflictingRecord {
                    namespace: namespace.get(),
                    number,
                    existing: confirmed.tx_hash,
                });
            }
            Err(other) => return Err(refuse(other)),
        }
        let number = record.number;
        match self.mempool.submit_record(transaction.clone(), hash, number) {
            Err(SubmitError::ConflictingRecord { existing, .. }) => {
                if let Some(first) = self.mempool.get(&existing).cloned() {
                    self.equivocation(namespace, number, FirstRecord::Pending(first), transaction);
                }
                Err(SubmitError::ConflictingRecord { namespace: namespace.get(), number, existing })
            }
            other => other,
        }
    }

    /// Keeps an equivocation of `namespace`'s owner and counts it.
    fn equivocation(
        &mut self,
        namespace: Namespace,
        number: u64,
        first: FirstRecord,
        second: BlockTransaction,
    ) {
        let equivocation = Equivocation { number, first, second };
        if self.records.add_equivocation(namespace, equivocation.clone()) {
            self.unsaved.push(StoredEquivocation { namespace, equivocation });
            warn!(namespace = namespace.get(), number, "block namespace owner equivocated");
            if let Some(metrics) = &self.metrics {
                metrics.equivocation();
            }
        }
    }

    /// The last record of `namespace` on the branch ending at the known block `head`.
    fn branch_tip(&self, head: &Digest, namespace: Namespace) -> Option<RecordTip> {
        let finalized = self.finalized_height();
        let mut cursor = self.known.get(head);
        while let Some(entry) = cursor {
            if entry.parent.height <= finalized {
                break;
            }
            if let Some((_, tip)) = entry.record_tips.iter().find(|(ns, _)| *ns == namespace) {
                return Some(*tip);
            }
            cursor = self.known.get(&entry.parent_digest);
        }
        self.records.tip(namespace)
    }

    /// Transactions in the unfinalized blocks from `digest` down to the finalized tip.
    fn unfinalized_txs(&self, digest: &Digest) -> HashSet<B256> {
        let finalized = self.finalized_height();
        let mut txs = HashSet::new();
        let mut cursor = self.known.get(digest);
        while let Some(entry) = cursor {
            if entry.parent.height <= finalized {
                break;
            }
            txs.extend(entry.tx_hashes.iter().copied());
            cursor = self.known.get(&entry.parent_digest);
        }
        txs
    }

    /// The block rules plus "no transaction already in the chain" (finalized or in the
    /// unfinalized ancestors), for `block` on the known block `parent`.
    fn check_child(&self, parent: &Digest, block: &Block) -> Result<Known, BlockError> {
        let Some(entry) = self.known.get(parent) else {
            return Err(BlockError::ParentDigest {
                expected: *parent,
                found: block.parent_digest(),
            });
        };
        let epoch = self.params.epoch_of(block.header().height);
        let committee = self
            .committees
            .commitment(epoch)
            .ok_or(BlockError::Epoch { expected: entry.parent.epoch.get(), found: epoch.get() })?;
        rules::check_block(&self.params, &entry.parent, block, &committee)?;
        let record_tips =
            check_records(&self.params.block_namespaces, block.transactions(), |ns| {
                self.branch_tip(parent, ns)
            })
            .map_err(|(index, reason)| BlockError::Record { index, reason })?;
        let ancestors = self.unfinalized_txs(parent);
        let known = Known::new(block, &entry.parent.history, record_tips);
        for hash in &known.tx_hashes {
            if self.finalized_txs.contains_key(hash) || ancestors.contains(hash) {
                return Err(BlockError::AlreadyIncluded(*hash));
            }
        }
        Ok(known)
    }

    pub(super) fn finalized_height(&self) -> Height {
        Height(self.history.len().saturating_sub(1))
    }

    /// Learns ancestors (oldest first) that consensus already notarized; each must extend a
    /// known block and pass the block rules.
    fn learn(&mut self, ancestors: &[Digested<Block>]) -> bool {
        for block in ancestors.iter().rev() {
            if self.known.contains_key(&block.digest())
                || self.finalized.contains_key(&block.digest())
            {
                continue;
            }
            let parent = block.inner().parent_digest();
            if !self.known.contains_key(&parent) {
                warn!(height = block.height().get(), "ancestor does not extend a known block");
                return false;
            }
            match self.check_child(&parent, block.inner()) {
                Ok(known) => {
                    self.known.insert(block.digest(), known);
                }
                Err(err) => {
                    warn!(%err, height = block.height().get(), "invalid ancestor");
                    return false;
                }
            }
        }
        true
    }

    /// [`propose_in`](Self::propose_in) a context naming `parent` in round `(0, view)` (tests).
    #[cfg(test)]
    pub(super) fn propose(
        &mut self,
        view: View,
        parent: Digest,
        ancestors: &[Digested<Block>],
        now_ms: u64,
    ) -> Option<Digested<Block>> {
        let mut context = crate::block::context_at(0, view.get());
        context.parent.1 = crate::block::Commitment::from((
            parent,
            crate::block::CodingDigest::from([0; 32]),
            crate::block::CodingDigest::from([0; 32]),
            crate::block::GENESIS_CODING_CONFIG,
        ));
        self.propose_in(context, ancestors, now_ms)
    }

    /// Builds a block in consensus context `context` (on the block its parent commitment
    /// names, in its view), embedding the context.
    pub(super) fn propose_in(
        &mut self,
        context: BlockContext,
        ancestors: &[Digested<Block>],
        now_ms: u64,
    ) -> Option<Digested<Block>> {
        let view = View(context.round.view().get());
        let parent = context.parent.1.block();
        if !self.learn(ancestors) {
            return None;
        }
        let Some(parent_entry) = self.known.get(&parent) else {
            warn!(%view, "asked to build on an unknown or superseded parent");
            return None;
        };
        // Transactions already in the chain (finalized or in unfinalized ancestors) must not
        // be included again.
        // Block records must extend their namespaces on this branch, in block order.
        let ancestors = self.unfinalized_txs(&parent);
        let finalized_txs = &self.finalized_txs;
        let limits = self.params.limits;
        let mut tracker =
            Tracker::new(&self.params.block_namespaces, |ns| self.branch_tip(&parent, ns));
        let mut transactions =
            self.mempool.select(limits.max_transactions, limits.max_block_payload, |hash, tx| {
                !ancestors.contains(hash)
                    && !finalized_txs.contains_key(hash)
                    && tracker.extend_or_defer(tx)
            });
        let (max_transactions, max_bytes) = (limits.max_transactions, limits.max_block_payload);
        let deferred = tracker.deferred_that_fit(&transactions, max_transactions, max_bytes);
        transactions.extend(deferred);
        let record_tips = tracker.changes();
        let height = Height(parent_entry.parent.height.get() + 1);
        let epoch = self.params.epoch_of(height);
        let Some(committee) = self.committees.commitment(epoch) else {
            warn!(%view, epoch = epoch.get(), "asked to build in an epoch the chain has not decided");
            return None;
        };
        let succession = self.next_succession(&parent_entry.parent, height)?;
        let fields = rules::next_fields(
            &self.params,
            &parent_entry.parent,
            context,
            now_ms,
            committee,
            succession,
        );
        let block = Block::build(fields, parent, transactions, self.hashed.as_ref());
        let known = Known::new(&block, &parent_entry.parent.history, record_tips);
        debug!(
            height = block.header().height.get(),
            %view,
            transactions = block.transactions().len(),
            "proposed"
        );
        let digest = block.digest();
        self.known.insert(digest, known);
        Some(Digested::precomputed(block, digest))
    }

    /// The succession of a block at `height` on `parent`: the newest L1 reference of our view
    /// that may follow the parent's (else the parent's), and at an epoch's last height the
    /// committee after next. `None` when the committee cannot be computed at either reference
    /// (our view lacks the stake table there): we cannot propose this boundary.
    fn next_succession(&self, parent: &Parent, height: Height) -> Option<Succession> {
        let newest = self
            .l1
            .latest()
            .filter(|latest| check_advance(&parent.l1, latest).is_ok())
            .unwrap_or(parent.l1);
        if !self.params.is_last(height) {
            return Some(Succession::at(newest));
        }
        let epoch = self.params.epoch_of(height);
        let fallback = (newest != parent.l1).then_some(parent.l1);
        for reference in std::iter::once(newest).chain(fallback) {
            match self.committees.expected_next(&self.params, epoch, &reference, &self.l1) {
                Ok((record, rotation)) => {
                    debug!(epoch = epoch.get(), ?rotation, l1 = reference.number, "next committee");
                    return Some(Succession {
                        l1: reference,
                        next_committee: Some(Arc::new(record)),
                    });
                }
                Err(err) => debug!(?err, l1 = reference.number, "cannot rotate at this reference"),
            }
        }
        warn!(epoch = epoch.get(), "cannot compute the next committee; not proposing");
        None
    }

    /// The L1 half of verification, for a block whose chain rules hold: its reference is on
    /// our L1 (when it moved) and, at an epoch's last height, its committee is the rule's.
    fn check_l1(&self, parent: &Parent, block: &Block) -> Result<Verification, BlockError> {
        let succession = block.succession();
        if succession.l1 != parent.l1 {
            match self.l1.check(&succession.l1) {
                L1Check::Confirmed => {}
                L1Check::Lagging => return Ok(Verification::Later),
                L1Check::Conflicts { ours } => {
                    return Err(BlockError::NotOnL1 {
                        number: succession.l1.number,
                        ours,
                        found: succession.l1.hash,
                    });
                }
                L1Check::Forgotten => return Err(BlockError::L1Forgotten(succession.l1.number)),
            }
        }
        let Some(record) = &succession.next_committee else { return Ok(Verification::Valid) };
        let epoch = block.header().epoch;
        match self.committees.expected_next(&self.params, epoch, &succession.l1, &self.l1) {
            Ok((expected, _)) if expected == **record => Ok(Verification::Valid),
            Ok((expected, _)) => Err(BlockError::NextCommittee {
                expected: expected.commitment(),
                found: record.commitment(),
            }),
            Err(ExpectedError::Undecided)
            | Err(ExpectedError::Rotation(RotationError::StakeTableNeeded(_))) => {
                Ok(Verification::Later)
            }
            Err(ExpectedError::Rotation(RotationError::NoStakeTable)) => {
                Err(BlockError::NoStakeTable(succession.l1.number))
            }
        }
    }

    pub(super) fn verify(
        &mut self,
        view: View,
        block: &Digested<Block>,
        ancestors: &[Digested<Block>],
    ) -> Verification {
        let verdict = |valid: bool| if valid { Verification::Valid } else { Verification::Invalid };
        let digest = block.digest();
        if self.finalized.contains_key(&digest) {
            return verdict(rules::check_view(block.inner(), view).is_ok());
        }
        if block.inner().header().height <= self.finalized_height() {
            warn!(height = block.height().get(), "block conflicts with the finalized chain");
            return Verification::Invalid;
        }
        if self.known.contains_key(&digest) {
            return verdict(rules::check_view(block.inner(), view).is_ok());
        }
        if !self.learn(ancestors) {
            return Verification::Invalid;
        }
        let parent = block.inner().parent_digest();
        if !self.known.contains_key(&parent) {
            warn!(
                height = block.height().get(),
                "parent unknown or conflicts with the finalized chain"
            );
            return Verification::Invalid;
        }
        let epoch = self.params.epoch_of(block.inner().header().height);
        if self.committees.get(epoch).is_none() {
            debug!(epoch = epoch.get(), "proposal for an epoch the chain has not decided yet");
            return Verification::Later;
        }
        let checked = rules::check_view(block.inner(), view)
            .and_then(|()| self.check_child(&parent, block.inner()))
            .and_then(|known| {
                // check_child found the parent among the known blocks.
                let parent = &self.known[&parent].parent;
                Ok((self.check_l1(parent, block.inner())?, known))
            });
        match checked {
            Ok((Verification::Valid, known)) => {
                self.known.insert(digest, known);
                Verification::Valid
            }
            Ok((other, _)) => other,
            Err(err) => {
                warn!(%err, height = block.height().get(), %view, "rejected proposal");
                if let Some(metrics) = &self.metrics {
                    metrics.rejected();
                }
                Verification::Invalid
            }
        }
    }

    /// Appends the next finalized block and hands it, with its light-client state, to the
    /// sinks. A duplicate is ignored; a block that does not extend our finalized chain with the
    /// right history root is refused and changes nothing.
    pub(super) fn apply_finalized(&mut self, block: &Block) -> Result<Applied, FinalizeError> {
        let height = block.header().height;
        let expected = self.history.len();
        if height.get() < expected {
            return match self.finalized.get(&block.digest()) {
                Some(finalized) if *finalized == height => Ok(Applied::Duplicate),
                _ => Err(FinalizeError::Conflicting { height: height.get() }),
            };
        }
        if height.get() != expected {
            return Err(FinalizeError::OutOfOrder { height: height.get(), expected });
        }
        if expected > 0 && block.parent_digest() != self.tip {
            return Err(FinalizeError::NotOnTip { height: height.get() });
        }
        let root = self.frontier.root();
        if block.header().history_root != root {
            return Err(FinalizeError::WrongHistoryRoot {
                height: height.get(),
                expected: root,
                found: block.header().history_root,
            });
        }
        if self.params.is_last(height) {
            let Some(next) = block.succession().next_committee.clone() else {
                return Err(FinalizeError::MissingNextCommittee { height: height.get() });
            };
            self.committees.decide(block.header().epoch, block.succession().l1, next);
        }
        let digest = block.digest();
        let (record_tips, records) = self.index_records(block);
        let known = Known::new(block, &self.frontier, record_tips);
        if let Some(unindexed) = &mut self.unindexed {
            unindexed.push(IndexedBlock {
                digest,
                parent_digest: block.parent_digest(),
                header: block.header().clone(),
                header_hash: block.header_hash(),
                succession: block.succession().clone(),
                tx_hashes: known.tx_hashes.clone(),
                records,
            });
        }
        self.history.append(&block.header_hash());
        self.frontier.push(&block.header_hash());
        self.headers.push(block.header().clone());
        self.finalized.insert(digest, height);
        self.header_heights.insert(block.header_hash(), height);
        self.mempool.finalized(known.tx_hashes.iter());
        self.finalized_txs.extend(known.tx_hashes.iter().map(|hash| (*hash, height)));
        self.known.insert(digest, known);
        self.known.retain(|d, k| k.parent.height > height || *d == digest);
        self.tip = digest;
        let committee = self.committees.get(block.header().epoch).cloned();
        if let (Some(state), Some(committee)) = (self.light_client_state(height), committee) {
            let finalized = Finalized {
                digest,
                header: block.header().clone(),
                succession: block.succession().clone(),
                block: Some(block.clone()),
                state,
                committee,
            };
            // A closed sink means its consumer stopped (shutdown); nothing is lost here.
            self.sinks.retain(|sink| sink.send(finalized.clone()).is_ok());
        }
        debug!(height = height.get(), transactions = block.transactions().len(), "finalized");
        Ok(Applied::Extended)
    }

    /// The light-client state after finalizing `height` (`None` above the finalized tip).
    ///
    /// Its `nextCommittee` is the committee that signs the next state: the epoch's own, or at
    /// the epoch's last height the next epoch's (as `LightClient.sol` expects).
    pub(super) fn light_client_state(&self, height: Height) -> Option<LightClientState> {
        let epoch = self.params.epoch_of(height);
        let signs_next = if self.params.is_last(height) { Epoch(epoch.get() + 1) } else { epoch };
        Some(LightClientState {
            chain_id: self.params.chain_id,
            epoch,
            height,
            history_root: self.history.root_at(height).ok()?,
            next_committee: self.committees.commitment(signs_next)?,
        })
    }
}

mod finalized_records;
mod restore;

#[cfg(test)]
mod records_tests;
#[cfg(test)]
mod rotation_tests;
#[cfg(test)]
pub(super) mod tests;
