//! `trestle node init`: an operator's node configuration from the network's genesis and its
//! own key file, the step between `trestle genesis verify` and `trestle node run`.
//!
//! Every other validator of the genesis becomes a peer at the p2p address its operator put in
//! its entry (`trestle keygen --p2p-address`); the node listens on `--p2p` (by default every
//! interface, at the port of its own entry's address). A key that is not in the genesis gets the
//! same peers: it runs as a follower. The configuration names the key and genesis files by
//! absolute path, so it can be started from anywhere.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use trestle_api::{FileError, Genesis, ValidatorKeys};
use trestle_node::service::{L1Settings, NodeConfig, PeerConfig, network::P2pProfile};

/// `trestle node init`'s arguments.
#[derive(Clone, Debug, clap::Args)]
pub struct InitArgs {
    /// The network's genesis file.
    #[arg(long)]
    pub genesis: PathBuf,
    /// This node's key file (`trestle keygen --out`).
    #[arg(long)]
    pub keys: PathBuf,
    /// Where the node listens for peers (default: every interface, at the port of this key's
    /// genesis address).
    #[arg(long)]
    pub p2p: Option<SocketAddr>,
    /// Where the node serves JSON-RPC (HTTP and WebSocket).
    #[arg(long, default_value = "127.0.0.1:8545")]
    pub rpc: SocketAddr,
    /// Where the node serves Prometheus metrics (none if absent).
    #[arg(long)]
    pub metrics: Option<SocketAddr>,
    /// The node's storage directory (relative paths are relative to the configuration file).
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// The L1's JSON-RPC endpoint, where the stake table is read (required when the genesis
    /// names one).
    #[arg(long)]
    pub l1_rpc: Option<String>,
    /// Blocks below the L1 head the node reads the stake table at.
    #[arg(long, default_value_t = 12)]
    pub l1_safe_depth: u64,
    /// Accept private peer addresses (RFC 1918, loopback): a network on a private LAN.
    #[arg(long)]
    pub allow_private_ips: bool,
    /// Accept a known peer's connections from any IP (peers behind NAT).
    #[arg(long)]
    pub bypass_ip_check: bool,
    /// Least time between connection attempts to one peer, in ms (the production profile's 60 s
    /// if unset: a restarted peer is redialed only after a minute).
    #[arg(long)]
    pub peer_cooldown_ms: Option<u64>,
    /// Keep full finalized blocks of the last this many heights only (archival if unset: every
    /// block is kept and served). At least two epochs and 1,024 heights.
    #[arg(long)]
    pub retain_heights: Option<u64>,
    /// Where to write the configuration (never overwritten).
    #[arg(long)]
    pub out: PathBuf,
}

/// Why no configuration was written.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The genesis or key file could not be read, or the genesis does not resolve.
    #[error(transparent)]
    File(#[from] FileError),
    /// A path could not be made absolute.
    #[error("{path}: {reason}")]
    Path {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// Another validator's entry has no p2p address, so the node could not reach it.
    #[error(
        "validator {index} has no p2pAddress in the genesis: its operator must make its entry \
         with `trestle keygen --p2p-address`"
    )]
    PeerWithoutAddress {
        /// Its slot.
        index: usize,
    },
    /// Neither `--p2p` nor this key's genesis entry says where to listen.
    #[error("this key has no p2pAddress in the genesis: pass --p2p")]
    NoListenAddress,
    /// The genesis follows a stake table on an L1, and no `--l1-rpc` says where to read it.
    #[error("the genesis follows a stake table on L1 chain {chain_id}: pass --l1-rpc")]
    L1RpcMissing {
        /// The L1's chain id.
        chain_id: u64,
    },
    /// An option is out of its bounds (the message names it).
    #[error("{0}")]
    Invalid(String),
    /// The output file exists.
    #[error("{0} exists; a node configuration is never overwritten")]
    Exists(PathBuf),
    /// The configuration could not be written.
    #[error("writing {path}: {reason}")]
    Write {
        /// The output file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// What `init` wrote.
#[derive(Clone, Debug)]
pub struct Initialized {
    /// The configuration.
    pub config: NodeConfig,
    /// This key's slot in the genesis; `None` for a follower.
    pub slot: Option<usize>,
}

/// Writes the node configuration `args` describe.
pub fn init(args: &InitArgs) -> Result<Initialized, InitError> {
    if args.out.exists() {
        return Err(InitError::Exists(args.out.clone()));
    }
    let (genesis, resolved) = Genesis::load(&args.genesis)?;
    let keys = ValidatorKeys::load(&args.keys)?;
    let own = keys.genesis_entry().consensus_key.to_ascii_lowercase();
    let slot = genesis.validators.iter().position(|v| v.consensus_key.to_ascii_lowercase() == own);
    let mut peers = Vec::with_capacity(genesis.validators.len());
    for (index, validator) in genesis.validators.iter().enumerate() {
        if Some(index) == slot {
            continue;
        }
        let address =
            validator.p2p_address.clone().ok_or(InitError::PeerWithoutAddress { index })?;
        peers.push(PeerConfig { public_key: validator.consensus_key.clone(), address });
    }
    let p2p = match (args.p2p, slot.and_then(|i| genesis.validators[i].p2p_address.as_deref())) {
        (Some(p2p), _) => p2p,
        (None, Some(address)) => {
            let port = address
                .rsplit_once(':')
                .and_then(|(_, port)| port.parse::<u16>().ok())
                .ok_or(InitError::NoListenAddress)?;
            SocketAddr::from(([0, 0, 0, 0], port))
        }
        (None, None) => return Err(InitError::NoListenAddress),
    };
    let l1 = match (&genesis.l1, &args.l1_rpc) {
        (Some(l1), None) => return Err(InitError::L1RpcMissing { chain_id: l1.chain_id }),
        (_, rpc) => rpc.clone().map(|rpc| L1Settings {
            rpc,
            safe_depth: args.l1_safe_depth,
            poll_ms: 1_000,
        }),
    };
    let config = NodeConfig {
        data_dir: args.data_dir.clone(),
        keys: absolute(&args.keys)?,
        genesis: absolute(&args.genesis)?,
        p2p,
        rpc: args.rpc,
        metrics: args.metrics,
        log_level: "info".into(),
        worker_threads: 2,
        peers,
        l1,
        timeouts: Default::default(),
        mempool: Default::default(),
        p2p_profile: P2pProfile::Production,
        allow_private_ips: args.allow_private_ips.then_some(true),
        bypass_ip_check: args.bypass_ip_check,
        peer_connection_cooldown_ms: args.peer_cooldown_ms,
        retain_heights: args.retain_heights,
    };
    config.p2p_options().map_err(|e| InitError::Invalid(e.to_string()))?;
    config.checked_retention(&resolved).map_err(|e| InitError::Invalid(e.to_string()))?;
    config
        .save(&args.out)
        .map_err(|e| InitError::Write { path: args.out.clone(), reason: e.to_string() })?;
    Ok(Initialized { config, slot })
}

fn absolute(path: &Path) -> Result<PathBuf, InitError> {
    std::path::absolute(path)
        .map_err(|e| InitError::Path { path: path.into(), reason: e.to_string() })
}
