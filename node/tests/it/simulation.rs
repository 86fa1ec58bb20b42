//! Agreement, liveness, partitions, determinism, crash recovery, a Byzantine proposer, and
//! availability of erasure-coded blocks with f validators crashed.

use std::{collections::HashMap, time::Duration};

use commonware_runtime::{Clock as _, Runner as _, deterministic};
use trestle_light_client::{B256, Height};

use commonware_cryptography::Digestible as _;
use trestle_api::authorization::authorize;
use trestle_light_client::Transaction;
use trestle_node::{BlockTransaction, SubmitError};

use trestle_node::testing::{
    OWNED_NAMESPACE,
    faults::RogueSigner,
    owner_keys,
    simulated::{Cluster, ClusterConfig, clean_link as clean, lossy_link as lossy},
};

use crate::common::{runner, submit_held, tx};

/// Simulated time a scenario may take before the runtime gives up.
const TIMEOUT: Duration = Duration::from_secs(600);

/// Submits `count` transactions round-robin to the running validators.
async fn submit_some(cluster: &Cluster, tag: u8, count: usize) -> Vec<B256> {
    let mailboxes: Vec<_> = cluster.running().map(|(_, m)| m.clone()).collect();
    let mut hashes = Vec::new();
    for k in 0..count {
        let mailbox = &mailboxes[k % mailboxes.len()];
        let hash = submit_held(mailbox, tx(1 + (k % 3) as u64, &[tag, k as u8]))
            .await
            .expect("submission accepted");
        hashes.push(hash);
    }
    hashes
}

/// Submits one transaction to the owned namespace, signed by its owner, to validator 0, after
/// checking that an unsigned one is refused.
async fn submit_owned(cluster: &Cluster, tag: u8) -> B256 {
    let mailbox = &cluster.nodes[0].as_ref().expect("running").mailbox;
    let transaction = Transaction::new(OWNED_NAMESPACE, vec![tag; 8]);
    let unsigned = BlockTransaction::unowned(transaction.clone());
    assert_eq!(
        mailbox.submit(unsigned).await,
        Err(SubmitError::MissingAuthorization(OWNED_NAMESPACE.get()))
    );
    let signature = authorize(&owner_keys().consensus, &transaction);
    submit_held(mailbox, BlockTransaction { transaction, authorization: Some(signature) })
        .await
        .expect("authorized submission accepted")
}

/// Counts how often each transaction is finalized on validator `i`'s chain up to `to`.
async fn finalized_counts(cluster: &Cluster, i: usize, to: u64) -> HashMap<B256, u32> {
    let mailbox = &cluster.nodes[i].as_ref().expect("running").mailbox;
    let mut seen: HashMap<B256, u32> = HashMap::new();
    for h in 1..=to {
        let block = mailbox.block(Height(h)).await.expect("finalized block");
        assert_eq!(block.header(), &mailbox.header(Height(h)).await.expect("header"));
        for t in block.transactions() {
            *seen.entry(t.transaction.hash()).or_default() += 1;
        }
    }
    seen
}

/// Waits until every transaction in `hashes` is finalized on validator `i`, then checks that
/// each appears exactly once (gossip puts it in every mempool; it must still be included once).
async fn assert_included_once(
    context: &deterministic::Context,
    cluster: &Cluster,
    i: usize,
    hashes: &[B256],
) {
    let start = context.current();
    loop {
        let height = cluster.height(i).await;
        let seen = finalized_counts(cluster, i, height).await;
        if hashes.iter().all(|h| seen.contains_key(h)) {
            for hash in hashes {
                assert_eq!(seen.get(hash), Some(&1), "transaction {hash} finalized twice");
            }
            return;
        }
        let waited = context.current().duration_since(start).unwrap_or_default();
        assert!(waited < Duration::from_secs(120), "transactions not finalized within 120 s");
        context.sleep(Duration::from_millis(500)).await;
    }
}

/// N validators on lossy links: all finalize the same chain, past height 20, and include every
/// submitted transaction once.
fn agreement_and_liveness(seed: u64, n: usize, target: u64) -> Vec<B256> {
    runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
        let cluster = Cluster::start(&context, ClusterConfig::new(n, lossy())).await;
        let all: Vec<usize> = (0..n).collect();
        cluster.wait_for(&context, &all, 3, Duration::from_secs(60)).await;
        let mut hashes = submit_some(&cluster, seed as u8, 24).await;
        hashes.push(submit_owned(&cluster, seed as u8).await);
        cluster.wait_for(&context, &all, target, Duration::from_secs(300)).await;
        assert_included_once(&context, &cluster, 0, &hashes).await;
        let chain = cluster.assert_agreement().await;
        let elapsed = context.current().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        eprintln!(
            "seed {seed} n {n}: {} heights finalized in {elapsed:?} simulated",
            chain.len() - 1
        );
        chain
    })
}

#[test]
fn four_validators_agree_and_stay_live_on_lossy_links() {
    for seed in 1..=10 {
        let chain = agreement_and_liveness(seed, 4, 40);
        assert!(chain.len() > 40);
    }
}

#[test]
fn seven_validators_agree_on_lossy_links() {
    for seed in 100..105 {
        let chain = agreement_and_liveness(seed, 7, 25);
        assert!(chain.len() > 25);
    }
}

#[test]
fn same_seed_same_chain() {
    let run = |seed| {
        runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
            let cluster = Cluster::start(&context, ClusterConfig::new(4, lossy())).await;
            cluster.wait_for(&context, &[0, 1, 2, 3], 10, Duration::from_secs(120)).await;
            let chain = cluster.assert_agreement().await;
            (chain, context.auditor().state())
        })
    };
    let (a, audit_a) = run(11);
    let (b, audit_b) = run(11);
    assert_eq!(a, b, "same seed finalized different headers");
    assert_eq!(audit_a, audit_b, "same seed, different execution");
    let (c, _) = run(12);
    assert_ne!(a[1..], c[1..c.len().min(a.len())], "different seeds should differ (timestamps)");
}

#[test]
fn partition_halts_then_heals() {
    for seed in 21..=25 {
        runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
            let mut cluster = Cluster::start(&context, ClusterConfig::new(4, clean())).await;
            let all = [0, 1, 2, 3];
            cluster.wait_for(&context, &all, 5, Duration::from_secs(60)).await;
            // Two against two: neither side has a quorum (3 of 4).
            cluster.partition(|i| i < 2).await;
            context.sleep(Duration::from_secs(2)).await;
            let mut before = 0;
            for i in all {
                before = before.max(cluster.height(i).await);
            }
            context.sleep(Duration::from_secs(20)).await;
            for i in all {
                assert!(cluster.height(i).await <= before, "progress without a quorum");
            }
            // Heal.
            cluster.link_all(clean()).await;
            cluster.wait_for(&context, &all, before + 10, Duration::from_secs(120)).await;
            cluster.assert_agreement().await;
        });
    }
}

#[test]
fn crashed_validator_restarts_from_storage_and_catches_up() {
    for seed in 31..=35 {
        runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
            let mut cluster = Cluster::start(&context, ClusterConfig::new(4, lossy())).await;
            cluster.wait_for(&context, &[0, 1, 2, 3], 5, Duration::from_secs(60)).await;
            let old = cluster.nodes[3].as_ref().expect("running").mailbox.clone();
            cluster.crash(3).await;
            // Every actor of the crashed validator is gone (its mailbox is closed).
            assert!(old.status().await.is_none(), "crashed validator still answers");
            // What the crashed validator had processed (marshal acks after the application).
            let crashed_at = 5;
            // The other three (a quorum) keep finalizing.
            cluster.wait_for(&context, &[0, 1, 2], crashed_at + 15, Duration::from_secs(120)).await;
            cluster.start_node(&context, 3).await;
            // It replays its own finalized chain from storage before serving anything.
            let recovered = cluster.height(3).await;
            assert!(recovered >= crashed_at, "restarted at {recovered}, had {crashed_at}");
            let target = cluster.height(0).await + 5;
            cluster.wait_for(&context, &[0, 1, 2, 3], target, Duration::from_secs(180)).await;
            cluster.assert_agreement().await;
        });
    }
}

#[test]
fn byzantine_proposer_is_rejected_and_chain_progresses() {
    for seed in 41..=45 {
        runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
            let cluster = Cluster::start(
                &context,
                ClusterConfig { byzantine: vec![2], ..ClusterConfig::new(4, lossy()) },
            )
            .await;
            let all = [0, 1, 2, 3];
            cluster.wait_for(&context, &all, 25, Duration::from_secs(240)).await;
            // assert_agreement checks every finalized header against the rules, so no
            // corrupted block was finalized.
            let chain = cluster.assert_agreement().await;
            let forged = cluster.forged.lock().expect("lock").clone();
            assert!(!forged.is_empty(), "the Byzantine validator never led a view");
            assert!(forged.iter().all(|f| !chain.contains(f)), "a forged block was finalized");
        });
    }
}

#[test]
fn whole_network_restarts_from_storage() {
    for seed in 51..=53 {
        runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
            let mut cluster = Cluster::start(&context, ClusterConfig::new(4, lossy())).await;
            let all = [0, 1, 2, 3];
            cluster.wait_for(&context, &all, 8, Duration::from_secs(60)).await;
            let before = cluster.assert_agreement().await;
            for i in all {
                cluster.crash(i).await;
            }
            context.sleep(Duration::from_secs(5)).await;
            for i in all {
                cluster.start_node(&context, i).await;
            }
            for i in all {
                assert!(cluster.height(i).await >= 8, "validator {i} lost its finalized chain");
            }
            cluster.wait_for(&context, &all, 20, Duration::from_secs(180)).await;
            let after = cluster.assert_agreement().await;
            assert_eq!(after[..before.len()], before[..], "finalized history changed");
        });
    }
}

/// Two of four validators sign nothing (no signatures actor): consensus goes on, but the
/// running validators' own signatures are no quorum, and the agreement check must say so
/// rather than skip the quorum check.
#[test]
#[should_panic(expected = "no quorum")]
fn agreement_check_fails_without_a_quorum_of_signatures() {
    runner(61, TIMEOUT).start(|context: deterministic::Context| async move {
        let mut config = ClusterConfig::new(4, lossy());
        let silent: RogueSigner = std::sync::Arc::new(|_, _, _| {});
        config.rogue_signers = [(2, silent.clone()), (3, silent)].into_iter().collect();
        let cluster = Cluster::start(&context, config).await;
        cluster.wait_for(&context, &[0, 1, 2, 3], 5, Duration::from_secs(120)).await;
        cluster.assert_agreement().await;
    });
}

/// Digests of validator `i`'s finalized blocks `0..=to`, read back from its archive.
async fn archived_digests(cluster: &Cluster, i: usize, to: u64) -> Vec<B256> {
    let mailbox = &cluster.nodes[i].as_ref().expect("running").mailbox;
    let mut digests = Vec::new();
    for h in 0..=to {
        let Some(block) = mailbox.block(Height(h)).await else {
            panic!("validator {i} does not serve block {h}")
        };
        digests.push(B256::from(block.digest().0));
    }
    digests
}

/// Blocks travel as erasure-coded shards (any f + 1 of the n rebuild one). With f of 7
/// validators crashed (f = 2), the other five still rebuild every block from their shards,
/// finalize it with its transactions and serve it from their archives; the crashed two,
/// restarted, catch up from their peers and serve the same blocks.
#[test]
fn with_f_validators_crashed_every_block_is_rebuilt_and_served() {
    for seed in 51..=53 {
        runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
            let mut cluster = Cluster::start(&context, ClusterConfig::new(7, lossy())).await;
            let all: Vec<usize> = (0..7).collect();
            cluster.wait_for(&context, &all, 3, Duration::from_secs(60)).await;
            cluster.crash(5).await;
            cluster.crash(6).await;
            // Payloads near the test limit (1 KiB), so that blocks span several shards.
            let mailboxes: Vec<_> = cluster.running().map(|(_, m)| m.clone()).collect();
            let mut hashes = Vec::new();
            for k in 0..20u8 {
                let payload = vec![k ^ seed as u8; 512 + 25 * usize::from(k)];
                let mailbox = &mailboxes[usize::from(k) % mailboxes.len()];
                let hash = submit_held(mailbox, tx(1 + u64::from(k % 3), &payload))
                    .await
                    .expect("submission accepted");
                hashes.push(hash);
            }
            let up = [0, 1, 2, 3, 4];
            let target = cluster.height(0).await + 15;
            cluster.wait_for(&context, &up, target, Duration::from_secs(300)).await;
            assert_included_once(&context, &cluster, 0, &hashes).await;
            let mut tip = u64::MAX;
            for i in up {
                tip = tip.min(cluster.height(i).await);
            }
            let served = archived_digests(&cluster, 0, tip).await;
            for i in up {
                assert_eq!(archived_digests(&cluster, i, tip).await, served, "validator {i}");
            }
            // Each running validator rebuilt most blocks from shards (it proposed only some
            // itself), and no reconstruction failed.
            let metrics = commonware_runtime::Metrics::encode(&context);
            let values = |name: &str| -> Vec<f64> {
                metrics
                    .lines()
                    .filter(|l| !l.starts_with('#') && l.contains(name))
                    .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                    .collect()
            };
            let rebuilt = values("shards_blocks_reconstructed_total");
            assert!(rebuilt.len() >= up.len(), "{rebuilt:?}");
            assert!(rebuilt.iter().filter(|&&n| n >= 10.0).count() >= up.len(), "{rebuilt:?}");
            assert!(values("shards_reconstruction_failures_total").iter().all(|&n| n == 0.0));
            cluster.start_node(&context, 5).await;
            cluster.start_node(&context, 6).await;
            cluster.wait_for(&context, &all, tip + 5, Duration::from_secs(300)).await;
            for i in [5, 6] {
                assert_eq!(archived_digests(&cluster, i, tip).await, served, "restarted {i}");
            }
            cluster.assert_agreement().await;
        });
    }
}
