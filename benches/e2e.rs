//! End-to-end benchmark over the real devnet: `cargo bench --bench e2e [-- OPTIONS]`.
//!
//! Starts `trestle devnet` (4 validator processes, the L1 and two rollup anvil chains with the
//! contracts, the relayer proving with the INSECURE dev key of the devnet's capacity, 8) in a
//! temporary directory, then
//! prints one JSON line per measurement:
//!
//! * `confirm_verify`: `trestle confirm`'s native verification of a block record against a
//!   committee of 100 (minimal quorum of 67), median and p99 of repeated runs (target ≤ 10 ms);
//! * `devnet_start`: from starting the devnet to its demo message being delivered;
//! * `message_latency`: messages sent one at a time (every `--interval-ms`, alternating A→B and
//!   B→A) from `Mailbox.send`'s receipt on the source to `MessageDelivered` seen on the
//!   destination: p50 / p99 / max (target p50 ≤ 15 s over the on-chain path: post, finality,
//!   Groth16 proof, `LightClient.update`, `Mailbox.deliver`);
//! * `message_throughput`: a burst of `--burst` messages A→B, sent back to back by `--senders`
//!   accounts at once (each waits for its receipts); delivered messages per minute from the first
//!   send until the destination `Counter` counted every one, and, after a further wait, that it
//!   counted no more (each message delivered exactly once).
//!
//! Options: `--messages N` (default 20), `--interval-ms MS` (default 1500), `--burst N`
//! (default 60), `--senders N` (default 4, at most 5), `--confirm-runs N` (default 200).
//! Messages come from anvil's public dev accounts 5 to 9 (the devnet uses 0 to 2).

#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used)]

use std::{
    path::PathBuf,
    process::Child,
    time::{Duration, Instant},
};

use trestle::devnet::{
    self, DevnetFile,
    messages::{self, SentMessage},
};
use trestle_light_client::verify_confirmation;

#[path = "support/confirm_fixture.rs"]
mod confirm_fixture;

/// anvil's dev accounts 5 to 9 (public test mnemonic): the benchmark's senders; the first
/// sends the latency messages on both chains.
const SENDER_KEYS: [&str; 5] = [
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];
const SENDER_KEY: &str = SENDER_KEYS[0];

/// Longest a single message may take before the benchmark gives up.
const DELIVERY_LIMIT: Duration = Duration::from_secs(300);

struct Options {
    messages: usize,
    interval: Duration,
    burst: usize,
    senders: usize,
    confirm_runs: usize,
}

fn options() -> Options {
    let mut options = Options {
        messages: 20,
        interval: Duration::from_millis(1_500),
        burst: 60,
        senders: 4,
        confirm_runs: 200,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = || args.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        match args[i].as_str() {
            "--messages" => options.messages = value().expect("--messages N") as usize,
            "--interval-ms" => {
                options.interval = Duration::from_millis(value().expect("--interval-ms MS"))
            }
            "--burst" => options.burst = value().expect("--burst N") as usize,
            "--senders" => {
                options.senders =
                    (value().expect("--senders N") as usize).clamp(1, SENDER_KEYS.len())
            }
            "--confirm-runs" => options.confirm_runs = value().expect("--confirm-runs N") as usize,
            // `cargo bench` passes `--bench`; ignore anything else the harness adds.
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    options
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

fn confirm_verify(runs: usize) {
    let (evidence, anchor, subject) = confirm_fixture::setup();
    let namespace = confirm_fixture::NAMESPACE;
    verify_confirmation(&evidence, namespace, &subject, &anchor).expect("the evidence verifies");
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let verdict =
            verify_confirmation(std::hint::black_box(&evidence), namespace, &subject, &anchor);
        times.push(started.elapsed().as_secs_f64() * 1e3);
        assert!(verdict.is_ok());
    }
    let times = sorted(times);
    println!(
        "{}",
        serde_json::json!({
            "bench": "confirm_verify",
            "validators": confirm_fixture::VALIDATORS,
            "runs": runs,
            "median_ms": percentile(&times, 50.0),
            "p99_ms": percentile(&times, 99.0),
            "target_ms": 10,
        })
    );
}

/// The devnet child process; SIGTERM (then SIGKILL) on drop, which stops its children too.
struct Devnet {
    child: Child,
    dir: PathBuf,
}

impl Drop for Devnet {
    fn drop(&mut self) {
        devnet::terminate(self.child.id());
        devnet::reap(&mut self.child, Duration::from_secs(30));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_devnet() -> Devnet {
    let dir = std::env::temp_dir().join(format!("trestle-bench-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.with_extension("log");
    let _ = std::fs::remove_file(&log);
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_trestle"));
    let args = ["devnet", "--validators", "4", "--data-dir"];
    let child = devnet::spawn_logged(exe, &args, &dir, &log).expect("trestle devnet");
    Devnet { child, dir }
}

async fn wait_for_demo(devnet: &Devnet) -> DevnetFile {
    let started = Instant::now();
    loop {
        if let Ok(file) = DevnetFile::load(&devnet.dir)
            && file.demo.as_ref().is_some_and(|d| d.delivered.is_some())
        {
            return file;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the devnet's demo message was not delivered; see {}",
            devnet.dir.with_extension("log").display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits for `sent` to be delivered on `to`; returns the latency in seconds.
async fn latency(
    provider: alloy::providers::DynProvider,
    to: trestle::devnet::chains::DevnetChain,
    sent: SentMessage,
) -> f64 {
    messages::wait_delivered(&provider, &to, sent.hash, DELIVERY_LIMIT).await.expect("delivered");
    sent.sent_at.elapsed().as_secs_f64()
}

fn main() {
    let options = options();
    confirm_verify(options.confirm_runs);

    let started = Instant::now();
    let devnet = start_devnet();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // A signal (Ctrl-C, `timeout`, `kill`) ends the bench through `Devnet`'s drop, which stops
    // the devnet: without this, killing the bench left the devnet running.
    let bench = async {
        let file = wait_for_demo(&devnet).await;
        let demo = file.demo.clone().unwrap();
        println!(
            "{}",
            serde_json::json!({
                "bench": "devnet_start",
                "validators": file.validators.len(),
                "seconds_to_demo_delivered": started.elapsed().as_secs_f64(),
                "demo_latency_s": demo.latency_ms.unwrap_or_default() as f64 / 1e3,
            })
        );
        let (a, b) = (file.chains[0].clone(), file.chains[1].clone());
        let wallet_a = messages::wallet(&a, SENDER_KEY).unwrap();
        let wallet_b = messages::wallet(&b, SENDER_KEY).unwrap();

        // Latency: one message at a time, alternating directions.
        let mut waits = tokio::task::JoinSet::new();
        for i in 0..options.messages {
            let (from, to, wallet, dest_wallet) = if i % 2 == 0 {
                (&a, &b, &wallet_a, &wallet_b)
            } else {
                (&b, &a, &wallet_b, &wallet_a)
            };
            let payload = format!("latency {i}");
            let sent = messages::send(wallet, from, to, to.contracts.counter, payload.as_bytes())
                .await
                .expect("Mailbox.send");
            waits.spawn(latency(dest_wallet.clone(), to.clone(), sent));
            tokio::time::sleep(options.interval).await;
        }
        let latencies = sorted(waits.join_all().await);
        println!(
            "{}",
            serde_json::json!({
                "bench": "message_latency",
                "messages": latencies.len(),
                "interval_ms": options.interval.as_millis() as u64,
                "p50_s": percentile(&latencies, 50.0),
                "p99_s": percentile(&latencies, 99.0),
                "max_s": latencies.last().copied().unwrap_or(f64::NAN),
                "target_p50_s": 15,
            })
        );

        // Throughput: a burst A→B from several senders at once, each as fast as it gets
        // receipts; delivered when B's Counter has counted them all.
        if options.burst > 0 {
            let before = messages::counter_total(&wallet_b, &b).await.unwrap();
            let first = Instant::now();
            let mut senders = tokio::task::JoinSet::new();
            for (index, key) in SENDER_KEYS.iter().take(options.senders).enumerate() {
                let wallet = messages::wallet(&a, key).unwrap();
                let (a, b) = (a.clone(), b.clone());
                let count = (options.burst + options.senders - 1 - index) / options.senders;
                senders.spawn(async move {
                    for i in 0..count {
                        let payload = format!("burst {index}/{i}");
                        messages::send(&wallet, &a, &b, b.contracts.counter, payload.as_bytes())
                            .await
                            .expect("Mailbox.send");
                    }
                    count
                });
            }
            let sent: usize = senders.join_all().await.into_iter().sum();
            assert_eq!(sent, options.burst);
            let sending = first.elapsed().as_secs_f64();
            let target = before + alloy_primitives::U256::from(options.burst);
            // A tail beyond the usual limit: up to 0.1 s per message of the burst.
            let deadline =
                Instant::now() + DELIVERY_LIMIT + Duration::from_millis(100) * sent as u32;
            loop {
                let total = messages::counter_total(&wallet_b, &b).await.unwrap();
                if total >= target {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{} of {} delivered after {:.0} s",
                    total - before,
                    options.burst,
                    first.elapsed().as_secs_f64()
                );
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            let seconds = first.elapsed().as_secs_f64();
            // Nothing more arrives: every message counted exactly once.
            tokio::time::sleep(Duration::from_secs(10)).await;
            let settled = messages::counter_total(&wallet_b, &b).await.unwrap();
            println!(
                "{}",
                serde_json::json!({
                    "bench": "message_throughput",
                    "messages": options.burst,
                    "senders": options.senders,
                    "sending_s": sending,
                    "all_delivered_s": seconds,
                    "per_minute": options.burst as f64 / seconds * 60.0,
                    "delivered_exactly_once": settled == target,
                })
            );
        }
    };
    runtime.block_on(async {
        tokio::select! {
            () = bench => {}
            signal = stop_signal() => eprintln!("{signal}: stopping the devnet"),
        }
    });
    drop(devnet);
}

/// The first SIGINT or SIGTERM, by name.
async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).expect("SIGINT handler");
    let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = interrupt.recv() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    }
}
