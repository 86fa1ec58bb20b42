//! The client of the binary ingress path (feature `client`; the format and the answers are in
//! [`binary`](crate::binary)): what `trestle submit` and the relayer post through.

use std::time::Duration;

use reqwest::{Url, header::CONTENT_TYPE};

use crate::{
    SubmitFailure, SubmitOutcome, SubmitRequest,
    binary::{BINARY_CONTENT_TYPE, BINARY_SUBMIT_PATH, BinaryError, encode_batch},
};

/// Largest answer read: a full batch's outcomes with long messages fit many times over.
const MAX_ANSWER: usize = 8 * 1024 * 1024;
/// Most bytes of an unexpected answer quoted in an error.
const QUOTED: usize = 200;

/// Why a binary submission got no outcomes.
#[derive(Debug, thiserror::Error)]
pub enum BinaryClientError {
    /// The node's URL is not an `http` or `https` URL.
    #[error("binary client for {url}: {reason}")]
    Url {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be built (TLS backend).
    #[error("binary client: {0}")]
    Build(#[source] reqwest::Error),
    /// The batch cannot be encoded (too many transactions, a field too long).
    #[error(transparent)]
    Encode(#[from] BinaryError),
    /// No answer: connection refused or reset, timeout, or the answer broke off.
    #[error("binary submission to {url}: {source}")]
    Transport {
        /// The URL posted to.
        url: String,
        /// What the HTTP client said.
        source: reqwest::Error,
    },
    /// The node refused the request whole (not a batch, too large, too many in flight) with a
    /// typed error.
    #[error("the node refused the binary batch (HTTP {status}): {} ({})", failure.message, failure.code)]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The code and message.
        failure: SubmitFailure,
    },
    /// An answer the binary path never gives (another server, a proxy's error page, a wrong
    /// number of outcomes).
    #[error("unexpected answer to a binary batch (HTTP {status}): {reason}")]
    UnexpectedAnswer {
        /// The HTTP status.
        status: u16,
        /// What was wrong with it.
        reason: String,
    },
}

impl BinaryClientError {
    /// Whether the node did not answer the submission: no connection, a timeout, an HTTP
    /// error without the path's typed body (a proxy's), or `429` (too busy). As with the
    /// JSON-RPC client, such a request may be retried elsewhere; a typed refusal is an answer.
    pub fn is_transport_failure(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Refused { status, .. } => *status == 429,
            Self::UnexpectedAnswer { status, .. } => *status != 200,
            Self::Url { .. } | Self::Build(_) | Self::Encode(_) => false,
        }
    }
}

/// A client of one node's binary ingress path (cheap to clone).
#[derive(Clone, Debug)]
pub struct BinaryClient {
    http: reqwest::Client,
    url: Url,
}

impl BinaryClient {
    /// A client of the node whose JSON-RPC URL is `rpc_url` (the path is appended to the URL's
    /// own path), with `timeout` per request; no request is made yet.
    pub fn new(rpc_url: &str, timeout: Duration) -> Result<Self, BinaryClientError> {
        let invalid = |reason: String| BinaryClientError::Url { url: rpc_url.to_owned(), reason };
        let mut url = Url::parse(rpc_url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(format!("scheme {} is not http or https", url.scheme())));
        }
        let path = format!("{}{BINARY_SUBMIT_PATH}", url.path().trim_end_matches('/'));
        url.set_path(&path);
        url.set_query(None);
        url.set_fragment(None);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(BinaryClientError::Build)?;
        Ok(Self { http, url })
    }

    /// The URL batches are posted to.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// Posts `requests` as one binary batch; returns each one's outcome, in order, exactly as
    /// `trestle_submitBatch` answers them.
    pub async fn submit_batch(
        &self,
        requests: &[SubmitRequest],
    ) -> Result<Vec<SubmitOutcome>, BinaryClientError> {
        let body = encode_batch(requests)?;
        let transport = |source| BinaryClientError::Transport { url: self.url.to_string(), source };
        let mut response = self
            .http
            .post(self.url.clone())
            .header(CONTENT_TYPE, BINARY_CONTENT_TYPE)
            .body(body)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        let unexpected = |reason: String| BinaryClientError::UnexpectedAnswer { status, reason };
        let mut answer = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if answer.len() + chunk.len() > MAX_ANSWER {
                return Err(unexpected(format!("an answer over {MAX_ANSWER} bytes")));
            }
            answer.extend_from_slice(&chunk);
        }
        if status != 200 {
            return Err(match serde_json::from_slice::<SubmitFailure>(&answer) {
                Ok(failure) => BinaryClientError::Refused { status, failure },
                Err(_) => unexpected(quote(&answer)),
            });
        }
        let outcomes: Vec<SubmitOutcome> = serde_json::from_slice(&answer)
            .map_err(|e| unexpected(format!("{e}: {}", quote(&answer))))?;
        if outcomes.len() != requests.len() {
            return Err(unexpected(format!(
                "{} outcomes for {} transactions",
                outcomes.len(),
                requests.len()
            )));
        }
        Ok(outcomes)
    }

    /// Posts one transaction (a batch of one); returns its outcome.
    pub async fn submit(&self, request: SubmitRequest) -> Result<SubmitOutcome, BinaryClientError> {
        let mut outcomes = self.submit_batch(std::slice::from_ref(&request)).await?;
        // `submit_batch` checked there is exactly one.
        outcomes.pop().ok_or_else(|| BinaryClientError::UnexpectedAnswer {
            status: 200,
            reason: "no outcome".to_owned(),
        })
    }
}

/// The start of an answer, for an error message.
fn quote(answer: &[u8]) -> String {
    let text = String::from_utf8_lossy(&answer[..answer.len().min(QUOTED)]);
    if answer.len() > QUOTED { format!("{text}…") } else { text.into_owned() }
}
