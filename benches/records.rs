//! `trestle_blockRecord` latency at a long chain: a one-validator devnet (a real `trestle node
//! run` process, on-disk storage, no block pacing) grows to `--heights` while a sequencer posts
//! one block record every few heights; then `--samples` lookups of random confirmed numbers
//! over JSON-RPC (HTTP, loopback) are timed, each with its transaction proof and its header's
//! history proof. The same lookups are timed early (at `--early` heights) to show that the cost
//! does not grow with the chain (an index, not a scan).
//!
//! `cargo bench --bench records -- --heights 100000` (prints one JSON line).

use std::{
    path::{Path, PathBuf},
    process::Child,
    time::{Duration, Instant, SystemTime},
};

use alloy_primitives::{Bytes, keccak256};
use anyhow::{Context as _, bail};
use clap::Parser;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use serde_json::{Value, json};
use trestle::devnet::{self, DevnetFile, chains::block_namespace};
use trestle_api::{SubmitRequest, TrestleApiClient as _, ValidatorKeys, authorization::authorize};
use trestle_light_client::{Namespace, Transaction, abi::BlockRecord};

/// The bench's command line.
#[derive(Debug, Parser)]
struct Args {
    /// Chain length to reach before the main measurement.
    #[arg(long, default_value_t = 100_000)]
    heights: u64,
    /// Chain length of the early measurement.
    #[arg(long, default_value_t = 1_000)]
    early: u64,
    /// Lookups timed at each length.
    #[arg(long, default_value_t = 500)]
    samples: usize,
    /// Heights between two records (about).
    #[arg(long, default_value_t = 10)]
    every: u64,
    /// Ignored (cargo bench passes `--bench`).
    #[arg(long, hide = true)]
    bench: bool,
}

/// The rollup whose records are posted (the devnet's first rollup chain id).
const ROLLUP: u64 = 901;

/// The validator process and its directory, stopped and deleted when dropped.
struct Node {
    dir: PathBuf,
    child: Child,
}

impl Drop for Node {
    fn drop(&mut self) {
        devnet::terminate(self.child.id());
        devnet::reap(&mut self.child, Duration::from_secs(15));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn record(number: u64) -> BlockRecord {
    BlockRecord {
        chainId: ROLLUP,
        number,
        hash: keccak256(number.to_be_bytes()),
        parentHash: keccak256(number.wrapping_sub(1).to_be_bytes()),
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let stamp = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH)?.as_nanos();
    let dir = std::env::temp_dir().join(format!("trestle-bench-records-{stamp}"));
    let file = devnet::init_with(&dir, 1, 0, false).context("devnet files")?;
    let exe = Path::new(env!("CARGO_BIN_EXE_trestle"));
    let child = devnet::spawn_validator(exe, &file.validators[0])?;
    let node = Node { dir, child };
    let runtime = tokio::runtime::Runtime::new()?;
    let result = runtime.block_on(drive(&args, &file, &node.dir));
    drop(node);
    let line = result?;
    // The JSON line is the bench's output.
    #[allow(clippy::print_stdout)]
    {
        println!("{line}");
    }
    Ok(())
}

async fn drive(args: &Args, file: &DevnetFile, dir: &Path) -> anyhow::Result<Value> {
    let client = HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(10))
        .build(&file.validators[0].rpc_url)?;
    let owner = ValidatorKeys::load(&devnet::relayer_key_path(dir))?;
    let namespace = Namespace(block_namespace(ROLLUP));
    let started = Instant::now();
    let mut posted = 0u64;
    let mut early = None;
    let mut reported = Instant::now();
    loop {
        let Ok(height) = client.block_height().await else {
            if started.elapsed() > Duration::from_secs(60) && posted == 0 {
                bail!("the validator does not answer");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        // One record per `every` heights, posted in order.
        while posted < height / args.every.max(1) {
            let next = posted + 1;
            let tx = Transaction::new(namespace, record(next).encode());
            let authorization = authorize(&owner.consensus, &tx);
            let request = SubmitRequest {
                namespace: namespace.get(),
                payload: tx.payload.clone(),
                authorization: Some(Bytes::copy_from_slice(authorization.as_ref())),
            };
            match client.submit(request).await {
                Ok(_) => posted = next,
                Err(error) => {
                    eprintln!("record {next}: {error}");
                    break;
                }
            }
        }
        if early.is_none() && height >= args.early {
            early = Some(measure(&client, namespace, args.samples, height).await?);
        }
        if height >= args.heights {
            break;
        }
        if reported.elapsed() > Duration::from_secs(30) {
            reported = Instant::now();
            eprintln!("height {height}, {posted} records posted, {:?}", started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let height = client.block_height().await?;
    let late = measure(&client, namespace, args.samples, height).await?;
    Ok(json!({
        "bench": "block_record_lookup",
        "heights": height,
        "records": posted,
        "build_s": started.elapsed().as_secs(),
        "early": early,
        "late": late,
    }))
}

/// Times `samples` lookups of pseudo-random confirmed numbers (every answer checked).
async fn measure(
    client: &HttpClient,
    namespace: Namespace,
    samples: usize,
    height: u64,
) -> anyhow::Result<Value> {
    let summary = client.record_namespace(namespace.get()).await?;
    let range = summary.confirmed.context("no record confirmed yet")?;
    let span = range.last - range.first + 1;
    let mut times = Vec::with_capacity(samples);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..samples {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let number = range.first + state % span;
        let started = Instant::now();
        let found = client.block_record(namespace.get(), number, None).await?;
        times.push(started.elapsed());
        let found = found.with_context(|| format!("record {number} not found"))?;
        if found.record.hash != record(number).hash {
            bail!("record {number} answered with the wrong hash");
        }
    }
    times.sort();
    let ms = |d: Duration| (d.as_secs_f64() * 1_000_000.0).round() / 1_000.0;
    let mean = times.iter().sum::<Duration>() / u32::try_from(times.len().max(1))?;
    Ok(json!({
        "height": height,
        "confirmed": [range.first, range.last],
        "samples": times.len(),
        "p50_ms": ms(times[times.len() / 2]),
        "p99_ms": ms(times[times.len() * 99 / 100]),
        "mean_ms": ms(mean),
        "max_ms": ms(times[times.len() - 1]),
    }))
}
