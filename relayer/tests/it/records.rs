//! The block records a rollup's relayer posts, over real parts ([`crate::harness`]): the network
//! confirms them contiguously from the first number genesis declares (0 here), and a relayer
//! that lost its store, configured with another `start_block`, continues them where the network
//! has them instead of posting records no validator would ever confirm; against another chain
//! under the same id it posts nothing and says why.

use alloy::providers::Provider as _;
use trestle_api::TrestleApiClient as _;
use trestle_relayer::{status::client::StatusClient, store::Store};

use crate::harness::{
    Anvil, CHAIN_A, DEPLOYER_KEY, NAMESPACES, Relayer, World, deploy, eventually, init_logging,
    send_message,
};

/// Chain A's block namespace.
const RECORDS_OF_A: u64 = NAMESPACES[1];

/// Waits until the network's records of chain A reach `number`; returns (first, last).
async fn records_reach(world: &World, number: u64, what: &str) -> (u64, u64) {
    eventually(what, || async {
        let records = world.client.record_namespace(RECORDS_OF_A).await.ok()?;
        assert_eq!(records.first_record, 0, "genesis declares block 0 as the first");
        let range = records.confirmed?;
        (range.last >= number).then_some((range.first, range.last))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayer_that_lost_its_store_continues_the_records_where_the_network_has_them() {
    init_logging();
    let world = World::start("relayer-records", &[]).await;
    let mut options = world.options();
    options.roles = r#"["post"]"#;
    let config = world.config(&options);
    let chain_a = world.anvil_a.provider(DEPLOYER_KEY);

    // 1. From block 0 to the head, whatever order the records reach the proposers in.
    let first_path = world.write_config("first.toml", &config);
    let relayer = Relayer::start(&first_path);
    send_message(&chain_a, world.on_a.mailbox, world.on_b.mailbox, world.on_b.counter, "one").await;
    let head = chain_a.get_block_number().await.expect("head");
    assert_eq!(records_reach(&world, head, "A's records reach its head").await.0, 0);
    relayer.stop().await;

    // 2. The store is lost; the operator's `start_block` points past blocks nobody posted. The
    // new relayer asks the network, continues right after its last record, and everything it
    // posts is confirmed.
    send_message(&chain_a, world.on_a.mailbox, world.on_b.mailbox, world.on_b.counter, "two").await;
    let head = chain_a.get_block_number().await.expect("head");
    let (_, posted) = records_reach(&world, 0, "A's records").await;
    assert!(posted < head, "the chain moved on while no relayer ran");
    // Its own status port: the first relayer's may linger.
    let status_addr = trestle_node::testing::local::free_addr();
    let status = StatusClient::new(&format!("http://{status_addr}"));
    options.metrics = Some(status_addr);
    let lost = world
        .config(&options)
        .replace(r#"store = "relayer.redb""#, r#"store = "fresh.redb""#)
        .replace("start_block = 0", &format!("start_block = {}", head + 5));
    assert!(lost.contains("fresh.redb") && !lost.contains("start_block = 0"));
    let fresh_path = world.write_config("fresh.toml", &lost);
    let relayer = Relayer::start(&fresh_path);
    let (first, last) =
        records_reach(&world, head, "the fresh relayer continues the records").await;
    assert_eq!(first, 0);
    for number in 0..=last {
        let record = world.client.block_record(RECORDS_OF_A, number, None).await.expect("rpc");
        let record = record.unwrap_or_else(|| panic!("block {number} has no record"));
        let block = chain_a
            .get_block_by_number(number.into())
            .await
            .expect("rpc")
            .expect("a block the relayer posted");
        assert_eq!(record.record.hash, block.header.hash, "block {number} recorded as it is");
    }
    // The relayer re-checks each submission `resend_ms` after sending it; its status counts
    // what it still tracks.
    eventually("the fresh relayer's submissions are all finalized", || async {
        let seen = status.status().await.ok()?;
        let a = seen.chains.into_iter().find(|c| c.name == "a")?;
        (a.source_cursor == Some(head + 1) && a.unfinalized == 0).then_some(())
    })
    .await;
    relayer.stop().await;
    let store = Store::open(&world.work.path().join("fresh.redb")).expect("the fresh store");
    assert_eq!(store.source_cursor("a").expect("cursor"), Some(head + 1));
    assert_eq!(store.unfinalized("a").expect("unfinalized"), vec![], "nothing left unconfirmed");

    // 3. Another chain under A's id, as when a devnet's anvil restarts from scratch: the same
    // contracts at the same addresses, other blocks. A fresh store must not post over the
    // network's records of the real A: posting stops, saying why, and the records stay.
    let impostor = Anvil::start(CHAIN_A);
    impostor.ready(CHAIN_A).await;
    let again = deploy(&impostor.url, &world.deployments, "impostor");
    assert_eq!(again.mailbox, world.on_a.mailbox, "same deployer, same nonces");
    let on_impostor = impostor.provider(DEPLOYER_KEY);
    let short = last.saturating_sub(on_impostor.get_block_number().await.expect("head"));
    let _: () = on_impostor.raw_request("anvil_mine".into(), (short,)).await.expect("mine");
    let status_addr = trestle_node::testing::local::free_addr();
    let status = StatusClient::new(&format!("http://{status_addr}"));
    options.metrics = Some(status_addr);
    let impostor_config = world
        .config(&options)
        .replace(&world.anvil_a.url, &impostor.url)
        .replace(r#"store = "relayer.redb""#, r#"store = "impostor.redb""#);
    let relayer = Relayer::start(&world.write_config("impostor.toml", &impostor_config));
    let error = eventually("posting A stops with the reason", || async {
        let seen = status.status().await.ok()?;
        let post_a = seen.loops.into_iter().find(|l| l.role == "post" && l.label == "a")?;
        post_a.last_error.filter(|e| e.contains("the network records block"))
    })
    .await;
    assert!(error.contains(&format!("block {last} as")), "{error}");
    relayer.stop().await;
    let records = world.client.record_namespace(RECORDS_OF_A).await.expect("rpc");
    assert_eq!(records.confirmed.map(|c| c.last), Some(last), "nothing posted over them");
}
