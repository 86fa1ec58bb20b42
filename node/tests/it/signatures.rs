//! Light-client state signatures: gossip, verification, persistence and catch-up, with honest,
//! crashed and rogue signers.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use commonware_codec::Encode as _;
use commonware_macros::select;
use commonware_p2p::{Receiver as _, Recipients, Sender as _};
use commonware_runtime::{Clock as _, Runner as _, Spawner as _, deterministic};
use trestle_light_client::{B256, Height, StateSignature, verify_quorum};
use trestle_node::signatures::{Gossip, Wire};

use trestle_node::testing::{
    faults::RogueSigner,
    simulated::{Cluster, ClusterConfig, Pk, lossy_link as lossy},
};

use crate::common::runner;

/// Simulated time a scenario may take before the runtime gives up.
const TIMEOUT: Duration = Duration::from_secs(600);

/// Waits until validator `i` holds a quorum of signatures for every height `0..=to`.
async fn wait_for_quorums(
    context: &deterministic::Context,
    cluster: &Cluster,
    which: &[usize],
    to: u64,
    deadline: Duration,
) {
    let start = context.current();
    loop {
        let mut missing = None;
        'nodes: for &i in which {
            let signatures = cluster.nodes[i].as_ref().and_then(|n| n.signatures.clone());
            let signatures = signatures.expect("validator runs the signatures actor");
            for h in 0..=to {
                if signatures.quorum(Height(h)).await.is_none() {
                    missing = Some((i, h));
                    break 'nodes;
                }
            }
        }
        let Some((i, h)) = missing else { return };
        let elapsed = context.current().duration_since(start).unwrap_or_default();
        assert!(
            elapsed <= deadline,
            "validator {i} has no quorum at height {h} after {deadline:?}"
        );
        context.sleep(Duration::from_millis(200)).await;
    }
}

/// Checks validator `i`'s quorums at `0..=to` (against its own signed states and with
/// `verify_quorum`) and returns them.
async fn assert_quorums(cluster: &Cluster, i: usize, to: u64) -> Vec<Vec<StateSignature>> {
    let node = cluster.nodes[i].as_ref().expect("running");
    let signatures = node.signatures.as_ref().expect("signatures actor");
    let mut all = Vec::new();
    for h in 0..=to {
        let (state, quorum) = signatures.quorum(Height(h)).await.expect("quorum");
        let own = node.mailbox.light_client_state(Height(h)).await.expect("own state");
        assert_eq!(state, own, "validator {i} height {h}");
        verify_quorum(&cluster.config.network.genesis.committee, &state, &quorum)
            .expect("valid quorum");
        // Signatures may still arrive between the two queries: the listing covers the quorum.
        let listed = signatures.signatures(Height(h)).await;
        assert!(listed.is_sorted_by_key(|(slot, ..)| *slot));
        for q in &quorum {
            let key = cluster.config.network.genesis.committee.slots()[q.slot as usize].key;
            assert!(listed.contains(&(q.slot, key, q.signature)), "height {h} slot {}", q.slot);
        }
        assert!(quorum.iter().any(|s| s.slot == i as u32), "own signature at {h}");
        all.push(quorum);
    }
    all
}

/// Four validators on lossy links: every one ends up with a verifiable quorum for every
/// height. Returns the collected quorums and the execution digest.
fn every_height_gets_a_quorum(seed: u64) -> (Vec<Vec<StateSignature>>, String) {
    runner(seed, TIMEOUT).start(|context| async move {
        let cluster = Cluster::start(&context, ClusterConfig::new(4, lossy())).await;
        let target = 15;
        cluster.wait_for(&context, &[0, 1, 2, 3], target, Duration::from_secs(120)).await;
        wait_for_quorums(&context, &cluster, &[0, 1, 2, 3], target, Duration::from_secs(60)).await;
        let mut all = Vec::new();
        for i in 0..4 {
            all.push(assert_quorums(&cluster, i, target).await.concat());
        }
        (all, context.auditor().state())
    })
}

#[test]
fn every_validator_collects_a_quorum_for_every_height() {
    for seed in [1, 2, 3] {
        every_height_gets_a_quorum(seed);
    }
}

#[test]
fn same_seed_same_signatures() {
    let first = every_height_gets_a_quorum(11);
    let second = every_height_gets_a_quorum(11);
    assert_eq!(first, second);
}

#[test]
fn restarted_validator_keeps_its_signatures_and_catches_up() {
    for seed in [4, 5] {
        runner(seed, TIMEOUT).start(|context| async move {
            let mut cluster = Cluster::start(&context, ClusterConfig::new(4, lossy())).await;
            cluster.wait_for(&context, &[0, 1, 2, 3], 8, Duration::from_secs(120)).await;
            wait_for_quorums(&context, &cluster, &[3], 8, Duration::from_secs(60)).await;
            let before = {
                let signatures = cluster.nodes[3].as_ref().and_then(|n| n.signatures.clone());
                let signatures = signatures.expect("signatures actor");
                let mut before = Vec::new();
                for h in 0..=8 {
                    before.push(signatures.signatures(Height(h)).await);
                }
                before
            };

            cluster.crash(3).await;
            let height = cluster.height(0).await;
            cluster.wait_for(&context, &[0, 1, 2], height + 8, Duration::from_secs(120)).await;
            cluster.start_node(&context, 3).await;

            // Everything stored before the crash is there at once (from storage).
            let signatures = cluster.nodes[3].as_ref().and_then(|n| n.signatures.clone());
            let signatures = signatures.expect("signatures actor");
            for (h, stored) in before.iter().enumerate() {
                let now = signatures.signatures(Height(h as u64)).await;
                for entry in stored {
                    assert!(now.contains(entry), "height {h}: lost {:?} on restart", entry.0);
                }
            }

            // Heights finalized while it was down get their signatures too, and so do later ones.
            let target = cluster.height(0).await + 4;
            cluster.wait_for(&context, &[0, 1, 2, 3], target, Duration::from_secs(120)).await;
            wait_for_quorums(&context, &cluster, &[0, 1, 2, 3], target, Duration::from_secs(60))
                .await;
            for i in 0..4 {
                assert_quorums(&cluster, i, target).await;
            }
        });
    }
}

/// A rogue validator 3: it takes part in consensus but, instead of its signatures, sends
/// node 0 garbage bytes, node 1 the other validators' signatures as if they were its own, and
/// everyone signatures (valid under its key) on states with a forged history root.
fn rogue(keys: trestle_light_client::SecretKey, participants: Vec<Pk>) -> RogueSigner {
    Arc::new(move |context, application, (mut sender, mut receiver)| {
        let key = keys.clone();
        let participants = participants.clone();
        context.spawn(move |context| async move {
            let mut next = context.current();
            loop {
                select! {
                    message = receiver.recv() => {
                        let Ok((from, bytes)) = message else { break };
                        // Replay an honest signature as our own ("claiming another slot").
                        if from != participants[1] {
                            let _ = sender.send(Recipients::One(participants[1].clone()), bytes, false);
                        }
                    },
                    _ = context.sleep_until(next) => {
                        next = context.current() + Duration::from_millis(300);
                        let garbage = vec![0u8, 1, 0xde, 0xad, 0xbe, 0xef];
                        let _ = sender.send(Recipients::One(participants[0].clone()), garbage, false);
                        let Some(status) = application.status().await else { break };
                        let height = status.finalized_height;
                        for h in [height.get(), height.get() + 1] {
                            let Some(mut state) =
                                application.light_client_state(Height(h.min(height.get()))).await
                            else {
                                continue;
                            };
                            state.height = Height(h);
                            state.history_root = B256::repeat_byte(0xbd);
                            let message = state.message().expect("message");
                            let gossip = Gossip { height: Height(h), state, signature: key.sign(&message) };
                            let bytes = Wire::Signatures(vec![gossip]).encode();
                            let _ = sender.send(Recipients::All, bytes, false);
                        }
                    },
                }
            }
        });
    })
}

#[test]
fn rogue_signer_is_never_stored_and_honest_quorums_form() {
    for seed in [6, 7] {
        runner(seed, TIMEOUT).start(|context| async move {
            let mut config = ClusterConfig::new(4, lossy());
            let participants: Vec<Pk> = config.network.participants();
            let key = config.network.keys[3].light_client.clone();
            config.rogue_signers = BTreeMap::from([(3, rogue(key, participants.clone()))]);
            let cluster = Cluster::start(&context, config).await;
            let target = 12;
            cluster.wait_for(&context, &[0, 1, 2], target, Duration::from_secs(120)).await;
            wait_for_quorums(&context, &cluster, &[0, 1, 2], target, Duration::from_secs(60)).await;
            for i in 0..3 {
                for quorum in assert_quorums(&cluster, i, target).await {
                    assert!(quorum.iter().all(|s| s.slot != 3), "rogue signature stored on {i}");
                }
                let signatures = cluster.nodes[i].as_ref().and_then(|n| n.signatures.clone());
                let signatures = signatures.expect("signatures actor");
                for h in 0..=target + 2 {
                    let listed = signatures.signatures(Height(h)).await;
                    assert!(listed.iter().all(|(slot, ..)| *slot != 3), "rogue stored at {h}");
                }
            }
            // Garbage and replayed signatures get the rogue blocked; a signature on another
            // state is only logged.
            let blocked = cluster.oracle.blocked().await.expect("blocked list");
            assert!(blocked.contains(&(participants[0].clone(), participants[3].clone())));
            assert!(blocked.contains(&(participants[1].clone(), participants[3].clone())));
            assert!(!blocked.contains(&(participants[2].clone(), participants[3].clone())));
        });
    }
}
