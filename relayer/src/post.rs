//! The post loop: a source chain's confirmed blocks and outgoing messages → the network.
//!
//! For every block of the source chain that is `confirmations` deep, in order, the loop submits
//! a block-record transaction (`abi.encode(BlockRecord)`) to the chain's block namespace and
//! every `Mailbox.MessageSent` message of that block (`abi.encode(message)`, the exact bytes
//! `Mailbox.deliver` hashes) to the chain's message namespace, all signed by the namespaces'
//! owner. Only then does one store transaction move the cursor past the block and record the
//! block's submissions as unfinalized, so a crash redoes at most one block's submissions, which
//! the network answers with "duplicate" or "already finalized".
//!
//! Until finalized. A validator accepting a transaction into its mempool is no promise: a
//! restart forgets it. So each step first takes the chain's unfinalized submissions last sent at
//! least `resend_ms` ago (at most [`MAX_RESENDS_PER_STEP`], least recently sent first), asks the
//! network for each one's inclusion (`trestle_txProof`): finalized ones leave the store, the
//! others are sent again, unchanged (same hash: "duplicate" counts as success), and their send
//! time is recorded. A resend the network refuses outright (not a transport failure) is logged
//! and tried again an interval later rather than failing the step, so it never stops posting.
//!
//! Where posting starts. The network confirms a chain's block records contiguously from the
//! first number its genesis declares, whatever order they reach the proposers in. A store with
//! no cursor for the chain (a first start, a lost store) therefore asks the network and starts
//! right after its last record of the chain, or at that first number. What was sent but not
//! yet confirmed is sent again, and the network answers it as already known.
//!
//! Posting is all this loop does: it queues nothing for delivery. The deliver role finds every
//! message on the network itself ([`discover`](crate::discover)), whoever posted it, so a
//! relayer without the owner's key delivers exactly as one with it.
//!
//! Reorganizations. What is posted cannot be taken back: the network confirms each block
//! record once (a conflicting one for the same number is refused as the sequencer's
//! equivocation) and a posted message may be delivered at once. So the loop posts only up to
//! the chain's [`head`](SourceHead): by default its `finalized` block, where the endpoint
//! serves that tag, less `confirmations`. A reorganization of blocks above that bound (the
//! usual kind) is simply followed: the loop only ever reads the chain's current branch, so the
//! new branch is posted and the orphaned one never was. A reorganization below it (of blocks
//! already posted: a finalized block reverted, or a chain posted at `latest` reorganizing
//! deeper than `confirmations`) cannot be undone, but it is never posted over silently: the
//! store keeps the hash of the last block posted, and a next block whose parent is not that
//! block stops the chain's posting with [`PostError::Reorganized`], logged and counted on every
//! retry, until an operator looks. Messages are taken only from logs of the very block whose
//! record is posted; a log from another block (the chain moving under the reader) fails the
//! step, which is retried.

use std::{collections::BTreeMap, time::Duration};

use alloy::{
    providers::Provider as _,
    rpc::types::{BlockNumberOrTag, Filter},
};
use alloy_primitives::{B256, Bytes, keccak256};
use alloy_sol_types::{SolEvent as _, SolValue as _};
use commonware_cryptography::ed25519;
use tracing::{debug, info, warn};
use trestle_api::authorization::authorize;
use trestle_light_client::{Transaction, abi::BlockRecord};

use crate::{
    bindings::Mailbox,
    config::{ChainConfig, SourceHead},
    evm::{EvmChain, EvmError},
    faults::{self, CrashPoint},
    metrics::Metrics,
    network::{Network, NetworkError, Submitted, TransportFailure as _},
    now_ms,
    store::{Store, StoreError, Submission},
};

/// Most source blocks handled per step (bounds one `eth_getLogs` range).
const BATCH_BLOCKS: u64 = 100;

/// Most unfinalized submissions checked (and perhaps resent) per step: bounds the requests one
/// step makes after a long outage, when many are due at once.
pub const MAX_RESENDS_PER_STEP: usize = 32;

/// Why a post step failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// The source chain failed to answer.
    #[error(transparent)]
    Evm(#[from] EvmError),
    /// The network refused or failed a submission.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The chain did not return a block below its own head.
    #[error("{chain}: block {number} is missing")]
    MissingBlock {
        /// The chain.
        chain: String,
        /// The block number.
        number: u64,
    },
    /// The chain reorganized deeper than `confirmations`: block `number`'s parent is not the
    /// block posted before it. Posting stops for this chain (the step fails every retry).
    #[error(
        "{chain}: reorganized below the confirmation depth: block {number}'s parent is {parent}, \
         but block {posted_number} was posted as {posted}; posting stops until an operator acts"
    )]
    Reorganized {
        /// The chain.
        chain: String,
        /// The block that does not extend what was posted.
        number: u64,
        /// Its parent hash.
        parent: B256,
        /// The last block posted.
        posted_number: u64,
        /// Its hash as posted.
        posted: B256,
    },
    /// The network's last record of the chain names another block than the chain's own at
    /// that number: the chain reorganized below what was posted, or it is another chain under
    /// the same id (a devnet whose anvil restarted). A store without a cursor cannot continue
    /// those records; posting stops for this chain (the step fails every retry).
    #[error(
        "{chain}: the network records block {number} as {recorded}, but the chain's block \
         {number} is {actual}; posting stops until an operator acts"
    )]
    RecordedOtherwise {
        /// The chain.
        chain: String,
        /// The number of the network's last record.
        number: u64,
        /// The hash the network records.
        recorded: B256,
        /// The chain's block hash at that number.
        actual: B256,
    },
    /// A `MessageSent` log does not decode, or its hash is not the hash of its message.
    #[error("{chain}: malformed MessageSent log in block {number}: {reason}")]
    MalformedLog {
        /// The chain.
        chain: String,
        /// The block number.
        number: u64,
        /// What is wrong.
        reason: String,
    },
}

/// The post loop of one source chain.
#[derive(Debug)]
pub struct Poster {
    chain: EvmChain,
    network: Network,
    owner: ed25519::PrivateKey,
    store: Store,
    metrics: Metrics,
    /// How long after its last send an unfinalized submission is sent again.
    resend_after: Duration,
    /// What the configured head resolved to ([`SourceHead::Finalized`] or
    /// [`SourceHead::Latest`]), once known.
    head: Option<SourceHead>,
}

impl Poster {
    /// A post loop for `chain`, signing with `owner`, resending what is not finalized
    /// `resend_after` after it was last sent.
    pub fn new(
        chain: EvmChain,
        network: Network,
        owner: ed25519::PrivateKey,
        store: Store,
        metrics: Metrics,
        resend_after: Duration,
    ) -> Self {
        Self { chain, network, owner, store, metrics, resend_after, head: None }
    }

    /// Resends the due unfinalized submissions, then posts the next confirmed blocks, up to
    /// [`BATCH_BLOCKS`]. Returns whether it did anything (so the caller polls again at once
    /// rather than waiting).
    pub async fn step(&mut self) -> Result<bool, PostError> {
        let resent = self.resend_due().await?;
        let posted = self.post_blocks().await?;
        Ok(resent || posted)
    }

    /// Checks the due unfinalized submissions: drops the finalized ones, sends the others
    /// again. Returns whether any was due.
    async fn resend_due(&mut self) -> Result<bool, PostError> {
        let name = self.chain.config().name.clone();
        let resend_ms = u64::try_from(self.resend_after.as_millis()).unwrap_or(u64::MAX);
        let (due, mut tracked) =
            self.store.due_submissions(&name, now_ms(), resend_ms, MAX_RESENDS_PER_STEP)?;
        self.metrics.unfinalized_submissions(&name, tracked);
        for submission in &due {
            if let Some(height) = self.network.inclusion_height(submission.tx_hash).await? {
                self.store.mark_finalized(submission.tx_hash)?;
                tracked = tracked.saturating_sub(1);
                debug!(chain = %name, tx = %submission.tx_hash, height, "submission finalized");
                continue;
            }
            let answer = self
                .network
                .submit_owned(
                    submission.tx_hash,
                    submission.namespace,
                    &submission.payload,
                    &submission.authorization,
                )
                .await;
            match answer {
                Ok(_) => {
                    self.metrics.resubmitted(&name);
                    info!(
                        chain = %name,
                        tx = %submission.tx_hash,
                        "resent a submission not finalized in time"
                    );
                }
                Err(e) if e.is_transport_failure() => return Err(e.into()),
                Err(e) => {
                    warn!(
                        chain = %name,
                        tx = %submission.tx_hash,
                        error = %e,
                        "the network refused a resent submission; trying again later"
                    );
                }
            }
            self.store.mark_resent(submission.tx_hash, now_ms())?;
        }
        self.metrics.unfinalized_submissions(&name, tracked);
        Ok(!due.is_empty())
    }

    /// What the configured head means on this chain: [`SourceHead::Finalized`] or
    /// [`SourceHead::Latest`] (`auto` is decided by asking the chain, once), or `None` while
    /// undecided (the chain knows the `finalized` tag but has finalized nothing yet).
    pub async fn resolved_head(&mut self) -> Result<Option<SourceHead>, PostError> {
        if let Some(head) = self.head {
            return Ok(Some(head));
        }
        let name = self.chain.name().to_owned();
        let resolved = match self.chain.config().head {
            SourceHead::Auto => match self.chain.serves_finalized().await? {
                Some(true) => SourceHead::Finalized,
                Some(false) => {
                    warn!(
                        chain = %name,
                        confirmations = self.chain.config().confirmations,
                        "the chain does not serve a `finalized` block: posting up to its newest \
                         block less `confirmations`, which must cover any reorganization"
                    );
                    SourceHead::Latest
                }
                None => return Ok(None),
            },
            configured => configured,
        };
        info!(chain = %name, head = %resolved, "posting up to the chain's {resolved} block");
        self.metrics.source_head(&name, resolved);
        self.head = Some(resolved);
        Ok(Some(resolved))
    }

    /// The newest block that may be posted: the resolved head less `confirmations`, if any.
    async fn postable(&mut self) -> Result<Option<u64>, PostError> {
        let head = match self.resolved_head().await? {
            None => None,
            Some(SourceHead::Latest) => Some(self.chain.head().await?),
            Some(_) => self.chain.finalized_head().await?,
        };
        Ok(head.and_then(|head| head.checked_sub(self.chain.config().confirmations)))
    }

    /// Posts the next confirmed blocks, up to [`BATCH_BLOCKS`]. Returns whether it posted any.
    async fn post_blocks(&mut self) -> Result<bool, PostError> {
        let Some(confirmed) = self.postable().await? else { return Ok(false) };
        let config = self.chain.config().clone();
        let next = match self.store.source_cursor(&config.name)? {
            Some(next) => next,
            None => self.first_to_post(&config).await?,
        };
        if next > confirmed {
            return Ok(false);
        }
        let last = confirmed.min(next.saturating_add(BATCH_BLOCKS - 1));
        let filter = Filter::new()
            .address(config.mailbox)
            .event_signature(Mailbox::MessageSent::SIGNATURE_HASH)
            .from_block(next)
            .to_block(last);
        let logs =
            self.chain.provider().get_logs(&filter).await.map_err(|e| self.chain.rpc_error(e))?;
        let mut by_block: BTreeMap<u64, Vec<_>> = BTreeMap::new();
        for log in logs {
            let number = log.block_number.ok_or_else(|| PostError::MalformedLog {
                chain: config.name.clone(),
                number: next,
                reason: "log without a block number".into(),
            })?;
            by_block.entry(number).or_default().push(log);
        }
        for number in next..=last {
            let block = self
                .chain
                .provider()
                .get_block_by_number(BlockNumberOrTag::Number(number))
                .await
                .map_err(|e| self.chain.rpc_error(e))?
                .ok_or_else(|| PostError::MissingBlock { chain: config.name.clone(), number })?;
            if let Some((posted_number, posted)) = self.store.source_head(&config.name)?
                && posted_number.checked_add(1) == Some(number)
                && block.header.parent_hash != posted
            {
                return Err(PostError::Reorganized {
                    chain: config.name.clone(),
                    number,
                    parent: block.header.parent_hash,
                    posted_number,
                    posted,
                });
            }
            let record = BlockRecord {
                chainId: config.chain_id,
                number,
                hash: block.header.hash,
                parentHash: block.header.parent_hash,
            };
            let record_tx = Transaction::new(config.block_namespace(), record.encode());
            let mut submissions = vec![self.submit(&config.name, record_tx).await?];
            faults::reach(CrashPoint::PostAfterSubmit);

            let logs = by_block.remove(&number).unwrap_or_default();
            let posted = logs.len();
            for log in logs {
                let malformed = |reason: String| PostError::MalformedLog {
                    chain: config.name.clone(),
                    number,
                    reason,
                };
                if log.block_hash != Some(block.header.hash) {
                    return Err(malformed(format!(
                        "the log is from block {:?}, the block read is {} (the chain moved \
                         while reading; retrying)",
                        log.block_hash, block.header.hash
                    )));
                }
                let event = log
                    .log_decode::<Mailbox::MessageSent>()
                    .map_err(|e| malformed(e.to_string()))?
                    .inner
                    .data;
                let encoded = event.message.abi_encode();
                if keccak256(&encoded) != event.messageHash {
                    return Err(malformed(format!(
                        "messageHash {} is not keccak256(abi.encode(message))",
                        event.messageHash
                    )));
                }
                let tx = Transaction::new(config.message_namespace(), encoded);
                submissions.push(self.submit(&config.name, tx.clone()).await?);
                info!(
                    chain = %config.name,
                    block = number,
                    hash = %event.messageHash,
                    dest = event.message.destChainId,
                    nonce = event.message.nonce,
                    tx = %tx.hash(),
                    "posted message"
                );
            }
            self.store.record_posted_block(
                &config.name,
                number,
                block.header.hash,
                &submissions,
            )?;
            faults::reach(CrashPoint::PostAfterRecord);
            self.metrics.posted_block(&config.name, posted, number.saturating_add(1));
            debug!(chain = %config.name, block = number, messages = posted, "posted block");
        }
        Ok(true)
    }

    /// Where a store without a cursor starts: right after the network's last record of the
    /// chain, or at the first number genesis declares when it has none. Records are contiguous
    /// from that number, so no other start could ever extend them; a configured `start_block`
    /// that differs is reported and not followed. Posting from the network's last record on
    /// must extend it: if the chain's block there is another, posting stops
    /// ([`PostError::RecordedOtherwise`]).
    async fn first_to_post(&self, config: &ChainConfig) -> Result<u64, PostError> {
        let records = self.network.record_namespace(config.block_namespace).await?;
        let next = match records.confirmed {
            None => records.first_record,
            Some(range) => {
                let block = self
                    .chain
                    .provider()
                    .get_block_by_number(BlockNumberOrTag::Number(range.last))
                    .await
                    .map_err(|e| self.chain.rpc_error(e))?;
                // A chain not yet at the network's last record: wait for it.
                let Some(block) = block else { return Ok(range.last.saturating_add(1)) };
                if block.header.hash != range.last_hash {
                    return Err(PostError::RecordedOtherwise {
                        chain: config.name.clone(),
                        number: range.last,
                        recorded: range.last_hash,
                        actual: block.header.hash,
                    });
                }
                range.last.saturating_add(1)
            }
        };
        if let Some(configured) = config.start_block.filter(|&start| start != next) {
            warn!(
                chain = %config.name,
                configured,
                start = next,
                "start_block ignored: the network's records of this chain continue at another \
                 block, and no other would ever be confirmed"
            );
        }
        info!(
            chain = %config.name,
            start = next,
            "no cursor yet; posting from the network's next record of the chain"
        );
        Ok(next)
    }

    /// Signs and submits `tx`; returns the record that tracks it until finalized.
    async fn submit(&self, chain: &str, tx: Transaction) -> Result<Submission, PostError> {
        let tx_hash = tx.hash();
        let authorization = Bytes::from(authorize(&self.owner, &tx).as_ref().to_vec());
        let sent_ms = now_ms();
        match self
            .network
            .submit_owned(tx_hash, tx.namespace.get(), &tx.payload, &authorization)
            .await?
        {
            Submitted::Accepted => {}
            Submitted::AlreadyKnown => {
                debug!(tx = %tx_hash, "the network already has this transaction");
            }
        }
        Ok(Submission {
            tx_hash,
            chain: chain.to_owned(),
            namespace: tx.namespace.get(),
            payload: tx.payload,
            authorization,
            last_sent_ms: sent_ms,
        })
    }
}
