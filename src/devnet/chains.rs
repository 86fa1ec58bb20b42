//! The EVM chains of a devnet: anvil processes with trestle's contracts deployed on them.
//!
//! Foundry comes from the npm registry (`solidity/package.json`, pinned with a lockfile): if
//! `solidity/node_modules` lacks it, `npm ci` runs first. Each chain is an `anvil` started
//! through `solidity/tools/anvil` (which `exec`s the pinned binary, so the process we start *is*
//! anvil and SIGTERM reaches it; npm's `node_modules/.bin/anvil` wrapper would leave the real
//! anvil behind as a grandchild). Contracts are deployed with the repository's forge script
//! `solidity/script/Deploy.s.sol` from anvil's well-known dev account 0.
//!
//! Conventions (also written into `devnet.json`):
//!
//! * rollup chain ids [`DEVNET_EVM_CHAIN_IDS`] (901 and 902), and the L1 (900, see
//!   [`super::l1`]), which gets the same contracts once its StakeTable is deployed;
//! * chain `C`'s **message namespace** is `C` and its **block namespace** is
//!   [`BLOCK_NAMESPACE_OFFSET`]` + C`; both are owned by the devnet's relayer key, so only the
//!   relayer (post role) can write to them;
//! * each chain's `Mailbox` accepts messages from every *other* devnet chain, read from that
//!   chain's message namespace;
//! * each `LightClient` starts at the trestle network's light-client state at the height that
//!   was finalized when the chain was deployed, with the network's epoch length (a devnet
//!   without an L1 has a single epoch: `epochLength` is `u64::MAX`, so
//!   `epoch = height / epochLength` stays 0).
//!
//! Each anvil keeps its state in `DIR/chains/<id>/state.json` (`--state`: loaded at start,
//! written every [`STATE_INTERVAL_SECS`] seconds and when anvil is stopped), so a resumed devnet
//! continues the same chains: the same blocks and hashes, the contracts where they were, the
//! light clients at the states they had proven (the relayer proves them forward, across every
//! epoch hand-off they missed). A chain whose contracts are not all there any more, or that were
//! deployed for other light-client keys, gets them deployed again ([`resume`]).
//!
//! The trestle network records every chain's blocks ([`block_namespace`]), numbered from block
//! 0 as genesis declares: a chain that lost blocks the network recorded (its state file is
//! older than its last blocks, after a `kill -9`, or gone) cannot continue its namespace, and
//! the devnet refuses to start rather than run a relayer that could never post again
//! ([`check_recorded_blocks`]).

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, keccak256};
use jsonrpsee::{
    core::client::ClientT as _,
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
};
use serde::{Deserialize, Serialize};
use trestle_api::TrestleApiClient as _;
use trestle_light_client::LightClientState;

/// EVM chain ids of a devnet's chains.
pub const DEVNET_EVM_CHAIN_IDS: [u64; 2] = [901, 902];

/// Block namespaces are this plus the chain id (message namespaces are the chain id itself).
pub const BLOCK_NAMESPACE_OFFSET: u64 = 1_000_000;

/// Secret key of anvil's dev account 0 (from anvil's public test mnemonic `test test … junk`).
/// A DEV FIXTURE known to everyone: it funds the deployments on devnet chains and nothing else.
pub const ANVIL_DEV_KEY: &str =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// `epochLength` given to devnet light clients: the network has one epoch (see module docs).
pub const DEVNET_EPOCH_LENGTH: u64 = u64::MAX;

/// The trestle namespace of chain `chain_id`'s outgoing messages.
pub const fn message_namespace(chain_id: u64) -> u64 {
    chain_id
}

/// The trestle namespace of chain `chain_id`'s block records.
pub const fn block_namespace(chain_id: u64) -> u64 {
    BLOCK_NAMESPACE_OFFSET + chain_id
}

/// The chain whose blocks namespace `namespace` records, if it is a block namespace.
pub const fn rollup_of_block_namespace(namespace: u64) -> Option<u64> {
    match namespace.checked_sub(BLOCK_NAMESPACE_OFFSET) {
        Some(chain_id) if chain_id != 0 => Some(chain_id),
        _ => None,
    }
}

/// Seconds between an anvil's periodic dumps of its state (it also dumps when stopped with
/// SIGTERM or SIGINT; after SIGKILL, the blocks since the last dump are lost).
pub const STATE_INTERVAL_SECS: u64 = 5;

/// How long an anvil may take to answer after it started.
const ANVIL_START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long to wait for the trestle network to finalize a block before deploying.
const NETWORK_START_TIMEOUT: Duration = Duration::from_secs(90);

/// Why a devnet chain could not be started or deployed.
#[derive(Debug, thiserror::Error)]
pub enum ChainsError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A tool (npm, anvil, forge) could not be run or failed.
    #[error("{tool} failed: {message}")]
    Tool {
        /// The tool.
        tool: &'static str,
        /// Its exit status and the end of its output, or why it could not start.
        message: String,
    },
    /// A JSON file could not be parsed or written.
    #[error("{path}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// An anvil did not answer `eth_chainId` with its chain id in time.
    #[error(
        "anvil for chain {chain_id} at {url} did not answer within {timeout:?}; see {log} (a \
         damaged state.json beside it also stops it)"
    )]
    AnvilNotReady {
        /// The chain.
        chain_id: u64,
        /// Its RPC URL.
        url: String,
        /// How long it was given.
        timeout: Duration,
        /// Its log file.
        log: String,
    },
    /// An EVM or trestle RPC request failed.
    #[error("rpc {url}: {source}")]
    Rpc {
        /// The endpoint.
        url: String,
        /// What went wrong.
        source: jsonrpsee::core::client::Error,
    },
    /// The trestle network did not provide a genesis state for the light clients.
    #[error("trestle network: {0}")]
    Network(String),
    /// The chain lacks a block the trestle network recorded for it, or has another block at
    /// that number: its saved state is older than its blocks (a `kill -9`) or gone.
    #[error(
        "chain {chain_id}: the trestle network records its block {number} as {recorded}, but the \
         chain {found}; a chain that lost recorded blocks cannot continue its block namespace \
         (genesis fixes it), so no message from it could be posted again. Its state in {state} \
         is older than its blocks (the devnet was not stopped cleanly?) or gone: remove the \
         devnet directory to start a new devnet"
    )]
    Diverged {
        /// The chain.
        chain_id: u64,
        /// The network's last record of it.
        number: u64,
        /// The block hash recorded.
        recorded: B256,
        /// What the chain has at that number.
        found: String,
        /// Its state file.
        state: String,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ChainsError + '_ {
    move |source| ChainsError::Io { path: path.to_path_buf(), source }
}

/// Addresses of trestle's contracts on one chain (from `Deploy.s.sol`'s output).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contracts {
    /// The Groth16 verifier of the light-client circuit.
    pub verifier: Address,
    /// The `LightClient`.
    pub light_client: Address,
    /// The CIRC `Mailbox`.
    pub mailbox: Address,
    /// The demo `Counter` recipient.
    pub counter: Address,
    /// `RollupConfirmations` over the rollups' block namespaces (on the L1 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollup_confirmations: Option<Address>,
    /// The demo `RollupSettlement` of the first rollup (on the L1 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollup_settlement: Option<Address>,
}

/// One EVM chain of a devnet, as `devnet.json` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevnetChain {
    /// Human name (`evm-<chainId>`).
    pub name: String,
    /// EVM chain id.
    pub chain_id: u64,
    /// JSON-RPC URL of its anvil.
    pub rpc_url: String,
    /// Process id of its anvil while running (0 when stopped).
    pub pid: u32,
    /// Trestle namespace of its outgoing messages (= chain id).
    pub message_namespace: u64,
    /// Trestle namespace of its block records (= 1,000,000 + chain id).
    pub block_namespace: u64,
    /// The deployed contracts.
    pub contracts: Contracts,
    /// Trestle height of the light client's genesis state.
    pub genesis_height: u64,
    /// The deployer (anvil's dev account 0).
    pub deployer: Address,
    /// anvil's log file.
    pub log: PathBuf,
    /// The deployment record forge wrote (a copy under the devnet directory).
    pub deployment: PathBuf,
}

/// A chain's fixed parameters, chosen when the devnet directory is first used
/// (`DIR/chains.json`), so that its RPC URL stays the same across runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainPlan {
    /// EVM chain id.
    pub chain_id: u64,
    /// anvil's port on 127.0.0.1.
    pub port: u16,
}

impl ChainPlan {
    /// The anvil's JSON-RPC URL.
    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Where this chain's files live under the devnet directory.
    pub fn dir(&self, devnet_dir: &Path) -> PathBuf {
        devnet_dir.join("chains").join(self.chain_id.to_string())
    }

    /// Where its anvil keeps its state across runs.
    pub fn state_file(&self, devnet_dir: &Path) -> PathBuf {
        self.dir(devnet_dir).join("state.json")
    }
}

/// The chains of the devnet in `dir`: read from `DIR/chains.json`, or planned (free ports) and
/// written there on first use.
pub fn plan(dir: &Path) -> Result<Vec<ChainPlan>, ChainsError> {
    let path = dir.join("chains.json");
    if path.exists() {
        let text = fs::read_to_string(&path).map_err(io_error(&path))?;
        return serde_json::from_str(&text)
            .map_err(|e| ChainsError::Json { path: path.clone(), message: e.to_string() });
    }
    // Every listener is held until all ports are known, so no two chains get one port.
    let mut held = Vec::with_capacity(DEVNET_EVM_CHAIN_IDS.len());
    let mut plans = Vec::with_capacity(DEVNET_EVM_CHAIN_IDS.len());
    for chain_id in DEVNET_EVM_CHAIN_IDS {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(io_error(&path))?;
        let port = listener.local_addr().map_err(io_error(&path))?.port();
        held.push(listener);
        plans.push(ChainPlan { chain_id, port });
    }
    drop(held);
    let text = serde_json::to_string_pretty(&plans)
        .map_err(|e| ChainsError::Json { path: path.clone(), message: e.to_string() })?;
    fs::write(&path, text + "\n").map_err(io_error(&path))?;
    Ok(plans)
}

/// Runs `command` in `cwd` to completion; an error carries the end of its output.
fn run_tool(
    tool: &'static str,
    mut command: Command,
    cwd: &Path,
) -> Result<std::process::Output, ChainsError> {
    let output = command
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| ChainsError::Tool { tool, message: format!("cannot start: {e}") })?;
    if !output.status.success() {
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        // The end of the output is where tools say what went wrong.
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        return Err(ChainsError::Tool { tool, message: format!("{}\n{tail}", output.status) });
    }
    Ok(output)
}

/// Makes sure the pinned Foundry binaries are installed under `solidity/node_modules`, running
/// `npm ci` there if they are not (the devnet installs what it needs itself).
pub fn ensure_foundry(solidity: &Path) -> Result<(), ChainsError> {
    let works = |tool: &str| {
        Command::new(solidity.join("tools").join(tool))
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if works("anvil") && works("forge") {
        return Ok(());
    }
    eprintln!("installing Foundry from npm (npm ci in {})…", solidity.display());
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund"]);
    run_tool("npm ci", npm, solidity)?;
    if works("anvil") && works("forge") {
        Ok(())
    } else {
        Err(ChainsError::Tool {
            tool: "npm ci",
            message: "Foundry is still not runnable after `npm ci`".into(),
        })
    }
}

/// Starts an anvil for `plan`, its output appended to `DIR/chains/<id>/anvil.log`, its state
/// loaded from and saved to `DIR/chains/<id>/state.json`; it mines a block per transaction, and
/// also every `block_time` seconds if given (an L1 whose head must move on its own).
pub fn spawn_anvil(
    solidity: &Path,
    devnet_dir: &Path,
    plan: &ChainPlan,
    block_time: Option<u64>,
) -> Result<(Child, PathBuf), ChainsError> {
    let home = plan.dir(devnet_dir);
    fs::create_dir_all(&home).map_err(io_error(&home))?;
    let log_path = home.join("anvil.log");
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(io_error(&log_path))?;
    let stderr = log.try_clone().map_err(io_error(&log_path))?;
    let mut anvil = Command::new(solidity.join("tools/anvil"));
    anvil
        .args(["--host", "127.0.0.1", "--port", &plan.port.to_string()])
        .args(["--chain-id", &plan.chain_id.to_string()])
        .arg("--state")
        .arg(plan.state_file(devnet_dir))
        .args(["--state-interval", &STATE_INTERVAL_SECS.to_string()]);
    if let Some(seconds) = block_time {
        anvil.args(["--block-time", &seconds.to_string()]);
    }
    let child =
        anvil.stdin(Stdio::null()).stdout(log).stderr(stderr).spawn().map_err(|e| {
            ChainsError::Tool { tool: "anvil", message: format!("cannot start: {e}") }
        })?;
    Ok((child, log_path))
}

/// An HTTP JSON-RPC client for `url`.
pub fn client(url: &str) -> Result<HttpClient, ChainsError> {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(10))
        .build(url)
        .map_err(|source| ChainsError::Rpc { url: url.to_owned(), source })
}

/// `eth_chainId` of the EVM node behind `client`.
pub async fn eth_chain_id(client: &HttpClient, url: &str) -> Result<u64, ChainsError> {
    let hex: String = client
        .request("eth_chainId", rpc_params![])
        .await
        .map_err(|source| ChainsError::Rpc { url: url.to_owned(), source })?;
    u64::from_str_radix(hex.trim_start_matches("0x"), 16)
        .map_err(|e| ChainsError::Network(format!("{url}: eth_chainId {hex:?}: {e}")))
}

/// Waits until the anvil of `plan` answers with its chain id.
pub async fn wait_for_anvil(plan: &ChainPlan, log: &Path) -> Result<(), ChainsError> {
    let url = plan.rpc_url();
    let client = client(&url)?;
    let deadline = Instant::now() + ANVIL_START_TIMEOUT;
    loop {
        if eth_chain_id(&client, &url).await.ok() == Some(plan.chain_id) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(ChainsError::AnvilNotReady {
                chain_id: plan.chain_id,
                url,
                timeout: ANVIL_START_TIMEOUT,
                log: log.display().to_string(),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The light clients' genesis: a finalized light-client state of the trestle network and the
/// commitment of its epoch's committee (checked against the members).
#[derive(Clone, Debug)]
pub struct LightClientGenesis {
    /// The state (decoded strictly from its canonical encoding).
    pub state: LightClientState,
    /// Commitment of the committee of the state's epoch.
    pub committee: B256,
    /// The network's epoch length ([`DEVNET_EPOCH_LENGTH`] for one endless epoch).
    pub epoch_length: u64,
}

/// Waits for the network behind `trestle_rpc` to finalize a block, then takes the light-client
/// state of its newest finalized height.
pub async fn light_client_genesis(trestle_rpc: &str) -> Result<LightClientGenesis, ChainsError> {
    let client = client(trestle_rpc)?;
    let rpc_error = |source| ChainsError::Rpc { url: trestle_rpc.to_owned(), source };
    let deadline = Instant::now() + NETWORK_START_TIMEOUT;
    let height = loop {
        match client.block_height().await {
            Ok(height) if height >= 1 => break height,
            _ if Instant::now() > deadline => {
                return Err(ChainsError::Network(format!(
                    "{trestle_rpc} finalized no block within {NETWORK_START_TIMEOUT:?}"
                )));
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    let response =
        client.light_client_state(height).await.map_err(rpc_error)?.ok_or_else(|| {
            ChainsError::Network(format!("no light-client state at height {height}"))
        })?;
    let state = response
        .decode()
        .map_err(|e| ChainsError::Network(format!("malformed light-client state: {e}")))?;
    let info =
        client.committee(state.epoch.get()).await.map_err(rpc_error)?.ok_or_else(|| {
            ChainsError::Network(format!("no committee for epoch {}", state.epoch))
        })?;
    let committee = info
        .to_committee()
        .map_err(|e| ChainsError::Network(format!("committee of epoch {}: {e}", state.epoch)))?;
    Ok(LightClientGenesis {
        state,
        committee: committee.commitment_bytes(),
        epoch_length: DEVNET_EPOCH_LENGTH,
    })
}

/// `solidity/deployments/devnet-<tag>/`: where this devnet's deploy inputs and outputs go while
/// forge runs (forge scripts may only touch `solidity/deployments/`); the tag, derived from the
/// devnet directory's absolute path, keeps concurrent devnets apart. Removed after deploying.
fn deployments_dir(devnet_dir: &Path) -> Result<PathBuf, ChainsError> {
    let absolute = std::path::absolute(devnet_dir).map_err(io_error(devnet_dir))?;
    let digest = keccak256(absolute.as_os_str().as_encoded_bytes());
    Ok(PathBuf::from("deployments").join(format!("devnet-{}", hex::encode(&digest[..4]))))
}

/// What `Deploy.s.sol` writes.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeploymentOutput {
    deployer: Address,
    verifier: Address,
    light_client: Address,
    mailbox: Address,
    counter: Address,
    genesis_height: u64,
    #[serde(default)]
    rollup_confirmations: Option<Address>,
    #[serde(default)]
    rollup_settlement: Option<Address>,
}

impl DeploymentOutput {
    /// The deployment it describes, recorded in `record`.
    fn deployment(self, record: PathBuf) -> Deployment {
        Deployment {
            contracts: Contracts {
                verifier: self.verifier,
                light_client: self.light_client,
                mailbox: self.mailbox,
                counter: self.counter,
                rollup_confirmations: self.rollup_confirmations,
                rollup_settlement: self.rollup_settlement,
            },
            deployer: self.deployer,
            genesis_height: self.genesis_height,
            record,
        }
    }
}

/// One chain's deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// The contracts.
    pub contracts: Contracts,
    /// Who deployed them (anvil's dev account 0).
    pub deployer: Address,
    /// Trestle height of the light client's genesis state.
    pub genesis_height: u64,
    /// The deployment record (forge's output, copied under the devnet directory).
    pub record: PathBuf,
}

/// Deploys trestle's contracts on the chain of `plan` with `solidity/script/Deploy.s.sol`:
/// light client at `genesis`, mailbox sources = the other chains' message namespaces; on the
/// chain that `settles_rollups` (the L1) also `RollupConfirmations` over the other chains' block
/// namespaces and the first rollup's demo `RollupSettlement`. The light clients verify with the
/// committed (INSECURE dev) verifier, or with the one deployed from `verifier_code` (creation
/// code, `0x` hex; see [`super::verifier`]).
pub fn deploy(
    solidity: &Path,
    devnet_dir: &Path,
    plan: &ChainPlan,
    all: &[ChainPlan],
    genesis: &LightClientGenesis,
    settles_rollups: bool,
    verifier_code: Option<&str>,
) -> Result<Deployment, ChainsError> {
    let relative = deployments_dir(devnet_dir)?.join(plan.chain_id.to_string());
    let absolute = solidity.join(&relative);
    fs::create_dir_all(&absolute).map_err(io_error(&absolute))?;
    let sources: Vec<serde_json::Value> = all
        .iter()
        .filter(|other| other.chain_id != plan.chain_id)
        .map(|other| {
            serde_json::json!({
                "chainId": other.chain_id,
                "namespace": message_namespace(other.chain_id),
            })
        })
        .collect();
    let state = &genesis.state;
    // u64 fields as decimal strings: JSON numbers above 2^53 lose precision in some parsers.
    let mut input = serde_json::json!({
        "comment": "written by `trestle devnet`: the trestle network's state when this chain was deployed",
        "state": {
            "chainId": state.chain_id.get().to_string(),
            "epoch": state.epoch.get().to_string(),
            "height": state.height.get().to_string(),
            "historyRoot": state.history_root,
            "nextCommittee": state.next_committee,
        },
        "committee": genesis.committee,
        "epochLength": genesis.epoch_length.to_string(),
        "sources": sources,
    });
    // The L1 settles the rollups: RollupConfirmations over their block namespaces, and the
    // demo settlement contract of the first one (its proposer: the deployer).
    if settles_rollups {
        let rollups: Vec<serde_json::Value> = all
            .iter()
            .filter(|other| other.chain_id != plan.chain_id)
            .map(|other| {
                serde_json::json!({
                    "chainId": other.chain_id,
                    "blockNamespace": block_namespace(other.chain_id),
                })
            })
            .collect();
        input["rollups"] = serde_json::Value::from(rollups);
        input["settlementChainId"] = serde_json::Value::from(DEVNET_EVM_CHAIN_IDS[0]);
    }
    let genesis_path = absolute.join("genesis.json");
    let text = serde_json::to_string_pretty(&input)
        .map_err(|e| ChainsError::Json { path: genesis_path.clone(), message: e.to_string() })?;
    fs::write(&genesis_path, text + "\n").map_err(io_error(&genesis_path))?;
    let output_path = absolute.join("deployment.json");
    // A stale record from an earlier run must not pass for this deployment.
    let _ = fs::remove_file(&output_path);

    let mut forge = Command::new(solidity.join("tools/forge"));
    forge
        .args(["script", "script/Deploy.s.sol", "--broadcast", "--skip", "test"])
        // One transaction at a time, each after the previous one's receipt: sent back to back,
        // anvil 1.7.1 once left a deployment queued for ever behind its mined predecessor (a
        // nonce it no longer waited for), and forge waited with it.
        .arg("--slow")
        .args(["--rpc-url", &plan.rpc_url(), "--private-key", ANVIL_DEV_KEY])
        .env("GENESIS_JSON", relative.join("genesis.json"))
        .env("DEPLOYMENT_JSON", relative.join("deployment.json"));
    if let Some(code) = verifier_code {
        forge.env("VERIFIER_CREATION_CODE", code);
    }
    run_tool("forge script Deploy.s.sol", forge, solidity)?;

    let text = fs::read_to_string(&output_path).map_err(io_error(&output_path))?;
    let output: DeploymentOutput = serde_json::from_str(&text)
        .map_err(|e| ChainsError::Json { path: output_path.clone(), message: e.to_string() })?;
    // Keep a copy beside the rest of the devnet's files.
    let home = plan.dir(devnet_dir);
    fs::create_dir_all(&home).map_err(io_error(&home))?;
    let copy = home.join("deployment.json");
    fs::write(&copy, &text).map_err(io_error(&copy))?;
    fs::copy(&genesis_path, home.join("light-client-genesis.json")).map_err(io_error(&home))?;
    let marker = home.join(VERIFIER_MARKER);
    fs::write(&marker, verifier_id(verifier_code) + "\n").map_err(io_error(&marker))?;
    // solidity/deployments/ is only forge's scratch space here: the copies above are the record.
    let _ = fs::remove_dir_all(&absolute);
    if let Some(parent) = absolute.parent() {
        // Only succeeds once the devnet's last chain is done (the directory is empty).
        let _ = fs::remove_dir(parent);
    }
    Ok(output.deployment(copy))
}

/// The file beside a chain's deployment record naming the verifier its light client uses
/// ([`verifier_id`]).
const VERIFIER_MARKER: &str = "verifier";

/// Which light-client keys a deployment verifies with: the committed INSECURE dev verifier, or
/// the one from `verifier_code` (by its keccak256).
pub fn verifier_id(verifier_code: Option<&str>) -> String {
    match verifier_code {
        None => "insecure-dev".into(),
        Some(code) => format!("keccak256 {}", keccak256(code.trim().as_bytes())),
    }
}

/// The deployment of an earlier run on the chain of `plan`, if its record is in the devnet
/// directory, it was made for the verifier of `verifier_code`, and every contract it lists has
/// code on the chain now (the chain kept its state). `None` means: deploy.
pub async fn resume(
    devnet_dir: &Path,
    plan: &ChainPlan,
    verifier_code: Option<&str>,
) -> Result<Option<Deployment>, ChainsError> {
    let home = plan.dir(devnet_dir);
    let record = home.join("deployment.json");
    let (Ok(text), Ok(marker)) =
        (fs::read_to_string(&record), fs::read_to_string(home.join(VERIFIER_MARKER)))
    else {
        return Ok(None);
    };
    if marker.trim() != verifier_id(verifier_code) {
        return Ok(None);
    }
    let output: DeploymentOutput = serde_json::from_str(&text)
        .map_err(|e| ChainsError::Json { path: record.clone(), message: e.to_string() })?;
    let url = plan.rpc_url();
    let client = client(&url)?;
    let deployment = output.deployment(record);
    let contracts = &deployment.contracts;
    let listed = [contracts.verifier, contracts.light_client, contracts.mailbox, contracts.counter]
        .into_iter()
        .chain(contracts.rollup_confirmations)
        .chain(contracts.rollup_settlement);
    for address in listed {
        let code: String = client
            .request("eth_getCode", rpc_params![address, "latest"])
            .await
            .map_err(|source| ChainsError::Rpc { url: url.clone(), source })?;
        if code.trim_start_matches("0x").is_empty() {
            return Ok(None);
        }
    }
    Ok(Some(deployment))
}

/// Checks that the chain of `plan` has the block the trestle network behind `trestle_rpc` last
/// recorded for it ([`ChainsError::Diverged`] if not): only then can its records continue.
pub async fn check_recorded_blocks(
    trestle_rpc: &str,
    devnet_dir: &Path,
    plan: &ChainPlan,
) -> Result<(), ChainsError> {
    let network = client(trestle_rpc)?;
    let namespace = network
        .record_namespace(block_namespace(plan.chain_id))
        .await
        .map_err(|source| ChainsError::Rpc { url: trestle_rpc.to_owned(), source })?;
    let Some(confirmed) = namespace.confirmed else { return Ok(()) };
    let url = plan.rpc_url();
    let block: Option<serde_json::Value> = client(&url)?
        .request("eth_getBlockByNumber", rpc_params![format!("{:#x}", confirmed.last), false])
        .await
        .map_err(|source| ChainsError::Rpc { url: url.clone(), source })?;
    let hash = block.as_ref().and_then(|b| b["hash"].as_str()).and_then(|h| h.parse::<B256>().ok());
    if hash == Some(confirmed.last_hash) {
        return Ok(());
    }
    Err(ChainsError::Diverged {
        chain_id: plan.chain_id,
        number: confirmed.last,
        recorded: confirmed.last_hash,
        found: match hash {
            Some(hash) => format!("has {hash} there"),
            None => "has no such block".into(),
        },
        state: plan.state_file(devnet_dir).display().to_string(),
    })
}
