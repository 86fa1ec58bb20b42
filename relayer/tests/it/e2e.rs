//! End to end over real parts ([`crate::harness`]): a `Mailbox.send` on A to the demo `Counter`
//! on B gets executed on B exactly once; a message sent while the relayer is stopped is
//! delivered after its restart (as the real binary), the binary survives SIGKILL and stops
//! cleanly on SIGTERM, and nothing is delivered twice or lost. Every relayer's first network
//! endpoint is a dead port, so every role works through failover to the second. A submission the
//! network lost after accepting it (a validator's mempool does not survive a restart) is sent
//! again until finalized, and delivered. Then a third party delivers: a relayer with only the
//! prove and deliver roles and no owner key, beside one that only posts, finds the messages on
//! the network itself and delivers the new ones, exactly once, and leaves alone a message for
//! another mailbox.

use alloy::{
    primitives::{Address, U256, keccak256},
    providers::Provider,
};
use alloy_sol_types::SolValue as _;
use trestle_api::{TrestleApiClient as _, authorization::authorize};
use trestle_light_client::{Namespace, Transaction, abi::BlockRecord};
use trestle_node::testing::local::free_addr;
use trestle_relayer::{
    bindings::Counter,
    store::{Store, Submission},
};

use crate::harness::{
    Anvil, Binary, CHAIN_A, DEPLOYER_KEY, NAMESPACES, Relayer, World, counter_total, deliveries_on,
    eventually, init_logging, send_message, sent_messages, wait_for_total,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_from_a_reaches_b_once_across_restarts() {
    init_logging();
    let world = World::start("relayer-e2e", &[]).await;
    let (work, client, on_a, on_b) = (&world.work, &world.client, &world.on_a, &world.on_b);
    let owner = &world.owner;
    // The first network endpoint is a closed local port: every request must fail over to the
    // validator.
    let dead_endpoint = format!("http://{}", free_addr());
    let mut options = world.options();
    options.network_rpc.insert(0, dead_endpoint);
    let config = world.config(&options);
    let config_path = world.write_config("relayer.toml", &config);

    let chain_a = world.anvil_a.provider(DEPLOYER_KEY);
    let chain_b = world.anvil_b.provider(DEPLOYER_KEY);
    assert_eq!(counter_total(&chain_b, on_b.counter).await, U256::ZERO);

    // 1. A message from A to B's counter is executed on B.
    let relayer = Relayer::start(&config_path);
    send_message(&chain_a, on_a.mailbox, on_b.mailbox, on_b.counter, "hello").await;
    wait_for_total(&chain_b, on_b.counter, 1, "the first message executes on B").await;
    relayer.stop().await;

    // The store saw it through: nothing pending, one delivered, A's cursor past the send.
    {
        let store = Store::open(&work.path().join("relayer.redb")).expect("store");
        assert!(store.pending().expect("pending").is_empty());
        assert_eq!(store.delivered_count().expect("delivered"), 1);
        assert!(store.source_cursor("a").expect("cursor").is_some());
    }

    // 2. A message sent while the relayer is down is delivered after the restart (now the
    // real binary), and the first one is not delivered again. Then the binary is killed with
    // SIGKILL right after that delivery, restarted, and a third message goes through.
    send_message(&chain_a, on_a.mailbox, on_b.mailbox, on_b.counter, "while you were out").await;
    let binary = Binary::start(&config_path);
    wait_for_total(&chain_b, on_b.counter, 2, "the second message executes on B").await;
    binary.kill_9();

    let binary = Binary::start(&config_path);
    send_message(&chain_a, on_a.mailbox, on_b.mailbox, on_b.counter, "after a crash").await;
    wait_for_total(&chain_b, on_b.counter, 3, "the third message executes on B").await;
    binary.terminate();

    assert_eq!(deliveries_on(&chain_b, on_b.mailbox).await, 3, "each message delivered once");
    assert_eq!(counter_total(&chain_b, on_b.counter).await, U256::from(3));
    let last = Counter::new(on_b.counter, chain_b.clone())
        .lastMessage()
        .call()
        .await
        .expect("lastMessage");
    assert_eq!(last.srcChainId, CHAIN_A);
    assert_eq!(last.nonce, 2);
    assert_eq!(last.payload.as_ref(), b"after a crash");
    let store = Store::open(&work.path().join("relayer.redb")).expect("store");
    assert!(store.pending().expect("pending").is_empty());
    assert_eq!(store.delivered_count().expect("delivered"), 3);
    drop(store);

    // 2b. Submissions the network lost. While the relayer is stopped a message is sent on A
    // and the store records its block as posted, the block's record and the message (signed by
    // the owner) tracked as unfinalized, as if a validator had accepted them and then restarted
    // with an empty mempool: the network never has them, and the post cursor is past the block.
    // Only resending can get the message delivered (and the later blocks' records confirmed:
    // they must follow this block's).
    send_message(&chain_a, on_a.mailbox, on_b.mailbox, on_b.counter, "lost in a mempool").await;
    let lost = sent_messages(&chain_a, on_a.mailbox).await.pop().expect("the lost message");
    let lost_tx = Transaction::new(Namespace(NAMESPACES[0]), lost.abi_encode());
    let head = chain_a
        .get_block_by_number(alloy::rpc::types::BlockNumberOrTag::Latest)
        .await
        .expect("head")
        .expect("a head block");
    {
        let store = Store::open(&work.path().join("relayer.redb")).expect("store");
        let cursor = store.source_cursor("a").expect("cursor").expect("a cursor");
        assert!(cursor <= head.header.number, "the lost message's block is not posted yet");
        let record = BlockRecord {
            chainId: CHAIN_A,
            number: head.header.number,
            hash: head.header.hash,
            parentHash: head.header.parent_hash,
        };
        let record_tx = Transaction::new(Namespace(NAMESPACES[1]), record.encode());
        let submissions =
            [(&record_tx, NAMESPACES[1]), (&lost_tx, NAMESPACES[0])].map(|(tx, ns)| Submission {
                tx_hash: tx.hash(),
                chain: "a".into(),
                namespace: ns,
                payload: tx.payload.clone(),
                authorization: authorize(&owner.consensus, tx).as_ref().to_vec().into(),
                last_sent_ms: 0,
            });
        store
            .record_posted_block("a", head.header.number, head.header.hash, &submissions)
            .expect("recorded as posted");
    }
    assert!(client.tx_proof(lost_tx.hash()).await.expect("rpc").is_none(), "the network lost it");
    let relayer = Relayer::start(&config_path);
    wait_for_total(&chain_b, on_b.counter, 4, "the lost submission is resent and delivered").await;
    relayer.stop().await;

    // 3. A third party delivers. The rollup's relayer now only posts (it queues nothing);
    // another relayer, with only the prove and deliver roles, its own store and no owner key
    // in its configuration, must find every message on the network: the four received
    // already (dropped on reading B's inbox position) and two new ones, which only it can
    // deliver. A message for another mailbox on B is posted in between and must not be
    // queued.
    let all_roles = r#"roles = ["post", "prove", "deliver"]"#;
    let poster_path = work.path().join("poster.toml");
    std::fs::write(&poster_path, config.replace(all_roles, r#"roles = ["post"]"#))
        .expect("poster.toml");
    let third_party_path = work.path().join("third-party.toml");
    let third_party = config
        .replace(all_roles, r#"roles = ["prove", "deliver"]"#)
        .replace(r#"store = "relayer.redb""#, r#"store = "third-party.redb""#)
        .replace("owner_key = \"owner.toml\"\n", "");
    assert!(!third_party.contains("owner_key"), "the third party has no owner key");
    std::fs::write(&third_party_path, third_party).expect("third-party.toml");

    let poster = Relayer::start(&poster_path);
    let deliverer = Relayer::start(&third_party_path);
    send_message(&chain_a, on_a.mailbox, on_b.mailbox, on_b.counter, "from a third party").await;
    // B's counter is no mailbox: a message naming it is posted, and no relayer of B takes it.
    send_message(&chain_a, on_a.mailbox, on_b.counter, on_b.counter, "misrouted").await;
    send_message(&chain_a, on_a.mailbox, on_b.mailbox, on_b.counter, "and another").await;
    wait_for_total(&chain_b, on_b.counter, 6, "the third party delivers the new messages").await;
    // The misrouted message was posted before the last one, so it is finalized by now; the
    // discovery cursor must be past it before its absence from the queue means anything.
    let sent = sent_messages(&chain_a, on_a.mailbox).await;
    let misrouted = sent.iter().find(|m| m.destMailbox != on_b.mailbox).expect("misrouted");
    let misrouted_tx = Transaction::new(Namespace(NAMESPACES[0]), misrouted.abi_encode());
    let misrouted_height = eventually("the misrouted message is finalized", || async {
        client.tx_proof(misrouted_tx.hash()).await.ok().flatten().map(|p| p.height)
    })
    .await;
    let third_party_store = work.path().join("third-party.redb");
    deliverer.stop().await;
    poster.stop().await;

    assert_eq!(deliveries_on(&chain_b, on_b.mailbox).await, 6, "each message delivered once");
    assert_eq!(counter_total(&chain_b, on_b.counter).await, U256::from(6));
    let store = Store::open(&third_party_store).expect("the third party's store");
    assert!(store.pending().expect("pending").is_empty(), "nothing left, nothing misrouted");
    assert!(
        store.discovery_cursor().expect("cursor").is_some_and(|next| next > misrouted_height),
        "discovery read past the misrouted message"
    );
    let to_b: Vec<_> = sent.iter().filter(|m| m.destMailbox == on_b.mailbox).collect();
    assert_eq!(to_b.len(), 6);
    for message in to_b {
        let hash = keccak256(message.abi_encode());
        assert!(store.is_delivered(hash).expect("delivered?"), "message {} done", message.nonce);
    }
    assert!(!store.is_delivered(keccak256(misrouted.abi_encode())).expect("?"));
    assert_eq!(store.delivered_count().expect("delivered"), 6);
    let poster_store = Store::open(&work.path().join("relayer.redb")).expect("poster's store");
    assert!(poster_store.pending().expect("pending").is_empty(), "posting queues nothing");
    assert_eq!(poster_store.delivered_count().expect("delivered"), 4);
    // Everything posted was finalized long before the last delivery (proving takes seconds,
    // the poster re-checks every resend_ms), so the poster tracks nothing any more.
    assert_eq!(poster_store.unfinalized("a").expect("unfinalized"), vec![], "all finalized");
}

/// At start the relayer refuses a chain whose endpoint serves another chain id, or where a
/// configured contract address has no code, naming what is wrong; with code at both addresses
/// the check passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misconfigured_chain_is_refused_at_start() {
    const CHAIN: u64 = 31_339;
    let anvil = Anvil::start(CHAIN);
    anvil.ready(CHAIN).await;
    let (mailbox, light_client) = (Address::repeat_byte(0x11), Address::repeat_byte(0x22));
    let chain = |chain_id| crate::evm::read_only_chain(chain_id, &anvil.url, mailbox, light_client);
    use trestle_relayer::evm::EvmError;
    match chain(CHAIN + 1).check_deployment().await {
        Err(EvmError::WrongChain { expected, actual, .. }) => {
            assert_eq!((expected, actual), (CHAIN + 1, CHAIN));
        }
        other => panic!("another chain id passed: {other:?}"),
    }
    match chain(CHAIN).check_deployment().await {
        Err(EvmError::NoCode { contract: "mailbox", address, .. }) => assert_eq!(address, mailbox),
        other => panic!("a mailbox without code passed: {other:?}"),
    }
    let provider = anvil.provider(DEPLOYER_KEY);
    let set_code = |address: Address| {
        let provider = provider.clone();
        async move {
            let _: () = provider
                .raw_request("anvil_setCode".into(), (address, "0x00"))
                .await
                .expect("anvil_setCode");
        }
    };
    set_code(mailbox).await;
    match chain(CHAIN).check_deployment().await {
        Err(EvmError::NoCode { contract: "light_client", address, .. }) => {
            assert_eq!(address, light_client);
        }
        other => panic!("a light client without code passed: {other:?}"),
    }
    set_code(light_client).await;
    chain(CHAIN).check_deployment().await.expect("both contracts have code");
}
