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

use std::{net::SocketAddr, sync::Arc};

use axum::{Router, http::header, response::IntoResponse, routing::get};
use prometheus_client::{
    encoding::text::encode,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use tokio::net::TcpListener;

use crate::config::Role;

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
        Self {
            registry: Arc::new(registry),
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

    /// The metrics in Prometheus' text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
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
        let metrics = self.clone();
        let app = Router::new().route(
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
        );
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
