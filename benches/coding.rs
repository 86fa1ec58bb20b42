//! Erasure-coding cost of a block over a committee's shards (issue: the data plane at the
//! limit): what commonware's `marshal::coding` would spend per block with Reed-Solomon shards.
//!
//! For a committee of `n` validators the scheme makes `n` shards of which any `k = f + 1`
//! rebuild the block (`f = (n - 1) / 3`), as marshal's coding configuration does. Per block:
//! the leader encodes once; every validator checks its own shard against the commitment, checks
//! the `k - 1` others it needs, and rebuilds the block from `k` shards. One JSON line per
//! (committee, hasher, threads) with the median of `--runs` runs:
//!
//! ```text
//! cargo bench --bench coding -- [--mib 4] [--runs 5] [--committees 4,10,100]
//! ```
//!
//! `encode_ms`, `check_ms` (one shard), `decode_ms` (from `k` shards: the last `k`, so at least
//! one parity shard is used when `k < n`), and the bytes each side moves: `shard_bytes`, the
//! leader's uplink with shards (`n - 1` shards) against full copies (`n - 1` blocks).

#![allow(clippy::print_stdout)]

use std::{
    num::{NonZeroU16, NonZeroUsize},
    time::Instant,
};

use anyhow::Context as _;
use clap::Parser;
use commonware_codec::Encode as _;
use commonware_coding::{Config, ReedSolomon, Scheme};
use commonware_cryptography::{Keccak256, Sha256, blake3::Blake3};
use commonware_parallel::{Rayon, Sequential, Strategy};
use serde_json::json;

/// Command line.
#[derive(Parser, Debug)]
#[command(name = "coding", about = "Reed-Solomon encode / check / rebuild of a block")]
struct Args {
    /// Block payload (MiB).
    #[arg(long, default_value_t = 4)]
    mib: usize,
    /// Runs per configuration (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Committee sizes, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "4,10,100")]
    committees: Vec<u16>,
    /// Passed by `cargo bench` to `harness = false` targets; ignored.
    #[arg(long, hide = true)]
    #[allow(dead_code)]
    bench: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.runs > 0 && args.mib > 0, "runs and mib must be positive");
    // Deterministic filler: a block's payload is arbitrary bytes.
    let data: Vec<u8> =
        (0..args.mib << 20).map(|i: usize| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let rayon = Rayon::new(NonZeroUsize::new(2).context("threads")?).context("thread pool")?;
    for &n in &args.committees {
        anyhow::ensure!(n >= 4, "a committee of {n} is below marshal's coding minimum of 4");
        let f = (n - 1) / 3;
        let k = f + 1;
        let config = Config {
            minimum_shards: NonZeroU16::new(k).context("k")?,
            extra_shards: NonZeroU16::new(n - k).context("n - k")?,
        };
        measure::<ReedSolomon<Sha256>>("sha256", 1, &config, &data, args.runs, &Sequential)?;
        measure::<ReedSolomon<Sha256>>("sha256", 2, &config, &data, args.runs, &rayon)?;
        measure::<ReedSolomon<Blake3>>("blake3", 1, &config, &data, args.runs, &Sequential)?;
        measure::<ReedSolomon<Keccak256>>("keccak256", 2, &config, &data, args.runs, &rayon)?;
    }
    Ok(())
}

/// Times encode, one check and one rebuild of `data` under `config`; prints a JSON line.
fn measure<S: Scheme>(
    hasher: &str,
    threads: usize,
    config: &Config,
    data: &[u8],
    runs: usize,
    strategy: &impl Strategy,
) -> anyhow::Result<()> {
    let n = config.total_shards() as usize;
    let k = usize::from(config.minimum_shards.get());
    let (mut encode, mut check, mut decode) = (Vec::new(), Vec::new(), Vec::new());
    let mut shard_bytes = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let (commitment, shards) =
            S::encode(config, data, strategy).map_err(|e| anyhow::anyhow!("encode: {e:?}"))?;
        encode.push(started.elapsed().as_secs_f64() * 1e3);
        shard_bytes = shards[0].encode().len();

        let started = Instant::now();
        let own = S::check(config, &commitment, 0, &shards[0], strategy)
            .map_err(|e| anyhow::anyhow!("check: {e:?}"))?;
        check.push(started.elapsed().as_secs_f64() * 1e3);
        drop(own);

        // The last k shards (parity shards among them whenever k < n).
        let mut checked = Vec::with_capacity(k);
        for (index, shard) in shards.iter().enumerate().skip(n - k) {
            let index = u16::try_from(index).context("index")?;
            checked.push(
                S::check(config, &commitment, index, shard, strategy)
                    .map_err(|e| anyhow::anyhow!("check: {e:?}"))?,
            );
        }
        let started = Instant::now();
        let rebuilt = S::decode(config, &commitment, checked.iter(), strategy)
            .map_err(|e| anyhow::anyhow!("decode: {e:?}"))?;
        decode.push(started.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(rebuilt == data, "the rebuilt block differs");
    }
    let (encode, check, decode) = (median(encode), median(check), median(decode));
    let block = data.len();
    let line = json!({
        "bench": "coding",
        "scheme": "reed_solomon",
        "hasher": hasher,
        "threads": threads,
        "block_bytes": block,
        "n": n,
        "k": k,
        "encode_ms": round(encode),
        "check_ms": round(check),
        "decode_ms": round(decode),
        "validator_ms": round(check * k as f64 + decode),
        "shard_bytes": shard_bytes,
        "leader_uplink_shards_bytes": shard_bytes * (n - 1),
        "leader_uplink_full_copies_bytes": block * (n - 1),
        "encode_mib_s": round(block as f64 / (1 << 20) as f64 / (encode / 1e3)),
    });
    println!("{line}");
    Ok(())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
