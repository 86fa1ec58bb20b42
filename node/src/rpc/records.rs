//! The block-record methods (`trestle_blockRecord`, `trestle_recordNamespace`,
//! `trestle_recordEquivocations`), answered from the application's record index and marshal's
//! archive.

use alloy_primitives::Bytes;
use jsonrpsee::core::RpcResult;
use trestle_api::{
    HeaderResponse, HistoryProofResponse, MerkleProofResponse, TransactionProofResponse, codes,
    records::{
        BlockRecordResponse, ConfirmedRange, EquivocationResponse, RecordFields,
        RecordNamespaceResponse, SignedRecord,
    },
};
use trestle_light_client::{Height, Namespace, records as record_rules};

use super::{
    handlers::{Api, error, invalid_params, pruned, unavailable},
    responses,
};
use crate::{
    application::{
        HistoryProofError, RecordNamespace,
        records::{Equivocation, FirstRecord},
    },
    block::BlockTransaction,
};

/// Most equivocations one `trestle_recordEquivocations` call returns.
const MAX_EQUIVOCATIONS_PER_CALL: u64 = 100;

impl Api {
    /// The namespace's record summary, or the "not a block namespace" error.
    async fn record_summary(&self, namespace: Namespace) -> RpcResult<RecordNamespace> {
        self.sources.application.record_namespace(namespace).await.ok_or_else(|| {
            error(
                codes::NOT_A_BLOCK_NAMESPACE,
                format!("namespace {} is not a block namespace", namespace.get()),
            )
        })
    }

    pub(super) async fn block_record_response(
        &self,
        namespace: u64,
        number: u64,
        root_height: Option<u64>,
    ) -> RpcResult<Option<BlockRecordResponse>> {
        let namespace = Namespace(namespace);
        self.record_summary(namespace).await?;
        let Some(indexed) = self.sources.application.block_record(namespace, number).await else {
            return Ok(None);
        };
        let root_height = match root_height {
            Some(root) if root < indexed.height.get() => {
                return Err(invalid_params(format!(
                    "rootHeight {root} is below the record's height {}",
                    indexed.height.get()
                )));
            }
            Some(root) => root,
            None => {
                let status = self.sources.application.status().await.ok_or_else(unavailable)?;
                status.finalized_height.get()
            }
        };
        let Some(state) = self.sources.application.light_client_state(Height(root_height)).await
        else {
            return Err(invalid_params(format!("rootHeight {root_height} is not finalized")));
        };
        let Some(included) =
            self.sources.application.transaction(indexed.tx_hash).await.map_err(pruned)?
        else {
            // Indexed but not in the archive: the node is missing a finalized block.
            return Err(unavailable());
        };
        let record = record_rules::decode(&included.transaction.transaction.payload)
            .map_err(|_| unavailable())?;
        let proof =
            match self.sources.application.history_proof(indexed.height, Height(root_height)).await
            {
                Ok(proof) => proof,
                Err(HistoryProofError::Stopped) => return Err(unavailable()),
                Err(HistoryProofError::History(_)) => return Ok(None),
            };
        let header = HeaderResponse::new(included.block.header());
        Ok(Some(BlockRecordResponse {
            namespace: namespace.get(),
            record: RecordFields::from(&record),
            height: indexed.height.get(),
            history: HistoryProofResponse {
                height: indexed.height.get(),
                root_height,
                header_hash: header.hash,
                root: state.history_root,
                proof: MerkleProofResponse::new(&proof),
            },
            header,
            transaction: responses::transaction(&included.transaction),
            proof: TransactionProofResponse::new(&included.proof),
        }))
    }

    pub(super) async fn record_namespace_response(
        &self,
        namespace: u64,
    ) -> RpcResult<RecordNamespaceResponse> {
        let summary = self.record_summary(Namespace(namespace)).await?;
        Ok(RecordNamespaceResponse {
            namespace,
            chain_id: summary.spec.chain_id,
            first_record: summary.spec.first,
            confirmed: summary.confirmed.map(|(first, tip)| ConfirmedRange {
                first,
                last: tip.number,
                last_hash: tip.hash,
            }),
            equivocations: summary.equivocations as u64,
        })
    }

    pub(super) async fn record_equivocations_response(
        &self,
        namespace: u64,
        from: Option<u64>,
        limit: Option<u64>,
    ) -> RpcResult<Vec<EquivocationResponse>> {
        let namespace = Namespace(namespace);
        self.record_summary(namespace).await?;
        let limit = limit.unwrap_or(MAX_EQUIVOCATIONS_PER_CALL);
        if limit > MAX_EQUIVOCATIONS_PER_CALL {
            return Err(invalid_params(format!(
                "limit {limit} exceeds {MAX_EQUIVOCATIONS_PER_CALL}"
            )));
        }
        let from = usize::try_from(from.unwrap_or(0)).unwrap_or(usize::MAX);
        let kept = self.sources.application.equivocations(namespace, from, limit as usize).await;
        let mut answers = Vec::with_capacity(kept.len());
        for equivocation in kept {
            answers.push(self.equivocation_response(namespace, equivocation).await?);
        }
        Ok(answers)
    }

    /// The evidence of `equivocation`, with the confirmed record's signature read from its
    /// block.
    async fn equivocation_response(
        &self,
        namespace: Namespace,
        equivocation: Equivocation,
    ) -> RpcResult<EquivocationResponse> {
        let (first, confirmed_at) = match equivocation.first {
            FirstRecord::Pending(tx) => (tx, None),
            FirstRecord::Confirmed { height, tx_hash } => {
                let included = self
                    .sources
                    .application
                    .transaction(tx_hash)
                    .await
                    .map_err(pruned)?
                    .ok_or_else(unavailable)?;
                (included.transaction, Some(height.get()))
            }
        };
        Ok(EquivocationResponse {
            namespace: namespace.get(),
            number: equivocation.number,
            first: signed(&first),
            second: signed(&equivocation.second),
            confirmed_at,
        })
    }
}

/// A record transaction as equivocation evidence (records are owned, so signed).
fn signed(tx: &BlockTransaction) -> SignedRecord {
    SignedRecord {
        payload: tx.transaction.payload.clone(),
        authorization: tx
            .authorization
            .as_ref()
            .map(|s| Bytes::copy_from_slice(s.as_ref()))
            .unwrap_or_default(),
    }
}
