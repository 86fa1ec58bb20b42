//! A validator set that changes: the stake table on a scripted L1 that every node follows, the
//! committee two epochs on decided at each epoch's end, joiners that follow until their epoch
//! and then vote, a validator that leaves and keeps following, a joiner that is offline when
//! its epoch starts, an L1 nobody can read for a while (the committee is carried forward), and
//! a Byzantine proposer whose L1 references are never accepted.

use std::time::Duration;

use commonware_codec::Encode as _;
use commonware_cryptography::Signer as _;
use commonware_runtime::{Clock as _, Runner as _, deterministic};
use trestle_light_client::{B256, Height, epoch, stake::StakeTableEvent};
use trestle_node::{
    l1::scripted::{ScriptedL1, TEST_STAKE_TABLE, registered, test_account},
    testing::{
        TestGenesis, TestNetwork,
        faults::{FORGED_L1_HASH, Forgery},
        simulated::{Cluster, ClusterConfig, clean_link},
    },
};

use crate::common::runner;

/// Simulated time a scenario may take before the runtime gives up.
const TIMEOUT: Duration = Duration::from_secs(1_200);

/// The longest one step of a scenario may take (simulated time).
const WAIT: Duration = Duration::from_secs(300);

/// Heights per epoch.
const EPOCH: u64 = 8;

/// Genesis validators (0..4); nodes 4, 5 and 6 start outside the genesis.
const GENESIS: usize = 4;

/// Node `i`'s registration with `stake`.
fn registration(network: &TestNetwork, i: usize, stake: u128) -> StakeTableEvent {
    let address = format!("10.0.0.{}:9000", i + 1);
    registered(&TEST_STAKE_TABLE, &network.keys[i], test_account(i), &address, stake)
}

/// Whether the committee of `height`'s epoch seats node `i`.
async fn seats(cluster: &Cluster, height: u64, i: usize) -> bool {
    let key = B256::from_slice(&cluster.config.network.keys[i].consensus.public_key().encode());
    cluster.committee_of(height).await.slot_of(&key).is_some()
}

/// Waits until the finalized chain of the running nodes `which` reaches an epoch whose
/// committee satisfies `holds` (checked epoch by epoch from `from`); returns its first height.
async fn wait_for_committee(
    context: &deterministic::Context,
    cluster: &Cluster,
    which: &[usize],
    from: u64,
    holds: impl AsyncFn(u64) -> bool,
) -> u64 {
    let length = cluster.params().epoch_length;
    let start = epoch::epoch_of(Height(from), length).get();
    for epoch in start..start + 12 {
        let first = epoch * EPOCH;
        cluster.wait_for(context, which, first + 1, WAIT).await;
        if holds(first).await {
            return first;
        }
    }
    panic!("no epoch from height {from} on has the expected committee");
}

#[test]
fn validators_join_and_leave_through_the_stake_table() {
    for seed in [1, 2] {
        runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
            let network = TestGenesis {
                epoch_length: Some(EPOCH),
                capacity: 8,
                extra: 3,
                stake_table: true,
                ..TestGenesis::new(GENESIS)
            }
            .build();
            // The genesis validators are registered from L1 block 1 on.
            let l1 = ScriptedL1::new();
            l1.push(Vec::new());
            l1.push((0..GENESIS).map(|i| registration(&network, i, 100)).collect());
            // Validator 2 lies about L1 in every block it proposes.
            let config = ClusterConfig {
                network: network.clone(),
                l1: Some(l1.clone()),
                byzantine: vec![2],
                forgery: Forgery::L1Reference,
                ..ClusterConfig::new(GENESIS, clean_link())
            };
            let mut cluster = Cluster::start(&context, config).await;
            // Node 5 registers but is offline when its epoch comes.
            cluster.crash(5).await;
            cluster.wait_for(&context, &[0, 1, 2, 3, 4, 6], 2 * EPOCH + 2, WAIT).await;
            // Epoch 2's committee comes from the stake table: the same four validators.
            for i in 0..GENESIS {
                assert!(seats(&cluster, 2 * EPOCH, i).await, "validator {i} seated in epoch 2");
            }
            assert!(!seats(&cluster, 2 * EPOCH, 4).await);

            // Nodes 4 and 5 join (with more stake than anyone), validator 2 (the Byzantine
            // proposer) leaves. Were it to stay, the committee of five would hold two faults
            // while node 5 is offline, one more than f = 1: with coded dissemination a
            // Byzantine leader's block is notarized on valid shards before it fails
            // certification, and its author's finalize vote then withholds the nullification.
            let from = cluster.height(1).await;
            l1.push(vec![
                registration(&network, 4, 300),
                registration(&network, 5, 200),
                StakeTableEvent::Deregistered { account: test_account(2) },
            ]);
            let online = [0, 1, 2, 3, 4, 6];
            let rotated = wait_for_committee(&context, &cluster, &online, from, async |h| {
                seats(&cluster, h, 4).await
            })
            .await;
            assert!(seats(&cluster, rotated, 5).await, "node 5 joined with node 4");
            assert!(!seats(&cluster, rotated, 2).await, "validator 2 left");
            assert!(!seats(&cluster, rotated, 6).await, "node 6 never registered");
            // Four of the five members run (5 is offline): a quorum. Node 4 votes and signs;
            // validator 2 and node 6 follow.
            let target = rotated + EPOCH + 2;
            cluster.wait_for(&context, &online, target, WAIT).await;
            cluster.assert_agreement().await;
            // Followers collect the members' signatures too (what their RPC serves): a quorum
            // of the rotated committee on the epoch's first state.
            for follower in [2, 6] {
                let Some(node) = &cluster.nodes[follower] else { panic!("{follower} runs") };
                let Some(signatures) = &node.signatures else { panic!("it runs the actor") };
                let mut quorum = None;
                for _ in 0..100 {
                    quorum = signatures.quorum(Height(rotated)).await;
                    if quorum.is_some() {
                        break;
                    }
                    context.sleep(Duration::from_millis(100)).await;
                }
                let Some((state, _)) = quorum else {
                    panic!("follower {follower} holds no quorum at {rotated}")
                };
                assert_eq!(state.height, Height(rotated));
            }

            // The offline joiner comes back, catches up, and votes in its committee.
            cluster.start_node(&context, 5).await;
            let target = cluster.height(1).await + 2 * EPOCH;
            let all = [0, 1, 2, 3, 4, 5, 6];
            cluster.wait_for(&context, &all, target, WAIT).await;
            cluster.assert_agreement().await;

            // L1 goes dark for a while: node 6 registers, nobody sees it, the chain goes on and
            // the committee is carried forward.
            l1.set_failing(true);
            l1.push(vec![registration(&network, 6, 400)]);
            let dark = cluster.height(1).await;
            cluster.wait_for(&context, &all, dark + 3 * EPOCH, WAIT).await;
            let during = epoch::epoch_of(Height(dark), cluster.params().epoch_length).get() + 2;
            assert!(!seats(&cluster, during * EPOCH, 6).await, "an unreadable L1 seats no one");
            assert_eq!(
                cluster.committee_of(during * EPOCH).await,
                cluster.committee_of(rotated).await,
                "the committee is carried forward while L1 is dark"
            );
            // L1 is back: node 6 is seated two epoch ends later.
            l1.set_failing(false);
            let back = cluster.height(1).await;
            let seated = wait_for_committee(&context, &cluster, &all, back, async |h| {
                seats(&cluster, h, 6).await
            })
            .await;
            cluster.wait_for(&context, &all, seated + EPOCH, WAIT).await;
            cluster.assert_agreement().await;

            // The Byzantine proposer's L1 references never made it into the chain.
            assert!(!cluster.forged.lock().expect("forged").is_empty(), "validator 2 proposed");
            let Some((_, mailbox)) = cluster.running().next() else { panic!("running") };
            for h in 0..=cluster.height(1).await {
                let block = mailbox.block(Height(h)).await.expect("finalized block");
                assert_ne!(block.succession().l1.hash, FORGED_L1_HASH, "a forged reference at {h}");
            }
        });
    }
}
