//! The methods and subscriptions of the API, answered from the validator's actors.

use std::{
    num::NonZeroU64,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use alloy_primitives::B256;
use commonware_codec::{DecodeExt as _, Encode as _};
use commonware_consensus::{Viewable as _, types::Height as CwHeight};
use commonware_cryptography::ed25519;
use jsonrpsee::{
    PendingSubscriptionSink, SubscriptionMessage,
    core::{RpcResult, SubscriptionResult},
    types::{ErrorObjectOwned, error::INVALID_PARAMS_CODE},
};
use tokio::sync::broadcast;
use tracing::warn;
use trestle_api::{
    BlockResponse, BlockSummaryResponse, CommitteeInfo, EpochProofResponse, FinalityResponse,
    HeaderResponse, HistoryProofResponse, LightClientStateResponse, MAX_SUBMIT_BATCH,
    MerkleProofResponse, NamespaceResponse, StateSignatureResponse, StateSignaturesResponse,
    SubmitFailure, SubmitOutcome, SubmitRequest, TransactionProofResponse, TrestleApiServer,
    TrestleSubscriptionsServer, TxInclusionResponse, codes,
    records::{BlockRecordResponse, EquivocationResponse, RecordNamespaceResponse},
};
use trestle_light_client::{Epoch, Height, Namespace, Transaction, epoch};

use super::{Sources, responses};
use crate::{
    application::{HistoryProofError, Pruned},
    block::{Block, BlockTransaction, b256_from_digest},
    mempool::SubmitError,
};

/// The server's state: every field is a handle, clones share the node's state.
#[derive(Clone)]
pub(super) struct Api {
    pub(super) sources: Sources,
    pub(super) max_payload: usize,
    pub(super) epoch_length: NonZeroU64,
    pub(super) blocks: broadcast::Sender<Arc<Block>>,
    pub(super) subscriptions: Arc<AtomicUsize>,
    pub(super) max_subscriptions: usize,
}

pub(super) fn error(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

pub(super) fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
    error(INVALID_PARAMS_CODE, message)
}

pub(super) fn unavailable() -> ErrorObjectOwned {
    error(codes::UNAVAILABLE, "node is shutting down or overloaded")
}

/// The refusal of a request for a block this node pruned.
pub(super) fn pruned(pruned: Pruned) -> ErrorObjectOwned {
    error(
        codes::PRUNED,
        format!("{pruned} (it keeps recent blocks only: retain_heights); ask an archival node"),
    )
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
        SubmitError::NotReplicated { .. } => codes::NOT_REPLICATED,
        SubmitError::Record { .. } => codes::RECORD_REFUSED,
        SubmitError::ConflictingRecord { .. } => codes::RECORD_CONFLICT,
    };
    error(code, err.to_string())
}

/// A refusal as a batch answers it.
fn failure(error: &ErrorObjectOwned) -> SubmitFailure {
    SubmitFailure { code: error.code(), message: error.message().to_owned() }
}

impl Api {
    /// The block transaction `tx` asks for, checked as far as this server can before the
    /// mempool: its payload size and the form of its authorization.
    fn transaction(&self, tx: SubmitRequest) -> Result<BlockTransaction, ErrorObjectOwned> {
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
        Ok(BlockTransaction {
            transaction: Transaction::new(Namespace(tx.namespace), tx.payload),
            authorization,
        })
    }

    /// Checks, admits and replicates a batch (`trestle_submitBatch` and the binary ingress path
    /// both answer with this): each transaction's hash and, if refused, the typed refusal
    /// `trestle_submit` would answer. More than [`MAX_SUBMIT_BATCH`] is refused whole.
    pub(super) async fn submit_many(
        &self,
        txs: Vec<SubmitRequest>,
    ) -> Result<Vec<SubmitOutcome>, ErrorObjectOwned> {
        if txs.len() > MAX_SUBMIT_BATCH {
            return Err(invalid_params(format!(
                "a batch holds at most {MAX_SUBMIT_BATCH} transactions, got {}",
                txs.len()
            )));
        }
        // Each answer's slot: the hash, and the refusal found before admission, if any.
        let mut outcomes = Vec::with_capacity(txs.len());
        let mut valid = Vec::new();
        for tx in txs {
            let hash = Transaction::new(Namespace(tx.namespace), tx.payload.clone()).hash();
            match self.transaction(tx) {
                Ok(transaction) => {
                    outcomes.push(SubmitOutcome { hash, error: None });
                    valid.push((outcomes.len() - 1, (hash, transaction)));
                }
                Err(refused) => {
                    outcomes.push(SubmitOutcome { hash, error: Some(failure(&refused)) })
                }
            }
        }
        let (slots, transactions): (Vec<usize>, Vec<_>) = valid.into_iter().unzip();
        let answers = self.sources.application.submit_batch_hashed(transactions).await;
        for (slot, answer) in slots.into_iter().zip(answers) {
            if let Err(refused) = answer {
                outcomes[slot].error = Some(failure(&submit_error(&refused)));
            }
        }
        Ok(outcomes)
    }

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
impl TrestleApiServer for Api {
    async fn submit(&self, tx: SubmitRequest) -> RpcResult<B256> {
        let transaction = self.transaction(tx)?;
        self.sources.application.submit(transaction).await.map_err(|e| submit_error(&e))
    }

    async fn submit_batch(&self, txs: Vec<SubmitRequest>) -> RpcResult<Vec<SubmitOutcome>> {
        self.submit_many(txs).await
    }

    async fn block_height(&self) -> RpcResult<u64> {
        let status = self.sources.application.status().await.ok_or_else(unavailable)?;
        Ok(status.finalized_height.get())
    }

    async fn block_height_by_hash(&self, hash: B256) -> RpcResult<Option<u64>> {
        Ok(self.sources.application.height_by_hash(hash).await.map(|h| h.get()))
    }

    async fn header(&self, height: u64) -> RpcResult<Option<HeaderResponse>> {
        Ok(self.sources.application.header(Height(height)).await.map(|h| HeaderResponse::new(&h)))
    }

    async fn block_summary(&self, height: u64) -> RpcResult<Option<BlockSummaryResponse>> {
        let block = self.sources.application.block_at(Height(height)).await.map_err(pruned)?;
        Ok(block.map(|b| responses::block_summary(&b)))
    }

    async fn block(&self, height: u64) -> RpcResult<Option<BlockResponse>> {
        let block = self.sources.application.block_at(Height(height)).await.map_err(pruned)?;
        Ok(block.map(|b| responses::block(&b)))
    }

    async fn finality(&self, height: u64) -> RpcResult<Option<FinalityResponse>> {
        let Some(block) =
            self.sources.application.block_at(Height(height)).await.map_err(pruned)?
        else {
            return Ok(None);
        };
        let Some(finalization) = self.sources.marshal.get_finalization(CwHeight::new(height)).await
        else {
            return Ok(None);
        };
        let response: BlockResponse = responses::block(&block);
        let digest = b256_from_digest(&finalization.proposal.payload.block());
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
            commitment: finalization.proposal.payload.encode().to_vec().into(),
            header_hash: response.header.hash,
            parent_digest: response.parent_digest,
            succession_hash: response.succession_hash,
            authorizations_hash: response.authorizations_hash,
            context_hash: response.context_hash,
            signers: finalization.certificate.signers.iter().map(|p| p.get()).collect(),
            encoded: finalization.encode().to_vec().into(),
        }))
    }

    async fn namespace_proof(
        &self,
        height: u64,
        namespace: u64,
    ) -> RpcResult<Option<NamespaceResponse>> {
        let Some(block) =
            self.sources.application.block_at(Height(height)).await.map_err(pruned)?
        else {
            return Ok(None);
        };
        Ok(responses::namespace(&block, Namespace(namespace)))
    }

    async fn tx_proof(&self, tx_hash: B256) -> RpcResult<Option<TxInclusionResponse>> {
        let Some(included) = self.sources.application.transaction(tx_hash).await.map_err(pruned)?
        else {
            return Ok(None);
        };
        Ok(Some(TxInclusionResponse {
            height: included.block.header().height.get(),
            header: HeaderResponse::new(included.block.header()),
            transaction: responses::transaction(&included.transaction),
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
        let Some(state) = self.sources.application.light_client_state(Height(root_height)).await
        else {
            return Ok(None);
        };
        let Some(header) = self.sources.application.header(Height(height)).await else {
            return Ok(None);
        };
        match self.sources.application.history_proof(Height(height), Height(root_height)).await {
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
        let state = self.sources.application.light_client_state(Height(height)).await;
        Ok(state.as_ref().map(LightClientStateResponse::new))
    }

    async fn state_signatures(&self, height: u64) -> RpcResult<Option<StateSignaturesResponse>> {
        let Some(state) = self.sources.application.light_client_state(Height(height)).await else {
            return Ok(None);
        };
        let signatures = self
            .sources
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
        let record = self.sources.application.committee(Epoch(epoch)).await;
        Ok(record.map(|record| CommitteeInfo::from_record(epoch, &record)))
    }

    async fn epoch_proof(&self, epoch: u64) -> RpcResult<Option<EpochProofResponse>> {
        // An endless epoch (or one past u64::MAX) has no last height: nothing hands over.
        let Some(last) = epoch::last_height(Epoch(epoch), self.epoch_length) else {
            return Ok(None);
        };
        let Some(next) = epoch.checked_add(1) else { return Ok(None) };
        let Some(signed) = self.state_signatures(last.get()).await? else { return Ok(None) };
        // The last state commits to the next committee, decided an epoch before: present.
        let Some(record) = self.sources.application.committee(Epoch(next)).await else {
            return Ok(None);
        };
        Ok(Some(EpochProofResponse {
            epoch,
            last: signed,
            next_committee: CommitteeInfo::from_record(next, &record),
        }))
    }

    async fn block_record(
        &self,
        namespace: u64,
        number: u64,
        root_height: Option<u64>,
    ) -> RpcResult<Option<BlockRecordResponse>> {
        self.block_record_response(namespace, number, root_height).await
    }

    async fn record_namespace(&self, namespace: u64) -> RpcResult<RecordNamespaceResponse> {
        self.record_namespace_response(namespace).await
    }

    async fn record_equivocations(
        &self,
        namespace: u64,
        from: Option<u64>,
        limit: Option<u64>,
    ) -> RpcResult<Vec<EquivocationResponse>> {
        self.record_equivocations_response(namespace, from, limit).await
    }
}

#[jsonrpsee::core::async_trait]
impl TrestleSubscriptionsServer for Api {
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
            if present { responses::namespace(block, namespace) } else { None }
        })
        .await
    }
}
