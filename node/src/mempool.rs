//! A bounded, deduplicating pool of pending transactions.
//!
//! Admission checks everything a validator will check again when verifying a block that carries
//! the transaction (payload size, owner authorization), so a transaction that got in is one an
//! honest proposer can include. Transactions leave when a block containing them is finalized;
//! recently finalized hashes are remembered (bounded) so a resubmission is refused instead of
//! being included twice.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use alloy_primitives::B256;
use commonware_cryptography::ed25519;
use trestle_api::authorization::is_authorized;
use trestle_light_client::{Namespace, Transaction, abi::CodecError, records::RecordError};

use crate::block::BlockTransaction;

/// Why a submission was refused. Nothing is added to the pool when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The bytes are not a canonical `abi.encode(Transaction)`.
    #[error("malformed transaction: {0}")]
    Malformed(CodecError),
    /// The payload is larger than the network's per-transaction limit.
    #[error("payload of {len} bytes exceeds the limit of {limit}")]
    Oversized {
        /// Payload length submitted.
        len: usize,
        /// Largest payload accepted.
        limit: usize,
    },
    /// The namespace is owned and the submission carries no authorization.
    #[error("namespace {0} is owned: an authorization from its owner is required")]
    MissingAuthorization(u64),
    /// The authorization is not the namespace owner's signature over the transaction hash.
    #[error("authorization for namespace {0} is not a valid signature by its owner")]
    InvalidAuthorization(u64),
    /// The namespace is not owned, so an authorization is meaningless (and would change the
    /// block digest); submit without one.
    #[error("namespace {0} is not owned: submit without an authorization")]
    UnexpectedAuthorization(u64),
    /// The same transaction is already pending.
    #[error("transaction {0} is already pending")]
    Duplicate(B256),
    /// The same transaction was recently finalized.
    #[error("transaction {0} is already finalized")]
    AlreadyFinalized(B256),
    /// The pool holds its maximum number of transactions or bytes; retry later.
    #[error("mempool is full ({transactions} transactions, {bytes} bytes)")]
    Full {
        /// Transactions pending.
        transactions: usize,
        /// Payload bytes pending.
        bytes: usize,
    },
    /// The node is shutting down or overloaded and did not accept the request.
    #[error("node is not accepting submissions")]
    Unavailable,
    /// Admitted here, but fewer peers than required said they hold it within the replica
    /// timeout (see [`gossip`](crate::gossip)): it may still be finalized, but a crash of this
    /// validator could lose it. Resubmit (here or elsewhere) until it is held or finalized.
    #[error("transaction {hash} is held by {holders} of the {needed} peers required; resubmit")]
    NotReplicated {
        /// The transaction.
        hash: B256,
        /// Peers that said they hold it.
        holders: usize,
        /// Peers required.
        needed: usize,
    },
    /// A block record that can never extend its namespace's confirmed records (not a record,
    /// another rollup's, or the next number with the wrong parent).
    #[error("namespace {namespace}: {reason}")]
    Record {
        /// The block namespace.
        namespace: u64,
        /// Why the record is refused.
        reason: RecordError,
    },
    /// Another record of the same block number is confirmed or pending: the owner signed two
    /// records for one block. The node keeps both as evidence (`trestle_recordEquivocations`).
    #[error("namespace {namespace}: block {number} already has record {existing} (equivocation)")]
    ConflictingRecord {
        /// The block namespace.
        namespace: u64,
        /// The block number.
        number: u64,
        /// Transaction hash of the record confirmed or pending for that number.
        existing: B256,
    },
}

/// Mempool limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MempoolConfig {
    /// Most pending transactions.
    pub max_transactions: usize,
    /// Most pending payload bytes.
    pub max_bytes: usize,
    /// Largest payload of one transaction.
    pub max_payload: usize,
    /// How many finalized transaction hashes to remember for duplicate rejection.
    pub finalized_memory: usize,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self {
            max_transactions: 10_000,
            max_bytes: 64 << 20,
            max_payload: trestle_light_client::transaction::DEFAULT_MAX_PAYLOAD,
            finalized_memory: 100_000,
        }
    }
}

/// Checks a transaction's authorization against the namespace owners: owned namespaces need the
/// owner's signature over the transaction hash, unowned ones must carry none.
pub fn check_authorization(
    owners: &BTreeMap<Namespace, ed25519::PublicKey>,
    tx: &BlockTransaction,
    hash: &B256,
) -> Result<(), SubmitError> {
    let namespace = tx.transaction.namespace;
    match (owners.get(&namespace), &tx.authorization) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(SubmitError::UnexpectedAuthorization(namespace.get())),
        (Some(_), None) => Err(SubmitError::MissingAuthorization(namespace.get())),
        (Some(owner), Some(signature)) => {
            if is_authorized(owner, hash, signature) {
                Ok(())
            } else {
                Err(SubmitError::InvalidAuthorization(namespace.get()))
            }
        }
    }
}

/// The pool.
#[derive(Debug)]
pub struct Mempool {
    config: MempoolConfig,
    owners: BTreeMap<Namespace, ed25519::PublicKey>,
    pending: HashMap<B256, BlockTransaction>,
    /// Arrival order; may hold hashes already removed from `pending` (skipped lazily).
    order: VecDeque<B256>,
    bytes: usize,
    finalized: HashSet<B256>,
    finalized_order: VecDeque<B256>,
    /// Pending block records by (namespace, number): one per number.
    records: BTreeMap<(Namespace, u64), B256>,
    /// The same, by transaction hash.
    record_slots: HashMap<B256, (Namespace, u64)>,
}

impl Mempool {
    /// An empty pool.
    pub fn new(config: MempoolConfig, owners: BTreeMap<Namespace, ed25519::PublicKey>) -> Self {
        Self {
            config,
            owners,
            pending: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            finalized: HashSet::new(),
            finalized_order: VecDeque::new(),
            records: BTreeMap::new(),
            record_slots: HashMap::new(),
        }
    }

    /// A pending transaction.
    pub fn get(&self, hash: &B256) -> Option<&BlockTransaction> {
        self.pending.get(hash)
    }

    /// The pending record of block `number` in block namespace `namespace`.
    pub fn pending_record(&self, namespace: Namespace, number: u64) -> Option<&BlockTransaction> {
        self.records.get(&(namespace, number)).and_then(|hash| self.pending.get(hash))
    }

    /// Admits the record of block `number` (decoded and checked by the caller against the
    /// confirmed records); refused with [`SubmitError::ConflictingRecord`] if another record of
    /// that number is pending.
    pub fn submit_record(
        &mut self,
        tx: BlockTransaction,
        hash: B256,
        number: u64,
    ) -> Result<B256, SubmitError> {
        let namespace = tx.transaction.namespace;
        if let Some(existing) = self.records.get(&(namespace, number))
            && *existing != hash
        {
            return Err(SubmitError::ConflictingRecord {
                namespace: namespace.get(),
                number,
                existing: *existing,
            });
        }
        self.submit_hashed(tx, hash)?;
        self.records.insert((namespace, number), hash);
        self.record_slots.insert(hash, (namespace, number));
        Ok(hash)
    }

    /// Removes and returns the pending records of `namespace` numbered up to `number` (the
    /// namespace's confirmed tip moved there: none of them can be included any more).
    pub fn take_records_through(
        &mut self,
        namespace: Namespace,
        number: u64,
    ) -> Vec<(u64, BlockTransaction)> {
        let stale: Vec<(u64, B256)> = self
            .records
            .range((namespace, 0)..=(namespace, number))
            .map(|(&(_, n), &hash)| (n, hash))
            .collect();
        stale.into_iter().filter_map(|(n, hash)| self.remove(&hash).map(|tx| (n, tx))).collect()
    }

    /// Removes a pending transaction (and its record slot).
    pub fn remove(&mut self, hash: &B256) -> Option<BlockTransaction> {
        let tx = self.pending.remove(hash)?;
        self.bytes -= tx.transaction.payload.len();
        if let Some(slot) = self.record_slots.remove(hash) {
            self.records.remove(&slot);
        }
        Some(tx)
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Pending payload bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether `hash` is pending.
    pub fn contains(&self, hash: &B256) -> bool {
        self.pending.contains_key(hash)
    }

    /// Decodes `abi.encode(Transaction)` bytes and submits them.
    pub fn submit_encoded(
        &mut self,
        bytes: &[u8],
        authorization: Option<ed25519::Signature>,
    ) -> Result<B256, SubmitError> {
        let transaction =
            Transaction::decode(bytes, self.config.max_payload).map_err(|e| match e {
                CodecError::TooLarge { len, limit, .. } => SubmitError::Oversized { len, limit },
                other => SubmitError::Malformed(other),
            })?;
        self.submit(BlockTransaction { transaction, authorization })
    }

    /// Admits a transaction; returns its hash.
    pub fn submit(&mut self, tx: BlockTransaction) -> Result<B256, SubmitError> {
        let hash = tx.transaction.hash();
        self.submit_hashed(tx, hash)
    }

    /// [`submit`](Self::submit) for a caller that hashed the transaction already (`hash` must
    /// be `tx.transaction.hash()`).
    pub fn submit_hashed(&mut self, tx: BlockTransaction, hash: B256) -> Result<B256, SubmitError> {
        let len = tx.transaction.payload.len();
        if len > self.config.max_payload {
            return Err(SubmitError::Oversized { len, limit: self.config.max_payload });
        }
        if self.pending.contains_key(&hash) {
            return Err(SubmitError::Duplicate(hash));
        }
        if self.finalized.contains(&hash) {
            return Err(SubmitError::AlreadyFinalized(hash));
        }
        if self.pending.len() >= self.config.max_transactions
            || self.bytes.saturating_add(len) > self.config.max_bytes
        {
            return Err(SubmitError::Full { transactions: self.pending.len(), bytes: self.bytes });
        }
        check_authorization(&self.owners, &tx, &hash)?;
        self.bytes += len;
        self.pending.insert(hash, tx);
        self.order.push_back(hash);
        Ok(hash)
    }

    /// Oldest-first transactions for a block: at most `max_transactions` and `max_bytes` payload
    /// bytes, each one `admit` accepts (asked last, so a stateful `admit` sees exactly the
    /// transactions selected after it said yes, in order).
    pub fn select(
        &self,
        max_transactions: usize,
        max_bytes: usize,
        mut admit: impl FnMut(&B256, &BlockTransaction) -> bool,
    ) -> Vec<BlockTransaction> {
        let mut selected = Vec::new();
        let mut bytes = 0usize;
        for hash in &self.order {
            if selected.len() >= max_transactions {
                break;
            }
            let Some(tx) = self.pending.get(hash) else { continue };
            let len = tx.transaction.payload.len();
            if bytes.saturating_add(len) > max_bytes || !admit(hash, tx) {
                continue;
            }
            bytes += len;
            selected.push(tx.clone());
        }
        selected
    }

    /// Removes transactions finalized in a block and remembers their hashes.
    pub fn finalized<'a>(&mut self, hashes: impl IntoIterator<Item = &'a B256>) {
        for hash in hashes {
            self.remove(hash);
            if self.config.finalized_memory > 0 && self.finalized.insert(*hash) {
                self.finalized_order.push_back(*hash);
                if self.finalized_order.len() > self.config.finalized_memory
                    && let Some(old) = self.finalized_order.pop_front()
                {
                    self.finalized.remove(&old);
                }
            }
        }
        // Drop stale order entries once they dominate.
        if self.order.len() > 2 * self.pending.len() + 64 {
            let pending = &self.pending;
            self.order.retain(|h| pending.contains_key(h));
        }
    }
}

#[cfg(test)]
mod tests {
    use commonware_cryptography::Signer as _;
    use trestle_api::authorization::authorize;

    use super::*;

    fn tx(ns: u64, payload: &[u8]) -> BlockTransaction {
        BlockTransaction::unowned(Transaction::new(Namespace(ns), payload.to_vec()))
    }

    fn pool(config: MempoolConfig) -> (Mempool, ed25519::PrivateKey) {
        let owner = ed25519::PrivateKey::from_seed(3);
        let owners = BTreeMap::from([(Namespace(100), owner.public_key())]);
        (Mempool::new(config, owners), owner)
    }

    #[test]
    fn admits_dedups_and_selects_in_order() {
        let (mut pool, _) = pool(MempoolConfig::default());
        let a = pool.submit(tx(1, b"a")).expect("a");
        let b = pool.submit(tx(2, b"bb")).expect("b");
        assert_eq!(pool.submit(tx(1, b"a")), Err(SubmitError::Duplicate(a)));
        assert_eq!(pool.len(), 2);
        assert_eq!(pool.bytes(), 3);
        let all = pool.select(10, 100, |_, _| true);
        assert_eq!(all.iter().map(|t| t.transaction.hash()).collect::<Vec<_>>(), vec![a, b]);
        let skip_a = pool.select(10, 100, |h, _| *h != a);
        assert_eq!(skip_a.len(), 1);
        assert_eq!(pool.select(1, 100, |_, _| true).len(), 1);
        assert_eq!(pool.select(10, 1, |_, _| true).len(), 1);
        pool.finalized([&a]);
        assert_eq!(pool.len(), 1);
        assert_eq!(pool.submit(tx(1, b"a")), Err(SubmitError::AlreadyFinalized(a)));
    }

    #[test]
    fn typed_rejections() {
        let config = MempoolConfig {
            max_transactions: 2,
            max_bytes: 10,
            max_payload: 4,
            finalized_memory: 1,
        };
        let (mut pool, owner) = pool(config);
        assert_eq!(pool.submit(tx(1, b"12345")), Err(SubmitError::Oversized { len: 5, limit: 4 }));
        assert!(matches!(pool.submit_encoded(b"junk", None), Err(SubmitError::Malformed(_))));
        let big = Transaction::new(Namespace(1), vec![0u8; 5]).encode();
        assert_eq!(
            pool.submit_encoded(&big, None),
            Err(SubmitError::Oversized { len: 5, limit: 4 })
        );
        assert_eq!(pool.submit(tx(100, b"x")), Err(SubmitError::MissingAuthorization(100)));
        let owned = Transaction::new(Namespace(100), b"x".to_vec());
        let wrong = authorize(&ed25519::PrivateKey::from_seed(4), &owned);
        assert_eq!(
            pool.submit(BlockTransaction {
                transaction: owned.clone(),
                authorization: Some(wrong)
            }),
            Err(SubmitError::InvalidAuthorization(100))
        );
        let good = authorize(&owner, &owned);
        assert_eq!(
            pool.submit(BlockTransaction {
                transaction: Transaction::new(Namespace(1), b"y".to_vec()),
                authorization: Some(good.clone()),
            }),
            Err(SubmitError::UnexpectedAuthorization(1))
        );
        pool.submit(BlockTransaction { transaction: owned, authorization: Some(good) })
            .expect("owned");
        pool.submit_encoded(&Transaction::new(Namespace(1), b"z".to_vec()).encode(), None)
            .expect("encoded");
        assert!(matches!(pool.submit(tx(1, b"w")), Err(SubmitError::Full { .. })));
        assert_eq!(pool.len(), 2);
    }

    #[test]
    fn one_pending_record_per_number_and_stale_ones_leave() {
        let (mut pool, owner) = pool(MempoolConfig::default());
        let record = |payload: &[u8]| {
            let transaction = Transaction::new(Namespace(100), payload.to_vec());
            let authorization = Some(authorize(&owner, &transaction));
            BlockTransaction { transaction, authorization }
        };
        let submit_record = |pool: &mut Mempool, tx: BlockTransaction, number| {
            let hash = tx.transaction.hash();
            pool.submit_record(tx, hash, number)
        };
        let five = submit_record(&mut pool, record(b"5a"), 5).expect("admitted");
        assert_eq!(submit_record(&mut pool, record(b"5a"), 5), Err(SubmitError::Duplicate(five)));
        assert_eq!(
            submit_record(&mut pool, record(b"5b"), 5),
            Err(SubmitError::ConflictingRecord { namespace: 100, number: 5, existing: five })
        );
        let six = submit_record(&mut pool, record(b"6"), 6).expect("admitted");
        let nine = submit_record(&mut pool, record(b"9"), 9).expect("admitted");
        assert_eq!(pool.pending_record(Namespace(100), 6).map(|t| t.transaction.hash()), Some(six));
        // The confirmed tip moved to 6: 5 and 6 leave, 9 stays.
        let stale: Vec<u64> =
            pool.take_records_through(Namespace(100), 6).into_iter().map(|(n, _)| n).collect();
        assert_eq!(stale, vec![5, 6]);
        assert_eq!(pool.len(), 1);
        assert!(pool.contains(&nine));
        // A slot freed by finalization takes another record.
        submit_record(&mut pool, record(b"5b"), 5).expect("slot free");
        pool.finalized([&nine]);
        assert_eq!(pool.pending_record(Namespace(100), 9), None);
        assert_eq!(pool.bytes(), 2);
    }
}
