//! A validator process: configuration files, keys, the tokio runtime, authenticated p2p over
//! TCP, the engine, the JSON-RPC API and Prometheus metrics.
//!
//! This is the I/O edge of the node. Everything protocol-facing (`engine`, `application`,
//! `signatures`) talks to commonware's runtime traits; here they are instantiated with
//! commonware's tokio runtime (storage under [`NodeConfig::data_dir`]) and the
//! `authenticated::lookup` network: every validator dials every other at the address its
//! configuration lists, the handshake authenticates both ends by their ed25519 consensus keys,
//! and connections from keys outside the genesis committee are refused.
//!
//! Start-up order: telemetry (logs, `/metrics`), p2p, engine (which replays its journal and
//! archives, so a restarted validator resumes where it stopped), then the RPC server. SIGINT or
//! SIGTERM stops every task and flushes storage.

pub mod config;

use std::{num::NonZeroUsize, path::Path, time::Duration};

use commonware_cryptography::{ChaCha20Poly1305, Signer as _};
use commonware_p2p::{Address, AddressableManager as _, authenticated::lookup};
use commonware_runtime::{
    Quota, Runner as _, Spawner as _, Supervisor as _,
    tokio::{self as cw_tokio, telemetry},
};
use commonware_stream::{
    cups::{self, Cups},
    sake::{self, Sake},
};
use commonware_utils::{NZU32, ordered::Map};
use tracing::{info, warn};

pub use self::config::{ConfigError, MempoolSettings, NodeConfig, PeerConfig, TimeoutsConfig};
use trestle_api::{CommitteeInfo, Genesis, ResolvedGenesis, ValidatorKeys, shutdown_signal};
use crate::{
    application::Config as ApplicationConfig,
    engine::{self, Channels, EngineConfig},
    mempool::MempoolConfig,
    rpc,
    rules::ChainParams,
    signatures,
};

/// Why a validator process stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A configuration, genesis or key file was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The engine could not start (storage, keys not in the committee, …).
    #[error("engine: {0}")]
    Engine(#[from] engine::EngineError),
    /// The JSON-RPC server could not start (address in use, …).
    #[error("rpc: {0}")]
    Rpc(#[from] rpc::RpcError),
    /// The runtime failed to stop cleanly in time.
    #[error("shutdown: {0}")]
    Shutdown(String),
}

/// Per-channel, per-peer inbound rate. Each channel's inbox holds `burst × peers` messages, so
/// this also sizes memory (DESIGN §3: huge quotas make start-up slow).
const CHANNEL_RATE: u32 = 4_096;

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
    let me = keys.consensus.public_key();
    let Some(slot) = genesis.consensus_keys.iter().position(|k| *k == me) else {
        return Err(ConfigError::Invalid(format!("key {me} is not a genesis validator")).into());
    };
    if genesis.committee.slots()[slot].key != *keys.light_client.public_key() {
        return Err(ConfigError::Invalid(format!(
            "the light-client key does not match genesis slot {slot}"
        ))
        .into());
    }
    config.resolve_peers(&genesis)?;
    config.checked_timeouts(&genesis)?;
    Ok(Prepared { config, genesis, keys })
}

/// Runs a validator until SIGINT / SIGTERM. Blocks the calling thread.
pub fn run(prepared: Prepared) -> Result<(), ServiceError> {
    let Prepared { config, genesis, keys } = prepared;
    let runtime = cw_tokio::Config::new()
        .with_worker_threads(config.worker_threads.max(1))
        .with_catch_panics(false)
        .with_storage_directory(config.data_dir.clone());
    let runner = cw_tokio::Runner::new(runtime);
    runner.start(|context| async move {
        let level = config.log_level.parse().unwrap_or(tracing::Level::INFO);
        telemetry::init(
            context.child("telemetry"),
            telemetry::Logs { level, json: false },
            config.metrics,
            None,
        );
        let timeouts = config.checked_timeouts(&genesis)?;
        let peers = config.resolve_peers(&genesis)?;
        let me = keys.consensus.public_key();
        let namespace = genesis.consensus_namespace();
        let validators = genesis.consensus_keys.len();
        let params = ChainParams::from_genesis(&genesis);
        let limits = params.limits;
        let max_message =
            engine::max_message_size(&limits, u32::try_from(validators).unwrap_or(u32::MAX));

        // p2p: authenticated, encrypted TCP to every other validator.
        let handshake = Cups::<_, ChaCha20Poly1305>::new(
            Sake {
                signer: keys.consensus.clone(),
                synchrony_bound: Duration::from_secs(5),
                max_handshake_age: Duration::from_secs(10),
                version: sake::Version::V1,
            },
            cups::Version::V1,
        );
        let mut p2p_config = lookup::Config::local(
            handshake,
            &namespace,
            config.p2p,
            NonZeroUsize::new(validators.max(1)).unwrap_or(NonZeroUsize::MIN),
            max_message,
            NonZeroUsize::new(1_024).unwrap_or(NonZeroUsize::MIN),
        );
        p2p_config.dial_frequency = Duration::from_millis(500);
        let (mut network, mut oracle) = lookup::Network::new(context.child("network"), p2p_config);
        let book: Map<_, Address> = Map::from_iter_dedup(
            peers
                .iter()
                .map(|(key, addr)| (key.clone(), Address::from(*addr)))
                .chain(std::iter::once((me.clone(), Address::from(config.p2p)))),
        );
        let _ = oracle.track(0, book);
        let quota = Quota::per_second(NZU32!(CHANNEL_RATE));
        let channels = Channels {
            votes: network.register(engine::CHANNEL_VOTES, quota),
            certificates: network.register(engine::CHANNEL_CERTIFICATES, quota),
            resolver: network.register(engine::CHANNEL_RESOLVER, quota),
            broadcast: network.register(engine::CHANNEL_BROADCAST, quota),
            backfill: network.register(engine::CHANNEL_BACKFILL, quota),
            signatures: network.register(engine::CHANNEL_SIGNATURES, quota),
        };
        network.start();

        // The validator.
        let mut application = ApplicationConfig::new(params);
        application.mempool = MempoolConfig {
            max_transactions: config.mempool.max_transactions,
            max_bytes: config.mempool.max_bytes,
            ..application.mempool
        };
        application.signer = Some(keys.light_client.clone());
        let (finalized_blocks, finalized_rx) = commonware_utils::channel::mpsc::unbounded_channel();
        application.finalized_blocks = Some(finalized_blocks);
        let slots = genesis
            .consensus_keys
            .iter()
            .enumerate()
            .filter_map(|(i, key)| Some((key.clone(), u32::try_from(i).ok()?)))
            .collect();
        let signatures = signatures::Config::new(
            me.clone(),
            genesis.committee.clone(),
            slots,
            "trestle-signatures".into(),
        );
        let node = engine::start(
            context.child("engine"),
            EngineConfig {
                identity: keys.consensus.clone(),
                participants: genesis.consensus_keys.clone(),
                namespace,
                partition_prefix: "trestle".into(),
                application,
                timeouts,
                blocker: oracle.clone(),
                peer_provider: oracle.clone(),
                mailbox_size: NonZeroUsize::new(1_024).unwrap_or(NonZeroUsize::MIN),
                signatures: Some(signatures),
            },
            channels,
        )
        .await?;
        let mut rpc_config = rpc::RpcConfig::new(limits);
        rpc_config.committees = vec![CommitteeInfo::new(
            genesis.epoch.get(),
            &genesis.committee,
            &genesis.consensus_keys,
        )];
        let Some(signature_source) = node.signatures.clone() else {
            return Err(ServiceError::Shutdown("the signatures actor did not start".into()));
        };
        let sources = rpc::Sources {
            application: node.application.clone(),
            marshal: node.marshal.clone(),
            signatures: signature_source,
        };
        let server = rpc::start(config.rpc, rpc_config, sources, Some(finalized_rx)).await?;
        info!(
            %me,
            p2p = %config.p2p,
            rpc = %config.rpc,
            validators,
            "validator started"
        );

        shutdown_signal().await;
        info!("stopping");
        server.stop();
        drop(node);
        context.stop(0, Some(SHUTDOWN_TIMEOUT)).await.map_err(|e| {
            warn!(error = %e, "shutdown timed out");
            ServiceError::Shutdown(e.to_string())
        })
    })
}
