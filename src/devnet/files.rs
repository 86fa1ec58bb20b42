//! The devnet's files: keys, genesis and node configurations generated on first run, and
//! `devnet.json` describing what runs where.

use std::{
    fs,
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use alloy_primitives::Address;
use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use trestle_api::{Genesis, GenesisL1, GenesisLimits, OwnedNamespace, ValidatorKeys};
use trestle_node::service::{
    L1Settings, NodeConfig, PeerConfig, TimeoutsConfig, network::P2pProfile,
};

use super::{
    chains::{self, DevnetChain},
    messages::DemoRecord,
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
    /// The web explorer's URL (`trestle explorer`, served by the devnet), once started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explorer_url: Option<String>,
}

/// The devnet's relayer, as `devnet.json` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevnetRelayer {
    /// Process id while running (0 when stopped).
    pub pid: u32,
    /// Its configuration (`trestle relayer run --config` this).
    pub config: PathBuf,
    /// Its log file.
    pub log: PathBuf,
    /// Its store (cursors, pending messages).
    pub store: PathBuf,
    /// Its Prometheus endpoint.
    pub metrics_url: String,
    /// Its JSON status endpoint (`trestle relayer status` reads it; `/messages` beside it).
    #[serde(default)]
    pub status_url: String,
    /// The EVM account that pays for its transactions (anvil's dev account 1).
    pub evm_address: Address,
    /// How often the devnet restarted it after it exited.
    #[serde(default)]
    pub restarts: u32,
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

pub(crate) fn free_port() -> anyhow::Result<u16> {
    free_ports(1)?.pop().context("a free port")
}

/// `count` distinct free loopback ports. Each stays bound until all are found: the kernel may
/// hand a port just released to the next `bind(0)`, and two devnet processes given one port
/// leave one unbound (a CI run lost a validator's p2p listener to another's metrics port).
pub(crate) fn free_ports(count: usize) -> anyhow::Result<Vec<u16>> {
    let held = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").context("finding a free port"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    held.iter().map(|listener| Ok(listener.local_addr()?.port())).collect()
}

fn node_dir(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("node{index}"))
}

/// Creates the devnet's files if `dir` has no genesis yet; otherwise checks the existing one
/// has `validators` validators. Returns the description of the (not yet started) devnet.
pub fn init(dir: &Path, validators: usize) -> anyhow::Result<DevnetFile> {
    init_with(dir, validators, DEVNET_BLOCK_INTERVAL_MS, false)
}

/// [`init`] with another minimum block interval (ms) in a newly created genesis (an existing
/// genesis keeps its own; benchmarks use a short one) and, with `l1`, a committee that follows
/// the StakeTable on the devnet's L1 ([`super::l1`]) in epochs of
/// [`DEVNET_L1_EPOCH_LENGTH`](super::l1::DEVNET_L1_EPOCH_LENGTH) heights.
pub fn init_with(
    dir: &Path,
    validators: usize,
    min_block_interval_ms: u64,
    l1: bool,
) -> anyhow::Result<DevnetFile> {
    let least = trestle_light_client::rotation::MIN_COMMITTEE;
    if validators < least {
        bail!(
            "a devnet needs at least {least} validators (3f + 1 with f ≥ 1: blocks travel \
             erasure-coded over the committee)"
        );
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
        local_profile(dir, validators)?;
        for i in 0..validators {
            // Each validator refuses another version's data at its start; said once here, with
            // what to do, instead of as four exits.
            trestle_node::service::data_format::check_or_record(&node_dir(dir, i).join("data"))
                .with_context(|| {
                    format!(
                        "{} holds a devnet another trestle version wrote; remove it or use \
                         another --data-dir",
                        dir.display()
                    )
                })?;
        }
    } else {
        create(dir, validators, min_block_interval_ms, l1)?;
    }
    describe(dir)
}

/// Every devnet node runs on this host: a devnet directory made before node configurations had
/// a p2p profile (whose default is now `production`, which refuses loopback peers) gets `local`.
fn local_profile(dir: &Path, validators: usize) -> anyhow::Result<()> {
    for i in 0..validators {
        let path = node_dir(dir, i).join("node.toml");
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        if !text.contains("p2p_profile") {
            let mut config = NodeConfig::load(&path)?;
            config.p2p_profile = P2pProfile::Local;
            // load() made the paths absolute; the devnet's stay relative to the directory.
            config.data_dir = "data".into();
            config.keys = "keys.toml".into();
            config.genesis = "../genesis.json".into();
            config.save(&path)?;
        }
    }
    Ok(())
}

fn create(
    dir: &Path,
    validators: usize,
    min_block_interval_ms: u64,
    l1: bool,
) -> anyhow::Result<()> {
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
    let l1_chain = l1.then_some(super::l1::DEVNET_L1_CHAIN_ID);
    let owned_namespaces = chains::DEVNET_EVM_CHAIN_IDS
        .iter()
        .chain(l1_chain.as_ref())
        .flat_map(|&id| [chains::message_namespace(id), chains::block_namespace(id)])
        .map(|namespace| OwnedNamespace {
            namespace,
            owner: owner.clone(),
            block_records_of: chains::rollup_of_block_namespace(namespace),
            // The devnet relayer posts every rollup's blocks from its genesis block.
            first_record: 0,
        })
        .collect();
    // Every port of the devnet's files in one batch: p2p, RPC and metrics per validator, then
    // the L1's RPC.
    let mut free = free_ports(3 * validators + 1)?.into_iter();
    let mut port = || free.next().context("a port of the batch");
    let mut ports = Vec::with_capacity(validators);
    for _ in 0..validators {
        ports.push((port()?, port()?, port()?));
    }
    let l1_settings = match l1 {
        true => Some(L1Settings {
            rpc: format!("http://127.0.0.1:{}", port()?),
            // anvil never reorganizes.
            safe_depth: 0,
            poll_ms: 500,
        }),
        false => None,
    };
    let genesis_l1 = match l1 {
        true => Some(GenesisL1 {
            chain_id: super::l1::DEVNET_L1_CHAIN_ID,
            stake_table: super::l1::stake_table_address()?.to_string(),
            deploy_block: 0,
            reference: None,
        }),
        false => None,
    };
    let genesis = Genesis {
        chain_id: DEVNET_CHAIN_ID,
        epoch: 0,
        epoch_length: l1.then_some(super::l1::DEVNET_L1_EPOCH_LENGTH),
        l1: genesis_l1,
        timestamp_ms: now_ms,
        min_block_interval_ms,
        committee_capacity: validators.max(trestle_circuits::setup::DEVNET_CAPACITY),
        validators: keys.iter().map(ValidatorKeys::genesis_entry).collect(),
        owned_namespaces,
        limits: GenesisLimits::default(),
    };
    genesis.resolve()?;
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
                address: SocketAddr::from(([127, 0, 0, 1], ports[j].0)).to_string(),
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
            l1: l1_settings.clone(),
            // Loopback is fast; keep views short so a dead validator costs little.
            timeouts: TimeoutsConfig {
                leader_ms: 1_000,
                certification_ms: 1_500,
                timeout_retry_ms: 1_500,
                skip_ms: 5_000,
                fetch_ms: 500,
            },
            mempool: Default::default(),
            // Every node on loopback: commonware's local preset (private IPs, one IP for all).
            p2p_profile: P2pProfile::Local,
            allow_private_ips: None,
            bypass_ip_check: false,
            peer_connection_cooldown_ms: None,
            retain_heights: None,
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
        explorer_url: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_devnet_made_before_p2p_profiles_is_kept_local() {
        let dir = tempfile::tempdir().expect("dir");
        init(dir.path(), 4).expect("init");
        let path = node_dir(dir.path(), 1).join("node.toml");
        let fresh = NodeConfig::load(&path).expect("load");
        assert_eq!(fresh.p2p_profile, P2pProfile::Local, "new devnets are local");
        // An older directory: no p2p_profile line, which now means production.
        let text = fs::read_to_string(&path).expect("read");
        let old: String = text
            .lines()
            .filter(|l| !l.starts_with("p2p_profile"))
            .map(|l| format!("{l}\n"))
            .collect();
        fs::write(&path, old).expect("write");
        assert_eq!(NodeConfig::load(&path).expect("load").p2p_profile, P2pProfile::Production);
        init(dir.path(), 4).expect("reuse");
        let upgraded = NodeConfig::load(&path).expect("load");
        assert_eq!(upgraded, fresh, "only the profile changed, paths stay relative");
    }
}
