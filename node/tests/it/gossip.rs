//! Mempool gossip: a transaction admitted by one validator reaches the others, so it does not
//! wait for that validator's turn to lead, and it outlives that validator's crash; a peer that
//! gossips what no honest validator would is blocked.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use commonware_codec::Encode as _;
use commonware_p2p::{Recipients, Sender as _};
use commonware_runtime::{Clock as _, Runner as _, Spawner as _, deterministic};
use trestle_light_client::{B256, Height};
use trestle_node::gossip::GossipMessage;
use trestle_node::testing::{
    OWNED_NAMESPACE,
    faults::RogueGossiper,
    simulated::{Cluster, ClusterConfig, clean_link as clean},
};

use crate::common::{runner, tx};

/// Simulated time a scenario may take before the runtime gives up.
const TIMEOUT: Duration = Duration::from_secs(300);

/// Height at which validator `i` finalized `hash`, waiting up to `limit` of simulated time.
async fn finalized_at(
    context: &deterministic::Context,
    cluster: &Cluster,
    i: usize,
    hash: B256,
    limit: Duration,
) -> Height {
    let mailbox = cluster.nodes[i].as_ref().expect("running").mailbox.clone();
    let start = context.current();
    loop {
        if let Some(height) = mailbox.transaction_height(hash).await {
            return height;
        }
        let waited = context.current().duration_since(start).unwrap_or_default();
        assert!(waited < limit, "transaction {hash} not finalized on validator {i} in {limit:?}");
        context.sleep(Duration::from_millis(10)).await;
    }
}

/// Transactions submitted to one validator are in one of the next blocks, whoever leads them:
/// the leaders have them from the gossip. Without gossip a transaction waits for its validator's
/// own turn (one view in four, round robin), and some of these would wait four blocks or more.
#[test]
fn a_submission_does_not_wait_for_its_validators_turn_to_lead() {
    for seed in 41..=43 {
        runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
            let cluster = Cluster::start(&context, ClusterConfig::new(4, clean())).await;
            cluster.wait_for(&context, &[0, 1, 2, 3], 3, Duration::from_secs(60)).await;
            let entry = cluster.nodes[0].as_ref().expect("running").mailbox.clone();
            let mut waits = Vec::new();
            for k in 0..8u8 {
                let submitted_at = cluster.height(0).await;
                let hash = entry.submit(tx(5, &[seed as u8, k])).await.expect("admitted");
                let height =
                    finalized_at(&context, &cluster, 0, hash, Duration::from_secs(30)).await;
                waits.push(height.get() - submitted_at);
                // Spread the submissions over the leaders' rotation.
                context.sleep(Duration::from_millis(37 * u64::from(k % 3 + 1))).await;
            }
            assert!(
                waits.iter().all(|&w| w <= 3),
                "seed {seed}: blocks waited per transaction {waits:?}"
            );
        });
    }
}

/// kill -9 of the validator that admitted a transaction, as soon as it answered: the others
/// finalize the transaction (once).
#[test]
fn a_transaction_outlives_the_validator_that_admitted_it() {
    for seed in 51..=55 {
        runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
            let mut cluster = Cluster::start(&context, ClusterConfig::new(4, clean())).await;
            cluster.wait_for(&context, &[0, 1, 2, 3], 3, Duration::from_secs(60)).await;
            let entry = cluster.nodes[0].as_ref().expect("running").mailbox.clone();
            let hash = entry.submit(tx(6, &[seed as u8])).await.expect("admitted");
            cluster.crash(0).await;
            let height = finalized_at(&context, &cluster, 1, hash, Duration::from_secs(60)).await;
            // Every survivor has it, at the same height, once.
            let target = height.get() + 2;
            cluster.wait_for(&context, &[1, 2, 3], target, Duration::from_secs(60)).await;
            for i in 1..4 {
                assert_eq!(
                    finalized_at(&context, &cluster, i, hash, Duration::from_secs(1)).await,
                    height
                );
                let mailbox = cluster.nodes[i].as_ref().expect("running").mailbox.clone();
                let block = mailbox.block(height).await.expect("finalized block");
                let copies =
                    block.transactions().iter().filter(|t| t.transaction.hash() == hash).count();
                assert_eq!(copies, 1, "validator {i}: the transaction is in its block once");
            }
            cluster.assert_agreement().await;
        });
    }
}

/// A rogue validator 3 takes part in consensus but gossips what no honest validator would:
/// garbage bytes to node 0, an owned-namespace transaction without its owner's authorization to
/// node 1, and a valid transaction to node 2. Nodes 0 and 1 block it, the unauthorized
/// transaction is never admitted, node 2 admits the valid one (not blocking the rogue, which
/// did nothing wrong there) and it is finalized; the chain goes on.
#[test]
fn a_rogue_gossiper_is_blocked_and_its_inadmissible_transactions_never_land() {
    for seed in [61, 62] {
        runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
            let mut config = ClusterConfig::new(4, clean());
            let participants = config.network.participants();
            let valid = tx(7, &[seed as u8, 0x9d]);
            let unauthorized = tx(OWNED_NAMESPACE.get(), &[seed as u8, 0x0f]);
            let (valid_hash, unauthorized_hash) =
                (valid.transaction.hash(), unauthorized.transaction.hash());
            let targets = participants.clone();
            let gossiper: RogueGossiper =
                Arc::new(move |context, _application, (mut sender, _)| {
                    let targets = targets.clone();
                    let (valid, unauthorized) = (valid.clone(), unauthorized.clone());
                    context.spawn(move |context| async move {
                        context.sleep(Duration::from_secs(1)).await;
                        let garbage = vec![0u8, 1, 0xde, 0xad];
                        let _ = sender.send(Recipients::One(targets[0].clone()), garbage, false);
                        let _ = sender.send(
                            Recipients::One(targets[1].clone()),
                            GossipMessage::Forward(unauthorized).encode(),
                            false,
                        );
                        let _ = sender.send(
                            Recipients::One(targets[2].clone()),
                            GossipMessage::Forward(valid).encode(),
                            false,
                        );
                        futures::future::pending::<()>().await;
                    });
                });
            config.rogue_gossipers = BTreeMap::from([(3, gossiper)]);
            let cluster = Cluster::start(&context, config).await;
            let height =
                finalized_at(&context, &cluster, 2, valid_hash, Duration::from_secs(60)).await;
            cluster.wait_for(&context, &[0, 1, 2], height.get() + 5, Duration::from_secs(60)).await;
            let blocked = cluster.oracle.blocked().await.expect("blocked list");
            assert!(blocked.contains(&(participants[0].clone(), participants[3].clone())));
            assert!(blocked.contains(&(participants[1].clone(), participants[3].clone())));
            assert!(!blocked.contains(&(participants[2].clone(), participants[3].clone())));
            for i in 0..3 {
                let mailbox = cluster.nodes[i].as_ref().expect("running").mailbox.clone();
                assert_eq!(mailbox.transaction_height(unauthorized_hash).await, None);
            }
            cluster.assert_agreement().await;
        });
    }
}

/// A validator cut off from every peer admits a submission but cannot get a peer to hold it: it
/// answers `NotReplicated` (not a plain success a client would stop at) after the replica
/// timeout. Once the links are back, the resubmission is forwarded again and answered
/// `Duplicate` only when a peer holds it; then it is finalized, once.
#[test]
fn a_submission_no_peer_holds_is_not_answered_as_accepted() {
    use trestle_node::mempool::SubmitError;
    for seed in 71..=72 {
        runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
            let mut cluster = Cluster::start(&context, ClusterConfig::new(4, clean())).await;
            cluster.wait_for(&context, &[0, 1, 2, 3], 3, Duration::from_secs(60)).await;
            cluster.partition(|i| i == 0).await;
            let entry = cluster.nodes[0].as_ref().expect("running").mailbox.clone();
            let transaction = tx(8, &[seed as u8, 0x4e]);
            let hash = transaction.transaction.hash();
            let started = context.current();
            match entry.submit(transaction.clone()).await {
                Err(SubmitError::NotReplicated { hash: refused, holders: 0, needed: 1 }) => {
                    assert_eq!(refused, hash);
                }
                other => panic!("seed {seed}: a submission nobody else holds answered {other:?}"),
            }
            let waited = context.current().duration_since(started).unwrap_or_default();
            assert!(waited >= trestle_node::gossip::DEFAULT_REPLICA_TIMEOUT, "{waited:?}");

            cluster.link_all(clean()).await;
            // The links are back, the peers reconnect: resubmit until a peer holds it.
            let deadline = context.current() + Duration::from_secs(60);
            loop {
                match entry.submit(transaction.clone()).await {
                    Err(SubmitError::Duplicate(again) | SubmitError::AlreadyFinalized(again)) => {
                        assert_eq!(again, hash);
                        break;
                    }
                    Err(SubmitError::NotReplicated { .. }) => {
                        assert!(context.current() < deadline, "seed {seed}: never replicated");
                    }
                    other => panic!("seed {seed}: a resubmission answered {other:?}"),
                }
            }
            let height = finalized_at(&context, &cluster, 1, hash, Duration::from_secs(60)).await;
            cluster
                .wait_for(&context, &[0, 1, 2, 3], height.get() + 2, Duration::from_secs(60))
                .await;
            for i in 0..4 {
                let mailbox = cluster.nodes[i].as_ref().expect("running").mailbox.clone();
                let block = mailbox.block(height).await.expect("finalized block");
                let copies =
                    block.transactions().iter().filter(|t| t.transaction.hash() == hash).count();
                assert_eq!(copies, 1, "validator {i}: the transaction is in its block once");
            }
        });
    }
}

/// A validator that restarts asks its peers for their pending transactions, so holders crashing
/// one after another (each coming back with an empty mempool) cannot wear a pending
/// transaction's copies away. At most two validators run until the end, so the chain stalls and
/// nothing is finalized meanwhile: a transaction submitted to validator 0 is held by 0 and 1;
/// 0 crashes, 2 restarts, 1 crashes, 3 restarts, and 0 restarts (a quorum again). Only the
/// restarted validators' syncs kept a copy alive (2 from 1, 3 from 2); it is finalized once.
/// Without the sync this transaction is lost.
#[test]
fn a_pending_transaction_outlives_its_holders_crashing_one_after_another() {
    use crate::common::submit_held;
    // Long enough for every scheduled sync of a restarted validator.
    let syncs = trestle_node::gossip::SYNC_AFTER[3] + Duration::from_secs(1);
    for seed in 81..=82 {
        runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
            let mut cluster = Cluster::start(&context, ClusterConfig::new(4, clean())).await;
            cluster.wait_for(&context, &[0, 1, 2, 3], 3, Duration::from_secs(60)).await;
            cluster.crash(2).await;
            cluster.crash(3).await;
            let entry = cluster.nodes[0].as_ref().expect("running").mailbox.clone();
            let transaction = tx(9, &[seed as u8, 0x5c]);
            let hash = submit_held(&entry, transaction).await.expect("held by a peer");
            cluster.crash(0).await;
            cluster.start_node(&context, 2).await;
            context.sleep(syncs).await;
            cluster.crash(1).await;
            cluster.start_node(&context, 3).await;
            context.sleep(syncs).await;
            cluster.start_node(&context, 0).await;
            let height = finalized_at(&context, &cluster, 2, hash, Duration::from_secs(120)).await;
            cluster.wait_for(&context, &[0, 2, 3], height.get() + 2, Duration::from_secs(60)).await;
            for i in [0, 2, 3] {
                assert_eq!(
                    finalized_at(&context, &cluster, i, hash, Duration::from_secs(1)).await,
                    height
                );
            }
        });
    }
}

/// A batch submitted to validator 0 is answered per transaction, each once a peer holds it:
/// killing validator 0 right after the answer loses none of them. A partitioned validator
/// answers every transaction of a batch `NotReplicated` (after one replica timeout, not one
/// per transaction).
#[test]
fn a_batch_is_answered_once_peers_hold_each_transaction() {
    use trestle_node::mempool::SubmitError;
    for seed in 81..=82 {
        runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
            let mut cluster = Cluster::start(&context, ClusterConfig::new(4, clean())).await;
            cluster.wait_for(&context, &[0, 1, 2, 3], 3, Duration::from_secs(60)).await;
            let batch: Vec<_> = (0..64u8).map(|k| tx(9, &[seed as u8, k])).collect();
            let entry = cluster.nodes[0].as_ref().expect("running").mailbox.clone();
            let answers = entry.submit_batch(batch.clone()).await;
            assert_eq!(answers.len(), batch.len());
            for (answer, transaction) in answers.iter().zip(&batch) {
                assert_eq!(answer, &Ok(transaction.transaction.hash()), "seed {seed}");
            }
            cluster.crash(0).await;
            for transaction in &batch {
                let hash = transaction.transaction.hash();
                finalized_at(&context, &cluster, 1, hash, Duration::from_secs(60)).await;
            }
            cluster.assert_agreement().await;

            cluster.partition(|i| i == 1).await;
            let lonely = cluster.nodes[1].as_ref().expect("running").mailbox.clone();
            let batch: Vec<_> = (0..8u8).map(|k| tx(9, &[seed as u8, 0xee, k])).collect();
            let started = context.current();
            for answer in lonely.submit_batch(batch).await {
                assert!(matches!(answer, Err(SubmitError::NotReplicated { .. })), "{answer:?}");
            }
            let waited = context.current().duration_since(started).unwrap_or_default();
            assert!(waited < 2 * trestle_node::gossip::DEFAULT_REPLICA_TIMEOUT, "{waited:?}");
        });
    }
}
