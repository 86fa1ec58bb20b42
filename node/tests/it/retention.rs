//! Retention: validators that keep only recent full blocks prune the older ones, keep every
//! header, restart from their index, and keep finalizing beside an archival one.

use std::{collections::BTreeMap, num::NonZeroU64, time::Duration};

use commonware_runtime::{Clock as _, Runner as _, deterministic};
use trestle_light_client::Height;
use trestle_node::{
    application::{
        Pruned,
        retention::{MIN_RETENTION, PRUNE_STEP},
    },
    testing::simulated::{Cluster, ClusterConfig, clean_link},
};

use crate::common::{runner, submit_held, tx};

#[test]
fn pruning_validators_drop_old_blocks_keep_headers_and_restart() {
    runner(61, Duration::from_secs(1_800)).start(|context: deterministic::Context| async move {
        let retention = NonZeroU64::new(MIN_RETENTION).expect("non-zero");
        let config = ClusterConfig {
            // Validator 0 is archival; 1, 2 and 3 keep the last MIN_RETENTION heights.
            retention: BTreeMap::from([(1, retention), (2, retention), (3, retention)]),
            ..ClusterConfig::new(4, clean_link())
        };
        let mut cluster = Cluster::start(&context, config).await;
        let all = [0, 1, 2, 3];
        // A transaction finalized early: its block will be pruned on validators 1 to 3.
        let mailbox = |i: usize| cluster.nodes[i].as_ref().expect("running").mailbox.clone();
        let early = submit_held(&mailbox(0), tx(7, b"finalized early")).await.expect("held");
        let included_at = loop {
            if let Some(height) = mailbox(1).transaction_height(early).await {
                break height;
            }
            context.sleep(Duration::from_millis(50)).await;
        };
        // Past the window and two prune steps.
        let target = MIN_RETENTION + 2 * PRUNE_STEP + 16;
        cluster.wait_for(&context, &all, target, Duration::from_secs(1_200)).await;
        let tip = cluster.height(1).await;
        for i in 1..4 {
            let node = mailbox(i);
            // The oldest full blocks are gone (marshal prunes whole sections) ...
            assert!(node.block(Height(1)).await.is_none(), "validator {i} kept block 1");
            // ... every header is kept, and so is every block of the window.
            assert!(node.header(Height(1)).await.is_some(), "validator {i} lost header 1");
            // ... so a pruned block is told from an unknown one (the RPC's PRUNED code), for
            // blocks and for the transactions in them.
            assert_eq!(node.block_at(Height(1)).await, Err(Pruned { height: Height(1) }));
            assert_eq!(node.block_at(Height(tip + 100)).await, Ok(None));
            assert_eq!(
                node.transaction(early).await.map(|found| found.is_some()),
                Err(Pruned { height: included_at }),
                "validator {i}"
            );
            for h in (tip + 1 - MIN_RETENTION)..=tip {
                assert!(node.block(Height(h)).await.is_some(), "validator {i} lost block {h}");
            }
        }
        // The archival validator keeps everything.
        let archival = mailbox(0);
        for h in [1, 2, PRUNE_STEP, tip / 2] {
            assert!(archival.block(Height(h)).await.is_some(), "archival lost block {h}");
        }
        let found = archival.transaction(early).await.expect("not pruned").expect("finalized");
        assert_eq!(found.block.header().height, included_at);
        // A pruning validator restarts from its index (it never needs a pruned block) and
        // finalizes on with the others.
        cluster.crash(2).await;
        cluster.start_node(&context, 2).await;
        let restarted = cluster.height(2).await;
        assert!(restarted >= tip, "restored at {restarted}, had {tip}");
        let next = cluster.height(0).await + 20;
        cluster.wait_for(&context, &all, next, Duration::from_secs(300)).await;
        cluster.assert_agreement().await;
    });
}
