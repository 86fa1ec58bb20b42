//! A local network in one directory: keys, genesis and node configurations generated on first
//! run, validator processes on loopback, and `devnet.json` describing what runs where.
//!
//! Layout of `DIR`:
//!
//! ```text
//! DIR/genesis.json              the network's genesis (shared by every validator)
//! DIR/devnet.json               what is running: chain id, every validator's endpoints and pid
//! DIR/node{i}/keys.toml         validator i's secret keys (DEV ONLY, generated locally)
//! DIR/node{i}/node.toml         validator i's configuration (ports fixed at first run)
//! DIR/node{i}/data/             validator i's storage (journal, archives)
//! DIR/node{i}/node.log          validator i's log
//! ```
//!
//! Running again with the same directory resumes every validator from its storage.

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
use trestle_node::rpc::TrestleApiClient as _;
use trestle_node::service::{
    Genesis, GenesisLimits, Keys, NodeConfig, PeerConfig, TimeoutsConfig, generate_keys,
};

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
    let keys: Vec<Keys> = (0..validators).map(|_| generate_keys()).collect();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let genesis = Genesis {
        chain_id: DEVNET_CHAIN_ID,
        epoch: 0,
        timestamp_ms: now_ms,
        min_block_interval_ms,
        committee_capacity: validators.max(trestle_circuits::setup::DEVNET_CAPACITY),
        validators: keys.iter().map(Keys::genesis_entry).collect(),
        owned_namespaces: Vec::new(),
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
    Ok(DevnetFile { chain_id: genesis.chain_id, genesis: genesis_path, validators })
}

/// Starts validator `validator` as a child process running `exe node run --config …`, its
/// output appended to its log file.
pub fn spawn_validator(exe: &Path, validator: &DevnetValidator) -> anyhow::Result<Child> {
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&validator.log)
        .with_context(|| format!("opening {}", validator.log.display()))?;
    let stderr = log.try_clone()?;
    Command::new(exe)
        .args(["node", "run", "--config"])
        .arg(&validator.config)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("starting validator {}", validator.index))
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

/// `trestle devnet`: init (or resume) `dir`, start every validator, print endpoints and a live
/// status line until Ctrl-C, then stop every validator cleanly.
pub fn run(dir: &Path, validators: usize) -> anyhow::Result<()> {
    let mut devnet = init(dir, validators)?;
    let exe = std::env::current_exe().context("locating the trestle executable")?;
    let mut children = Vec::with_capacity(devnet.validators.len());
    for validator in &mut devnet.validators {
        let child = spawn_validator(&exe, validator)?;
        validator.pid = child.id();
        children.push(child);
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
    eprintln!("  described in {}", dir.join("devnet.json").display());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the status runtime")?;
    let outcome = runtime.block_on(monitor(&devnet, &mut children));
    eprintln!("\nstopping validators…");
    for child in &children {
        terminate(child.id());
    }
    for child in &mut children {
        reap(child, Duration::from_secs(15));
    }
    for validator in &mut devnet.validators {
        validator.pid = 0;
    }
    devnet.save(dir)?;
    eprintln!("stopped; run the same command again to resume from {}", dir.display());
    outcome
}

/// Prints a live status line until Ctrl-C / SIGTERM; returns an error if every validator died.
async fn monitor(devnet: &DevnetFile, children: &mut [Child]) -> anyhow::Result<()> {
    let mut ticker = tokio::time::interval(Duration::from_millis(500));
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    let mut status = Status::new(devnet);
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = terminate.recv() => return Ok(()),
            _ = ticker.tick() => {
                let exited: Vec<usize> = children
                    .iter_mut()
                    .enumerate()
                    .filter_map(|(i, c)| matches!(c.try_wait(), Ok(Some(_))).then_some(i))
                    .collect();
                if exited.len() == children.len() {
                    bail!("every validator exited; see the logs under {}", devnet.genesis.parent().unwrap_or(Path::new(".")).display());
                }
                status.refresh(&exited).await;
            }
        }
    }
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
