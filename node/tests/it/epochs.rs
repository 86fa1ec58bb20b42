//! Epoch hand-overs: one simplex engine per epoch, the boundary block re-proposed until it is
//! finalized, the next engine started on it; crashes and restarts across boundaries; a node
//! offline for several epochs catching up one epoch end at a time.

use std::time::Duration;

use commonware_runtime::{Error, Runner as _, Storage as _, deterministic};
use trestle_light_client::{Epoch, Height};
use trestle_node::testing::{
    TestGenesis,
    simulated::{Cluster, ClusterConfig, clean_link as clean, lossy_link as lossy},
};

use crate::common::{runner, tx};

/// Simulated time a scenario may take before the runtime gives up.
const TIMEOUT: Duration = Duration::from_secs(900);

/// Heights per epoch in these scenarios.
const EPOCH: u64 = 8;

/// `n` validators with epochs of [`EPOCH`] heights on `link`.
fn config(n: usize, link: commonware_p2p::simulated::Link) -> ClusterConfig {
    let network = TestGenesis { epoch_length: Some(EPOCH), ..TestGenesis::new(n) }.build();
    ClusterConfig { network, ..ClusterConfig::new(n, link) }
}

/// The epochs of validator `i`'s finalized headers `0..=to`, checked to be `height / EPOCH`.
async fn epochs_reached(cluster: &Cluster, i: usize, to: u64) -> u64 {
    let headers = cluster.headers(i, to).await;
    for header in &headers {
        assert_eq!(header.epoch, Epoch(header.height.get() / EPOCH), "epoch at {}", header.height);
    }
    headers.last().map_or(0, |h| h.epoch.get())
}

#[test]
fn consensus_hands_over_at_every_epoch_boundary() {
    for seed in 1..=3 {
        runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
            let cluster = Cluster::start(&context, config(4, lossy())).await;
            let all = [0, 1, 2, 3];
            // Transactions keep flowing across the boundaries.
            for k in 0..12u8 {
                let (_, mailbox) = cluster.running().nth(usize::from(k) % 4).expect("running");
                let _ = mailbox.submit(tx(7, &[seed as u8, k])).await;
            }
            let target = 5 * EPOCH + 2;
            cluster.wait_for(&context, &all, target, Duration::from_secs(400)).await;
            let chain = cluster.assert_agreement().await;
            assert!(epochs_reached(&cluster, 0, target).await >= 5);
            // Journals of epochs two behind are removed; the running epoch's is there.
            for old in 0..=2 {
                let journal = format!("validator-0-simplex-{old}");
                assert!(
                    matches!(context.scan(&journal).await, Err(Error::PartitionMissing(_))),
                    "{journal} is kept"
                );
            }
            let running = format!("validator-0-simplex-{}", cluster.height(0).await / EPOCH);
            assert!(!context.scan(&running).await.expect("the running epoch's journal").is_empty());
            // Every epoch's last height was finalized once, by its own epoch's engine, and the
            // next epoch began right after it (no height skipped or repeated).
            assert!(chain.len() as u64 > target);
            for i in all {
                let state = cluster.nodes[i]
                    .as_ref()
                    .expect("running")
                    .mailbox
                    .light_client_state(Height(2 * EPOCH - 1))
                    .await
                    .expect("state at an epoch end");
                assert_eq!(state.epoch, Epoch(1));
            }
        });
    }
}

#[test]
fn a_validator_offline_for_several_epochs_catches_up() {
    for seed in 11..=13 {
        runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
            let mut cluster = Cluster::start(&context, config(4, clean())).await;
            cluster.wait_for(&context, &[0, 1, 2, 3], 3, Duration::from_secs(60)).await;
            cluster.crash(3).await;
            // The other three (a quorum) go three epochs on.
            let ahead = 4 * EPOCH + 3;
            cluster.wait_for(&context, &[0, 1, 2], ahead, Duration::from_secs(300)).await;
            cluster.start_node(&context, 3).await;
            // It restarts in epoch 0 and hears later epochs' traffic: each time it fetches its
            // epoch's end, and the boundary moves it on, until it votes again.
            let target = cluster.height(0).await + EPOCH;
            cluster.wait_for(&context, &[0, 1, 2, 3], target, Duration::from_secs(300)).await;
            cluster.assert_agreement().await;
            assert!(epochs_reached(&cluster, 3, target).await >= 5);
        });
    }
}

#[test]
fn the_network_restarts_right_after_a_boundary() {
    for seed in 21..=23 {
        runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
            let mut cluster = Cluster::start(&context, config(4, lossy())).await;
            let all = [0, 1, 2, 3];
            cluster.wait_for(&context, &all, EPOCH, Duration::from_secs(120)).await;
            let before = cluster.assert_agreement().await;
            for i in all {
                cluster.crash(i).await;
            }
            for i in all {
                cluster.start_node(&context, i).await;
            }
            // Each restarts the engine of the epoch after its processed height, whose journal
            // resumes where it stopped.
            cluster.wait_for(&context, &all, 3 * EPOCH + 1, Duration::from_secs(300)).await;
            let after = cluster.assert_agreement().await;
            assert_eq!(after[..before.len()], before[..], "finalized history changed");
        });
    }
}
