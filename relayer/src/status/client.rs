//! The client side of the status endpoints: what `trestle relayer status`, `messages` and
//! `retry` run against a running relayer.

use std::{fmt::Write as _, time::Duration};

use alloy::transports::http::reqwest;
use alloy_primitives::B256;
use serde::de::DeserializeOwned;

use super::{MessageList, RelayerStatus, RetryAnswer};

/// How long a status request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why a status request failed.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// The relayer did not answer (not running, wrong address, no `metrics` configured).
    #[error("no answer from the relayer at {url}: {source}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// What the HTTP client said.
        source: reqwest::Error,
    },
    /// The relayer answered with an error status and no answer of the expected form.
    #[error("the relayer at {url} answered {status}: {body}")]
    Refused {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// Its body.
        body: String,
    },
    /// The answer is not the JSON expected (another program at that address?).
    #[error("the answer of {url} is not a relayer's: {source}")]
    Malformed {
        /// The URL asked.
        url: String,
        /// What the JSON decoder said.
        source: serde_json::Error,
    },
}

/// A client of a relayer's status endpoints at `base` (`http://host:port`, its `metrics`
/// address).
#[derive(Clone, Debug)]
pub struct StatusClient {
    base: String,
    http: reqwest::Client,
}

impl StatusClient {
    /// A client of the relayer at `base`.
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder().timeout(TIMEOUT).build().unwrap_or_default();
        Self { base: base.trim_end_matches('/').to_owned(), http }
    }

    /// `GET /status`.
    pub async fn status(&self) -> Result<RelayerStatus, StatusError> {
        self.get("/status").await
    }

    /// `GET /messages` (pending), or with `failed` the failed ones.
    pub async fn messages(&self, failed: bool) -> Result<MessageList, StatusError> {
        self.get(if failed { "/messages?failed" } else { "/messages" }).await
    }

    /// `POST /messages/{hash}/retry`: the relayer's answer, whatever its outcome.
    pub async fn retry(&self, hash: B256) -> Result<RetryAnswer, StatusError> {
        let url = format!("{}/messages/{hash}/retry", self.base);
        let response = self
            .http
            .post(&url)
            .send()
            .await
            .map_err(|source| StatusError::Unreachable { url: url.clone(), source })?;
        decode(url, response).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, StatusError> {
        let url = format!("{}{path}", self.base);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|source| StatusError::Unreachable { url: url.clone(), source })?;
        decode(url, response).await
    }
}

/// The JSON answer; an error status without one is [`StatusError::Refused`].
async fn decode<T: DeserializeOwned>(
    url: String,
    response: reqwest::Response,
) -> Result<T, StatusError> {
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|source| StatusError::Unreachable { url: url.clone(), source })?;
    match serde_json::from_str(&body) {
        Ok(value) => Ok(value),
        Err(_) if !status.is_success() => {
            Err(StatusError::Refused { url, status: status.as_u16(), body })
        }
        Err(source) => Err(StatusError::Malformed { url, source }),
    }
}

/// Milliseconds as people read them.
fn age(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..120_000 => format!("{:.1} s", ms as f64 / 1e3),
        120_000..7_200_000 => format!("{} min", ms / 60_000),
        _ => format!("{} h", ms / 3_600_000),
    }
}

fn or_dash<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// `status` as a few lines of text.
pub fn render_status(status: &RelayerStatus) -> String {
    let mut out = String::new();
    let network = &status.network;
    let _ = writeln!(
        out,
        "relayer {} · roles {} · network {} (finalized {}, discovery at {})",
        status.version,
        status.roles.join(", "),
        network.current,
        or_dash(network.finalized_height),
        or_dash(network.discovery_cursor),
    );
    let _ = writeln!(
        out,
        "messages: {} pending, {} failed (retryable), {} received",
        status.pending, status.failed, status.delivered
    );
    for chain in &status.chains {
        let _ = writeln!(
            out,
            "chain {} ({}): post up to {} block, next {}, {} unfinalized · {} pending{} · {} \
             failed · light client at {}, proven {}",
            chain.name,
            chain.chain_id,
            chain.head.as_deref().unwrap_or("(undecided)"),
            or_dash(chain.source_cursor),
            chain.unfinalized,
            chain.pending,
            chain.oldest_pending_ms.map(|ms| format!(" (oldest {})", age(ms))).unwrap_or_default(),
            chain.failed,
            or_dash(chain.light_client_height),
            or_dash(chain.proven_height),
        );
    }
    for health in &status.loops {
        let state = if health.consecutive_failures == 0 {
            "ok".to_owned()
        } else {
            format!("FAILING ({} in a row)", health.consecutive_failures)
        };
        let _ = write!(out, "loop {} {}: {state}", health.role, health.label);
        if let Some(error) = &health.last_error {
            let _ = write!(out, " · last error: {error}");
        }
        out.push('\n');
    }
    out
}

/// `list` as a table, one message per line.
pub fn render_messages(list: &MessageList, now_ms: u64) -> String {
    let mut out = String::new();
    if list.messages.is_empty() {
        out.push_str("no messages\n");
    }
    for m in &list.messages {
        let since = m.since_ms.map(|since| age(now_ms.saturating_sub(since)));
        let _ = write!(
            out,
            "{} {} {} → {} nonce {}",
            m.hash, m.state, m.src_chain_id, m.dest_chain_id, m.nonce
        );
        if let Some(since) = since {
            let _ = write!(out, " · {since} ago");
        }
        if let Some(height) = m.included_height {
            let _ = write!(out, " · finalized at {height}");
        }
        if let Some(reason) = &m.reason {
            let _ = write!(out, " · {reason}");
        }
        out.push('\n');
    }
    out
}
