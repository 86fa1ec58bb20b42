//! The trestle side: JSON-RPC clients of one or more validators, with failover between them, and
//! signed submissions to owned namespaces.
//!
//! Failover. [`Network`] holds one client per configured endpoint and sticks to the one that
//! last answered. A request that fails in transport (connection refused or reset, timeout) is
//! tried on the next endpoint, in configuration order, until one answers or each was tried once;
//! an answer, even an error answer (a malformed transaction, an unknown height), is the network
//! speaking and is returned as it is: another validator would say the same. Every request the
//! relayer makes goes through [`Network::call`], so one dead validator stops no role.
//!
//! Submissions go through each validator's binary ingress path ([`trestle_api::binary`]: raw
//! bytes, no hex JSON) with the same failover; everything else is JSON-RPC.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use alloy_primitives::{B256, Bytes};
use jsonrpsee::core::client::Error as ClientError;
use tracing::warn;
use trestle_api::{
    SubmitFailure, SubmitRequest, TrestleApiClient as _,
    binary::{BinaryClient, BinaryClientError},
    client::{ConnectError, FetchError, HttpClient, connect},
    codes,
    records::RecordNamespaceResponse,
};

/// Timeout of one request to the network.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a request to the network failed.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The client could not be built from the URL.
    #[error("network {0}")]
    Client(#[from] ConnectError),
    /// The request failed (transport, timeout, or an error answer).
    #[error("network rpc: {0}")]
    Rpc(#[from] ClientError),
    /// A submission through the binary ingress path got no outcome (transport, timeout, a
    /// refusal of the whole request, an unexpected answer).
    #[error("network submission: {0}")]
    Binary(#[from] BinaryClientError),
    /// The network refused a submission (the code `trestle_submit` answers, and its message).
    #[error("the network refused the transaction: {} ({})", .0.message, .0.code)]
    Refused(SubmitFailure),
    /// No endpoint was configured.
    #[error("network: no endpoint configured")]
    NoEndpoint,
}

/// An error that may mean "this endpoint cannot serve this" rather than "the network said no":
/// what decides whether [`Network::call`] tries the next endpoint.
pub trait TransportFailure {
    /// Whether the request never got an answer (connection refused or reset, timeout), or the
    /// endpoint no longer stores what it asked for (a pruning node's `PRUNED`; an archival one
    /// further down the list serves it).
    fn is_transport_failure(&self) -> bool;
}

impl TransportFailure for ClientError {
    fn is_transport_failure(&self) -> bool {
        match self {
            Self::Transport(_) | Self::RequestTimeout | Self::RestartNeeded(_) => true,
            Self::Call(error) => error.code() == trestle_api::codes::PRUNED,
            _ => false,
        }
    }
}

impl TransportFailure for BinaryClientError {
    fn is_transport_failure(&self) -> bool {
        BinaryClientError::is_transport_failure(self)
    }
}

impl TransportFailure for FetchError {
    fn is_transport_failure(&self) -> bool {
        matches!(self, Self::Rpc(e) if e.is_transport_failure())
    }
}

impl TransportFailure for NetworkError {
    fn is_transport_failure(&self) -> bool {
        match self {
            Self::Rpc(e) => e.is_transport_failure(),
            Self::Binary(e) => e.is_transport_failure(),
            Self::Client(_) | Self::Refused(_) | Self::NoEndpoint => false,
        }
    }
}

/// What became of a submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// The validator accepted it into its mempool.
    Accepted,
    /// The validator already had it (pending or finalized): an earlier attempt, ours or
    /// another relayer's, got there.
    AlreadyKnown,
}

/// One validator's endpoint.
#[derive(Debug)]
struct Endpoint {
    url: String,
    client: HttpClient,
    /// The same validator's binary ingress path (submissions).
    binary: BinaryClient,
}

/// Clients of the configured validators' JSON-RPC APIs, with failover (cheap to clone; clones
/// share the choice of endpoint).
#[derive(Clone, Debug)]
pub struct Network {
    endpoints: Arc<[Endpoint]>,
    /// Index of the endpoint that last answered (where the next request starts).
    current: Arc<AtomicUsize>,
}

impl Network {
    /// Clients of the validators at `urls`, tried in this order (no request is made yet).
    pub fn connect<S: AsRef<str>>(urls: &[S]) -> Result<Self, NetworkError> {
        if urls.is_empty() {
            return Err(NetworkError::NoEndpoint);
        }
        let endpoints = urls
            .iter()
            .map(|url| {
                let url = url.as_ref();
                Ok(Endpoint {
                    url: url.to_owned(),
                    client: connect(url, REQUEST_TIMEOUT)?,
                    binary: BinaryClient::new(url, REQUEST_TIMEOUT)?,
                })
            })
            .collect::<Result<Vec<_>, NetworkError>>()?;
        Ok(Self { endpoints: endpoints.into(), current: Arc::new(AtomicUsize::new(0)) })
    }

    /// The configured endpoints' URLs, in the order they are tried.
    pub fn urls(&self) -> Vec<String> {
        self.endpoints.iter().map(|endpoint| endpoint.url.clone()).collect()
    }

    /// The index of the endpoint requests go to now (the last that answered).
    pub fn current(&self) -> usize {
        self.current.load(Ordering::Relaxed) % self.endpoints.len()
    }

    /// The URL of the endpoint requests go to now.
    pub fn current_url(&self) -> &str {
        &self.endpoints[self.current()].url
    }

    /// Stops sticking to endpoint `index` because what it answered was wrong (a proof that does
    /// not verify, data that does not decode): requests go to the next endpoint from now on,
    /// unless another request already moved away from `index`. Returns whether it moved.
    ///
    /// An endpoint that answers is otherwise trusted to speak for the network ([`Network::call`]
    /// fails over on transport errors only); this is how a caller that checks the answers
    /// leaves a lying or broken one. With a single endpoint there is nowhere to go.
    pub fn distrust(&self, index: usize, why: &str) -> bool {
        let count = self.endpoints.len();
        if count < 2 {
            return false;
        }
        let next = (index + 1) % count;
        let moved = self
            .current
            .compare_exchange(index % count, next, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok();
        if moved {
            warn!(
                endpoint = %self.endpoints[index % count].url,
                next = %self.endpoints[next].url,
                why,
                "network endpoint answered wrongly; failing over"
            );
        }
        moved
    }

    /// Runs `request` against the current endpoint's client; on a transport failure, against the
    /// next endpoints in turn (each at most once), sticking to the first that answers. Returns
    /// the first answer, or the last transport failure when no endpoint answered.
    pub async fn call<T, E, F, Fut>(&self, request: F) -> Result<T, E>
    where
        F: Fn(HttpClient) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: TransportFailure + std::fmt::Display,
    {
        self.call_with(|endpoint| endpoint.client.clone(), request).await
    }

    /// [`Network::call`] with the client `pick` takes from each endpoint (its JSON-RPC or its
    /// binary ingress client).
    async fn call_with<C, T, E, F, Fut>(
        &self,
        pick: impl Fn(&Endpoint) -> C,
        request: F,
    ) -> Result<T, E>
    where
        F: Fn(C) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: TransportFailure + std::fmt::Display,
    {
        let count = self.endpoints.len();
        let start = self.current.load(Ordering::Relaxed) % count;
        let mut attempt = 0;
        loop {
            let index = (start + attempt) % count;
            let endpoint = &self.endpoints[index];
            match request(pick(endpoint)).await {
                Err(e) if e.is_transport_failure() => {
                    if attempt + 1 >= count {
                        return Err(e);
                    }
                    let next = &self.endpoints[(index + 1) % count];
                    warn!(endpoint = %endpoint.url, next = %next.url, error = %e,
                        "network endpoint unreachable; failing over");
                    attempt += 1;
                }
                // Even a refusal is an answer: this endpoint is reachable, so it is the one to
                // stick to.
                answer => {
                    if index != start {
                        self.current.store(index, Ordering::Relaxed);
                    }
                    return answer;
                }
            }
        }
    }

    /// Submits the transaction (`namespace`, `payload`) with the namespace owner's
    /// `authorization` of it, through the binary ingress path; `hash` is its transaction hash.
    ///
    /// A duplicate or already finalized transaction counts as submitted: resubmitting after a
    /// crash, or until finalized, is how the post loop stays exactly-once in effect. Any other
    /// refusal (`NOT_REPLICATED` included: resubmit later) is [`NetworkError::Refused`].
    pub async fn submit_owned(
        &self,
        hash: B256,
        namespace: u64,
        payload: &Bytes,
        authorization: &Bytes,
    ) -> Result<Submitted, NetworkError> {
        let outcome = self
            .call_with(
                |endpoint| endpoint.binary.clone(),
                |binary| {
                    let request = SubmitRequest {
                        namespace,
                        payload: payload.clone(),
                        authorization: Some(authorization.clone()),
                    };
                    async move { binary.submit(request).await }
                },
            )
            .await?;
        if outcome.hash != hash {
            return Err(NetworkError::Rpc(ClientError::Custom(format!(
                "the validator answered hash {} for transaction {hash}",
                outcome.hash
            ))));
        }
        match outcome.error {
            None => Ok(Submitted::Accepted),
            Some(e) if codes::is_already_known(e.code) => Ok(Submitted::AlreadyKnown),
            Some(e) => Err(NetworkError::Refused(e)),
        }
    }

    /// The latest finalized height.
    pub async fn finalized_height(&self) -> Result<u64, NetworkError> {
        Ok(self.call(|client| async move { client.block_height().await }).await?)
    }

    /// What the finalized chain holds of block namespace `namespace`: the first number genesis
    /// declares and the confirmed range.
    pub async fn record_namespace(
        &self,
        namespace: u64,
    ) -> Result<RecordNamespaceResponse, NetworkError> {
        Ok(self.call(|client| async move { client.record_namespace(namespace).await }).await?)
    }

    /// The height a transaction was finalized at, if it was.
    pub async fn inclusion_height(&self, tx_hash: B256) -> Result<Option<u64>, NetworkError> {
        let proof = self.call(|client| async move { client.tx_proof(tx_hash).await }).await?;
        Ok(proof.map(|inclusion| inclusion.height))
    }
}

#[cfg(test)]
mod tests {
    use jsonrpsee::types::ErrorObjectOwned;
    use trestle_api::codes;

    use super::*;

    fn refusal(code: i32) -> ClientError {
        ClientError::Call(ErrorObjectOwned::owned(code, "refused", None::<()>))
    }

    #[test]
    fn a_pruned_block_fails_over_and_a_refusal_does_not() {
        assert!(refusal(codes::PRUNED).is_transport_failure());
        assert!(ClientError::RequestTimeout.is_transport_failure());
        for code in [codes::DUPLICATE, codes::UNAVAILABLE, codes::MEMPOOL_FULL, -32602] {
            assert!(!refusal(code).is_transport_failure(), "code {code}");
        }
        assert!(FetchError::Rpc(refusal(codes::PRUNED)).is_transport_failure());
    }
}
