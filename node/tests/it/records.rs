//! Rollup block records under a Byzantine proposer and an equivocating owner (DESIGN §4).

use std::time::Duration;

use commonware_runtime::{Clock as _, Runner as _, deterministic};
use trestle_api::authorization::authorize;
use trestle_light_client::{B256, Transaction, abi::BlockRecord};
use trestle_node::{
    BlockTransaction, SubmitError,
    application::{Mailbox, records::FirstRecord},
    testing::{
        RECORD_CHAIN_ID, RECORD_NAMESPACE,
        faults::Forgery,
        owner_keys,
        simulated::{Cluster, ClusterConfig, lossy_link as lossy},
    },
};

use crate::common::{runner, submit_held};

/// Simulated time a scenario may take before the runtime gives up.
const TIMEOUT: Duration = Duration::from_secs(600);

/// Records the rollup posts.
const POSTED: u64 = 12;

/// Block `number` of the test rollup (`fork` changes its hash: a conflicting record).
fn record(number: u64, fork: u8) -> BlockRecord {
    let hash = |n: u64, fork: u8| {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&n.to_be_bytes());
        bytes[31] = fork;
        B256::from(bytes)
    };
    BlockRecord {
        chainId: RECORD_CHAIN_ID,
        number,
        hash: hash(number, fork),
        parentHash: hash(number - 1, 0),
    }
}

/// The record as its owner signs it.
fn signed(record: &BlockRecord) -> BlockTransaction {
    let transaction = Transaction::new(RECORD_NAMESPACE, record.encode());
    let authorization = authorize(&owner_keys().consensus, &transaction);
    BlockTransaction { transaction, authorization: Some(authorization) }
}

/// Number of the last confirmed record on `mailbox`'s validator.
async fn last_confirmed(mailbox: &Mailbox) -> Option<u64> {
    let summary = mailbox.record_namespace(RECORD_NAMESPACE).await?;
    summary.confirmed.map(|(_, tip)| tip.number)
}

/// A proposer that appends rule-breaking records (a second record for a confirmed number, a
/// gap, a wrong parent) is rejected: every honest validator confirms exactly the rollup's own
/// records, contiguous and at the same heights, and the chain moves on. The owner then signs a
/// second record for a confirmed block: it is refused and kept, with the confirmed one, as
/// evidence.
#[test]
fn byzantine_record_proposals_are_rejected_and_equivocations_are_kept() {
    for seed in [61, 62, 63] {
        runner(seed, TIMEOUT).start(|context: deterministic::Context| async move {
            let config = ClusterConfig {
                byzantine: vec![2],
                forgery: Forgery::BlockRecords,
                ..ClusterConfig::new(4, lossy())
            };
            let mut cluster = Cluster::start(&context, config).await;
            let honest = [0usize, 1, 3];
            let mailbox = |i: usize| cluster.nodes[i].as_ref().expect("running").mailbox.clone();
            // The sequencer posts its blocks one at a time, as the relayer does, to validator
            // 0; every record after the first is in the chain before the Byzantine leader's
            // forged ones can be (it forges only once a record is confirmed).
            for number in 1..=POSTED {
                submit_held(&mailbox(0), signed(&record(number, 0))).await.expect("admitted");
                context.sleep(Duration::from_millis(300)).await;
            }
            let start = context.current();
            for &i in &honest {
                while last_confirmed(&mailbox(i)).await != Some(POSTED) {
                    let waited = context.current().duration_since(start).unwrap_or_default();
                    assert!(waited < Duration::from_secs(240), "records not confirmed on {i}");
                    context.sleep(Duration::from_millis(200)).await;
                }
            }
            let height = cluster.height(0).await;
            cluster.wait_for(&context, &honest, height + 10, Duration::from_secs(240)).await;
            let chain = cluster.assert_agreement().await;
            let forged = cluster.forged.lock().expect("lock").clone();
            assert!(!forged.is_empty(), "the Byzantine validator never forged a record block");
            assert!(forged.iter().all(|f| !chain.contains(f)), "a forged block was finalized");
            // One record per number, the rollup's own, at the same height everywhere.
            for number in 1..=POSTED {
                let at_0 = mailbox(0).block_record(RECORD_NAMESPACE, number).await;
                let at_0 = at_0.expect("indexed");
                assert_eq!(at_0.hash, record(number, 0).hash);
                for &i in &honest[1..] {
                    assert_eq!(mailbox(i).block_record(RECORD_NAMESPACE, number).await, Some(at_0));
                }
            }
            let summary = mailbox(1).record_namespace(RECORD_NAMESPACE).await.expect("block ns");
            assert_eq!(
                summary.confirmed.map(|(first, tip)| (first, tip.number)),
                Some((1, POSTED))
            );
            assert_eq!(summary.equivocations, 0, "forged blocks are not the owner's submissions");

            // The owner signs another block 5: refused, kept with the confirmed record.
            let fork = signed(&record(5, 9));
            let refused = mailbox(1).submit(fork.clone()).await;
            assert!(
                matches!(refused, Err(SubmitError::ConflictingRecord { number: 5, .. })),
                "{refused:?}"
            );
            let kept = mailbox(1).equivocations(RECORD_NAMESPACE, 0, 10).await;
            assert_eq!(kept.len(), 1);
            assert_eq!(kept[0].second, fork);
            let confirmed = mailbox(1).block_record(RECORD_NAMESPACE, 5).await.expect("indexed");
            assert_eq!(
                kept[0].first,
                FirstRecord::Confirmed { height: confirmed.height, tx_hash: confirmed.tx_hash }
            );

            // The evidence is on disk: validator 1 keeps it across a crash.
            cluster.crash(1).await;
            cluster.start_node(&context, 1).await;
            let restarted = cluster.nodes[1].as_ref().expect("running").mailbox.clone();
            let start = context.current();
            while last_confirmed(&restarted).await != Some(POSTED) {
                let waited = context.current().duration_since(start).unwrap_or_default();
                assert!(waited < Duration::from_secs(120), "validator 1 did not recover");
                context.sleep(Duration::from_millis(200)).await;
            }
            assert_eq!(restarted.equivocations(RECORD_NAMESPACE, 0, 10).await, kept);
        });
    }
}
