//! The `#[rpc]` traits: the methods (`TrestleApi`) and the subscriptions
//! (`TrestleSubscriptions`), one port for HTTP and WebSocket.
//!
//! With the `server` feature jsonrpsee generates `TrestleApiServer` and
//! `TrestleSubscriptionsServer` (what `trestle-node` implements); with `client`,
//! `TrestleApiClient`, the typed client every method is called through. The subscriptions are a
//! trait of their own so that the methods' client works over plain HTTP (jsonrpsee's client of a
//! trait with subscriptions needs a WebSocket transport).

use alloy_primitives::B256;
// The client side rewrites the return types, leaving `RpcResult` unused without `server`.
#[cfg_attr(not(feature = "server"), allow(unused_imports))]
use jsonrpsee::{core::RpcResult, proc_macros::rpc};

use crate::records::{BlockRecordResponse, EquivocationResponse, RecordNamespaceResponse};
use crate::types::{
    BlockResponse, BlockSummaryResponse, CommitteeInfo, EpochProofResponse, FinalityResponse,
    HeaderResponse, HistoryProofResponse, LightClientStateResponse, NamespaceResponse,
    StateSignaturesResponse, SubmitOutcome, SubmitRequest, TxInclusionResponse,
};

/// The trestle JSON-RPC API: request/response methods.
#[cfg_attr(all(feature = "server", feature = "client"), rpc(server, client, namespace = "trestle"))]
#[cfg_attr(all(feature = "server", not(feature = "client")), rpc(server, namespace = "trestle"))]
#[cfg_attr(all(feature = "client", not(feature = "server")), rpc(client, namespace = "trestle"))]
pub trait TrestleApi {
    /// Submits a transaction to the mempool; returns its hash once this node admitted it,
    /// forwarded it to every other validator (mempool gossip, so it does not wait for this
    /// node's turn to lead) and f of them (the genesis committee's fault bound) said they hold
    /// it: a crash of this node, or of any f, then loses nothing. `NOT_REPLICATED` if they did
    /// not say so within a couple of seconds (the transaction stays here and may be finalized;
    /// resubmit). A resubmission of a pending transaction is forwarded again and answered
    /// `DUPLICATE` once held. Still not durable until finalized (mempools live in memory): a
    /// client that must not lose it resubmits (idempotent: `DUPLICATE`, `ALREADY_FINALIZED`)
    /// until `trestle_txProof` answers.
    #[method(name = "submit")]
    async fn submit(&self, tx: SubmitRequest) -> RpcResult<B256>;

    /// Submits up to [`MAX_SUBMIT_BATCH`](crate::MAX_SUBMIT_BATCH) transactions in one request:
    /// each is checked, admitted and replicated exactly as by `trestle_submit` (the batch's
    /// forwards wait for peers together, not one after the other) and answered in order with
    /// its hash and, if refused, the code `trestle_submit` would have answered. A larger batch
    /// is refused whole (invalid params).
    #[method(name = "submitBatch")]
    async fn submit_batch(&self, txs: Vec<SubmitRequest>) -> RpcResult<Vec<SubmitOutcome>>;

    /// Latest finalized height.
    #[method(name = "blockHeight")]
    async fn block_height(&self) -> RpcResult<u64>;

    /// Height of the finalized block whose header hash (`keccak256(abi.encode(header))`) or
    /// consensus digest is `hash`; `None` for a hash of no finalized block.
    #[method(name = "blockHeightByHash")]
    async fn block_height_by_hash(&self, hash: B256) -> RpcResult<Option<u64>>;

    /// Finalized header at `height`.
    #[method(name = "header")]
    async fn header(&self, height: u64) -> RpcResult<Option<HeaderResponse>>;

    /// Finalized block at `height`.
    /// Error [`codes::PRUNED`](crate::codes::PRUNED) if the height is finalized but this node
    /// pruned its block.
    #[method(name = "block")]
    async fn block(&self, height: u64) -> RpcResult<Option<BlockResponse>>;

    /// Finalized block at `height` without its payloads: its header, digest, sizes and the
    /// namespaces it carries.
    /// Error [`codes::PRUNED`](crate::codes::PRUNED) if the height is finalized but this node
    /// pruned its block.
    #[method(name = "blockSummary")]
    async fn block_summary(&self, height: u64) -> RpcResult<Option<BlockSummaryResponse>>;

    /// Finalization certificate of `height`.
    /// Error [`codes::PRUNED`](crate::codes::PRUNED) if the height is finalized but this node
    /// pruned its block and certificate.
    #[method(name = "finality")]
    async fn finality(&self, height: u64) -> RpcResult<Option<FinalityResponse>>;

    /// A namespace's transactions and proof (or absence proof) in the block at `height`.
    /// Error [`codes::PRUNED`](crate::codes::PRUNED) if the height is finalized but this node
    /// pruned its block.
    #[method(name = "namespaceProof")]
    async fn namespace_proof(
        &self,
        height: u64,
        namespace: u64,
    ) -> RpcResult<Option<NamespaceResponse>>;

    /// A finalized transaction by hash, with its proof. Error
    /// [`codes::PRUNED`](crate::codes::PRUNED) if it is finalized but this node pruned its block.
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

    /// The committee of `epoch`, once the chain decided it (at the end of epoch − 2).
    #[method(name = "committee")]
    async fn committee(&self, epoch: u64) -> RpcResult<Option<CommitteeInfo>>;

    /// The hand-off at the end of `epoch`: its last state, the signatures on it, and the next
    /// committee; `null` until the epoch's last height is finalized.
    #[method(name = "epochProof")]
    async fn epoch_proof(&self, epoch: u64) -> RpcResult<Option<EpochProofResponse>>;

    /// The confirmed record of rollup block `number` in block namespace `namespace`, found by
    /// index, with its transaction proof and its header's proof under the history root of
    /// `root_height` (default: the newest finalized height); `null` if no record of that
    /// number is finalized. An error for a namespace that is not a block namespace, and for a
    /// `root_height` below the record's height or not finalized.
    #[method(name = "blockRecord")]
    async fn block_record(
        &self,
        namespace: u64,
        number: u64,
        root_height: Option<u64>,
    ) -> RpcResult<Option<BlockRecordResponse>>;

    /// What the finalized chain holds of block namespace `namespace`; an error for a
    /// namespace that is not a block namespace.
    #[method(name = "recordNamespace")]
    async fn record_namespace(&self, namespace: u64) -> RpcResult<RecordNamespaceResponse>;

    /// The equivocations of block namespace `namespace`'s owner this node has seen (two
    /// signed records for one number), oldest first, at most `limit` (default and most 100)
    /// from the `from`-th.
    #[method(name = "recordEquivocations")]
    async fn record_equivocations(
        &self,
        namespace: u64,
        from: Option<u64>,
        limit: Option<u64>,
    ) -> RpcResult<Vec<EquivocationResponse>>;
}

/// The trestle JSON-RPC subscriptions (WebSocket), served on the same port as [`TrestleApi`].
#[cfg(feature = "server")]
#[rpc(server, namespace = "trestle")]
pub trait TrestleSubscriptions {
    /// Every finalized header, in height order.
    #[subscription(
        name = "subscribeHeaders",
        unsubscribe = "unsubscribeHeaders",
        item = HeaderResponse
    )]
    async fn subscribe_headers(&self) -> jsonrpsee::core::SubscriptionResult;

    /// For every finalized block with transactions in `namespace`: the header, the
    /// transactions and the namespace proof.
    #[subscription(
        name = "subscribeNamespace",
        unsubscribe = "unsubscribeNamespace",
        item = NamespaceResponse
    )]
    async fn subscribe_namespace(&self, namespace: u64) -> jsonrpsee::core::SubscriptionResult;
}
