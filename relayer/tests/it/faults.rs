//! Crashes at every named point of the relayer's loops (`trestle_relayer::faults`), with the
//! real binary over real parts ([`crate::harness`]): for each point a message is sent on A, the
//! relayer is started armed to abort there and must do so (SIGABRT, nothing flushed, as kill -9),
//! then restarted unarmed: every message is executed on B exactly once and none is lost.

use std::os::unix::process::ExitStatusExt as _;

use alloy::primitives::U256;
use trestle_relayer::{faults::CrashPoint, status::client::StatusClient, store::Store};

use crate::harness::{
    Binary, DEPLOYER_KEY, World, counter_total, deliveries_on, eventually, init_logging,
    send_message, wait_for_total,
};

/// SIGABRT: how `std::process::abort` ends a process.
const SIGABRT: i32 = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_named_point_neither_loses_nor_repeats_a_message() {
    init_logging();
    let world = World::start("relayer-faults", &[]).await;
    let (on_a, on_b) = (&world.on_a, &world.on_b);
    let status_addr = trestle_node::testing::local::free_addr();
    let mut options = world.options();
    options.metrics = Some(status_addr);
    let config_path = world.write_config("relayer.toml", &world.config(&options));
    let relayer_status = StatusClient::new(&format!("http://{status_addr}"));
    let chain_a = world.anvil_a.provider(DEPLOYER_KEY);
    let chain_b = world.anvil_b.provider(DEPLOYER_KEY);

    for (i, point) in CrashPoint::ALL.into_iter().enumerate() {
        let payload = format!("through {}", point.name());
        send_message(&chain_a, on_a.mailbox, on_b.mailbox, on_b.counter, &payload).await;
        let status = Binary::start_crashing_at(&config_path, point.name()).exited().await;
        assert_eq!(status.signal(), Some(SIGABRT), "{}: reached, and aborted", point.name());
        let binary = Binary::start(&config_path);
        let total = u64::try_from(i + 1).expect("small");
        wait_for_total(&chain_b, on_b.counter, total, &format!("delivery after {payload}")).await;
        // The restarted relayer, not only the crashed one, has the message off its queue.
        eventually("the restarted relayer's queue is empty", || async {
            let seen = relayer_status.status().await.ok()?;
            (seen.pending == 0 && seen.delivered == total).then_some(())
        })
        .await;
        binary.terminate();
    }

    let log = std::fs::read_to_string(world.work.path().join("relayer.log")).expect("log");
    for point in CrashPoint::ALL {
        assert!(
            log.contains(&format!("point=\"{}\"", point.name()))
                || log.contains(&format!("point={}", point.name())),
            "the log names the crash at {}",
            point.name()
        );
    }
    let count = CrashPoint::ALL.len();
    assert_eq!(deliveries_on(&chain_b, on_b.mailbox).await, count, "each delivered once");
    assert_eq!(counter_total(&chain_b, on_b.counter).await, U256::from(count));
    let store = Store::open(&world.work.path().join("relayer.redb")).expect("store");
    assert!(store.pending().expect("pending").is_empty(), "nothing left pending");
    assert_eq!(store.delivered_count().expect("delivered"), u64::try_from(count).expect("small"));
}
