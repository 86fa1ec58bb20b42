//! A validator process: configuration files, keys, the tokio runtime, authenticated p2p over
//! TCP, the engine, the JSON-RPC API and Prometheus metrics.
//!
//! This is the I/O edge of the node. Everything protocol-facing (`engine`, `application`,
//! `signatures`) talks to commonware's runtime traits; here they are instantiated with
//! commonware's tokio runtime (storage under [`NodeConfig::data_dir`]) and the
//! `authenticated::lookup` network ([`launch`]).
//!
//! Start-up order: the data directory's format ([`data_format`]: another version's data is
//! refused before anything opens it), telemetry (logs, `/metrics`), then [`launch()`] (p2p,
//! engine, RPC). SIGINT or SIGTERM stops every task and flushes storage; a finalized block the
//! application must refuse halts the validator, and the process exits with the reason.

pub mod config;
pub mod data_format;
mod launch;
pub mod network;
pub mod reach;

use std::{path::Path, time::Duration};

use commonware_runtime::{
    Runner as _, Spawner as _, Supervisor as _,
    tokio::{self as cw_tokio, telemetry},
};
use tracing::{error, info, warn};
use trestle_api::{Genesis, ResolvedGenesis, ValidatorKeys, shutdown_signal};

pub use self::{
    config::{ConfigError, L1Settings, MempoolSettings, NodeConfig, PeerConfig, TimeoutsConfig},
    launch::{Launch, Running, launch},
};
use crate::{
    application::FinalizeError,
    engine,
    mempool::MempoolConfig,
    rpc,
    validator::{Validator, ValidatorError},
};

/// Why a validator process stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A configuration, genesis or key file was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The data directory was written by another trestle version.
    #[error(transparent)]
    DataFormat(#[from] data_format::DataFormatError),
    /// The engine could not start (storage, keys not in the committee, …).
    #[error("engine: {0}")]
    Engine(#[from] engine::EngineError),
    /// The JSON-RPC server could not start (address in use, …).
    #[error("rpc: {0}")]
    Rpc(#[from] rpc::RpcError),
    /// The keys do not match the genesis.
    #[error(transparent)]
    Validator(#[from] ValidatorError),
    /// The L1 source could not be set up (a malformed URL).
    #[error(transparent)]
    L1(#[from] crate::l1::L1SourceError),
    /// The validator halted: its application refused a finalized block.
    #[error("halted: {0}")]
    Halted(FinalizeError),
    /// Consensus stopped: an epoch could not start (its committee or floor is unknown, its
    /// scheme or channels could not be set up).
    #[error("consensus stopped: {0}")]
    Consensus(crate::epochs::EpochError),
    /// The runtime failed to stop cleanly in time.
    #[error("shutdown: {0}")]
    Shutdown(String),
    /// A listen address (p2p or metrics) cannot be bound: in use, or not this host's.
    #[error("cannot listen on {role} address {address}: {source}")]
    Listen {
        /// `p2p` or `metrics`.
        role: &'static str,
        /// The configured address.
        address: std::net::SocketAddr,
        /// Why the bind failed.
        source: std::io::Error,
    },
}

/// Binds and releases each listen address that a runtime task, not this function, binds
/// later: p2p's listener and the metrics server panic inside their task when the bind fails,
/// and the validator would run on without them (a CI devnet ran a validator whose p2p port was
/// another's metrics port). The JSON-RPC server reports its own bind error.
fn check_listen_addresses(config: &NodeConfig) -> Result<(), ServiceError> {
    let addresses = [("p2p", Some(config.p2p)), ("metrics", config.metrics)];
    for (role, address) in addresses {
        let Some(address) = address else { continue };
        std::net::TcpListener::bind(address).map_err(|source| ServiceError::Listen {
            role,
            address,
            source,
        })?;
    }
    Ok(())
}

/// Prefix of a validator process's storage partitions (under its data directory).
const PARTITION_PREFIX: &str = "trestle";

/// How long a clean shutdown may take before the process gives up waiting.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything resolved from the files, ready to run.
#[derive(Debug)]
pub struct Prepared {
    /// The node configuration (paths made absolute relative to its file).
    pub config: NodeConfig,
    /// The decoded genesis.
    pub genesis: ResolvedGenesis,
    /// The validator's keys.
    pub keys: ValidatorKeys,
}

/// Reads and cross-checks the configuration, genesis and keys.
pub fn prepare(config_path: &Path) -> Result<Prepared, ServiceError> {
    let config = NodeConfig::load(config_path)?;
    let (_, genesis) = Genesis::load(&config.genesis).map_err(ConfigError::from)?;
    let keys = ValidatorKeys::load(&config.keys).map_err(ConfigError::from)?;
    Validator::new(genesis.clone(), keys.clone(), PARTITION_PREFIX)?;
    config.resolve_peers()?;
    config.checked_l1(&genesis)?;
    config.checked_timeouts(&genesis)?;
    config.p2p_options()?;
    config.checked_retention(&genesis)?;
    config.checked_log_level()?;
    Ok(Prepared { config, genesis, keys })
}

/// Runs a validator until SIGINT / SIGTERM, or until it halts. Blocks the calling thread.
pub fn run(prepared: Prepared) -> Result<(), ServiceError> {
    let Prepared { config, genesis, keys } = prepared;
    data_format::check_or_record(&config.data_dir)?;
    check_listen_addresses(&config)?;
    let runtime = cw_tokio::Config::new()
        .with_worker_threads(config.worker_threads.max(1))
        .with_catch_panics(false)
        .with_storage_directory(config.data_dir.clone());
    let runner = cw_tokio::Runner::new(runtime);
    let level = config.checked_log_level()?;
    runner.start(|context| async move {
        telemetry::init(
            context.child("telemetry"),
            telemetry::Logs { level, json: false },
            config.metrics,
            None,
        );
        let mut validator = Validator::new(genesis.clone(), keys, PARTITION_PREFIX)?;
        validator.timeouts = config.checked_timeouts(&genesis)?;
        validator.retention = config.checked_retention(&genesis)?;
        validator.mempool = MempoolConfig {
            max_transactions: config.mempool.max_transactions,
            max_bytes: config.mempool.max_bytes,
            ..validator.mempool
        };
        let peers = config.resolve_peers()?;
        let l1 = config.checked_l1(&genesis)?;
        let launch_config = Launch {
            validator,
            p2p: config.p2p,
            p2p_options: config.p2p_options()?,
            peers,
            rpc: config.rpc,
            l1,
        };
        let Running { node, rpc } = launch(context.child("validator"), launch_config).await?;
        let engine::Node { application_task, epochs_task, .. } = node;
        let outcome = tokio::select! {
            () = shutdown_signal() => {
                info!("stopping");
                Ok(())
            }
            halted = application_task => match halted {
                Ok(Err(reason)) => Err(ServiceError::Halted(reason)),
                Ok(Ok(())) | Err(_) => Err(ServiceError::Shutdown("the application stopped".into())),
            },
            stopped = epochs_task => match stopped {
                Ok(Err(reason)) => Err(ServiceError::Consensus(reason)),
                Ok(Ok(())) | Err(_) => Err(ServiceError::Shutdown("consensus stopped".into())),
            },
        };
        if let Err(error) = &outcome {
            error!(%error, "the validator stops");
        }
        rpc.stop();
        context.stop(0, Some(SHUTDOWN_TIMEOUT)).await.map_err(|e| {
            warn!(error = %e, "shutdown timed out");
            ServiceError::Shutdown(e.to_string())
        })?;
        outcome
    })
}
