//! Consensus benchmark: finality latency and finalized throughput of a trestle network.
//!
//! ```text
//! cargo bench --bench consensus                      # the default matrix (one process per run)
//! cargo bench --bench consensus -- --scenario latency --validators 4 --link-ms 50 --seconds 30
//! cargo bench --bench consensus -- --scenario throughput --validators 10 --tx-bytes 65536
//! cargo bench --bench consensus -- --mode netns --validators 10 --link-ms 50   # as root
//! cargo bench --bench consensus -- --help            # every flag and its default
//! ```
//!
//! Every run prints one JSON line ([`report`]). Mode `simulated` ([`simulated`]) runs N
//! validators in commonware's deterministic runtime over its simulated p2p network — a
//! `trestle_node::testing::simulated::Cluster`, the node's test-utils harness, so every
//! validator is the full stack (simplex, marshal, application, signatures actor) built by
//! `trestle_node::Validator` — so a run is reproducible from its seed and every time except
//! `wall_s` is *simulated* time. The deterministic runtime is single-threaded: the wall-clock
//! figures (`wall_s`, `payload_mib_per_s_wall`) are the CPU cost of simulating all N
//! validators' protocol code on one core of this machine, not a network's throughput.
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
//! Finalization is observed through each validator's `Finalized { block, state, .. }` sink (the
//! cluster's `observe` option, `Running::finalized`): the application sends every finalized
//! block with its light-client state right after it applied it, so the receive time is the
//! finalization time (within one runtime cycle, `--cycle-us`). Block contents (payload bytes,
//! transactions) come from validator 0's events.
//!
//! Mode `loopback` ([`loopback`]) starts a devnet of real `trestle node run` processes on
//! 127.0.0.1 (authenticated TCP p2p, on-disk storage; the `trestle::devnet` helpers) and drives
//! them over JSON-RPC: latency is submit → `tx_proof` on the same validator; throughput is the
//! finalized-bytes counter over the window; chaos ([`chaos`]) kills validators while
//! submitting and counts accepted transactions lost; validator peak RSS is read from
//! `/proc/<pid>/status`. An in-process variant on another runtime could instead hand its
//! mailboxes and `Finalized` receivers to [`simulated::drive`], which is runtime-generic.
//!
//! Mode `netns` ([`netns`]) runs the processes on separate hosts of this machine (Linux network
//! namespaces, as root), every link delayed `--link-ms` each way by a TCP relay, and prints the
//! same scenario in the simulator beside its latency.
//!
//! Without arguments the default matrix ([`args::matrix`]) runs, each run as a child process so
//! that its peak RSS is its own.

#![allow(clippy::print_stderr)]

mod args;
mod chaos;
mod loopback;
mod netns;
mod report;
mod restart;
mod simulated;

use std::process::{Command, ExitCode};

use anyhow::Context as _;

use crate::args::{Invocation, Mode};

/// Runs the default matrix, one child process (this executable) per run.
fn run_matrix() -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("current_exe")?;
    for run in args::matrix() {
        eprintln!("consensus bench: {}", run.join(" "));
        let status = Command::new(&exe)
            .args(&run)
            .status()
            .with_context(|| format!("spawning {}", exe.display()))?;
        anyhow::ensure!(status.success(), "run {run:?} failed: {status}");
    }
    Ok(())
}

/// Parses the command line and runs the matrix or one run.
fn run() -> anyhow::Result<()> {
    match args::parse()? {
        Invocation::Matrix => run_matrix(),
        Invocation::Run(args) => {
            let report = match args.mode {
                Mode::Simulated => simulated::run(&args)?,
                Mode::Loopback => loopback::run(&args)?,
                Mode::Netns => netns::run(&args)?,
            };
            report::emit(report);
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("consensus bench: {e:#}");
            ExitCode::from(2)
        }
    }
}
