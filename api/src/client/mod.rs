//! The typed client side: building an HTTP client of a node, and the helpers every client (the
//! CLI, the relayer, tests) uses to fetch what it verifies, checked before anyone relies on it.
//!
//! * [`fetch_state`]: one height's light-client state, its epoch's committee (checked against
//!   its commitment) and the signatures the node collected on it.
//! * [`newest_quorum`]: the newest height whose signatures carry a quorum's weight, searched
//!   under one lookback policy ([`QUORUM_LOOKBACK`]).
//! * [`fetch_evidence`]: what `trestle confirm` verifies: a transaction or a rollup block
//!   record, its proofs and a quorum-signed state above it.
//!
//! The methods themselves are [`TrestleApiClient`](crate::TrestleApiClient)'s, on the
//! [`HttpClient`] that [`connect`] builds.

mod evidence;
mod handoffs;
mod state;

use std::time::Duration;

pub use evidence::{FetchOptions, Fetched, Found, fetch_evidence};
pub use handoffs::{fetch_handoffs, handoff_of};
pub use jsonrpsee::http_client::HttpClient;
use jsonrpsee::{core::client::Error as RpcError, http_client::HttpClientBuilder};
pub use state::{QUORUM_LOOKBACK, ReportedState, fetch_state, newest_quorum};
use trestle_light_client::{abi::CodecError, handoff::HandoffError, state::StateError};

use crate::types::CommitteeInfoError;

/// How long one request may take by default.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An HTTP client of the node at `url` (no request is made yet) with `timeout` per request.
pub fn connect(url: &str, timeout: Duration) -> Result<HttpClient, ConnectError> {
    HttpClientBuilder::default()
        .request_timeout(timeout)
        .build(url)
        .map_err(|source| ConnectError { url: url.to_owned(), source })
}

/// Why a client could not be built from a URL (malformed, unsupported scheme, …).
#[derive(Debug, thiserror::Error)]
#[error("client for {url}: {source}")]
pub struct ConnectError {
    /// The URL.
    pub url: String,
    /// What jsonrpsee said.
    pub source: RpcError,
}

/// Why a fetch helper could not produce what it fetches (an error, not a "no").
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The client could not be built from the URL.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// A request failed (transport, timeout, or the node returned an error).
    #[error("rpc: {0}")]
    Rpc(#[from] RpcError),
    /// The node has not finalized this height (yet).
    #[error("height {0} is not finalized on this node")]
    NotFinalized(u64),
    /// The node does not know the committee of this epoch.
    #[error("the node does not know the committee of epoch {0}")]
    UnknownCommittee(u64),
    /// A state's canonical encoding does not decode.
    #[error("malformed light-client state: {0}")]
    State(#[from] StateError),
    /// A header's canonical encoding does not decode.
    #[error("the node returned a malformed header: {0}")]
    Header(CodecError),
    /// The state the node returned is for another height than asked.
    #[error("asked for the state at height {asked}, got height {got}")]
    WrongHeight {
        /// Requested height.
        asked: u64,
        /// Height of the returned state.
        got: u64,
    },
    /// A committee does not match its commitment.
    #[error(transparent)]
    Committee(#[from] CommitteeInfoError),
    /// No state in the heights searched carried a quorum of signatures in time.
    #[error(
        "no light-client state between heights {from} and {to} carried a quorum of signatures \
         within {waited:?}"
    )]
    NoQuorum {
        /// Lowest height tried.
        from: u64,
        /// Highest height tried.
        to: u64,
        /// How long it waited.
        waited: Duration,
    },
    /// The node has no hand-off for this epoch (its last height is not finalized there).
    #[error("the node has no hand-off for the end of epoch {0}")]
    NoHandoff(u64),
    /// A hand-off the node returned is refused (the node lies or serves another network).
    #[error(transparent)]
    Handoff(#[from] HandoffError),
    /// The node has no history proof from a header to the chosen state.
    #[error("the node has no history proof of height {height} against height {root_height}")]
    NoHistoryProof {
        /// Height of the header.
        height: u64,
        /// Height of the state.
        root_height: u64,
    },
}
