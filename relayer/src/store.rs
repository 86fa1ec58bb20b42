//! The relayer's persistent state: cursors and the message queue, in one redb file.
//!
//! Every change a loop makes after an external effect is one redb write transaction, committed
//! durably before the loop moves on. So after a crash (kill -9 included) at any point a loop
//! either sees its step as done or redoes it, and redoing is harmless: the network answers a
//! resubmission with "duplicate"/"already finalized", `LightClient.update` with
//! `HeightNotIncreasing`, and a mailbox's inbox position (`Mailbox.inboxNonce`) tells which
//! messages it received already; the relayer counts all of these as success. Nothing is ever
//! skipped: the discovery loop queues the messages of the network heights it read in the same
//! transaction that moves its cursor past them, and queueing a message already pending or
//! delivered is a no-op.
//!
//! Tables:
//! - `source_cursor`: source chain name → next EVM block to post;
//! - `source_head`: source chain name → number and hash of the last block posted (the post loop
//!   checks that the next block's parent is this one: a reorganization deeper than the
//!   configured confirmations is detected, never posted over silently);
//! - `unfinalized`: trestle transaction hash → [`Submission`] (ABI-encoded record): every
//!   transaction the post loop submitted and has not yet seen finalized, with what it needs to
//!   resend it. A validator's mempool is not durable (it forgets on restart), so a submission
//!   counts as done only once `trestle_txProof` answers; the records are written in the same
//!   transaction that moves the source cursor past their block, so a crash either redoes the
//!   block (resubmitting, which the network answers with "duplicate") or finds them here;
//! - `discovery_cursor`: `"network"` → next trestle height the discovery loop reads (one
//!   cursor for every source namespace: they are read together, height by height);
//! - `proven_height`: destination chain name → highest trestle height this relayer proved there;
//! - `pending`: message hash → [`PendingMessage`] (ABI-encoded record);
//! - `delivered`: message hash → trestle height it was included at;
//! - `queued_at`: pending message hash → when it was queued (ms since the Unix epoch), for the
//!   age of the oldest pending message (a separate table: older stores' pending records keep
//!   their format);
//! - `failed`: message hash → [`FailedMessage`] (ABI-encoded record): messages a mailbox
//!   received with a failing recipient, stored there for `Mailbox.retry`, until a retry through
//!   this relayer succeeds.

use std::{path::Path, sync::Arc};

use alloy_primitives::{B256, Bytes};
use alloy_sol_types::{SolValue, sol};
use redb::{Database, ReadableDatabase as _, ReadableTable as _, TableDefinition};

const SOURCE_CURSOR: TableDefinition<'static, &str, u64> = TableDefinition::new("source_cursor");
const SOURCE_HEAD: TableDefinition<'static, &str, (u64, [u8; 32])> =
    TableDefinition::new("source_head");
const DISCOVERY_CURSOR: TableDefinition<'static, &str, u64> =
    TableDefinition::new("discovery_cursor");
/// The one key of `discovery_cursor`.
const NETWORK: &str = "network";
const PROVEN_HEIGHT: TableDefinition<'static, &str, u64> = TableDefinition::new("proven_height");
const PENDING: TableDefinition<'static, [u8; 32], &[u8]> = TableDefinition::new("pending");
const DELIVERED: TableDefinition<'static, [u8; 32], u64> = TableDefinition::new("delivered");
const UNFINALIZED: TableDefinition<'static, [u8; 32], &[u8]> = TableDefinition::new("unfinalized");
const QUEUED_AT: TableDefinition<'static, [u8; 32], u64> = TableDefinition::new("queued_at");
const FAILED: TableDefinition<'static, [u8; 32], &[u8]> = TableDefinition::new("failed");

sol! {
    /// On-disk form of a pending message (ABI, decoded strictly).
    struct PendingRecord {
        uint64 srcChainId;
        uint64 destChainId;
        uint64 namespace;
        bytes32 txHash;
        bool included;
        uint64 height;
        bytes message;
    }

    /// On-disk form of a failed message (ABI, decoded strictly).
    struct FailedRecord {
        uint64 destChainId;
        uint64 srcChainId;
        uint64 nonce;
        bytes message;
        bytes reason;
        bytes32 deliveryTx;
        uint64 atMs;
    }

    /// On-disk form of an unfinalized submission (ABI, decoded strictly).
    struct SubmissionRecord {
        string chain;
        uint64 namespace;
        bytes payload;
        bytes authorization;
        uint64 lastSentMs;
    }
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// redb reported an error (I/O, corruption, a locked file).
    #[error("store: {0}")]
    Database(#[from] redb::Error),
    /// A record does not decode: the file was written by something else.
    #[error("store: corrupt record {hash}: {reason}")]
    Corrupt {
        /// The record's key.
        hash: B256,
        /// What the decoder said.
        reason: String,
    },
}

fn db(error: impl Into<redb::Error>) -> StoreError {
    StoreError::Database(error.into())
}

/// A message the network finalized for one of this relayer's destinations, not yet received
/// there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingMessage {
    /// `keccak256(message)`, the mailbox's message hash.
    pub hash: B256,
    /// Source EVM chain id.
    pub src_chain_id: u64,
    /// Destination EVM chain id.
    pub dest_chain_id: u64,
    /// Trestle namespace it was posted in.
    pub namespace: u64,
    /// Hash of the trestle transaction carrying it.
    pub tx_hash: B256,
    /// Trestle height it was finalized at, once known.
    pub included_height: Option<u64>,
    /// `abi.encode(message)` (the transaction payload).
    pub message: Bytes,
}

impl PendingMessage {
    fn encode(&self) -> Vec<u8> {
        PendingRecord {
            srcChainId: self.src_chain_id,
            destChainId: self.dest_chain_id,
            namespace: self.namespace,
            txHash: self.tx_hash,
            included: self.included_height.is_some(),
            height: self.included_height.unwrap_or_default(),
            message: self.message.clone(),
        }
        .abi_encode()
    }

    fn decode(hash: B256, bytes: &[u8]) -> Result<Self, StoreError> {
        let record = PendingRecord::abi_decode_validate(bytes)
            .map_err(|e| StoreError::Corrupt { hash, reason: e.to_string() })?;
        Ok(Self {
            hash,
            src_chain_id: record.srcChainId,
            dest_chain_id: record.destChainId,
            namespace: record.namespace,
            tx_hash: record.txHash,
            included_height: record.included.then_some(record.height),
            message: record.message,
        })
    }
}

/// A message a mailbox received with a failing recipient: stored there as failed, for anyone
/// to `Mailbox.retry` (with exactly its gas limit) once the recipient can take it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedMessage {
    /// `keccak256(message)`.
    pub hash: B256,
    /// The destination chain, whose mailbox holds it as failed.
    pub dest_chain_id: u64,
    /// The source chain.
    pub src_chain_id: u64,
    /// Its nonce on its route.
    pub nonce: u64,
    /// `abi.encode(message)`.
    pub message: Bytes,
    /// What `MessageFailed` said: the recipient's revert data (at most 256 bytes), or the
    /// mailbox's own error.
    pub reason: Bytes,
    /// The destination transaction that received it.
    pub delivery_tx: B256,
    /// When it was received, in milliseconds since the Unix epoch.
    pub at_ms: u64,
}

impl FailedMessage {
    fn encode(&self) -> Vec<u8> {
        FailedRecord {
            destChainId: self.dest_chain_id,
            srcChainId: self.src_chain_id,
            nonce: self.nonce,
            message: self.message.clone(),
            reason: self.reason.clone(),
            deliveryTx: self.delivery_tx,
            atMs: self.at_ms,
        }
        .abi_encode()
    }

    fn decode(hash: B256, bytes: &[u8]) -> Result<Self, StoreError> {
        let record = FailedRecord::abi_decode_validate(bytes)
            .map_err(|e| StoreError::Corrupt { hash, reason: e.to_string() })?;
        Ok(Self {
            hash,
            dest_chain_id: record.destChainId,
            src_chain_id: record.srcChainId,
            nonce: record.nonce,
            message: record.message,
            reason: record.reason,
            delivery_tx: record.deliveryTx,
            at_ms: record.atMs,
        })
    }
}

/// A transaction the post loop submitted, signed, as it is resent until finalized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    /// The trestle transaction hash (`trestle_txProof` answers for it once finalized).
    pub tx_hash: B256,
    /// The source chain whose post loop submitted it (each loop resends its own).
    pub chain: String,
    /// Trestle namespace.
    pub namespace: u64,
    /// Transaction payload.
    pub payload: Bytes,
    /// The namespace owner's authorization (signature) of the transaction.
    pub authorization: Bytes,
    /// When it was last sent, in milliseconds since the Unix epoch (wall clock: it must mean
    /// the same after a restart).
    pub last_sent_ms: u64,
}

impl Submission {
    fn encode(&self) -> Vec<u8> {
        SubmissionRecord {
            chain: self.chain.clone(),
            namespace: self.namespace,
            payload: self.payload.clone(),
            authorization: self.authorization.clone(),
            lastSentMs: self.last_sent_ms,
        }
        .abi_encode()
    }

    fn decode(tx_hash: B256, bytes: &[u8]) -> Result<Self, StoreError> {
        let record = SubmissionRecord::abi_decode_validate(bytes)
            .map_err(|e| StoreError::Corrupt { hash: tx_hash, reason: e.to_string() })?;
        Ok(Self {
            tx_hash,
            chain: record.chain,
            namespace: record.namespace,
            payload: record.payload,
            authorization: record.authorization,
            last_sent_ms: record.lastSentMs,
        })
    }
}

/// The relayer's store (cheap to clone; all clones share the file).
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl Store {
    /// Opens (or creates) the store at `path`, with every table present.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| db(redb::StorageError::Io(e)))?;
        }
        let database = Database::create(path).map_err(db)?;
        let txn = database.begin_write().map_err(db)?;
        txn.open_table(SOURCE_CURSOR).map_err(db)?;
        txn.open_table(SOURCE_HEAD).map_err(db)?;
        txn.open_table(DISCOVERY_CURSOR).map_err(db)?;
        txn.open_table(PROVEN_HEIGHT).map_err(db)?;
        txn.open_table(PENDING).map_err(db)?;
        txn.open_table(DELIVERED).map_err(db)?;
        txn.open_table(UNFINALIZED).map_err(db)?;
        txn.open_table(QUEUED_AT).map_err(db)?;
        txn.open_table(FAILED).map_err(db)?;
        txn.commit().map_err(db)?;
        Ok(Self { db: Arc::new(database) })
    }

    /// The next block of `chain` to post, if the chain was ever posted from.
    pub fn source_cursor(&self, chain: &str) -> Result<Option<u64>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(SOURCE_CURSOR).map_err(db)?;
        Ok(table.get(chain).map_err(db)?.map(|v| v.value()))
    }

    /// The number and hash of the last block of `chain` posted, if any.
    pub fn source_head(&self, chain: &str) -> Result<Option<(u64, B256)>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(SOURCE_HEAD).map_err(db)?;
        Ok(table.get(chain).map_err(db)?.map(|v| {
            let (number, hash) = v.value();
            (number, B256::from(hash))
        }))
    }

    /// Records that block `number` (hash `hash`) of `chain` was posted: moves the cursor to
    /// `number + 1` and the head to this block, atomically. A cursor already past `number` stays
    /// where it is (and so does the head).
    pub fn record_source_block(
        &self,
        chain: &str,
        number: u64,
        hash: B256,
    ) -> Result<(), StoreError> {
        self.record_posted_block(chain, number, hash, &[])
    }

    /// [`Store::record_source_block`], and in the same transaction records `submissions` (the
    /// block's transactions, just submitted) as unfinalized, so that from the moment the cursor
    /// passes the block they are tracked until finalized. Nothing is recorded when the cursor
    /// is already past `number`: the block's submissions were recorded when it moved.
    pub fn record_posted_block(
        &self,
        chain: &str,
        number: u64,
        hash: B256,
        submissions: &[Submission],
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut cursors = txn.open_table(SOURCE_CURSOR).map_err(db)?;
            let current = cursors.get(chain).map_err(db)?.map(|v| v.value());
            let next = number.saturating_add(1);
            if current.is_none_or(|c| c < next) {
                cursors.insert(chain, next).map_err(db)?;
                let mut heads = txn.open_table(SOURCE_HEAD).map_err(db)?;
                heads.insert(chain, (number, hash.0)).map_err(db)?;
                let mut unfinalized = txn.open_table(UNFINALIZED).map_err(db)?;
                for submission in submissions {
                    unfinalized
                        .insert(submission.tx_hash.0, submission.encode().as_slice())
                        .map_err(db)?;
                }
            }
        }
        txn.commit().map_err(db)
    }

    /// Every unfinalized submission of `chain`, in hash order.
    pub fn unfinalized(&self, chain: &str) -> Result<Vec<Submission>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(UNFINALIZED).map_err(db)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(db)? {
            let (key, value) = entry.map_err(db)?;
            let submission = Submission::decode(B256::from(key.value()), value.value())?;
            if submission.chain == chain {
                out.push(submission);
            }
        }
        Ok(out)
    }

    /// The resend schedule: `chain`'s unfinalized submissions last sent at least `resend_ms`
    /// before `now_ms`, least recently sent first, at most `limit` of them (the work of one
    /// step), and how many unfinalized submissions `chain` has in all.
    pub fn due_submissions(
        &self,
        chain: &str,
        now_ms: u64,
        resend_ms: u64,
        limit: usize,
    ) -> Result<(Vec<Submission>, usize), StoreError> {
        let all = self.unfinalized(chain)?;
        let total = all.len();
        let mut due: Vec<Submission> = all
            .into_iter()
            .filter(|s| s.last_sent_ms.saturating_add(resend_ms) <= now_ms)
            .collect();
        due.sort_by_key(|s| (s.last_sent_ms, s.tx_hash));
        due.truncate(limit);
        Ok((due, total))
    }

    /// Records that the unfinalized submission `tx_hash` was sent again at `sent_ms` (no-op if
    /// it is no longer tracked).
    pub fn mark_resent(&self, tx_hash: B256, sent_ms: u64) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut table = txn.open_table(UNFINALIZED).map_err(db)?;
            let existing = match table.get(tx_hash.0).map_err(db)? {
                Some(value) => Some(Submission::decode(tx_hash, value.value())?),
                None => None,
            };
            if let Some(mut submission) = existing {
                submission.last_sent_ms = sent_ms;
                table.insert(tx_hash.0, submission.encode().as_slice()).map_err(db)?;
            }
        }
        txn.commit().map_err(db)
    }

    /// Stops tracking `tx_hash`: the network finalized it (idempotent). Returns whether it was
    /// tracked.
    pub fn mark_finalized(&self, tx_hash: B256) -> Result<bool, StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        let removed = {
            let mut table = txn.open_table(UNFINALIZED).map_err(db)?;
            table.remove(tx_hash.0).map_err(db)?.is_some()
        };
        txn.commit().map_err(db)?;
        Ok(removed)
    }

    /// The next trestle height the discovery loop reads, if it ever read one.
    pub fn discovery_cursor(&self) -> Result<Option<u64>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(DISCOVERY_CURSOR).map_err(db)?;
        Ok(table.get(NETWORK).map_err(db)?.map(|v| v.value()))
    }

    /// Records that the discovery loop read every height below `next_height`, finding
    /// `messages`: queues each message not already pending or delivered and moves the cursor to
    /// `next_height`, in one transaction. A cursor already at or past `next_height` stays where
    /// it is. Returns how many messages were newly queued.
    pub fn record_discovered(
        &self,
        next_height: u64,
        messages: &[PendingMessage],
    ) -> Result<usize, StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        let mut queued = 0;
        {
            let delivered = txn.open_table(DELIVERED).map_err(db)?;
            let mut pending = txn.open_table(PENDING).map_err(db)?;
            let mut queued_at = txn.open_table(QUEUED_AT).map_err(db)?;
            let now = crate::now_ms();
            for message in messages {
                let key = message.hash.0;
                if delivered.get(key).map_err(db)?.is_some()
                    || pending.get(key).map_err(db)?.is_some()
                {
                    continue;
                }
                pending.insert(key, message.encode().as_slice()).map_err(db)?;
                queued_at.insert(key, now).map_err(db)?;
                queued += 1;
            }
            let mut cursor = txn.open_table(DISCOVERY_CURSOR).map_err(db)?;
            let current = cursor.get(NETWORK).map_err(db)?.map(|v| v.value());
            if current.is_none_or(|c| c < next_height) {
                cursor.insert(NETWORK, next_height).map_err(db)?;
            }
        }
        txn.commit().map_err(db)?;
        Ok(queued)
    }

    /// The highest trestle height this relayer proved to `chain`'s light client.
    pub fn proven_height(&self, chain: &str) -> Result<Option<u64>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(PROVEN_HEIGHT).map_err(db)?;
        Ok(table.get(chain).map_err(db)?.map(|v| v.value()))
    }

    /// Raises `chain`'s proven height to `height` (never lowers it).
    pub fn set_proven_height(&self, chain: &str, height: u64) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut table = txn.open_table(PROVEN_HEIGHT).map_err(db)?;
            let current = table.get(chain).map_err(db)?.map(|v| v.value());
            if current.is_none_or(|c| c < height) {
                table.insert(chain, height).map_err(db)?;
            }
        }
        txn.commit().map_err(db)
    }

    /// Every pending message, in hash order.
    pub fn pending(&self) -> Result<Vec<PendingMessage>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(PENDING).map_err(db)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(db)? {
            let (key, value) = entry.map_err(db)?;
            out.push(PendingMessage::decode(B256::from(key.value()), value.value())?);
        }
        Ok(out)
    }

    /// The pending messages bound for `dest_chain_id`.
    pub fn pending_to(&self, dest_chain_id: u64) -> Result<Vec<PendingMessage>, StoreError> {
        Ok(self.pending()?.into_iter().filter(|m| m.dest_chain_id == dest_chain_id).collect())
    }

    /// Records the trestle height a pending message was finalized at (no-op if it is not
    /// pending any more).
    pub fn set_included_height(&self, hash: B256, height: u64) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut table = txn.open_table(PENDING).map_err(db)?;
            let existing = match table.get(hash.0).map_err(db)? {
                Some(value) => Some(PendingMessage::decode(hash, value.value())?),
                None => None,
            };
            if let Some(mut message) = existing
                && message.included_height != Some(height)
            {
                message.included_height = Some(height);
                table.insert(hash.0, message.encode().as_slice()).map_err(db)?;
            }
        }
        txn.commit().map_err(db)
    }

    /// Moves a message from pending to delivered (idempotent). Returns whether it was pending.
    pub fn mark_delivered(&self, hash: B256, height: u64) -> Result<bool, StoreError> {
        self.mark_received(hash, height, None)
    }

    /// Moves a message from pending to delivered, and, if its recipient failed (`failed`),
    /// records it as failed, in one transaction (idempotent). Returns whether it was pending.
    pub fn mark_received(
        &self,
        hash: B256,
        height: u64,
        failed: Option<&FailedMessage>,
    ) -> Result<bool, StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        let was_pending = {
            let mut pending = txn.open_table(PENDING).map_err(db)?;
            let removed = pending.remove(hash.0).map_err(db)?.is_some();
            txn.open_table(QUEUED_AT).map_err(db)?.remove(hash.0).map_err(db)?;
            let mut delivered = txn.open_table(DELIVERED).map_err(db)?;
            if delivered.get(hash.0).map_err(db)?.is_none() {
                delivered.insert(hash.0, height).map_err(db)?;
                if let Some(failed) = failed {
                    let mut table = txn.open_table(FAILED).map_err(db)?;
                    table.insert(hash.0, failed.encode().as_slice()).map_err(db)?;
                }
            }
            removed
        };
        txn.commit().map_err(db)?;
        Ok(was_pending)
    }

    /// When each pending message was queued (ms since the Unix epoch), by hash; messages
    /// queued by an older version have no time.
    pub fn queued_at(&self) -> Result<Vec<(B256, u64)>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(QUEUED_AT).map_err(db)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(db)? {
            let (key, value) = entry.map_err(db)?;
            out.push((B256::from(key.value()), value.value()));
        }
        Ok(out)
    }

    /// Every message received with a failing recipient and not since retried successfully
    /// through this relayer, in hash order.
    pub fn failed(&self) -> Result<Vec<FailedMessage>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(FAILED).map_err(db)?;
        let mut out = Vec::new();
        for entry in table.iter().map_err(db)? {
            let (key, value) = entry.map_err(db)?;
            out.push(FailedMessage::decode(B256::from(key.value()), value.value())?);
        }
        Ok(out)
    }

    /// The failed message `hash`, if it is on record.
    pub fn failed_message(&self, hash: B256) -> Result<Option<FailedMessage>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(FAILED).map_err(db)?;
        match table.get(hash.0).map_err(db)? {
            Some(value) => Ok(Some(FailedMessage::decode(hash, value.value())?)),
            None => Ok(None),
        }
    }

    /// Forgets the failed message `hash`: a retry delivered it (idempotent). Returns whether it
    /// was on record.
    pub fn clear_failed(&self, hash: B256) -> Result<bool, StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        let removed = txn.open_table(FAILED).map_err(db)?.remove(hash.0).map_err(db)?.is_some();
        txn.commit().map_err(db)?;
        Ok(removed)
    }

    /// Whether a message was delivered (by this relayer or, as it found out, another).
    pub fn is_delivered(&self, hash: B256) -> Result<bool, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(DELIVERED).map_err(db)?;
        Ok(table.get(hash.0).map_err(db)?.is_some())
    }

    /// Number of delivered messages on record.
    pub fn delivered_count(&self) -> Result<u64, StoreError> {
        use redb::ReadableTableMetadata as _;
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(DELIVERED).map_err(db)?;
        table.len().map_err(db)
    }
}
