//! The deliver loop: pending messages whose trestle height the destination light client covers
//! → `Mailbox.deliver` / `Mailbox.deliverBatch` with their inclusion proofs.
//!
//! A mailbox receives each source chain's messages in nonce order (its `inboxNonce(src)` is the
//! next one it takes), and a message whose recipient fails is received all the same, stored as
//! failed for anyone to `retry`: so one bad recipient never holds up a route. The loop works
//! route by route. It asks the mailbox for the route's position; every queued message below it
//! was received already (by anyone: losing a race is success) and leaves the queue. From the
//! position on, it takes the queued messages with consecutive nonces whose trestle height the
//! light client's latest root covers, fetches each transaction proof and the history proof of
//! their block, verifies both with the light-client kernel (never sending a proof the contract
//! would refuse, or trusting a node blindly), and delivers the messages of one block in one
//! transaction. A message leaves the queue only once the mailbox has received it, in one store
//! transaction. A route that fails (a node or the chain does not answer) is retried with backoff
//! without holding up the other routes.

use std::collections::BTreeMap;

use alloy::{providers::Provider as _, rpc::types::TransactionReceipt};
use alloy_sol_types::SolValue as _;
use tracing::{debug, info, warn};
use trestle_api::TrestleApiClient as _;
use trestle_light_client::{
    B256, Header, Height, Namespace, Transaction,
    abi::{self, CodecError},
    confirmation::verify_inclusion,
};

use crate::{
    Backoff,
    bindings::{Mailbox, MerkleTree},
    config::RetryConfig,
    evm::{EvmChain, EvmError},
    metrics::Metrics,
    network::{Network, NetworkError},
    store::{FailedMessage, PendingMessage, Store, StoreError},
};

/// Why a deliver step failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    /// The mailbox refuses the delivery with one of its errors (for example
    /// `InsufficientGas`, or a proof it does not accept).
    #[error("message {message}: the mailbox refuses it: {reason}")]
    Refused {
        /// The message.
        message: B256,
        /// The mailbox's error, decoded.
        reason: String,
    },
    /// The destination chain failed.
    #[error(transparent)]
    Evm(#[from] EvmError),
    /// The network failed to answer.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something the network returned for a message (a header, a transaction or history
    /// proof) does not decode: the endpoint is wrong (it is then distrusted). Nothing is sent.
    #[error("message {message}: the network's answer does not decode: {source}")]
    Codec {
        /// The message.
        message: B256,
        /// What the decoder said.
        source: CodecError,
    },
    /// The stored message is not a valid `abi.encode(Message)`.
    #[error("message {message}: the stored message does not decode: {reason}")]
    Message {
        /// The message.
        message: B256,
        /// What the decoder said.
        reason: String,
    },
    /// The network's proofs do not verify locally: it is wrong, or a different network than
    /// the light client follows. Nothing is sent.
    #[error("message {message}: the network's proof does not verify: {reason}")]
    Verification {
        /// The message.
        message: B256,
        /// What failed.
        reason: String,
    },
}

/// Most messages one transaction delivers: a block's messages beyond it go in the next one.
pub const MAX_BATCH: usize = 10;

/// Most gas the recipients of one batch may be promised together (the sum of their messages'
/// `gasLimit`), so that a batch always fits well inside a block.
pub const MAX_BATCH_GAS: u64 = 10_000_000;

/// A queued message with its decoded form.
struct Queued {
    pending: PendingMessage,
    message: Mailbox::Message,
}

/// A queued message the network finalized at a height the light client's root covers, with
/// its transaction and the proof of it against its block's header.
struct Included {
    queued: Queued,
    transaction: Transaction,
    tx_proof: abi::TransactionProof,
}

/// Consecutive messages of one trestle block: one delivery transaction.
struct Batch {
    header: Header,
    messages: Vec<Included>,
}

impl Batch {
    fn height(&self) -> u64 {
        self.header.height.get()
    }

    /// Whether `next` (of the block at `height`) must go in another transaction.
    fn is_full_for(&self, height: u64, next: &Mailbox::Message) -> bool {
        let gas =
            self.messages.iter().map(|m| m.queued.message.gasLimit).fold(0, u64::saturating_add);
        self.height() != height
            || self.messages.len() >= MAX_BATCH
            || gas.saturating_add(next.gasLimit) > MAX_BATCH_GAS
    }
}

/// The deliver loop of one destination chain.
#[derive(Debug)]
pub struct Deliverer {
    chain: EvmChain,
    network: Network,
    store: Store,
    metrics: Metrics,
    /// When the paying account's balance was last read.
    balance_seen: Option<std::time::Instant>,
    /// When each failing route may be tried again.
    backoff: RouteBackoff,
}

/// When each route (a source chain) may be tried again after failing: each failing route has
/// its own [`Backoff`] (the loops' schedule: `initial`, doubling up to `max`), so a route whose
/// node or chain is down is not asked again on every poll while the other routes move; a
/// success forgets it.
#[derive(Debug)]
struct RouteBackoff {
    retry: RetryConfig,
    /// Per failing route: its backoff and the earliest next attempt.
    failing: BTreeMap<u64, (Backoff, std::time::Instant)>,
}

impl RouteBackoff {
    fn new(retry: RetryConfig) -> Self {
        Self { retry, failing: BTreeMap::new() }
    }

    /// Whether `route` may be tried at `now`.
    fn ready(&self, route: u64, now: std::time::Instant) -> bool {
        self.failing.get(&route).is_none_or(|(_, at)| now >= *at)
    }

    /// Records a failure of `route` at `now`; returns the wait before its next attempt.
    fn failed(&mut self, route: u64, now: std::time::Instant) -> std::time::Duration {
        let (backoff, at) =
            self.failing.entry(route).or_insert_with(|| (Backoff::new(self.retry), now));
        let wait = backoff.failure();
        *at = now + wait;
        wait
    }

    /// Records a success of `route`.
    fn succeeded(&mut self, route: u64) {
        self.failing.remove(&route);
    }
}

/// How often the deliver loop reads the paying account's balance (for the metric).
pub const BALANCE_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

impl Deliverer {
    /// A deliver loop for `chain`; a route that fails waits `retry.initial_ms`, doubling up to
    /// `retry.max_ms`, before it is tried again (the other routes go on meanwhile).
    pub fn new(
        chain: EvmChain,
        network: Network,
        store: Store,
        metrics: Metrics,
        retry: RetryConfig,
    ) -> Self {
        Self {
            chain,
            network,
            store,
            metrics,
            balance_seen: None,
            backoff: RouteBackoff::new(retry),
        }
    }

    /// Delivers every pending message the light client covers, route by route. Returns whether
    /// any message left the queue.
    pub async fn step(&mut self) -> Result<bool, DeliverError> {
        let chain_id = self.chain.config().chain_id;
        let pending = self.store.pending_to(chain_id)?;
        self.observe(&pending).await?;
        if pending.is_empty() {
            return Ok(false);
        }
        let light_client = self.chain.light_client();
        let latest =
            light_client.latestState().call().await.map_err(|e| self.chain.contract_error(e))?;
        self.metrics.light_client_height(self.chain.name(), latest.height);

        let mut routes: BTreeMap<u64, Vec<Queued>> = BTreeMap::new();
        let mut first_error = None;
        for pending in pending {
            match Mailbox::Message::abi_decode(&pending.message) {
                Ok(message) => {
                    routes.entry(message.srcChainId).or_default().push(Queued { pending, message })
                }
                Err(e) => {
                    let error =
                        DeliverError::Message { message: pending.hash, reason: e.to_string() };
                    warn!(chain = self.chain.name(), error = %error, "message skipped");
                    first_error.get_or_insert(error);
                }
            }
        }
        // One route that cannot move (its node or chain fails) must not hold up the others:
        // each is tried (unless it is waiting out its own backoff), and the step fails (and is
        // retried with the loop's backoff) only if nothing moved.
        let mut moved = false;
        let now = std::time::Instant::now();
        for (source, mut queued) in routes {
            if !self.backoff.ready(source, now) {
                continue;
            }
            queued.sort_by_key(|q| q.message.nonce);
            let endpoint = self.network.current();
            match self.deliver_route(source, queued, latest.height, latest.historyRoot).await {
                Ok(route_moved) => {
                    self.backoff.succeeded(source);
                    moved |= route_moved;
                }
                Err(e) => {
                    let wait = self.backoff.failed(source, now);
                    // The endpoint answered, but wrongly: a proof that does not verify against
                    // the light client's root, or data that does not decode. Nothing was sent;
                    // the next attempt asks another validator.
                    if matches!(e, DeliverError::Verification { .. } | DeliverError::Codec { .. })
                        && self.network.distrust(endpoint, &e.to_string())
                    {
                        self.metrics.distrusted_answer();
                    }
                    warn!(
                        chain = self.chain.name(),
                        source,
                        error = %e,
                        retry_in_ms = wait.as_millis(),
                        "route not delivered; its messages stay queued"
                    );
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if !moved => Err(e),
            _ => Ok(moved),
        }
    }

    /// Updates the gauges an operator watches: the age of the oldest message queued here, the
    /// failed messages on record, and (at most every [`BALANCE_EVERY`]) the paying account's
    /// balance.
    async fn observe(&mut self, pending: &[PendingMessage]) -> Result<(), DeliverError> {
        let name = self.chain.name().to_owned();
        let oldest = if pending.is_empty() {
            None
        } else {
            let queued_at: BTreeMap<B256, u64> = self.store.queued_at()?.into_iter().collect();
            pending.iter().filter_map(|m| queued_at.get(&m.hash)).min().copied()
        };
        let age = oldest.map_or(0, |since| crate::now_ms().saturating_sub(since) / 1_000);
        self.metrics.oldest_pending(&name, age);
        self.metrics.failed_messages(self.store.failed()?.len());
        if let Some(sender) = self.chain.sender()
            && self.balance_seen.is_none_or(|seen| seen.elapsed() >= BALANCE_EVERY)
        {
            // Only a gauge: a failed read must not hold up a delivery.
            match self.chain.provider().get_balance(sender).await {
                Ok(balance) => self.metrics.balance(&name, balance),
                Err(e) => debug!(chain = %name, error = %e, "could not read the balance"),
            }
            self.balance_seen = Some(std::time::Instant::now());
        }
        Ok(())
    }

    /// Moves the route from `source` forward: drops what the mailbox received already, then
    /// delivers the consecutive messages from its position that the light client's root covers,
    /// one transaction per trestle block (at most [`MAX_BATCH`] messages each). `queued` is in
    /// nonce order. Returns whether any message left the queue.
    async fn deliver_route(
        &self,
        source: u64,
        queued: Vec<Queued>,
        root_height: u64,
        root: B256,
    ) -> Result<bool, DeliverError> {
        let mailbox = self.chain.mailbox();
        let position =
            mailbox.inboxNonce(source).call().await.map_err(|e| self.chain.contract_error(e))?;
        let mut moved = false;
        let mut expected = position;
        let mut batch: Option<Batch> = None;
        for queued in queued {
            let nonce = queued.message.nonce;
            if nonce < position {
                self.finish(&queued.pending, None)?;
                moved = true;
                continue;
            }
            if nonce < expected {
                // Another queued message claims a nonce already taken care of in this step (one
                // of them is no message of the source: an endpoint made it up). It stays queued
                // until the mailbox's position passes it.
                continue;
            }
            if nonce != expected {
                // The message before this one is not queued here (yet), or not finalized at a
                // height the light client covers: the mailbox takes nothing past it.
                debug!(chain = self.chain.name(), source, expected, nonce, "waiting for a gap");
                break;
            }
            // Not included (yet): the next queued message may claim the same nonce.
            let Some((header, included)) = self.included(queued, root_height).await? else {
                continue;
            };
            let height = header.height.get();
            if batch.as_ref().is_some_and(|b| b.is_full_for(height, &included.queued.message))
                && let Some(full) = batch.take()
            {
                if !self.send(full, root_height, root).await? {
                    return Ok(moved);
                }
                moved = true;
            }
            batch
                .get_or_insert_with(|| Batch { header, messages: Vec::new() })
                .messages
                .push(included);
            expected += 1;
        }
        if let Some(batch) = batch {
            moved |= self.send(batch, root_height, root).await?;
        }
        Ok(moved)
    }

    /// The message's transaction, header and transaction proof (checked against the header),
    /// once the network has finalized it at a height the light client's root covers.
    async fn included(
        &self,
        queued: Queued,
        root_height: u64,
    ) -> Result<Option<(Header, Included)>, DeliverError> {
        let pending = &queued.pending;
        let hash = pending.hash;
        let Some(inclusion) = self
            .network
            .call(|client| async move { client.tx_proof(pending.tx_hash).await })
            .await
            .map_err(|e| DeliverError::Network(NetworkError::Rpc(e)))?
        else {
            return Ok(None);
        };
        let height = inclusion.height;
        if pending.included_height != Some(height) {
            self.store.set_included_height(hash, height)?;
        }
        if height > root_height {
            return Ok(None);
        }
        let codec = |source| DeliverError::Codec { message: hash, source };
        let unverified = |reason: String| DeliverError::Verification { message: hash, reason };
        let header = inclusion.header.decode().map_err(codec)?;
        if header.height.get() != height {
            return Err(unverified(format!(
                "header of height {} for height {height}",
                header.height.get()
            )));
        }
        let transaction = Transaction::new(Namespace(pending.namespace), pending.message.clone());
        if transaction.hash() != pending.tx_hash {
            return Err(unverified("the stored message does not hash to its transaction".into()));
        }
        let tx_proof = inclusion.proof.decode().map_err(codec)?;
        Ok(Some((header, Included { queued, transaction, tx_proof })))
    }

    /// Verifies the batch against the light client's root with the kernel and delivers it:
    /// `deliver` for one message, `deliverBatch` for more. Returns whether its messages left the
    /// queue (not when the network has no history proof for the block yet).
    async fn send(&self, batch: Batch, root_height: u64, root: B256) -> Result<bool, DeliverError> {
        let height = batch.height();
        let first = batch.messages[0].queued.pending.hash;
        let Some(history) = self
            .network
            .call(|client| async move { client.history_proof(height, root_height).await })
            .await
            .map_err(|e| DeliverError::Network(NetworkError::Rpc(e)))?
        else {
            return Ok(false);
        };
        let history_proof = history
            .proof
            .decode()
            .map_err(|source| DeliverError::Codec { message: first, source })?;
        if history.root != root {
            return Err(DeliverError::Verification {
                message: first,
                reason: format!(
                    "the network's root at height {root_height} is {}, the light client's {root}",
                    history.root
                ),
            });
        }
        // Verify everything locally before paying for a transaction: the kernel's inclusion
        // check, against the root the destination's light client holds.
        for included in &batch.messages {
            verify_inclusion(
                &included.transaction,
                &batch.header,
                &included.tx_proof,
                &history_proof,
                &root,
                Height(root_height),
            )
            .map_err(|e| DeliverError::Verification {
                message: included.queued.pending.hash,
                reason: e.to_string(),
            })?;
        }

        // The bindings' structs have the same fields; the canonical encodings carry them over.
        let decode_error = |reason: String| DeliverError::Message { message: first, reason };
        let header = Mailbox::Header::abi_decode(&batch.header.encode())
            .map_err(|e| decode_error(e.to_string()))?;
        let history_proof = MerkleTree::Proof::abi_decode(&history_proof.encode())
            .map_err(|e| decode_error(e.to_string()))?;
        let mut messages = Vec::with_capacity(batch.messages.len());
        let mut tx_proofs = Vec::with_capacity(batch.messages.len());
        for included in &batch.messages {
            messages.push(included.queued.message.clone());
            tx_proofs.push(
                Mailbox::TransactionProof::abi_decode(&included.tx_proof.encode())
                    .map_err(|e| decode_error(e.to_string()))?,
            );
        }
        let mailbox = self.chain.mailbox();
        let sent = match (messages.len(), tx_proofs.len()) {
            (1, 1) => {
                let (message, tx_proof) = (messages.remove(0), tx_proofs.remove(0));
                self.chain
                    .send(mailbox.deliver(message, header, tx_proof, history_proof, root))
                    .await
            }
            _ => {
                self.chain
                    .send(mailbox.deliverBatch(messages, header, tx_proofs, history_proof, root))
                    .await
            }
        };
        match sent {
            Ok(receipt) => {
                crate::faults::reach(crate::faults::CrashPoint::DeliverAfterSend);
                self.received(&batch, height, &receipt)
            }
            Err(e) => {
                // A competitor's delivery mined between our estimate and our transaction: the
                // next step reads the route's new position and drops what it received.
                if let Some(Mailbox::MailboxErrors::AlreadyReceived(_)) =
                    e.revert::<Mailbox::MailboxErrors>()
                {
                    debug!(chain = self.chain.name(), "received by another relayer");
                    return Ok(false);
                }
                if matches!(e, EvmError::Reverted { .. }) {
                    return Ok(false);
                }
                match e.revert::<Mailbox::MailboxErrors>() {
                    Some(refusal) => Err(DeliverError::Refused {
                        message: first,
                        reason: format!("{refusal:?}"),
                    }),
                    None => Err(e.into()),
                }
            }
        }
    }

    /// Reads what the mailbox did with each message of a mined batch from its events, and
    /// takes the messages it received off the queue.
    fn received(
        &self,
        batch: &Batch,
        height: u64,
        receipt: &TransactionReceipt,
    ) -> Result<bool, DeliverError> {
        let mailbox = self.chain.config().mailbox;
        let mut delivered = Vec::new();
        let mut failed = BTreeMap::new();
        for log in receipt.inner.logs().iter().filter(|log| log.address() == mailbox) {
            if let Ok(event) = log.log_decode::<Mailbox::MessageDelivered>() {
                delivered.push(event.inner.data.messageHash);
            } else if let Ok(event) = log.log_decode::<Mailbox::MessageFailed>() {
                let event = event.inner.data;
                failed.insert(event.messageHash, event.reason);
            }
        }
        for included in &batch.messages {
            let hash = included.queued.pending.hash;
            if delivered.contains(&hash) {
                info!(
                    chain = self.chain.name(),
                    hash = %hash,
                    height,
                    tx = %receipt.transaction_hash,
                    "delivered message"
                );
                self.finish(&included.queued.pending, None)?;
            } else if let Some(reason) = failed.remove(&hash) {
                warn!(
                    chain = self.chain.name(),
                    hash = %hash,
                    height,
                    tx = %receipt.transaction_hash,
                    reason = %reason,
                    "message received, its recipient failed: stored for Mailbox.retry \
                     (`trestle relayer messages --failed`, `trestle relayer retry`)"
                );
                self.metrics.recipient_failed(self.chain.name());
                let message = &included.queued.message;
                let failure = FailedMessage {
                    hash,
                    dest_chain_id: message.destChainId,
                    src_chain_id: message.srcChainId,
                    nonce: message.nonce,
                    message: included.queued.pending.message.clone(),
                    reason,
                    delivery_tx: receipt.transaction_hash,
                    at_ms: crate::now_ms(),
                };
                self.finish(&included.queued.pending, Some(&failure))?;
            }
            // Neither: a competitor received it first (the batch skipped it); the next step
            // finds it below the route's position.
        }
        debug!(
            chain = self.chain.name(),
            messages = batch.messages.len(),
            gas = receipt.gas_used,
            tx = %receipt.transaction_hash,
            "delivery transaction mined"
        );
        Ok(true)
    }

    /// Takes a message the mailbox received off the queue (recording it as failed if its
    /// recipient failed).
    fn finish(
        &self,
        pending: &PendingMessage,
        failed: Option<&FailedMessage>,
    ) -> Result<(), DeliverError> {
        let height = pending.included_height.unwrap_or_default();
        if self.store.mark_received(pending.hash, height, failed)? {
            self.metrics.delivered(self.chain.name());
            debug!(chain = self.chain.name(), hash = %pending.hash, failed = failed.is_some(),
                "message done");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::RouteBackoff;
    use crate::config::RetryConfig;

    #[test]
    fn a_failing_route_waits_doubling_and_alone() {
        let mut backoff = RouteBackoff::new(RetryConfig { initial_ms: 250, max_ms: 5_000 });
        let start = Instant::now();
        assert!(backoff.ready(1, start) && backoff.ready(2, start));
        // Route 1 fails repeatedly: 250 ms, 500 ms, 1 s, 2 s, 4 s, then capped at 5 s.
        let waits: Vec<u64> = (0..7).map(|_| backoff.failed(1, start).as_millis() as u64).collect();
        assert_eq!(waits, [250, 500, 1_000, 2_000, 4_000, 5_000, 5_000]);
        assert!(!backoff.ready(1, start + Duration::from_millis(4_999)));
        assert!(backoff.ready(1, start + Duration::from_secs(5)));
        // Route 2 is not held up by route 1.
        assert!(backoff.ready(2, start));
        // A success forgets the failures: the next failure waits the initial time again.
        backoff.succeeded(1);
        assert!(backoff.ready(1, start));
        assert_eq!(backoff.failed(1, start), Duration::from_millis(250));
        // Many failures never overflow.
        for _ in 0..100 {
            backoff.failed(3, start);
        }
        assert_eq!(backoff.failed(3, start), Duration::from_secs(5));
    }
}
