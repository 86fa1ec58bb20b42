//! A relayer as an operator runs it, over real parts ([`crate::harness`]): its first network
//! endpoint lies (every transaction proof it serves is altered), so the deliver loop must refuse
//! those proofs locally and fail over to the honest validator; a message whose recipient runs
//! out of gas is received as failed without holding up the next one, is listed by the status
//! endpoints and the `trestle-relayer` commands with its reason, and once the recipient can take
//! it, `retry` delivers it; the status shows every chain and loop.

use alloy::primitives::U256;
use trestle_relayer::{
    bindings::Counter,
    status::{RelayerStatus, client::StatusClient},
};

use crate::harness::{
    DEPLOYER_KEY, Relayer, World, eventually, init_logging, send_message, send_message_with_gas,
    wait_for_total,
};
use crate::liar::LyingEndpoint;

/// Gas too little for the counter's first message (its storage slots are fresh), enough for a
/// later one (see `Counter.ping`'s documentation).
const SHORT_GAS: u64 = 60_000;

/// Runs the `trestle-relayer` binary with `args`; returns whether it succeeded, and its stdout
/// and stderr.
fn command(args: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_trestle-relayer"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("trestle-relayer runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sees_lies_refused_and_retries_a_failed_message() {
    init_logging();
    let world = World::start("relayer-operate", &[]).await;
    let (on_a, on_b) = (&world.on_a, &world.on_b);
    let liar = LyingEndpoint::start(world.network_url()).await;
    let status_addr = trestle_node::testing::local::free_addr();
    let mut options = world.options();
    options.network_rpc.insert(0, liar.url.clone());
    options.metrics = Some(status_addr);
    let config_path = world.write_config("relayer.toml", &world.config(&options));
    let base = format!("http://{status_addr}");
    let status = StatusClient::new(&base);

    let chain_a = world.anvil_a.provider(DEPLOYER_KEY);
    let chain_b = world.anvil_b.provider(DEPLOYER_KEY);
    let relayer = Relayer::start(&config_path);

    // 1. The first message gets too little gas for a fresh counter: received as failed. The
    // second is delivered all the same, through the honest endpoint.
    send_message_with_gas(&chain_a, on_a.mailbox, on_b.mailbox, on_b.counter, "short", SHORT_GAS)
        .await;
    send_message(&chain_a, on_a.mailbox, on_b.mailbox, on_b.counter, "hello").await;
    wait_for_total(&chain_b, on_b.counter, 1, "the second message executes on B").await;
    assert!(liar.lies() > 0, "the lying endpoint was asked for a proof");
    let lies_at_delivery = liar.lies();

    // 2. The status: the honest endpoint in use, one failed message on B, nothing pending.
    let seen: RelayerStatus = eventually("the status shows the failed message", || async {
        status.status().await.ok().filter(|s| s.failed == 1 && s.pending == 0)
    })
    .await;
    assert_eq!(seen.network.current, world.network_url(), "failed over from the liar");
    assert_eq!(seen.network.endpoints, vec![liar.url.clone(), world.network_url()]);
    let b = seen.chains.iter().find(|c| c.name == "b").expect("chain b");
    assert_eq!((b.failed, b.pending), (1, 0));
    assert!(b.light_client_height.is_some_and(|h| h > 0), "{b:?}");
    let a = seen.chains.iter().find(|c| c.name == "a").expect("chain a");
    assert_eq!(a.head.as_deref(), Some("latest"));
    assert!(a.source_cursor.is_some() && a.posted.is_some(), "{a:?}");
    for role in ["post", "prove", "deliver"] {
        assert!(seen.loops.iter().any(|l| l.role == role), "no {role} loop in {:?}", seen.loops);
    }
    let delivery_loop = seen
        .loops
        .iter()
        .find(|l| l.role == "deliver" && l.label == "b")
        .expect("B's deliver loop");
    assert!(
        delivery_loop
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("does not verify") || e.contains("does not decode")),
        "the liar's proof was refused locally: {delivery_loop:?}"
    );
    let metrics = alloy::transports::http::reqwest::get(format!("{base}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    assert!(
        metrics.lines().any(|l| l.starts_with("relayer_distrusted_answers_total ")
            && l != "relayer_distrusted_answers_total 0"),
        "{metrics}"
    );
    assert!(metrics.contains("relayer_failed_messages 1"), "{metrics}");

    // 3. The commands: the status, the failed list with its reason, refusals of a malformed or
    // unknown hash, and the retry: with exactly the message's own gas, which suffices now that
    // the second message paid for the counter's fresh storage slots.
    let (ok, out, err) = command(&["status", "--url", &base]);
    assert!(ok, "{err}");
    assert!(out.contains("1 failed") && out.contains("chain b"), "{out}");
    let (ok, out, err) = command(&["messages", "--url", &base, "--failed"]);
    assert!(ok, "{err}");
    let failed_hash = out.split_whitespace().next().expect("a hash").to_owned();
    assert!(out.contains("failed") && out.contains("out of gas"), "{out}");
    let (ok, out, err) = command(&["messages", "--url", &base]);
    assert!(ok, "{err}");
    assert_eq!(out, "no messages\n");
    let (ok, _, err) = command(&["retry", "--url", &base, "0x1234"]);
    assert!(!ok && err.contains("invalid"), "a malformed hash is refused: {err}");
    let unknown = format!("0x{}", "ab".repeat(32));
    let (ok, _, err) = command(&["retry", "--url", &base, &unknown]);
    assert!(!ok && err.contains("no failed message"), "{err}");

    let (ok, out, err) = command(&["retry", "--url", &base, &failed_hash]);
    assert!(ok, "the retry delivers once the slots are warm: {out} {err}");
    assert!(out.contains("delivered"), "{out}");
    wait_for_total(&chain_b, on_b.counter, 2, "the retried message executes on B").await;
    let last =
        Counter::new(on_b.counter, chain_b.clone()).lastMessage().call().await.expect("last");
    assert_eq!(last.payload.as_ref(), b"short");
    assert_eq!(last.nonce, 0);
    let seen = status.status().await.expect("status");
    assert_eq!(seen.failed, 0, "retried: no failed message left");
    let (ok, _, err) = command(&["retry", "--url", &base, &failed_hash]);
    assert!(!ok && err.contains("no failed message"), "retried once only: {err}");
    assert_eq!(
        Counter::new(on_b.counter, chain_b.clone()).total().call().await.expect("total"),
        U256::from(2)
    );
    // The liar kept being asked only until the first failover.
    assert_eq!(liar.lies(), lies_at_delivery, "no proof asked of the liar after failing over");
    relayer.stop().await;
}
