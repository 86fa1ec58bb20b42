//! The same-origin proxy: the page's requests forwarded to the validators, the relayer and the
//! EVM chains, bounded in size and time, with every failure a typed error the page shows.
//!
//! It forwards bytes; it does not interpret answers. It does look at the JSON-RPC method names
//! of what it forwards, and lets only reads through: the explorer is a window, and an EVM
//! node such as anvil signs transactions for its unlocked accounts on request, so a proxy that
//! forwarded everything would hand those accounts to whoever can reach the page.

use std::time::Duration;

use alloy::transports::http::reqwest;
use axum::{body::Bytes, http::StatusCode};
use serde::Serialize;

/// Largest request body the page may send (a JSON-RPC call or a small batch).
pub(crate) const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// The trestle methods the page may call: every read of `TrestleApi` (not the submissions).
const TRESTLE_READS: [&str; 15] = [
    "trestle_blockHeight",
    "trestle_blockHeightByHash",
    "trestle_blockSummary",
    "trestle_header",
    "trestle_block",
    "trestle_finality",
    "trestle_namespaceProof",
    "trestle_txProof",
    "trestle_historyProof",
    "trestle_lightClientState",
    "trestle_stateSignatures",
    "trestle_committee",
    "trestle_epochProof",
    "trestle_blockRecord",
    "trestle_recordNamespace",
];

/// The EVM methods the page may call: reads only.
const EVM_READS: [&str; 6] = [
    "eth_chainId",
    "eth_blockNumber",
    "eth_call",
    "eth_getLogs",
    "eth_getBlockByNumber",
    "eth_getTransactionReceipt",
];

/// What a forwarded request may call.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Allowed {
    /// A validator's JSON-RPC: [`TRESTLE_READS`].
    TrestleReads,
    /// An EVM chain's JSON-RPC: [`EVM_READS`].
    EvmReads,
}

impl Allowed {
    fn permits(self, method: &str) -> bool {
        match self {
            Self::TrestleReads => TRESTLE_READS.contains(&method),
            Self::EvmReads => EVM_READS.contains(&method),
        }
    }
}

/// Why a proxied request was not answered; the page receives it as
/// `{"error": {"kind", "message", "upstream"}}` with [`ProxyError::status`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProxyError {
    /// The path names no configured endpoint (a validator index, a chain id).
    #[error("{0}")]
    UnknownEndpoint(String),
    /// The endpoint kind was not configured (no relayer given).
    #[error("{0}")]
    NotConfigured(String),
    /// The request is not JSON-RPC the proxy can check.
    #[error("not a JSON-RPC request: {0}")]
    BadRequest(String),
    /// The request calls a method the proxy does not forward (writes).
    #[error("{method} is not forwarded: the explorer only reads")]
    MethodNotAllowed {
        /// The method asked for.
        method: String,
    },
    /// The request body is over [`MAX_REQUEST_BYTES`].
    #[error("request over {limit} bytes")]
    RequestTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The upstream did not accept the connection or broke it.
    #[error("{upstream} is unreachable: {message}")]
    Unreachable {
        /// The upstream URL.
        upstream: String,
        /// What the HTTP client said.
        message: String,
    },
    /// The upstream did not answer in time.
    #[error("{upstream} did not answer within {} ms", after.as_millis())]
    Timeout {
        /// The upstream URL.
        upstream: String,
        /// The time limit.
        after: Duration,
    },
    /// The upstream's answer is over the response limit.
    #[error("{upstream} answered more than {limit} bytes")]
    ResponseTooLarge {
        /// The upstream URL.
        upstream: String,
        /// The limit.
        limit: usize,
    },
    /// The upstream answered with an HTTP error status.
    #[error("{upstream} answered HTTP {status}: {body}")]
    UpstreamStatus {
        /// The upstream URL.
        upstream: String,
        /// Its HTTP status.
        status: u16,
        /// The start of its body.
        body: String,
    },
    /// The HTTP client could not be built (TLS backend).
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// The JSON body of an error answer.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorFields<'a>,
}

#[derive(Serialize)]
struct ErrorFields<'a> {
    kind: &'a str,
    message: String,
    upstream: Option<&'a str>,
}

impl ProxyError {
    /// A short machine-readable name (the page's `error.kind`).
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::UnknownEndpoint(_) => "unknown_endpoint",
            Self::NotConfigured(_) => "not_configured",
            Self::BadRequest(_) => "bad_request",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::RequestTooLarge { .. } => "request_too_large",
            Self::Unreachable { .. } => "unreachable",
            Self::Timeout { .. } => "timeout",
            Self::ResponseTooLarge { .. } => "response_too_large",
            Self::UpstreamStatus { .. } => "upstream_status",
            Self::Client(_) => "client",
        }
    }

    /// The HTTP status the explorer answers with.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::UnknownEndpoint(_) | Self::NotConfigured(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed { .. } => StatusCode::FORBIDDEN,
            Self::RequestTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            Self::Unreachable { .. }
            | Self::ResponseTooLarge { .. }
            | Self::UpstreamStatus { .. } => StatusCode::BAD_GATEWAY,
            Self::Client(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The upstream it concerns, if any.
    fn upstream(&self) -> Option<&str> {
        match self {
            Self::Unreachable { upstream, .. }
            | Self::Timeout { upstream, .. }
            | Self::ResponseTooLarge { upstream, .. }
            | Self::UpstreamStatus { upstream, .. } => Some(upstream),
            _ => None,
        }
    }

    /// `{"error": {"kind", "message", "upstream"}}`.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        let body = ErrorBody {
            error: ErrorFields {
                kind: self.kind(),
                message: self.to_string(),
                upstream: self.upstream(),
            },
        };
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

/// Checks that `body` is a JSON-RPC request (or batch) calling only what `allowed` permits.
pub(crate) fn check_methods(body: &[u8], allowed: Allowed) -> Result<(), ProxyError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ProxyError::BadRequest(e.to_string()))?;
    let calls = match &value {
        serde_json::Value::Array(calls) if !calls.is_empty() => calls.iter().collect(),
        serde_json::Value::Array(_) => {
            return Err(ProxyError::BadRequest("an empty batch".into()));
        }
        call => vec![call],
    };
    for call in calls {
        let method = call
            .get("method")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| ProxyError::BadRequest("a call without a method".into()))?;
        if !allowed.permits(method) {
            return Err(ProxyError::MethodNotAllowed { method: method.to_owned() });
        }
    }
    Ok(())
}

/// The HTTP client of the upstreams, with the explorer's limits.
#[derive(Clone, Debug)]
pub(crate) struct Upstream {
    http: reqwest::Client,
    timeout: Duration,
    max_response: usize,
}

impl Upstream {
    /// A client whose every request (connection, sending and the whole answer) ends within
    /// `timeout`, and which refuses answers over `max_response` bytes.
    pub(crate) fn new(timeout: Duration, max_response: usize) -> Result<Self, ProxyError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect would send the page's request somewhere nobody configured.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ProxyError::Client(e.to_string()))?;
        Ok(Self { http, timeout, max_response })
    }

    /// POSTs the JSON `body` to `url`; returns the answer's body.
    pub(crate) async fn post_json(&self, url: &str, body: Bytes) -> Result<Bytes, ProxyError> {
        let request = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        self.send(url, request).await
    }

    /// GETs `url`; returns the answer's body.
    pub(crate) async fn get(&self, url: &str) -> Result<Bytes, ProxyError> {
        self.send(url, self.http.get(url)).await
    }

    async fn send(&self, url: &str, request: reqwest::RequestBuilder) -> Result<Bytes, ProxyError> {
        let classify = |e: reqwest::Error| {
            if e.is_timeout() {
                ProxyError::Timeout { upstream: url.to_owned(), after: self.timeout }
            } else {
                ProxyError::Unreachable { upstream: url.to_owned(), message: describe(&e) }
            }
        };
        let mut response = request.send().await.map_err(classify)?;
        let status = response.status();
        if response.content_length().is_some_and(|n| n > self.max_response as u64) {
            return Err(ProxyError::ResponseTooLarge {
                upstream: url.to_owned(),
                limit: self.max_response,
            });
        }
        // Read chunk by chunk so that an answer without a length is cut off at the limit.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > self.max_response {
                return Err(ProxyError::ResponseTooLarge {
                    upstream: url.to_owned(),
                    limit: self.max_response,
                });
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            return Err(ProxyError::UpstreamStatus {
                upstream: url.to_owned(),
                status: status.as_u16(),
                body: text.chars().take(200).collect(),
            });
        }
        Ok(body.into())
    }
}

/// The error with its causes: reqwest's own message ("error sending request") says little
/// without them ("connection refused").
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = std::error::Error::source(cause);
    }
    text
}
