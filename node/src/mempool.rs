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
use trestle_light_client::{Namespace, Transaction, abi::CodecError};

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
) -> Result<(), SubmitError> {
    let namespace = tx.transaction.namespace;
    match (owners.get(&namespace), &tx.authorization) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(SubmitError::UnexpectedAuthorization(namespace.get())),
        (Some(_), None) => Err(SubmitError::MissingAuthorization(namespace.get())),
        (Some(owner), Some(signature)) => {
            if is_authorized(owner, &tx.transaction.hash(), signature) {
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
        }
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
        let len = tx.transaction.payload.len();
        if len > self.config.max_payload {
            return Err(SubmitError::Oversized { len, limit: self.config.max_payload });
        }
        let hash = tx.transaction.hash();
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
        check_authorization(&self.owners, &tx)?;
        self.bytes += len;
        self.pending.insert(hash, tx);
        self.order.push_back(hash);
        Ok(hash)
    }

    /// Oldest-first transactions for a block: at most `max_transactions` and `max_bytes` payload
    /// bytes, skipping any hash for which `exclude` holds (already in the chain).
    pub fn select(
        &self,
        max_transactions: usize,
        max_bytes: usize,
        exclude: impl Fn(&B256) -> bool,
    ) -> Vec<BlockTransaction> {
        let mut selected = Vec::new();
        let mut bytes = 0usize;
        for hash in &self.order {
            if selected.len() >= max_transactions {
                break;
            }
            let Some(tx) = self.pending.get(hash) else { continue };
            if exclude(hash) {
                continue;
            }
            let len = tx.transaction.payload.len();
            if bytes.saturating_add(len) > max_bytes {
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
            if let Some(tx) = self.pending.remove(hash) {
                self.bytes -= tx.transaction.payload.len();
            }
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
        let all = pool.select(10, 100, |_| false);
        assert_eq!(all.iter().map(|t| t.transaction.hash()).collect::<Vec<_>>(), vec![a, b]);
        let skip_a = pool.select(10, 100, |h| *h == a);
        assert_eq!(skip_a.len(), 1);
        assert_eq!(pool.select(1, 100, |_| false).len(), 1);
        assert_eq!(pool.select(10, 1, |_| false).len(), 1);
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
}
