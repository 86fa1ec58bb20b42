//! Prometheus metrics of the relayer, served as text on `GET /metrics`.
//!
//! | metric | labels | meaning |
//! |---|---|---|
//! | `relayer_posted_blocks_total` | `chain` | source blocks recorded in the network |
//! | `relayer_posted_messages_total` | `chain` | outgoing messages posted to the network |
//! | `relayer_discovered_messages_total` | `chain` | messages from `chain` found on the network for our destinations |
//! | `relayer_discovery_skipped_total` | `chain` | transactions in `chain`'s message namespace that are not a valid message of it (skipped) |
//! | `relayer_proofs_submitted_total` | `chain` | `LightClient.update` calls that landed |
//! | `relayer_proving_seconds` | | time to prove one light-client state |
//! | `relayer_deliveries_total` | `chain` | messages received by the mailbox (by us or found received) |
//! | `relayer_recipient_failures_total` | `chain` | of those, received with a failing recipient (stored for `retry`) |
//! | `relayer_errors_total` | `role` | failed loop steps (each retried with backoff) |
//! | `relayer_source_cursor` | `chain` | next source block to post |
//! | `relayer_discovery_cursor` | | next network height the discovery loop reads |
//! | `relayer_light_client_height` | `chain` | latest height of the chain's light client |
//! | `relayer_finalized_height` | | latest finalized height of the network |
//! | `relayer_pending_messages` | | messages queued for delivery, not yet received |
//! | `relayer_unfinalized_submissions` | `chain` | transactions posted, not yet seen finalized (tracked for resending) |
//! | `relayer_resubmissions_total` | `chain` | transactions sent again because they were not finalized in time |
//! | `relayer_source_head` | `chain`, `head` | 1 for the block tag the post loop posts up to (`finalized` or `latest`) |
//! | `relayer_oldest_pending_seconds` | `chain` | age of the oldest message queued for `chain` (0 when none) |
//! | `relayer_failed_messages` | | messages received with a failing recipient, retryable (`trestle relayer messages --failed`) |
//! | `relayer_balance_ether` | `chain` | balance of the account paying for `update` and `deliver` on `chain` |
//! | `relayer_distrusted_answers_total` | | network answers refused as wrong (a proof that does not verify), each followed by failing over to the next endpoint |
//!
//! Besides the counters, each loop's health (its last success, its consecutive failures and
//! last error) is kept here for the status endpoint ([`crate::status`]).

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, Mutex, atomic::AtomicU64},
};

use axum::{Router, http::header, response::IntoResponse, routing::get};
use prometheus_client::{
    encoding::text::encode,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use tokio::net::TcpListener;

use serde::{Deserialize, Serialize};

use crate::config::{Role, SourceHead};

/// One loop's health, as the status endpoint reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopHealth {
    /// The loop's role (`post`, `prove`, `deliver`).
    pub role: String,
    /// Which loop of the role (a chain's name, `discovery`, `all`).
    pub label: String,
    /// Failed steps since its last successful one.
    pub consecutive_failures: u64,
    /// When its last step succeeded (ms since the Unix epoch).
    pub last_ok_ms: Option<u64>,
    /// Its last failure, if any (kept after a success, for the record).
    pub last_error: Option<String>,
    /// When that was (ms since the Unix epoch).
    pub last_error_ms: Option<u64>,
}

/// Label set of per-chain metrics.
type ChainLabel = Vec<(&'static str, String)>;

/// Why the metrics endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The listen address could not be bound.
    #[error("cannot bind the metrics endpoint {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The relayer's metrics (cheap to clone; clones share the values).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    posted_blocks: Family<ChainLabel, Counter>,
    posted_messages: Family<ChainLabel, Counter>,
    discovered_messages: Family<ChainLabel, Counter>,
    discovery_skipped: Family<ChainLabel, Counter>,
    discovery_cursor: Gauge,
    proofs_submitted: Family<ChainLabel, Counter>,
    proving_seconds: Histogram,
    deliveries: Family<ChainLabel, Counter>,
    recipient_failures: Family<ChainLabel, Counter>,
    errors: Family<ChainLabel, Counter>,
    source_cursor: Family<ChainLabel, Gauge>,
    light_client_height: Family<ChainLabel, Gauge>,
    finalized_height: Gauge,
    pending_messages: Gauge,
    unfinalized_submissions: Family<ChainLabel, Gauge>,
    resubmissions: Family<ChainLabel, Counter>,
    source_head: Family<ChainLabel, Gauge>,
    oldest_pending_seconds: Family<ChainLabel, Gauge>,
    failed_messages: Gauge,
    balance_ether: Family<ChainLabel, Gauge<f64, AtomicU64>>,
    distrusted_answers: Counter,
    loops: Arc<Mutex<BTreeMap<(String, String), LoopHealth>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn chain(name: &str) -> ChainLabel {
    vec![("chain", name.to_owned())]
}

impl Metrics {
    /// Registers every metric in a fresh registry.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("relayer");
        let posted_blocks = Family::<ChainLabel, Counter>::default();
        registry.register("posted_blocks", "Source blocks recorded", posted_blocks.clone());
        let posted_messages = Family::<ChainLabel, Counter>::default();
        registry.register("posted_messages", "Messages posted", posted_messages.clone());
        let discovered_messages = Family::<ChainLabel, Counter>::default();
        registry.register(
            "discovered_messages",
            "Messages found on the network for this relayer's destinations, by source chain",
            discovered_messages.clone(),
        );
        let discovery_skipped = Family::<ChainLabel, Counter>::default();
        registry.register(
            "discovery_skipped",
            "Transactions in a source chain's message namespace that are not a valid message",
            discovery_skipped.clone(),
        );
        let discovery_cursor = Gauge::default();
        registry.register(
            "discovery_cursor",
            "Next network height the discovery loop reads",
            discovery_cursor.clone(),
        );
        let proofs_submitted = Family::<ChainLabel, Counter>::default();
        registry.register(
            "proofs_submitted",
            "Light-client updates that landed",
            proofs_submitted.clone(),
        );
        // Seconds: 0.5 s to ~2 min.
        let proving_seconds = Histogram::new([0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]);
        registry.register("proving_seconds", "Time to prove one state", proving_seconds.clone());
        let deliveries = Family::<ChainLabel, Counter>::default();
        registry.register("deliveries", "Messages delivered", deliveries.clone());
        let recipient_failures = Family::<ChainLabel, Counter>::default();
        registry.register(
            "recipient_failures",
            "Messages received whose recipient failed (stored by the mailbox for retry)",
            recipient_failures.clone(),
        );
        let errors = Family::<ChainLabel, Counter>::default();
        registry.register("errors", "Failed loop steps, by role", errors.clone());
        let source_cursor = Family::<ChainLabel, Gauge>::default();
        registry.register("source_cursor", "Next source block to post", source_cursor.clone());
        let light_client_height = Family::<ChainLabel, Gauge>::default();
        registry.register(
            "light_client_height",
            "Latest height of the chain's light client",
            light_client_height.clone(),
        );
        let finalized_height = Gauge::default();
        registry.register(
            "finalized_height",
            "Latest finalized height of the network",
            finalized_height.clone(),
        );
        let pending_messages = Gauge::default();
        registry.register(
            "pending_messages",
            "Messages queued for delivery, not yet received",
            pending_messages.clone(),
        );
        let unfinalized_submissions = Family::<ChainLabel, Gauge>::default();
        registry.register(
            "unfinalized_submissions",
            "Transactions posted and not yet seen finalized",
            unfinalized_submissions.clone(),
        );
        let resubmissions = Family::<ChainLabel, Counter>::default();
        registry.register(
            "resubmissions",
            "Transactions sent again because they were not finalized in time",
            resubmissions.clone(),
        );
        let source_head = Family::<ChainLabel, Gauge>::default();
        registry.register(
            "source_head",
            "1 for the block tag the post loop posts up to",
            source_head.clone(),
        );
        let oldest_pending_seconds = Family::<ChainLabel, Gauge>::default();
        registry.register(
            "oldest_pending_seconds",
            "Age of the oldest message queued for the chain",
            oldest_pending_seconds.clone(),
        );
        let failed_messages = Gauge::default();
        registry.register(
            "failed_messages",
            "Messages received with a failing recipient, retryable",
            failed_messages.clone(),
        );
        let balance_ether = Family::<ChainLabel, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "balance_ether",
            "Balance of the account paying for update and deliver",
            balance_ether.clone(),
        );
        let distrusted_answers = Counter::default();
        registry.register(
            "distrusted_answers",
            "Network answers refused as wrong, each followed by a failover",
            distrusted_answers.clone(),
        );
        Self {
            registry: Arc::new(registry),
            distrusted_answers,
            source_head,
            oldest_pending_seconds,
            failed_messages,
            balance_ether,
            loops: Arc::default(),
            posted_blocks,
            posted_messages,
            discovered_messages,
            discovery_skipped,
            discovery_cursor,
            proofs_submitted,
            proving_seconds,
            deliveries,
            recipient_failures,
            errors,
            source_cursor,
            light_client_height,
            finalized_height,
            pending_messages,
            unfinalized_submissions,
            resubmissions,
        }
    }

    /// A source block was recorded with `messages` messages; the cursor is now `cursor`.
    pub fn posted_block(&self, name: &str, messages: usize, cursor: u64) {
        self.posted_blocks.get_or_create(&chain(name)).inc();
        self.posted_messages.get_or_create(&chain(name)).inc_by(messages as u64);
        self.source_cursor.get_or_create(&chain(name)).set(gauge_value(cursor));
    }

    /// Discovery read a slice of heights: `found` messages from `name` for our destinations,
    /// `skipped` transactions in its namespace that are not valid messages of it.
    pub fn discovered(&self, name: &str, found: u64, skipped: u64) {
        self.discovered_messages.get_or_create(&chain(name)).inc_by(found);
        self.discovery_skipped.get_or_create(&chain(name)).inc_by(skipped);
    }

    /// Discovery reads `height` next.
    pub fn discovery_cursor(&self, height: u64) {
        self.discovery_cursor.set(gauge_value(height));
    }

    /// A light-client update landed on `name`.
    pub fn proof_submitted(&self, name: &str) {
        self.proofs_submitted.get_or_create(&chain(name)).inc();
    }

    /// Proving one state took `seconds`.
    pub fn proved(&self, seconds: f64) {
        self.proving_seconds.observe(seconds);
    }

    /// A message to `name` was delivered.
    pub fn delivered(&self, name: &str) {
        self.deliveries.get_or_create(&chain(name)).inc();
    }

    /// A message to `name` was received but its recipient failed (the mailbox stored it).
    pub fn recipient_failed(&self, name: &str) {
        self.recipient_failures.get_or_create(&chain(name)).inc();
    }

    /// A step of `role` failed.
    pub fn error(&self, role: Role) {
        self.errors.get_or_create(&vec![("role", role.to_string())]).inc();
    }

    /// `name`'s light client is at `height`.
    pub fn light_client_height(&self, name: &str, height: u64) {
        self.light_client_height.get_or_create(&chain(name)).set(gauge_value(height));
    }

    /// The network finalized `height`.
    pub fn finalized_height(&self, height: u64) {
        self.finalized_height.set(gauge_value(height));
    }

    /// `count` messages are pending.
    pub fn pending_messages(&self, count: usize) {
        self.pending_messages.set(gauge_value(count as u64));
    }

    /// `name`'s post loop tracks `count` unfinalized submissions.
    pub fn unfinalized_submissions(&self, name: &str, count: usize) {
        self.unfinalized_submissions.get_or_create(&chain(name)).set(gauge_value(count as u64));
    }

    /// `name`'s post loop sent a transaction again.
    pub fn resubmitted(&self, name: &str) {
        self.resubmissions.get_or_create(&chain(name)).inc();
    }

    /// `name`'s post loop posts up to the chain's `head` block.
    pub fn source_head(&self, name: &str, head: SourceHead) {
        let labels = vec![("chain", name.to_owned()), ("head", head.to_string())];
        self.source_head.get_or_create(&labels).set(1);
    }

    /// The oldest message queued for `name` waits since `seconds` (0: none waits).
    pub fn oldest_pending(&self, name: &str, seconds: u64) {
        self.oldest_pending_seconds.get_or_create(&chain(name)).set(gauge_value(seconds));
    }

    /// `count` messages are on record as received with a failing recipient.
    pub fn failed_messages(&self, count: usize) {
        self.failed_messages.set(gauge_value(count as u64));
    }

    /// The paying account on `name` holds `wei`.
    pub fn balance(&self, name: &str, wei: alloy_primitives::U256) {
        // f64 has ample precision for a balance read by people.
        let ether = u128::try_from(wei).map_or(f64::MAX, |wei| wei as f64 / 1e18);
        self.balance_ether.get_or_create(&chain(name)).set(ether);
    }

    /// A network endpoint answered wrongly and was left for the next.
    pub fn distrusted_answer(&self) {
        self.distrusted_answers.inc();
    }

    /// `name`'s light client height, as last seen (`None` before the first look).
    pub fn light_client_height_of(&self, name: &str) -> Option<u64> {
        self.light_client_height.get(&chain(name)).and_then(|g| u64::try_from(g.get()).ok())
    }

    /// The network's finalized height, as last seen (`None` before the first look).
    pub fn finalized_height_seen(&self) -> Option<u64> {
        u64::try_from(self.finalized_height.get()).ok().filter(|&height| height > 0)
    }

    /// The block tag `name`'s post loop posts up to, once decided.
    pub fn source_head_of(&self, name: &str) -> Option<SourceHead> {
        [SourceHead::Finalized, SourceHead::Latest].into_iter().find(|head| {
            let labels = vec![("chain", name.to_owned()), ("head", head.to_string())];
            self.source_head.get(&labels).is_some_and(|g| g.get() == 1)
        })
    }

    /// A step of the loop (`role`, `label`) succeeded.
    pub fn step_succeeded(&self, role: Role, label: &str) {
        let mut loops = self.loops.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let health = loops.entry((role.to_string(), label.to_owned())).or_default();
        health.consecutive_failures = 0;
        health.last_ok_ms = Some(crate::now_ms());
    }

    /// A step of the loop (`role`, `label`) failed with `error` (also counted in
    /// `relayer_errors_total`).
    pub fn step_failed(&self, role: Role, label: &str, error: &str) {
        self.error(role);
        let mut loops = self.loops.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let health = loops.entry((role.to_string(), label.to_owned())).or_default();
        health.consecutive_failures = health.consecutive_failures.saturating_add(1);
        health.last_error = Some(error.to_owned());
        health.last_error_ms = Some(crate::now_ms());
    }

    /// Every loop's health, by role and label.
    pub fn loops(&self) -> Vec<LoopHealth> {
        let loops = self.loops.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        loops
            .iter()
            .map(|((role, label), health)| LoopHealth {
                role: role.clone(),
                label: label.clone(),
                ..health.clone()
            })
            .collect()
    }

    /// The metrics in Prometheus' text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// The `GET /metrics` route.
    pub fn router(&self) -> Router {
        let metrics = self.clone();
        Router::new().route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                        metrics.encode(),
                    )
                        .into_response()
                }
            }),
        )
    }

    /// Serves `GET /metrics` on `addr` until `shutdown` resolves; returns the bound address.
    pub async fn serve(
        &self,
        addr: SocketAddr,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<SocketAddr, MetricsError> {
        let listener =
            TcpListener::bind(addr).await.map_err(|source| MetricsError::Bind { addr, source })?;
        let bound = listener.local_addr().map_err(|source| MetricsError::Bind { addr, source })?;
        let app = self.router();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
                tracing::warn!(error = %e, "metrics endpoint stopped");
            }
        });
        Ok(bound)
    }
}

/// Gauges are `i64`; heights beyond that are clamped (they never get there).
fn gauge_value(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
