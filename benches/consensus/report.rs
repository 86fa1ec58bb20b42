//! Statistics and the JSON line of a run.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// Bytes per MiB.
pub(crate) const MIB: f64 = 1024.0 * 1024.0;

/// `x` rounded to `digits` decimals.
pub(crate) fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// Time since the Unix epoch (the deterministic runtime starts there).
pub(crate) fn since_epoch(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// The `p`-th percentile (nearest rank) of `sorted` milliseconds, rounded to 0.1; null if empty.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> Value {
    if sorted.is_empty() {
        return Value::Null;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    json!(round(sorted[rank.clamp(1, sorted.len()) - 1], 1))
}

/// The mean of `values` milliseconds, rounded to 0.1; null if empty.
pub(crate) fn mean_ms(values: &[f64]) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    json!(round(values.iter().sum::<f64>() / values.len() as f64, 1))
}

/// Adds the latency fields of every latency report to `report`: `txs_submitted` (finalized +
/// pending), `txs_finalized`, `txs_pending`, `submit_rejected`, and `p50_ms`, `p99_ms`,
/// `mean_ms`, `max_ms` over `latencies` (milliseconds; sorted here; null when empty).
pub(crate) fn add_latencies(
    report: &mut Value,
    latencies: &mut [f64],
    pending: u64,
    rejected: u64,
) {
    latencies.sort_by(f64::total_cmp);
    report["txs_submitted"] = json!(latencies.len() as u64 + pending);
    report["txs_finalized"] = json!(latencies.len());
    report["txs_pending"] = json!(pending);
    report["submit_rejected"] = json!(rejected);
    report["p50_ms"] = percentile(latencies, 50.0);
    report["p99_ms"] = percentile(latencies, 99.0);
    report["mean_ms"] = mean_ms(latencies);
    report["max_ms"] = latencies.last().map_or(Value::Null, |m| json!(round(*m, 1)));
}

/// Average payload per block (KiB, 0.1), 0 without blocks.
pub(crate) fn avg_block_kib(bytes: u64, blocks: u64) -> f64 {
    if blocks == 0 { 0.0 } else { round(bytes as f64 / blocks as f64 / 1024.0, 1) }
}

/// Peak resident set of this process (bytes, 0 if unknown).
pub(crate) fn peak_rss_bytes() -> u64 {
    peak_rss_of("/proc/self/status")
}

/// `VmHWM` of a `/proc/<pid>/status` file, in bytes (0 if unreadable).
pub(crate) fn peak_rss_of(status_path: &str) -> u64 {
    std::fs::read_to_string(status_path)
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        })
        .map_or(0, |kb| kb * 1024)
}

/// Prints a run's report as one JSON line on stdout, with this process's peak RSS.
pub(crate) fn emit(mut report: Value) {
    report["peak_rss_bytes"] = json!(peak_rss_bytes());
    #[allow(clippy::print_stdout)]
    {
        println!("{report}");
    }
}
