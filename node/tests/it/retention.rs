//! Retention: validators that keep only recent full blocks prune the older ones, keep every
//! header, restart from their index, and keep finalizing beside an archival one.

use std::{collections::BTreeMap, num::NonZeroU64, time::Duration};

use commonware_runtime::{Runner as _, deterministic};
use trestle_light_client::Height;
use trestle_node::{
    application::retention::{MIN_RETENTION, PRUNE_STEP},
    testing::simulated::{Cluster, ClusterConfig, clean_link},
};

use crate::common::runner;

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
        // Past the window and two prune steps.
        let target = MIN_RETENTION + 2 * PRUNE_STEP + 16;
        cluster.wait_for(&context, &all, target, Duration::from_secs(1_200)).await;
        let mailbox = |i: usize| cluster.nodes[i].as_ref().expect("running").mailbox.clone();
        let tip = cluster.height(1).await;
        for i in 1..4 {
            let node = mailbox(i);
            // The oldest full blocks are gone (marshal prunes whole sections) ...
            assert!(node.block(Height(1)).await.is_none(), "validator {i} kept block 1");
            // ... every header is kept, and so is every block of the window.
            assert!(node.header(Height(1)).await.is_some(), "validator {i} lost header 1");
            for h in (tip + 1 - MIN_RETENTION)..=tip {
                assert!(node.block(Height(h)).await.is_some(), "validator {i} lost block {h}");
            }
        }
        // The archival validator keeps everything.
        let archival = mailbox(0);
        for h in [1, 2, PRUNE_STEP, tip / 2] {
            assert!(archival.block(Height(h)).await.is_some(), "archival lost block {h}");
        }
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
