//! The whole product through the README's main command: `trestle devnet` (4 validator
//! processes, two anvil chains with the contracts, the relayer process) carries messages
//! between the chains, verified on-chain with Groth16 light-client updates and inclusion proofs.
//!
//! One devnet serves every scenario in turn (starting one takes most of the time): the demo
//! message; A→B and B→A; a message whose recipient reverts, which is received as failed without
//! holding up the next one, and whose proofs, tampered and checked against the Mailbox as it was
//! before it received the message, revert; `kill -9` of the
//! relayer mid-flight (the devnet restarts it; nothing is lost or delivered twice); a second
//! relayer racing the first; `trestle confirm` for a block record the relayer posted and for a
//! made-up hash; a reorganization deeper than the confirmations, which stops posting from that
//! chain. Waits are bounded polls that say what did not happen.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command},
    time::Duration,
};

use alloy::{
    eips::BlockId,
    primitives::{B256, Bytes, U256},
    providers::{DynProvider, Provider as _},
    sol_types::{SolError as _, SolValue as _},
};
use jsonrpsee::http_client::HttpClientBuilder;
use trestle::devnet::{
    self, DevnetFile,
    chains::DevnetChain,
    messages::{self, SentMessage},
};
use trestle_api::TrestleApiClient as _;
use trestle_light_client::{Namespace, Transaction};
use trestle_relayer::bindings::{Counter, LightClient, Mailbox, MerkleTree};

use crate::devnet::{alive, eventually, exe, wait_exit};

/// anvil's dev account 3: sends the test's messages (the devnet's relayer pays with account 1,
/// its demo with account 2).
const SENDER_KEY: &str = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
/// anvil's dev account 4: the second relayer's EVM key.
const SECOND_RELAYER_KEY: &str =
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a";

/// How long one message may take from send to delivery (the devnet's take a few seconds).
const DELIVERY: Duration = Duration::from_secs(120);

/// `trestle devnet` as a child process; stopped with SIGTERM (then SIGKILL) when dropped, so
/// that it takes its validators, anvils and relayer down with it.
pub(crate) struct DevnetProcess {
    child: Child,
    pub(crate) dir: PathBuf,
    output: PathBuf,
}

impl DevnetProcess {
    fn start(name: &str) -> Self {
        Self::start_with(name, &[])
    }

    /// `trestle devnet --validators 4 FLAGS --data-dir DIR`.
    pub(crate) fn start_with(name: &str, flags: &[&str]) -> Self {
        let dir = crate::cli::tempdir(name);
        let output = dir.with_extension("out");
        let _ = std::fs::remove_file(&output);
        let mut args = vec!["devnet", "--validators", "4"];
        args.extend_from_slice(flags);
        args.push("--data-dir");
        let child = devnet::spawn_logged(exe(), &args, &dir, &output).expect("trestle devnet");
        Self { child, dir, output }
    }

    pub(crate) fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default().replace('\r', "\n")
    }

    pub(crate) fn file(&self) -> Option<DevnetFile> {
        DevnetFile::load(&self.dir).ok()
    }

    fn stop(&mut self) -> std::process::ExitStatus {
        devnet::terminate(self.child.id());
        wait_exit(&mut self.child, Duration::from_secs(60))
    }
}

impl Drop for DevnetProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            devnet::terminate(self.child.id());
            devnet::reap(&mut self.child, Duration::from_secs(30));
        }
        if std::thread::panicking() {
            eprintln!(
                "devnet left in {} for inspection; its output:\n{}",
                self.dir.display(),
                self.output()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
            let _ = std::fs::remove_file(&self.output);
        }
    }
}

/// A chain seen by the test: the devnet's description and a wallet of [`SENDER_KEY`].
struct Chain {
    described: DevnetChain,
    wallet: DynProvider,
}

impl Chain {
    fn new(described: &DevnetChain) -> Self {
        let wallet = messages::wallet(described, SENDER_KEY).expect("wallet");
        Self { described: described.clone(), wallet }
    }

    async fn send(&self, to: &Chain, payload: &str) -> SentMessage {
        messages::send(
            &self.wallet,
            &self.described,
            &to.described,
            to.described.contracts.counter,
            payload.as_bytes(),
        )
        .await
        .expect("Mailbox.send")
    }

    async fn delivered_once(&self, message: &SentMessage) {
        messages::wait_delivered(&self.wallet, &self.described, message.hash, DELIVERY)
            .await
            .unwrap_or_else(|e| {
                panic!("{:?}: {e}", String::from_utf8_lossy(&message.message.payload))
            });
        let deliveries = messages::deliveries(&self.wallet, &self.described, Some(message.hash))
            .await
            .expect("logs");
        assert_eq!(
            deliveries.len(),
            1,
            "message {} delivered {} times",
            message.hash,
            deliveries.len()
        );
    }

    async fn total(&self) -> U256 {
        messages::counter_total(&self.wallet, &self.described).await.expect("Counter.total")
    }

    async fn all_deliveries(&self) -> usize {
        messages::deliveries(&self.wallet, &self.described, None).await.expect("logs").len()
    }
}

#[test]
fn devnet_relays_messages_both_ways_exactly_once_through_crashes_and_races() {
    let mut devnet = DevnetProcess::start("devnet-relay");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        // The devnet comes up, with its relayer, and delivers its demo message A→B.
        let file =
            eventually(Duration::from_secs(300), "the devnet's demo message delivered", || async {
                devnet.file().filter(|f| f.demo.as_ref().is_some_and(|d| d.delivered.is_some()))
            })
            .await;
        let output = devnet.output();
        for line in ["demo message evm-901 → evm-902", "demo message delivered on evm-902 in tx"]
        {
            assert!(output.contains(line), "the devnet did not print {line:?}:\n{output}");
        }
        let demo = file.demo.clone().expect("demo");
        assert_eq!((demo.from_chain, demo.to_chain), (901, 902));
        assert_eq!(demo.counter_total.as_deref(), Some("1"));
        // Hybrid mode: the L1 accepted a rollup block's state root with trestle's confirmation
        // of the block, and refused an altered hash and an unconfirmed block.
        let settlement =
            demo.settlement.clone().unwrap_or_else(|| panic!("no settlement:\n{output}"));
        assert_eq!((settlement.l1_chain, settlement.rollup_chain), (900, 901));
        assert!(settlement.refused_altered && settlement.refused_unconfirmed, "{settlement:?}");
        assert!(settlement.trestle_height <= settlement.root_height);
        assert!(output.contains("settlement on l1-900: rollup 901 block"), "{output}");
        let relayer = file.relayer.clone().expect("the devnet lists its relayer");
        assert!(alive(relayer.pid), "the relayer runs");
        let a = Chain::new(&file.chains[0]);
        let b = Chain::new(&file.chains[1]);
        assert_eq!(b.total().await, U256::from(1));

        // A→B and B→A change the Counters' state on the other side.
        let to_b = a.send(&b, "ping from A").await;
        let to_a = b.send(&a, "ping from B").await;
        b.delivered_once(&to_b).await;
        a.delivered_once(&to_a).await;
        assert_eq!(b.total().await, U256::from(2));
        assert_eq!(a.total().await, U256::from(1));
        let last = Counter::new(a.described.contracts.counter, a.wallet.clone())
            .lastMessage()
            .call()
            .await
            .expect("lastMessage");
        assert_eq!((last.srcChainId, last.payload.as_ref()), (902, b"ping from B".as_slice()));

        // A message whose recipient reverts is received all the same, stored as failed (not
        // executed), and does not hold up the next one.
        let rejected = a.send(&b, "reject").await;
        let after = a.send(&b, "after the rejected one").await;
        b.delivered_once(&after).await;
        assert!(
            messages::deliveries(&b.wallet, &b.described, Some(rejected.hash))
                .await
                .expect("logs")
                .is_empty()
        );
        let failed =
            messages::failures(&b.wallet, &b.described, Some(rejected.hash)).await.expect("logs");
        assert_eq!(failed.len(), 1, "the rejected message is received once, as failed");
        tampered_proofs_revert(&file, &a, &b, &rejected, failed[0].block).await;

        // kill -9 of the relayer while messages are in flight: the devnet restarts it, and
        // every message arrives exactly once.
        let in_flight = [
            a.send(&b, "in flight 1").await,
            a.send(&b, "in flight 2").await,
            b.send(&a, "in flight 3").await,
        ];
        let status =
            Command::new("kill").args(["-9", &relayer.pid.to_string()]).status().expect("kill");
        assert!(status.success(), "kill -9 the relayer");
        let restarted =
            eventually(Duration::from_secs(60), "the devnet to restart its relayer", || async {
                devnet
                    .file()
                    .and_then(|f| f.relayer)
                    .filter(|r| r.pid != 0 && r.pid != relayer.pid && r.restarts >= 1)
            })
            .await;
        assert!(alive(restarted.pid));
        let post_crash = a.send(&b, "after the crash").await;
        for message in &in_flight[..2] {
            b.delivered_once(message).await;
        }
        a.delivered_once(&in_flight[2]).await;
        b.delivered_once(&post_crash).await;
        assert!(devnet.output().contains("exited"), "the devnet reports the relayer's exit");

        // A second relayer (its own store and EVM key) races the first for every message.
        let mut second = SecondRelayer::start(&devnet.dir, &restarted.config);
        let mut raced = Vec::new();
        for i in 0..4 {
            raced.push((true, a.send(&b, &format!("race {i}")).await));
            raced.push((false, b.send(&a, &format!("race back {i}")).await));
        }
        for (to_b, message) in &raced {
            if *to_b { b.delivered_once(message).await } else { a.delivered_once(message).await }
        }
        assert!(second.running(), "the second relayer failed:\n{}", second.log());
        let first_log = std::fs::read_to_string(&restarted.log).unwrap_or_default();
        for (name, log) in [("first", first_log), ("second", second.log())] {
            assert!(!log.contains("panicked"), "the {name} relayer panicked:\n{log}");
            // Losing a race is no failure, and a failing recipient fails no step either.
            let failed = log.lines().find(|l| l.contains("step failed"));
            assert!(failed.is_none(), "the {name} relayer failed: {failed:?}");
        }
        assert!(
            alive(devnet.file().and_then(|f| f.relayer).map_or(0, |r| r.pid)),
            "the first relayer failed"
        );
        // Every message counted once: the demo, 2 + 1 + 3 + 1 + 8 sent by this test.
        assert_eq!(b.all_deliveries().await, 1 + 1 + 1 + 2 + 1 + 4);
        assert_eq!(a.all_deliveries().await, 1 + 1 + 4);
        assert_eq!(b.total().await, U256::from(1 + 1 + 1 + 2 + 1 + 4));
        assert_eq!(a.total().await, U256::from(1 + 1 + 4));
        drop(second);

        // `trestle confirm` says confirmed for a block record the relayer posted, and not for a
        // made-up hash of the same block.
        confirm_block_records(&file, &a, to_b.block).await;

        // A reorganization of A deeper than the relayer's confirmations (0 on the devnet) is
        // detected and stops posting from A, rather than posting the new branch over the old.
        let snapshot: U256 =
            a.wallet.raw_request("evm_snapshot".into(), ()).await.expect("snapshot");
        let doomed = a.send(&b, "on a branch about to be dropped").await;
        b.delivered_once(&doomed).await;
        let reverted: bool =
            a.wallet.raw_request("evm_revert".into(), (snapshot,)).await.expect("revert");
        assert!(reverted, "evm_revert");
        // A fresh wallet: the old one cached nonces of the dropped branch.
        let branch = Chain::new(&a.described);
        for i in 0..3 {
            branch.send(&b, &format!("on the new branch {i}")).await;
        }
        eventually(Duration::from_secs(60), "the relayer to report the reorganization", || async {
            let log = std::fs::read_to_string(&restarted.log).unwrap_or_default();
            log.contains("reorganized below the confirmation depth").then_some(())
        })
        .await;
    });
    let status = devnet.stop();
    assert!(status.success(), "the devnet exited with {status}:\n{}", devnet.output());
    let file = devnet.file().expect("devnet.json");
    let relayer = file.relayer.expect("relayer");
    assert_eq!(relayer.pid, 0, "devnet.json marks the relayer stopped");
}

/// The rejected message's real proofs pass the Mailbox's checks as of the block before it was
/// received (`received_block`): the call succeeds there, storing it as failed. Any tampering
/// reverts at that block before the recipient is reached. Now the mailbox refuses the message
/// as received (also as a mined transaction), keeps it failed, and its retry reverts with the
/// recipient's error while the recipient still rejects it.
async fn tampered_proofs_revert(
    file: &DevnetFile,
    a: &Chain,
    b: &Chain,
    message: &SentMessage,
    received_block: u64,
) {
    let node = HttpClientBuilder::default().build(&file.validators[1].rpc_url).expect("client");
    let tx = Transaction::new(Namespace(a.described.message_namespace), message.encoded());
    let inclusion =
        node.tx_proof(tx.hash()).await.expect("rpc").expect("the message is on the network");
    let before = BlockId::number(received_block - 1);
    let latest = LightClient::new(b.described.contracts.light_client, b.wallet.clone())
        .latestState()
        .block(before)
        .call()
        .await
        .expect("latestState");
    assert!(latest.height >= inclusion.height, "B's light client covered the message");
    let history = node
        .history_proof(inclusion.height, latest.height)
        .await
        .expect("rpc")
        .expect("history proof");
    assert_eq!(history.root, latest.historyRoot);
    let header = Mailbox::Header::abi_decode(&inclusion.header.decode().expect("header").encode())
        .expect("header");
    let tx_proof =
        Mailbox::TransactionProof::abi_decode(&inclusion.proof.decode().expect("proof").encode())
            .expect("tx proof");
    let history_proof =
        MerkleTree::Proof::abi_decode(&history.proof.decode().expect("proof").encode())
            .expect("history proof");
    let mailbox = Mailbox::new(b.described.contracts.mailbox, b.wallet.clone());
    let root = latest.historyRoot;

    // Untampered, before it was received: every check passes and the delivery goes through
    // (storing the message as failed, since the recipient rejects it).
    mailbox
        .deliver(
            message.message.clone(),
            header.clone(),
            tx_proof.clone(),
            history_proof.clone(),
            root,
        )
        .block(before)
        .call()
        .await
        .expect("the honest delivery passes every check");

    let mut other_payload = message.message.clone();
    other_payload.payload = Bytes::from_static(b"rejecT");
    let mut other_header = header.clone();
    other_header.payloadRoot = B256::repeat_byte(0x42);
    let mut other_index = history_proof.clone();
    other_index.index += 1;
    let made_up_root = B256::repeat_byte(0x17);
    let cases = [
        (
            "payload",
            mailbox.deliver(
                other_payload,
                header.clone(),
                tx_proof.clone(),
                history_proof.clone(),
                root,
            ),
        ),
        (
            "header",
            mailbox.deliver(
                message.message.clone(),
                other_header,
                tx_proof.clone(),
                history_proof.clone(),
                root,
            ),
        ),
        (
            "history index",
            mailbox.deliver(
                message.message.clone(),
                header.clone(),
                tx_proof.clone(),
                other_index,
                root,
            ),
        ),
        (
            "history root",
            mailbox.deliver(
                message.message.clone(),
                header.clone(),
                tx_proof.clone(),
                history_proof.clone(),
                made_up_root,
            ),
        ),
    ];
    for (what, call) in cases {
        let data = revert_data(call.block(before).call().await);
        assert!(!data.is_empty(), "a tampered {what} reverted without a reason");
        if what == "history root" {
            assert_eq!(
                data,
                Mailbox::UnknownHistoryRoot { historyRoot: made_up_root }.abi_encode()
            );
        }
    }

    // Now: received (and stored as failed); a second delivery is refused, also on-chain.
    let again = mailbox.deliver(message.message.clone(), header, tx_proof, history_proof, root);
    let data = revert_data(again.call().await);
    assert_eq!(&data[..4], Mailbox::AlreadyReceived::SELECTOR.as_slice());
    let receipt =
        again.gas(3_000_000).send().await.expect("sent").get_receipt().await.expect("receipt");
    assert!(!receipt.status(), "a received message was delivered again");
    assert!(mailbox.failed(message.hash).call().await.expect("failed"), "stored as failed");
    let retry = revert_data(mailbox.retry(message.message.clone()).call().await);
    assert_eq!(&retry[..4], Mailbox::RecipientReverted::SELECTOR.as_slice());
}

/// The revert data of a call that must revert.
fn revert_data<T>(result: Result<T, alloy::contract::Error>) -> Bytes {
    let error = match result {
        Ok(_) => panic!("the call succeeded"),
        Err(e) => e,
    };
    error.as_revert_data().unwrap_or_else(|| panic!("not a revert: {error}"))
}

/// A second `trestle relayer run` with every role, its own store, metrics port and EVM key.
struct SecondRelayer {
    child: Child,
    log: PathBuf,
}

impl SecondRelayer {
    fn start(dir: &Path, first: &Path) -> Self {
        let text = std::fs::read_to_string(first).expect("the first relayer's config");
        let home = dir.join("second-relayer");
        std::fs::create_dir_all(&home).expect("dir");
        let key = home.join("evm-key");
        std::fs::write(&key, SECOND_RELAYER_KEY).expect("key");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let mut config = String::new();
        for line in text.lines() {
            let line = if line.starts_with("store = ") {
                format!("store = \"{}\"", home.join("second.redb").display())
            } else if line.starts_with("metrics = ") {
                format!("metrics = \"127.0.0.1:{port}\"")
            } else if line.starts_with("evm_key_file = ") {
                format!("evm_key_file = \"{}\"", key.display())
            } else {
                line.to_owned()
            };
            config.push_str(&line);
            config.push('\n');
        }
        let config_path = home.join("relayer.toml");
        std::fs::write(&config_path, config).expect("config");
        let log_path = home.join("relayer.log");
        let args = ["relayer", "run", "--config"];
        let child =
            devnet::spawn_logged(exe(), &args, &config_path, &log_path).expect("second relayer");
        Self { child, log: log_path }
    }

    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for SecondRelayer {
    fn drop(&mut self) {
        devnet::terminate(self.child.id());
        devnet::reap(&mut self.child, Duration::from_secs(15));
    }
}

/// `trestle confirm --namespace <A's block namespace> --block N --hash H`: exit 0 for the
/// block's real hash (the relayer posted its record), 1 for a made-up one.
async fn confirm_block_records(file: &DevnetFile, a: &Chain, number: u64) {
    let block =
        a.wallet.get_block_by_number(number.into()).await.expect("rpc").expect("the block exists");
    let hash = block.header.hash;
    let confirm = |hash: B256| {
        Command::new(exe())
            .args(["confirm", "--rpc", &file.validators[2].rpc_url])
            .args(["--namespace", &a.described.block_namespace.to_string()])
            .args(["--block", &number.to_string(), "--hash", &hash.to_string()])
            .arg("--genesis")
            .arg(&file.genesis)
            .output()
            .expect("trestle confirm")
    };
    let confirmed = confirm(hash);
    assert_eq!(
        confirmed.status.code(),
        Some(0),
        "block {number} {hash} not confirmed:\n{}{}",
        String::from_utf8_lossy(&confirmed.stdout),
        String::from_utf8_lossy(&confirmed.stderr)
    );
    let made_up = confirm(B256::repeat_byte(0xab));
    assert_eq!(
        made_up.status.code(),
        Some(1),
        "a made-up hash:\n{}{}",
        String::from_utf8_lossy(&made_up.stdout),
        String::from_utf8_lossy(&made_up.stderr)
    );
}
