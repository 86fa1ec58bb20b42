//! Mode `loopback`: a fresh devnet of real `trestle node run` processes on 127.0.0.1
//! (authenticated TCP p2p, on-disk storage), started with the `trestle::devnet` helpers and
//! driven over JSON-RPC.

use std::{
    path::PathBuf,
    process::Child,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

use anyhow::Context as _;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use serde_json::{Value, json};
use trestle::devnet::{self, DevnetFile};
use trestle_api::{SubmitOutcome, SubmitRequest, TrestleApiClient as _, binary::BinaryClient};

use crate::{
    args::{Args, Scenario},
    report::{MIB, add_latencies, avg_block_kib, peak_rss_of, round, since_epoch},
};

/// The validator processes of a loopback run and their devnet directory: every process is
/// stopped (SIGTERM, then reaped; killed after 15 s) and the directory deleted when this is
/// dropped, on success and on error alike.
pub(crate) struct Processes {
    dir: PathBuf,
    /// Keep `dir` (a `--data-dir` the caller chose).
    keep: bool,
    pub(crate) children: Vec<Child>,
}

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &self.children {
            devnet::terminate(child.id());
        }
        for child in &mut self.children {
            devnet::reap(child, Duration::from_secs(15));
        }
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Processes {
    /// The last lines of every validator's log, for an error message.
    fn log_tails(&self, file: &DevnetFile) -> String {
        let mut out = String::new();
        for v in &file.validators {
            let log = std::fs::read_to_string(&v.log).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            out.push_str(&format!("\n--- node{} log (tail) ---\n", v.index));
            out.push_str(&lines[lines.len().saturating_sub(5)..].join("\n"));
        }
        out
    }
}

/// A loopback run: a fresh devnet of `--validators` `trestle node run` processes in a temporary
/// directory, driven over JSON-RPC, then stopped and deleted.
pub(crate) fn run(args: &Args) -> anyhow::Result<Value> {
    let nanos = since_epoch(SystemTime::now()).as_nanos();
    let temporary =
        std::env::temp_dir().join(format!("trestle-bench-loopback-{}-{nanos}", std::process::id()));
    let keep = args.data_dir.is_some();
    let dir = args.data_dir.clone().unwrap_or(temporary);
    let mut processes = Processes { dir: dir.clone(), keep, children: Vec::new() };
    let file = devnet::init_with(&dir, args.validators, args.interval_ms, false)
        .context("devnet files")?;
    let exe = args.exe();
    let exe = exe.as_path();
    for validator in &file.validators {
        processes.children.push(devnet::spawn_validator(exe, validator)?);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let wall = Instant::now();
    let outcome = match args.scenario {
        Scenario::Chaos => runtime.block_on(crate::chaos::run(args, &mut processes, &file, exe)),
        Scenario::Restart => {
            runtime.block_on(crate::restart::run(args, &mut processes, &file, exe))
        }
        _ => runtime.block_on(drive(args, &file)),
    };
    let mut report = match outcome {
        Ok(report) => report,
        Err(e) => anyhow::bail!("{e:#}{}", processes.log_tails(&file)),
    };
    // Peak RSS of every validator, read while the processes still exist.
    let rss: Vec<u64> = processes
        .children
        .iter()
        .map(|c| peak_rss_of(&format!("/proc/{}/status", c.id())))
        .collect();
    report["validator_peak_rss_bytes"] = json!(rss.iter().copied().max().unwrap_or(0));
    report["validator_peak_rss_bytes_each"] = json!(rss);
    report["wall_s"] = json!(round(wall.elapsed().as_secs_f64(), 2));
    drop(processes);
    Ok(report)
}

/// A distinct submission: an 8-byte counter, then filler.
pub(crate) fn request(counter: u64, bytes: usize) -> SubmitRequest {
    let mut payload = vec![0xa5u8; bytes];
    payload[..8].copy_from_slice(&counter.to_be_bytes());
    SubmitRequest { namespace: 1 + (counter % 16), payload: payload.into(), authorization: None }
}

/// Reads a Prometheus counter (the first sample whose name ends with `suffix`) from a
/// validator's metrics URL with a plain HTTP/1.0 GET.
pub(crate) fn metric(metrics_url: &str, suffix: &str) -> Option<u64> {
    metrics_text(metrics_url)?.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        let name = name.split('{').next()?;
        if name.ends_with(suffix) { value.parse::<f64>().ok().map(|v| v as u64) } else { None }
    })
}

/// The Prometheus text a validator's metrics endpoint serves (`None` if it does not answer).
pub(crate) fn metrics_text(metrics_url: &str) -> Option<String> {
    use std::io::{Read as _, Write as _};
    let rest = metrics_url.strip_prefix("http://")?;
    let (addr, path) = rest.split_once('/')?;
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET /{path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    Some(text)
}

/// Waits (at most 120 s) until every validator answers `block_height` ≥ 2.
pub(crate) async fn wait_ready(clients: &[HttpClient]) -> anyhow::Result<()> {
    wait_ready_within(clients, Duration::from_secs(120)).await
}

/// [`wait_ready`] with another limit.
pub(crate) async fn wait_ready_within(
    clients: &[HttpClient],
    limit: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    for (i, client) in clients.iter().enumerate() {
        while !client.block_height().await.is_ok_and(|h| h >= 2) {
            anyhow::ensure!(
                Instant::now() <= deadline,
                "validator {i} did not reach height 2 within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// JSON-RPC clients of the devnet's validators, each request limited to `timeout`.
pub(crate) fn clients(file: &DevnetFile, timeout: Duration) -> anyhow::Result<Vec<HttpClient>> {
    file.validators
        .iter()
        .map(|v| {
            HttpClientBuilder::default()
                .request_timeout(timeout)
                .build(&v.rpc_url)
                .with_context(|| format!("client for {}", v.rpc_url))
        })
        .collect()
}

/// Waits until the validators are ready ([`wait_ready`]), then runs the scenario.
async fn drive(args: &Args, file: &DevnetFile) -> anyhow::Result<Value> {
    let clients = clients(file, Duration::from_secs(10))?;
    wait_ready(&clients).await?;
    let mut report = match args.scenario {
        Scenario::Latency => latency(args, &clients).await?,
        Scenario::Throughput => throughput(args, &clients, file).await?,
        Scenario::Chaos | Scenario::Restart => {
            anyhow::bail!("the chaos and restart scenarios have their own drivers")
        }
    };
    let limits = trestle_api::GenesisLimits::default();
    report["bench"] = json!("consensus");
    report["mode"] = json!("loopback");
    report["validators"] = json!(clients.len());
    report["interval_ms"] = json!(args.interval_ms);
    report["tx_bytes"] = json!(args.tx_bytes);
    report["submit"] = json!("one");
    report["max_block_payload"] = json!(limits.max_block_payload);
    report["max_block_txs"] = json!(limits.max_transactions);
    Ok(report)
}

/// One transaction at a time, round-robin over the validators: submit, then poll `tx_proof`
/// on the same validator every `--poll-ms` until it is finalized (30 s limit per sample).
pub(crate) async fn latency(args: &Args, clients: &[HttpClient]) -> anyhow::Result<Value> {
    let n = clients.len();
    let h0 = clients[0].block_height().await.context("block_height")?;
    let start = Instant::now();
    let mut latencies = Vec::with_capacity(args.samples);
    let mut pending = 0u64;
    let mut rejected = 0u64;
    for i in 0..args.samples {
        let client = &clients[i % n];
        let sent = Instant::now();
        let Ok(hash) = client.submit(request(i as u64, args.tx_bytes)).await else {
            rejected += 1;
            continue;
        };
        let limit = sent + Duration::from_secs(30);
        loop {
            if let Ok(Some(_)) = client.tx_proof(hash).await {
                latencies.push(sent.elapsed().as_secs_f64() * 1e3);
                break;
            }
            if Instant::now() > limit {
                pending += 1;
                break;
            }
            tokio::time::sleep(Duration::from_millis(args.poll_ms)).await;
        }
    }
    let window_s = start.elapsed().as_secs_f64();
    let h1 = clients[0].block_height().await.context("block_height")?;
    let mut report = json!({
        "scenario": "latency",
        "window_s": round(window_s, 2),
        "poll_ms": args.poll_ms,
        "blocks_per_s": round(h1.saturating_sub(h0) as f64 / window_s, 2),
        "finalized_height": h1,
    });
    add_latencies(&mut report, &mut latencies, pending, rejected);
    Ok(report)
}

/// Submission outcomes of the throughput run.
#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    full: AtomicU64,
    rejected: AtomicU64,
}

/// Where a throughput submitter posts: JSON-RPC, or the binary ingress path (`--binary`).
#[derive(Clone)]
enum Ingress {
    Json(HttpClient),
    Binary(BinaryClient),
}

impl Ingress {
    /// Posts a batch: `trestle_submitBatch`, or one binary request.
    async fn submit_batch(&self, requests: Vec<SubmitRequest>) -> Result<Vec<SubmitOutcome>, ()> {
        match self {
            Self::Json(client) => client.submit_batch(requests).await.map_err(|_| ()),
            Self::Binary(client) => client.submit_batch(&requests).await.map_err(|_| ()),
        }
    }
}

/// Keeps submitting distinct transactions from `counter` on to `ingress` until `end`, `batch`
/// per request (`trestle_submitBatch` above 1; always a batch over the binary path), backing off
/// 20 ms after a refusal.
async fn submitter(
    ingress: Ingress,
    mut counter: u64,
    (tx_bytes, batch): (usize, usize),
    end: Instant,
    counters: Arc<Counters>,
) {
    while Instant::now() < end {
        let client = match &ingress {
            Ingress::Json(client) if batch == 1 => client,
            _ => {
                let requests =
                    (counter..counter + batch as u64).map(|c| request(c, tx_bytes)).collect();
                counter += batch as u64;
                if submit_batch(&ingress, requests, &counters).await {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                continue;
            }
        };
        match client.submit(request(counter, tx_bytes)).await {
            Ok(_) => {
                counters.accepted.fetch_add(1, Ordering::Relaxed);
                counter += 1;
            }
            Err(e) => {
                let is_full = matches!(&e, jsonrpsee::core::ClientError::Call(obj)
                    if obj.code() == trestle_api::codes::MEMPOOL_FULL);
                if is_full {
                    counters.full.fetch_add(1, Ordering::Relaxed);
                } else {
                    counters.rejected.fetch_add(1, Ordering::Relaxed);
                    counter += 1;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// Posts one batch and counts its outcomes; returns whether anything was refused.
async fn submit_batch(
    ingress: &Ingress,
    requests: Vec<SubmitRequest>,
    counters: &Counters,
) -> bool {
    let batch = requests.len() as u64;
    let mut refused = false;
    match ingress.submit_batch(requests).await {
        Ok(outcomes) => {
            for outcome in outcomes {
                let code = outcome.error.as_ref().map(|e| e.code);
                match code {
                    None => counters.accepted.fetch_add(1, Ordering::Relaxed),
                    Some(trestle_api::codes::MEMPOOL_FULL) => {
                        refused = true;
                        counters.full.fetch_add(1, Ordering::Relaxed)
                    }
                    Some(_) => {
                        refused = true;
                        counters.rejected.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        }
        Err(()) => {
            refused = true;
            counters.rejected.fetch_add(batch, Ordering::Relaxed);
        }
    }
    refused
}

/// `--submitters` tasks per validator keep submitting distinct `--tx-bytes` payloads to it for
/// `--seconds`, backing off 20 ms whenever its mempool is full; finalized payload is read from
/// validator 0's `finalized_bytes` counter (or, failing that, summed from its blocks).
async fn throughput(
    args: &Args,
    clients: &[HttpClient],
    file: &DevnetFile,
) -> anyhow::Result<Value> {
    let metrics_url = file.validators[0].metrics_url.clone();
    let h0 = clients[0].block_height().await.context("block_height")?;
    let bytes0 = metric(&metrics_url, "finalized_bytes_total");
    let txs0 = metric(&metrics_url, "finalized_transactions_total");
    let start = Instant::now();
    let end = start + Duration::from_secs(args.seconds);
    let counters = Arc::new(Counters::default());
    let mut tasks = Vec::new();
    for (v, client) in clients.iter().enumerate() {
        let ingress = if args.binary {
            let url = &file.validators[v].rpc_url;
            let binary = BinaryClient::new(url, Duration::from_secs(10))
                .with_context(|| format!("binary client for {url}"))?;
            Ingress::Binary(binary)
        } else {
            Ingress::Json(client.clone())
        };
        for k in 0..args.submitters {
            // Disjoint counter ranges per submitter keep every transaction distinct.
            let counter = ((v * args.submitters + k) as u64) << 40;
            tasks.push(tokio::spawn(submitter(
                ingress.clone(),
                counter,
                (args.tx_bytes, args.batch),
                end,
                counters.clone(),
            )));
        }
    }
    for task in tasks {
        task.await.context("submitter")?;
    }
    let window_s = start.elapsed().as_secs_f64();
    let h1 = clients[0].block_height().await.context("block_height")?;
    let bytes1 = metric(&metrics_url, "finalized_bytes_total");
    let txs1 = metric(&metrics_url, "finalized_transactions_total");
    let (bytes, txs, source) = match (bytes0, bytes1, txs0, txs1) {
        (Some(b0), Some(b1), Some(t0), Some(t1)) => {
            (b1.saturating_sub(b0), t1.saturating_sub(t0), "metrics")
        }
        _ => {
            let (mut bytes, mut txs) = (0u64, 0u64);
            for h in h0 + 1..=h1 {
                let block = clients[0]
                    .block(h)
                    .await
                    .context("block")?
                    .with_context(|| format!("validator 0 lacks finalized block {h}"))?;
                txs += block.transactions.len() as u64;
                bytes += block.transactions.iter().map(|t| t.payload.len() as u64).sum::<u64>();
            }
            (bytes, txs, "blocks")
        }
    };
    let blocks = h1.saturating_sub(h0);
    Ok(json!({
        "scenario": "throughput",
        "window_s": round(window_s, 2),
        "submitters_per_validator": args.submitters,
        "batch": args.batch,
        "ingress": if args.binary { "binary" } else { "json-rpc" },
        "txs_submitted": counters.accepted.load(Ordering::Relaxed),
        "txs_finalized": txs,
        "submit_full": counters.full.load(Ordering::Relaxed),
        "submit_rejected": counters.rejected.load(Ordering::Relaxed),
        "blocks_per_s": round(blocks as f64 / window_s, 2),
        "txs_per_s": round(txs as f64 / window_s, 1),
        "payload_mib_per_s_wall": round(bytes as f64 / window_s / MIB, 2),
        "avg_block_payload_kib": avg_block_kib(bytes, blocks),
        "finalized_bytes_source": source,
        "finalized_height": h1,
        "payload_bytes_total": bytes,
    }))
}
