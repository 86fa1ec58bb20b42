//! The status endpoints: what [`RelayerStatus`] and [`MessageList`] are made of, and the retry of a
//! failed message.
//!
//! The retry spends the relayer's funds, and the metrics address is often bound to all
//! interfaces so that Prometheus can scrape it: `POST /messages/{hash}/retry` is answered only
//! for clients on a loopback address (`trestle relayer retry` on the relayer's own host); others
//! get `403 Forbidden`. Everything else is read-only.

use std::{net::SocketAddr, sync::Arc};

use alloy_primitives::B256;
use alloy_sol_types::SolValue as _;
use axum::{
    Router,
    extract::{ConnectInfo, Path, RawQuery, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Serialize;
use tokio::net::TcpListener;
use tracing::{info, warn};

use super::{
    ChainStatus, MessageEntry, MessageList, NetworkStatus, RelayerStatus, RetryAnswer,
    describe_reason,
};
use crate::{
    bindings::Mailbox,
    config::Config,
    evm::EvmChain,
    metrics::{Metrics, MetricsError},
    network::Network,
    store::{Store, StoreError},
};

/// What the status endpoints read: the configuration, the store, the metrics, the network
/// client and the chains (cheap to clone).
#[derive(Clone, Debug)]
pub struct StatusSource {
    config: Arc<Config>,
    store: Store,
    metrics: Metrics,
    network: Network,
    /// The configured chains; those with an EVM key can pay for a retry.
    chains: Vec<EvmChain>,
}

impl StatusSource {
    /// A source over the running relayer's parts.
    pub fn new(
        config: Arc<Config>,
        store: Store,
        metrics: Metrics,
        network: Network,
        chains: Vec<EvmChain>,
    ) -> Self {
        Self { config, store, metrics, network, chains }
    }

    /// The relayer's status now.
    pub fn status(&self) -> Result<RelayerStatus, StoreError> {
        let pending = self.store.pending()?;
        let failed = self.store.failed()?;
        let queued_at: std::collections::BTreeMap<B256, u64> =
            self.store.queued_at()?.into_iter().collect();
        let now = crate::now_ms();
        let mut chains = Vec::with_capacity(self.config.chains.len());
        for chain in &self.config.chains {
            let to_here: Vec<_> =
                pending.iter().filter(|m| m.dest_chain_id == chain.chain_id).collect();
            let oldest = to_here.iter().filter_map(|m| queued_at.get(&m.hash)).min();
            chains.push(ChainStatus {
                name: chain.name.clone(),
                chain_id: chain.chain_id,
                head: self.metrics.source_head_of(&chain.name).map(|head| head.to_string()),
                source_cursor: self.store.source_cursor(&chain.name)?,
                posted: self.store.source_head(&chain.name)?,
                unfinalized: self.store.unfinalized(&chain.name)?.len(),
                pending: to_here.len(),
                oldest_pending_ms: oldest.map(|since| now.saturating_sub(*since)),
                failed: failed.iter().filter(|m| m.dest_chain_id == chain.chain_id).count(),
                light_client_height: self.metrics.light_client_height_of(&chain.name),
                proven_height: self.store.proven_height(&chain.name)?,
            });
        }
        Ok(RelayerStatus {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            roles: self.config.roles.iter().map(ToString::to_string).collect(),
            network: NetworkStatus {
                endpoints: self.network.urls(),
                current: self.network.current_url().to_owned(),
                finalized_height: self.metrics.finalized_height_seen(),
                discovery_cursor: self.store.discovery_cursor()?,
            },
            chains,
            pending: pending.len(),
            failed: failed.len(),
            delivered: self.store.delivered_count()?,
            loops: self.metrics.loops(),
        })
    }

    /// The pending messages, oldest first, or (`failed`) the failed ones, newest first.
    pub fn messages(&self, failed: bool) -> Result<MessageList, StoreError> {
        let mut messages = Vec::new();
        if failed {
            for message in self.store.failed()? {
                messages.push(MessageEntry {
                    hash: message.hash,
                    state: "failed".into(),
                    src_chain_id: message.src_chain_id,
                    dest_chain_id: message.dest_chain_id,
                    nonce: message.nonce,
                    tx_hash: None,
                    included_height: None,
                    since_ms: Some(message.at_ms),
                    reason: Some(describe_reason(&message.reason)),
                    delivery_tx: Some(message.delivery_tx),
                });
            }
            messages.sort_by_key(|m| std::cmp::Reverse(m.since_ms));
        } else {
            let queued_at: std::collections::BTreeMap<B256, u64> =
                self.store.queued_at()?.into_iter().collect();
            for message in self.store.pending()? {
                let nonce = Mailbox::Message::abi_decode(&message.message)
                    .map(|m| m.nonce)
                    .unwrap_or_default();
                messages.push(MessageEntry {
                    hash: message.hash,
                    state: "pending".into(),
                    src_chain_id: message.src_chain_id,
                    dest_chain_id: message.dest_chain_id,
                    nonce,
                    tx_hash: Some(message.tx_hash),
                    included_height: message.included_height,
                    since_ms: queued_at.get(&message.hash).copied(),
                    reason: None,
                    delivery_tx: None,
                });
            }
            messages.sort_by_key(|m| (m.since_ms, m.src_chain_id, m.nonce));
        }
        Ok(MessageList { messages })
    }

    /// `Mailbox.retry` of the failed message `hash` on its destination, paid by this relayer.
    /// Returns the HTTP status and the answer.
    pub async fn retry(&self, hash: B256) -> (StatusCode, RetryAnswer) {
        let answer = |outcome: &str, tx: Option<B256>, detail: Option<String>| RetryAnswer {
            hash,
            outcome: outcome.to_owned(),
            tx,
            detail,
        };
        let failed = match self.store.failed_message(hash) {
            Ok(Some(failed)) => failed,
            Ok(None) => {
                let detail = "no failed message with this hash on record here".to_owned();
                return (StatusCode::NOT_FOUND, answer("error", None, Some(detail)));
            }
            Err(e) => {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    answer("error", None, Some(e.to_string())),
                );
            }
        };
        let Some(chain) = self.chains.iter().find(|c| c.config().chain_id == failed.dest_chain_id)
        else {
            let detail = format!("chain {} is not configured here", failed.dest_chain_id);
            return (StatusCode::SERVICE_UNAVAILABLE, answer("error", None, Some(detail)));
        };
        let message = match Mailbox::Message::abi_decode(&failed.message) {
            Ok(message) => message,
            Err(e) => {
                let detail = format!("the stored message does not decode: {e}");
                return (StatusCode::INTERNAL_SERVER_ERROR, answer("error", None, Some(detail)));
            }
        };
        let mailbox = chain.mailbox();
        match chain.send(mailbox.retry(message)).await {
            Ok(receipt) => {
                let tx = receipt.transaction_hash;
                info!(chain = chain.name(), %hash, %tx, "failed message retried: delivered");
                if let Err(e) = self.store.clear_failed(hash) {
                    warn!(%hash, error = %e, "could not clear the failed message");
                }
                self.metrics.failed_messages(self.store.failed().map_or(0, |f| f.len()));
                (StatusCode::OK, answer("delivered", Some(tx), None))
            }
            Err(e) => match e.revert::<Mailbox::MailboxErrors>() {
                Some(Mailbox::MailboxErrors::RecipientReverted(reverted)) => {
                    let detail = describe_reason(&reverted.reason);
                    (StatusCode::CONFLICT, answer("still failing", None, Some(detail)))
                }
                Some(Mailbox::MailboxErrors::NotFailed(_)) => {
                    // Someone retried it already (or it was never failed there).
                    let _ = self.store.clear_failed(hash);
                    let detail = "the mailbox holds no failed message with this hash".to_owned();
                    (StatusCode::OK, answer("not failed", None, Some(detail)))
                }
                Some(other) => {
                    (StatusCode::CONFLICT, answer("error", None, Some(format!("{other:?}"))))
                }
                None => (StatusCode::BAD_GATEWAY, answer("error", None, Some(e.to_string()))),
            },
        }
    }
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_string_pretty(value) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn store_failure(e: &StoreError) -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
}

async fn status(State(source): State<StatusSource>) -> Response {
    match source.status() {
        Ok(status) => json(StatusCode::OK, &status),
        Err(e) => store_failure(&e),
    }
}

async fn messages(State(source): State<StatusSource>, RawQuery(query): RawQuery) -> Response {
    let failed = query.as_deref().is_some_and(|q| q.split('&').any(|p| p == "failed"));
    match source.messages(failed) {
        Ok(list) => json(StatusCode::OK, &list),
        Err(e) => store_failure(&e),
    }
}

/// Whether a client at `peer` may ask for a retry (see the [module docs](self)).
fn may_retry(peer: SocketAddr) -> bool {
    peer.ip().is_loopback() || peer.ip().to_canonical().is_loopback()
}

async fn retry(
    State(source): State<StatusSource>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(hash): Path<String>,
) -> Response {
    if !may_retry(peer) {
        warn!(%peer, "retry refused: not a loopback client");
        return (
            StatusCode::FORBIDDEN,
            "retries are served to loopback clients only: run `trestle relayer retry` on the \
             relayer's host",
        )
            .into_response();
    }
    let Ok(hash) = hash.parse::<B256>() else {
        return (StatusCode::BAD_REQUEST, "the hash must be 0x followed by 64 hex digits")
            .into_response();
    };
    let (status, answer) = source.retry(hash).await;
    json(status, &answer)
}

/// Serves `GET /metrics`, `GET /status`, `GET /messages` and `POST /messages/{hash}/retry`
/// on `addr` until `shutdown` resolves; returns the bound address and the server's task (it
/// holds the store until it ends: await it before the store may be opened again).
pub async fn serve(
    addr: SocketAddr,
    source: StatusSource,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), MetricsError> {
    let listener =
        TcpListener::bind(addr).await.map_err(|source| MetricsError::Bind { addr, source })?;
    let bound = listener.local_addr().map_err(|source| MetricsError::Bind { addr, source })?;
    let app = Router::new()
        .route("/status", get(status))
        .route("/messages", get(messages))
        .route("/messages/{hash}/retry", post(retry))
        .with_state(source.clone())
        .merge(source.metrics.router());
    let server = tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
            warn!(error = %e, "status endpoint stopped");
        }
    });
    Ok((bound, server))
}

#[cfg(test)]
mod tests {
    use super::may_retry;

    #[test]
    fn only_loopback_clients_may_retry() {
        for allowed in ["127.0.0.1:9000", "127.8.9.10:1", "[::1]:9000", "[::ffff:127.0.0.1]:9000"] {
            assert!(may_retry(allowed.parse().expect("address")), "{allowed}");
        }
        for refused in
            ["10.0.0.5:9000", "192.168.1.2:1", "[2001:db8::1]:9000", "[::ffff:10.0.0.1]:1"]
        {
            assert!(!may_retry(refused.parse().expect("address")), "{refused}");
        }
    }
}
