//! Transactions this node hashed already, found again by their content.
//!
//! A validator hashes every transaction it admits (a submission or a peer's forward), and a
//! moment later the same transactions reach it again inside a block, which it must hash to
//! check `payloadRoot`. With payloads of megabytes, that second keccak pass was the largest
//! single cost of the data plane (issue 16's measurements: about 40% of a validator's CPU at
//! full blocks). [`KnownTransactions`] remembers `(namespace, payload) → hash` for the
//! transactions admitted recently, so the block decoder can take the hash from there.
//!
//! # Why this is sound
//!
//! A lookup is keyed by a fast non-cryptographic fingerprint of the payload, but an entry is
//! used only when its namespace and *every payload byte* equal the transaction's (a byte
//! comparison runs about 60 times faster than keccak here). A fingerprint collision, chance or
//! crafted, therefore costs a miss and a keccak, never a wrong hash. The fingerprint's seed is
//! drawn from the runtime's randomness, so nobody can aim collisions at one bucket in advance; buckets are also
//! capped at [`BUCKET_LIMIT`] entries.
//!
//! # Bounds
//!
//! At most `max_bytes` of payloads (the mempool's limit: the entries share the mempool's
//! payload buffers, so they add little memory while the transactions are pending) are
//! remembered; the oldest are forgotten first.

use std::{
    collections::{HashMap, VecDeque},
    hash::BuildHasher as _,
    sync::{Arc, Mutex, PoisonError},
};

use alloy_primitives::{B256, Bytes};
use trestle_light_client::{Namespace, Transaction};

/// Most entries kept under one fingerprint (distinct payloads with equal fingerprints).
pub const BUCKET_LIMIT: usize = 4;

/// The fingerprint bucket of a payload: its namespace and seeded 64-bit fingerprint.
type Key = (u64, u64);

#[derive(Debug)]
struct Entry {
    payload: Bytes,
    hash: B256,
}

#[derive(Debug)]
struct Inner {
    buckets: HashMap<Key, Vec<Entry>>,
    /// Insertion order, for eviction (the key and the entry's hash within its bucket).
    order: VecDeque<(Key, B256)>,
    bytes: usize,
    max_bytes: usize,
}

/// A shared, bounded memory of transaction hashes by content (see the module docs). Cloning
/// gives another handle to the same memory.
#[derive(Clone, Debug)]
pub struct KnownTransactions {
    /// Fixed at creation, so fingerprints are computed outside the lock.
    seed: foldhash::fast::FixedState,
    inner: Arc<Mutex<Inner>>,
}

impl KnownTransactions {
    /// An empty memory of at most `max_bytes` payload bytes, fingerprinting with `seed` (draw
    /// it from the runtime's randomness: a seed others know lets them aim collisions).
    pub fn new(max_bytes: usize, seed: u64) -> Self {
        Self {
            seed: foldhash::fast::FixedState::with_seed(seed),
            inner: Arc::new(Mutex::new(Inner {
                buckets: HashMap::new(),
                order: VecDeque::new(),
                bytes: 0,
                max_bytes,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Every critical section leaves `Inner` consistent, so a panic elsewhere cannot have
        // left it half-updated.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers that `transaction` hashes to `hash` (the caller computed it with
    /// [`Transaction::hash`]).
    pub fn remember(&self, transaction: &Transaction, hash: B256) {
        let key = self.key(transaction.namespace, &transaction.payload);
        let mut inner = self.lock();
        let len = transaction.payload.len();
        if len > inner.max_bytes {
            return;
        }
        let bucket = inner.buckets.entry(key).or_default();
        if bucket.len() >= BUCKET_LIMIT || bucket.iter().any(|e| e.hash == hash) {
            return;
        }
        bucket.push(Entry { payload: transaction.payload.clone(), hash });
        inner.order.push_back((key, hash));
        inner.bytes += len;
        while inner.bytes > inner.max_bytes {
            let Some((key, hash)) = inner.order.pop_front() else { break };
            inner.forget(key, hash);
        }
    }

    /// `transaction.hash()`, from memory when this node hashed the same transaction before.
    pub fn hash(&self, transaction: &Transaction) -> B256 {
        if let Some(hash) = self.recall(transaction) {
            return hash;
        }
        transaction.hash()
    }

    /// The remembered hash of `transaction`, if any.
    pub fn recall(&self, transaction: &Transaction) -> Option<B256> {
        let key = self.key(transaction.namespace, &transaction.payload);
        let inner = self.lock();
        inner
            .buckets
            .get(&key)?
            .iter()
            .find(|entry| entry.payload == transaction.payload)
            .map(|entry| entry.hash)
    }

    fn key(&self, namespace: Namespace, payload: &[u8]) -> Key {
        (namespace.get(), self.seed.hash_one(payload))
    }

    /// Payload bytes remembered.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

impl Inner {
    fn forget(&mut self, key: Key, hash: B256) {
        let Some(bucket) = self.buckets.get_mut(&key) else { return };
        if let Some(position) = bucket.iter().position(|e| e.hash == hash) {
            let entry = bucket.swap_remove(position);
            self.bytes -= entry.payload.len();
        }
        if bucket.is_empty() {
            self.buckets.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(namespace: u64, payload: &[u8]) -> Transaction {
        Transaction::new(Namespace(namespace), payload.to_vec())
    }

    #[test]
    fn a_remembered_transaction_is_recalled_only_by_equal_content() {
        let known = KnownTransactions::new(1 << 20, 7);
        let a = tx(1, b"payload a");
        known.remember(&a, a.hash());
        assert_eq!(known.recall(&a), Some(a.hash()));
        assert_eq!(known.recall(&tx(2, b"payload a")), None, "another namespace");
        assert_eq!(known.recall(&tx(1, b"payload b")), None, "other bytes");
        assert_eq!(known.hash(&tx(1, b"payload b")), tx(1, b"payload b").hash());
    }

    #[test]
    fn a_wrong_hash_in_a_colliding_bucket_is_never_returned_for_other_bytes() {
        // Entries under one key are told apart by their bytes: plant an entry with a made-up
        // hash under the key of another payload, as a fingerprint collision would.
        let known = KnownTransactions::new(1 << 20, 7);
        let honest = tx(1, b"honest");
        let key = known.key(honest.namespace, &honest.payload);
        known
            .lock()
            .buckets
            .entry(key)
            .or_default()
            .push(Entry { payload: Bytes::from_static(b"other"), hash: B256::repeat_byte(9) });
        assert_eq!(known.recall(&honest), None);
        assert_eq!(known.hash(&honest), honest.hash());
    }

    #[test]
    fn the_oldest_are_forgotten_beyond_the_byte_bound() {
        let known = KnownTransactions::new(10, 7);
        let (a, b, c) = (tx(1, b"aaaa"), tx(1, b"bbbb"), tx(1, b"cccc"));
        for t in [&a, &b, &c] {
            known.remember(t, t.hash());
        }
        assert_eq!(known.bytes(), 8);
        assert_eq!(known.recall(&a), None);
        assert_eq!(known.recall(&b), Some(b.hash()));
        assert_eq!(known.recall(&c), Some(c.hash()));
        // Remembering twice does not count twice.
        known.remember(&c, c.hash());
        assert_eq!(known.bytes(), 8);
        // A payload over the bound is not kept.
        known.remember(&tx(1, &[0u8; 11]), B256::ZERO);
        assert_eq!(known.bytes(), 8);
    }
}
