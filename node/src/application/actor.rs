//! The application actor: owns the mempool, the finalized chain state and the cache of
//! verified unfinalized blocks, and answers the [`Mailbox`](super::Mailbox)'s requests one at a
//! time (so no locks).

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, OnceLock},
};

use alloy_primitives::B256;
use commonware_consensus::{Heightable as _, types::Height as CwHeight};
use commonware_cryptography::{Digested, Digestible as _};
use commonware_macros::select;
use commonware_runtime::{Clock, Handle, Metrics as RuntimeMetrics, Spawner};
use commonware_utils::{Acknowledgement as _, channel::mpsc};
use tracing::{debug, error, info, warn};
use trestle_light_client::{
    Frontier, Header, Height, HistoryTree, LightClientState, SecretKey, View,
};

use super::{
    Config, Mailbox,
    ingress::{Lookup, Message, SignedState, Status, Submission},
    metrics::Metrics,
};
use crate::{
    Marshal,
    block::{Block, BlockTransaction, Digest},
    mempool::{Mempool, SubmitError},
    rules::{self, BlockError, ChainParams, Parent},
};

/// A block this node knows to be valid (verified, proposed or finalized), as a parent.
#[derive(Clone, Debug)]
struct Known {
    parent: Parent,
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
struct State {
    /// Prometheus metrics (absent in unit tests that drive the state directly).
    metrics: Option<Metrics>,
    params: ChainParams,
    signer: Option<SecretKey>,
    signed_states: Option<mpsc::UnboundedSender<SignedState>>,
    finalized_blocks: Option<mpsc::UnboundedSender<Block>>,
    mempool: Mempool,
    /// Finalized tip and verified blocks above it, by digest.
    known: HashMap<Digest, Known>,
    /// Digests of finalized blocks.
    finalized: HashMap<Digest, Height>,
    /// Finalized headers by height (in memory for now; marshal keeps the blocks on disk).
    headers: Vec<Header>,
    /// History over the finalized headers.
    history: HistoryTree,
    /// The same history, as peaks (to extend unfinalized branches cheaply).
    frontier: Frontier,
    /// Digest of the finalized tip.
    tip: Digest,
    /// Signed light-client states by height.
    signed: Vec<Option<SignedState>>,
    /// Every finalized transaction by hash, with the height of its block (a transaction
    /// appears at most once in the chain). In memory for now (rebuilt by recovery).
    finalized_txs: HashMap<B256, Height>,
}

/// The application actor. Create with [`Actor::new`], wire the returned [`Mailbox`] into
/// marshal and consensus, then [`Actor::start`] it with marshal's mailbox.
pub struct Actor<E: Spawner + Clock + RuntimeMetrics> {
    context: E,
    marshal: Arc<OnceLock<Marshal>>,
    control: mpsc::UnboundedReceiver<Message>,
    submissions: mpsc::Receiver<Submission>,
    state: State,
}

impl<E: Spawner + Clock + RuntimeMetrics> Actor<E> {
    /// Creates the actor and its mailbox. The genesis block is derived from `config.params`.
    pub fn new(context: E, config: Config) -> (Self, Mailbox) {
        let (control_tx, control) = mpsc::unbounded_channel();
        let (submissions_tx, submissions) = mpsc::channel(config.submission_queue.max(1));
        let marshal = Arc::new(OnceLock::new());
        let mailbox =
            Mailbox::new(control_tx, submissions_tx, config.max_clock_drift, marshal.clone());
        let mut state = State::new(config);
        state.metrics = Some(Metrics::register(&context));
        (Self { context, marshal, control, submissions, state }, mailbox)
    }

    /// Starts the actor. It first replays the finalized blocks marshal already processed (after
    /// a restart), then serves requests.
    pub fn start(self, marshal: Marshal) -> Handle<()> {
        let Self { context, marshal: shared, control, submissions, state } = self;
        let _ = shared.set(marshal.clone());
        context.spawn(move |context| run(context, state, control, submissions, marshal))
    }
}

async fn run(
    clock: impl Clock,
    mut state: State,
    mut control: mpsc::UnboundedReceiver<Message>,
    mut submissions: mpsc::Receiver<Submission>,
    marshal: Marshal,
) {
    state.recover(&marshal).await;
    loop {
        select! {
            message = control.recv() => {
                let Some(message) = message else { break };
                state.handle(message, super::ingress::now_ms(&clock));
            },
            submission = submissions.recv() => {
                let Some(Submission { transaction, response }) = submission else { break };
                let _ = response.send(state.submit(transaction));
                if let Some(metrics) = &state.metrics {
                    metrics.mempool(state.mempool.len());
                }
            },
        }
    }
    debug!("application actor stopped");
}

impl State {
    /// The state of a fresh validator: genesis finalized, nothing else known.
    fn new(config: Config) -> Self {
        let mut mempool_config = config.mempool.clone();
        mempool_config.max_payload =
            mempool_config.max_payload.min(config.params.limits.max_payload);
        let genesis = rules::genesis(&config.params);
        let mut state = Self {
            metrics: None,
            mempool: Mempool::new(mempool_config, config.params.owners.clone()),
            params: config.params,
            signer: config.signer,
            signed_states: config.signed_states,
            finalized_blocks: config.finalized_blocks,
            known: HashMap::new(),
            finalized: HashMap::new(),
            headers: Vec::new(),
            history: HistoryTree::new(),
            frontier: Frontier::new(),
            tip: genesis.digest(),
            signed: Vec::new(),
            finalized_txs: HashMap::new(),
        };
        state.apply_finalized(&genesis);
        state
    }

    fn submit(&mut self, transaction: BlockTransaction) -> Result<B256, SubmitError> {
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

    fn finalized_height(&self) -> Height {
        Height(self.history.len().saturating_sub(1))
    }

    /// Re-applies the finalized blocks marshal processed in an earlier run.
    async fn recover(&mut self, marshal: &Marshal) {
        let Some(processed) = marshal.get_processed().await else { return };
        let target = processed.height().get();
        let mut height = self.finalized_height().get() + 1;
        while height <= target {
            match marshal.get_block(CwHeight::new(height)).await {
                Some(block) => self.apply_finalized(block.inner()),
                None => {
                    warn!(height, "processed block missing from marshal; stopping replay");
                    break;
                }
            }
            height += 1;
        }
        if target > 0 {
            info!(height = self.finalized_height().get(), "recovered finalized chain");
        }
    }

    /// Answers `message`; `now_ms` is the local time (for metrics only).
    fn handle(&mut self, message: Message, now_ms: u64) {
        match message {
            Message::Lookup { digest, response } => {
                let known =
                    self.known.contains_key(&digest) || self.finalized.contains_key(&digest);
                let _ = response.send(Lookup { known, finalized: self.finalized_height() });
            }
            Message::Propose { view, parent, ancestors, now_ms, response } => {
                let block = self.propose(view, parent, &ancestors, now_ms);
                let _ = response.send(block);
            }
            Message::Verify { view, block, ancestors, response } => {
                let valid = self.verify(view, &block, &ancestors);
                let _ = response.send(valid);
            }
            Message::Finalized { block, ack } => {
                let before = self.finalized_height();
                self.apply_finalized(block.inner());
                ack.acknowledge();
                if let Some(metrics) =
                    self.metrics.as_ref().filter(|_| self.finalized_height() > before)
                {
                    let header = block.inner().header();
                    metrics.finalized(
                        header.height.get(),
                        block.inner().transactions().len(),
                        block.inner().payload_bytes(),
                        now_ms.checked_sub(header.timestamp_ms),
                    );
                    metrics.mempool(self.mempool.len());
                }
            }
            Message::Status { response } => {
                let _ = response.send(Status {
                    finalized_height: self.finalized_height(),
                    finalized_hash: self
                        .known
                        .get(&self.tip)
                        .map(|k| k.parent.header_hash)
                        .unwrap_or_default(),
                    mempool_len: self.mempool.len(),
                });
            }
            Message::Header { height, response } => {
                let header = usize::try_from(height.get()).ok().and_then(|h| self.headers.get(h));
                let _ = response.send(header.cloned());
            }
            Message::SignedState { height, response } => {
                let signed = usize::try_from(height.get()).ok().and_then(|h| self.signed.get(h));
                let _ = response.send(signed.cloned().flatten());
            }
            Message::TransactionHeight { hash, response } => {
                let _ = response.send(self.finalized_txs.get(&hash).copied());
            }
            Message::HistoryProof { height, root_height, response } => {
                let _ = response.send(self.history.prove(height, root_height));
            }
            Message::LightClientState { height, response } => {
                let _ = response.send(self.light_client_state(height));
            }
        }
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

    fn propose(
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

    fn verify(
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

    /// Appends the next finalized block (duplicates are ignored).
    fn apply_finalized(&mut self, block: &Block) {
        let height = block.header().height;
        let expected = self.history.len();
        if height.get() < expected {
            return;
        }
        if height.get() != expected {
            error!(height = height.get(), expected, "finalized block out of order");
            return;
        }
        if expected > 0 && block.parent_digest() != self.tip {
            error!(height = height.get(), "finalized block does not extend the finalized tip");
            return;
        }
        if block.header().history_root != self.frontier.root() {
            error!(height = height.get(), "finalized block carries a wrong history root");
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
        let signed = self.sign(height);
        if let (Some(sink), Some(signed)) = (&self.signed_states, &signed) {
            // A closed sink means the node is shutting down; the state stays queryable here.
            let _ = sink.send(signed.clone());
        }
        self.signed.push(signed);
        if let Some(sink) = &self.finalized_blocks {
            // A closed sink means nobody listens any more (shutdown); nothing is lost here.
            let _ = sink.send(block.clone());
        }
        debug!(height = height.get(), transactions = block.transactions().len(), "finalized");
    }

    /// The light-client state after finalizing `height` (`None` above the finalized tip).
    fn light_client_state(&self, height: Height) -> Option<LightClientState> {
        Some(LightClientState {
            chain_id: self.params.chain_id,
            epoch: self.params.epoch,
            height,
            history_root: self.history.root_at(height).ok()?,
            next_committee: self.params.committee,
        })
    }

    fn sign(&self, height: Height) -> Option<SignedState> {
        let signer = self.signer.as_ref()?;
        let state = self.light_client_state(height)?;
        match state.message() {
            Ok(message) => Some(SignedState { signature: signer.sign(&message), state }),
            Err(err) => {
                error!(%err, "cannot sign light-client state");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use alloy_primitives::B256;
    use commonware_utils::channel::oneshot;
    use trestle_light_client::{
        ChainId, Epoch, Namespace, PayloadTree, Transaction, history::HistoryError,
    };

    use super::*;
    use crate::block::BlockLimits;

    fn params() -> ChainParams {
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

    fn validator() -> State {
        let mut config = Config::new(params());
        config.signer = Some(SecretKey::from_seed([5; 32]));
        State::new(config)
    }

    fn tx(payload: &[u8]) -> BlockTransaction {
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
        b.apply_finalized(one.inner());
        assert_eq!(b.submit(tx(b"one")), Err(SubmitError::AlreadyFinalized(hash)));
        let other = a.propose(View(4), genesis, &[], 40).expect("built");
        assert!(!b.verify(View(4), &other, &[]), "block conflicting with finalization accepted");
        assert!(b.verify(View(1), &one, &[]));
        let fields = rules::next_fields(&b.params, &b.known[&one.digest()].parent, View(5), 50);
        let repeat = digested(Block::new(fields, one.digest(), vec![tx(b"one")]));
        assert!(!b.verify(View(5), &repeat, &[]), "finalized transaction included again");
    }

    #[test]
    fn finalization_extends_history_and_signs_states() {
        let mut a = validator();
        let mut b = validator();
        let mut parent = a.tip;
        let mut tree = HistoryTree::new();
        tree.append(&rules::genesis(&a.params).header_hash());
        for view in 1..=5u64 {
            let block = a.propose(View(view), parent, &[], view * 100).expect("built");
            assert!(b.verify(View(view), &block, &[]));
            b.apply_finalized(block.inner());
            b.apply_finalized(block.inner()); // duplicates are ignored
            tree.append(&block.inner().header_hash());
            parent = block.digest();
        }
        assert_eq!(b.finalized_height(), Height(5));
        assert_eq!(b.history.root(), tree.root());
        let signed = b.signed[5].clone().expect("signed");
        assert_eq!(signed.state.history_root, tree.root());
        let key = SecretKey::from_seed([5; 32]);
        signed
            .signature
            .verify(key.public_key(), &signed.state.message().expect("message"))
            .expect("signature verifies");
        // Out-of-order finalization is refused.
        let stray = a.propose(View(9), a.tip, &[], 900).expect("built");
        b.apply_finalized(stray.inner());
        assert_eq!(b.finalized_height(), Height(5));
    }

    /// Sends `make(response)` to the state's handler and returns the answer.
    fn ask<T>(state: &mut State, make: impl FnOnce(oneshot::Sender<T>) -> Message) -> T {
        let (response, mut receiver) = oneshot::channel();
        state.handle(make(response), 0);
        receiver.try_recv().expect("answered synchronously")
    }

    #[test]
    fn queries_index_transactions_prove_history_and_stream_blocks() {
        let mut a = validator();
        let (sink, mut blocks) = mpsc::unbounded_channel();
        let mut config = Config::new(params());
        config.finalized_blocks = Some(sink);
        let mut b = State::new(config); // not a signer
        assert_eq!(blocks.try_recv().expect("genesis sent").header().height, Height(0));

        let hash = a.submit(tx(b"indexed")).expect("admitted");
        let mut parent = a.tip;
        let mut tree = HistoryTree::new();
        tree.append(&rules::genesis(&a.params).header_hash());
        let mut hashes = vec![rules::genesis(&a.params).header_hash()];
        for view in 1..=3u64 {
            let block = a.propose(View(view), parent, &[], view * 100).expect("built");
            assert!(b.verify(View(view), &block, &[]));
            b.apply_finalized(block.inner());
            b.apply_finalized(block.inner()); // a duplicate is neither applied nor sent
            assert_eq!(&blocks.try_recv().expect("finalized block sent"), block.inner());
            tree.append(&block.inner().header_hash());
            hashes.push(block.inner().header_hash());
            parent = block.digest();
        }
        assert!(blocks.try_recv().is_err(), "duplicates were sent");

        // Transaction index: the hash maps to the block that included it (height 1).
        let at = ask(&mut b, |response| Message::TransactionHeight { hash, response });
        assert_eq!(at, Some(Height(1)));
        let unknown = B256::repeat_byte(7);
        assert_eq!(
            ask(&mut b, |response| Message::TransactionHeight { hash: unknown, response }),
            None
        );
        assert_eq!(b.submit(tx(b"indexed")), Err(SubmitError::AlreadyFinalized(hash)));

        // History proofs against every later root verify with the light client.
        for root_height in 0..=3u64 {
            let state = ask(&mut b, |response| Message::LightClientState {
                height: Height(root_height),
                response,
            })
            .expect("state of a finalized height");
            assert_eq!(state.height, Height(root_height));
            assert_eq!(state.chain_id, b.params.chain_id);
            assert_eq!(state.next_committee, b.params.committee);
            assert_eq!(state.history_root, tree.root_at(Height(root_height)).expect("root"));
            for height in 0..=root_height {
                let proof = ask(&mut b, |response| Message::HistoryProof {
                    height: Height(height),
                    root_height: Height(root_height),
                    response,
                })
                .expect("proof");
                trestle_light_client::history::verify_history_proof(
                    &proof,
                    &hashes[height as usize],
                    Height(height),
                    &state.history_root,
                    Height(root_height),
                )
                .expect("history proof verifies");
            }
        }
        // Above the tip or reversed: refused, not panicking.
        assert!(
            ask(&mut b, |response| Message::LightClientState { height: Height(4), response })
                .is_none()
        );
        let beyond = ask(&mut b, |response| Message::HistoryProof {
            height: Height(1),
            root_height: Height(4),
            response,
        });
        assert!(matches!(beyond, Err(HistoryError::Unknown { .. })), "{beyond:?}");
        let reversed = ask(&mut b, |response| Message::HistoryProof {
            height: Height(3),
            root_height: Height(2),
            response,
        });
        assert!(reversed.is_err());
        let huge = ask(&mut b, |response| Message::HistoryProof {
            height: Height(0),
            root_height: Height(u64::MAX),
            response,
        });
        assert!(huge.is_err());
        assert!(
            ask(&mut b, |response| Message::LightClientState {
                height: Height(u64::MAX),
                response
            })
            .is_none()
        );
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
