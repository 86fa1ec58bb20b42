//! Scenario `restart` (loopback mode): how long a validator with a long chain takes to serve
//! and vote again after kill -9.
//!
//! The chain first grows to `--heights` (resumed from `--data-dir` when it holds a devnet, so
//! a 100,000-height chain is grown once; `--interval-ms 0` grows it fastest). Validator 0 is
//! then killed with SIGKILL and started again three times: with its finalized index, with the
//! index removed first (every block replayed from marshal's archive, which is what every
//! restart did before the index existed; that start rebuilds the index), and with the rebuilt
//! index. Times run from spawning the process: `rpc_ms` until it answers `block_height` at
//! least at its height before the kill, `finalized_ms` until it answers a higher height (with
//! one validator, a height only its own votes finalize; with more, syncing from peers gets it
//! there too), `voted_ms` until its consensus engine has sent a finalize vote (commonware
//! simplex's `outbound_messages{message="finalize"}` counter, which starts at zero in the new
//! process).

use std::{
    path::Path,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use jsonrpsee::http_client::HttpClient;
use serde_json::{Value, json};
use trestle::devnet::{self, DevnetFile};
use trestle_api::TrestleApiClient as _;

use crate::{
    args::Args,
    loopback::{Processes, clients, metric, wait_ready},
    report::round,
};

/// The storage partition of a validator's finalized index (`{prefix}-finalized-index`, with
/// the devnet's prefix `trestle`).
const INDEX_PARTITION: &str = "trestle-finalized-index";

/// Longest wait for a restarted validator to answer or to finalize.
const LIMIT: Duration = Duration::from_secs(600);

/// Runs the restart scenario over `processes` (the devnet `file`'s validators, started by
/// `exe`).
pub(crate) async fn run(
    args: &Args,
    processes: &mut Processes,
    file: &DevnetFile,
    exe: &Path,
) -> anyhow::Result<Value> {
    let clients = clients(file, Duration::from_secs(10))?;
    wait_ready(&clients).await?;
    let client = &clients[0];
    let grown = Instant::now();
    let mut reported = Instant::now();
    loop {
        let height = client.block_height().await.context("block_height")?;
        if height >= args.heights {
            break;
        }
        if reported.elapsed() >= Duration::from_secs(30) {
            eprintln!("restart bench: height {height} of {}", args.heights);
            reported = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let grow_s = round(grown.elapsed().as_secs_f64(), 1);
    let mut runs = Vec::new();
    for keep_index in [true, false, true] {
        runs.push(restart_once(processes, file, exe, client, keep_index).await?);
    }
    Ok(json!({
        "bench": "consensus",
        "mode": "loopback",
        "scenario": "restart",
        "validators": clients.len(),
        "interval_ms": args.interval_ms,
        "grow_s": grow_s,
        "restarts": runs,
    }))
}

/// Kills validator 0, removes its index unless `keep_index`, starts it again and times it.
async fn restart_once(
    processes: &mut Processes,
    file: &DevnetFile,
    exe: &Path,
    client: &HttpClient,
    keep_index: bool,
) -> anyhow::Result<Value> {
    let validator = &file.validators[0];
    let before = client.block_height().await.context("block_height")?;
    let child = &mut processes.children[0];
    child.kill().context("kill -9")?;
    child.wait().context("reaping the killed validator")?;
    if !keep_index {
        let dir = validator.config.parent().context("node directory")?.join("data");
        let index = dir.join(INDEX_PARTITION);
        anyhow::ensure!(index.exists(), "{} does not exist", index.display());
        std::fs::remove_dir_all(&index).with_context(|| format!("removing {}", index.display()))?;
    }
    let spawned = Instant::now();
    processes.children[0] = devnet::spawn_validator(exe, validator)?;
    // The three are polled at once: a vote may come before the first higher height is served.
    let (rpc, finalized, voted) = tokio::try_join!(
        wait_until(client, spawned, |height| height >= before),
        wait_until(client, spawned, |height| height > before),
        wait_for_vote(&validator.metrics_url, spawned),
    )?;
    let restored = metric(&validator.metrics_url, "restored_heights");
    let replayed = metric(&validator.metrics_url, "replayed_blocks");
    Ok(json!({
        "index": keep_index,
        "height": before,
        "rpc_ms": round(rpc.as_secs_f64() * 1e3, 1),
        "finalized_ms": round(finalized.as_secs_f64() * 1e3, 1),
        "voted_ms": round(voted.as_secs_f64() * 1e3, 1),
        "restored_heights": restored,
        "replayed_blocks": replayed,
    }))
}

/// Polls `block_height` every 5 ms until `done` holds; the time since `since`.
async fn wait_until(
    client: &HttpClient,
    since: Instant,
    done: impl Fn(u64) -> bool,
) -> anyhow::Result<Duration> {
    loop {
        if client.block_height().await.is_ok_and(&done) {
            return Ok(since.elapsed());
        }
        anyhow::ensure!(since.elapsed() < LIMIT, "the restarted validator took over {LIMIT:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Polls the validator's metrics every 5 ms until its consensus engine has sent a finalize vote;
/// the time since `since`.
async fn wait_for_vote(metrics_url: &str, since: Instant) -> anyhow::Result<Duration> {
    loop {
        let url = metrics_url.to_owned();
        let votes = tokio::task::spawn_blocking(move || finalize_votes_sent(&url))
            .await
            .context("metrics thread")?;
        if votes > 0 {
            return Ok(since.elapsed());
        }
        anyhow::ensure!(
            since.elapsed() < LIMIT,
            "the restarted validator sent no vote in {LIMIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The finalize votes the validator's simplex voters sent (summed over epochs' engines); 0 when
/// the metrics do not answer.
fn finalize_votes_sent(metrics_url: &str) -> u64 {
    crate::loopback::metrics_text(metrics_url)
        .unwrap_or_default()
        .lines()
        .filter(|line| {
            !line.starts_with('#')
                && line.contains("outbound_messages")
                && line.to_ascii_lowercase().contains("message=\"finalize\"")
        })
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .map(|value| value as u64)
        .sum()
}
