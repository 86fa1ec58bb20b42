//! End to end over real parts: two anvil chains (different chain ids) with the contracts
//! deployed by the forge script, a one-validator trestle network (`trestle_node::testing`'s
//! loopback network: authenticated p2p and the JSON-RPC server, started as the process does),
//! the INSECURE dev Groth16 keys at the devnet capacity, and the relayer with every role. A `Mailbox.send` on A to the demo
//! `Counter` on B gets executed on B exactly once; a message sent while the relayer is stopped
//! is delivered after its restart (as the real binary), the binary survives SIGKILL and stops
//! cleanly on SIGTERM, and nothing is delivered twice or lost. Every relayer's first network
//! endpoint is a dead port, so every role works through failover to the second. A submission the
//! network lost after accepting it (a validator's mempool does not survive a restart) is sent
//! again until finalized, and delivered. Then a third party delivers: a
//! relayer with only the prove and deliver roles and no owner key, beside one that only posts,
//! finds the messages on the network itself and delivers the new ones, exactly once, and
//! leaves alone a message for another mailbox.
//!
//! Needs the Foundry binaries from `solidity/` (`cd solidity && npm ci`); without them the test
//! fails with that instruction rather than passing vacuously.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use alloy::{
    network::EthereumWallet,
    primitives::{Address, Bytes, U256, keccak256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::Filter,
    signers::local::PrivateKeySigner,
};
use alloy_sol_types::{SolEvent as _, SolValue as _};
use trestle_api::{
    Genesis, GenesisLimits, OwnedNamespace, TrestleApiClient as _, ValidatorKeys,
    authorization::authorize,
};
use trestle_circuits::setup::{
    DEVNET_CAPACITY, INSECURE_DEV_SEED, insecure_dev_key_paths, read_proving_key,
    write_insecure_dev_keys,
};
use trestle_light_client::{Namespace, Transaction, abi::BlockRecord};
use trestle_node::{
    Timeouts, Validator,
    testing::local::{LocalNetwork, free_addr},
};
use trestle_relayer::{
    bindings::{Counter, Mailbox},
    config::Config,
    store::{Store, Submission},
};

/// How long any wait in this test may take before it fails.
const DEADLINE: Duration = Duration::from_secs(120);
/// Anvil's well-known account 0: deploys and sends the messages.
const DEPLOYER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// Anvil's well-known account 1: the relayer's EVM key.
const RELAYER_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// The trestle network's chain id.
const NETWORK_CHAIN_ID: u64 = 7_700;
/// The two EVM chains.
const CHAIN_A: u64 = 31_337;
const CHAIN_B: u64 = 31_338;
/// Namespaces: A's messages and blocks, B's messages and blocks.
const NAMESPACES: [u64; 4] = [1_001, 1_002, 2_001, 2_002];

fn solidity_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("solidity")
}

fn foundry_tool(name: &str) -> PathBuf {
    let tool = solidity_dir().join("tools").join(name);
    let installed = solidity_dir().join("node_modules").join("@foundry-rs");
    assert!(
        installed.is_dir(),
        "Foundry is missing: run `cd solidity && npm ci` before the relayer's tests"
    );
    tool
}

/// Polls `check` until it returns `Some`, failing after [`DEADLINE`].
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(start.elapsed() < DEADLINE, "{what}: not within {DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An anvil process, killed on drop.
struct Anvil {
    child: Child,
    url: String,
}

impl Anvil {
    fn start(chain_id: u64) -> Self {
        let addr = free_addr();
        let child = Command::new(foundry_tool("anvil"))
            .args(["--host", "127.0.0.1", "--port", &addr.port().to_string()])
            .args(["--chain-id", &chain_id.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("anvil starts");
        Self { child, url: format!("http://{addr}") }
    }

    fn provider(&self, key: &str) -> DynProvider {
        let signer: PrivateKeySigner = key.parse().expect("key");
        ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(self.url.parse().expect("url"))
            .erased()
    }

    async fn ready(&self, chain_id: u64) {
        let provider = self.provider(DEPLOYER_KEY);
        eventually("anvil answers", || async {
            provider.get_chain_id().await.ok().filter(|id| *id == chain_id)
        })
        .await;
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Addresses the deploy script wrote.
#[derive(Debug)]
struct Deployment {
    light_client: Address,
    mailbox: Address,
    counter: Address,
}

/// Runs `script/Deploy.s.sol` against `url`; `dir` is relative to `solidity/` and must lie
/// under `deployments/` (the only directory forge lets scripts write).
fn deploy(url: &str, dir: &str, name: &str) -> Deployment {
    let out = format!("{dir}/{name}.json");
    let output = Command::new(foundry_tool("forge"))
        .current_dir(solidity_dir())
        .args(["script", "script/Deploy.s.sol", "--rpc-url", url, "--broadcast"])
        .args(["--private-key", DEPLOYER_KEY])
        .env("GENESIS_JSON", format!("{dir}/genesis.json"))
        .env("DEPLOYMENT_JSON", &out)
        .output()
        .expect("forge runs");
    assert!(
        output.status.success(),
        "forge script failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(solidity_dir().join(&out)).expect("output"))
            .expect("deployment JSON");
    let address = |key: &str| -> Address {
        json[key].as_str().unwrap_or_else(|| panic!("{key} in {json}")).parse().expect("address")
    };
    Deployment {
        light_client: address("lightClient"),
        mailbox: address("mailbox"),
        counter: address("counter"),
    }
}

/// The INSECURE dev keys for [`DEVNET_CAPACITY`], generated once into cargo's per-target
/// scratch directory and reused by later runs (written to a fresh directory, then renamed, so
/// concurrent runs never see half a key).
fn dev_keys_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("relayer-insecure-dev-keys");
    let (pk, _) = insecure_dev_key_paths(&dir, DEVNET_CAPACITY);
    if read_proving_key(&pk, DEVNET_CAPACITY).is_ok() {
        return dir;
    }
    let fresh = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("relayer-insecure-dev-keys.{}", std::process::id()));
    let started = Instant::now();
    write_insecure_dev_keys(&fresh, DEVNET_CAPACITY, INSECURE_DEV_SEED).expect("dev keys");
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "generated the INSECURE dev keys");
    let _ = std::fs::remove_dir_all(&dir);
    if std::fs::rename(&fresh, &dir).is_err() {
        // Another run got there first; its keys are the same (same seed).
        let _ = std::fs::remove_dir_all(&fresh);
    }
    dir
}

/// Removes a directory under `solidity/deployments/` on drop.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running relayer (in this process, on the test's runtime).
struct Relayer {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), trestle_relayer::RelayError>>,
}

impl Relayer {
    fn start(config_path: &Path) -> Self {
        let config = Config::load(config_path).expect("relayer config");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(trestle_relayer::run(config, async move {
            let _ = stopped.await;
        }));
        Self { stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("relayer task").expect("relayer stops cleanly");
    }
}

/// The gas `Counter.onMessage` gets on B (a few storage writes need far less).
const MESSAGE_GAS_LIMIT: u64 = 200_000;

/// `Mailbox.send` on A (`mailbox`) to `to` on B, through B's mailbox `dest_mailbox`.
async fn send_message(
    chain: &DynProvider,
    mailbox: Address,
    dest_mailbox: Address,
    to: Address,
    payload: &str,
) {
    let receipt = Mailbox::new(mailbox, chain.clone())
        .send(
            CHAIN_B,
            dest_mailbox,
            to,
            7,
            MESSAGE_GAS_LIMIT,
            Bytes::copy_from_slice(payload.as_bytes()),
        )
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(receipt.status(), "Mailbox.send succeeded");
}

async fn counter_total(chain: &DynProvider, counter: Address) -> U256 {
    Counter::new(counter, chain.clone()).total().call().await.expect("Counter.total")
}

async fn deliveries_on(chain: &DynProvider, mailbox: Address) -> usize {
    let filter = Filter::new()
        .address(mailbox)
        .event_signature(Mailbox::MessageDelivered::SIGNATURE_HASH)
        .from_block(0);
    chain.get_logs(&filter).await.expect("logs").len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_from_a_reaches_b_once_across_restarts() {
    // The relayer's filter: arkworks' never-closed constraint spans stay off (see
    // `PROVER_SPAN_TARGETS`), and the validator's consensus chatter below warnings.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(trestle_relayer::log_filter("warn,it=info,trestle_relayer=info"))
        .with_test_writer()
        .try_init();
    let work = tempfile::tempdir().expect("temp dir");

    // The INSECURE dev keys (matching the committed verifier at capacity 4), or those of an
    // earlier run.
    let keys_dir = tokio::task::spawn_blocking(dev_keys_dir).await.expect("setup task");
    tracing::info!(keys = %keys_dir.display(), "dev keys ready");

    // Two chains.
    let anvil_a = Anvil::start(CHAIN_A);
    let anvil_b = Anvil::start(CHAIN_B);
    anvil_a.ready(CHAIN_A).await;
    anvil_b.ready(CHAIN_B).await;
    tracing::info!(a = %anvil_a.url, b = %anvil_b.url, "anvils ready");

    // The network: one validator; one owner key for all four namespaces.
    let validator = ValidatorKeys::from_entropy([11; 32], [12; 32]).expect("keys");
    let owner = ValidatorKeys::from_entropy([21; 32], [22; 32]).expect("keys");
    let owner_path = work.path().join("owner.toml");
    owner.save(&owner_path).expect("owner key file");
    let genesis = Genesis {
        chain_id: NETWORK_CHAIN_ID,
        epoch: 0,
        epoch_length: None,
        l1: None,
        timestamp_ms: 0,
        min_block_interval_ms: 100,
        committee_capacity: DEVNET_CAPACITY,
        validators: vec![validator.genesis_entry()],
        owned_namespaces: NAMESPACES
            .iter()
            .map(|&namespace| OwnedNamespace {
                namespace,
                owner: owner.genesis_entry().consensus_key,
                // The second of each chain's pair records its blocks.
                block_records_of: match namespace {
                    1_002 => Some(CHAIN_A),
                    2_002 => Some(CHAIN_B),
                    _ => None,
                },
            })
            .collect(),
        // Small blocks: the node sizes buffers and messages from these limits.
        limits: GenesisLimits {
            max_transactions: 64,
            max_payload: 4 * 1_024,
            max_block_payload: 64 * 1_024,
        },
    };
    let resolved = genesis.resolve().expect("genesis");
    let mut node = Validator::new(resolved, validator, "relayer-e2e").expect("a genesis validator");
    node.timeouts = Timeouts {
        leader: Duration::from_millis(500),
        certification: Duration::from_millis(1_000),
        timeout_retry: Duration::from_millis(1_000),
        skip: Duration::from_secs(5),
        fetch: Duration::from_millis(500),
    };
    let network = LocalNetwork::start(work.path().join("network"), vec![node]);
    let client =
        jsonrpsee::http_client::HttpClientBuilder::default().build(network.url(0)).expect("client");
    let genesis_state = eventually("the genesis state", || async {
        client.light_client_state(0).await.ok().flatten()
    })
    .await
    .state;
    let committee = client.committee(0).await.expect("rpc").expect("committee").commitment;

    // Contracts on both chains, following the network from its genesis state. The network has
    // one unbounded epoch, so the light clients' epochs never end.
    let unique = format!("relayer-e2e-{}", std::process::id());
    let dir = format!("deployments/{unique}");
    let _cleanup = Cleanup(solidity_dir().join(&dir));
    std::fs::create_dir_all(solidity_dir().join(&dir)).expect("deployments dir");
    let genesis_json = serde_json::json!({
        "state": {
            "chainId": genesis_state.chain_id.0,
            "epoch": genesis_state.epoch.0,
            "height": genesis_state.height.0,
            "historyRoot": genesis_state.history_root,
            "nextCommittee": genesis_state.next_committee,
        },
        "committee": committee,
        "epochLength": u64::MAX.to_string(),
        "sources": [
            { "chainId": CHAIN_A, "namespace": NAMESPACES[0] },
            { "chainId": CHAIN_B, "namespace": NAMESPACES[2] },
        ],
    });
    std::fs::write(solidity_dir().join(&dir).join("genesis.json"), genesis_json.to_string())
        .expect("genesis.json");
    let on_a = deploy(&anvil_a.url, &dir, "a");
    let on_b = deploy(&anvil_b.url, &dir, "b");
    tracing::info!(?on_a, ?on_b, "contracts deployed");

    // The relayer's configuration, through the real file format. The first network endpoint
    // is a closed local port: every request must fail over to the validator.
    let dead_endpoint = format!("http://{}", free_addr());
    let config_path = work.path().join("relayer.toml");
    let chain = |name: &str, id: u64, url: &str, d: &Deployment, ns: (u64, u64)| {
        format!(
            r#"
[[chains]]
name = "{name}"
chain_id = {id}
rpc = "{url}"
mailbox = "{}"
light_client = "{}"
message_namespace = {}
block_namespace = {}
owner_key = "owner.toml"
evm_key = "{RELAYER_KEY}"
max_gas_price_wei = 1000000000000
start_block = 0
"#,
            d.mailbox, d.light_client, ns.0, ns.1
        )
    };
    let config = format!(
        r#"
network_rpc = ["{dead_endpoint}", "{}"]
store = "relayer.redb"
metrics = "127.0.0.1:0"
roles = ["post", "prove", "deliver"]
resend_ms = 500

[poll]
evm_ms = 100
network_ms = 100

[retry]
initial_ms = 100
max_ms = 1000

[prover]
keys_dir = "{}"
capacity = {DEVNET_CAPACITY}
{}{}"#,
        network.url(0),
        keys_dir.display(),
        chain("a", CHAIN_A, &anvil_a.url, &on_a, (NAMESPACES[0], NAMESPACES[1])),
        chain("b", CHAIN_B, &anvil_b.url, &on_b, (NAMESPACES[2], NAMESPACES[3])),
    );
    std::fs::write(&config_path, &config).expect("relayer.toml");

    let chain_a = anvil_a.provider(DEPLOYER_KEY);
    let chain_b = anvil_b.provider(DEPLOYER_KEY);
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

/// Every message `Mailbox.send` on `mailbox` emitted, in order.
async fn sent_messages(chain: &DynProvider, mailbox: Address) -> Vec<Mailbox::Message> {
    let filter = Filter::new()
        .address(mailbox)
        .event_signature(Mailbox::MessageSent::SIGNATURE_HASH)
        .from_block(0);
    chain
        .get_logs(&filter)
        .await
        .expect("logs")
        .iter()
        .map(|log| {
            log.log_decode::<Mailbox::MessageSent>().expect("MessageSent").inner.data.message
        })
        .collect()
}

async fn wait_for_total(chain: &DynProvider, counter: Address, total: u64, what: &str) {
    eventually(what, || async {
        (counter_total(chain, counter).await == U256::from(total)).then_some(())
    })
    .await;
}

/// The `trestle-relayer` binary running `run --config`, as an operator would start it.
struct Binary(Child);

impl Binary {
    /// Starts the binary; its logs are appended to `relayer.log` beside the configuration.
    fn start(config: &Path) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(config.with_file_name("relayer.log"))
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_trestle-relayer"))
            .arg("run")
            .arg("--config")
            .arg(config)
            .env("RUST_LOG", "warn,trestle_relayer=info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("trestle-relayer starts");
        Self(child)
    }

    /// SIGKILL: no chance to clean up.
    fn kill_9(mut self) {
        self.0.kill().expect("SIGKILL");
        let _ = self.0.wait();
    }

    /// SIGTERM, then the process must exit cleanly.
    fn terminate(mut self) {
        let pid = self.0.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
        assert!(status.success(), "SIGTERM sent");
        let start = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().expect("wait") {
                assert!(status.success(), "the relayer exits cleanly on SIGTERM: {status}");
                return;
            }
            assert!(start.elapsed() < DEADLINE, "the relayer did not stop on SIGTERM");
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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
