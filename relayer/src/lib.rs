//! Carry rollup blocks, proofs and messages between EVM chains and the trestle network.
//!
//! The relayer has three roles (DESIGN §7), run together or apart ([`config::Role`]), each a
//! restart-safe loop:
//! - post, [`post`]: a source chain's confirmed blocks and `Mailbox.MessageSent` messages →
//!   signed transactions in the chain's owned namespaces on the network. The rollup
//!   sequencer's role: it needs the namespaces' owner key, and it only posts;
//! - prove, [`prove`]: finalized light-client states → Groth16 proofs → `LightClient.update`
//!   on the destination chains that need a newer height for a pending message, and on every
//!   destination at each epoch's last height;
//! - deliver, two loops that need no owner key (anyone may deliver): [`discover`] reads the
//!   configured chains' message namespaces on the network, height by height, and queues the
//!   messages bound for the configured mailboxes, whoever posted them; [`deliver`] takes the
//!   queued messages a destination's light client covers → `Mailbox.deliver`/`deliverBatch`
//!   with transaction and history proofs, verified locally first, route by route in nonce
//!   order.
//!
//! The discovery loop is the delivery queue's only source, in every configuration (post and
//! deliver in one process included), so a relayer with the deliver role misses no message of a
//! route, which in-order delivery would otherwise block for good.
//!
//! Their cursors and the message queue live in an embedded [`store`]; every external effect is
//! idempotent (duplicate submission, `HeightNotIncreasing`, `AlreadyDelivered` all count as
//! success), so kill -9 at any point and a restart neither lose nor duplicate work, and several
//! relayers may compete safely. Failed steps are retried with exponential backoff; sending waits
//! while the gas price is above the chain's cap, and no transaction's `max_fee_per_gas` exceeds
//! it; [`metrics`] are served for Prometheus.
//!
//! EVM chains are reached only through alloy ([`evm`], [`bindings`] generated from forge's
//! artifacts); the network only through its JSON-RPC API ([`network`]), with `trestle-api`'s
//! typed client: like any solver, the relayer is a client of the network and compiles no part of
//! a validator. What it checks before acting (inclusion proofs, quorums, epoch arithmetic) is the
//! light-client kernel's.

pub mod bindings;
pub mod cli;
pub mod config;
pub mod deliver;
pub mod discover;
pub mod evm;
pub mod faults;
pub mod metrics;
pub mod network;
pub mod post;
pub mod prove;
pub mod status;
pub mod store;

use std::{future::Future, sync::Arc, time::Duration};

use tokio::{sync::watch, task::JoinSet};
use tracing::{info, warn};

use crate::{
    config::{Config, ConfigError, RetryConfig, Role},
    deliver::Deliverer,
    discover::Discoverer,
    evm::{EvmChain, EvmError},
    metrics::{Metrics, MetricsError},
    network::{Network, NetworkError},
    post::Poster,
    prove::{ProveLoop, ProvingError},
    store::{Store, StoreError},
};

/// Milliseconds since the Unix epoch: the relayer's stored times (submissions, queued and
/// failed messages) must mean the same after a restart.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
}

/// Log targets that must never be recorded: arkworks opens an INFO span (target `gr1cs`) for
/// every constraint namespace while synthesizing a circuit and deliberately never closes it,
/// so a subscriber that records them grows by gigabytes per proof.
pub const PROVER_SPAN_TARGETS: [&str; 2] = ["gr1cs", "r1cs"];

/// A log filter from `RUST_LOG` (default `default`), with [`PROVER_SPAN_TARGETS`] turned off
/// whatever `RUST_LOG` says.
pub fn log_filter(default: &str) -> tracing_subscriber::EnvFilter {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    for target in PROVER_SPAN_TARGETS {
        if let Ok(directive) = format!("{target}=off").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// Resolves on SIGINT or SIGTERM: the shutdown future of a relayer process (the same as a
/// validator's).
pub use trestle_api::shutdown_signal;

/// Why the relayer could not start.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The configuration was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The metrics endpoint could not start.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// The network client could not be built.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// A chain client could not be built.
    #[error(transparent)]
    Evm(#[from] EvmError),
    /// The prover could not be loaded.
    #[error(transparent)]
    Prover(#[from] ProvingError),
    /// Loading the prover panicked.
    #[error("loading the prover: {0}")]
    Task(String),
    /// The async runtime could not start.
    #[error("starting the runtime: {0}")]
    Runtime(std::io::Error),
    /// A status request to a running relayer failed.
    #[error(transparent)]
    Status(#[from] status::client::StatusError),
    /// No address to reach a running relayer's status endpoints at.
    #[error("no status address: {0}")]
    NoStatusAddress(String),
    /// A retry was answered, but the message was not delivered.
    #[error("retry of {hash}: {outcome}{}", detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    RetryFailed {
        /// The message.
        hash: alloy_primitives::B256,
        /// The relayer's outcome.
        outcome: String,
        /// Its details.
        detail: Option<String>,
    },
    /// Writing the answer to standard output failed.
    #[error("writing the output: {0}")]
    Output(std::io::Error),
}

/// Exponential backoff: `initial`, doubled per failure up to `max`, reset by a success.
#[derive(Clone, Debug)]
pub(crate) struct Backoff {
    config: RetryConfig,
    next: Duration,
}

impl Backoff {
    pub(crate) fn new(config: RetryConfig) -> Self {
        Self { config, next: Duration::from_millis(config.initial_ms) }
    }

    fn reset(&mut self) {
        self.next = Duration::from_millis(self.config.initial_ms);
    }

    pub(crate) fn failure(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(Duration::from_millis(self.config.max_ms));
        wait
    }
}

/// How long a stopping loop lets its step in hand finish.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How long a stopping relayer waits for its status server's open connections to close.
const STATUS_GRACE: Duration = Duration::from_secs(2);

/// One loop's unit of work: `Ok(true)` if it made progress (run again at once), `Ok(false)` if
/// there was nothing to do (wait a poll interval), an error to retry after a backoff.
trait Step: Send {
    /// The step's error.
    type Error: std::fmt::Display;
    /// Does one step.
    fn step(&mut self) -> impl Future<Output = Result<bool, Self::Error>> + Send;
}

impl Step for Poster {
    type Error = post::PostError;
    fn step(&mut self) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        Poster::step(self)
    }
}

impl Step for ProveLoop {
    type Error = ProvingError;
    fn step(&mut self) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        ProveLoop::step(self)
    }
}

impl Step for Discoverer {
    type Error = discover::DiscoverError;
    fn step(&mut self) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        Discoverer::step(self)
    }
}

impl Step for Deliverer {
    type Error = deliver::DeliverError;
    fn step(&mut self) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        Deliverer::step(self)
    }
}

/// Runs one loop until `stop` turns true: a step that made progress is followed at once by the
/// next, an idle one by `idle`, a failed one by the backoff.
async fn drive<S: Step>(
    role: Role,
    label: String,
    idle: Duration,
    retry: RetryConfig,
    metrics: Metrics,
    mut stop: watch::Receiver<bool>,
    mut step: S,
) {
    let mut backoff = Backoff::new(retry);
    info!(%role, %label, "loop started");
    loop {
        if *stop.borrow() {
            break;
        }
        let in_hand = step.step();
        tokio::pin!(in_hand);
        let result = tokio::select! {
            result = &mut in_hand => result,
            _ = stop.changed() => {
                // Let the step in hand finish (say a delivery mined whose messages are not
                // yet marked in the store), for at most STOP_GRACE: a clean stop leaves no
                // work half done. Past that it is dropped, as harmless as a crash.
                if tokio::time::timeout(STOP_GRACE, &mut in_hand).await.is_err() {
                    warn!(%role, %label, "stopped in the middle of a step");
                }
                break;
            }
        };
        let wait = match result {
            Ok(true) => {
                metrics.step_succeeded(role, &label);
                backoff.reset();
                continue;
            }
            Ok(false) => {
                metrics.step_succeeded(role, &label);
                backoff.reset();
                idle
            }
            Err(e) => {
                metrics.step_failed(role, &label, &e.to_string());
                let wait = backoff.failure();
                warn!(%role, %label, error = %e, retry_in = ?wait, "step failed");
                wait
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => break,
        }
    }
    info!(%role, %label, "loop stopped");
}

/// Runs the configured roles until `shutdown` resolves, then stops every loop (an interrupted
/// step is as harmless as a crash) and returns.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), RelayError> {
    // Poll the shutdown future once now: a signal-based one installs its handlers on its first
    // poll, so a SIGTERM during start-up (loading the proving key takes seconds) is a clean
    // stop at the end of start-up rather than the default, immediate kill.
    let mut shutdown = std::pin::pin!(shutdown);
    let stopped =
        std::future::poll_fn(|cx| std::task::Poll::Ready(shutdown.as_mut().poll(cx).is_ready()))
            .await;
    if stopped {
        return Ok(());
    }
    config.validate()?;
    let store = Store::open(&config.store)?;
    let metrics = Metrics::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    let network = Network::connect(&config.network_rpc.urls())?;
    let sends = config.runs(Role::Prove) || config.runs(Role::Deliver);
    let mut chains = Vec::with_capacity(config.chains.len());
    for (i, chain) in config.chains.iter().enumerate() {
        let signer = if sends {
            Some(chain.load_evm_signer(&format!("chains[{i}].evm_key"))?)
        } else {
            None
        };
        chains.push(EvmChain::connect(Arc::new(chain.clone()), signer)?);
    }
    let mut status_server = None;
    if let Some(addr) = config.metrics {
        let mut stop = stop_rx.clone();
        let source = status::server::StatusSource::new(
            Arc::new(config.clone()),
            store.clone(),
            metrics.clone(),
            network.clone(),
            chains.clone(),
        );
        let (bound, server) = status::server::serve(addr, source, async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        })
        .await?;
        status_server = Some(server);
        info!(%bound, "serving /metrics, /status and /messages");
    }
    // A misconfigured chain (another chain id, no contract at an address) stops the relayer at
    // once with the reason; an endpoint that does not answer yet is left to the loops' retries.
    for chain in &chains {
        match chain.check_deployment().await {
            Ok(()) => {}
            Err(e @ (EvmError::WrongChain { .. } | EvmError::NoCode { .. })) => {
                return Err(e.into());
            }
            Err(e) => warn!(chain = chain.name(), error = %e, "could not check the chain yet"),
        }
    }

    let mut tasks = JoinSet::new();
    if config.runs(Role::Post) {
        for (i, chain) in chains.iter().enumerate() {
            let owner = chain.config().load_owner_key(&format!("chains[{i}].owner_key"))?;
            let poster = Poster::new(
                chain.clone(),
                network.clone(),
                owner,
                store.clone(),
                metrics.clone(),
                Duration::from_millis(config.resend_ms),
            );
            let label = chain.name().to_owned();
            let (retry, idle, metrics, stop) =
                (config.retry, config.poll.evm(), metrics.clone(), stop_rx.clone());
            tasks.spawn(async move {
                drive(Role::Post, label, idle, retry, metrics, stop, poster).await;
            });
        }
    }
    if config.runs(Role::Prove) {
        let Some(prover_config) = config.prover.clone() else {
            return Err(ConfigError::Invalid {
                field: "prover".into(),
                message: "the prove role needs [prover]".into(),
            }
            .into());
        };
        info!(capacity = prover_config.capacity, "loading the proving key");
        let prover = tokio::task::spawn_blocking(move || prove::load_prover(&prover_config))
            .await
            .map_err(|e| RelayError::Task(e.to_string()))??;
        let prove_loop = ProveLoop::new(
            Arc::new(prover),
            chains.clone(),
            network.clone(),
            store.clone(),
            metrics.clone(),
        );
        let (retry, idle, metrics, stop) =
            (config.retry, config.poll.network(), metrics.clone(), stop_rx.clone());
        tasks.spawn(async move {
            drive(Role::Prove, "all".into(), idle, retry, metrics, stop, prove_loop).await;
        });
    }
    if config.runs(Role::Deliver) {
        let discoverer = Discoverer::new(
            &config.chains,
            network.clone(),
            store.clone(),
            metrics.clone(),
            config.discovery_start_height(),
        );
        let (retry, idle, loop_metrics, stop) =
            (config.retry, config.poll.network(), metrics.clone(), stop_rx.clone());
        tasks.spawn(async move {
            let label = "discovery".to_owned();
            drive(Role::Deliver, label, idle, retry, loop_metrics, stop, discoverer).await;
        });
        for chain in &chains {
            let deliverer = Deliverer::new(
                chain.clone(),
                network.clone(),
                store.clone(),
                metrics.clone(),
                config.retry,
            );
            let label = chain.name().to_owned();
            let (retry, idle, metrics, stop) =
                (config.retry, config.poll.evm(), metrics.clone(), stop_rx.clone());
            tasks.spawn(async move {
                drive(Role::Deliver, label, idle, retry, metrics, stop, deliverer).await;
            });
        }
    }
    info!(roles = ?config.roles, chains = chains.len(), "relayer running");
    shutdown.await;
    info!("stopping");
    let _ = stop_tx.send(true);
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined {
            warn!(error = %e, "a loop ended abnormally");
        }
    }
    // The status server holds the store: the relayer has stopped only once it has let go (a
    // caller may open the store right after). A client keeping a connection open gets
    // STATUS_GRACE, then the server is aborted.
    if let Some(mut server) = status_server
        && tokio::time::timeout(STATUS_GRACE, &mut server).await.is_err()
    {
        server.abort();
        let _ = server.await;
    }
    info!("stopped");
    Ok(())
}
