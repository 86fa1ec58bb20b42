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
