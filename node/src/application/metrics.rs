//! Prometheus metrics of the application (served by the runtime at `/metrics`, prefixed with
//! the actor's context label).

use commonware_runtime::telemetry::metrics::{
    Counter, Gauge, GaugeExt as _, Histogram, MetricsExt,
};

/// Finality latency buckets (seconds): sub-second confirmations are the product, so the low
/// end is fine-grained.
const LATENCY_BUCKETS: [f64; 14] =
    [0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0];

/// The application's metrics.
#[derive(Clone)]
pub struct Metrics {
    /// Latest finalized height.
    finalized_height: Gauge,
    /// Time from a block's timestamp (when its proposer built it) to its finalization here.
    finality_latency: Histogram,
    /// Transactions pending in the mempool.
    mempool_transactions: Gauge,
    /// Transactions finalized.
    finalized_transactions: Counter,
    /// Payload bytes finalized.
    finalized_bytes: Counter,
    /// Proposals this validator rejected.
    rejected_proposals: Counter,
    /// Equivocations of block namespace owners seen (two signed records for one number).
    record_equivocations: Counter,
    /// Heights restored from the finalized index at the last start.
    restored_heights: Gauge,
    /// Blocks re-applied from marshal's archive at the last start (those the index lacked).
    replayed_blocks: Gauge,
}

impl Metrics {
    /// Registers the metrics on `context`.
    pub fn register(context: &impl MetricsExt) -> Self {
        Self {
            finalized_height: context.gauge("finalized_height", "latest finalized height"),
            finality_latency: context.histogram(
                "finality_latency_seconds",
                "time from a block's timestamp to its finalization on this validator",
                LATENCY_BUCKETS,
            ),
            mempool_transactions: context
                .gauge("mempool_transactions", "transactions pending in the mempool"),
            finalized_transactions: context
                .counter("finalized_transactions", "transactions finalized"),
            finalized_bytes: context.counter("finalized_bytes", "payload bytes finalized"),
            rejected_proposals: context
                .counter("rejected_proposals", "proposals this validator found invalid"),
            record_equivocations: context.counter(
                "record_equivocations",
                "block namespace owners' equivocations seen (two signed records for one number)",
            ),
            restored_heights: context.gauge(
                "restored_heights",
                "heights restored from the finalized index at the last start",
            ),
            replayed_blocks: context.gauge(
                "replayed_blocks",
                "blocks re-applied from marshal's archive at the last start",
            ),
        }
    }

    /// Records the finalization of a block.
    pub(crate) fn finalized(
        &self,
        height: u64,
        transactions: usize,
        bytes: usize,
        latency_ms: Option<u64>,
    ) {
        let _ = self.finalized_height.try_set(height);
        self.finalized_transactions.inc_by(transactions as u64);
        self.finalized_bytes.inc_by(bytes as u64);
        if let Some(ms) = latency_ms {
            self.finality_latency.observe(ms as f64 / 1_000.0);
        }
    }

    /// Records the mempool's size.
    pub(crate) fn mempool(&self, transactions: usize) {
        let _ = self.mempool_transactions.try_set(transactions);
    }

    /// Records how the last start rebuilt the chain state.
    pub(crate) fn recovered(&self, height: u64, restored: usize, replayed: u64) {
        let _ = self.finalized_height.try_set(height);
        let _ = self.restored_heights.try_set(restored);
        let _ = self.replayed_blocks.try_set(replayed);
    }

    /// Records a rejected proposal.
    pub(crate) fn rejected(&self) {
        self.rejected_proposals.inc();
    }

    /// Records an equivocation of a block namespace's owner.
    pub(crate) fn equivocation(&self) {
        self.record_equivocations.inc();
    }
}
