//! Scenario `chaos` (loopback mode): kill -9 validators while transactions pour in, and count
//! the accepted transactions the network then does not have.
//!
//! For `--seconds`, transactions are submitted at `--rate` per second, each to a random
//! validator that is up; whenever no validator is down, the one that accepted the latest
//! transaction is killed with SIGKILL right after its answer (the harshest moment: nothing of
//! that transaction is durable yet but its gossip to the peers), kept down for 1–3 s, then
//! restarted. At most one validator is down at a time (f = 1 of 4). Afterwards every validator
//! is up, the network is given time to finalize, and each accepted transaction is looked up
//! (`trestle_txProof`): the report's `lost` is how many the network never finalized. Before
//! mempool gossip this lost 23 of 348 in 2 minutes (issue 14); the goal is 0.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use jsonrpsee::http_client::HttpClient;
use serde_json::{Value, json};
use trestle::devnet::{self, DevnetFile};
use trestle_api::TrestleApiClient as _;
use trestle_light_client::B256;

use crate::{args::Args, loopback::Processes};

/// A small deterministic generator (xorshift64*): which validator, how long down.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Starts validator `index` again and waits (at most 60 s) until it answers.
async fn restart(
    processes: &mut Processes,
    file: &DevnetFile,
    exe: &Path,
    client: &HttpClient,
    index: usize,
) -> anyhow::Result<()> {
    processes.children[index] = devnet::spawn_validator(exe, &file.validators[index])?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while client.block_height().await.is_err() {
        anyhow::ensure!(Instant::now() < deadline, "validator {index} did not restart");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Runs the chaos scenario over `processes` (the devnet `file`'s validators, started by `exe`).
pub(crate) async fn run(
    args: &Args,
    processes: &mut Processes,
    file: &DevnetFile,
    exe: &Path,
) -> anyhow::Result<Value> {
    let clients = crate::loopback::clients(file, Duration::from_secs(5))?;
    let n = clients.len();
    anyhow::ensure!(n >= 4, "chaos needs at least 4 validators (one down at a time)");
    crate::loopback::wait_ready(&clients).await?;
    // The validator down (at most one), the one that accepted the latest transaction, and
    // every accepted transaction.
    let mut down: Option<usize> = None;
    let mut last_acceptor: Option<usize> = None;
    let mut accepted: Vec<B256> = Vec::new();
    // For each accepted transaction: its counter (to rebuild it) and whether its validator
    // was killed right after accepting it.
    let mut origin: std::collections::HashMap<B256, (u64, bool)> = Default::default();
    let window = Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut dice = Dice(args.seed.max(1));
    let mut kills = 0u64;
    let mut refused = 0u64;
    let period = Duration::from_secs_f64(1.0 / args.rate.max(1) as f64);
    let mut counter = 0u64;
    let mut down_until: Option<(usize, Instant)> = None;
    // The highest finalized height seen, since when, and the longest wait for a higher one.
    let (mut highest, mut highest_at, mut longest_stall) = (0u64, Instant::now(), Duration::ZERO);
    while started.elapsed() < window {
        // Restart a validator whose time is up, and wait for it to answer.
        if let Some((index, until)) = down_until
            && Instant::now() >= until
        {
            restart(processes, file, exe, &clients[index], index).await?;
            down = None;
            down_until = None;
        }
        // Submit one transaction to a random validator that is up.
        let mut target = dice.below(n);
        if Some(target) == down {
            target = (target + 1) % n;
        }
        counter += 1;
        let request = crate::loopback::request(counter, args.tx_bytes);
        match clients[target].submit(request).await {
            Ok(hash) => {
                accepted.push(hash);
                origin.insert(hash, (counter, false));
                last_acceptor = Some(target);
            }
            Err(_) => refused += 1,
        }
        if let Ok(height) = clients[target].block_height().await
            && height > highest
        {
            longest_stall = longest_stall.max(highest_at.elapsed());
            (highest, highest_at) = (height, Instant::now());
        }
        // No validator down: kill the one that just accepted, at once.
        if down_until.is_none()
            && let Some(victim) = last_acceptor
        {
            let child = &mut processes.children[victim];
            let _ = child.kill();
            let _ = child.wait();
            kills += 1;
            if let Some(last) = accepted.last()
                && let Some(entry) = origin.get_mut(last)
            {
                entry.1 = true;
            }
            down = Some(victim);
            let pause = Duration::from_millis(1_000 + dice.next() % 2_000);
            down_until = Some((victim, Instant::now() + pause));
        }
        tokio::time::sleep(period).await;
    }
    longest_stall = longest_stall.max(highest_at.elapsed());
    // Everyone back up.
    if let Some((index, _)) = down_until {
        restart(processes, file, exe, &clients[index], index).await?;
    }
    // Give the network time to finalize what its mempools hold (blocks are 64 transactions at
    // most, a few hundred a second), then look every accepted transaction up.
    // A transaction is lost if no validator has it; one some validator lacks but another has
    // is counted apart (a validator that cannot prove what the network finalized).
    // Found only in a lookup pass that started after the first 30 s: transactions that were
    // pending long, not lost; the settling stops at 90 s.
    let settle_start = Instant::now();
    let settle = settle_start + Duration::from_secs(90);
    let mut found_late = 0usize;
    let mut unproven: Vec<B256> = accepted.clone();
    let mut missing_on = vec![0usize; n];
    let mut lost: Vec<B256> = Vec::new();
    while !unproven.is_empty() {
        let before = unproven.len();
        let late = settle_start.elapsed() > Duration::from_secs(30);
        let mut still = Vec::new();
        missing_on = vec![0; n];
        lost.clear();
        for hash in unproven {
            let mut found_on = 0;
            for (i, client) in clients.iter().enumerate() {
                if client.tx_proof(hash).await.ok().flatten().is_some() {
                    found_on += 1;
                } else {
                    missing_on[i] += 1;
                }
            }
            if found_on < n {
                still.push(hash);
            }
            if found_on == 0 {
                lost.push(hash);
            }
        }
        if late {
            found_late += before - still.len();
        }
        unproven = still;
        if unproven.is_empty() || Instant::now() >= settle {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let victim_accepted =
        lost.iter().filter(|hash| origin.get(*hash).is_some_and(|(_, victim)| *victim)).count();
    Ok(json!({
        "lost_accepted_by_a_killed_validator": victim_accepted,
        "found_after_30s": found_late,
        "longest_stall_ms": longest_stall.as_millis() as u64,
        "highest_height": highest,
        "scenario": "chaos",
        "seconds": args.seconds,
        "rate": args.rate,
        "kills": kills,
        "accepted": accepted.len(),
        "refused": refused,
        "lost": lost.len(),
        "missing_on_validator": missing_on,
        "lost_hashes": lost.iter().take(10).map(|h| h.to_string()).collect::<Vec<_>>(),
    }))
}
