//! What the explorer is pointed at: the validators' JSON-RPC URLs, the relayer's status
//! endpoint and the EVM chains, from the command line and a chains file shaped like the
//! devnet's `devnet.json`.
//!
//! The chains file is read again (at most once a second) whenever the page asks for the
//! configuration or the proxy needs a chain: the devnet writes its chains, relayer and demo
//! message into `devnet.json` while it starts, after the explorer is already serving. A file
//! that does not parse (the devnet rewrites it in place, so a read can catch it half-written)
//! keeps the last good reading and is reported to the page.

use std::{
    path::{Path, PathBuf},
    sync::Mutex,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

/// How often the chains file is read again, at most.
const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// Why the explorer's endpoints are unusable.
#[derive(Debug, thiserror::Error)]
pub enum EndpointsError {
    /// The chains file could not be read at start-up.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The chains file is not JSON of the expected shape (`devnet.json`'s).
    #[error("{path} is not a chains file like devnet.json: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the JSON decoder said.
        source: serde_json::Error,
    },
    /// Neither `--rpc` nor the chains file names a validator.
    #[error(
        "no validator to ask: pass --rpc URL (one per validator) or a --chains file listing them"
    )]
    NoValidator,
    /// An endpoint is not an `http://` or `https://` URL.
    #[error("{what} {url:?} is not an http:// or https:// URL")]
    NotHttp {
        /// Which endpoint.
        what: &'static str,
        /// The URL given.
        url: String,
    },
}

/// The parts of a chains file the explorer reads; every other field is ignored, so any file
/// with these fields works (the devnet's `devnet.json` has them all).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChainsFile {
    /// The network's genesis (for the `trestle confirm --genesis` line).
    #[serde(default)]
    genesis: Option<PathBuf>,
    #[serde(default)]
    validators: Vec<FileValidator>,
    #[serde(default)]
    chains: Vec<FileChain>,
    #[serde(default)]
    relayer: Option<FileRelayer>,
    /// The devnet's demo message, passed to the page as is.
    #[serde(default)]
    demo: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileValidator {
    rpc_url: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileRelayer {
    #[serde(default)]
    status_url: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileChain {
    name: String,
    chain_id: u64,
    rpc_url: String,
    #[serde(default)]
    contracts: FileContracts,
    #[serde(default)]
    message_namespace: Option<u64>,
    #[serde(default)]
    block_namespace: Option<u64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileContracts {
    #[serde(default)]
    light_client: Option<String>,
    #[serde(default)]
    mailbox: Option<String>,
    #[serde(default)]
    counter: Option<String>,
}

/// One EVM chain as the page sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageChain {
    pub(crate) name: String,
    pub(crate) chain_id: u64,
    pub(crate) rpc_url: String,
    pub(crate) light_client: Option<String>,
    pub(crate) mailbox: Option<String>,
    pub(crate) counter: Option<String>,
    pub(crate) message_namespace: Option<u64>,
    pub(crate) block_namespace: Option<u64>,
}

/// `GET /api/config`: everything the page needs to know about where to ask.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageConfig {
    /// The validators' JSON-RPC URLs (`/api/rpc/<index>` forwards to them).
    pub(crate) validators: Vec<String>,
    /// The relayer's status URL, if known (`/api/relayer/status`, `/api/relayer/messages`).
    pub(crate) relayer: Option<String>,
    /// The EVM chains (`/api/evm/<chainId>`).
    pub(crate) chains: Vec<PageChain>,
    /// The genesis file to name in `trestle confirm --genesis`.
    pub(crate) genesis: Option<String>,
    /// The devnet's demo message, if the chains file records one.
    pub(crate) demo: Option<serde_json::Value>,
    /// The chains file, if any.
    pub(crate) chains_file: Option<String>,
    /// Why the chains file's latest reading failed (the page shows it), if it did.
    pub(crate) chains_file_error: Option<String>,
}

/// What the explorer serves and forwards to, shared by every request.
#[derive(Debug)]
pub(crate) struct Endpoints {
    rpc: Vec<String>,
    relayer_flag: Option<String>,
    chains_file: Option<PathBuf>,
    loaded: Mutex<Loaded>,
}

#[derive(Debug, Default)]
struct Loaded {
    file: ChainsFile,
    error: Option<String>,
    read_at: Option<Instant>,
}

impl Endpoints {
    /// Endpoints from the command line: `rpc` (or, if empty, the chains file's validators),
    /// `relayer_status` (or the chains file's relayer) and the chains file. The file must be
    /// readable now unless `file_may_follow` (the devnet starts the explorer before it writes
    /// its chains).
    pub(crate) fn new(
        rpc: Vec<String>,
        relayer_status: Option<String>,
        chains_file: Option<PathBuf>,
        file_may_follow: bool,
    ) -> Result<Self, EndpointsError> {
        let file = match &chains_file {
            Some(path) => match read(path) {
                Ok(file) => file,
                Err(_) if file_may_follow => ChainsFile::default(),
                Err(e) => return Err(e),
            },
            None => ChainsFile::default(),
        };
        let rpc = if rpc.is_empty() {
            file.validators.iter().map(|v| v.rpc_url.clone()).collect()
        } else {
            rpc
        };
        if rpc.is_empty() {
            return Err(EndpointsError::NoValidator);
        }
        for url in &rpc {
            check_http("--rpc", url)?;
        }
        if let Some(url) = &relayer_status {
            check_http("--relayer-status", url)?;
        }
        let loaded = Loaded { file, error: None, read_at: Some(Instant::now()) };
        Ok(Self { rpc, relayer_flag: relayer_status, chains_file, loaded: Mutex::new(loaded) })
    }

    /// Validator `index`'s JSON-RPC URL.
    pub(crate) fn validator(&self, index: usize) -> Option<&str> {
        self.rpc.get(index).map(String::as_str)
    }

    /// The relayer's status URL (`…/status`): the flag, else the chains file's.
    pub(crate) fn relayer_status(&self) -> Option<String> {
        let from_file = || {
            self.with_file(|f| f.relayer.as_ref().map(|r| r.status_url.clone()))
                .filter(|url| !url.is_empty())
        };
        let url = self.relayer_flag.clone().or_else(from_file)?;
        // `--relayer-status` may name the relayer's address or its `/status` endpoint.
        let base = url.trim_end_matches('/').trim_end_matches("/status");
        Some(format!("{base}/status"))
    }

    /// The JSON-RPC URL of the EVM chain with `chain_id`, if the chains file lists it.
    pub(crate) fn evm(&self, chain_id: u64) -> Option<String> {
        self.with_file(|f| {
            f.chains
                .iter()
                .find(|c| c.chain_id == chain_id && check_http("chain rpcUrl", &c.rpc_url).is_ok())
                .map(|c| c.rpc_url.clone())
        })
    }

    /// The configuration as the page reads it.
    pub(crate) fn page(&self) -> PageConfig {
        let (file, error) = {
            self.reload();
            let loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
            (loaded.file.clone(), loaded.error.clone())
        };
        let chains = file
            .chains
            .iter()
            .filter(|c| check_http("chain rpcUrl", &c.rpc_url).is_ok())
            .map(|c| PageChain {
                name: c.name.clone(),
                chain_id: c.chain_id,
                rpc_url: c.rpc_url.clone(),
                light_client: c.contracts.light_client.clone(),
                mailbox: c.contracts.mailbox.clone(),
                counter: c.contracts.counter.clone(),
                message_namespace: c.message_namespace,
                block_namespace: c.block_namespace,
            })
            .collect();
        PageConfig {
            validators: self.rpc.clone(),
            relayer: self.relayer_status(),
            chains,
            genesis: file.genesis.as_ref().map(|p| p.display().to_string()),
            demo: file.demo,
            chains_file: self.chains_file.as_ref().map(|p| p.display().to_string()),
            chains_file_error: error,
        }
    }

    fn with_file<T>(&self, read: impl FnOnce(&ChainsFile) -> Option<T>) -> Option<T> {
        self.reload();
        let loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        read(&loaded.file)
    }

    /// Reads the chains file again if the last reading is older than [`RELOAD_EVERY`].
    fn reload(&self) {
        let Some(path) = &self.chains_file else { return };
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if loaded.read_at.is_some_and(|at| at.elapsed() < RELOAD_EVERY) {
            return;
        }
        loaded.read_at = Some(Instant::now());
        match read(path) {
            Ok(file) => {
                loaded.file = file;
                loaded.error = None;
            }
            Err(e) => loaded.error = Some(e.to_string()),
        }
    }
}

fn read(path: &Path) -> Result<ChainsFile, EndpointsError> {
    let text = std::fs::read(path)
        .map_err(|source| EndpointsError::Read { path: path.to_owned(), source })?;
    serde_json::from_slice(&text)
        .map_err(|source| EndpointsError::Parse { path: path.to_owned(), source })
}

fn check_http(what: &'static str, url: &str) -> Result<(), EndpointsError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(EndpointsError::NotHttp { what, url: url.to_owned() })
    }
}
