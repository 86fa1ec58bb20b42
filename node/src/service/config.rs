//! The files a validator reads at start besides the shared genesis and its key file (whose
//! formats are `trestle-api`'s): its node configuration (TOML).
//!
//! Relative paths in a node configuration are resolved against the directory of the
//! configuration file, so a devnet directory can be moved as a whole.

use std::{
    net::SocketAddr,
    num::NonZeroU64,
    path::{Path, PathBuf},
    time::Duration,
};

use commonware_cryptography::ed25519;
use serde::{Deserialize, Serialize};
use trestle_api::{
    FileError, ResolvedGenesis,
    files::{parse_consensus_key, read, write},
};

use commonware_p2p::Address;

use super::network::{P2pOptions, P2pProfile, peer_address};
use crate::{application::retention::check_retention, mempool::MempoolConfig, timeouts::Timeouts};

/// Why a validator's configuration, genesis or key file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read, parsed or decoded (see [`FileError`]).
    #[error(transparent)]
    File(#[from] FileError),
    /// The node configuration is inconsistent with itself or with the genesis.
    #[error("config: {0}")]
    Invalid(String),
}

/// Another node to connect to: a validator (dialed while a committee seats it; its
/// registered address wins over this one) or a follower (accepted and served).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// Its ed25519 public key, `0x` + 32 bytes.
    pub public_key: String,
    /// Its p2p address: `ip:port`, or `host:port` (a DNS name, resolved again at every dial).
    pub address: String,
}

/// Consensus timeouts in milliseconds (see [`Timeouts`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsConfig {
    /// Wait for the leader's proposal.
    pub leader_ms: u64,
    /// Wait for a view to certify before voting to skip it.
    pub certification_ms: u64,
    /// Rebroadcast interval of a nullify vote.
    pub timeout_retry_ms: u64,
    /// Inactivity after which a leader's views are skipped at once.
    pub skip_ms: u64,
    /// Wait for a peer to answer a fetch.
    pub fetch_ms: u64,
}

impl Default for TimeoutsConfig {
    fn default() -> Self {
        Self {
            leader_ms: 1_000,
            certification_ms: 2_000,
            timeout_retry_ms: 2_000,
            skip_ms: 10_000,
            fetch_ms: 1_000,
        }
    }
}

impl From<TimeoutsConfig> for Timeouts {
    fn from(t: TimeoutsConfig) -> Self {
        Self {
            leader: Duration::from_millis(t.leader_ms),
            certification: Duration::from_millis(t.certification_ms),
            timeout_retry: Duration::from_millis(t.timeout_retry_ms),
            skip: Duration::from_millis(t.skip_ms),
            fetch: Duration::from_millis(t.fetch_ms),
        }
    }
}

/// Where the node reads the stake table's L1 (required when the genesis names one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L1Settings {
    /// The L1's JSON-RPC endpoint (`http://…`).
    pub rpc: String,
    /// Blocks below the L1 head the node reads at (a reorganization deeper than this stops its
    /// view until an operator looks; 0 only for an L1 that never reorganizes, like a devnet's).
    #[serde(default = "safe_depth")]
    pub safe_depth: u64,
    /// Pause between polls once caught up (ms).
    #[serde(default = "poll_ms")]
    pub poll_ms: u64,
}

fn safe_depth() -> u64 {
    12
}

fn poll_ms() -> u64 {
    1_000
}

/// Mempool limits (see [`MempoolConfig`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MempoolSettings {
    /// Most pending transactions.
    pub max_transactions: usize,
    /// Most pending payload bytes.
    pub max_bytes: usize,
}

impl Default for MempoolSettings {
    fn default() -> Self {
        let defaults = MempoolConfig::default();
        Self { max_transactions: defaults.max_transactions, max_bytes: defaults.max_bytes }
    }
}

/// A validator's node configuration (TOML).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Directory of the node's storage (journal, archives, signatures).
    pub data_dir: PathBuf,
    /// The key file.
    pub keys: PathBuf,
    /// The genesis file.
    pub genesis: PathBuf,
    /// p2p listen address.
    pub p2p: SocketAddr,
    /// JSON-RPC (HTTP + WebSocket) listen address.
    pub rpc: SocketAddr,
    /// Prometheus metrics listen address (`/metrics`); none to disable.
    #[serde(default)]
    pub metrics: Option<SocketAddr>,
    /// Log level (`error`, `warn`, `info`, `debug`, `trace`).
    #[serde(default = "info")]
    pub log_level: String,
    /// Runtime worker threads.
    #[serde(default = "two")]
    pub worker_threads: usize,
    /// The other nodes this one knows (validators' addresses until the stake table names them,
    /// followers).
    pub peers: Vec<PeerConfig>,
    /// The stake table's L1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1: Option<L1Settings>,
    /// Consensus timeouts.
    #[serde(default)]
    pub timeouts: TimeoutsConfig,
    /// Mempool limits.
    #[serde(default)]
    pub mempool: MempoolSettings,
    /// p2p tuning: `production` (commonware's recommended settings, the default) or `local`
    /// (every node on one host).
    #[serde(default)]
    pub p2p_profile: P2pProfile,
    /// Accept private (RFC 1918, loopback, …) peer addresses; the profile decides if unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_private_ips: Option<bool>,
    /// Accept a known peer's connection from any IP (peers behind NAT dial out from an address
    /// other than the one they are reached at).
    #[serde(default)]
    pub bypass_ip_check: bool,
    /// Least time between two connection attempts to one peer, in milliseconds; the profile
    /// decides if unset (production: 60 s, so a peer that restarts, or a link that dropped, is
    /// back only after a minute; local: 250 ms). Between [`MIN_PEER_COOLDOWN_MS`] and
    /// [`MAX_PEER_COOLDOWN_MS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_connection_cooldown_ms: Option<u64>,
    /// Keep full finalized blocks (and their certificates) of the last this many heights only;
    /// unset: archival, keep everything. At least two epochs and 1,024 heights
    /// ([`crate::application::retention`]). Choose it before the node's first start: the two
    /// layouts do not share a data directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain_heights: Option<u64>,
}

/// Least `peer_connection_cooldown_ms`: a peer that keeps dropping is redialed at most 10
/// times a second.
pub const MIN_PEER_COOLDOWN_MS: u64 = 100;

/// Largest `peer_connection_cooldown_ms` (one hour): beyond, a dropped peer is as good as gone.
pub const MAX_PEER_COOLDOWN_MS: u64 = 3_600_000;

fn info() -> String {
    "info".into()
}

fn two() -> usize {
    2
}

impl NodeConfig {
    /// Reads a configuration; relative paths become relative to the file's directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let mut config: Self = toml::from_str(&read(path)?)
            .map_err(|e| FileError::Parse { path: path.into(), message: e.to_string() })?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        for file in [&mut config.data_dir, &mut config.keys, &mut config.genesis] {
            if file.is_relative() {
                *file = base.join(&*file);
            }
        }
        Ok(config)
    }

    /// Writes the configuration as TOML.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let contents = toml::to_string(self)
            .map_err(|e| FileError::Parse { path: path.into(), message: e.to_string() })?;
        Ok(write(path, &contents)?)
    }

    /// The peers as decoded keys (any key: validators of later committees and followers are
    /// peers too), each listed once, with their addresses ([`peer_address`]).
    pub fn resolve_peers(&self) -> Result<Vec<(ed25519::PublicKey, Address)>, ConfigError> {
        let mut peers = Vec::with_capacity(self.peers.len());
        for (i, peer) in self.peers.iter().enumerate() {
            let key = parse_consensus_key(&format!("peers[{i}].public_key"), &peer.public_key)?;
            if peers.iter().any(|(k, _)| *k == key) {
                return Err(ConfigError::Invalid(format!("peers[{i}] listed twice")));
            }
            let field = format!("peers[{i}].address");
            let address = peer_address(&field, &peer.address, self.bypass_ip_check)
                .map_err(|e| ConfigError::Invalid(e.to_string()))?;
            peers.push((key, address));
        }
        Ok(peers)
    }

    /// The retention, checked against the genesis's epoch length (`None`: archival).
    pub fn checked_retention(
        &self,
        genesis: &ResolvedGenesis,
    ) -> Result<Option<NonZeroU64>, ConfigError> {
        self.retain_heights
            .map(|heights| {
                check_retention(heights, genesis.epoch_length)
                    .map_err(|e| ConfigError::Invalid(format!("retain_heights: {e}")))
            })
            .transpose()
    }

    /// The log level, checked: a value that is not one of the five levels is refused rather
    /// than read as `info`, so a typo cannot silence the logs an operator asked for.
    pub fn checked_log_level(&self) -> Result<tracing::Level, ConfigError> {
        self.log_level.parse().map_err(|_| {
            ConfigError::Invalid(format!(
                "log_level {:?}: one of error, warn, info, debug, trace",
                self.log_level
            ))
        })
    }

    /// The p2p options, checked.
    pub fn p2p_options(&self) -> Result<P2pOptions, ConfigError> {
        let peer_connection_cooldown = match self.peer_connection_cooldown_ms {
            None => None,
            Some(ms) if (MIN_PEER_COOLDOWN_MS..=MAX_PEER_COOLDOWN_MS).contains(&ms) => {
                Some(Duration::from_millis(ms))
            }
            Some(ms) => {
                return Err(ConfigError::Invalid(format!(
                    "peer_connection_cooldown_ms = {ms}: expected {MIN_PEER_COOLDOWN_MS} to \
                     {MAX_PEER_COOLDOWN_MS}"
                )));
            }
        };
        Ok(P2pOptions {
            profile: self.p2p_profile,
            allow_private_ips: self.allow_private_ips,
            bypass_ip_check: self.bypass_ip_check,
            peer_connection_cooldown,
        })
    }

    /// The L1 settings, checked against the genesis: a network with a stake table needs an L1
    /// to follow (its epochs' ends are verified against it), one without has no use for it.
    pub fn checked_l1(&self, genesis: &ResolvedGenesis) -> Result<Option<L1Settings>, ConfigError> {
        match (&genesis.l1, &self.l1) {
            (Some(l1), None) => Err(ConfigError::Invalid(format!(
                "the genesis names a stake table on L1 chain {}: configure [l1] rpc",
                l1.stake_table.chain_id
            ))),
            (None, Some(_)) => {
                Err(ConfigError::Invalid("[l1] is set but the genesis names no stake table".into()))
            }
            (_, settings) => Ok(settings.clone()),
        }
    }

    /// Checks the timeouts (simplex's ordering, and room for the block interval).
    pub fn checked_timeouts(&self, genesis: &ResolvedGenesis) -> Result<Timeouts, ConfigError> {
        let timeouts = Timeouts::from(self.timeouts);
        timeouts.validate().map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if genesis.min_block_interval_ms >= self.timeouts.leader_ms {
            return Err(ConfigError::Invalid(format!(
                "the leader timeout ({} ms) must exceed the minimum block interval ({} ms), or \
                 every paced proposal would time out",
                self.timeouts.leader_ms, genesis.min_block_interval_ms
            )));
        }
        Ok(timeouts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestGenesis;

    fn config(peers: Vec<PeerConfig>) -> NodeConfig {
        NodeConfig {
            data_dir: "data".into(),
            keys: "keys.toml".into(),
            genesis: "../genesis.json".into(),
            p2p: "127.0.0.1:9000".parse().expect("addr"),
            rpc: "127.0.0.1:9001".parse().expect("addr"),
            metrics: None,
            log_level: info(),
            worker_threads: two(),
            peers,
            l1: None,
            timeouts: TimeoutsConfig::default(),
            mempool: MempoolSettings::default(),
            p2p_profile: P2pProfile::default(),
            peer_connection_cooldown_ms: None,
            retain_heights: None,
            allow_private_ips: None,
            bypass_ip_check: false,
        }
    }

    #[test]
    fn relative_paths_are_resolved_against_the_file() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("v0").join("node.toml");
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        config(Vec::new()).save(&path).expect("save");
        let loaded = NodeConfig::load(&path).expect("load");
        assert_eq!(loaded.data_dir, dir.path().join("v0").join("data"));
        assert_eq!(loaded.genesis, dir.path().join("v0").join("../genesis.json"));
        std::fs::write(&path, "p2p = 12").expect("write");
        assert!(matches!(NodeConfig::load(&path), Err(ConfigError::File(FileError::Parse { .. }))));
    }

    #[test]
    fn the_retention_is_checked_against_the_epoch_length() {
        let network = TestGenesis { epoch_length: Some(1_000), ..TestGenesis::new(4) }.build();
        let mut node = config(Vec::new());
        assert_eq!(node.checked_retention(&network.genesis).expect("archival"), None);
        node.retain_heights = Some(2_000);
        let kept = node.checked_retention(&network.genesis).expect("two epochs");
        assert_eq!(kept.map(|r| r.get()), Some(2_000));
        for heights in [0, 1_023, 1_999] {
            node.retain_heights = Some(heights);
            let refused = node.checked_retention(&network.genesis).expect_err("too short");
            assert!(refused.to_string().contains("retain_heights"), "{refused}");
        }
    }

    #[test]
    fn the_log_level_is_one_of_the_five_or_refused() {
        let mut node = config(Vec::new());
        assert_eq!(node.checked_log_level().expect("the default"), tracing::Level::INFO);
        node.log_level = "DEBUG".into();
        assert_eq!(node.checked_log_level().expect("any case"), tracing::Level::DEBUG);
        for typo in ["", "verbose", "info,commonware_p2p=debug"] {
            node.log_level = typo.into();
            let refused = node.checked_log_level().expect_err("not a level").to_string();
            assert!(refused.contains("log_level"), "{refused}");
        }
    }

    #[test]
    fn the_peer_cooldown_is_taken_within_its_bounds_and_refused_outside() {
        let mut node = config(Vec::new());
        assert_eq!(node.p2p_options().expect("unset").peer_connection_cooldown, None);
        for ms in [MIN_PEER_COOLDOWN_MS, 5_000, MAX_PEER_COOLDOWN_MS] {
            node.peer_connection_cooldown_ms = Some(ms);
            let options = node.p2p_options().expect("within bounds");
            assert_eq!(options.peer_connection_cooldown, Some(Duration::from_millis(ms)));
        }
        for ms in [0, MIN_PEER_COOLDOWN_MS - 1, MAX_PEER_COOLDOWN_MS + 1, u64::MAX] {
            node.peer_connection_cooldown_ms = Some(ms);
            let refused = node.p2p_options().expect_err("out of bounds").to_string();
            assert!(refused.contains("peer_connection_cooldown_ms"), "{refused}");
        }
        // It survives the file.
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("node.toml");
        node.peer_connection_cooldown_ms = Some(5_000);
        node.save(&path).expect("save");
        assert_eq!(NodeConfig::load(&path).expect("load").peer_connection_cooldown_ms, Some(5_000));
    }

    #[test]
    fn peers_l1_and_timeouts_are_checked_against_the_genesis() {
        let network = TestGenesis::new(4).build();
        let genesis = &network.genesis;
        let entry = |i: usize| PeerConfig {
            public_key: network.file.validators[i].consensus_key.clone(),
            address: "127.0.0.1:9100".into(),
        };
        let follower =
            PeerConfig { public_key: network.owner.genesis_entry().consensus_key, ..entry(1) };
        let peers = config(vec![entry(1), entry(2), follower]).resolve_peers().expect("peers");
        assert_eq!(peers.len(), 3);
        assert!(matches!(
            config(vec![entry(1), entry(1)]).resolve_peers(),
            Err(ConfigError::Invalid(_))
        ));
        let malformed = PeerConfig { public_key: "0x12".into(), ..entry(1) };
        assert!(matches!(config(vec![malformed]).resolve_peers(), Err(ConfigError::File(_))));
        let named = PeerConfig { address: "localhost:9100".into(), ..entry(1) };
        assert!(config(vec![named]).resolve_peers().is_ok(), "a DNS name");
        let nowhere = PeerConfig { address: "nowhere.invalid:9100".into(), ..entry(1) };
        assert!(matches!(config(vec![nowhere]).resolve_peers(), Err(ConfigError::Invalid(_))));

        // A stake table needs an L1, and only a stake table does.
        let staked = TestGenesis { stake_table: true, ..TestGenesis::new(4) }.build().genesis;
        let mut with_l1 = config(Vec::new());
        with_l1.l1 =
            Some(L1Settings { rpc: "http://127.0.0.1:8545".into(), safe_depth: 0, poll_ms: 100 });
        assert!(with_l1.checked_l1(&staked).expect("matches").is_some());
        assert!(matches!(config(Vec::new()).checked_l1(&staked), Err(ConfigError::Invalid(_))));
        assert!(matches!(with_l1.checked_l1(genesis), Err(ConfigError::Invalid(_))));
        assert_eq!(config(Vec::new()).checked_l1(genesis).expect("none needed"), None);

        config(Vec::new()).checked_timeouts(genesis).expect("defaults are valid");
        let mut slow = config(Vec::new());
        slow.timeouts.certification_ms = slow.timeouts.leader_ms;
        assert!(matches!(slow.checked_timeouts(genesis), Err(ConfigError::Invalid(_))));
        let mut paced = network.genesis.clone();
        paced.min_block_interval_ms = TimeoutsConfig::default().leader_ms;
        assert!(matches!(
            config(Vec::new()).checked_timeouts(&paced),
            Err(ConfigError::Invalid(_))
        ));
    }
}
