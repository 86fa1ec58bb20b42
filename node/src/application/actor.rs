//! The application actor: owns the [`State`] and answers the [`Mailbox`](super::Mailbox)'s
//! requests one at a time (so no locks). A finalized block it must refuse halts it with the
//! reason ([`FinalizeError`]): the block is never acknowledged to marshal, nothing is signed on
//! it, and the node's supervisor (the validator process) stops loudly.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use commonware_consensus::types::Height as CwHeight;
use commonware_cryptography::Digestible as _;
use commonware_macros::select;
use commonware_runtime::{Clock, Handle, Metrics as RuntimeMetrics, Spawner, Storage};
use commonware_utils::{Acknowledgement as _, channel::mpsc};
use tracing::{debug, error, info, warn};

use super::{
    Config, Mailbox,
    evidence::EvidenceJournal,
    index::IndexJournal,
    ingress::{Lookup, Message, RecordNamespace, Status, Submission},
    metrics::Metrics,
    recent::{self, RecentBlocks},
    retention::Pruner,
    state::{Applied, FinalizeError, State},
};
use crate::Marshal;

/// The application actor. Create with [`Actor::new`], wire the returned [`Mailbox`] into
/// marshal and consensus, then [`Actor::start`] it with marshal's mailbox.
pub struct Actor<E: Spawner + Clock + RuntimeMetrics + Storage> {
    context: E,
    marshal: Arc<OnceLock<Marshal>>,
    control: mpsc::UnboundedReceiver<Message>,
    submissions: mpsc::Receiver<Submission>,
    state: State,
    evidence_partition: Option<String>,
    index_partition: Option<String>,
    pruner: Option<Pruner>,
}

impl<E: Spawner + Clock + RuntimeMetrics + Storage> Actor<E> {
    /// Creates the actor and its mailbox. The genesis block is derived from `config.params`.
    pub fn new(context: E, config: Config) -> (Self, Mailbox) {
        let (control_tx, control) = mpsc::unbounded_channel();
        let (submissions_tx, submissions) = mpsc::channel(config.submission_queue.max(1));
        let marshal = Arc::new(OnceLock::new());
        let recent = Arc::new(RecentBlocks::new(recent::DEFAULT_BUDGET));
        let mailbox = Mailbox::new(
            control_tx,
            submissions_tx,
            config.max_clock_drift,
            config.l1_retry,
            marshal.clone(),
            recent.clone(),
        );
        let evidence_partition = config.evidence_partition.clone();
        let index_partition = config.index_partition.clone();
        let pruner = config.retention.map(Pruner::new);
        let mut state = State::new(config);
        state.metrics = Some(Metrics::register(&context));
        state.recent = Some(recent);
        let actor = Self {
            context,
            marshal,
            control,
            submissions,
            state,
            evidence_partition,
            index_partition,
            pruner,
        };
        (actor, mailbox)
    }

    /// Starts the actor. After a restart it first restores the finalized chain from its index
    /// and replays from marshal the processed blocks the index lacks, then serves requests
    /// until its mailbox closes (`Ok`) or it must refuse a finalized block (`Err`, the reason).
    pub fn start(self, marshal: Marshal) -> Handle<Result<(), FinalizeError>> {
        let Self {
            context,
            marshal: shared,
            control,
            submissions,
            state,
            evidence_partition,
            index_partition,
            pruner,
        } = self;
        let _ = shared.set(marshal.clone());
        let partitions =
            Partitions { evidence: evidence_partition, index: index_partition, pruner };
        context.spawn(move |context| run(context, state, control, submissions, marshal, partitions))
    }
}

/// Where the actor keeps its own data (`None`: in memory only).
struct Partitions {
    evidence: Option<String>,
    index: Option<String>,
    /// Prunes marshal's old blocks (`None`: archival).
    pruner: Option<Pruner>,
}

async fn run<E: Clock + Storage + RuntimeMetrics>(
    context: E,
    mut state: State,
    mut control: mpsc::UnboundedReceiver<Message>,
    mut submissions: mpsc::Receiver<Submission>,
    marshal: Marshal,
    partitions: Partitions,
) -> Result<(), FinalizeError> {
    let mut journal = match partitions.evidence {
        Some(partition) => {
            let max_payload = state.params.limits.max_payload;
            match EvidenceJournal::open(context.child("evidence"), partition, max_payload).await {
                Ok((journal, stored)) => {
                    if !stored.is_empty() {
                        info!(equivocations = stored.len(), "restored equivocation evidence");
                    }
                    for kept in stored {
                        state.records.add_equivocation(kept.namespace, kept.equivocation);
                    }
                    Some(journal)
                }
                // Evidence is an extra, not the chain: the node serves on without it.
                Err(err) => {
                    warn!(%err, "equivocation evidence unavailable; kept in memory only");
                    None
                }
            }
        }
        None => None,
    };
    let mut index = match partitions.index {
        Some(partition) => restore(&context, partition, &mut state, &marshal).await,
        None => None,
    };
    let mut pruner = partitions.pruner;
    if pruner.is_some() && index.is_none() {
        warn!("retention needs the finalized index, which is unavailable: keeping every block");
        pruner = None;
    }
    let mut last_index_sync = context.current();
    let restored = state.finalized_height().get();
    let replayed = match state.recover(&marshal).await {
        Ok(replayed) => replayed,
        Err(halt) => {
            error!(%halt, "cannot recover the finalized chain; the validator halts");
            return Err(halt);
        }
    };
    if let Some(metrics) = &state.metrics {
        metrics.recovered(state.finalized_height().get(), restored as usize, replayed);
    }
    loop {
        select! {
            message = control.recv() => {
                let Some(message) = message else { break };
                if let Err(halt) = state.handle(message, super::ingress::now_ms(&context)) {
                    error!(%halt, "refused a finalized block; the validator halts");
                    return Err(halt);
                }
            },
            submission = submissions.recv() => {
                let Some(Submission { transaction, hash, response }) = submission else { break };
                let _ = response.send(state.submit_hashed(transaction, hash));
                if let Some(metrics) = &state.metrics {
                    metrics.mempool(state.mempool.len());
                }
            },
        }
        let now = context.current();
        let sync = now.duration_since(last_index_sync).unwrap_or_default() >= INDEX_SYNC_INTERVAL;
        if write_index(&mut index, &mut state, sync).await {
            last_index_sync = now;
        }
        // Only while the index is written: without it the next start replays from marshal.
        if let (Some(pruning), Some(_)) = (&mut pruner, &index)
            && let Some(below) = pruning.next(state.finalized_height().get())
        {
            debug!(below, "pruning finalized blocks and certificates");
            marshal.prune(CwHeight::new(below));
        }
        if !state.unsaved.is_empty() {
            let unsaved = std::mem::take(&mut state.unsaved);
            if let Some(journal) = &mut journal
                && let Err(err) = journal.append(&unsaved).await
            {
                warn!(%err, "equivocation evidence not written; kept in memory only");
            }
        }
    }
    write_index(&mut index, &mut state, false).await;
    if let Some(journal) = &mut index
        && let Err(err) = journal.sync().await
    {
        warn!(%err, "finalized index not synced at shutdown (the next start replays the rest)");
    }
    debug!("application actor stopped");
    Ok(())
}

/// Finalized heights re-sent to the sinks after a restore, besides epoch ends (the signatures
/// actor re-signs those it had not stored when the node stopped).
const RESTORE_TAIL: u64 = 256;

/// How often index entries are synced (a crash loses at most those appended since, which the
/// next start replays from marshal).
const INDEX_SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// Opens the finalized index and restores the chain state from it: its entries that chain
/// from genesis, provided marshal holds the last one's block at its height. An unusable
/// suffix is dropped from the index; a disagreement with marshal drops it all (the replay from
/// marshal that follows rebuilds it). `None` if the index cannot be opened or rewritten: the
/// node then replays from marshal and keeps no index, as before indexes existed.
async fn restore<E: Clock + Storage + RuntimeMetrics>(
    context: &E,
    partition: String,
    state: &mut State,
    marshal: &Marshal,
) -> Option<IndexJournal<E>> {
    let started = context.current();
    let max_transactions = state.params.limits.max_transactions;
    let opened = IndexJournal::open(context.child("index"), partition, max_transactions).await;
    let (mut index, entries) = match opened {
        Ok(opened) => opened,
        Err(err) => {
            warn!(%err, "finalized index unavailable; replaying the chain from marshal");
            return None;
        }
    };
    let mut usable = &entries[..state.chaining_prefix(&entries)];
    if let Some(last) = usable.last() {
        let height = last.header.height.get();
        let held = marshal.get_block(CwHeight::new(height)).await;
        if held.is_none_or(|block| block.digest() != last.digest) {
            warn!(height, "finalized index disagrees with marshal's archive; rebuilding it");
            usable = &[];
        }
    }
    if usable.len() != entries.len() {
        warn!(
            kept = usable.len(),
            dropped = entries.len() - usable.len(),
            "rewriting the finalized index"
        );
        if let Err(err) = index.rewrite(usable).await {
            warn!(%err, "finalized index not rewritten; replaying the chain from marshal");
            return None;
        }
    }
    state.restore(usable, RESTORE_TAIL);
    if let Some(last) = usable.last() {
        let elapsed = context.current().duration_since(started).unwrap_or_default();
        info!(
            height = last.header.height.get(),
            elapsed_ms = elapsed.as_millis() as u64,
            "restored finalized chain from the index"
        );
    }
    state.start_indexing();
    Some(index)
}

/// Appends what the state finalized since the last call, and starts a sync (in the background:
/// the actor does not wait for the disk) if `sync` and anything is unsynced; `true` if it did. A write failure stops indexing (the next start replays the
/// rest from marshal).
async fn write_index<E: Storage + RuntimeMetrics>(
    index: &mut Option<IndexJournal<E>>,
    state: &mut State,
    sync: bool,
) -> bool {
    let Some(journal) = index else { return false };
    let entries = state.take_unindexed();
    let mut written = journal.append(&entries).await;
    let synced = sync && journal.unsynced() > 0;
    if synced && written.is_ok() {
        written = journal.start_sync().await;
    }
    if let Err(err) = written {
        warn!(%err, "finalized index not written; it stops here (restarts replay from marshal)");
        *index = None;
        state.stop_indexing();
        return false;
    }
    synced
}

impl State {
    /// Re-applies the finalized blocks marshal processed in an earlier run above what the
    /// index restored (all of them without an index); returns how many. A processed block
    /// missing from marshal's archive, or one that does not apply, is fatal: serving on would
    /// leave a gap that marshal never fills (it delivers from its processed height on).
    async fn recover(&mut self, marshal: &Marshal) -> Result<u64, FinalizeError> {
        let Some(processed) = marshal.get_processed().await else { return Ok(0) };
        let target = processed.height().get();
        let from = self.finalized_height().get() + 1;
        for height in from..=target {
            let block = marshal
                .get_block(CwHeight::new(height))
                .await
                .ok_or(FinalizeError::MissingBlock { height })?;
            self.apply_finalized(block.inner())?;
        }
        let replayed = target.saturating_sub(from - 1);
        if replayed > 0 {
            info!(height = self.finalized_height().get(), replayed, "recovered finalized chain");
        }
        Ok(replayed)
    }

    /// Answers `message`; `now_ms` is the local time (for metrics only). A finalized block
    /// that does not apply is not acknowledged: its error is returned for the actor to halt.
    pub(super) fn handle(&mut self, message: Message, now_ms: u64) -> Result<(), FinalizeError> {
        match message {
            Message::Lookup { digest, response } => {
                let known =
                    self.known.contains_key(&digest) || self.finalized.contains_key(&digest);
                let _ = response.send(Lookup { known, finalized: self.finalized_height() });
            }
            Message::Propose { context, ancestors, now_ms, response } => {
                let block = self.propose_in(*context, &ancestors, now_ms);
                let _ = response.send(block);
            }
            Message::Verify { view, block, ancestors, response } => {
                let verification = self.verify(view, &block, &ancestors);
                let _ = response.send(verification);
            }
            Message::Finalized { block, ack } => {
                // `?` drops `ack` unacknowledged: marshal never records the block as processed.
                let applied = self.apply_finalized(block.inner())?;
                ack.acknowledge();
                if let (Applied::Extended, Some(recent)) = (applied, &self.recent) {
                    recent.insert(block.inner());
                }
                if let (Applied::Extended, Some(metrics)) = (applied, &self.metrics) {
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
            Message::Pending { limit, response } => {
                let _ = response.send(self.mempool.select(limit, usize::MAX, |_, _| true));
            }
            Message::Header { height, response } => {
                let header = usize::try_from(height.get()).ok().and_then(|h| self.headers.get(h));
                let _ = response.send(header.cloned());
            }
            Message::TransactionHeight { hash, response } => {
                let _ = response.send(self.finalized_txs.get(&hash).copied());
            }
            Message::HeightByHash { hash, response } => {
                let height = self
                    .header_heights
                    .get(&hash)
                    .or_else(|| self.finalized.get(&crate::block::digest_from_b256(&hash)));
                let _ = response.send(height.copied());
            }
            Message::HistoryProof { height, root_height, response } => {
                let _ = response.send(self.history.prove(height, root_height));
            }
            Message::LightClientState { height, response } => {
                let _ = response.send(self.light_client_state(height));
            }
            Message::Committee { epoch, response } => {
                let _ = response.send(self.committees.get(epoch).cloned());
            }
            Message::BlockRecord { namespace, number, response } => {
                let _ = response.send(self.records.get(namespace, number));
            }
            Message::RecordNamespace { namespace, response } => {
                let info = self.records.spec(namespace).map(|spec| RecordNamespace {
                    spec,
                    confirmed: self.records.range(namespace),
                    equivocations: self.records.equivocations(namespace).len(),
                });
                let _ = response.send(info);
            }
            Message::Equivocations { namespace, from, limit, response } => {
                let kept = self.records.equivocations(namespace);
                let page = kept.iter().skip(from).take(limit).cloned().collect();
                let _ = response.send(page);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::B256;
    use commonware_cryptography::{Digested, Digestible as _};
    use commonware_utils::{Acknowledgement as _, acknowledgement::Exact, channel::oneshot};
    use trestle_light_client::{Height, HistoryTree, View, history::HistoryError};

    use super::*;
    use crate::{
        application::state::tests::{params, tx, validator},
        block::Block,
        mempool::SubmitError,
        rules,
    };

    /// Sends `make(response)` to the state's handler and returns the answer.
    fn ask<T>(state: &mut State, make: impl FnOnce(oneshot::Sender<T>) -> Message) -> T {
        let (response, mut receiver) = oneshot::channel();
        state.handle(make(response), 0).expect("not a finalized block");
        receiver.try_recv().expect("answered synchronously")
    }

    /// Hands `block` to the handler as marshal does; returns the handler's verdict and
    /// whether marshal got its acknowledgement.
    fn finalize(state: &mut State, block: &Block) -> (Result<(), FinalizeError>, bool) {
        let (ack, waiter) = Exact::handle();
        let digested = Digested::precomputed(block.clone(), block.digest());
        let verdict = state.handle(Message::Finalized { block: digested, ack }, 0);
        let acknowledged = futures::executor::block_on(waiter).is_ok();
        (verdict, acknowledged)
    }

    #[test]
    fn a_refused_finalized_block_is_never_acknowledged() {
        let mut a = validator();
        let mut b = validator();
        let one = a.propose(View(1), a.tip, &[], 100).expect("built");
        let mut header = one.inner().header().clone();
        header.history_root = B256::repeat_byte(0xbd);
        let forged = Block::from_parts(
            header,
            one.inner().parent_digest(),
            one.inner().succession().clone(),
            one.inner().consensus_context().clone(),
            one.inner().transactions().to_vec(),
        );
        let (verdict, acknowledged) = finalize(&mut b, &forged);
        assert!(matches!(verdict, Err(FinalizeError::WrongHistoryRoot { height: 1, .. })));
        assert!(!acknowledged, "a refused block was acknowledged to marshal");
        let two = a.propose(View(2), one.digest(), &[], 200).expect("built");
        let (verdict, acknowledged) = finalize(&mut b, two.inner());
        assert_eq!(verdict, Err(FinalizeError::OutOfOrder { height: 2, expected: 1 }));
        assert!(!acknowledged);
        // The right block is applied and acknowledged; a duplicate is acknowledged again.
        assert_eq!(finalize(&mut b, one.inner()), (Ok(()), true));
        assert_eq!(finalize(&mut b, one.inner()), (Ok(()), true));
        assert_eq!(b.finalized_height(), Height(1));
    }

    #[test]
    fn queries_index_transactions_prove_history_and_stream_blocks() {
        let mut a = validator();
        let (sink, mut blocks) = mpsc::unbounded_channel();
        let mut config = Config::new(params());
        config.finalized = vec![sink];
        let mut b = State::new(config);
        assert_eq!(blocks.try_recv().expect("genesis sent").header.height, Height(0));

        let hash = a.submit(tx(b"indexed")).expect("admitted");
        let mut parent = a.tip;
        let mut tree = HistoryTree::new();
        tree.append(&rules::genesis(&a.params).header_hash());
        let mut hashes = vec![rules::genesis(&a.params).header_hash()];
        for view in 1..=3u64 {
            let block = a.propose(View(view), parent, &[], view * 100).expect("built");
            assert_eq!(b.verify(View(view), &block, &[]), super::super::state::Verification::Valid);
            b.apply_finalized(block.inner()).expect("extends");
            b.apply_finalized(block.inner()).expect("a duplicate is neither applied nor sent");
            assert_eq!(
                &blocks.try_recv().expect("finalized block sent").block,
                &Some(block.inner().clone())
            );
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
            assert_eq!(state.next_committee, b.params.genesis_committee.commitment());
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
}
