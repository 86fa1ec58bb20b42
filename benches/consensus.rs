//! Consensus benchmark: finality latency and finalized throughput of a trestle network.
//!
//! ```text
//! cargo bench --bench consensus                      # the default matrix (one process per run)
//! cargo bench --bench consensus -- --scenario latency --validators 4 --link-ms 50 --seconds 30
//! cargo bench --bench consensus -- --scenario throughput --validators 10 --tx-bytes 65536
//! ```
//!
//! Every run prints one JSON line. Mode `simulated` runs N validators in
//! commonware's deterministic runtime over its simulated p2p network, so a run is reproducible
//! from its seed and every time except `wall_s` is *simulated* time. The deterministic runtime
//! is single-threaded: the wall-clock figures (`wall_s`, `payload_mib_per_s_wall`) are the CPU
//! cost of simulating all N validators' protocol code on one core of this machine, not a
//! network's throughput.
//!
//! * `latency`: each validator's client submits transactions at a steady `--rate` (tx/s over
//!   the whole network); a transaction's latency is from its submission until the block carrying
//!   it is delivered finalized to the application of its home validator (the one whose client
//!   submitted it). With `--submit all` (default) the client hands it to every validator's
//!   mempool, standing in for mempool gossip (which does not exist yet): any leader can include
//!   it. With `--submit one` only the home validator has it, so it waits for that validator to
//!   lead a view.
//! * `throughput`: every validator's mempool is kept `--backlog-blocks` blocks ahead of
//!   consumption (distinct transactions per validator, `--submit one`), and we report finalized
//!   payload bytes per simulated second over the measurement window.
//!
//! `--cycle-us` (default 100) is the simulated time the deterministic runtime charges per busy
//! scheduler iteration: every actor or channel hop costs at least one cycle, so it stands in
//! for processing time. At 50 ms links, 1 ms cycles add ~50 ms to finality and 10 µs cycles come
//! within 1 ms of the network floor; report it with every number.
//!
//! Finalization is observed through the application's signed-state sink
//! (`ApplicationConfig::signed_states`): the actor sends each light-client state right after it
//! applied that height's finalized block, so the receive time is the finalization time (within
//! one runtime cycle, `--cycle-us`). Block contents come from marshal (`Mailbox::block`).
//!
//! Mode `loopback` ([`run_loopback`]) starts a devnet of real `trestle node run` processes on
//! 127.0.0.1 (authenticated TCP p2p, on-disk storage) and drives them over JSON-RPC: latency is
//! submit → `tx_proof` on the same validator; throughput is the finalized-bytes counter over the
//! window; validator peak RSS is read from `/proc/<pid>/status`. An in-process tokio variant could
//! instead hand its mailboxes and signed-state receivers to [`drive`], which is runtime-generic.

#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs, unreachable_pub)]

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    process::{Child, Command},
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use commonware_cryptography::{Signer as _, ed25519};
use commonware_p2p::simulated::{self, Link, Network};
use commonware_runtime::{
    Clock, Metrics, Quota, Runner as _, Spawner, Supervisor as _, deterministic,
};
use commonware_utils::{NZU32, NZUsize, channel::mpsc};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use serde_json::{Value, json};
use trestle::devnet::{self, DevnetFile};
use trestle_api::{SubmitRequest, TrestleApiClient as _};
use trestle_light_client::{B256, ChainId, Committee, Epoch, Height, Namespace, SecretKey};
use trestle_node::{
    ApplicationConfig, BlockLimits, BlockTransaction, ChainParams, Channels, EngineConfig, Mailbox,
    SignedState, Timeouts, engine,
};

// ---------------------------------------------------------------------------------------------
// Arguments

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Simulated,
    Loopback,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    Latency,
    Throughput,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Submit {
    All,
    One,
}

#[derive(Clone, Debug)]
struct Args {
    mode: Mode,
    scenario: Scenario,
    validators: usize,
    link_ms: u64,
    jitter_ms: u64,
    /// Per-validator egress and ingress cap; 0 = unlimited.
    bandwidth_mbps: u64,
    /// Measurement window (simulated seconds).
    seconds: u64,
    /// Time before the window (simulated seconds): consensus start-up, load ramp.
    warmup_seconds: u64,
    tx_bytes: usize,
    /// Latency: submissions per second over the whole network.
    rate: u64,
    /// Throughput: each mempool is kept this many blocks ahead.
    backlog_blocks: usize,
    submit: Option<Submit>,
    /// `BlockLimits::max_block_payload`, KiB (0 = node default).
    block_kib: usize,
    /// `BlockLimits::max_transactions` (0 = node default).
    max_txs: usize,
    /// Deterministic runtime cycle: simulated time charged per busy scheduler iteration.
    cycle_us: u64,
    seed: u64,
    /// Loopback: the devnet genesis' minimum block interval (ms).
    interval_ms: u64,
    /// Loopback latency: transactions submitted one at a time.
    samples: usize,
    /// Loopback: `tx_proof` poll period (ms).
    poll_ms: u64,
    /// Loopback throughput: concurrent submitters per validator.
    submitters: usize,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            mode: Mode::Simulated,
            scenario: Scenario::Latency,
            validators: 4,
            link_ms: 50,
            jitter_ms: 0,
            bandwidth_mbps: 0,
            seconds: 10,
            warmup_seconds: 2,
            tx_bytes: 1024,
            rate: 100,
            backlog_blocks: 2,
            submit: None,
            block_kib: 0,
            max_txs: 0,
            cycle_us: 100,
            seed: 1,
            interval_ms: 10,
            samples: 200,
            poll_ms: 2,
            submitters: 2,
        }
    }
}

const USAGE: &str = "usage: cargo bench --bench consensus [-- [--mode simulated|loopback] \
[--scenario latency|throughput] [--validators N] [--link-ms MS] [--jitter-ms MS] \
[--bandwidth-mbps MBIT (0 = unlimited)] [--seconds S] [--warmup-seconds S] [--tx-bytes B] \
[--rate TX_PER_S] [--backlog-blocks K] [--submit all|one] [--block-kib KIB] [--max-txs N] \
[--cycle-us US] [--seed S] [loopback: --interval-ms MS] [--samples N] [--poll-ms MS] \
[--submitters K]]   (no arguments: the default matrix)";

/// Parses the arguments; `Ok(None)` means "no run arguments: run the default matrix".
fn parse_args(raw: &[String]) -> Result<Option<Args>, String> {
    let mut args = Args::default();
    let mut any = false;
    let mut it = raw.iter();
    while let Some(arg) = it.next() {
        // cargo bench passes --bench to harness = false targets.
        if arg == "--bench" {
            continue;
        }
        if arg == "--help" || arg == "-h" {
            return Err(USAGE.to_string());
        }
        let value = it.next().ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))?;
        let num = |v: &str| v.parse::<u64>().map_err(|_| format!("bad value {v:?} for {arg}"));
        any = true;
        match arg.as_str() {
            "--mode" => {
                args.mode = match value.as_str() {
                    "simulated" => Mode::Simulated,
                    "loopback" => Mode::Loopback,
                    other => return Err(format!("unknown mode {other:?}")),
                }
            }
            "--scenario" => {
                args.scenario = match value.as_str() {
                    "latency" => Scenario::Latency,
                    "throughput" => Scenario::Throughput,
                    other => return Err(format!("unknown scenario {other:?}")),
                }
            }
            "--submit" => {
                args.submit = Some(match value.as_str() {
                    "all" => Submit::All,
                    "one" => Submit::One,
                    other => return Err(format!("unknown submit strategy {other:?}")),
                })
            }
            "--validators" => args.validators = num(value)? as usize,
            "--link-ms" => args.link_ms = num(value)?,
            "--jitter-ms" => args.jitter_ms = num(value)?,
            "--bandwidth-mbps" => args.bandwidth_mbps = num(value)?,
            "--seconds" => args.seconds = num(value)?,
            "--warmup-seconds" => args.warmup_seconds = num(value)?,
            "--tx-bytes" => args.tx_bytes = num(value)? as usize,
            "--rate" => args.rate = num(value)?,
            "--backlog-blocks" => args.backlog_blocks = num(value)? as usize,
            "--block-kib" => args.block_kib = num(value)? as usize,
            "--max-txs" => args.max_txs = num(value)? as usize,
            "--cycle-us" => args.cycle_us = num(value)?,
            "--seed" => args.seed = num(value)?,
            "--interval-ms" => args.interval_ms = num(value)?,
            "--samples" => args.samples = num(value)? as usize,
            "--poll-ms" => args.poll_ms = num(value)?,
            "--submitters" => args.submitters = num(value)? as usize,
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if !any {
        return Ok(None);
    }
    if args.validators == 0 || args.seconds == 0 || args.tx_bytes < 8 || args.cycle_us == 0 {
        return Err("validators, seconds and cycle-us must be positive, tx-bytes ≥ 8".into());
    }
    if args.scenario == Scenario::Latency && args.rate == 0 {
        return Err("rate must be positive".into());
    }
    if args.mode == Mode::Loopback && (args.samples == 0 || args.submitters == 0) {
        return Err("samples and submitters must be positive".into());
    }
    Ok(Some(args))
}

impl Args {
    fn submit(&self) -> Submit {
        self.submit.unwrap_or(match self.scenario {
            Scenario::Latency => Submit::All,
            Scenario::Throughput => Submit::One,
        })
    }

    fn limits(&self) -> BlockLimits {
        let default = BlockLimits::default();
        let max_block_payload =
            if self.block_kib == 0 { default.max_block_payload } else { self.block_kib * 1024 };
        BlockLimits {
            max_transactions: if self.max_txs == 0 {
                default.max_transactions
            } else {
                self.max_txs
            },
            max_payload: default.max_payload.max(self.tx_bytes),
            max_block_payload,
        }
    }

    /// Consensus timeouts for links of `link_ms` (± jitter): generous multiples of the round
    /// trip so the happy path never times out, short enough that a silent leader costs little.
    fn timeouts(&self) -> Timeouts {
        let rtt = 2 * (self.link_ms + 2 * self.jitter_ms).max(10);
        let leader = Duration::from_millis((5 * rtt).max(250));
        Timeouts {
            leader,
            certification: 2 * leader,
            timeout_retry: 2 * leader,
            skip: 10 * leader,
            fetch: leader,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The default matrix

/// The default matrix: simulated latency and throughput with 4 and 10 validators over 50 ms
/// links, then 4 validator processes on loopback (latency, then ~10 s of throughput). Each run
/// is a child process so that its peak RSS is its own.
fn matrix() -> Vec<Vec<&'static str>> {
    let common = ["--mode", "simulated", "--link-ms", "50", "--jitter-ms", "0"];
    let latency = ["--scenario", "latency", "--seconds", "20", "--rate", "100"];
    // Throughput: 1 MiB blocks (in-memory storage of every validator holds every block, so
    // larger blocks mostly measure the allocator; pass --block-kib to change).
    let throughput = ["--scenario", "throughput", "--block-kib", "1024"];
    let runs: [&[&'static str]; 6] = [
        &["--validators", "4"],
        &["--validators", "10"],
        &["--validators", "4", "--submit", "one"],
        &["--validators", "4", "--seconds", "5", "--tx-bytes", "1024"],
        &["--validators", "4", "--seconds", "5", "--tx-bytes", "65536"],
        &["--validators", "10", "--seconds", "3", "--tx-bytes", "65536"],
    ];
    let mut matrix: Vec<Vec<&'static str>> = runs
        .iter()
        .enumerate()
        .map(|(i, run)| {
            let scenario: &[&'static str] = if i < 3 { &latency } else { &throughput };
            common.iter().chain(scenario).chain(run.iter()).copied().collect()
        })
        .collect();
    // Real processes on 127.0.0.1 (10 validators on explicit flags only).
    let loopback = ["--mode", "loopback", "--validators", "4"];
    let loopback_runs: [&[&'static str]; 2] = [
        &["--scenario", "latency", "--samples", "100", "--tx-bytes", "256"],
        &["--scenario", "throughput", "--seconds", "10", "--tx-bytes", "65536"],
    ];
    for run in loopback_runs {
        matrix.push(loopback.iter().chain(run.iter()).copied().collect());
    }
    matrix
}

fn run_matrix() -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    for run in matrix() {
        eprintln!("consensus bench: {}", run.join(" "));
        let status = Command::new(&exe)
            .args(&run)
            .status()
            .map_err(|e| format!("spawning {}: {e}", exe.display()))?;
        if !status.success() {
            return Err(format!("run {run:?} failed: {status}"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Network setup

/// Rate limit per channel and peer.
const QUOTA: Quota = Quota::per_second(NZU32!(1_024));

/// Keys and parameters of an `n`-validator network.
struct Keys {
    identities: Vec<ed25519::PrivateKey>,
    light: Vec<SecretKey>,
    params: ChainParams,
    committee: Committee,
}

fn network_keys(n: usize, limits: BlockLimits) -> Result<Keys, String> {
    let identities: Vec<_> = (0..n as u64).map(ed25519::PrivateKey::from_seed).collect();
    let light: Vec<_> = (0..n)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            SecretKey::from_seed(seed)
        })
        .collect();
    let committee = Committee::equal_weight(light.iter().map(|k| *k.public_key()), n)
        .map_err(|e| format!("committee: {e}"))?;
    let params = ChainParams {
        chain_id: ChainId(31_337),
        epoch: Epoch(0),
        committee: committee.commitment_bytes(),
        limits,
        owners: BTreeMap::new(),
        genesis_timestamp_ms: 0,
        min_block_interval_ms: 0,
    };
    Ok(Keys { identities, light, params, committee })
}

/// A started validator, as [`drive`] sees it.
struct Validator {
    mailbox: Mailbox,
    finalized: mpsc::UnboundedReceiver<SignedState>,
}

/// Starts `args.validators` validators in the deterministic runtime over the simulated network.
async fn start_simulated(
    context: &deterministic::Context,
    args: &Args,
) -> Result<Vec<Validator>, String> {
    let n = args.validators;
    let keys = network_keys(n, args.limits())?;
    let participants: Vec<ed25519::PublicKey> =
        keys.identities.iter().map(|k| k.public_key()).collect();
    let (network, oracle) = Network::new_with_peers(
        context.child("network"),
        simulated::Config {
            max_size: engine::max_message_size(&keys.params.limits, n as u32),
            max_peers_per_set: NZUsize!(n),
            disconnect_on_block: true,
            tracked_peer_sets: NZUsize!(1),
        },
        participants.clone(),
    )
    .await;
    network.start();
    let link = Link {
        latency: Duration::from_millis(args.link_ms),
        jitter: Duration::from_millis(args.jitter_ms),
        success_rate: commonware_utils::probability!(1.0),
    };
    let cap = (args.bandwidth_mbps > 0).then(|| (args.bandwidth_mbps * 1_000_000 / 8) as usize);
    for (i, from) in participants.iter().enumerate() {
        if cap.is_some() {
            oracle
                .limit_bandwidth(from.clone(), cap, cap)
                .await
                .map_err(|e| format!("bandwidth: {e}"))?;
        }
        for (j, to) in participants.iter().enumerate() {
            if i != j {
                oracle
                    .add_link(from.clone(), to.clone(), link.clone())
                    .await
                    .map_err(|e| format!("link: {e}"))?;
            }
        }
    }
    let participants_slots: BTreeMap<_, u32> =
        keys.identities.iter().enumerate().map(|(i, k)| (k.public_key(), i as u32)).collect();
    let mut validators = Vec::with_capacity(n);
    for (i, identity) in keys.identities.iter().enumerate() {
        let me = identity.public_key();
        let control = oracle.control(me.clone());
        let register = async |channel| {
            control.register(channel, QUOTA).await.map_err(|e| format!("register: {e}"))
        };
        let channels = Channels {
            votes: register(engine::CHANNEL_VOTES).await?,
            certificates: register(engine::CHANNEL_CERTIFICATES).await?,
            resolver: register(engine::CHANNEL_RESOLVER).await?,
            broadcast: register(engine::CHANNEL_BROADCAST).await?,
            backfill: register(engine::CHANNEL_BACKFILL).await?,
            signatures: register(engine::CHANNEL_SIGNATURES).await?,
        };
        let (sink, finalized) = mpsc::unbounded_channel();
        let mut application = ApplicationConfig::new(keys.params.clone());
        application.signer = Some(keys.light[i].clone());
        application.signed_states = Some(sink);
        application.submission_queue = 4_096;
        application.mempool.max_transactions = 100_000;
        application.mempool.max_bytes = 1 << 30;
        let config = EngineConfig {
            identity: identity.clone(),
            participants: participants.clone(),
            namespace: b"trestle-bench".to_vec(),
            partition_prefix: format!("validator-{i}"),
            application,
            timeouts: args.timeouts(),
            blocker: oracle.control(me),
            peer_provider: oracle.manager(),
            mailbox_size: NZUsize!(1_024),
            // Validators gossip their light-client state signatures, as deployed ones do.
            signatures: Some(trestle_node::signatures::Config::new(
                identity.public_key(),
                keys.committee.clone(),
                participants_slots.clone(),
                format!("validator-{i}-signatures"),
            )),
        };
        let node = trestle_node::start(
            context.child("validator").with_attribute("index", i),
            config,
            channels,
        )
        .await
        .map_err(|e| format!("validator {i}: {e}"))?;
        validators.push(Validator { mailbox: node.application, finalized });
    }
    Ok(validators)
}

fn run_simulated(args: &Args) -> Result<Value, String> {
    let config = deterministic::Config::new()
        .with_seed(args.seed)
        .with_cycle(Duration::from_micros(args.cycle_us))
        .with_timeout(Some(Duration::from_secs(args.warmup_seconds + args.seconds + 600)));
    let wall = Instant::now();
    let args_ = args.clone();
    let mut report = deterministic::Runner::new(config).start(|context| async move {
        let validators = start_simulated(&context, &args_).await?;
        drive(&context, &args_, validators).await
    })?;
    let wall_s = wall.elapsed().as_secs_f64();
    let bytes_total = report["payload_bytes_total"].as_u64().unwrap_or(0) as f64;
    report["wall_s"] = json!(round(wall_s, 2));
    report["payload_mib_per_s_wall"] = json!(round(bytes_total / wall_s / MIB, 2));
    let sim_total = report["sim_s_total"].as_f64().unwrap_or(0.0);
    report["sim_s_per_wall_s"] = json!(round(sim_total / wall_s, 2));
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// Loopback mode: real validator processes

/// The validator processes of a loopback run and their devnet directory: every process is
/// stopped (SIGTERM, then reaped; killed after 15 s) and the directory deleted when this is
/// dropped, on success and on error alike.
struct Processes {
    dir: PathBuf,
    children: Vec<Child>,
}

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &self.children {
            devnet::terminate(child.id());
        }
        for child in &mut self.children {
            devnet::reap(child, Duration::from_secs(15));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
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
/// directory (authenticated TCP p2p on 127.0.0.1, on-disk storage), driven over JSON-RPC.
fn run_loopback(args: &Args) -> Result<Value, String> {
    let nanos = since_epoch(SystemTime::now()).as_nanos();
    let dir =
        std::env::temp_dir().join(format!("trestle-bench-loopback-{}-{nanos}", std::process::id()));
    let mut processes = Processes { dir: dir.clone(), children: Vec::new() };
    let file = devnet::init_with(&dir, args.validators, args.interval_ms)
        .map_err(|e| format!("devnet files: {e:#}"))?;
    let exe = Path::new(env!("CARGO_BIN_EXE_trestle"));
    for validator in &file.validators {
        let child = devnet::spawn_validator(exe, validator).map_err(|e| format!("{e:#}"))?;
        processes.children.push(child);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let wall = Instant::now();
    let mut report = match runtime.block_on(drive_loopback(args, &file)) {
        Ok(report) => report,
        Err(e) => return Err(format!("{e}{}", processes.log_tails(&file))),
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
fn request(counter: u64, bytes: usize) -> SubmitRequest {
    let mut payload = vec![0xa5u8; bytes];
    payload[..8].copy_from_slice(&counter.to_be_bytes());
    SubmitRequest { namespace: 1 + (counter % 16), payload: payload.into(), authorization: None }
}

fn rpc_error(what: &str) -> impl Fn(jsonrpsee::core::ClientError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// Reads a Prometheus counter (the first sample whose name ends with `suffix`) from a
/// validator's metrics URL with a plain HTTP/1.0 GET.
fn metric(metrics_url: &str, suffix: &str) -> Option<u64> {
    use std::io::{Read as _, Write as _};
    let rest = metrics_url.strip_prefix("http://")?;
    let (addr, path) = rest.split_once('/')?;
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET /{path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        let name = name.split('{').next()?;
        if name.ends_with(suffix) { value.parse::<f64>().ok().map(|v| v as u64) } else { None }
    })
}

/// Waits (bounded) until every validator answers `block_height` ≥ 2, then runs the scenario.
async fn drive_loopback(args: &Args, file: &DevnetFile) -> Result<Value, String> {
    let clients = file
        .validators
        .iter()
        .map(|v| {
            HttpClientBuilder::default()
                .request_timeout(Duration::from_secs(10))
                .build(&v.rpc_url)
                .map_err(|e| format!("client for {}: {e}", v.rpc_url))
        })
        .collect::<Result<Vec<HttpClient>, String>>()?;
    let limit = Duration::from_secs(120);
    let deadline = Instant::now() + limit;
    for (i, client) in clients.iter().enumerate() {
        while !client.block_height().await.is_ok_and(|h| h >= 2) {
            if Instant::now() > deadline {
                return Err(format!("validator {i} did not reach height 2 within {limit:?}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let mut report = match args.scenario {
        Scenario::Latency => loopback_latency(args, &clients).await?,
        Scenario::Throughput => loopback_throughput(args, &clients, file).await?,
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
async fn loopback_latency(args: &Args, clients: &[HttpClient]) -> Result<Value, String> {
    let n = clients.len();
    let h0 = clients[0].block_height().await.map_err(rpc_error("block_height"))?;
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
    let h1 = clients[0].block_height().await.map_err(rpc_error("block_height"))?;
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| percentile(&latencies, p);
    let mean = mean_ms(&latencies);
    Ok(json!({
        "scenario": "latency",
        "window_s": round(window_s, 2),
        "poll_ms": args.poll_ms,
        "txs_submitted": latencies.len() as u64 + pending,
        "txs_finalized": latencies.len(),
        "txs_pending": pending,
        "submit_rejected": rejected,
        "p50_ms": pct(50.0),
        "p99_ms": pct(99.0),
        "mean_ms": mean,
        "max_ms": latencies.last().map_or(Value::Null, |m| json!(round(*m, 1))),
        "blocks_per_s": round(h1.saturating_sub(h0) as f64 / window_s, 2),
        "finalized_height": h1,
    }))
}

/// `--submitters` tasks per validator keep submitting distinct `--tx-bytes` payloads to it for
/// `--seconds`, backing off 20 ms whenever its mempool is full; finalized payload is read from
/// validator 0's `finalized_bytes` counter (or, failing that, summed from its blocks).
async fn loopback_throughput(
    args: &Args,
    clients: &[HttpClient],
    file: &DevnetFile,
) -> Result<Value, String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    let metrics_url = file.validators[0].metrics_url.clone();
    let h0 = clients[0].block_height().await.map_err(rpc_error("block_height"))?;
    let bytes0 = metric(&metrics_url, "finalized_bytes_total");
    let txs0 = metric(&metrics_url, "finalized_transactions_total");
    let start = Instant::now();
    let end = start + Duration::from_secs(args.seconds);
    let accepted = Arc::new(AtomicU64::new(0));
    let full = Arc::new(AtomicU64::new(0));
    let rejected = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for (v, client) in clients.iter().enumerate() {
        for k in 0..args.submitters {
            let client = client.clone();
            let (accepted, full, rejected) = (accepted.clone(), full.clone(), rejected.clone());
            let tx_bytes = args.tx_bytes;
            // Disjoint counter ranges per submitter keep every transaction distinct.
            let mut counter = ((v * args.submitters + k) as u64) << 40;
            tasks.push(tokio::spawn(async move {
                while Instant::now() < end {
                    match client.submit(request(counter, tx_bytes)).await {
                        Ok(_) => {
                            accepted.fetch_add(1, Ordering::Relaxed);
                            counter += 1;
                        }
                        Err(e) => {
                            let is_full = matches!(&e, jsonrpsee::core::ClientError::Call(obj)
                                if obj.code() == trestle_api::codes::MEMPOOL_FULL);
                            if is_full {
                                full.fetch_add(1, Ordering::Relaxed);
                            } else {
                                rejected.fetch_add(1, Ordering::Relaxed);
                                counter += 1;
                            }
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
            }));
        }
    }
    for task in tasks {
        task.await.map_err(|e| format!("submitter: {e}"))?;
    }
    let window_s = start.elapsed().as_secs_f64();
    let h1 = clients[0].block_height().await.map_err(rpc_error("block_height"))?;
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
                    .map_err(rpc_error("block"))?
                    .ok_or_else(|| format!("validator 0 lacks finalized block {h}"))?;
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
        "txs_submitted": accepted.load(Ordering::Relaxed),
        "txs_finalized": txs,
        "submit_full": full.load(Ordering::Relaxed),
        "submit_rejected": rejected.load(Ordering::Relaxed),
        "blocks_per_s": round(blocks as f64 / window_s, 2),
        "txs_per_s": round(txs as f64 / window_s, 1),
        "payload_mib_per_s_wall": round(bytes as f64 / window_s / MIB, 2),
        "avg_block_payload_kib": if blocks == 0 { 0.0 } else {
            round(bytes as f64 / blocks as f64 / 1024.0, 1)
        },
        "finalized_bytes_source": source,
        "finalized_height": h1,
        "payload_bytes_total": bytes,
    }))
}

// ---------------------------------------------------------------------------------------------
// Load and measurement (runtime-agnostic)

const MIB: f64 = 1024.0 * 1024.0;

fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

fn since_epoch(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// Submission record: home validator and submission time.
type Submitted = Arc<Mutex<HashMap<B256, (usize, Duration)>>>;
/// Finalization times: `times[v][h]` = when validator `v` finalized height `h`.
type Finalized = Arc<Mutex<Vec<Vec<Duration>>>>;

/// A distinct transaction: an 8-byte counter, then filler.
fn transaction(counter: u64, bytes: usize) -> BlockTransaction {
    let mut payload = vec![0xa5u8; bytes];
    payload[..8].copy_from_slice(&counter.to_be_bytes());
    let namespace = Namespace(1 + (counter % 16));
    BlockTransaction::unowned(trestle_light_client::Transaction::new(namespace, payload))
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
        submitted.lock().expect("lock").insert(tx.transaction.hash(), (home, now));
    }
    ok
}

/// Runs the load for the scenario on already started validators and measures it. Generic over
/// the runtime so that a real-network mode can reuse it.
async fn drive<E>(context: &E, args: &Args, validators: Vec<Validator>) -> Result<Value, String>
where
    E: Clock + Spawner + Metrics + commonware_runtime::Supervisor,
{
    let n = validators.len();
    let start = since_epoch(context.current());
    let finalized: Finalized = Arc::new(Mutex::new(vec![Vec::new(); n]));
    let mut mailboxes = Vec::with_capacity(n);
    for (v, validator) in validators.into_iter().enumerate() {
        mailboxes.push(validator.mailbox);
        let mut receiver = validator.finalized;
        let times = finalized.clone();
        let clock = context.child("finalized").with_attribute("index", v);
        clock.spawn(move |context| async move {
            while let Some(signed) = receiver.recv().await {
                let now = since_epoch(context.current());
                let mut times = times.lock().expect("lock");
                let row = &mut times[v];
                // Height h arrives after 0..h (genesis is height 0, signed at start-up).
                while row.len() <= signed.state.height.get() as usize {
                    row.push(now);
                }
            }
        });
    }

    let submitted: Submitted = Arc::default();
    let window_start = start + Duration::from_secs(args.warmup_seconds);
    let window_end = window_start + Duration::from_secs(args.seconds);
    let submit_mode = args.submit();
    let limits = args.limits();
    let rejected = Arc::new(Mutex::new(0u64));

    // Load generators.
    match args.scenario {
        Scenario::Latency => {
            let period = Duration::from_nanos(1_000_000_000 / args.rate);
            let mailboxes = mailboxes.clone();
            let submitted = submitted.clone();
            let rejected = rejected.clone();
            let tx_bytes = args.tx_bytes;
            context.child("load").spawn(move |context| async move {
                // Load starts after one second of warm-up (consensus start-up) and stops at
                // the end of the window.
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
                        *rejected.lock().expect("lock") += 1;
                    }
                    counter += 1;
                    next += period;
                }
            });
        }
        Scenario::Throughput => {
            let per_block = limits.max_transactions.min(limits.max_block_payload / args.tx_bytes);
            let backlog = (per_block * args.backlog_blocks).max(1);
            for home in 0..n {
                let mailboxes = mailboxes.clone();
                let submitted = submitted.clone();
                let rejected = rejected.clone();
                let tx_bytes = args.tx_bytes;
                context.child("load").with_attribute("index", home).spawn(
                    move |context| async move {
                        let mut counter = home as u64;
                        loop {
                            let now = since_epoch(context.current());
                            if now >= window_end {
                                break;
                            }
                            let pending =
                                mailboxes[home].status().await.map_or(0, |s| s.mempool_len);
                            let missing = backlog.saturating_sub(pending);
                            // Submit concurrently (one scheduler step for the whole batch),
                            // within the submission queue's capacity.
                            let batch: Vec<_> = (0..missing.min(2_048))
                                .map(|_| {
                                    let tx = transaction(counter, tx_bytes);
                                    counter += n as u64;
                                    tx
                                })
                                .collect();
                            let results =
                                futures::future::join_all(batch.into_iter().map(|tx| {
                                    let submitted = &submitted;
                                    let mailboxes = &mailboxes;
                                    async move {
                                        submit(mailboxes, &[home], home, tx, now, submitted).await
                                    }
                                }))
                                .await;
                            let failed = results.iter().filter(|ok| !**ok).count() as u64;
                            *rejected.lock().expect("lock") += failed;
                            context.sleep(Duration::from_millis(10)).await;
                        }
                    },
                );
            }
        }
    }

    // Run the window, then (latency) give the last submissions time to finalize; a
    // transaction still unfinalized then is reported as pending.
    let drain = match args.scenario {
        Scenario::Latency => Duration::from_secs(5),
        Scenario::Throughput => Duration::ZERO,
    };
    context.sleep_until(UNIX_EPOCH + window_end + drain).await;
    let end = since_epoch(context.current());

    // Block contents (from validator 0's marshal) and finalization times.
    let times = finalized.lock().expect("lock").clone();
    let top = times.first().map_or(0, |row| row.len().saturating_sub(1));
    let mut tx_height: HashMap<B256, usize> = HashMap::new();
    let mut payload_in_window = 0u64;
    let mut txs_in_window = 0u64;
    let mut blocks_in_window = 0u64;
    let mut payload_total = 0u64;
    let observer = times.first().cloned().unwrap_or_default();
    for (h, &at) in observer.iter().enumerate().skip(1) {
        let block = mailboxes[0]
            .block(Height(h as u64))
            .await
            .ok_or_else(|| format!("validator 0 lacks finalized block {h}"))?;
        let bytes = block.payload_bytes() as u64;
        payload_total += bytes;
        if at > window_start && at <= window_end {
            blocks_in_window += 1;
            payload_in_window += bytes;
            txs_in_window += block.transactions().len() as u64;
        }
        for t in block.transactions() {
            tx_height.insert(t.transaction.hash(), h);
        }
    }

    // Latencies of the transactions submitted inside the window.
    let submitted = submitted.lock().expect("lock").clone();
    let mut latencies = Vec::new();
    let mut pending = 0u64;
    for (hash, (home, at)) in &submitted {
        if *at < window_start || *at >= window_end {
            continue;
        }
        match tx_height.get(hash).and_then(|h| times[*home].get(*h)) {
            Some(done) => latencies.push(done.saturating_sub(*at).as_secs_f64() * 1e3),
            None => pending += 1,
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| percentile(&latencies, p);
    let mean = mean_ms(&latencies);
    let window_s = args.seconds as f64;
    let rejected = *rejected.lock().expect("lock");

    let scenario = match args.scenario {
        Scenario::Latency => "latency",
        Scenario::Throughput => "throughput",
    };
    let mut report = json!({
        "bench": "consensus",
        "mode": "simulated",
        "scenario": scenario,
        "validators": n,
        "link_ms": args.link_ms,
        "jitter_ms": args.jitter_ms,
        "bandwidth_mbps": if args.bandwidth_mbps == 0 { Value::Null } else { json!(args.bandwidth_mbps) },
        "cycle_us": args.cycle_us,
        "seed": args.seed,
        "tx_bytes": args.tx_bytes,
        "submit": match submit_mode { Submit::All => "all", Submit::One => "one" },
        "max_block_payload": limits.max_block_payload,
        "max_block_txs": limits.max_transactions,
        "window_s": args.seconds,
        "txs_submitted": latencies.len() as u64 + pending,
        "txs_finalized": latencies.len(),
        "txs_pending": pending,
        "submit_rejected": rejected,
        "p50_ms": pct(50.0),
        "p99_ms": pct(99.0),
        "mean_ms": mean,
        "max_ms": latencies.last().map_or(Value::Null, |m| json!(round(*m, 1))),
        "blocks_per_s": round(blocks_in_window as f64 / window_s, 2),
        "txs_per_s": round(txs_in_window as f64 / window_s, 1),
        "payload_mib_per_s_sim": round(payload_in_window as f64 / window_s / MIB, 2),
        "avg_block_payload_kib": if blocks_in_window == 0 { 0.0 } else {
            round(payload_in_window as f64 / blocks_in_window as f64 / 1024.0, 1)
        },
        "finalized_height": top,
        "payload_bytes_total": payload_total,
        "sim_s_total": round((end - start).as_secs_f64(), 2),
    });
    if args.scenario == Scenario::Latency {
        report["rate_tps"] = json!(args.rate);
    } else {
        report["backlog_blocks"] = json!(args.backlog_blocks);
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------------

fn peak_rss_bytes() -> u64 {
    peak_rss_of("/proc/self/status")
}

/// `VmHWM` of a `/proc/<pid>/status` file, in bytes (0 if unreadable).
fn peak_rss_of(status_path: &str) -> u64 {
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

fn main() {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let result = match parse_args(&raw) {
        Err(e) => Err(e),
        Ok(None) => run_matrix(),
        Ok(Some(args)) => {
            let report = match args.mode {
                Mode::Simulated => run_simulated(&args),
                Mode::Loopback => run_loopback(&args),
            };
            report.map(|mut report| {
                report["peak_rss_bytes"] = json!(peak_rss_bytes());
                println!("{report}");
            })
        }
    };
    if let Err(e) = result {
        eprintln!("consensus bench: {e}");
        std::process::exit(2);
    }
}

/// The `p`-th percentile (nearest rank) of `sorted` milliseconds, rounded to 0.1; null if empty.
fn percentile(sorted: &[f64], p: f64) -> Value {
    if sorted.is_empty() {
        return Value::Null;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    json!(round(sorted[rank.clamp(1, sorted.len()) - 1], 1))
}

/// The mean of `values` milliseconds, rounded to 0.1; null if empty.
fn mean_ms(values: &[f64]) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    json!(round(values.iter().sum::<f64>() / values.len() as f64, 1))
}
