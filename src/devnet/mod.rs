//! A local network in one directory: keys, genesis and node configurations generated on first
//! run, validator processes on loopback, and `devnet.json` describing what runs where.
//!
//! Layout of `DIR`:
//!
//! ```text
//! DIR/genesis.json              the network's genesis (shared by every validator)
//! DIR/devnet.json               what is running: chain id, every validator's endpoints and pid,
//!                               the EVM chains with their contracts and namespaces
//! DIR/node{i}/keys.toml         validator i's secret keys (DEV ONLY, generated locally)
//! DIR/node{i}/node.toml         validator i's configuration (ports fixed at first run)
//! DIR/node{i}/data/             validator i's storage (journal, archives)
//! DIR/node{i}/node.log          validator i's log
//! DIR/relayer/owner.toml        the relayer's key (DEV ONLY; `trestle keygen` format): owner of
//!                               every devnet chain's message and block namespace
//! DIR/relayer/relayer.toml      the relayer's configuration (rewritten on every start)
//! DIR/relayer/relayer.redb      its store; DIR/relayer/relayer.log its log
//! DIR/keys/                     the INSECURE dev proving key of the light-client circuit
//! DIR/chains.json               the EVM chains' ids and anvil ports (fixed at first run)
//! DIR/chains/<id>/anvil.log     chain <id>'s anvil log
//! DIR/chains/<id>/deployment.json, light-client-genesis.json   its contracts and their genesis
//!                               (written by forge under solidity/deployments/, then moved here)
//! ```
//!
//! With the EVM chains deployed, the devnet starts the relayer ([`relayer`]; restarted if it
//! exits) and sends a demo message from the first chain's `Mailbox` to the second chain's
//! `Counter`, printing its delivery ([`messages`]).
//!
//! Running again with the same directory resumes every validator from its storage; the EVM
//! chains (anvil, in memory) start afresh, the contracts are redeployed (see [`crate::chains`])
//! and the relayer starts with an empty store. (The network keeps the messages of earlier runs:
//! on a devnet they could be delivered again to the new, identically addressed mailboxes.)

pub mod messages;
pub mod relayer;

use std::{
    fs,
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context as _, bail};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use serde::{Deserialize, Serialize};
use trestle_api::{Genesis, GenesisLimits, OwnedNamespace, TrestleApiClient as _, ValidatorKeys};
use trestle_node::service::{NodeConfig, PeerConfig, TimeoutsConfig};

use crate::chains::{self, DevnetChain};

use self::{messages::DemoRecord, relayer::DevnetRelayer};

/// Chain id of devnets.
pub const DEVNET_CHAIN_ID: u64 = 31_337;

/// Pace of an idle devnet (ms between blocks).
pub const DEVNET_BLOCK_INTERVAL_MS: u64 = 200;

/// One validator of a devnet, as `devnet.json` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevnetValidator {
    /// Index (directory `node{index}`).
    pub index: usize,
    /// ed25519 consensus public key.
    pub consensus_key: String,
    /// EdDSA-Poseidon light-client public key (circomlib coordinates).
    pub light_client_key: String,
    /// p2p address.
    pub p2p: SocketAddr,
    /// JSON-RPC URL (HTTP; the same port serves WebSocket).
    pub rpc_url: String,
    /// WebSocket URL of the same server.
    pub ws_url: String,
    /// Prometheus metrics URL.
    pub metrics_url: String,
    /// Process id while running (0 before start).
    pub pid: u32,
    /// Node configuration file.
    pub config: PathBuf,
    /// Log file.
    pub log: PathBuf,
}

/// `DIR/devnet.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevnetFile {
    /// The network's chain id.
    pub chain_id: u64,
    /// The genesis file.
    pub genesis: PathBuf,
    /// The validators.
    pub validators: Vec<DevnetValidator>,
    /// The relayer's key file (owner of the chains' namespaces), if this devnet has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relayer_key: Option<PathBuf>,
    /// How chains map to namespaces (see [`NAMESPACE_CONVENTION`]).
    #[serde(default)]
    pub namespace_convention: String,
    /// The EVM chains (empty until deployed, or with `--no-evm`).
    #[serde(default)]
    pub chains: Vec<DevnetChain>,
    /// The relayer, once started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relayer: Option<DevnetRelayer>,
    /// The demo message, once sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demo: Option<DemoRecord>,
}

/// The namespace convention of devnet chains, as `devnet.json` states it.
pub const NAMESPACE_CONVENTION: &str = concat!(
    "EVM chain C: messageNamespace = C, blockNamespace = 1000000 + C; ",
    "both owned by relayerKey (its ed25519 consensus key)"
);

/// The relayer's key file under the devnet directory.
pub fn relayer_key_path(dir: &Path) -> PathBuf {
    dir.join("relayer").join("owner.toml")
}

impl DevnetFile {
    /// Reads `DIR/devnet.json`.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("devnet.json");
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Writes `DIR/devnet.json`.
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        let path = dir.join("devnet.json");
        fs::write(&path, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("writing {}", path.display()))
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

fn node_dir(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("node{index}"))
}

/// Creates the devnet's files if `dir` has no genesis yet; otherwise checks the existing one
/// has `validators` validators. Returns the description of the (not yet started) devnet.
pub fn init(dir: &Path, validators: usize) -> anyhow::Result<DevnetFile> {
    init_with(dir, validators, DEVNET_BLOCK_INTERVAL_MS)
}

/// [`init`] with another minimum block interval (ms) in a newly created genesis (an existing
/// genesis keeps its own); benchmarks use a short one.
pub fn init_with(
    dir: &Path,
    validators: usize,
    min_block_interval_ms: u64,
) -> anyhow::Result<DevnetFile> {
    if validators == 0 {
        bail!("a devnet needs at least one validator");
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let genesis_path = dir.join("genesis.json");
    if genesis_path.exists() {
        let (genesis, _) = Genesis::load(&genesis_path)?;
        if genesis.validators.len() != validators {
            bail!(
                "{} holds a devnet of {} validators; use another --data-dir or --validators {}",
                dir.display(),
                genesis.validators.len(),
                genesis.validators.len()
            );
        }
    } else {
        create(dir, validators, min_block_interval_ms)?;
    }
    describe(dir)
}

fn create(dir: &Path, validators: usize, min_block_interval_ms: u64) -> anyhow::Result<()> {
    let keys = (0..validators).map(|_| ValidatorKeys::generate()).collect::<Result<Vec<_>, _>>()?;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    // The relayer's key owns every devnet chain's namespaces, so only its post role writes
    // block records and messages there.
    let relayer = ValidatorKeys::generate()?;
    let relayer_path = relayer_key_path(dir);
    if let Some(parent) = relayer_path.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    relayer.save(&relayer_path)?;
    let owner = relayer.genesis_entry().consensus_key;
    let owned_namespaces = chains::DEVNET_EVM_CHAIN_IDS
        .iter()
        .flat_map(|&id| [chains::message_namespace(id), chains::block_namespace(id)])
        .map(|namespace| OwnedNamespace { namespace, owner: owner.clone() })
        .collect();
    let genesis = Genesis {
        chain_id: DEVNET_CHAIN_ID,
        epoch: 0,
        timestamp_ms: now_ms,
        min_block_interval_ms,
        committee_capacity: validators.max(trestle_circuits::setup::DEVNET_CAPACITY),
        validators: keys.iter().map(ValidatorKeys::genesis_entry).collect(),
        owned_namespaces,
        limits: GenesisLimits::default(),
    };
    genesis.resolve()?;
    let mut ports = Vec::with_capacity(validators);
    for _ in 0..validators {
        ports.push((free_port()?, free_port()?, free_port()?));
    }
    for (i, key) in keys.iter().enumerate() {
        let home = node_dir(dir, i);
        fs::create_dir_all(&home).with_context(|| format!("creating {}", home.display()))?;
        key.save(&home.join("keys.toml"))?;
        let peers = keys
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(j, other)| PeerConfig {
                public_key: other.genesis_entry().consensus_key,
                address: SocketAddr::from(([127, 0, 0, 1], ports[j].0)),
            })
            .collect();
        let config = NodeConfig {
            data_dir: "data".into(),
            keys: "keys.toml".into(),
            genesis: "../genesis.json".into(),
            p2p: SocketAddr::from(([127, 0, 0, 1], ports[i].0)),
            rpc: SocketAddr::from(([127, 0, 0, 1], ports[i].1)),
            metrics: Some(SocketAddr::from(([127, 0, 0, 1], ports[i].2))),
            log_level: "info".into(),
            worker_threads: 1,
            peers,
            // Loopback is fast; keep views short so a dead validator costs little.
            timeouts: TimeoutsConfig {
                leader_ms: 1_000,
                certification_ms: 1_500,
                timeout_retry_ms: 1_500,
                skip_ms: 5_000,
                fetch_ms: 500,
            },
            mempool: Default::default(),
        };
        config.save(&home.join("node.toml"))?;
    }
    genesis.save(&dir.join("genesis.json"))?;
    Ok(())
}

/// The devnet description from the files in `dir` (pids 0).
pub fn describe(dir: &Path) -> anyhow::Result<DevnetFile> {
    let genesis_path = dir.join("genesis.json");
    let (genesis, _) = Genesis::load(&genesis_path)?;
    let mut validators = Vec::with_capacity(genesis.validators.len());
    for (index, entry) in genesis.validators.iter().enumerate() {
        let home = node_dir(dir, index);
        let config_path = home.join("node.toml");
        let config = NodeConfig::load(&config_path)?;
        validators.push(DevnetValidator {
            index,
            consensus_key: entry.consensus_key.clone(),
            light_client_key: entry.light_client_key.clone(),
            p2p: config.p2p,
            rpc_url: format!("http://{}", config.rpc),
            ws_url: format!("ws://{}", config.rpc),
            metrics_url: config.metrics.map(|m| format!("http://{m}/metrics")).unwrap_or_default(),
            pid: 0,
            config: config_path,
            log: home.join("node.log"),
        });
    }
    let relayer_key = Some(relayer_key_path(dir)).filter(|path| path.exists());
    Ok(DevnetFile {
        chain_id: genesis.chain_id,
        genesis: genesis_path,
        validators,
        relayer_key,
        namespace_convention: NAMESPACE_CONVENTION.to_owned(),
        chains: Vec::new(),
        relayer: None,
        demo: None,
    })
}

/// Starts validator `validator` as a child process running `exe node run --config …`, its
/// output appended to its log file.
pub fn spawn_validator(exe: &Path, validator: &DevnetValidator) -> anyhow::Result<Child> {
    spawn_logged(exe, &["node", "run", "--config"], &validator.config, &validator.log)
        .with_context(|| format!("starting validator {}", validator.index))
}

/// Starts `exe ARGS… PATH` with no input and its output (both streams) appended to `log`: how
/// the devnet starts its validators and relayer (and tests and benchmarks start a devnet).
pub fn spawn_logged(exe: &Path, args: &[&str], path: &Path, log: &Path) -> anyhow::Result<Child> {
    let file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening {}", log.display()))?;
    let stderr = file.try_clone()?;
    Ok(Command::new(exe)
        .args(args)
        .arg(path)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(stderr)
        .spawn()?)
}

/// Asks a process to stop cleanly (SIGTERM).
pub fn terminate(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Waits up to `timeout` for `child` to exit; kills it after that.
pub fn reap(child: &mut Child, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The `solidity/` directory of the source tree this binary was built from (the devnet runs
/// from a checkout: `cargo run -- devnet`).
pub fn default_solidity_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("solidity")
}

/// Child processes of a running devnet. Dropping it stops them all (SIGTERM, then SIGKILL after
/// a grace period), so an error half-way through start-up leaves nothing running.
#[derive(Default)]
struct Processes {
    validators: Vec<Child>,
    anvils: Vec<Child>,
    relayer: Option<Child>,
}

impl Processes {
    fn stop(&mut self) {
        // The relayer first: it would only log failures while the others go away.
        if let Some(mut relayer) = self.relayer.take() {
            terminate(relayer.id());
            reap(&mut relayer, Duration::from_secs(15));
        }
        for child in self.validators.iter().chain(&self.anvils) {
            terminate(child.id());
        }
        for child in self.validators.iter_mut().chain(self.anvils.iter_mut()) {
            reap(child, Duration::from_secs(15));
        }
        self.validators.clear();
        self.anvils.clear();
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        self.stop();
    }
}

/// SIGINT and SIGTERM, registered before anything is started so that a signal during start-up
/// (deploying takes seconds) is remembered and handled, not fatal to this process alone.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn register() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
            terminate: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
        })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// `trestle devnet`: init (or resume) `dir`, start every validator, then (unless `evm` is
/// false) the EVM chains with trestle's contracts deployed from `solidity`; print endpoints and a
/// live status line until Ctrl-C / SIGTERM, then stop everything cleanly.
pub fn run(dir: &Path, validators: usize, evm: bool, solidity: &Path) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the status runtime")?;
    let mut signals = {
        let _context = runtime.enter();
        Signals::register()?
    };
    let mut devnet = init(dir, validators)?;
    let exe = std::env::current_exe().context("locating the trestle executable")?;
    let mut processes = Processes::default();
    for validator in &mut devnet.validators {
        let child = spawn_validator(&exe, validator)?;
        validator.pid = child.id();
        processes.validators.push(child);
    }
    devnet.save(dir)?;
    eprintln!(
        "trestle devnet: {} validators, chain id {}",
        devnet.validators.len(),
        devnet.chain_id
    );
    for v in &devnet.validators {
        eprintln!(
            "  node{}  rpc {}  ws {}  metrics {}  log {}",
            v.index,
            v.rpc_url,
            v.ws_url,
            v.metrics_url,
            v.log.display()
        );
    }
    let mut interrupted = false;
    if evm {
        let started = Instant::now();
        // A signal while deploying stops the devnet right after (blocking tool runs finish
        // first); the signal is consumed here, so the status loop is skipped.
        match runtime.block_on(async {
            tokio::select! {
                chains = start_chains(dir, solidity, &devnet, &mut processes) => chains.map(Some),
                _ = signals.recv() => Ok(None),
            }
        })? {
            Some(chains) => devnet.chains = chains,
            None => interrupted = true,
        }
        devnet.save(dir)?;
        for chain in &devnet.chains {
            eprintln!(
                "  {}  rpc {}  lightClient {}  mailbox {}  counter {}  namespaces msg {} / blocks {}",
                chain.name,
                chain.rpc_url,
                chain.contracts.light_client,
                chain.contracts.mailbox,
                chain.contracts.counter,
                chain.message_namespace,
                chain.block_namespace
            );
        }
        if !interrupted {
            eprintln!("  EVM chains ready in {:.1} s", started.elapsed().as_secs_f64());
            let capacity = Genesis::load(&devnet.genesis)?.0.committee_capacity;
            match relayer::prepare(dir, &devnet, capacity) {
                Ok(mut described) => {
                    let child = relayer::spawn(&exe, &described)?;
                    described.pid = child.id();
                    processes.relayer = Some(child);
                    eprintln!(
                        "  relayer  pid {}  metrics {}  log {}  (pays from {})",
                        described.pid,
                        described.metrics_url,
                        described.log.display(),
                        described.evm_address
                    );
                    devnet.relayer = Some(described);
                }
                Err(e) => eprintln!("  no relayer: {e:#}"),
            }
            devnet.save(dir)?;
        }
    }
    eprintln!("  described in {}", dir.join("devnet.json").display());
    let outcome = if interrupted {
        Ok(())
    } else {
        runtime.block_on(monitor(dir, &exe, &mut devnet, &mut processes, &mut signals))
    };
    eprintln!("\nstopping validators and chains…");
    processes.stop();
    for validator in &mut devnet.validators {
        validator.pid = 0;
    }
    for chain in &mut devnet.chains {
        chain.pid = 0;
    }
    if let Some(relayer) = &mut devnet.relayer {
        relayer.pid = 0;
    }
    devnet.save(dir)?;
    eprintln!("stopped; run the same command again to resume from {}", dir.display());
    outcome
}

/// Starts every EVM chain of the devnet in `dir` and deploys trestle's contracts on it, with
/// the light clients starting at the network's current state.
async fn start_chains(
    dir: &Path,
    solidity: &Path,
    devnet: &DevnetFile,
    processes: &mut Processes,
) -> anyhow::Result<Vec<DevnetChain>> {
    chains::ensure_foundry(solidity)?;
    let plans = chains::plan(dir)?;
    let mut logs = Vec::with_capacity(plans.len());
    for plan in &plans {
        let (child, log) = chains::spawn_anvil(solidity, dir, plan)?;
        processes.anvils.push(child);
        logs.push(log);
    }
    for (plan, log) in plans.iter().zip(&logs) {
        chains::wait_for_anvil(plan, log).await?;
    }
    let rpc = devnet.validators.first().map(|v| v.rpc_url.clone()).context("no validator")?;
    let genesis = chains::light_client_genesis(&rpc).await?;
    let mut described = Vec::with_capacity(plans.len());
    for ((plan, log), anvil) in plans.iter().zip(logs).zip(&processes.anvils) {
        eprintln!(
            "  deploying on chain {} (light client from trestle height {})…",
            plan.chain_id, genesis.state.height
        );
        let deployment = chains::deploy(solidity, dir, plan, &plans, &genesis)?;
        described.push(DevnetChain {
            name: format!("evm-{}", plan.chain_id),
            chain_id: plan.chain_id,
            rpc_url: plan.rpc_url(),
            pid: anvil.id(),
            message_namespace: chains::message_namespace(plan.chain_id),
            block_namespace: chains::block_namespace(plan.chain_id),
            contracts: deployment.contracts,
            genesis_height: deployment.genesis_height,
            deployer: deployment.deployer,
            log,
            deployment: deployment.record,
        });
    }
    Ok(described)
}

/// Prints a live status line until Ctrl-C / SIGTERM, restarts the relayer whenever it exits and
/// runs the demo message; returns an error if every validator died.
async fn monitor(
    dir: &Path,
    exe: &Path,
    devnet: &mut DevnetFile,
    processes: &mut Processes,
    signals: &mut Signals,
) -> anyhow::Result<()> {
    let mut ticker = tokio::time::interval(Duration::from_millis(500));
    let mut status = Status::new(devnet);
    let mut reported_anvils = false;
    let demo = demo(devnet.clone());
    let mut demo = std::pin::pin!(demo);
    let mut demo_done = devnet.relayer.is_none();
    let mut relayer_restart = RestartPolicy::default();
    loop {
        tokio::select! {
            _ = signals.recv() => return Ok(()),
            record = &mut demo, if !demo_done => {
                demo_done = true;
                match record {
                    Ok(record) => devnet.demo = Some(record),
                    Err(e) => eprintln!(
                        "\ndemo message: {e:#} (see {})",
                        devnet.relayer.as_ref().map(|r| r.log.display().to_string()).unwrap_or_default()
                    ),
                }
                devnet.save(dir)?;
            }
            _ = ticker.tick() => {
                let exited: Vec<usize> = processes
                    .validators
                    .iter_mut()
                    .enumerate()
                    .filter_map(|(i, c)| matches!(c.try_wait(), Ok(Some(_))).then_some(i))
                    .collect();
                if exited.len() == processes.validators.len() {
                    bail!("every validator exited; see the logs under {}", dir.display());
                }
                let anvil_exited = processes.anvils.iter_mut().any(|c| matches!(c.try_wait(), Ok(Some(_))));
                if anvil_exited && !reported_anvils {
                    reported_anvils = true;
                    eprintln!("\nan anvil exited; see the logs under {}", dir.join("chains").display());
                }
                if supervise_relayer(exe, devnet, processes, &mut relayer_restart)? {
                    devnet.save(dir)?;
                }
                status.refresh(&exited).await;
            }
        }
    }
}

/// When the devnet may start its relayer again after it exited: at once the first time, then
/// after a wait that doubles (up to a minute) while it keeps exiting within a minute of starting.
#[derive(Debug, Default)]
struct RestartPolicy {
    exited_at: Option<Instant>,
    started_at: Option<Instant>,
    wait: Duration,
}

impl RestartPolicy {
    fn exited(&mut self) {
        let quick = self.started_at.is_some_and(|t| t.elapsed() < Duration::from_secs(60));
        self.wait = if quick {
            (self.wait * 2).clamp(Duration::from_secs(1), Duration::from_secs(60))
        } else {
            Duration::ZERO
        };
        self.exited_at = Some(Instant::now());
    }

    fn due(&self) -> bool {
        self.exited_at.is_none_or(|t| t.elapsed() >= self.wait)
    }

    fn started(&mut self) {
        self.exited_at = None;
        self.started_at = Some(Instant::now());
    }
}

/// Restarts the relayer if it exited (its store keeps its progress: nothing is lost or done
/// twice). Returns whether `devnet` changed.
fn supervise_relayer(
    exe: &Path,
    devnet: &mut DevnetFile,
    processes: &mut Processes,
    policy: &mut RestartPolicy,
) -> anyhow::Result<bool> {
    let Some(described) = devnet.relayer.as_mut() else { return Ok(false) };
    let mut changed = false;
    if let Some(child) = processes.relayer.as_mut()
        && let Ok(Some(status)) = child.try_wait()
    {
        eprintln!("\nthe relayer (pid {}) exited with {status}; restarting it", described.pid);
        processes.relayer = None;
        described.pid = 0;
        policy.exited();
        changed = true;
    }
    if processes.relayer.is_none() && policy.due() {
        let child = relayer::spawn(exe, described)?;
        described.pid = child.id();
        described.restarts += 1;
        processes.relayer = Some(child);
        policy.started();
        changed = true;
    }
    Ok(changed)
}

/// The demo: a message from the first chain's mailbox to the second chain's `Counter`, sent
/// by anvil's dev account 2, followed until it is delivered. Prints both ends.
async fn demo(devnet: DevnetFile) -> anyhow::Result<DemoRecord> {
    let [from, to, ..] = devnet.chains.as_slice() else {
        bail!("the demo needs two chains");
    };
    let sender = messages::wallet(from, relayer::DEMO_SENDER_KEY)?;
    let receiver = messages::wallet(to, relayer::DEMO_SENDER_KEY)?;
    let payload = format!("hello {} from {}", to.name, from.name);
    let sent = messages::send(&sender, from, to, to.contracts.counter, payload.as_bytes()).await?;
    eprintln!(
        "\ndemo message {} → {} (Counter {}): {payload:?} sent in tx {} (block {}), message {}",
        from.name, to.name, to.contracts.counter, sent.tx, sent.block, sent.hash
    );
    let mut record = DemoRecord {
        from_chain: from.chain_id,
        to_chain: to.chain_id,
        message_hash: sent.hash,
        sent_tx: sent.tx,
        sent_block: sent.block,
        delivered: None,
        latency_ms: None,
        counter_total: None,
    };
    let delivery =
        messages::wait_delivered(&receiver, to, sent.hash, Duration::from_secs(300)).await?;
    let latency = sent.sent_at.elapsed();
    let total = messages::counter_total(&receiver, to).await?;
    eprintln!(
        "\ndemo message delivered on {} in tx {} (block {}) {:.1} s after its send; \
         Counter.total() = {total}",
        to.name,
        delivery.tx,
        delivery.block,
        latency.as_secs_f64()
    );
    record.delivered = Some(delivery);
    record.latency_ms = Some(u64::try_from(latency.as_millis()).unwrap_or(u64::MAX));
    record.counter_total = Some(total.to_string());
    Ok(record)
}

/// The live status line: every validator's finalized height and the finality latency of the
/// newest block as observed here (time since its proposer stamped it; includes this poll's delay).
struct Status {
    clients: Vec<Option<HttpClient>>,
    last_height: u64,
    latencies: std::collections::VecDeque<u64>,
}

impl Status {
    fn new(devnet: &DevnetFile) -> Self {
        let clients = devnet
            .validators
            .iter()
            .map(|v| {
                HttpClientBuilder::default()
                    .request_timeout(Duration::from_secs(2))
                    .build(&v.rpc_url)
                    .ok()
            })
            .collect();
        Self { clients, last_height: 0, latencies: std::collections::VecDeque::new() }
    }

    async fn refresh(&mut self, exited: &[usize]) {
        let mut heights = Vec::with_capacity(self.clients.len());
        for (i, client) in self.clients.iter().enumerate() {
            let height = match client {
                Some(client) if !exited.contains(&i) => client.block_height().await.ok(),
                _ => None,
            };
            heights.push(height);
        }
        let Some(tip) = heights.iter().flatten().copied().max() else {
            eprint!("\rwaiting for validators to answer…                         ");
            return;
        };
        if tip > self.last_height {
            let now_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .unwrap_or(0);
            let source =
                heights.iter().position(|h| *h == Some(tip)).and_then(|i| self.clients[i].as_ref());
            let header = match source {
                Some(client) => client.header(tip).await.ok().flatten(),
                None => None,
            };
            // The first observation after start-up may be an old block: skip it.
            if let Some(header) = header.filter(|_| self.last_height > 0) {
                self.latencies.push_back(now_ms.saturating_sub(header.header.timestamp_ms));
                if self.latencies.len() > 50 {
                    self.latencies.pop_front();
                }
            }
            self.last_height = tip;
        }
        let mut sorted: Vec<u64> = self.latencies.iter().copied().collect();
        sorted.sort_unstable();
        let p50 = sorted.get(sorted.len() / 2).map_or("-".to_owned(), |ms| format!("{ms} ms"));
        let per_node: Vec<String> =
            heights.iter().map(|h| h.map_or("down".to_owned(), |h| h.to_string())).collect();
        eprint!(
            "\rheight {tip}  [{}]  finality ≈ {p50} (observed p50 of last {})   ",
            per_node.join(" "),
            sorted.len()
        );
    }
}
