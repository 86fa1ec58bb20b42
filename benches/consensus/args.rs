//! The bench's command line (clap) and the default matrix of runs.

use std::time::Duration;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, ValueEnum, parser::ValueSource};
use trestle_api::GenesisLimits;
use trestle_node::Timeouts;

/// Which network a run measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Mode {
    /// N validators in commonware's deterministic runtime over its simulated p2p network.
    Simulated,
    /// N `trestle node run` processes on 127.0.0.1, driven over JSON-RPC.
    Loopback,
    /// N `trestle node run` processes, each in a network namespace of its own, every link
    /// delayed `--link-ms` by a TCP relay (root only; latency scenario).
    Netns,
}

/// What a run measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Scenario {
    /// Finality latency of transactions submitted at a steady rate.
    Latency,
    /// Finalized payload per second with saturated mempools.
    Throughput,
    /// Loopback only: kill -9 the validator that accepted the latest transaction (one down at
    /// a time) while submitting at `--rate` for `--seconds`; count accepted transactions lost.
    Chaos,
    /// Loopback only: grow the chain to `--heights` (reusing `--data-dir`), then kill -9
    /// validator 0 and start it again, with and without its finalized index; time until it
    /// answers RPC at its height and until it finalizes a new one.
    Restart,
}

/// Which validators a transaction is handed to (simulated mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Submit {
    /// Every validator's mempool (a stand-in for mempool gossip).
    All,
    /// Only the home validator's.
    One,
}

impl Submit {
    /// The name the report uses.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::One => "one",
        }
    }
}

impl Scenario {
    /// The name the report uses.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Latency => "latency",
            Self::Throughput => "throughput",
            Self::Chaos => "chaos",
            Self::Restart => "restart",
        }
    }
}

/// One run of the consensus benchmark (no arguments at all: the default matrix).
#[derive(Clone, Debug, Parser)]
#[command(
    name = "consensus",
    about = "Finality latency and finalized throughput of a trestle network (one JSON line per run)",
    after_help = "Without arguments the default matrix runs, one child process per run."
)]
pub(crate) struct Args {
    /// Network to measure.
    #[arg(long, value_enum, default_value_t = Mode::Simulated)]
    pub(crate) mode: Mode,
    /// What to measure.
    #[arg(long, value_enum, default_value_t = Scenario::Latency)]
    pub(crate) scenario: Scenario,
    /// Number of validators.
    #[arg(long, default_value_t = 4)]
    pub(crate) validators: usize,
    /// One-way link latency (ms): simulated, or added by the netns mode's relays.
    #[arg(long, default_value_t = 50)]
    pub(crate) link_ms: u64,
    /// Link jitter (ms), as `--link-ms`.
    #[arg(long, default_value_t = 0)]
    pub(crate) jitter_ms: u64,
    /// Netns: packets each host drops at random, in each direction (%).
    #[arg(long, default_value_t = 0)]
    pub(crate) loss_pct: u8,
    /// Per-validator egress and ingress cap (Mbit/s); 0 = unlimited.
    #[arg(long, default_value_t = 0)]
    pub(crate) bandwidth_mbps: u64,
    /// Measurement window (simulated seconds; loopback throughput: wall seconds).
    #[arg(long, default_value_t = 10)]
    pub(crate) seconds: u64,
    /// Time before the window (simulated seconds): consensus start-up, load ramp.
    #[arg(long, default_value_t = 2)]
    pub(crate) warmup_seconds: u64,
    /// Payload bytes per transaction (at least 8: a counter keeps them distinct).
    #[arg(long, default_value_t = 1024)]
    pub(crate) tx_bytes: usize,
    /// Latency: submissions per second over the whole network.
    #[arg(long, default_value_t = 100)]
    pub(crate) rate: u64,
    /// Throughput: each mempool is kept this many blocks ahead.
    #[arg(long, default_value_t = 2)]
    pub(crate) backlog_blocks: usize,
    /// Validators a transaction is handed to [default: all for latency, one for throughput].
    #[arg(long, value_enum)]
    pub(crate) submit: Option<Submit>,
    /// Block payload limit (KiB); 0 = the genesis default.
    #[arg(long, default_value_t = 0)]
    pub(crate) block_kib: usize,
    /// Most transactions per block; 0 = the genesis default.
    #[arg(long, default_value_t = 0)]
    pub(crate) max_txs: usize,
    /// Deterministic runtime cycle (µs): simulated time charged per busy scheduler iteration.
    #[arg(long, default_value_t = 100)]
    pub(crate) cycle_us: u64,
    /// Seed of the deterministic runtime.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Loopback and netns: the genesis' minimum block interval (ms).
    #[arg(long, default_value_t = 10)]
    pub(crate) interval_ms: u64,
    /// Loopback and netns latency: transactions submitted one at a time.
    #[arg(long, default_value_t = 200)]
    pub(crate) samples: usize,
    /// Loopback: `tx_proof` poll period (ms).
    #[arg(long, default_value_t = 2)]
    pub(crate) poll_ms: u64,
    /// Loopback throughput: concurrent submitters per validator.
    #[arg(long, default_value_t = 2)]
    pub(crate) submitters: usize,
    /// Loopback throughput: transactions per request (1: `trestle_submit`; more:
    /// `trestle_submitBatch`, at most 1,024).
    #[arg(long, default_value_t = 1)]
    pub(crate) batch: usize,
    /// Loopback throughput: post every request (batches of `--batch`, 1 included) as raw bytes
    /// through the binary ingress path (`POST /v1/submitBatch`) instead of JSON-RPC.
    #[arg(long)]
    pub(crate) binary: bool,
    /// Simulated mode: heights per epoch (one simplex engine per epoch, handing over at each
    /// epoch's last block); absent for one endless epoch.
    #[arg(long)]
    pub(crate) epoch_length: Option<u64>,
    /// Loopback restart: the chain height to reach before restarting.
    #[arg(long, default_value_t = 100_000)]
    pub(crate) heights: u64,
    /// Loopback restart: the devnet directory, kept afterwards and resumed when it exists
    /// (growing a long chain once); a fresh temporary directory, deleted, without it.
    #[arg(long)]
    pub(crate) data_dir: Option<std::path::PathBuf>,
    /// Loopback and netns: the `trestle` binary the validators run (default: the one cargo
    /// built with this bench). A copy built from another commit gives a before/after pair from
    /// one sitting.
    #[arg(long)]
    pub(crate) exe: Option<std::path::PathBuf>,
    /// Passed by `cargo bench` to `harness = false` targets; ignored.
    #[arg(long, hide = true)]
    #[allow(dead_code)]
    bench: bool,
}

/// What the command line asks for.
pub(crate) enum Invocation {
    /// No run arguments: the default matrix.
    Matrix,
    /// One run.
    Run(Box<Args>),
}

/// Parses the command line (clap prints help and usage errors and exits).
pub(crate) fn parse() -> anyhow::Result<Invocation> {
    let command = Args::command();
    let matches = command.clone().get_matches();
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // Only the arguments themselves count (not `--bench`, nor the derive's group of them).
    let given = command
        .get_arguments()
        .map(|arg| arg.get_id().as_str())
        .filter(|id| *id != "bench")
        .any(|id| matches.value_source(id) == Some(ValueSource::CommandLine));
    if !given {
        return Ok(Invocation::Matrix);
    }
    args.validate()?;
    Ok(Invocation::Run(Box::new(args)))
}

impl Args {
    /// Rejects values no run can use.
    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.validators > 0 && self.seconds > 0 && self.tx_bytes >= 8 && self.cycle_us > 0,
            "validators, seconds and cycle-us must be positive, tx-bytes ≥ 8"
        );
        anyhow::ensure!(
            self.scenario != Scenario::Latency || self.rate > 0,
            "rate must be positive"
        );
        anyhow::ensure!(
            self.loss_pct == 0 || (self.mode == Mode::Netns && self.loss_pct < 100),
            "--loss-pct is for netns mode, below 100"
        );
        anyhow::ensure!(
            self.mode != Mode::Netns || self.scenario == Scenario::Latency,
            "netns mode measures the latency scenario"
        );
        anyhow::ensure!(
            self.mode == Mode::Simulated || (self.samples > 0 && self.submitters > 0),
            "samples and submitters must be positive"
        );
        anyhow::ensure!(
            (1..=trestle_api::MAX_SUBMIT_BATCH).contains(&self.batch),
            "batch must be 1 to {}",
            trestle_api::MAX_SUBMIT_BATCH
        );
        anyhow::ensure!(
            !self.binary || (self.mode == Mode::Loopback && self.scenario == Scenario::Throughput),
            "--binary is for the loopback throughput scenario"
        );
        anyhow::ensure!(
            self.scenario != Scenario::Chaos || (self.mode == Mode::Loopback && self.rate > 0),
            "the chaos scenario runs in loopback mode, at a positive rate"
        );
        anyhow::ensure!(
            self.scenario != Scenario::Restart || (self.mode == Mode::Loopback && self.heights > 0),
            "the restart scenario runs in loopback mode, to a positive height"
        );
        let limits = self.limits();
        anyhow::ensure!(
            self.tx_bytes <= limits.max_block_payload,
            "a {}-byte transaction does not fit a {}-byte block",
            self.tx_bytes,
            limits.max_block_payload
        );
        Ok(())
    }

    /// The `trestle` binary the validator processes run.
    pub(crate) fn exe(&self) -> std::path::PathBuf {
        self.exe.clone().unwrap_or_else(|| env!("CARGO_BIN_EXE_trestle").into())
    }

    /// The submission strategy: `--submit`, else all for latency and one for throughput.
    pub(crate) fn submit(&self) -> Submit {
        self.submit.unwrap_or(match self.scenario {
            Scenario::Latency => Submit::All,
            Scenario::Throughput | Scenario::Chaos | Scenario::Restart => Submit::One,
        })
    }

    /// The simulated network's block limits: the genesis defaults unless `--block-kib` or
    /// `--max-txs` say otherwise, payloads up to `--tx-bytes` (within a block).
    pub(crate) fn limits(&self) -> GenesisLimits {
        let default = GenesisLimits::default();
        let max_block_payload =
            if self.block_kib == 0 { default.max_block_payload } else { self.block_kib * 1024 };
        GenesisLimits {
            max_transactions: if self.max_txs == 0 {
                default.max_transactions
            } else {
                self.max_txs
            },
            max_payload: default.max_payload.max(self.tx_bytes).min(max_block_payload),
            max_block_payload,
        }
    }

    /// Consensus timeouts for links of `link_ms` (± jitter): generous multiples of the round
    /// trip so the happy path never times out, short enough that a silent leader costs little.
    pub(crate) fn timeouts(&self) -> Timeouts {
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

/// The default matrix: simulated latency and throughput with 4 and 10 validators over 50 ms
/// links, then 4 validator processes on loopback (latency, then ~10 s of throughput). Each run
/// is a child process so that its peak RSS is its own.
pub(crate) fn matrix() -> Vec<Vec<&'static str>> {
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
