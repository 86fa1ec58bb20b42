//! `trestle explorer`: a web page that shows a network live — every validator's finalized
//! height (or that it is down), blocks per second, finality latency over time, the epoch and
//! its committee, recent blocks, blocks and transactions with their inclusion proofs, and per
//! EVM chain its light client's height and the messages of every route.
//!
//! The page's own files are embedded in the binary (`assets`); the server (`server`) serves
//! them with a same-origin proxy (`proxy`) to the endpoints it was given (`config`): the
//! validators' JSON-RPC, the relayer's status endpoints and the EVM chains' JSON-RPC. The
//! proxy only forwards, so everything the page shows comes through those public interfaces
//! and the page works against any network, not just a devnet. The devnet starts one
//! ([`spawn_for_devnet`]) and prints its URL.

mod assets;
mod config;
mod proxy;
mod server;

use std::{
    future::Future,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

pub use self::{assets::AssetsError, config::EndpointsError};
use self::{config::Endpoints, proxy::Upstream, server::Shared};

/// The `explorer/` directory of the source tree this binary was built from: its
/// `package.json` pins the chart library, which `npm ci` installs under it.
pub fn default_explorer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("explorer")
}

/// Where the explorer listens by default; the devnet's, if that port is free (a free port
/// otherwise).
pub const DEFAULT_EXPLORER_ADDR: &str = "127.0.0.1:7070";

/// Default time limit of a forwarded request (ms): a validator that takes longer is shown down.
pub const DEFAULT_UPSTREAM_TIMEOUT_MS: u64 = 5_000;

/// Default largest answer forwarded (bytes): what a node with the default limits answers at
/// most for `trestle_block` (a 4 MiB block in hex three times over, about 34 MiB) fits.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 << 20;

/// `trestle explorer`'s arguments.
#[derive(Clone, Debug, clap::Args)]
pub struct ExplorerArgs {
    /// A validator's JSON-RPC URL; repeat it for every validator (each is shown up or down).
    /// Default: the validators the --chains file lists.
    #[arg(long)]
    pub rpc: Vec<String>,
    /// The relayer's status endpoint (`http://HOST:PORT/status` on its metrics address).
    /// Default: the relayer the --chains file names.
    #[arg(long)]
    pub relayer_status: Option<String>,
    /// A file shaped like the devnet's `devnet.json`: the EVM chains (`chains[].rpcUrl`,
    /// `contracts.lightClient`, `contracts.mailbox`), and optionally `validators[].rpcUrl`,
    /// `relayer.statusUrl` and `genesis`. Read again while serving.
    #[arg(long)]
    pub chains: Option<PathBuf>,
    /// Where to serve the page.
    #[arg(long, default_value = DEFAULT_EXPLORER_ADDR)]
    pub listen: SocketAddr,
    /// Time limit of every forwarded request, in milliseconds.
    #[arg(long, default_value_t = DEFAULT_UPSTREAM_TIMEOUT_MS)]
    pub upstream_timeout_ms: u64,
    /// Largest answer forwarded from an endpoint, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_RESPONSE_BYTES)]
    pub max_response_bytes: usize,
    /// The explorer directory: its `package.json` pins the chart library, installed under it
    /// with `npm ci` when missing.
    #[arg(long, default_value_os_t = default_explorer_dir())]
    pub dir: PathBuf,
}

impl ExplorerArgs {
    /// Arguments for the validators `rpc` and the chains file `chains`, every other one at
    /// its default.
    pub fn new(rpc: Vec<String>, chains: Option<PathBuf>) -> Self {
        Self {
            rpc,
            relayer_status: None,
            chains,
            listen: DEFAULT_EXPLORER_ADDR.parse().unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0))),
            upstream_timeout_ms: DEFAULT_UPSTREAM_TIMEOUT_MS,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            dir: default_explorer_dir(),
        }
    }
}

/// Why the explorer could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExplorerError {
    /// The endpoints given are unusable.
    #[error(transparent)]
    Endpoints(#[from] EndpointsError),
    /// The upstreams' HTTP client could not be built.
    #[error("{0}")]
    Client(String),
    /// The listening address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// The runtime or the server failed.
    #[error("explorer server: {0}")]
    Io(#[from] std::io::Error),
}

/// An explorer ready to serve: endpoints checked, HTTP client built.
#[derive(Debug)]
pub struct Explorer {
    shared: Arc<Shared>,
}

impl Explorer {
    /// Checks `args` (a validator to ask, URLs, a readable chains file).
    pub fn new(args: &ExplorerArgs) -> Result<Self, ExplorerError> {
        Self::with(args, false)
    }

    /// As [`Explorer::new`]; with `file_may_follow`, a chains file that does not exist yet is
    /// read once it does.
    fn with(args: &ExplorerArgs, file_may_follow: bool) -> Result<Self, ExplorerError> {
        let endpoints = Endpoints::new(
            args.rpc.clone(),
            args.relayer_status.clone(),
            args.chains.clone(),
            file_may_follow,
        )?;
        let timeout = Duration::from_millis(args.upstream_timeout_ms.max(1));
        let upstream = Upstream::new(timeout, args.max_response_bytes)
            .map_err(|e| ExplorerError::Client(e.to_string()))?;
        Ok(Self { shared: Arc::new(Shared { endpoints, upstream, dir: args.dir.clone() }) })
    }

    /// Serves the page on `listener` until `shutdown` completes.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ExplorerError> {
        axum::serve(listener, server::router(self.shared)).with_graceful_shutdown(shutdown).await?;
        Ok(())
    }
}

/// `trestle explorer`: installs the chart library if missing (without it the page works, with
/// no chart), serves the page on `args.listen` until Ctrl-C / SIGTERM.
pub fn command(args: &ExplorerArgs) -> Result<(), ExplorerError> {
    let explorer = Explorer::new(args)?;
    if let Err(e) = assets::ensure_installed(&args.dir) {
        eprintln!("warning: {e}; the page will have no chart");
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|source| ExplorerError::Bind { addr: args.listen, source })?;
        let addr = listener.local_addr()?;
        eprintln!("trestle explorer on http://{addr}/ (Ctrl-C stops it)");
        explorer.serve(listener, stop_signal()).await
    })
}

/// Completes on SIGINT or SIGTERM (or at once if they cannot be watched).
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
        (Ok(mut interrupt), Ok(mut terminate)) => {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        }
        _ => eprintln!("cannot watch for Ctrl-C; stopping the explorer"),
    }
}

/// The devnet's explorer: `rpc` are its validators, `devnet_json` its description (read again
/// as the devnet adds its chains, relayer and demo message). Serves on
/// [`DEFAULT_EXPLORER_ADDR`] if free, else on a free port, from a thread of its own until the
/// process exits; returns the page's URL. Installs the chart library first if missing (a
/// failure only costs the chart, and is printed).
pub fn spawn_for_devnet(rpc: Vec<String>, devnet_json: &Path) -> Result<String, ExplorerError> {
    let args = ExplorerArgs::new(rpc, Some(devnet_json.to_owned()));
    let explorer = Explorer::with(&args, true)?;
    if let Err(e) = assets::ensure_installed(&args.dir) {
        eprintln!("  explorer: {e}; the page will have no chart");
    }
    let listener = std::net::TcpListener::bind(DEFAULT_EXPLORER_ADDR)
        .or_else(|_| std::net::TcpListener::bind("127.0.0.1:0"))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::Builder::new().name("explorer".into()).spawn(move || {
        let served = runtime.block_on(async {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            explorer.serve(listener, std::future::pending()).await
        });
        if let Err(e) = served {
            eprintln!("\nthe explorer stopped: {e}");
        }
    })?;
    Ok(format!("http://{addr}/"))
}
