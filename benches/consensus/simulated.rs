//! Mode `simulated`: a [`Cluster`] of the node's test-utils harness (N full validators in the
//! deterministic runtime over the simulated p2p network), loaded and measured by [`drive`].

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant, UNIX_EPOCH},
};

use anyhow::Context as _;
use commonware_p2p::simulated::Link;
use commonware_runtime::{Clock, Metrics, Quota, Runner as _, Spawner, Supervisor, deterministic};
use commonware_utils::{NZU32, channel::mpsc};
use serde_json::{Value, json};
use trestle_light_client::{B256, Namespace, Transaction};
use trestle_node::{
    BlockTransaction, Finalized, Mailbox, MempoolConfig,
    testing::{
        TestGenesis,
        simulated::{Cluster, ClusterConfig},
    },
};

use crate::{
    args::{Args, Scenario, Submit},
    report::{MIB, add_latencies, avg_block_kib, round, since_epoch},
};

/// Rate limit per channel and peer.
const QUOTA: Quota = Quota::per_second(NZU32!(1_024));

/// A simulated run: starts the cluster, drives the scenario, adds the wall-clock figures.
pub(crate) fn run(args: &Args) -> anyhow::Result<Value> {
    let config = deterministic::Config::new()
        .with_seed(args.seed)
        .with_cycle(Duration::from_micros(args.cycle_us))
        .with_timeout(Some(Duration::from_secs(args.warmup_seconds + args.seconds + 600)));
    let wall = Instant::now();
    let cluster_config = cluster_config(args);
    let args_ = args.clone();
    let mut report = deterministic::Runner::new(config).start(|context| async move {
        let mut cluster = Cluster::start(&context, cluster_config).await;
        let validators = observed(&mut cluster)?;
        // `cluster` (its network oracle and validator tasks) lives until the run is measured.
        let report = drive(&context, &args_, validators).await;
        drop(cluster);
        report
    })?;
    let wall_s = wall.elapsed().as_secs_f64();
    let bytes_total = report["payload_bytes_total"].as_u64().unwrap_or(0) as f64;
    report["wall_s"] = json!(round(wall_s, 2));
    report["payload_mib_per_s_wall"] = json!(round(bytes_total / wall_s / MIB, 2));
    let sim_total = report["sim_s_total"].as_f64().unwrap_or(0.0);
    report["sim_s_per_wall_s"] = json!(round(sim_total / wall_s, 2));
    Ok(report)
}

/// The cluster of a run: `--validators` honest validators of chain 31337 (test keys, no owned
/// namespaces, no block pacing, the run's block limits), every ordered pair linked by
/// `--link-ms` ± `--jitter-ms` without loss, optionally capped at `--bandwidth-mbps`, with
/// large mempools and submission queues so the load generators are never the bottleneck.
fn cluster_config(args: &Args) -> ClusterConfig {
    let limits = args.limits();
    let network = TestGenesis {
        limits,
        owned_namespaces: Vec::new(),
        min_block_interval_ms: 0,
        epoch_length: args.epoch_length,
        ..TestGenesis::new(args.validators)
    }
    .build();
    ClusterConfig {
        network,
        link: Link {
            latency: Duration::from_millis(args.link_ms),
            jitter: Duration::from_millis(args.jitter_ms),
            success_rate: commonware_utils::probability!(1.0),
        },
        timeouts: args.timeouts(),
        mempool: MempoolConfig {
            max_transactions: 100_000,
            max_bytes: 1 << 30,
            max_payload: limits.max_payload,
            ..MempoolConfig::default()
        },
        quota: QUOTA,
        bandwidth: (args.bandwidth_mbps > 0)
            .then(|| (args.bandwidth_mbps * 1_000_000 / 8) as usize),
        submission_queue: 4_096,
        byzantine: Vec::new(),
        forgery: Default::default(),
        rogue_signers: BTreeMap::new(),
        rogue_gossipers: BTreeMap::new(),
        observe: true,
        l1: None,
        retention: BTreeMap::new(),
    }
}

/// A started validator, as [`drive`] sees it: its application's mailbox (submissions,
/// status) and the receiver of its application's [`Finalized`] events.
pub(crate) struct Observed {
    /// Application handle.
    pub(crate) mailbox: Mailbox,
    /// Every block the application finalizes, sent right after it applied it.
    pub(crate) finalized: mpsc::UnboundedReceiver<Finalized>,
}

/// Every validator of `cluster` with its finalized-block receiver (taken from the cluster).
fn observed(cluster: &mut Cluster) -> anyhow::Result<Vec<Observed>> {
    cluster
        .nodes
        .iter_mut()
        .enumerate()
        .map(|(i, node)| {
            let node = node.as_mut().with_context(|| format!("validator {i} is not running"))?;
            let finalized = node
                .finalized
                .take()
                .with_context(|| format!("validator {i} has no finalized receiver"))?;
            Ok(Observed { mailbox: node.mailbox.clone(), finalized })
        })
        .collect()
}

/// Locks `mutex`; a panicked holder's data is still the measurement so far.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Submission record: home validator and submission time, by transaction hash.
type Submitted = Arc<Mutex<HashMap<B256, (usize, Duration)>>>;

/// What the finalized sinks reported.
#[derive(Default)]
struct Observations {
    /// `times[v][h]`: when validator `v`'s application finalized height `h`.
    times: Vec<Vec<Duration>>,
    /// Validator 0's finalized blocks by height: payload bytes and transactions.
    blocks: Vec<(u64, u64)>,
    /// The height of every transaction validator 0 finalized.
    tx_height: HashMap<B256, usize>,
}

/// A distinct transaction: an 8-byte counter, then filler.
fn transaction(counter: u64, bytes: usize) -> BlockTransaction {
    let mut payload = vec![0xa5u8; bytes];
    payload[..8].copy_from_slice(&counter.to_be_bytes());
    let namespace = Namespace(1 + (counter % 16));
    BlockTransaction::unowned(Transaction::new(namespace, payload))
}

/// Submits `tx` to `targets` (all concurrently) and records it against `home`.
async fn submit(
    mailboxes: &[Mailbox],
    targets: &[usize],
    home: usize,
    tx: BlockTransaction,
    now: Duration,
    submitted: &Submitted,
) -> bool {
    let results = futures::future::join_all(
        targets.iter().map(|&t| mailboxes[t].submit(tx.clone())).collect::<Vec<_>>(),
    )
    .await;
    let ok = results.iter().any(Result::is_ok);
    if ok {
        lock(submitted).insert(tx.transaction.hash(), (home, now));
    }
    ok
}

/// Records every validator's finalizations as its sink delivers them (and validator 0's block
/// contents).
fn spawn_observers<E>(
    context: &E,
    validators: Vec<Observed>,
) -> (Vec<Mailbox>, Arc<Mutex<Observations>>)
where
    E: Spawner + Metrics + Clock + Supervisor,
{
    let n = validators.len();
    let observations =
        Arc::new(Mutex::new(Observations { times: vec![Vec::new(); n], ..Default::default() }));
    let mut mailboxes = Vec::with_capacity(n);
    for (v, validator) in validators.into_iter().enumerate() {
        mailboxes.push(validator.mailbox);
        let mut receiver = validator.finalized;
        let observations = observations.clone();
        context.child("finalized").with_attribute("index", v).spawn(move |context| async move {
            while let Some(Finalized { block, state, .. }) = receiver.recv().await {
                let now = since_epoch(context.current());
                let height = state.height.get() as usize;
                let mut observed = lock(&observations);
                let row = &mut observed.times[v];
                // Height h arrives after 0..h (genesis, height 0, at start-up).
                while row.len() <= height {
                    row.push(now);
                }
                // Every block of a fresh simulated run is live (none restored from an index).
                if let (0, Some(block)) = (v, block) {
                    if observed.blocks.len() <= height {
                        observed.blocks.resize(height + 1, (0, 0));
                    }
                    let txs = block.transactions();
                    observed.blocks[height] = (block.payload_bytes() as u64, txs.len() as u64);
                    for t in txs {
                        observed.tx_height.insert(t.transaction.hash(), height);
                    }
                }
            }
        });
    }
    (mailboxes, observations)
}

/// Latency load: one transaction every `1 / --rate` s from one second after `start` until
/// `window_end`, round-robin over home validators, handed to the `--submit` targets.
fn spawn_latency_load<E>(
    context: &E,
    args: &Args,
    mailboxes: Vec<Mailbox>,
    submitted: Submitted,
    rejected: Arc<Mutex<u64>>,
    (start, window_end): (Duration, Duration),
) where
    E: Spawner + Metrics + Clock + Supervisor,
{
    let n = mailboxes.len();
    let period = Duration::from_nanos(1_000_000_000 / args.rate);
    let submit_mode = args.submit();
    let tx_bytes = args.tx_bytes;
    context.child("load").spawn(move |context| async move {
        // Load starts after one second of warm-up (consensus start-up) and stops at the end of
        // the window.
        let mut next = start + Duration::from_secs(1);
        let mut counter = 0u64;
        while next < window_end {
            context.sleep_until(UNIX_EPOCH + next).await;
            let home = (counter as usize) % n;
            let targets: Vec<usize> = match submit_mode {
                Submit::All => (0..n).collect(),
                Submit::One => vec![home],
            };
            let tx = transaction(counter, tx_bytes);
            let now = since_epoch(context.current());
            if !submit(&mailboxes, &targets, home, tx, now, &submitted).await {
                *lock(&rejected) += 1;
            }
            counter += 1;
            next += period;
        }
    });
}

/// Throughput load: every validator's mempool is topped up to `--backlog-blocks` blocks of
/// distinct transactions every 10 ms until `window_end`.
fn spawn_throughput_load<E>(
    context: &E,
    args: &Args,
    mailboxes: &[Mailbox],
    submitted: &Submitted,
    rejected: &Arc<Mutex<u64>>,
    window_end: Duration,
) where
    E: Spawner + Metrics + Clock + Supervisor,
{
    let n = mailboxes.len();
    let limits = args.limits();
    let per_block = limits.max_transactions.min(limits.max_block_payload / args.tx_bytes);
    let backlog = (per_block * args.backlog_blocks).max(1);
    let tx_bytes = args.tx_bytes;
    for home in 0..n {
        let mailboxes = mailboxes.to_vec();
        let submitted = submitted.clone();
        let rejected = rejected.clone();
        context.child("load").with_attribute("index", home).spawn(move |context| async move {
            let mut counter = home as u64;
            loop {
                let now = since_epoch(context.current());
                if now >= window_end {
                    break;
                }
                let pending = mailboxes[home].status().await.map_or(0, |s| s.mempool_len);
                let missing = backlog.saturating_sub(pending);
                // Submit concurrently (one scheduler step for the whole batch), within the
                // submission queue's capacity.
                let batch: Vec<_> = (0..missing.min(2_048))
                    .map(|_| {
                        let tx = transaction(counter, tx_bytes);
                        counter += n as u64;
                        tx
                    })
                    .collect();
                let results = futures::future::join_all(batch.into_iter().map(|tx| {
                    let submitted = &submitted;
                    let mailboxes = &mailboxes;
                    async move { submit(mailboxes, &[home], home, tx, now, submitted).await }
                }))
                .await;
                let failed = results.iter().filter(|ok| !**ok).count() as u64;
                *lock(&rejected) += failed;
                context.sleep(Duration::from_millis(10)).await;
            }
        });
    }
}

/// Runs the load for the scenario on already started validators and measures it. Generic over
/// the runtime: an in-process variant on another runtime could hand it its validators too.
pub(crate) async fn drive<E>(
    context: &E,
    args: &Args,
    validators: Vec<Observed>,
) -> anyhow::Result<Value>
where
    E: Clock + Spawner + Metrics + Supervisor,
{
    // `Args::validate` keeps chaos (real processes to kill) to loopback mode.
    anyhow::ensure!(
        !matches!(args.scenario, Scenario::Chaos | Scenario::Restart),
        "the chaos and restart scenarios run in loopback mode"
    );
    let n = validators.len();
    let start = since_epoch(context.current());
    let (mailboxes, observations) = spawn_observers(context, validators);

    let submitted: Submitted = Arc::default();
    let window_start = start + Duration::from_secs(args.warmup_seconds);
    let window_end = window_start + Duration::from_secs(args.seconds);
    let rejected = Arc::new(Mutex::new(0u64));
    match args.scenario {
        Scenario::Latency => spawn_latency_load(
            context,
            args,
            mailboxes.clone(),
            submitted.clone(),
            rejected.clone(),
            (start, window_end),
        ),
        Scenario::Throughput | Scenario::Chaos | Scenario::Restart => {
            spawn_throughput_load(context, args, &mailboxes, &submitted, &rejected, window_end)
        }
    }

    // Run the window, then (latency) give the last submissions time to finalize; a
    // transaction still unfinalized then is reported as pending.
    let drain = match args.scenario {
        Scenario::Latency => Duration::from_secs(5),
        Scenario::Throughput | Scenario::Chaos | Scenario::Restart => Duration::ZERO,
    };
    context.sleep_until(UNIX_EPOCH + window_end + drain).await;
    let end = since_epoch(context.current());

    let observed = lock(&observations);
    let times = &observed.times;
    let observer = times.first().map_or(&[][..], Vec::as_slice);
    let top = observer.len().saturating_sub(1);
    let (mut payload_in_window, mut txs_in_window, mut blocks_in_window) = (0u64, 0u64, 0u64);
    let mut payload_total = 0u64;
    for (h, &at) in observer.iter().enumerate().skip(1) {
        let (bytes, txs) = observed
            .blocks
            .get(h)
            .copied()
            .with_context(|| format!("validator 0 reported no block at height {h}"))?;
        payload_total += bytes;
        if at > window_start && at <= window_end {
            blocks_in_window += 1;
            payload_in_window += bytes;
            txs_in_window += txs;
        }
    }

    // Latencies of the transactions submitted inside the window.
    let mut latencies = Vec::new();
    let mut pending = 0u64;
    for (hash, (home, at)) in lock(&submitted).iter() {
        if *at < window_start || *at >= window_end {
            continue;
        }
        match observed.tx_height.get(hash).and_then(|h| times[*home].get(*h)) {
            Some(done) => latencies.push(done.saturating_sub(*at).as_secs_f64() * 1e3),
            None => pending += 1,
        }
    }
    let window_s = args.seconds as f64;
    let limits = args.limits();
    let mut report = json!({
        "bench": "consensus",
        "mode": "simulated",
        "scenario": args.scenario.name(),
        "validators": n,
        "link_ms": args.link_ms,
        "jitter_ms": args.jitter_ms,
        "bandwidth_mbps": if args.bandwidth_mbps == 0 { Value::Null } else { json!(args.bandwidth_mbps) },
        "cycle_us": args.cycle_us,
        "seed": args.seed,
        "tx_bytes": args.tx_bytes,
        "submit": args.submit().name(),
        "max_block_payload": limits.max_block_payload,
        "max_block_txs": limits.max_transactions,
        "window_s": args.seconds,
        "blocks_per_s": round(blocks_in_window as f64 / window_s, 2),
        "txs_per_s": round(txs_in_window as f64 / window_s, 1),
        "payload_mib_per_s_sim": round(payload_in_window as f64 / window_s / MIB, 2),
        "avg_block_payload_kib": avg_block_kib(payload_in_window, blocks_in_window),
        "finalized_height": top,
        "payload_bytes_total": payload_total,
        "sim_s_total": round((end - start).as_secs_f64(), 2),
    });
    add_latencies(&mut report, &mut latencies, pending, *lock(&rejected));
    match args.scenario {
        Scenario::Latency => {
            report["rate_tps"] = json!(args.rate);
            report["epoch_length"] = json!(args.epoch_length);
        }
        Scenario::Throughput | Scenario::Chaos | Scenario::Restart => {
            report["backlog_blocks"] = json!(args.backlog_blocks);
        }
    }
    Ok(report)
}
