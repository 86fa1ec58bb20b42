//! The end-to-end harness shared by the relayer's tests over real parts: anvil chains with the
//! contracts deployed by the forge script, a four-validator trestle network
//! (`trestle_node::testing`'s loopback network: authenticated p2p and the JSON-RPC server,
//! started as the process does), the INSECURE dev Groth16 keys at the devnet capacity, and the
//! relayer, in this process ([`Relayer`]) or as the real binary ([`Binary`]).
//!
//! Needs the Foundry binaries from `solidity/` (`cd solidity && npm ci`); without them a test
//! fails with that instruction rather than passing vacuously.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use alloy::{
    network::EthereumWallet,
    primitives::{Address, Bytes, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::Filter,
    signers::local::PrivateKeySigner,
};
use alloy_sol_types::SolEvent as _;
use jsonrpsee::http_client::HttpClient;
use tempfile::TempDir;
use trestle_api::{Genesis, GenesisLimits, OwnedNamespace, TrestleApiClient as _, ValidatorKeys};
use trestle_circuits::setup::DEVNET_CAPACITY;
use trestle_node::{
    Timeouts, Validator,
    testing::local::{LocalNetwork, free_addr},
};
use trestle_relayer::{
    bindings::{Counter, Mailbox},
    config::Config,
};

/// How long any wait in these tests may take before it fails.
pub(crate) const DEADLINE: Duration = Duration::from_secs(120);
/// Anvil's well-known account 0: deploys and sends the messages.
pub(crate) const DEPLOYER_KEY: &str =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// Anvil's well-known account 1: the relayer's EVM key.
pub(crate) const RELAYER_KEY: &str =
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// The trestle network's chain id.
pub(crate) const NETWORK_CHAIN_ID: u64 = 7_700;
/// The two EVM chains.
pub(crate) const CHAIN_A: u64 = 31_337;
pub(crate) const CHAIN_B: u64 = 31_338;
/// Namespaces: A's messages and blocks, B's messages and blocks.
pub(crate) const NAMESPACES: [u64; 4] = [1_001, 1_002, 2_001, 2_002];

/// Logs of a test: the relayer's filter (arkworks' never-closed constraint spans stay off, see
/// `PROVER_SPAN_TARGETS`), the validator's consensus chatter below warnings.
pub(crate) fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(trestle_relayer::log_filter("warn,it=info,trestle_relayer=info"))
        .with_test_writer()
        .try_init();
}

/// Two anvil chains A and B with the contracts deployed, a four-validator network whose light
/// clients they follow, and what a relayer configuration needs. Everything stops on drop.
pub(crate) struct World {
    pub(crate) work: TempDir,
    pub(crate) keys_dir: PathBuf,
    pub(crate) anvil_a: Anvil,
    pub(crate) anvil_b: Anvil,
    pub(crate) network: LocalNetwork,
    /// A client of the first validator (the one relayers talk to).
    pub(crate) client: HttpClient,
    /// The namespaces' owner (signs what the post role submits).
    pub(crate) owner: ValidatorKeys,
    pub(crate) on_a: Deployment,
    pub(crate) on_b: Deployment,
    /// The contracts' deployment directory, relative to `solidity/` (for [`deploy`]).
    pub(crate) deployments: String,
    _cleanup: Cleanup,
}

/// What a test's relayer configuration varies.
pub(crate) struct Options<'a> {
    /// The network endpoints, in order (default: the first validator only).
    pub(crate) network_rpc: Vec<String>,
    /// `roles = [...]`.
    pub(crate) roles: &'a str,
    /// Chain A's `head` setting (absent: the default).
    pub(crate) head_a: Option<&'a str>,
    /// The metrics and status address (default: a free port nobody learns).
    pub(crate) metrics: Option<std::net::SocketAddr>,
}

impl World {
    /// Starts everything; `anvil_a_args` go to chain A's anvil.
    pub(crate) async fn start(name: &str, anvil_a_args: &[&str]) -> Self {
        let work = tempfile::tempdir().expect("temp dir");
        // The INSECURE dev keys (matching the committed verifier at capacity 4), or those of
        // an earlier run.
        let keys_dir =
            tokio::task::spawn_blocking(crate::dev_keys::dev_keys_dir).await.expect("setup task");
        tracing::info!(keys = %keys_dir.display(), "dev keys ready");

        let anvil_a = Anvil::start_with(CHAIN_A, anvil_a_args);
        let anvil_b = Anvil::start(CHAIN_B);
        anvil_a.ready(CHAIN_A).await;
        anvil_b.ready(CHAIN_B).await;
        tracing::info!(a = %anvil_a.url, b = %anvil_b.url, "anvils ready");

        // The network: four validators (the smallest committee: blocks travel erasure-coded,
        // which needs f ≥ 1); one owner key for all four namespaces. The relayer talks to the
        // first.
        let validators: Vec<ValidatorKeys> = (0..4u8)
            .map(|i| ValidatorKeys::from_entropy([11 + 2 * i; 32], [12 + 2 * i; 32]).expect("keys"))
            .collect();
        let owner = ValidatorKeys::from_entropy([21; 32], [22; 32]).expect("keys");
        owner.save(&work.path().join("owner.toml")).expect("owner key file");
        let genesis = Genesis {
            chain_id: NETWORK_CHAIN_ID,
            epoch: 0,
            epoch_length: None,
            l1: None,
            timestamp_ms: 0,
            min_block_interval_ms: 100,
            committee_capacity: DEVNET_CAPACITY,
            validators: validators.iter().map(ValidatorKeys::genesis_entry).collect(),
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
                    // The relayer's `start_block = 0`.
                    first_record: 0,
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
        let nodes = validators
            .into_iter()
            .enumerate()
            .map(|(i, keys)| {
                let prefix = if i == 0 { name.to_owned() } else { format!("{name}{i}") };
                let mut node =
                    Validator::new(resolved.clone(), keys, prefix).expect("a genesis validator");
                node.timeouts = Timeouts {
                    leader: Duration::from_millis(500),
                    certification: Duration::from_millis(1_000),
                    timeout_retry: Duration::from_millis(1_000),
                    skip: Duration::from_secs(5),
                    fetch: Duration::from_millis(500),
                };
                node
            })
            .collect();
        let network = LocalNetwork::start(work.path().join("network"), nodes);
        let client = jsonrpsee::http_client::HttpClientBuilder::default()
            .build(network.url(0))
            .expect("client");
        let genesis_state = eventually("the genesis state", || async {
            client.light_client_state(0).await.ok().flatten()
        })
        .await
        .state;
        let committee = client.committee(0).await.expect("rpc").expect("committee").commitment;

        // Contracts on both chains, following the network from its genesis state. The network
        // has one unbounded epoch, so the light clients' epochs never end.
        let dir = format!("deployments/{name}-{}", std::process::id());
        let cleanup = Cleanup(solidity_dir().join(&dir));
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
        Self {
            work,
            keys_dir,
            anvil_a,
            anvil_b,
            network,
            client,
            owner,
            on_a,
            on_b,
            deployments: dir,
            _cleanup: cleanup,
        }
    }

    /// The validator's JSON-RPC URL.
    pub(crate) fn network_url(&self) -> String {
        self.network.url(0)
    }

    /// The default options: every role, the validator's endpoint only, chain A posted at its
    /// latest block.
    pub(crate) fn options(&self) -> Options<'static> {
        Options {
            network_rpc: vec![self.network_url()],
            roles: r#"["post", "prove", "deliver"]"#,
            // Anvil's `finalized` lags 64 blocks, and these chains mine only on demand.
            head_a: Some("latest"),
            metrics: None,
        }
    }

    /// A relayer configuration (TOML, the real file format) with its store `store` in the work
    /// directory, quick polls and retries, and the metrics and status endpoint on a free port.
    pub(crate) fn config(&self, options: &Options<'_>) -> String {
        let chain = |name: &str, id: u64, url: &str, d: &Deployment, ns: (u64, u64), head| {
            let head = match head {
                Some(head) => format!("head = \"{head}\"\n"),
                None => String::new(),
            };
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
{head}"#,
                d.mailbox, d.light_client, ns.0, ns.1
            )
        };
        let endpoints: Vec<String> =
            options.network_rpc.iter().map(|url| format!("\"{url}\"")).collect();
        format!(
            r#"
network_rpc = [{}]
store = "relayer.redb"
metrics = "{}"
roles = {}
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
            endpoints.join(", "),
            options.metrics.map_or_else(|| "127.0.0.1:0".to_owned(), |addr| addr.to_string()),
            options.roles,
            self.keys_dir.display(),
            chain(
                "a",
                CHAIN_A,
                &self.anvil_a.url,
                &self.on_a,
                (NAMESPACES[0], NAMESPACES[1]),
                options.head_a
            ),
            // B is only a destination here, and its anvil has no `finalized` worth waiting for.
            chain(
                "b",
                CHAIN_B,
                &self.anvil_b.url,
                &self.on_b,
                (NAMESPACES[2], NAMESPACES[3]),
                Some("latest")
            ),
        )
    }

    /// Writes `config` as `file` in the work directory; returns its path.
    pub(crate) fn write_config(&self, file: &str, config: &str) -> PathBuf {
        let path = self.work.path().join(file);
        std::fs::write(&path, config).expect("relayer config");
        path
    }
}

pub(crate) fn solidity_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("solidity")
}

pub(crate) fn foundry_tool(name: &str) -> PathBuf {
    let tool = solidity_dir().join("tools").join(name);
    let installed = solidity_dir().join("node_modules").join("@foundry-rs");
    assert!(
        installed.is_dir(),
        "Foundry is missing: run `cd solidity && npm ci` before the relayer's tests"
    );
    tool
}

/// Polls `check` until it returns `Some`, failing after [`DEADLINE`].
pub(crate) async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
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
pub(crate) struct Anvil {
    child: Child,
    pub(crate) url: String,
}

impl Anvil {
    pub(crate) fn start(chain_id: u64) -> Self {
        Self::start_with(chain_id, &[])
    }

    /// Starts anvil with `extra` arguments (say, `--slots-in-an-epoch 1`).
    pub(crate) fn start_with(chain_id: u64, extra: &[&str]) -> Self {
        let addr = free_addr();
        let child = Command::new(foundry_tool("anvil"))
            .args(["--host", "127.0.0.1", "--port", &addr.port().to_string()])
            .args(["--chain-id", &chain_id.to_string()])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("anvil starts");
        Self { child, url: format!("http://{addr}") }
    }

    pub(crate) fn provider(&self, key: &str) -> DynProvider {
        let signer: PrivateKeySigner = key.parse().expect("key");
        ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(self.url.parse().expect("url"))
            .erased()
    }

    pub(crate) async fn ready(&self, chain_id: u64) {
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
pub(crate) struct Deployment {
    pub(crate) light_client: Address,
    pub(crate) mailbox: Address,
    pub(crate) counter: Address,
}

/// Runs `script/Deploy.s.sol` against `url`; `dir` is relative to `solidity/` and must lie
/// under `deployments/` (the only directory forge lets scripts write).
pub(crate) fn deploy(url: &str, dir: &str, name: &str) -> Deployment {
    let out = format!("{dir}/{name}.json");
    let output = Command::new(foundry_tool("forge"))
        .current_dir(solidity_dir())
        .args(["script", "script/Deploy.s.sol", "--rpc-url", url, "--broadcast"])
        // One transaction at a time (see `trestle::devnet::chains::deploy`: back-to-back sends
        // once left one queued for ever in anvil, and forge waiting on it).
        .arg("--slow")
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

/// Removes a directory under `solidity/deployments/` on drop.
pub(crate) struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running relayer (in this process, on the test's runtime).
pub(crate) struct Relayer {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), trestle_relayer::RelayError>>,
}

impl Relayer {
    pub(crate) fn start(config_path: &Path) -> Self {
        let config = Config::load(config_path).expect("relayer config");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(trestle_relayer::run(config, async move {
            let _ = stopped.await;
        }));
        Self { stop, task }
    }

    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("relayer task").expect("relayer stops cleanly");
    }
}

/// The gas `Counter.onMessage` gets on B (a few storage writes need far less).
pub(crate) const MESSAGE_GAS_LIMIT: u64 = 200_000;

/// `Mailbox.send` on A (`mailbox`) to `to` on B, through B's mailbox `dest_mailbox`.
pub(crate) async fn send_message(
    chain: &DynProvider,
    mailbox: Address,
    dest_mailbox: Address,
    to: Address,
    payload: &str,
) {
    send_message_with_gas(chain, mailbox, dest_mailbox, to, payload, MESSAGE_GAS_LIMIT).await;
}

/// [`send_message`] with `gas_limit` for the recipient.
pub(crate) async fn send_message_with_gas(
    chain: &DynProvider,
    mailbox: Address,
    dest_mailbox: Address,
    to: Address,
    payload: &str,
    gas_limit: u64,
) {
    let receipt = Mailbox::new(mailbox, chain.clone())
        .send(CHAIN_B, dest_mailbox, to, 7, gas_limit, Bytes::copy_from_slice(payload.as_bytes()))
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(receipt.status(), "Mailbox.send succeeded");
}

pub(crate) async fn counter_total(chain: &DynProvider, counter: Address) -> U256 {
    Counter::new(counter, chain.clone()).total().call().await.expect("Counter.total")
}

pub(crate) async fn deliveries_on(chain: &DynProvider, mailbox: Address) -> usize {
    let filter = Filter::new()
        .address(mailbox)
        .event_signature(Mailbox::MessageDelivered::SIGNATURE_HASH)
        .from_block(0);
    chain.get_logs(&filter).await.expect("logs").len()
}

/// Every message `Mailbox.send` on `mailbox` emitted, in order.
pub(crate) async fn sent_messages(chain: &DynProvider, mailbox: Address) -> Vec<Mailbox::Message> {
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

pub(crate) async fn wait_for_total(chain: &DynProvider, counter: Address, total: u64, what: &str) {
    eventually(what, || async {
        (counter_total(chain, counter).await == U256::from(total)).then_some(())
    })
    .await;
}

/// The `trestle-relayer` binary running `run --config`, as an operator would start it.
/// The process, and its log.
pub(crate) struct Binary(Child, PathBuf);

impl Binary {
    /// Starts the binary; its logs are appended to `relayer.log` beside the configuration.
    pub(crate) fn start(config: &Path) -> Self {
        Self::start_with(config, &[])
    }

    /// Starts the binary armed to abort at the named crash point `point`
    /// (`trestle_relayer::faults`).
    pub(crate) fn start_crashing_at(config: &Path, point: &str) -> Self {
        Self::start_with(config, &[(trestle_relayer::faults::CRASH_AT, point)])
    }

    fn start_with(config: &Path, env: &[(&str, &str)]) -> Self {
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
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("trestle-relayer starts");
        Self(child, config.with_file_name("relayer.log"))
    }

    /// Waits (at most [`DEADLINE`]) for the process to exit by itself; returns how it ended.
    pub(crate) async fn exited(mut self) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().expect("wait") {
                return status;
            }
            if start.elapsed() >= DEADLINE {
                let log = std::fs::read_to_string(&self.1).unwrap_or_default();
                let lines: Vec<&str> = log.lines().collect();
                let tail = lines[lines.len().saturating_sub(40)..].join("\n");
                panic!("the relayer did not exit; its log ends:\n{tail}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no chance to clean up.
    pub(crate) fn kill_9(mut self) {
        self.0.kill().expect("SIGKILL");
        let _ = self.0.wait();
    }

    /// SIGTERM, then the process must exit cleanly.
    pub(crate) fn terminate(mut self) {
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
