//! The node's JSON-RPC API (DESIGN §8): HTTP and WebSocket on one port (jsonrpsee).
//!
//! | method | result |
//! |---|---|
//! | `trestle_submit(tx)` | transaction hash |
//! | `trestle_blockHeight()` | latest finalized height |
//! | `trestle_header(height)` | [`HeaderResponse`] or `null` |
//! | `trestle_block(height)` | [`BlockResponse`] or `null` |
//! | `trestle_finality(height)` | [`FinalityResponse`] or `null` |
//! | `trestle_namespaceProof(height, namespace)` | [`NamespaceResponse`] or `null` |
//! | `trestle_txProof(txHash)` | [`TxInclusionResponse`] or `null` |
//! | `trestle_historyProof(height, rootHeight)` | [`HistoryProofResponse`] or `null` |
//! | `trestle_lightClientState(height)` | [`LightClientStateResponse`] or `null` |
//! | `trestle_stateSignatures(height)` | [`StateSignaturesResponse`] or `null` |
//! | `trestle_committee(epoch)` | [`CommitteeInfo`] or `null` |
//! | `trestle_subscribeHeaders()` | notifications `trestle_subscribeHeaders`: [`HeaderResponse`] |
//! | `trestle_subscribeNamespace(namespace)` | notifications `trestle_subscribeNamespace`: [`NamespaceResponse`] |
//!
//! A height that is not finalized (yet) gives `null`, like `eth_getBlockByNumber`. Malformed
//! parameters give the JSON-RPC invalid-params error (-32602) with the decoder's message;
//! rejected submissions give one code per [`SubmitError`] variant (see [`codes`]). Request and
//! response bodies, connections and subscriptions are bounded by [`RpcConfig`].
//!
//! This module is the node's I/O edge: it runs on tokio (jsonrpsee's runtime) and talks to the
//! protocol only through the application [`Mailbox`] and marshal's mailbox.

pub mod fetch;
pub mod types;

use std::{
    future::Future,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use alloy_primitives::B256;
use commonware_codec::{DecodeExt as _, Encode as _};
use commonware_consensus::{Viewable as _, types::Height as CwHeight};
use commonware_cryptography::ed25519;
use commonware_utils::channel::mpsc;
use jsonrpsee::{
    PendingSubscriptionSink, SubscriptionMessage,
    core::{RpcResult, SubscriptionResult},
    proc_macros::rpc,
    server::{Server, ServerConfig, ServerHandle},
    types::{ErrorObjectOwned, error::INVALID_PARAMS_CODE},
};
use tokio::sync::broadcast;
use tracing::{debug, warn};
use trestle_light_client::{Height, Namespace, PublicKey, Signature, Transaction};

pub use types::*;

use crate::{
    Marshal,
    application::{HistoryProofError, Mailbox, NamespaceContents, namespace_contents},
    block::{Block, BlockLimits, BlockTransaction, b256_from_digest},
    mempool::SubmitError,
};

/// JSON-RPC error codes of the trestle API (besides the standard ones).
pub mod codes {
    /// The transaction is not a valid encoding.
    pub const MALFORMED: i32 = -32010;
    /// The payload exceeds the network's limit.
    pub const OVERSIZED: i32 = -32011;
    /// An owned namespace's transaction without authorization.
    pub const MISSING_AUTHORIZATION: i32 = -32012;
    /// The authorization is not the owner's signature.
    pub const INVALID_AUTHORIZATION: i32 = -32013;
    /// An authorization on an unowned namespace.
    pub const UNEXPECTED_AUTHORIZATION: i32 = -32014;
    /// The transaction is already pending.
    pub const DUPLICATE: i32 = -32015;
    /// The transaction is already finalized.
    pub const ALREADY_FINALIZED: i32 = -32016;
    /// The mempool is full.
    pub const MEMPOOL_FULL: i32 = -32017;
    /// The node is not accepting submissions or cannot answer (shutting down, overloaded).
    pub const UNAVAILABLE: i32 = -32018;
    /// Too many subscriptions on this server.
    pub const TOO_MANY_SUBSCRIPTIONS: i32 = -32019;
}

/// Source of the light-client state signatures gathered for a height (this validator's and
/// its peers'). Implemented by the gossip/persistence actor; [`LocalSignatures`] serves only
/// this validator's own.
pub trait StateSignatureSource: Send + Sync + 'static {
    /// The signatures known for the state of `height`: committee slot, signer's public key,
    /// signature.
    fn signatures(
        &self,
        height: Height,
    ) -> impl Future<Output = Vec<(u32, PublicKey, Signature)>> + Send;
}

/// No signatures at all (a node that does not collect them).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoSignatures;

impl StateSignatureSource for NoSignatures {
    async fn signatures(&self, _height: Height) -> Vec<(u32, PublicKey, Signature)> {
        Vec::new()
    }
}

/// This validator's own signatures, read from the application (no gossip).
#[derive(Clone)]
pub struct LocalSignatures {
    mailbox: Mailbox,
    slot: u32,
    key: PublicKey,
}

impl LocalSignatures {
    /// Serves the states the application signed with the key `key` of committee slot `slot`.
    pub fn new(mailbox: Mailbox, slot: u32, key: PublicKey) -> Self {
        Self { mailbox, slot, key }
    }
}

impl StateSignatureSource for LocalSignatures {
    async fn signatures(&self, height: Height) -> Vec<(u32, PublicKey, Signature)> {
        match self.mailbox.signed_state(height).await {
            Some(signed) => vec![(self.slot, self.key, signed.signature)],
            None => Vec::new(),
        }
    }
}

impl StateSignatureSource for crate::signatures::Mailbox {
    async fn signatures(&self, height: Height) -> Vec<(u32, PublicKey, Signature)> {
        crate::signatures::Mailbox::signatures(self, height).await
    }
}

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
    /// The committees this node knows, by epoch.
    pub committees: Vec<CommitteeInfo>,
}

impl RpcConfig {
    /// Defaults for `limits`: 100 connections, 16 subscriptions per connection, 1024 in all,
    /// 256 blocks of buffer, no committee.
    pub fn new(limits: BlockLimits) -> Self {
        Self {
            limits,
            max_connections: 100,
            max_subscriptions_per_connection: 16,
            max_subscriptions: 1_024,
            subscription_buffer: 256,
            committees: Vec::new(),
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

/// Starts the RPC server on `addr` (must run inside a tokio runtime).
///
/// `finalized_blocks` is the receiving end of the application's
/// [`finalized_blocks`](crate::application::Config::finalized_blocks) sink; subscriptions are
/// served from it (without it, subscriptions are accepted but never notified).
pub async fn start<S: StateSignatureSource>(
    addr: SocketAddr,
    config: RpcConfig,
    application: Mailbox,
    marshal: Marshal,
    signatures: S,
    finalized_blocks: Option<mpsc::UnboundedReceiver<Block>>,
) -> Result<RpcServer, RpcError> {
    let server_config = ServerConfig::builder()
        .max_request_body_size(config.max_request_body_size())
        .max_response_body_size(config.max_response_body_size())
        .max_connections(config.max_connections)
        .max_subscriptions_per_connection(config.max_subscriptions_per_connection)
        .build();
    let server =
        Server::builder().set_config(server_config).build(addr).await.map_err(RpcError::Bind)?;
    let addr = server.local_addr().map_err(RpcError::Address)?;

    let (blocks, _) = broadcast::channel(config.subscription_buffer.max(1));
    if let Some(receiver) = finalized_blocks {
        tokio::spawn(forward_blocks(receiver, blocks.clone()));
    }
    let api = Api {
        application,
        marshal,
        signatures: Arc::new(signatures),
        max_payload: config.limits.max_payload,
        committees: Arc::new(config.committees),
        blocks,
        subscriptions: Arc::new(AtomicUsize::new(0)),
        max_subscriptions: config.max_subscriptions,
    };
    let mut module = TrestleSubscriptionsServer::into_rpc(api.clone());
    module.merge(TrestleApiServer::into_rpc(api)).map_err(|e| RpcError::Module(e.to_string()))?;
    let handle = server.start(module);
    debug!(%addr, "RPC server started");
    Ok(RpcServer { addr, handle })
}

/// Forwards finalized blocks to the subscriptions in height order, skipping replays.
async fn forward_blocks(
    mut receiver: mpsc::UnboundedReceiver<Block>,
    sender: broadcast::Sender<Arc<Block>>,
) {
    let mut next: u64 = 0;
    while let Some(block) = receiver.recv().await {
        let height = block.header().height.get();
        if height < next {
            continue;
        }
        next = height.saturating_add(1);
        // No subscriber is not an error.
        let _ = sender.send(Arc::new(block));
    }
}

/// The trestle JSON-RPC API: request/response methods. `TrestleApiClient` (generated) is its
/// typed client, usable over HTTP.
#[rpc(server, client, namespace = "trestle")]
pub trait TrestleApi {
    /// Submits a transaction to the mempool; returns its hash.
    #[method(name = "submit")]
    async fn submit(&self, tx: SubmitRequest) -> RpcResult<B256>;

    /// Latest finalized height.
    #[method(name = "blockHeight")]
    async fn block_height(&self) -> RpcResult<u64>;

    /// Finalized header at `height`.
    #[method(name = "header")]
    async fn header(&self, height: u64) -> RpcResult<Option<HeaderResponse>>;

    /// Finalized block at `height`.
    #[method(name = "block")]
    async fn block(&self, height: u64) -> RpcResult<Option<BlockResponse>>;

    /// Finalization certificate of `height`.
    #[method(name = "finality")]
    async fn finality(&self, height: u64) -> RpcResult<Option<FinalityResponse>>;

    /// A namespace's transactions and proof (or absence proof) in the block at `height`.
    #[method(name = "namespaceProof")]
    async fn namespace_proof(
        &self,
        height: u64,
        namespace: u64,
    ) -> RpcResult<Option<NamespaceResponse>>;

    /// A finalized transaction by hash, with its proof.
    #[method(name = "txProof")]
    async fn tx_proof(&self, tx_hash: B256) -> RpcResult<Option<TxInclusionResponse>>;

    /// Proof of header `height` under the history root of `root_height ≥ height`.
    #[method(name = "historyProof")]
    async fn history_proof(
        &self,
        height: u64,
        root_height: u64,
    ) -> RpcResult<Option<HistoryProofResponse>>;

    /// The light-client state after finalizing `height`.
    #[method(name = "lightClientState")]
    async fn light_client_state(&self, height: u64) -> RpcResult<Option<LightClientStateResponse>>;

    /// The light-client state of `height` with the signatures known for it.
    #[method(name = "stateSignatures")]
    async fn state_signatures(&self, height: u64) -> RpcResult<Option<StateSignaturesResponse>>;

    /// The committee of `epoch`.
    #[method(name = "committee")]
    async fn committee(&self, epoch: u64) -> RpcResult<Option<CommitteeInfo>>;
}

/// The trestle JSON-RPC subscriptions (WebSocket), served on the same port as [`TrestleApi`].
/// They are a trait of their own so that the methods' typed client works over plain HTTP.
#[rpc(server, namespace = "trestle")]
pub trait TrestleSubscriptions {
    /// Every finalized header, in height order.
    #[subscription(
        name = "subscribeHeaders",
        unsubscribe = "unsubscribeHeaders",
        item = HeaderResponse
    )]
    async fn subscribe_headers(&self) -> SubscriptionResult;

    /// For every finalized block with transactions in `namespace`: the header, the
    /// transactions and the namespace proof.
    #[subscription(
        name = "subscribeNamespace",
        unsubscribe = "unsubscribeNamespace",
        item = NamespaceResponse
    )]
    async fn subscribe_namespace(&self, namespace: u64) -> SubscriptionResult;
}

/// Every field is a handle; clones share the node's state (hence no `S: Clone` bound).
struct Api<S> {
    application: Mailbox,
    marshal: Marshal,
    signatures: Arc<S>,
    max_payload: usize,
    committees: Arc<Vec<CommitteeInfo>>,
    blocks: broadcast::Sender<Arc<Block>>,
    subscriptions: Arc<AtomicUsize>,
    max_subscriptions: usize,
}

impl<S> Clone for Api<S> {
    fn clone(&self) -> Self {
        Self {
            application: self.application.clone(),
            marshal: self.marshal.clone(),
            signatures: self.signatures.clone(),
            max_payload: self.max_payload,
            committees: self.committees.clone(),
            blocks: self.blocks.clone(),
            subscriptions: self.subscriptions.clone(),
            max_subscriptions: self.max_subscriptions,
        }
    }
}

fn error(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
    error(INVALID_PARAMS_CODE, message)
}

fn unavailable() -> ErrorObjectOwned {
    error(codes::UNAVAILABLE, "node is shutting down or overloaded")
}

/// The JSON-RPC error of a rejected submission.
pub fn submit_error(err: &SubmitError) -> ErrorObjectOwned {
    let code = match err {
        SubmitError::Malformed(_) => codes::MALFORMED,
        SubmitError::Oversized { .. } => codes::OVERSIZED,
        SubmitError::MissingAuthorization(_) => codes::MISSING_AUTHORIZATION,
        SubmitError::InvalidAuthorization(_) => codes::INVALID_AUTHORIZATION,
        SubmitError::UnexpectedAuthorization(_) => codes::UNEXPECTED_AUTHORIZATION,
        SubmitError::Duplicate(_) => codes::DUPLICATE,
        SubmitError::AlreadyFinalized(_) => codes::ALREADY_FINALIZED,
        SubmitError::Full { .. } => codes::MEMPOOL_FULL,
        SubmitError::Unavailable => codes::UNAVAILABLE,
    };
    error(code, err.to_string())
}

fn namespace_response(block: &Block, namespace: Namespace) -> Option<NamespaceResponse> {
    let header = HeaderResponse::new(block.header());
    Some(match namespace_contents(block, namespace)? {
        NamespaceContents::Present { proof, transactions } => NamespaceResponse {
            header,
            namespace: namespace.get(),
            transactions: transactions.iter().map(TransactionResponse::new).collect(),
            proof: Some(NamespaceProofResponse::new(&proof)),
            absence_proof: None,
        },
        NamespaceContents::Absent(proof) => NamespaceResponse {
            header,
            namespace: namespace.get(),
            transactions: Vec::new(),
            proof: None,
            absence_proof: Some(AbsenceProofResponse::new(&proof)),
        },
    })
}

impl<S> Api<S> {
    /// Reserves one of the server's subscription slots (released when the guard drops).
    fn reserve_subscription(&self) -> Option<SubscriptionSlot> {
        let previous = self.subscriptions.fetch_add(1, Ordering::SeqCst);
        let slot = SubscriptionSlot(self.subscriptions.clone());
        (previous < self.max_subscriptions).then_some(slot)
    }

    /// Streams finalized blocks to `pending`, sending `notify(block)` when it is `Some`.
    async fn stream<T: serde::Serialize>(
        &self,
        pending: PendingSubscriptionSink,
        notify: impl Fn(&Block) -> Option<T>,
    ) -> SubscriptionResult {
        let Some(_slot) = self.reserve_subscription() else {
            pending
                .reject(error(codes::TOO_MANY_SUBSCRIPTIONS, "too many subscriptions on this node"))
                .await;
            return Ok(());
        };
        let mut blocks = self.blocks.subscribe();
        let sink = pending.accept().await?;
        loop {
            let block = tokio::select! {
                () = sink.closed() => return Ok(()),
                block = blocks.recv() => block,
            };
            let block = match block {
                Ok(block) => block,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    return Err(format!("subscriber fell behind by {missed} blocks").into());
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            };
            let Some(item) = notify(&block) else { continue };
            let message: SubscriptionMessage = serde_json::value::to_raw_value(&item)?.into();
            if sink.send(message).await.is_err() {
                return Ok(());
            }
        }
    }
}

/// A reserved subscription slot.
struct SubscriptionSlot(Arc<AtomicUsize>);

impl Drop for SubscriptionSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[jsonrpsee::core::async_trait]
impl<S: StateSignatureSource> TrestleApiServer for Api<S> {
    async fn submit(&self, tx: SubmitRequest) -> RpcResult<B256> {
        if tx.payload.len() > self.max_payload {
            return Err(submit_error(&SubmitError::Oversized {
                len: tx.payload.len(),
                limit: self.max_payload,
            }));
        }
        let authorization = match &tx.authorization {
            None => None,
            Some(bytes) => {
                let signature = ed25519::Signature::decode(bytes.0.clone()).map_err(|_| {
                    invalid_params(format!(
                        "authorization must be a 64-byte ed25519 signature, got {} bytes",
                        bytes.len()
                    ))
                })?;
                Some(signature)
            }
        };
        let transaction = BlockTransaction {
            transaction: Transaction::new(Namespace(tx.namespace), tx.payload),
            authorization,
        };
        self.application.submit(transaction).await.map_err(|e| submit_error(&e))
    }

    async fn block_height(&self) -> RpcResult<u64> {
        let status = self.application.status().await.ok_or_else(unavailable)?;
        Ok(status.finalized_height.get())
    }

    async fn header(&self, height: u64) -> RpcResult<Option<HeaderResponse>> {
        Ok(self.application.header(Height(height)).await.map(|h| HeaderResponse::new(&h)))
    }

    async fn block(&self, height: u64) -> RpcResult<Option<BlockResponse>> {
        Ok(self.application.block(Height(height)).await.map(|b| BlockResponse::new(&b)))
    }

    async fn finality(&self, height: u64) -> RpcResult<Option<FinalityResponse>> {
        let Some(block) = self.application.block(Height(height)).await else { return Ok(None) };
        let Some(finalization) = self.marshal.get_finalization(CwHeight::new(height)).await else {
            return Ok(None);
        };
        let response = BlockResponse::new(&block);
        let digest = b256_from_digest(&finalization.proposal.payload);
        if digest != response.digest {
            warn!(height, "stored finalization does not sign the stored block");
            return Err(error(codes::UNAVAILABLE, "finalization and block disagree"));
        }
        Ok(Some(FinalityResponse {
            height,
            epoch: finalization.proposal.round.epoch().get(),
            view: finalization.view().get(),
            parent_view: finalization.proposal.parent.get(),
            digest,
            header_hash: response.header.hash,
            parent_digest: response.parent_digest,
            authorizations_hash: response.authorizations_hash,
            signers: finalization.certificate.signers.iter().map(|p| p.get()).collect(),
            encoded: finalization.encode().to_vec().into(),
        }))
    }

    async fn namespace_proof(
        &self,
        height: u64,
        namespace: u64,
    ) -> RpcResult<Option<NamespaceResponse>> {
        let Some(block) = self.application.block(Height(height)).await else { return Ok(None) };
        Ok(namespace_response(&block, Namespace(namespace)))
    }

    async fn tx_proof(&self, tx_hash: B256) -> RpcResult<Option<TxInclusionResponse>> {
        let Some(included) = self.application.transaction(tx_hash).await else {
            return Ok(None);
        };
        Ok(Some(TxInclusionResponse {
            height: included.block.header().height.get(),
            header: HeaderResponse::new(included.block.header()),
            transaction: TransactionResponse::new(&included.transaction),
            proof: TransactionProofResponse::new(&included.proof),
        }))
    }

    async fn history_proof(
        &self,
        height: u64,
        root_height: u64,
    ) -> RpcResult<Option<HistoryProofResponse>> {
        if height > root_height {
            return Err(invalid_params(format!(
                "height {height} is above rootHeight {root_height}"
            )));
        }
        let Some(state) = self.application.light_client_state(Height(root_height)).await else {
            return Ok(None);
        };
        let Some(header) = self.application.header(Height(height)).await else {
            return Ok(None);
        };
        match self.application.history_proof(Height(height), Height(root_height)).await {
            Ok(proof) => Ok(Some(HistoryProofResponse {
                height,
                root_height,
                header_hash: header.hash(),
                root: state.history_root,
                proof: MerkleProofResponse::new(&proof),
            })),
            Err(HistoryProofError::Stopped) => Err(unavailable()),
            Err(HistoryProofError::History(_)) => Ok(None),
        }
    }

    async fn light_client_state(&self, height: u64) -> RpcResult<Option<LightClientStateResponse>> {
        let state = self.application.light_client_state(Height(height)).await;
        Ok(state.as_ref().map(LightClientStateResponse::new))
    }

    async fn state_signatures(&self, height: u64) -> RpcResult<Option<StateSignaturesResponse>> {
        let Some(state) = self.application.light_client_state(Height(height)).await else {
            return Ok(None);
        };
        let signatures = self
            .signatures
            .signatures(Height(height))
            .await
            .into_iter()
            .map(|(slot, public_key, signature)| StateSignatureResponse {
                slot,
                public_key,
                signature,
            })
            .collect();
        Ok(Some(StateSignaturesResponse {
            state: LightClientStateResponse::new(&state),
            signatures,
        }))
    }

    async fn committee(&self, epoch: u64) -> RpcResult<Option<CommitteeInfo>> {
        Ok(self.committees.iter().find(|c| c.epoch == epoch).cloned())
    }
}

#[jsonrpsee::core::async_trait]
impl<S: StateSignatureSource> TrestleSubscriptionsServer for Api<S> {
    async fn subscribe_headers(&self, pending: PendingSubscriptionSink) -> SubscriptionResult {
        self.stream(pending, |block| Some(HeaderResponse::new(block.header()))).await
    }

    async fn subscribe_namespace(
        &self,
        pending: PendingSubscriptionSink,
        namespace: u64,
    ) -> SubscriptionResult {
        let namespace = Namespace(namespace);
        self.stream(pending, move |block| {
            let present = block.transactions().iter().any(|t| t.transaction.namespace == namespace);
            if present { namespace_response(block, namespace) } else { None }
        })
        .await
    }
}
