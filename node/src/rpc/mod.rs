//! The node's JSON-RPC server (DESIGN §8): HTTP and WebSocket on one port (jsonrpsee), serving
//! the `trestle-api` contract (its README lists the methods).
//!
//! A height that is not finalized (yet) gives `null`, like `eth_getBlockByNumber`. Malformed
//! parameters give the JSON-RPC invalid-params error (-32602) with the decoder's message;
//! rejected submissions give one code per [`SubmitError`](crate::SubmitError) variant
//! ([`trestle_api::codes`]). Request and response bodies, connections and subscriptions are
//! bounded by [`RpcConfig`].
//!
//! This module is the node's I/O edge: it runs on tokio (jsonrpsee's runtime) and talks to the
//! protocol only through the application [`Mailbox`], marshal's mailbox and the signatures
//! actor's [`Mailbox`](crate::signatures::Mailbox). [`handlers`] answers the methods;
//! [`responses`] builds the answers about blocks (the node owns the block type).
//!
//! The same listener serves the binary ingress path ([`trestle_api::binary`]): `POST
//! /v1/submitBatch` with raw transaction bytes, answered by [`binary`]'s tower layer in front of
//! jsonrpsee with the same checks and per-transaction answers as `trestle_submitBatch`.

mod binary;
mod handlers;
mod records;
pub mod responses;

use std::{
    net::SocketAddr,
    num::NonZeroU64,
    sync::{Arc, atomic::AtomicUsize},
};

use commonware_utils::channel::mpsc;
use jsonrpsee::server::{Server, ServerConfig, ServerHandle};
use tokio::sync::broadcast;
use tracing::debug;
use trestle_api::{TrestleApiServer, TrestleSubscriptionsServer};

pub use self::handlers::submit_error;
use self::{binary::BinaryLayer, handlers::Api};
use crate::{
    Marshal,
    application::{Finalized, Mailbox},
    block::{Block, BlockLimits},
    signatures,
};

/// Limits and static data of the RPC server.
#[derive(Clone, Debug)]
pub struct RpcConfig {
    /// The network's block limits (request and response bodies are sized from them).
    pub limits: BlockLimits,
    /// Most simultaneous connections (HTTP and WebSocket).
    pub max_connections: u32,
    /// Most subscriptions one WebSocket connection may hold.
    pub max_subscriptions_per_connection: u32,
    /// Most subscriptions on the whole server.
    pub max_subscriptions: usize,
    /// Finalized blocks buffered per subscription; a subscriber that falls further behind is
    /// dropped (with an error notification) rather than slowing the node down.
    pub subscription_buffer: usize,
    /// Heights per epoch (where `trestle_epochProof` finds an epoch's last height).
    pub epoch_length: NonZeroU64,
}

impl RpcConfig {
    /// Defaults for `limits`: 100 connections, 16 subscriptions per connection, 1024 in all,
    /// 256 blocks of buffer, one endless epoch (set [`RpcConfig::epoch_length`] from the
    /// genesis).
    pub fn new(limits: BlockLimits) -> Self {
        Self {
            limits,
            max_connections: 100,
            max_subscriptions_per_connection: 16,
            max_subscriptions: 1_024,
            subscription_buffer: 256,
            epoch_length: trestle_light_client::epoch::ENDLESS,
        }
    }

    /// Largest request body: a submission of the largest payload in hex, plus room.
    pub fn max_request_body_size(&self) -> u32 {
        let bytes = self.limits.max_payload.saturating_mul(2).saturating_add(64 * 1024);
        u32::try_from(bytes).unwrap_or(u32::MAX)
    }

    /// Largest response body: the largest block in hex three times over (the encoded block,
    /// each transaction's payload and its encoding), per-transaction overhead, plus room.
    pub fn max_response_body_size(&self) -> u32 {
        let block = self.limits.max_encoded_size();
        let bytes = block
            .saturating_mul(8)
            .saturating_add(self.limits.max_transactions.saturating_mul(1_024))
            .saturating_add(1024 * 1024);
        u32::try_from(bytes).unwrap_or(u32::MAX)
    }
}

/// Why the RPC server could not start.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// Binding the listening socket failed.
    #[error("cannot bind the RPC server: {0}")]
    Bind(#[source] std::io::Error),
    /// The methods and subscriptions could not be combined (a name registered twice).
    #[error("cannot assemble the RPC module: {0}")]
    Module(String),
    /// The bound address could not be read back.
    #[error("cannot read the RPC server's address: {0}")]
    Address(#[source] std::io::Error),
}

/// A running RPC server.
#[derive(Debug)]
pub struct RpcServer {
    addr: SocketAddr,
    handle: ServerHandle,
}

impl RpcServer {
    /// The bound address (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle to stop the server or wait for it.
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }

    /// Stops the server (idempotent).
    pub fn stop(&self) {
        let _ = self.handle.stop();
    }

    /// Waits until the server stopped.
    pub async fn stopped(self) {
        self.handle.stopped().await
    }
}

/// What the server reads from: the validator's actors.
#[derive(Clone)]
pub struct Sources {
    /// The application (submissions, finalized chain).
    pub application: Mailbox,
    /// Marshal (finalization certificates).
    pub marshal: Marshal,
    /// The signatures actor (collected light-client state signatures).
    pub signatures: signatures::Mailbox,
}

/// Starts the RPC server on `addr` (must run inside a tokio runtime).
///
/// `finalized` is the receiving end of one of the application's
/// [`finalized`](crate::application::Config::finalized) sinks; subscriptions are served from it
/// (without it, subscriptions are accepted but never notified).
pub async fn start(
    addr: SocketAddr,
    config: RpcConfig,
    sources: Sources,
    finalized: Option<mpsc::UnboundedReceiver<Finalized>>,
) -> Result<RpcServer, RpcError> {
    let server_config = ServerConfig::builder()
        .max_request_body_size(config.max_request_body_size())
        .max_response_body_size(config.max_response_body_size())
        .max_connections(config.max_connections)
        .max_subscriptions_per_connection(config.max_subscriptions_per_connection)
        .build();
    let (blocks, _) = broadcast::channel(config.subscription_buffer.max(1));
    let api = Api {
        sources,
        max_payload: config.limits.max_payload,
        epoch_length: config.epoch_length,
        blocks: blocks.clone(),
        subscriptions: Arc::new(AtomicUsize::new(0)),
        max_subscriptions: config.max_subscriptions,
    };
    let max_body = usize::try_from(config.max_request_body_size()).unwrap_or(usize::MAX);
    let max_in_flight = usize::try_from(config.max_connections).unwrap_or(usize::MAX);
    let binary = BinaryLayer::new(api.clone(), max_body, max_in_flight);
    let server = Server::builder()
        .set_config(server_config)
        .set_http_middleware(tower::ServiceBuilder::new().layer(binary))
        .build(addr)
        .await
        .map_err(RpcError::Bind)?;
    let addr = server.local_addr().map_err(RpcError::Address)?;

    if let Some(receiver) = finalized {
        tokio::spawn(forward_blocks(receiver, blocks));
    }
    let mut module = TrestleSubscriptionsServer::into_rpc(api.clone());
    module.merge(TrestleApiServer::into_rpc(api)).map_err(|e| RpcError::Module(e.to_string()))?;
    let handle = server.start(module);
    debug!(%addr, "RPC server started");
    Ok(RpcServer { addr, handle })
}

/// Forwards finalized blocks to the subscriptions in height order, skipping replays.
async fn forward_blocks(
    mut receiver: mpsc::UnboundedReceiver<Finalized>,
    sender: broadcast::Sender<Arc<Block>>,
) {
    let mut next: u64 = 0;
    while let Some(finalized) = receiver.recv().await {
        // Heights restored from the index carry no block: they are replays anyway.
        let Some(block) = finalized.block else { continue };
        let height = block.header().height.get();
        if height < next {
            continue;
        }
        next = height.saturating_add(1);
        // No subscriber is not an error.
        let _ = sender.send(Arc::new(block));
    }
}
