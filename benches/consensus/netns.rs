//! Mode `netns`: `--validators` `trestle node run` processes, each on a host of its own (a Linux
//! network namespace), every link delayed `--link-ms` (± `--jitter-ms`) each way by a TCP relay
//! (this kernel has no `netem`), set up through the operator flow with the production p2p
//! profile (`trestle_node::testing::netns`). Needs root and iproute2.
//!
//! Only the latency scenario, measured once every validator has heard from every peer (the
//! production profile can take 90 s to mesh; `mesh_s` in the report): the loopback mode's driver (one transaction at a time, round-robin,
//! submit → `tx_proof` on the same validator, polled every `--poll-ms`; the client sits in the
//! root namespace, so its requests cross no delay). The same scenario then runs in the simulator
//! (`--submit one` at the same pace, the same links) and its figures are printed beside the
//! measured ones under `simulated`.

use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use jsonrpsee::http_client::HttpClientBuilder;
use serde_json::{Value, json};
use trestle_node::testing::netns::{NetnsNetwork, NetnsOptions, relay::LinkDelay};

use crate::{
    args::{Args, Mode, Submit},
    loopback::{latency, metric, wait_ready_within},
    report::{peak_rss_of, round, since_epoch},
};

/// A netns run, then the same scenario simulated.
pub(crate) fn run(args: &Args) -> anyhow::Result<Value> {
    let nanos = since_epoch(SystemTime::now()).as_nanos();
    let dir = std::env::temp_dir().join(format!("trestle-bench-netns-{nanos}"));
    let options = NetnsOptions {
        validators: args.validators,
        link: LinkDelay {
            one_way: Duration::from_millis(args.link_ms),
            jitter: Duration::from_millis(args.jitter_ms),
        },
        loss_percent: args.loss_pct,
        min_block_interval_ms: args.interval_ms,
        exe: args.exe(),
        dir: dir.clone(),
    };
    let wall = Instant::now();
    let network = NetnsNetwork::start(options).context("setting up the hosts (root needed)")?;
    network.wait_for_rpc(Duration::from_secs(60))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let outcome = runtime.block_on(async {
        let clients = (0..args.validators)
            .map(|i| {
                HttpClientBuilder::default()
                    .request_timeout(Duration::from_secs(10))
                    .build(network.rpc_url(i))
                    .context("client")
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        // Two rounds of the production profile's redial cooldown (60–90 s each) fit.
        wait_ready_within(&clients, Duration::from_secs(300)).await?;
        let mesh = wait_for_mesh(&network, args.validators).await?;
        let mut report = latency(args, &clients).await?;
        report["mesh_s"] = json!(round(mesh.as_secs_f64(), 1));
        Ok::<_, anyhow::Error>(report)
    });
    let mut report = match outcome {
        Ok(report) => report,
        Err(e) => anyhow::bail!("{e:#}{}", network.log_tails(5)),
    };
    let rss: Vec<u64> = (0..args.validators)
        .filter_map(|i| network.pid(i))
        .map(|pid| peak_rss_of(&format!("/proc/{pid}/status")))
        .collect();
    drop(network);
    let _ = std::fs::remove_dir_all(&dir);
    report["bench"] = json!("consensus");
    report["mode"] = json!("netns");
    report["delay"] = json!("TCP relay per link, bytes held link_ms (+ up to jitter_ms) each way");
    report["validators"] = json!(args.validators);
    report["link_ms"] = json!(args.link_ms);
    report["jitter_ms"] = json!(args.jitter_ms);
    report["loss_pct"] = json!(args.loss_pct);
    report["interval_ms"] = json!(args.interval_ms);
    report["tx_bytes"] = json!(args.tx_bytes);
    report["submit"] = json!("one");
    report["p2p_profile"] = json!("production");
    report["validator_peak_rss_bytes"] = json!(rss.iter().copied().max().unwrap_or(0));
    report["wall_s"] = json!(round(wall.elapsed().as_secs_f64(), 2));

    // The same scenario in the simulator: one validator per transaction, at the pace the
    // measured run submitted at (at least 1 tx/s), over the same links.
    let pace = report["txs_finalized"].as_f64().unwrap_or(1.0)
        / report["window_s"].as_f64().unwrap_or(1.0).max(1e-3);
    let mut simulated_args = args.clone();
    simulated_args.mode = Mode::Simulated;
    simulated_args.submit = Some(Submit::One);
    simulated_args.rate = (pace.round() as u64).max(1);
    simulated_args.seconds = 20;
    let simulated = crate::simulated::run(&simulated_args)?;
    report["simulated"] = json!({
        "p50_ms": simulated["p50_ms"],
        "p99_ms": simulated["p99_ms"],
        "mean_ms": simulated["mean_ms"],
        "txs_finalized": simulated["txs_finalized"],
        "rate": simulated_args.rate,
        "cycle_us": args.cycle_us,
        "seconds": simulated_args.seconds,
    });
    Ok(report)
}

/// Waits (at most 300 s) until every validator has heard from every peer (its `peers_unreached`
/// gauge is 0), so that the measurement starts on a full mesh; returns how long that took. With
/// the production profile, a validator that dialed a peer before the peer was up waits 60–90 s
/// (commonware's `peer_connection_cooldown` and its jitter) before dialing it again.
async fn wait_for_mesh(network: &NetnsNetwork, validators: usize) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let limit = Duration::from_secs(300);
    for i in 0..validators {
        let url = network.metrics_url(i);
        while metric(&url, "peers_unreached") != Some(0) {
            anyhow::ensure!(
                start.elapsed() < limit,
                "validator {i} had not heard from every peer after {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    Ok(start.elapsed())
}
