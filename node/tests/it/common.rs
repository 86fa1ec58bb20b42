//! What the scenarios share beyond `trestle_node::testing`: the seeded runner and transaction
//! helpers.

use std::time::Duration;

use commonware_runtime::deterministic;
use trestle_light_client::{Namespace, Transaction};
use trestle_node::BlockTransaction;

/// A deterministic runtime for `seed` that gives up after `timeout` of simulated time.
pub(crate) fn runner(seed: u64, timeout: Duration) -> deterministic::Runner {
    // Logs follow RUST_LOG (errors only by default); run with `--nocapture` to see them.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    deterministic::Runner::new(
        deterministic::Config::new().with_seed(seed).with_timeout(Some(timeout)),
    )
}

/// A transaction of an unowned namespace.
pub(crate) fn tx(namespace: u64, payload: &[u8]) -> BlockTransaction {
    BlockTransaction::unowned(Transaction::new(Namespace(namespace), payload.to_vec()))
}

/// Submits `transaction` to `mailbox` as a client that must not lose it does: while the answer
/// is `NotReplicated` (no peer said it holds it in time: a lossy link, a peer reconnecting), it
/// resubmits, at most 10 times; a `Duplicate` after that means it is held now. Other refusals
/// are returned.
pub(crate) async fn submit_held(
    mailbox: &trestle_node::Mailbox,
    transaction: BlockTransaction,
) -> Result<trestle_light_client::B256, trestle_node::mempool::SubmitError> {
    use trestle_node::mempool::SubmitError;
    let mut last = None;
    for attempt in 0..10 {
        match mailbox.submit(transaction.clone()).await {
            Err(SubmitError::NotReplicated { .. }) => last = Some(attempt),
            Err(SubmitError::Duplicate(hash)) if last.is_some() => return Ok(hash),
            answer => return answer,
        }
    }
    Err(SubmitError::NotReplicated { hash: transaction.transaction.hash(), holders: 0, needed: 1 })
}
