//! The deliver loop: pending messages whose trestle height the destination light client covers
//! → `Mailbox.deliver` with their inclusion proofs.
//!
//! For each pending message bound for its chain the loop first asks the mailbox whether it was
//! delivered already (by anyone). Otherwise, once the light client's latest height covers the
//! message's height, it fetches the transaction proof and the history proof against the light
//! client's latest root, verifies both with the light-client kernel (never sending a proof the
//! contract would refuse, or trusting a node blindly), and delivers. `AlreadyDelivered` means
//! another relayer won the race, which is success. A message leaves the queue only once it is
//! delivered, in one store transaction. A message that keeps failing (its recipient reverts)
//! stays queued and is retried with backoff without holding up the messages behind it.

use alloy_sol_types::SolValue as _;
use tracing::{debug, info, warn};
use trestle_api::TrestleApiClient as _;
use trestle_light_client::{
    B256, Height, Namespace, Transaction, abi::CodecError, confirmation::verify_inclusion,
};

use crate::{
    bindings::{Mailbox, MerkleTree},
    evm::{EvmChain, EvmError},
    metrics::Metrics,
    network::{Network, NetworkError},
    store::{PendingMessage, Store, StoreError},
};

/// Why a deliver step failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    /// The mailbox refuses the delivery with one of its errors (for example
    /// `RecipientReverted`: the recipient rejects the message, perhaps only for now).
    #[error("message {message}: the mailbox refuses it: {reason}")]
    Refused {
        /// The message.
        message: B256,
        /// The mailbox's error, decoded.
        reason: String,
    },
    /// The destination chain failed.
    #[error(transparent)]
    Evm(#[from] EvmError),
    /// The network failed to answer.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something the network or the store returned does not decode.
    #[error("message {message}: {source}")]
    Codec {
        /// The message.
        message: B256,
        /// What the decoder said.
        source: CodecError,
    },
    /// The stored message is not a valid `abi.encode(Message)`.
    #[error("message {message}: the stored message does not decode: {reason}")]
    Message {
        /// The message.
        message: B256,
        /// What the decoder said.
        reason: String,
    },
    /// The network's proofs do not verify locally: it is wrong, or a different network than
    /// the light client follows. Nothing is sent.
    #[error("message {message}: the network's proof does not verify: {reason}")]
    Verification {
        /// The message.
        message: B256,
        /// What failed.
        reason: String,
    },
}

/// The deliver loop of one destination chain.
#[derive(Debug)]
pub struct Deliverer {
    chain: EvmChain,
    network: Network,
    store: Store,
    metrics: Metrics,
}

impl Deliverer {
    /// A deliver loop for `chain`.
    pub fn new(chain: EvmChain, network: Network, store: Store, metrics: Metrics) -> Self {
        Self { chain, network, store, metrics }
    }

    /// Delivers every pending message the light client covers. Returns whether it delivered
    /// any.
    pub async fn step(&mut self) -> Result<bool, DeliverError> {
        let chain_id = self.chain.config().chain_id;
        let pending = self.store.pending_to(chain_id)?;
        if pending.is_empty() {
            return Ok(false);
        }
        let light_client = self.chain.light_client();
        let latest =
            light_client.latestState().call().await.map_err(|e| self.chain.contract_error(e))?;
        self.metrics.light_client_height(self.chain.name(), latest.height);
        // One message that cannot be delivered (its recipient reverts, its proof is refused)
        // must not hold up the others behind it: each is tried, and the step fails (and is
        // retried with backoff) only if nothing else moved.
        let mut delivered_any = false;
        let mut first_error = None;
        for message in pending {
            match self.deliver(&message, latest.height, latest.historyRoot).await {
                Ok(true) => delivered_any = true,
                Ok(false) => {}
                Err(e) => {
                    warn!(
                        chain = self.chain.name(),
                        hash = %message.hash,
                        error = %e,
                        "message not delivered; it stays queued"
                    );
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if !delivered_any => Err(e),
            _ => Ok(delivered_any),
        }
    }

    /// Delivers one message if it can be now; returns whether it left the queue.
    async fn deliver(
        &self,
        pending: &PendingMessage,
        root_height: u64,
        root: B256,
    ) -> Result<bool, DeliverError> {
        let hash = pending.hash;
        let mailbox = self.chain.mailbox();
        let already =
            mailbox.delivered(hash).call().await.map_err(|e| self.chain.contract_error(e))?;
        if already {
            debug!(chain = self.chain.name(), hash = %hash, "already delivered");
            return self.finish(pending, "found delivered");
        }
        let Some(inclusion) = self
            .network
            .client()
            .tx_proof(pending.tx_hash)
            .await
            .map_err(|e| DeliverError::Network(NetworkError::Rpc(e)))?
        else {
            return Ok(false);
        };
        let height = inclusion.height;
        if pending.included_height != Some(height) {
            self.store.set_included_height(hash, height)?;
        }
        if height > root_height {
            return Ok(false);
        }
        let Some(history) = self
            .network
            .client()
            .history_proof(height, root_height)
            .await
            .map_err(|e| DeliverError::Network(NetworkError::Rpc(e)))?
        else {
            return Ok(false);
        };

        // Verify everything locally before paying for a transaction: the kernel's inclusion check,
        // against the root the destination's light client holds.
        let codec = |source| DeliverError::Codec { message: hash, source };
        let unverified = |reason: String| DeliverError::Verification { message: hash, reason };
        let header = inclusion.header.decode().map_err(codec)?;
        if header.height.get() != height {
            return Err(unverified(format!(
                "header of height {} for height {height}",
                header.height.get()
            )));
        }
        let tx = Transaction::new(Namespace(pending.namespace), pending.message.clone());
        if tx.hash() != pending.tx_hash {
            return Err(unverified("the stored message does not hash to its transaction".into()));
        }
        let tx_proof = inclusion.proof.decode().map_err(codec)?;
        let history_proof = history.proof.decode().map_err(codec)?;
        if history.root != root {
            return Err(unverified(format!(
                "the network's root at height {root_height} is {}, the light client's {root}",
                history.root
            )));
        }
        verify_inclusion(&tx, &header, &tx_proof, &history_proof, &root, Height(root_height))
            .map_err(|e| unverified(e.to_string()))?;

        // The bindings' structs have the same fields; the canonical encodings carry them over.
        let decode_error = |reason: String| DeliverError::Message { message: hash, reason };
        let message = Mailbox::Message::abi_decode(&pending.message)
            .map_err(|e| decode_error(e.to_string()))?;
        let header = Mailbox::Header::abi_decode(&header.encode())
            .map_err(|e| decode_error(e.to_string()))?;
        let tx_proof = Mailbox::TransactionProof::abi_decode(&tx_proof.encode())
            .map_err(|e| decode_error(e.to_string()))?;
        let history_proof = MerkleTree::Proof::abi_decode(&history_proof.encode())
            .map_err(|e| decode_error(e.to_string()))?;

        let call = mailbox.deliver(message, header, tx_proof, history_proof, root);
        match self.chain.send(call).await {
            Ok(receipt) => {
                info!(
                    chain = self.chain.name(),
                    hash = %hash,
                    height,
                    tx = %receipt.transaction_hash,
                    gas = receipt.gas_used,
                    "delivered message"
                );
                self.finish(pending, "delivered")
            }
            Err(e) => {
                if let Some(Mailbox::MailboxErrors::AlreadyDelivered(_)) =
                    e.revert::<Mailbox::MailboxErrors>()
                {
                    return self.finish(pending, "delivered by another relayer");
                }
                // Mined but reverted: another relayer's delivery may have been mined between
                // our gas estimate and our transaction. Then the message is done all the same.
                if matches!(e, EvmError::Reverted { .. })
                    && mailbox.delivered(hash).call().await.unwrap_or(false)
                {
                    return self.finish(pending, "delivered by another relayer (race)");
                }
                match e.revert::<Mailbox::MailboxErrors>() {
                    Some(refusal) => {
                        Err(DeliverError::Refused { message: hash, reason: format!("{refusal:?}") })
                    }
                    None => Err(e.into()),
                }
            }
        }
    }

    fn finish(&self, pending: &PendingMessage, how: &str) -> Result<bool, DeliverError> {
        let height = pending.included_height.unwrap_or_default();
        if self.store.mark_delivered(pending.hash, height)? {
            self.metrics.delivered(self.chain.name());
            debug!(chain = self.chain.name(), hash = %pending.hash, how, "message done");
        }
        Ok(true)
    }
}
