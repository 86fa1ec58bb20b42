//! The relayer's configuration file (TOML) and its validation (`relayer.example.toml` is a
//! complete example).
//!
//! ```toml
//! network_rpc = ["http://127.0.0.1:9000",    # trestle validators' JSON-RPC, tried in order
//!   "http://127.0.0.1:9001"]                 # (failover); one URL may be a plain string
//! store = "relayer.redb"                     # cursors and pending messages
//! metrics = "127.0.0.1:9400"                 # optional: Prometheus `/metrics`
//! roles = ["post", "prove", "deliver"]       # which loops this process runs
//! discovery_start_height = 1                 # optional: first network height the deliver
//!                                            # role reads on a fresh store (default 1)
//! resend_ms = 5000                           # optional: post resends a submission not
//!                                            # finalized this long after it was last sent
//!
//! [poll]                                     # optional, milliseconds
//! evm_ms = 1000
//! network_ms = 500
//!
//! [retry]                                    # optional, milliseconds
//! initial_ms = 250
//! max_ms = 30000
//!
//! [prover]                                   # required by the prove role
//! keys_dir = "keys"                          # holds light-client-n<capacity>.pk
//! capacity = 4
//!
//! [[chains]]
//! name = "rollup-a"
//! chain_id = 31337
//! rpc = "http://127.0.0.1:8545"
//! mailbox = "0x…"
//! light_client = "0x…"
//! message_namespace = 1001
//! block_namespace = 1002
//! owner_key = "rollup-a.owner.toml"          # post: the namespaces' owner (a `trestle keygen` file)
//! evm_key = "0x…"                            # prove/deliver: or evm_key_file = "path"
//! max_gas_price_wei = 100000000000          # cap on max_fee_per_gas; above it, sending waits
//! replace_after_ms = 30000                  # unmined this long: resent with fees raised 13%
//! head = "auto"                              # post: up to the `finalized` block where served
//! confirmations = 0                          # post: blocks of depth below `head`
//! start_block = 0                            # optional: checked against the network's next record
//! ```
//!
//! Roles and keys: `post` is the rollup sequencer's role and needs `owner_key` (the namespaces'
//! owner); `prove` and `deliver` are anyone's and need only an EVM key to pay with. A relayer
//! with `roles = ["prove", "deliver"]` and no `owner_key` delivers every message the network
//! carries for its configured chains, whoever posted it (see [`crate::discover`]).
//!
//! Relative paths are resolved against the directory of the configuration file. Every field is
//! checked by [`Config::load`]/[`Config::validate`] before any loop starts, so a mistake is a
//! [`ConfigError`] at start-up rather than a failure hours later.

use std::{
    collections::BTreeSet,
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use alloy::{primitives::Address, signers::local::PrivateKeySigner};
use commonware_cryptography::ed25519;
use serde::Deserialize;
use trestle_light_client::Namespace;

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The configuration is not valid TOML of the expected shape.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// A field has an unusable value.
    #[error("{field}: {message}")]
    Invalid {
        /// The field (`chains[1].rpc`, …).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A key file or inline key does not hold a valid key.
    #[error("{field}: {message}")]
    Key {
        /// The field that names the key.
        field: String,
        /// What is wrong with it.
        message: String,
    },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { field: field.into(), message: message.into() }
}

/// One of the relayer's loops (DESIGN §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Source chains' blocks and outgoing messages → the network.
    Post,
    /// Finalized light-client states → Groth16 proofs → destination light clients.
    Prove,
    /// Messages found on the network (no owner key needed), with inclusion proofs →
    /// destination mailboxes.
    Deliver,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Post => "post",
            Self::Prove => "prove",
            Self::Deliver => "deliver",
        })
    }
}

/// Poll intervals (milliseconds in the file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollConfig {
    /// How often the EVM chains are asked for new blocks and light-client heights.
    #[serde(default = "default_evm_ms")]
    pub evm_ms: u64,
    /// How often the network is asked for new finalized heights and inclusions.
    #[serde(default = "default_network_ms")]
    pub network_ms: u64,
}

/// Where discovery starts on a fresh store: height 1, the first block after genesis (the
/// genesis block carries no transaction).
pub const DEFAULT_DISCOVERY_START_HEIGHT: u64 = 1;

fn default_evm_ms() -> u64 {
    1_000
}

fn default_network_ms() -> u64 {
    500
}

impl Default for PollConfig {
    fn default() -> Self {
        Self { evm_ms: default_evm_ms(), network_ms: default_network_ms() }
    }
}

impl PollConfig {
    /// The EVM poll interval.
    pub fn evm(&self) -> Duration {
        Duration::from_millis(self.evm_ms)
    }

    /// The network poll interval.
    pub fn network(&self) -> Duration {
        Duration::from_millis(self.network_ms)
    }
}

/// Backoff after a failed step (milliseconds in the file): the first wait, doubled after each
/// further failure up to the maximum, back to the first after a success.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// First wait after a failure.
    #[serde(default = "default_initial_ms")]
    pub initial_ms: u64,
    /// Longest wait.
    #[serde(default = "default_max_ms")]
    pub max_ms: u64,
}

fn default_initial_ms() -> u64 {
    250
}

fn default_max_ms() -> u64 {
    30_000
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self { initial_ms: default_initial_ms(), max_ms: default_max_ms() }
    }
}

/// The prover's keys.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProverConfig {
    /// Directory holding the proving key `light-client-n<capacity>.pk` (a ceremony key, as
    /// `trestle circuit import-zkey` writes it), or the INSECURE dev key
    /// `light-client-n<capacity>.INSECURE-DEV.pk` that `trestle circuit setup` writes (used
    /// only when the first is absent, and loudly).
    pub keys_dir: PathBuf,
    /// Committee capacity of the circuit (must match the network's and the verifier's).
    pub capacity: usize,
}

impl ProverConfig {
    /// The proving key to load: the production name if it exists, else the INSECURE dev one.
    pub fn proving_key_path(&self) -> PathBuf {
        let (production, _) =
            trestle_circuits::setup::ceremony_key_paths(&self.keys_dir, self.capacity);
        if production.exists() {
            return production;
        }
        trestle_circuits::setup::insecure_dev_key_paths(&self.keys_dir, self.capacity).0
    }
}

/// The network's JSON-RPC endpoints: one URL, or a list tried in order (failover, see
/// [`crate::network`]).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum NetworkEndpoints {
    /// `network_rpc = "http://…"`.
    One(String),
    /// `network_rpc = ["http://…", "http://…"]`.
    Many(Vec<String>),
}

impl NetworkEndpoints {
    /// The URLs, in the order they are tried.
    pub fn urls(&self) -> Vec<String> {
        match self {
            Self::One(url) => vec![url.clone()],
            Self::Many(urls) => urls.clone(),
        }
    }

    /// Checks every URL, naming the bad one's field (`network_rpc`, `network_rpc[1]`).
    fn validate(&self) -> Result<(), ConfigError> {
        match self {
            Self::One(url) => check_http_url("network_rpc", url),
            Self::Many(urls) if urls.is_empty() => {
                Err(invalid("network_rpc", "list at least one endpoint"))
            }
            Self::Many(urls) => {
                for (i, url) in urls.iter().enumerate() {
                    check_http_url(&format!("network_rpc[{i}]"), url)?;
                }
                Ok(())
            }
        }
    }
}

impl From<&str> for NetworkEndpoints {
    fn from(url: &str) -> Self {
        Self::One(url.to_owned())
    }
}

/// Default of [`ChainConfig::replace_after_ms`]: a few blocks of a busy chain.
pub const DEFAULT_REPLACE_AFTER_MS: u64 = 30_000;

fn default_replace_after_ms() -> u64 {
    DEFAULT_REPLACE_AFTER_MS
}

/// Default of [`Config::resend_ms`]: a few block intervals of a healthy network.
pub const DEFAULT_RESEND_MS: u64 = 5_000;

fn default_resend_ms() -> u64 {
    DEFAULT_RESEND_MS
}

/// Which block of a source chain bounds what the post role posts.
///
/// What is posted cannot be taken back: its block records are confirmed by the network (a
/// later, conflicting record for the same number is refused as an equivocation) and its
/// messages may be delivered at once. So the post role must only post blocks the chain will
/// not reorganize away. Where the chain says which those are (its `finalized` block tag, as
/// Ethereum and the OP stack do), that is the bound; a chain without the tag must be trusted to
/// `confirmations` blocks of depth instead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceHead {
    /// `finalized` if the chain's endpoint serves that block tag, `latest` if it answers the
    /// tag with an error (decided once per start, at the first step).
    #[default]
    Auto,
    /// The chain's `finalized` block (less `confirmations`, normally 0).
    Finalized,
    /// The chain's newest block less `confirmations`: for a chain that never reorganizes (a
    /// single-sequencer devnet) or one without a `finalized` tag.
    Latest,
}

impl fmt::Display for SourceHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Finalized => "finalized",
            Self::Latest => "latest",
        })
    }
}

/// One EVM chain, as a source (post) and/or a destination (prove, deliver).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// Name used in logs, metrics and the store (unique).
    pub name: String,
    /// EVM chain id (unique; must be what the RPC endpoint reports).
    pub chain_id: u64,
    /// EVM JSON-RPC URL (`http://` or `https://`; TLS with rustls and the platform's roots).
    pub rpc: String,
    /// The chain's `Mailbox`.
    pub mailbox: Address,
    /// The chain's `LightClient` of the trestle network.
    pub light_client: Address,
    /// Trestle namespace of the chain's outgoing messages (registered in the other mailboxes).
    pub message_namespace: u64,
    /// Trestle namespace of the chain's block records.
    pub block_namespace: u64,
    /// Key file of the namespaces' owner (ed25519, `trestle keygen` format); the post role
    /// signs every submission with it.
    #[serde(default)]
    pub owner_key: Option<PathBuf>,
    /// EVM private key (`0x` + 32 bytes) that pays for `update` and `deliver`. One relayer
    /// process per key: sends take the account's mined nonce and replace whatever waits there,
    /// so two processes sharing a key would keep replacing each other's transactions.
    #[serde(default)]
    pub evm_key: Option<String>,
    /// File holding the EVM private key instead (first line, `0x` + 32 bytes).
    #[serde(default)]
    pub evm_key_file: Option<PathBuf>,
    /// Most the relayer ever pays per gas (wei). Transactions are EIP-1559: their
    /// `max_fee_per_gas` is alloy's estimate clamped to this cap (their tip to that), and
    /// while `eth_gasPrice` is above it sending waits (see [`EvmChain::send`]).
    ///
    /// [`EvmChain::send`]: crate::evm::EvmChain::send
    pub max_gas_price_wei: u128,
    /// How long a sent transaction may wait unmined before it is replaced with higher fees
    /// (within `max_gas_price_wei`), in milliseconds.
    #[serde(default = "default_replace_after_ms")]
    pub replace_after_ms: u64,
    /// Which of the chain's blocks is the newest the post role may post (see [`SourceHead`];
    /// default `auto`: the chain's `finalized` block where it serves one).
    #[serde(default)]
    pub head: SourceHead,
    /// Blocks a source block must be buried under, below [`ChainConfig::head`], before it is
    /// posted.
    #[serde(default)]
    pub confirmations: u64,
    /// Where an operator expects a fresh store to start posting; optional and only checked.
    /// The block records of a chain are contiguous from the first number its genesis
    /// declares, so a store without a cursor starts where the network's records of the chain
    /// continue (genesis' first number when it has none), and a different value here is
    /// reported, not followed.
    #[serde(default)]
    pub start_block: Option<u64>,
}

impl ChainConfig {
    /// The message namespace as a protocol type.
    pub fn message_namespace(&self) -> Namespace {
        Namespace(self.message_namespace)
    }

    /// The block namespace as a protocol type.
    pub fn block_namespace(&self) -> Namespace {
        Namespace(self.block_namespace)
    }

    /// Reads the namespace owner's key.
    pub fn load_owner_key(&self, field: &str) -> Result<ed25519::PrivateKey, ConfigError> {
        let path = self.owner_key.as_ref().ok_or_else(|| ConfigError::Key {
            field: field.to_owned(),
            message: "the post role needs the namespace owner's key file".into(),
        })?;
        let keys = trestle_api::ValidatorKeys::load(path)
            .map_err(|e| ConfigError::Key { field: field.to_owned(), message: e.to_string() })?;
        Ok(keys.consensus)
    }

    /// Reads the EVM signer.
    pub fn load_evm_signer(&self, field: &str) -> Result<PrivateKeySigner, ConfigError> {
        let key_error = |message: String| ConfigError::Key { field: field.to_owned(), message };
        let text = match (&self.evm_key, &self.evm_key_file) {
            (Some(_), Some(_)) => {
                return Err(key_error("give evm_key or evm_key_file, not both".into()));
            }
            (None, None) => {
                return Err(key_error("the prove and deliver roles need an EVM key".into()));
            }
            (Some(key), None) => key.clone(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|source| ConfigError::Io { path: path.clone(), source })?
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned(),
        };
        let digits = text
            .strip_prefix("0x")
            .ok_or_else(|| key_error("an EVM key is 0x followed by 64 hex digits".into()))?;
        if digits.len() != 64 {
            return Err(key_error("an EVM key is 0x followed by 64 hex digits".into()));
        }
        digits.parse::<PrivateKeySigner>().map_err(|e| key_error(e.to_string()))
    }
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Trestle validators' JSON-RPC URLs (one string, or a list tried in order).
    pub network_rpc: NetworkEndpoints,
    /// The store file (created if missing).
    pub store: PathBuf,
    /// Prometheus `/metrics` listen address.
    #[serde(default)]
    pub metrics: Option<SocketAddr>,
    /// The loops this process runs.
    pub roles: Vec<Role>,
    /// First trestle height the deliver role's discovery reads when the store has no cursor
    /// yet (default [`DEFAULT_DISCOVERY_START_HEIGHT`]: the whole history). Mailboxes receive
    /// each route in nonce order, so start no later than the first message not yet received
    /// on any route this relayer serves; earlier is only slower.
    #[serde(default)]
    pub discovery_start_height: Option<u64>,
    /// The post role resends a submission the network has not finalized this many
    /// milliseconds after it was last sent (default [`DEFAULT_RESEND_MS`]): a validator's
    /// mempool does not survive its restart.
    #[serde(default = "default_resend_ms")]
    pub resend_ms: u64,
    /// Poll intervals.
    #[serde(default)]
    pub poll: PollConfig,
    /// Backoff after failures.
    #[serde(default)]
    pub retry: RetryConfig,
    /// Proving keys (prove role).
    #[serde(default)]
    pub prover: Option<ProverConfig>,
    /// The EVM chains.
    pub chains: Vec<ChainConfig>,
}

impl Config {
    /// Reads, resolves (paths relative to the file) and validates a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Io { path: path.into(), source })?;
        let mut config = Self::parse(&text)
            .map_err(|message| ConfigError::Parse { path: path.into(), message })?;
        config.resolve_paths(path.parent().unwrap_or_else(|| Path::new(".")));
        config.validate()?;
        Ok(config)
    }

    /// Parses TOML without validating (see [`Config::validate`]).
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Makes every relative path relative to `base`.
    pub fn resolve_paths(&mut self, base: &Path) {
        let resolve = |path: &mut PathBuf| {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        };
        resolve(&mut self.store);
        if let Some(prover) = &mut self.prover {
            resolve(&mut prover.keys_dir);
        }
        for chain in &mut self.chains {
            if let Some(path) = &mut chain.owner_key {
                resolve(path);
            }
            if let Some(path) = &mut chain.evm_key_file {
                resolve(path);
            }
        }
    }

    /// The height discovery starts at on a fresh store.
    pub fn discovery_start_height(&self) -> u64 {
        self.discovery_start_height.unwrap_or(DEFAULT_DISCOVERY_START_HEIGHT)
    }

    /// Whether this process runs `role`.
    pub fn runs(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Checks every field, including that the keys the chosen roles need exist and decode.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.network_rpc.validate()?;
        if self.resend_ms == 0 {
            return Err(invalid("resend_ms", "must be at least 1 ms"));
        }
        if self.roles.is_empty() {
            return Err(invalid("roles", "choose at least one of post, prove, deliver"));
        }
        if self.roles.iter().collect::<BTreeSet<_>>().len() != self.roles.len() {
            return Err(invalid("roles", "a role is listed twice"));
        }
        if self.poll.evm_ms == 0 || self.poll.network_ms == 0 {
            return Err(invalid("poll", "intervals must be at least 1 ms"));
        }
        if self.retry.initial_ms == 0 || self.retry.max_ms < self.retry.initial_ms {
            return Err(invalid("retry", "need 0 < initial_ms <= max_ms"));
        }
        if self.discovery_start_height == Some(0) {
            return Err(invalid(
                "discovery_start_height",
                "height 0 is the genesis block, which carries no transaction: start at 1 or later",
            ));
        }
        if self.chains.is_empty() {
            return Err(invalid("chains", "configure at least one chain"));
        }
        if self.runs(Role::Prove) {
            let prover = self.prover.as_ref().ok_or_else(|| {
                invalid("prover", "the prove role needs [prover] keys_dir and capacity")
            })?;
            if prover.capacity == 0 {
                return Err(invalid("prover.capacity", "must be at least 1"));
            }
            let key = prover.proving_key_path();
            if !key.is_file() {
                return Err(invalid(
                    "prover.keys_dir",
                    format!("no proving key at {}", key.display()),
                ));
            }
        }
        let mut names = BTreeSet::new();
        let mut chain_ids = BTreeSet::new();
        let mut namespaces = BTreeSet::new();
        for (i, chain) in self.chains.iter().enumerate() {
            let field = |name: &str| format!("chains[{i}].{name}");
            if chain.name.is_empty()
                || !chain.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(invalid(field("name"), "use letters, digits, '-' and '_'"));
            }
            if !names.insert(chain.name.as_str()) {
                return Err(invalid(field("name"), format!("{:?} is used twice", chain.name)));
            }
            if !chain_ids.insert(chain.chain_id) {
                return Err(invalid(
                    field("chain_id"),
                    format!("{} is used twice", chain.chain_id),
                ));
            }
            check_http_url(&field("rpc"), &chain.rpc)?;
            if chain.mailbox.is_zero() {
                return Err(invalid(field("mailbox"), "the zero address is not a mailbox"));
            }
            if chain.light_client.is_zero() {
                return Err(invalid(field("light_client"), "the zero address is not a contract"));
            }
            if chain.message_namespace == chain.block_namespace {
                return Err(invalid(
                    field("block_namespace"),
                    "messages and block records need distinct namespaces",
                ));
            }
            for (name, namespace) in [
                ("message_namespace", chain.message_namespace),
                ("block_namespace", chain.block_namespace),
            ] {
                if !namespaces.insert(namespace) {
                    return Err(invalid(
                        field(name),
                        format!("namespace {namespace} is used by another chain"),
                    ));
                }
            }
            if chain.replace_after_ms == 0 {
                return Err(invalid(field("replace_after_ms"), "must be at least 1 ms"));
            }
            if chain.max_gas_price_wei == 0 {
                return Err(invalid(field("max_gas_price_wei"), "a zero cap would never send"));
            }
            if self.runs(Role::Post) {
                chain.load_owner_key(&field("owner_key"))?;
            }
            if self.runs(Role::Prove) || self.runs(Role::Deliver) {
                chain.load_evm_signer(&field("evm_key"))?;
            }
        }
        Ok(())
    }
}

fn check_http_url(field: &str, url: &str) -> Result<(), ConfigError> {
    let parsed: alloy::transports::http::reqwest::Url =
        url.parse().map_err(|e| invalid(field, format!("{url:?} is not a URL: {e}")))?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return Err(invalid(field, format!("{url:?}: only http(s) endpoints are supported")));
    }
    Ok(())
}
