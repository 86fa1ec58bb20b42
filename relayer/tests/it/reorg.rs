//! A source chain reorganizes, over real parts ([`crate::harness`]): chain A's anvil finalizes
//! two blocks behind its head (`--slots-in-an-epoch 1`) and the relayer posts A with the default
//! `head` (`auto`, which must resolve to `finalized` there). A message sent on a branch that is
//! then reverted (`evm_snapshot` / `evm_revert`) before it is finalized is never posted nor
//! delivered; the message sent in its place on the new branch, with the same nonce, is; the post
//! loop never meets a reorganization of what it posted.

use alloy::{
    primitives::U256,
    providers::{DynProvider, Provider as _},
};
use alloy_sol_types::SolValue as _;
use trestle_api::TrestleApiClient as _;
use trestle_light_client::{Namespace, Transaction};
use trestle_relayer::{bindings::Counter, status::client::StatusClient};

use crate::harness::{
    DEPLOYER_KEY, NAMESPACES, Relayer, World, deliveries_on, eventually, init_logging,
    send_message, sent_messages, wait_for_total,
};

/// Mines `blocks` empty blocks on `chain`.
async fn mine(chain: &DynProvider, blocks: u64) {
    let _: () = chain.raw_request("anvil_mine".into(), (blocks,)).await.expect("anvil_mine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorganized_message_is_never_posted_and_its_replacement_is_delivered() {
    init_logging();
    let world = World::start("relayer-reorg", &["--slots-in-an-epoch", "1"]).await;
    let (client, on_a, on_b) = (&world.client, &world.on_a, &world.on_b);
    let status_addr = trestle_node::testing::local::free_addr();
    let mut options = world.options();
    options.head_a = None;
    options.metrics = Some(status_addr);
    let config_path = world.write_config("relayer.toml", &world.config(&options));
    let status = StatusClient::new(&format!("http://{status_addr}"));
    let chain_a = world.anvil_a.provider(DEPLOYER_KEY);
    let chain_b = world.anvil_b.provider(DEPLOYER_KEY);
    let relayer = Relayer::start(&config_path);

    // 1. Before the fork: delivered once two more blocks finalize it.
    send_message(&chain_a, on_a.mailbox, on_b.mailbox, on_b.counter, "before the fork").await;
    mine(&chain_a, 2).await;
    wait_for_total(&chain_b, on_b.counter, 1, "the first message executes on B").await;
    let seen = status.status().await.expect("status");
    let a = seen.chains.iter().find(|c| c.name == "a").expect("chain a");
    assert_eq!(a.head.as_deref(), Some("finalized"), "auto resolves to finalized on anvil");

    // 2. A message on a branch about to be dropped. The relayer posts up to A's finalized
    // block, two below the head: once its cursor is there, it has seen the head and passed on.
    let snapshot: U256 = chain_a.raw_request("evm_snapshot".into(), ()).await.expect("snapshot");
    send_message(&chain_a, on_a.mailbox, on_b.mailbox, on_b.counter, "orphaned").await;
    let head = chain_a.get_block_number().await.expect("head");
    eventually("the relayer posts up to A's finalized block", || async {
        let seen = status.status().await.ok()?;
        let a = seen.chains.into_iter().find(|c| c.name == "a")?;
        (a.source_cursor == Some(head - 1)).then_some(())
    })
    .await;
    let orphaned = sent_messages(&chain_a, on_a.mailbox).await.pop().expect("the orphaned one");
    assert_eq!(orphaned.nonce, 1);
    let orphaned_tx = Transaction::new(Namespace(NAMESPACES[0]), orphaned.abi_encode());

    // 3. The branch is dropped; the message sent in its place takes the same nonce.
    let reverted: bool =
        chain_a.raw_request("evm_revert".into(), (snapshot,)).await.expect("revert");
    assert!(reverted, "evm_revert");
    // A fresh wallet: the old one cached the dropped branch's nonces.
    let branch = world.anvil_a.provider(DEPLOYER_KEY);
    send_message(&branch, on_a.mailbox, on_b.mailbox, on_b.counter, "on the new branch").await;
    mine(&branch, 2).await;
    wait_for_total(&chain_b, on_b.counter, 2, "the new branch's message executes on B").await;

    let last =
        Counter::new(on_b.counter, chain_b.clone()).lastMessage().call().await.expect("last");
    assert_eq!((last.nonce, last.payload.as_ref()), (1, b"on the new branch".as_slice()));
    assert_eq!(deliveries_on(&chain_b, on_b.mailbox).await, 2, "each delivered once");
    let replacement = sent_messages(&branch, on_a.mailbox).await.pop().expect("replacement");
    let replacement_tx = Transaction::new(Namespace(NAMESPACES[0]), replacement.abi_encode());
    assert!(client.tx_proof(replacement_tx.hash()).await.expect("rpc").is_some());
    assert!(
        client.tx_proof(orphaned_tx.hash()).await.expect("rpc").is_none(),
        "the orphaned message was never posted"
    );
    let seen = status.status().await.expect("status");
    let post = seen.loops.iter().find(|l| l.role == "post" && l.label == "a").expect("post a");
    assert!(
        !post.last_error.as_deref().is_some_and(|e| e.contains("reorganized")),
        "posting A never met a reorganization it had posted: {post:?}"
    );
    relayer.stop().await;
}
