//! Messages to the application actor and the [`Mailbox`] that sends them.
//!
//! The mailbox is what consensus talks to: it implements commonware's marshal
//! [`Application`](commonware_consensus::Application) (propose / verify, wrapped by marshal's
//! `Inline` into simplex's `Automaton` + `Relay` + `Reporter`) and marshal's finalized-block
//! [`Reporter`]. It is also the node's handle for submissions and queries.

use std::{
    sync::{Arc, OnceLock},
    time::{Duration, UNIX_EPOCH},
};

use alloy_primitives::B256;
use commonware_actor::Feedback;
use commonware_consensus::{
    Application, Heightable as _, Reporter, Viewable as _,
    marshal::{Update, ancestry::Ancestry},
    types::Height as CwHeight,
};
use commonware_cryptography::{Digested, Digestible as _};
use commonware_runtime::Clock;
use commonware_utils::{
    acknowledgement::Exact,
    channel::{mpsc, oneshot},
};
use futures::StreamExt as _;
use tracing::debug;
use trestle_light_client::{
    Epoch, Header, Height, LightClientState, Namespace, View,
    abi::{MerkleProof, NamespaceAbsenceProof, NamespaceProof, TransactionProof},
    history::HistoryError,
    records::{BlockNamespace, RecordTip},
    rotation::CommitteeRecord,
};

use super::{
    recent::RecentBlocks,
    records::{Equivocation, IndexedRecord},
    state::Verification,
};
use crate::{
    ConsensusContext, Marshal, Scheme,
    block::{Block, BlockContext, BlockTransaction, Digest},
    gossip,
    mempool::SubmitError,
    succession::Succession,
};

/// What the actor knows about a block digest.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lookup {
    /// The block is finalized or verified locally (so children can be checked against it).
    pub(crate) known: bool,
    /// The actor's finalized height.
    pub(crate) finalized: Height,
}

/// Finalization progress of a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// Latest finalized height.
    pub finalized_height: Height,
    /// Hash of the latest finalized header.
    pub finalized_hash: B256,
    /// Transactions pending in the mempool.
    pub mempool_len: usize,
}

/// A finalized block and the light-client state after it: what the application emits, in
/// height order, to its sinks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finalized {
    /// The block's digest.
    pub digest: Digest,
    /// The block's header.
    pub header: Header,
    /// The block's L1 reference and, at an epoch's last height, the committee after next.
    pub succession: Succession,
    /// The whole block (cheap to clone: its transactions are shared). `None` for a height the
    /// application restored from its finalized index after a restart: those are re-sent
    /// (epoch ends and the last few heights) for what consumers keep per height, not for
    /// their transactions.
    pub block: Option<Block>,
    /// The light-client state after finalizing it (history root over `0..=height`).
    pub state: LightClientState,
    /// The committee of the block's epoch: the one that signs `state`.
    pub committee: Arc<CommitteeRecord>,
}

/// Why a history proof could not be produced.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HistoryProofError {
    /// The application actor stopped (the node is shutting down).
    #[error("application stopped")]
    Stopped,
    /// The finalized history does not cover the heights asked for (or `height > root_height`).
    #[error(transparent)]
    History(#[from] HistoryError),
}

/// A namespace's part of a finalized block: its transactions and their proof, or a proof that
/// the block has none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamespaceContents {
    /// The block has transactions in the namespace.
    Present {
        /// The namespace leaf and its path to `payloadRoot`.
        proof: NamespaceProof,
        /// The namespace's transactions in block order (they rebuild the leaf's `txRoot`).
        transactions: Vec<BlockTransaction>,
    },
    /// The block has no transaction in the namespace.
    Absent(NamespaceAbsenceProof),
}

/// A height finalized here whose block this node no longer stores: its retention
/// ([`super::retention`]) pruned it; an archival node still serves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("height {height} is finalized, but this node pruned its block")]
pub struct Pruned {
    /// The pruned height.
    pub height: Height,
}

/// A finalized transaction with its inclusion proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncludedTransaction {
    /// The finalized block containing it.
    pub block: Block,
    /// The transaction (with its authorization, if its namespace is owned).
    pub transaction: BlockTransaction,
    /// Its path to the block's `payloadRoot`.
    pub proof: TransactionProof,
}

/// Requests to the actor.
pub(crate) enum Message {
    /// Is this digest known?
    Lookup { digest: Digest, response: oneshot::Sender<Lookup> },
    /// Build a block in `context` (on the parent it names, in its view).
    Propose {
        context: Box<BlockContext>,
        /// Unknown ancestors of the parent, newest first (the parent itself first if unknown).
        ancestors: Vec<Digested<Block>>,
        now_ms: u64,
        response: oneshot::Sender<Option<Digested<Block>>>,
    },
    /// Verify `block`, proposed in `view`.
    Verify {
        view: View,
        block: Digested<Block>,
        /// Unknown ancestors of the block, newest first.
        ancestors: Vec<Digested<Block>>,
        response: oneshot::Sender<Verification>,
    },
    /// Marshal delivered the next finalized block.
    Finalized { block: Digested<Block>, ack: Exact },
    /// Progress query.
    Status { response: oneshot::Sender<Status> },
    /// Finalized header at a height.
    Header { height: Height, response: oneshot::Sender<Option<Header>> },
    /// Height of the finalized block containing a transaction.
    TransactionHeight { hash: B256, response: oneshot::Sender<Option<Height>> },
    /// Height of the finalized block with this header hash or consensus digest.
    HeightByHash { hash: B256, response: oneshot::Sender<Option<Height>> },
    /// Proof of header `height` against the history root of `root_height`.
    HistoryProof {
        height: Height,
        root_height: Height,
        response: oneshot::Sender<Result<MerkleProof, HistoryError>>,
    },
    /// The light-client state after finalizing a height.
    LightClientState { height: Height, response: oneshot::Sender<Option<LightClientState>> },
    /// The committee the finalized chain decided for an epoch.
    Committee { epoch: Epoch, response: oneshot::Sender<Option<Arc<CommitteeRecord>>> },
    /// The finalized record of a block number in a block namespace.
    BlockRecord {
        namespace: Namespace,
        number: u64,
        response: oneshot::Sender<Option<IndexedRecord>>,
    },
    /// The oldest `limit` pending transactions of the mempool.
    Pending { limit: usize, response: oneshot::Sender<Vec<BlockTransaction>> },
    /// A block namespace's finalized records and equivocations.
    RecordNamespace { namespace: Namespace, response: oneshot::Sender<Option<RecordNamespace>> },
    /// Equivocations of a block namespace's owner, `limit` from the `from`-th.
    Equivocations {
        namespace: Namespace,
        from: usize,
        limit: usize,
        response: oneshot::Sender<Vec<Equivocation>>,
    },
}

/// What the finalized chain holds of a block namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordNamespace {
    /// The rollup it records.
    pub spec: BlockNamespace,
    /// The first record's number and the last record, once there is one.
    pub confirmed: Option<(u64, RecordTip)>,
    /// Equivocations kept.
    pub equivocations: usize,
}

/// A mempool submission.
pub(crate) struct Submission {
    pub(crate) transaction: BlockTransaction,
    /// `transaction.transaction.hash()`, computed by the submitter's task: the actor loop,
    /// which also builds and verifies blocks, never hashes a submitted payload.
    pub(crate) hash: B256,
    pub(crate) response: oneshot::Sender<Result<B256, SubmitError>>,
}

/// Handle to the application actor.
#[derive(Clone)]
pub struct Mailbox {
    control: mpsc::UnboundedSender<Message>,
    submissions: mpsc::Sender<Submission>,
    max_clock_drift: Duration,
    l1_retry: Duration,
    /// Marshal's mailbox, set when the actor starts (finalized blocks are read from marshal's
    /// archive rather than duplicated in the application).
    marshal: Arc<OnceLock<Marshal>>,
    /// The last finalized blocks, as finalized (hashes and tree included), read before marshal.
    recent: Arc<RecentBlocks>,
    /// The mempool gossip, set when the engine wires it: submissions admitted here are
    /// forwarded to every peer.
    gossip: Arc<OnceLock<gossip::Mailbox>>,
}

/// Longest ancestry walk a single request may make before giving up (a node this far behind
/// waits for marshal to finalize blocks rather than verifying a long unfinalized branch).
const MAX_WALK: usize = 1_024;

impl Mailbox {
    pub(crate) fn new(
        control: mpsc::UnboundedSender<Message>,
        submissions: mpsc::Sender<Submission>,
        max_clock_drift: Duration,
        l1_retry: Duration,
        marshal: Arc<OnceLock<Marshal>>,
        recent: Arc<RecentBlocks>,
    ) -> Self {
        let gossip = Arc::default();
        Self { control, submissions, max_clock_drift, l1_retry, marshal, recent, gossip }
    }

    /// Forwards the submissions this node admits to its peers through `gossip` (once; later
    /// calls are ignored).
    pub fn set_gossip(&self, gossip: gossip::Mailbox) {
        let _ = self.gossip.set(gossip);
    }

    async fn request<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Message) -> Option<T> {
        let (response, receiver) = oneshot::channel();
        self.control.send(make(response)).ok()?;
        receiver.await.ok()
    }

    /// Submits a transaction to this node's mempool and, once admitted (or if it was pending
    /// already), forwards it to every peer and waits until enough of them hold it (see
    /// [`gossip`](crate::gossip) for what that guarantees): [`SubmitError::NotReplicated`]
    /// if they do not in time.
    pub async fn submit(&self, transaction: BlockTransaction) -> Result<B256, SubmitError> {
        let hash = transaction.transaction.hash();
        let forward = self.gossip.get().map(|gossip| (gossip.clone(), transaction.clone()));
        let admitted = self.submit_hashed(hash, transaction).await;
        let Some(hash) = held(&admitted) else { return admitted };
        if let Some((gossip, transaction)) = forward {
            replicated(hash, gossip.forward(hash, transaction).await)?;
        }
        admitted
    }

    /// Submits `transactions` as [`submit`](Self::submit) does each: admitted one after the
    /// other (in order), then the admitted ones forwarded together, each answered once f peers
    /// hold it.
    pub async fn submit_batch(
        &self,
        transactions: Vec<BlockTransaction>,
    ) -> Vec<Result<B256, SubmitError>> {
        let hashed = transactions.into_iter().map(|t| (t.transaction.hash(), t)).collect();
        self.submit_batch_hashed(hashed).await
    }

    /// [`submit_batch`](Self::submit_batch) of transactions the caller hashed (each hash must
    /// be its transaction's).
    pub(crate) async fn submit_batch_hashed(
        &self,
        transactions: Vec<(B256, BlockTransaction)>,
    ) -> Vec<Result<B256, SubmitError>> {
        let gossip = self.gossip.get().cloned();
        let mut admitted = Vec::with_capacity(transactions.len());
        for (hash, transaction) in transactions {
            let forward = gossip.is_some().then(|| transaction.clone());
            admitted.push((self.submit_hashed(hash, transaction).await, forward));
        }
        let answers = admitted.into_iter().map(|(admitted, forward)| {
            let gossip = gossip.clone();
            async move {
                let Some(hash) = held(&admitted) else { return admitted };
                if let (Some(gossip), Some(transaction)) = (gossip, forward) {
                    replicated(hash, gossip.forward_queued(hash, transaction).await)?;
                }
                admitted
            }
        });
        futures::future::join_all(answers).await
    }

    /// Submits a transaction a peer forwarded: admitted like [`submit`](Self::submit), not
    /// forwarded again.
    pub async fn submit_from_peer(
        &self,
        transaction: BlockTransaction,
    ) -> Result<B256, SubmitError> {
        self.submit_hashed(transaction.transaction.hash(), transaction).await
    }

    async fn submit_hashed(
        &self,
        hash: B256,
        transaction: BlockTransaction,
    ) -> Result<B256, SubmitError> {
        let (response, receiver) = oneshot::channel();
        self.submissions
            .try_send(Submission { transaction, hash, response })
            .map_err(|_| SubmitError::Unavailable)?;
        receiver.await.map_err(|_| SubmitError::Unavailable)?
    }

    /// The oldest `limit` transactions pending in the mempool (empty if the actor stopped).
    pub async fn pending(&self, limit: usize) -> Vec<BlockTransaction> {
        self.request(|response| Message::Pending { limit, response }).await.unwrap_or_default()
    }

    /// Finalization progress (`None` if the actor stopped).
    pub async fn status(&self) -> Option<Status> {
        self.request(|response| Message::Status { response }).await
    }

    /// The finalized header at `height`, if finalized here.
    pub async fn header(&self, height: Height) -> Option<Header> {
        self.request(|response| Message::Header { height, response }).await.flatten()
    }

    /// The finalized block at `height`, if finalized and stored here: from the recent window
    /// when it holds the height (no decoding), else from marshal's archive.
    pub async fn block(&self, height: Height) -> Option<Block> {
        if let Some(block) = self.recent.get(height) {
            return Some(block);
        }
        let marshal = self.marshal.get()?;
        let block = marshal.get_block(CwHeight::new(height.get())).await?;
        Some(block.inner().clone())
    }

    /// The finalized block at `height`, telling a pruned block from a height not finalized here:
    /// `Ok(None)` if the height is not finalized here (or marshal is not running yet), an error
    /// if it is but its block is no longer stored ([`super::retention`]).
    pub async fn block_at(&self, height: Height) -> Result<Option<Block>, Pruned> {
        if let Some(block) = self.block(height).await {
            return Ok(Some(block));
        }
        if self.marshal.get().is_none() || self.header(height).await.is_none() {
            return Ok(None);
        }
        // Marshal stores a finalized block before the actor indexes its header, so with the
        // header indexed the block is either stored by now (it was arriving during the first
        // read) or gone.
        match self.block(height).await {
            Some(block) => Ok(Some(block)),
            None => Err(Pruned { height }),
        }
    }

    /// The finalized record of block `number` in block namespace `namespace`.
    pub async fn block_record(&self, namespace: Namespace, number: u64) -> Option<IndexedRecord> {
        self.request(|response| Message::BlockRecord { namespace, number, response })
            .await
            .flatten()
    }

    /// What the finalized chain holds of `namespace` (`None` for a namespace that is not a
    /// block namespace, or a stopped actor).
    pub async fn record_namespace(&self, namespace: Namespace) -> Option<RecordNamespace> {
        self.request(|response| Message::RecordNamespace { namespace, response }).await.flatten()
    }

    /// Up to `limit` equivocations of `namespace`'s owner from the `from`-th, oldest first.
    pub async fn equivocations(
        &self,
        namespace: Namespace,
        from: usize,
        limit: usize,
    ) -> Vec<Equivocation> {
        self.request(|response| Message::Equivocations { namespace, from, limit, response })
            .await
            .unwrap_or_default()
    }

    /// Height of the finalized block that contains the transaction `hash`, if any.
    pub async fn transaction_height(&self, hash: B256) -> Option<Height> {
        self.request(|response| Message::TransactionHeight { hash, response }).await.flatten()
    }

    /// Height of the finalized block whose header hash or consensus digest is `hash`.
    pub async fn height_by_hash(&self, hash: B256) -> Option<Height> {
        self.request(|response| Message::HeightByHash { hash, response }).await.flatten()
    }

    /// Proof that header `height` is in the history under the root over headers
    /// `0..=root_height` (the root the light-client state of `root_height` carries).
    pub async fn history_proof(
        &self,
        height: Height,
        root_height: Height,
    ) -> Result<MerkleProof, HistoryProofError> {
        self.request(|response| Message::HistoryProof { height, root_height, response })
            .await
            .ok_or(HistoryProofError::Stopped)?
            .map_err(HistoryProofError::from)
    }

    /// The light-client state after finalizing `height` (chain id, epoch, height, history root
    /// over `0..=height`, next committee), whether or not this node signs states.
    pub async fn light_client_state(&self, height: Height) -> Option<LightClientState> {
        self.request(|response| Message::LightClientState { height, response }).await.flatten()
    }

    /// The committee of `epoch`, once the finalized chain decided it (epochs 0 and 1: the
    /// genesis committee; epoch e ≥ 2: the one the last block of e − 2 named).
    pub async fn committee(&self, epoch: Epoch) -> Option<Arc<CommitteeRecord>> {
        self.request(|response| Message::Committee { epoch, response }).await.flatten()
    }

    /// The transactions of `namespace` in the finalized block at `height` with their namespace
    /// proof, or an absence proof; `None` if the height is not finalized here.
    pub async fn namespace(
        &self,
        height: Height,
        namespace: Namespace,
    ) -> Option<NamespaceContents> {
        let block = self.block(height).await?;
        namespace_contents(&block, namespace)
    }

    /// A finalized transaction by hash, with the block containing it and its inclusion proof;
    /// `Ok(None)` if it is not finalized here, an error if it is but its block was pruned.
    pub async fn transaction(&self, hash: B256) -> Result<Option<IncludedTransaction>, Pruned> {
        let Some(height) = self.transaction_height(hash).await else {
            return Ok(None);
        };
        let Some(block) = self.block_at(height).await? else {
            return Ok(None);
        };
        let Some(proof) = block.payload_tree().transaction_proof_by_hash(&hash) else {
            return Ok(None);
        };
        let Some(transaction) = block
            .tx_hashes()
            .iter()
            .position(|h| *h == hash)
            .and_then(|index| block.transactions().get(index).cloned())
        else {
            return Ok(None);
        };
        Ok(Some(IncludedTransaction { block, transaction, proof }))
    }

    async fn lookup(&self, digest: Digest) -> Option<Lookup> {
        self.request(|response| Message::Lookup { digest, response }).await
    }

    /// Pulls blocks from `ancestry` until the actor knows the next one needed, starting with
    /// the block `needed`. Returns the unknown blocks newest first, or `None` if the ancestry
    /// ends, is inconsistent, or the actor stopped.
    async fn unknown_ancestors(
        &self,
        mut needed: Digest,
        ancestry: &mut impl Ancestry<Block>,
    ) -> Option<Vec<Digested<Block>>> {
        let mut unknown = Vec::new();
        loop {
            let lookup = self.lookup(needed).await?;
            if lookup.known {
                return Some(unknown);
            }
            if unknown.len() >= MAX_WALK {
                return None;
            }
            let block = ancestry.next().await?;
            if block.digest() != needed {
                return None;
            }
            needed = block.inner().parent_digest();
            let at_or_below_finalized = block.height().get() <= lookup.finalized.get();
            unknown.push(block);
            if at_or_below_finalized {
                // Below the finalized tip and unknown: a conflicting branch. The actor rejects.
                return Some(unknown);
            }
        }
    }
}

/// The hash of a submission this node now holds (admitted, or pending already).
fn held(admitted: &Result<B256, SubmitError>) -> Option<B256> {
    match admitted {
        Ok(hash) | Err(SubmitError::Duplicate(hash)) => Some(*hash),
        Err(_) => None,
    }
}

/// `NotReplicated` unless enough peers said they hold the transaction `hash`.
fn replicated(hash: B256, replication: gossip::Replication) -> Result<(), SubmitError> {
    if replication.reached() {
        return Ok(());
    }
    debug!(%hash, holders = replication.holders, needed = replication.needed,
        "not enough peers hold the transaction yet");
    Err(SubmitError::NotReplicated {
        hash,
        holders: replication.holders,
        needed: replication.needed,
    })
}

impl gossip::Admit for Mailbox {
    async fn admit(&self, transaction: BlockTransaction) -> Result<B256, SubmitError> {
        self.submit_from_peer(transaction).await
    }

    async fn pending(&self, limit: usize) -> Vec<BlockTransaction> {
        Mailbox::pending(self, limit).await
    }
}

/// `namespace`'s transactions in `block` with their proof, or the proof of their absence
/// (`None` only if the payload tree could produce neither, which a valid block never causes).
pub fn namespace_contents(block: &Block, namespace: Namespace) -> Option<NamespaceContents> {
    let tree = block.payload_tree();
    Some(match tree.namespace_proof(namespace) {
        Some(proof) => NamespaceContents::Present {
            proof,
            transactions: block
                .transactions()
                .iter()
                .filter(|t| t.transaction.namespace == namespace)
                .cloned()
                .collect(),
        },
        None => NamespaceContents::Absent(tree.absence_proof(namespace)?),
    })
}

pub(crate) fn now_ms(clock: &impl Clock) -> u64 {
    clock
        .current()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl<E: Clock> Application<E> for Mailbox {
    type SigningScheme = Scheme;
    type Context = ConsensusContext;
    type Block = Block;
    type Input = ();

    async fn propose(
        &mut self,
        (clock, context): (E, ConsensusContext),
        mut ancestry: impl Ancestry<Block>,
        _input: (),
    ) -> Option<Digested<Block>> {
        let parent = context.parent.1.block();
        let ancestors = self.unknown_ancestors(parent, &mut ancestry).await?;
        let now_ms = now_ms(&clock);
        let block = self
            .request(|response| Message::Propose {
                context: Box::new(context),
                ancestors,
                now_ms,
                response,
            })
            .await
            .flatten()?;
        // The block may be stamped ahead of the local clock (the parent's timestamp plus the
        // minimum block interval): publish it only once that time has come, so that honest
        // proposers pace the chain and verifiers never have to hold it.
        let timestamp = block.inner().header().timestamp_ms;
        if now_ms < timestamp {
            clock.sleep_until(UNIX_EPOCH + Duration::from_millis(timestamp)).await;
        }
        Some(block)
    }

    async fn verify(
        &mut self,
        (clock, context): (E, ConsensusContext),
        mut ancestry: impl Ancestry<Block>,
    ) -> bool {
        // Shutdown or an inconsistent ancestry: keep the request pending (never a false
        // "invalid"); consensus drops it when it moves on.
        let Some(block) = ancestry.next().await else {
            return futures::future::pending().await;
        };
        // A block from the future is not invalid, only early: wait until it is within the
        // allowed drift, as every honest validator eventually does.
        let drift_ms = u64::try_from(self.max_clock_drift.as_millis()).unwrap_or(u64::MAX);
        let earliest = block.inner().header().timestamp_ms.saturating_sub(drift_ms);
        if now_ms(&clock) < earliest {
            clock.sleep_until(UNIX_EPOCH + Duration::from_millis(earliest)).await;
        }
        let Some(ancestors) =
            self.unknown_ancestors(block.inner().parent_digest(), &mut ancestry).await
        else {
            return futures::future::pending().await;
        };
        let view = View(context.view().get());
        // A block whose L1 reference our view has not reached is not invalid, only early for
        // us: ask again until the view catches up (consensus drops the request if it moves on).
        let mut ancestors = ancestors;
        loop {
            let request = |response| Message::Verify {
                view,
                block: block.clone(),
                ancestors: std::mem::take(&mut ancestors),
                response,
            };
            match self.request(request).await {
                Some(Verification::Valid) => return true,
                Some(Verification::Invalid) => return false,
                Some(Verification::Later) => clock.sleep(self.l1_retry).await,
                None => return futures::future::pending().await,
            }
        }
    }
}

impl Reporter for Mailbox {
    type Activity = Update<Block>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        match activity {
            Update::Block(block, ack) => {
                match self.control.send(Message::Finalized { block, ack }) {
                    Ok(()) => Feedback::Ok,
                    Err(_) => Feedback::Closed,
                }
            }
            Update::Tip(..) => Feedback::Ok,
        }
    }
}
