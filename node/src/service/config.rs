//! Files a validator reads at start: its node configuration (TOML), the network's genesis
//! (JSON, identical on every validator) and its key file (TOML, secret).
//!
//! Relative paths in a node configuration are resolved against the directory of the
//! configuration file, so a devnet directory can be moved as a whole.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use commonware_codec::{DecodeExt as _, Encode as _};
use commonware_cryptography::{Signer as _, ed25519};
use serde::{Deserialize, Serialize};
use trestle_light_client::{
    ChainId, Committee, CommitteeSlot, Epoch, Namespace, PublicKey as LightClientKey, SecretKey,
};

use crate::{block::BlockLimits, engine::Timeouts, mempool::MempoolConfig, rules::ChainParams};

/// Why a configuration, genesis or key file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML / JSON for its type.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// A hex field is malformed or has the wrong length.
    #[error("{field}: {message}")]
    Hex {
        /// The field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A key does not decode (not on the curve, wrong length, …).
    #[error("{field}: invalid key")]
    Key {
        /// The field.
        field: String,
    },
    /// The genesis is inconsistent (duplicate keys, empty committee, bad capacity, …).
    #[error("genesis: {0}")]
    Genesis(String),
    /// The node configuration is inconsistent with itself or with the genesis.
    #[error("config: {0}")]
    Invalid(String),
}

fn parse_hex<const N: usize>(field: &str, value: &str) -> Result<[u8; N], ConfigError> {
    let hex_error = |message: String| ConfigError::Hex { field: field.to_owned(), message };
    let digits = value.strip_prefix("0x").ok_or_else(|| hex_error("missing 0x prefix".into()))?;
    let bytes = hex::decode(digits).map_err(|e| hex_error(e.to_string()))?;
    <[u8; N]>::try_from(bytes.as_slice())
        .map_err(|_| hex_error(format!("expected {N} bytes, found {}", bytes.len())))
}

/// `0x`-prefixed lowercase hex.
pub fn to_hex(bytes: impl AsRef<[u8]>) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Decodes an ed25519 public key from `0x` + 64 hex digits.
pub fn parse_consensus_key(field: &str, value: &str) -> Result<ed25519::PublicKey, ConfigError> {
    let bytes = parse_hex::<32>(field, value)?;
    ed25519::PublicKey::decode(bytes.to_vec())
        .map_err(|_| ConfigError::Key { field: field.to_owned() })
}

/// Decodes a light-client (Baby Jubjub, circomlib coordinates) public key from `0x` + 128 hex
/// digits.
pub fn parse_light_client_key(field: &str, value: &str) -> Result<LightClientKey, ConfigError> {
    let bytes = parse_hex::<64>(field, value)?;
    LightClientKey::from_bytes(&bytes).map_err(|_| ConfigError::Key { field: field.to_owned() })
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Io { path: path.into(), source })
}

fn write(path: &Path, contents: &str) -> Result<(), ConfigError> {
    std::fs::write(path, contents).map_err(|source| ConfigError::Io { path: path.into(), source })
}

/// One genesis validator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisValidator {
    /// ed25519 consensus (and p2p) public key, `0x` + 32 bytes.
    pub consensus_key: String,
    /// EdDSA-Poseidon light-client public key, `0x` + 64 bytes (circomlib coordinates).
    pub light_client_key: String,
    /// Voting weight of the light-client slot (1 under equal-weight voting).
    #[serde(default = "one")]
    pub weight: u64,
}

fn one() -> u64 {
    1
}

/// A namespace bound to its sequencer's key: only transactions it signed are admitted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OwnedNamespace {
    /// The namespace.
    pub namespace: u64,
    /// The owner's ed25519 public key, `0x` + 32 bytes.
    pub owner: String,
}

/// Block size limits, as written in a genesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisLimits {
    /// Most transactions per block.
    pub max_transactions: usize,
    /// Largest transaction payload (bytes).
    pub max_payload: usize,
    /// Largest sum of payloads per block (bytes).
    pub max_block_payload: usize,
}

impl Default for GenesisLimits {
    fn default() -> Self {
        let limits = BlockLimits::default();
        Self {
            max_transactions: limits.max_transactions,
            max_payload: limits.max_payload,
            max_block_payload: limits.max_block_payload,
        }
    }
}

/// The network's genesis: everything validators must agree on before block 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Genesis {
    /// Network id (also separates consensus signatures of different networks).
    pub chain_id: u64,
    /// The epoch of the genesis committee.
    #[serde(default)]
    pub epoch: u64,
    /// Timestamp of the genesis header (ms since the Unix epoch).
    pub timestamp_ms: u64,
    /// Least time between consecutive blocks (ms); paces an idle network.
    pub min_block_interval_ms: u64,
    /// Slots of the light-client circuit the committee is padded to.
    pub committee_capacity: usize,
    /// The validators, in light-client slot order.
    pub validators: Vec<GenesisValidator>,
    /// Namespaces with a sequencer key.
    #[serde(default)]
    pub owned_namespaces: Vec<OwnedNamespace>,
    /// Block size limits.
    #[serde(default)]
    pub limits: GenesisLimits,
}

/// A genesis decoded into protocol types.
#[derive(Clone, Debug)]
pub struct ResolvedGenesis {
    /// Consensus keys, in light-client slot order.
    pub consensus_keys: Vec<ed25519::PublicKey>,
    /// The light-client committee (slot `i` belongs to `consensus_keys[i]`).
    pub committee: Committee,
    /// The parameters the block rules check.
    pub params: ChainParams,
}

impl Genesis {
    /// Reads and validates a genesis file.
    pub fn load(path: &Path) -> Result<(Self, ResolvedGenesis), ConfigError> {
        let genesis: Self = serde_json::from_str(&read(path)?)
            .map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })?;
        let resolved = genesis.resolve()?;
        Ok((genesis, resolved))
    }

    /// Writes the genesis as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })?;
        write(path, &(json + "\n"))
    }

    /// Decodes every key and checks the genesis is self-consistent.
    pub fn resolve(&self) -> Result<ResolvedGenesis, ConfigError> {
        let mut consensus_keys = Vec::with_capacity(self.validators.len());
        let mut slots = Vec::with_capacity(self.validators.len());
        for (i, validator) in self.validators.iter().enumerate() {
            let key = parse_consensus_key(
                &format!("validators[{i}].consensusKey"),
                &validator.consensus_key,
            )?;
            if consensus_keys.contains(&key) {
                return Err(ConfigError::Genesis(format!(
                    "validator {i}: duplicate consensus key"
                )));
            }
            consensus_keys.push(key);
            slots.push(CommitteeSlot {
                key: parse_light_client_key(
                    &format!("validators[{i}].lightClientKey"),
                    &validator.light_client_key,
                )?,
                weight: validator.weight,
            });
        }
        let committee = Committee::new(slots, self.committee_capacity)
            .map_err(|e| ConfigError::Genesis(e.to_string()))?;
        let mut owners = BTreeMap::new();
        for (i, owned) in self.owned_namespaces.iter().enumerate() {
            let owner = parse_consensus_key(&format!("ownedNamespaces[{i}].owner"), &owned.owner)?;
            if owners.insert(Namespace(owned.namespace), owner).is_some() {
                return Err(ConfigError::Genesis(format!(
                    "namespace {} owned twice",
                    owned.namespace
                )));
            }
        }
        let limits = BlockLimits {
            max_transactions: self.limits.max_transactions,
            max_payload: self.limits.max_payload,
            max_block_payload: self.limits.max_block_payload,
        };
        if limits.max_transactions == 0
            || limits.max_payload == 0
            || limits.max_block_payload < limits.max_payload
        {
            return Err(ConfigError::Genesis(
                "limits must be non-zero and a block must fit its largest transaction".into(),
            ));
        }
        let params = ChainParams {
            chain_id: ChainId(self.chain_id),
            epoch: Epoch(self.epoch),
            committee: committee.commitment_bytes(),
            limits,
            owners,
            genesis_timestamp_ms: self.timestamp_ms,
            min_block_interval_ms: self.min_block_interval_ms,
        };
        Ok(ResolvedGenesis { consensus_keys, committee, params })
    }
}

/// The domain separating this network's consensus signatures from every other network's.
pub fn consensus_namespace(chain_id: u64) -> Vec<u8> {
    let mut namespace = b"trestle.consensus.v1.".to_vec();
    namespace.extend_from_slice(&chain_id.to_be_bytes());
    namespace
}

/// A validator's secret keys, as stored in its key file.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    /// ed25519 consensus / p2p private key, `0x` + 32 bytes.
    pub consensus_key: String,
    /// EdDSA-Poseidon light-client key seed, `0x` + 32 bytes.
    pub light_client_seed: String,
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyFile { .. }")
    }
}

/// A validator's decoded keys.
#[derive(Clone)]
pub struct Keys {
    /// Consensus and p2p identity.
    pub consensus: ed25519::PrivateKey,
    /// Light-client signing key.
    pub light_client: SecretKey,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("consensus", &self.consensus.public_key())
            .field("light_client", self.light_client.public_key())
            .finish()
    }
}

impl Keys {
    /// Fresh keys from 64 bytes of entropy (the caller supplies OS randomness).
    pub fn from_entropy(consensus_seed: [u8; 32], light_client_seed: [u8; 32]) -> Self {
        // Every 32-byte string is a valid ed25519 secret, so decoding cannot fail.
        let consensus = ed25519_consensus_key(consensus_seed)
            .unwrap_or_else(|| ed25519::PrivateKey::from_seed(u64::from(consensus_seed[0])));
        Self { consensus, light_client: SecretKey::from_seed(light_client_seed) }
    }

    /// The public half, as a genesis entry (weight 1).
    pub fn genesis_entry(&self) -> GenesisValidator {
        GenesisValidator {
            consensus_key: to_hex(self.consensus.public_key().encode()),
            light_client_key: to_hex(self.light_client.public_key().to_bytes()),
            weight: 1,
        }
    }

    /// The key file contents.
    pub fn to_file(&self) -> KeyFile {
        KeyFile {
            consensus_key: to_hex(self.consensus.encode()),
            light_client_seed: to_hex(self.light_client.seed()),
        }
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let file: KeyFile = toml::from_str(&read(path)?)
            .map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })?;
        let consensus =
            ed25519_consensus_key(parse_hex::<32>("consensus_key", &file.consensus_key)?)
                .ok_or_else(|| ConfigError::Key { field: "consensus_key".into() })?;
        let light_client =
            SecretKey::from_seed(parse_hex::<32>("light_client_seed", &file.light_client_seed)?);
        Ok(Self { consensus, light_client })
    }

    /// Writes the key file, readable by its owner only.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let contents = toml::to_string(&self.to_file())
            .map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })?;
        write(
            path,
            &format!("# trestle validator keys: SECRET, never share or commit.\n{contents}"),
        )?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|source| ConfigError::Io { path: path.into(), source })?;
        }
        Ok(())
    }
}

fn ed25519_consensus_key(bytes: [u8; 32]) -> Option<ed25519::PrivateKey> {
    ed25519::PrivateKey::decode(bytes.to_vec()).ok()
}

/// Another validator to connect to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// Its ed25519 public key, `0x` + 32 bytes (must be a genesis validator).
    pub public_key: String,
    /// Its p2p address.
    pub address: SocketAddr,
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
    /// The other validators.
    pub peers: Vec<PeerConfig>,
    /// Consensus timeouts.
    #[serde(default)]
    pub timeouts: TimeoutsConfig,
    /// Mempool limits.
    #[serde(default)]
    pub mempool: MempoolSettings,
}

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
            .map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })?;
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
            .map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })?;
        write(path, &contents)
    }

    /// The peers as decoded keys, checked against the genesis validators.
    pub fn resolve_peers(
        &self,
        genesis: &ResolvedGenesis,
    ) -> Result<Vec<(ed25519::PublicKey, SocketAddr)>, ConfigError> {
        let mut peers = Vec::with_capacity(self.peers.len());
        for (i, peer) in self.peers.iter().enumerate() {
            let key = parse_consensus_key(&format!("peers[{i}].public_key"), &peer.public_key)?;
            if !genesis.consensus_keys.contains(&key) {
                return Err(ConfigError::Invalid(format!("peers[{i}] is not a genesis validator")));
            }
            if peers.iter().any(|(k, _)| *k == key) {
                return Err(ConfigError::Invalid(format!("peers[{i}] listed twice")));
            }
            peers.push((key, peer.address));
        }
        Ok(peers)
    }

    /// Checks the timeouts (simplex's ordering, and room for the block interval).
    pub fn checked_timeouts(&self, genesis: &ResolvedGenesis) -> Result<Timeouts, ConfigError> {
        let timeouts = Timeouts::from(self.timeouts);
        timeouts.validate().map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if genesis.params.min_block_interval_ms >= self.timeouts.leader_ms {
            return Err(ConfigError::Invalid(format!(
                "the leader timeout ({} ms) must exceed the minimum block interval ({} ms), or \
                 every paced proposal would time out",
                self.timeouts.leader_ms, genesis.params.min_block_interval_ms
            )));
        }
        Ok(timeouts)
    }
}

/// The committee's consensus key in slot order, paired with its light-client slot.
pub fn slot_of(genesis: &ResolvedGenesis, key: &ed25519::PublicKey) -> Option<u32> {
    genesis.consensus_keys.iter().position(|k| k == key).and_then(|i| u32::try_from(i).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn genesis(n: usize) -> (Genesis, Vec<Keys>) {
        let keys: Vec<_> =
            (0..n).map(|i| Keys::from_entropy([i as u8 + 1; 32], [i as u8 + 100; 32])).collect();
        let genesis = Genesis {
            chain_id: 7,
            epoch: 0,
            timestamp_ms: 1,
            min_block_interval_ms: 100,
            committee_capacity: 4,
            validators: keys.iter().map(Keys::genesis_entry).collect(),
            owned_namespaces: vec![OwnedNamespace {
                namespace: 5,
                owner: keys[0].genesis_entry().consensus_key,
            }],
            limits: GenesisLimits::default(),
        };
        (genesis, keys)
    }

    #[test]
    fn genesis_round_trips_and_resolves() {
        let (genesis, keys) = genesis(4);
        let json = serde_json::to_string(&genesis).expect("json");
        let back: Genesis = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, genesis);
        let resolved = back.resolve().expect("valid");
        assert_eq!(resolved.consensus_keys.len(), 4);
        assert_eq!(resolved.committee.slots()[2].key, *keys[2].light_client.public_key());
        assert_eq!(resolved.params.owners.len(), 1);
        assert_eq!(slot_of(&resolved, &keys[3].consensus.public_key()), Some(3));
    }

    #[test]
    fn bad_genesis_is_refused_with_a_reason() {
        let (good, _) = genesis(4);
        let mut dup = good.clone();
        dup.validators[1] = dup.validators[0].clone();
        assert!(matches!(dup.resolve(), Err(ConfigError::Genesis(_))));
        let mut short = good.clone();
        short.validators[0].consensus_key.pop();
        assert!(matches!(short.resolve(), Err(ConfigError::Hex { .. })));
        let mut off_curve = good.clone();
        off_curve.validators[0].light_client_key = format!("0x{}", "11".repeat(64));
        assert!(matches!(off_curve.resolve(), Err(ConfigError::Key { .. })));
        let mut over = good.clone();
        over.committee_capacity = 3;
        assert!(matches!(over.resolve(), Err(ConfigError::Genesis(_))));
        let mut limits = good;
        limits.limits.max_block_payload = 1;
        assert!(matches!(limits.resolve(), Err(ConfigError::Genesis(_))));
        assert!(serde_json::from_str::<Genesis>(r#"{"chainId": -1}"#).is_err());
    }

    #[test]
    fn key_files_round_trip() {
        let dir = std::env::temp_dir().join(format!("trestle-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("keys.toml");
        let keys = Keys::from_entropy([3; 32], [4; 32]);
        keys.save(&path).expect("save");
        let back = Keys::load(&path).expect("load");
        assert_eq!(back.consensus.public_key(), keys.consensus.public_key());
        assert_eq!(back.light_client.public_key(), keys.light_client.public_key());
        std::fs::write(&path, "consensus_key = \"0x12\"\nlight_client_seed = \"0x\"\n")
            .expect("write");
        assert!(matches!(Keys::load(&path), Err(ConfigError::Hex { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
