//! The application's chain state: the mempool, the finalized chain (headers, history, the
//! transaction index) and the verified unfinalized blocks above it. Pure (no I/O, no clock: the
//! actor passes the time in), so proposing, verifying and finalizing are unit-tested directly.

use std::collections::{HashMap, HashSet};

use alloy_primitives::B256;
use commonware_consensus::Heightable as _;
use commonware_cryptography::{Digested, Digestible as _};
use commonware_utils::channel::mpsc;
use tracing::{debug, warn};
use trestle_light_client::{Frontier, Header, Height, HistoryTree, LightClientState, View};

use super::{Config, Finalized, metrics::Metrics};
use crate::{
    block::{Block, BlockTransaction, Digest},
    mempool::{Mempool, SubmitError},
    rules::{self, BlockError, ChainParams, Parent},
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

/// A block this node knows to be valid (verified, proposed or finalized), as a parent.
#[derive(Clone, Debug)]
pub(super) struct Known {
    pub(super) parent: Parent,
    parent_digest: Digest,
    tx_hashes: Vec<B256>,
}

impl Known {
    fn new(block: &Block, history_before: &Frontier) -> Self {
        Self {
            parent: Parent::of(block, history_before),
            parent_digest: block.parent_digest(),
            tx_hashes: block.transactions().iter().map(|t| t.transaction.hash()).collect(),
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
            mempool: Mempool::new(mempool_config, config.params.owners.clone()),
            params: config.params,
            sinks: config.finalized,
            known: HashMap::new(),
            finalized: HashMap::new(),
            headers: Vec::new(),
            history: HistoryTree::new(),
            frontier: Frontier::new(),
            tip: genesis.digest(),
            finalized_txs: HashMap::new(),
        };
        // Genesis is the chain's first block by construction: applying it cannot fail.
        let _ = state.apply_finalized(&genesis);
        state
    }

    pub(super) fn submit(&mut self, transaction: BlockTransaction) -> Result<B256, SubmitError> {
        let hash = transaction.transaction.hash();
        if self.finalized_txs.contains_key(&hash) {
            return Err(SubmitError::AlreadyFinalized(hash));
        }
        self.mempool.submit(transaction)
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
        rules::check_block(&self.params, &entry.parent, block)?;
        let ancestors = self.unfinalized_txs(parent);
        let known = Known::new(block, &entry.parent.history);
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

    pub(super) fn propose(
        &mut self,
        view: View,
        parent: Digest,
        ancestors: &[Digested<Block>],
        now_ms: u64,
    ) -> Option<Digested<Block>> {
        if !self.learn(ancestors) {
            return None;
        }
        let Some(parent_entry) = self.known.get(&parent) else {
            warn!(%view, "asked to build on an unknown or superseded parent");
            return None;
        };
        // Transactions already in the chain (finalized or in unfinalized ancestors) must not
        // be included again.
        let ancestors = self.unfinalized_txs(&parent);
        let finalized_txs = &self.finalized_txs;
        let limits = self.params.limits;
        let transactions =
            self.mempool.select(limits.max_transactions, limits.max_block_payload, |hash| {
                ancestors.contains(hash) || finalized_txs.contains_key(hash)
            });
        let fields = rules::next_fields(&self.params, &parent_entry.parent, view, now_ms);
        let block = Block::new(fields, parent, transactions);
        let known = Known::new(&block, &parent_entry.parent.history);
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

    pub(super) fn verify(
        &mut self,
        view: View,
        block: &Digested<Block>,
        ancestors: &[Digested<Block>],
    ) -> bool {
        let digest = block.digest();
        if self.finalized.contains_key(&digest) {
            return rules::check_view(block.inner(), view).is_ok();
        }
        if block.inner().header().height <= self.finalized_height() {
            warn!(height = block.height().get(), "block conflicts with the finalized chain");
            return false;
        }
        if self.known.contains_key(&digest) {
            return rules::check_view(block.inner(), view).is_ok();
        }
        if !self.learn(ancestors) {
            return false;
        }
        let parent = block.inner().parent_digest();
        if !self.known.contains_key(&parent) {
            warn!(
                height = block.height().get(),
                "parent unknown or conflicts with the finalized chain"
            );
            return false;
        }
        let checked = rules::check_view(block.inner(), view)
            .and_then(|()| self.check_child(&parent, block.inner()));
        match checked {
            Ok(known) => {
                self.known.insert(digest, known);
                true
            }
            Err(err) => {
                warn!(%err, height = block.height().get(), %view, "rejected proposal");
                if let Some(metrics) = &self.metrics {
                    metrics.rejected();
                }
                false
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
        let digest = block.digest();
        let known = Known::new(block, &self.frontier);
        self.history.append(&block.header_hash());
        self.frontier.push(&block.header_hash());
        self.headers.push(block.header().clone());
        self.finalized.insert(digest, height);
        self.mempool.finalized(known.tx_hashes.iter());
        self.finalized_txs.extend(known.tx_hashes.iter().map(|hash| (*hash, height)));
        self.known.insert(digest, known);
        self.known.retain(|d, k| k.parent.height > height || *d == digest);
        self.tip = digest;
        if let Some(state) = self.light_client_state(height) {
            let finalized = Finalized { block: block.clone(), state };
            // A closed sink means its consumer stopped (shutdown); nothing is lost here.
            self.sinks.retain(|sink| sink.send(finalized.clone()).is_ok());
        }
        debug!(height = height.get(), transactions = block.transactions().len(), "finalized");
        Ok(Applied::Extended)
    }

    /// The light-client state after finalizing `height` (`None` above the finalized tip).
    pub(super) fn light_client_state(&self, height: Height) -> Option<LightClientState> {
        Some(LightClientState {
            chain_id: self.params.chain_id,
            epoch: self.params.epoch,
            height,
            history_root: self.history.root_at(height).ok()?,
            next_committee: self.params.committee,
        })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::collections::BTreeMap;

    use trestle_light_client::{ChainId, Epoch, Namespace, PayloadTree, Transaction};

    use super::*;
    use crate::block::BlockLimits;

    pub(in crate::application) fn params() -> ChainParams {
        ChainParams {
            chain_id: ChainId(1),
            epoch: Epoch(0),
            committee: B256::repeat_byte(3),
            limits: BlockLimits { max_transactions: 8, max_payload: 64, max_block_payload: 256 },
            owners: BTreeMap::new(),
            genesis_timestamp_ms: 0,
            min_block_interval_ms: 0,
        }
    }

    pub(in crate::application) fn validator() -> State {
        State::new(Config::new(params()))
    }

    pub(in crate::application) fn tx(payload: &[u8]) -> BlockTransaction {
        BlockTransaction::unowned(Transaction::new(Namespace(1), payload.to_vec()))
    }

    fn digested(block: Block) -> Digested<Block> {
        let digest = block.digest();
        Digested::precomputed(block, digest)
    }

    #[test]
    fn proposals_verify_elsewhere_and_transactions_appear_once() {
        let mut a = validator();
        let mut b = validator();
        let genesis = a.tip;
        assert_eq!(genesis, b.tip);
        let hash = a.submit(tx(b"one")).expect("admitted");

        let one = a.propose(View(1), genesis, &[], 10).expect("built");
        assert_eq!(one.inner().transactions().len(), 1);
        assert!(b.verify(View(1), &one, &[]));
        assert!(!b.verify(View(2), &one, &[]), "wrong view accepted");

        // The transaction is still pending (not finalized) but is not proposed twice.
        let two = a.propose(View(2), one.digest(), &[], 20).expect("built");
        assert!(two.inner().transactions().is_empty());
        assert!(b.verify(View(2), &two, &[]));

        // A block repeating it is rejected.
        let fields = rules::next_fields(&a.params, &a.known[&one.digest()].parent, View(3), 30);
        let repeat = digested(Block::new(fields, one.digest(), vec![tx(b"one")]));
        assert!(!b.verify(View(3), &repeat, &[]));

        // A validator that missed block one learns it from the ancestry.
        let mut c = validator();
        assert!(!c.verify(View(2), &two, &[]), "unknown parent accepted");
        assert!(c.verify(View(2), &two, std::slice::from_ref(&one)));

        // Finalization: resubmission refused, conflicting blocks rejected, the finalized one
        // still verifies.
        b.apply_finalized(one.inner()).expect("extends");
        assert_eq!(b.submit(tx(b"one")), Err(SubmitError::AlreadyFinalized(hash)));
        let other = a.propose(View(4), genesis, &[], 40).expect("built");
        assert!(!b.verify(View(4), &other, &[]), "block conflicting with finalization accepted");
        assert!(b.verify(View(1), &one, &[]));
        let fields = rules::next_fields(&b.params, &b.known[&one.digest()].parent, View(5), 50);
        let repeat = digested(Block::new(fields, one.digest(), vec![tx(b"one")]));
        assert!(!b.verify(View(5), &repeat, &[]), "finalized transaction included again");
    }

    #[test]
    fn finalization_extends_history_and_emits_blocks_with_their_states() {
        let mut a = validator();
        let (sink, mut emitted) = mpsc::unbounded_channel();
        let mut config = Config::new(params());
        config.finalized = vec![sink];
        let mut b = State::new(config);
        assert_eq!(emitted.try_recv().expect("genesis emitted").state.height, Height(0));
        let mut parent = a.tip;
        let mut tree = HistoryTree::new();
        tree.append(&rules::genesis(&a.params).header_hash());
        for view in 1..=5u64 {
            let block = a.propose(View(view), parent, &[], view * 100).expect("built");
            assert!(b.verify(View(view), &block, &[]));
            assert_eq!(b.apply_finalized(block.inner()), Ok(Applied::Extended));
            // Duplicates are neither applied nor emitted.
            assert_eq!(b.apply_finalized(block.inner()), Ok(Applied::Duplicate));
            tree.append(&block.inner().header_hash());
            let finalized = emitted.try_recv().expect("emitted");
            assert_eq!(&finalized.block, block.inner());
            assert_eq!(finalized.state.height, Height(view));
            assert_eq!(finalized.state.history_root, tree.root());
            assert_eq!(finalized.state.next_committee, b.params.committee);
            parent = block.digest();
        }
        assert!(emitted.try_recv().is_err(), "duplicates were emitted");
        assert_eq!(b.finalized_height(), Height(5));
        assert_eq!(b.history.root(), tree.root());
        // Another block at a finalized height is a conflict, refused.
        let stray = a.propose(View(9), a.tip, &[], 900).expect("built");
        assert_eq!(b.apply_finalized(stray.inner()), Err(FinalizeError::Conflicting { height: 1 }));
        assert_eq!(b.finalized_height(), Height(5));
    }

    #[test]
    fn a_finalized_block_with_a_wrong_history_root_is_refused_and_never_emitted() {
        let mut a = validator();
        let (sink, mut emitted) = mpsc::unbounded_channel();
        let mut config = Config::new(params());
        config.finalized = vec![sink];
        let mut b = State::new(config);
        let _ = emitted.try_recv();
        let honest = a.propose(View(1), a.tip, &[], 100).expect("built");
        let mut header = honest.inner().header().clone();
        header.history_root = B256::repeat_byte(0xbd);
        let forged = Block::from_parts(
            header,
            honest.inner().parent_digest(),
            honest.inner().transactions().to_vec(),
        );
        assert_eq!(
            b.apply_finalized(&forged),
            Err(FinalizeError::WrongHistoryRoot {
                height: 1,
                expected: b.history.root(),
                found: B256::repeat_byte(0xbd),
            })
        );
        assert_eq!(b.finalized_height(), Height(0));
        assert!(emitted.try_recv().is_err(), "a state on a refused block was emitted");
        assert!(b.light_client_state(Height(1)).is_none());
        // A block on another parent is refused too.
        let other = a.propose(View(2), a.tip, &[], 200).expect("built");
        let mut header = other.inner().header().clone();
        header.height = Height(1);
        let orphan = Block::from_parts(header, Digest::from([7u8; 32]), Vec::new());
        assert_eq!(b.apply_finalized(&orphan), Err(FinalizeError::NotOnTip { height: 1 }));
        // The honest block still applies.
        assert_eq!(b.apply_finalized(honest.inner()), Ok(Applied::Extended));
    }

    #[test]
    fn namespace_contents_prove_presence_and_absence() {
        let mut a = validator();
        for (ns, payload) in [(1u64, b"a"), (3, b"b"), (1, b"c")] {
            a.submit(BlockTransaction::unowned(Transaction::new(Namespace(ns), payload.to_vec())))
                .expect("admitted");
        }
        let block = a.propose(View(1), a.tip, &[], 10).expect("built");
        let root = block.inner().header().payload_root;
        match crate::application::namespace_contents(block.inner(), Namespace(1)) {
            Some(crate::application::NamespaceContents::Present { proof, transactions }) => {
                assert_eq!(transactions.len(), 2);
                let txs: Vec<_> = transactions.iter().map(|t| t.transaction.clone()).collect();
                proof.verify_complete(&txs, &root).expect("complete namespace proof");
            }
            other => panic!("namespace 1 not present: {other:?}"),
        }
        for absent in [0u64, 2, 4, u64::MAX] {
            match crate::application::namespace_contents(block.inner(), Namespace(absent)) {
                Some(crate::application::NamespaceContents::Absent(proof)) => {
                    proof.verify(Namespace(absent), &root).expect("absence proof");
                }
                other => panic!("namespace {absent} not absent: {other:?}"),
            }
        }
        // A transaction proof by hash, as the mailbox builds it.
        let wanted = block.inner().transactions()[1].transaction.clone();
        let proof = PayloadTree::new(block.inner().transactions().iter().map(|t| &t.transaction))
            .transaction_proof_by_hash(&wanted.hash())
            .expect("proof");
        proof.verify(&wanted, &root).expect("transaction proof");
    }
}
