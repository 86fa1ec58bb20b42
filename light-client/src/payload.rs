//! Payload commitment: a block's transactions grouped by namespace (DESIGN §4).
//!
//! Namespaces appear in ascending order. For each, `txRoot` is the [`merkle`](crate::merkle) tree
//! over its transaction hashes in block order and its leaf digest is
//! `keccak256(abi.encode(NamespaceLeaf{namespace, txCount, txRoot}))`; `payloadRoot` is the tree
//! over those digests. Proofs:
//!
//! * [`NamespaceProof`]: a namespace's leaf and its path to `payloadRoot`. With the namespace's
//!   full transaction list it also proves *completeness* (no transaction left out).
//! * [`TransactionProof`]: a transaction's path to `txRoot` plus the namespace proof.
//! * [`NamespaceAbsenceProof`]: the neighbouring leaves that leave no room for a namespace
//!   (leaves are strictly ascending, which every validator checks by rebuilding the root).

use std::collections::BTreeMap;

use alloy_primitives::{B256, keccak256};
use alloy_sol_types::SolValue;

use crate::{
    abi::{NamespaceAbsenceProof, NamespaceLeaf, NamespaceProof, TransactionProof},
    merkle::{MerkleError, MerkleTree, committed_root},
    primitives::Namespace,
    transaction::Transaction,
};

/// Why a payload proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The namespace leaf is not in the payload tree.
    #[error("namespace leaf not in payload: {0}")]
    NamespacePath(MerkleError),
    /// The transaction is not in the namespace's transaction tree.
    #[error("transaction not in namespace: {0}")]
    TransactionPath(MerkleError),
    /// The proof is for another namespace than the transaction's or the one asked about.
    #[error("proof is for namespace {proof}, expected {expected}")]
    WrongNamespace {
        /// Namespace the proof covers.
        proof: u64,
        /// Namespace that was expected.
        expected: u64,
    },
    /// The transaction path's leaf count disagrees with the namespace leaf's `txCount`.
    #[error("transaction proof counts {proof} leaves, namespace leaf says {leaf}")]
    CountMismatch {
        /// Leaf count in the transaction proof.
        proof: u64,
        /// `txCount` in the namespace leaf.
        leaf: u64,
    },
    /// The transactions given do not rebuild the namespace leaf's `txRoot` and count.
    #[error("transactions do not match the namespace leaf")]
    Incomplete,
    /// An absence proof was asked for a namespace that is present.
    #[error("namespace {0} is present in the payload")]
    NamespacePresent(u64),
    /// The absence proof's neighbours do not leave the namespace out.
    #[error("absence proof does not exclude namespace {0}")]
    NotExcluded(u64),
}

/// Digest of a namespace leaf: `keccak256(abi.encode(leaf))`.
pub fn namespace_leaf_digest(leaf: &NamespaceLeaf) -> B256 {
    keccak256(leaf.abi_encode())
}

/// One namespace's part of a block.
#[derive(Clone, Debug)]
struct NamespaceEntry {
    leaf: NamespaceLeaf,
    tx_hashes: Vec<B256>,
    tree: MerkleTree,
}

/// The payload commitment of one block, with everything needed to produce proofs.
#[derive(Clone, Debug)]
pub struct PayloadTree {
    entries: Vec<NamespaceEntry>,
    tree: MerkleTree,
}

impl PayloadTree {
    /// Commits to `transactions` in block order.
    pub fn new<'a>(transactions: impl IntoIterator<Item = &'a Transaction>) -> Self {
        Self::from_hashes(transactions.into_iter().map(|tx| (tx.namespace, tx.hash())))
    }

    /// Commits to transactions given as `(namespace, hash)` in block order.
    pub fn from_hashes(transactions: impl IntoIterator<Item = (Namespace, B256)>) -> Self {
        let mut grouped: BTreeMap<Namespace, Vec<B256>> = BTreeMap::new();
        for (namespace, hash) in transactions {
            grouped.entry(namespace).or_default().push(hash);
        }
        let entries: Vec<NamespaceEntry> = grouped
            .into_iter()
            .map(|(namespace, tx_hashes)| {
                let tree = MerkleTree::from_digests(&tx_hashes);
                let leaf = NamespaceLeaf {
                    namespace: namespace.get(),
                    txCount: tree.len(),
                    txRoot: tree.root(),
                };
                NamespaceEntry { leaf, tx_hashes, tree }
            })
            .collect();
        let digests: Vec<B256> = entries.iter().map(|e| namespace_leaf_digest(&e.leaf)).collect();
        Self { tree: MerkleTree::from_digests(&digests), entries }
    }

    /// `payloadRoot`.
    pub fn root(&self) -> B256 {
        self.tree.root()
    }

    /// Namespaces present, ascending.
    pub fn namespaces(&self) -> impl Iterator<Item = Namespace> + '_ {
        self.entries.iter().map(|e| Namespace(e.leaf.namespace))
    }

    fn position(&self, namespace: Namespace) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&namespace.get(), |e| e.leaf.namespace)
    }

    fn entry_proof(&self, position: usize) -> Option<NamespaceProof> {
        let entry = self.entries.get(position)?;
        Some(NamespaceProof { leaf: entry.leaf.clone(), proof: self.tree.prove(position as u64)? })
    }

    /// Proof of `namespace`'s leaf, or `None` if the block has no transaction in it.
    pub fn namespace_proof(&self, namespace: Namespace) -> Option<NamespaceProof> {
        self.entry_proof(self.position(namespace).ok()?)
    }

    /// Proof of the `index`-th transaction of `namespace` (block order within the namespace).
    pub fn transaction_proof(&self, namespace: Namespace, index: u64) -> Option<TransactionProof> {
        let position = self.position(namespace).ok()?;
        Some(TransactionProof {
            txProof: self.entries[position].tree.prove(index)?,
            namespaceProof: self.entry_proof(position)?,
        })
    }

    /// Proof of the first transaction with `hash` in the block.
    pub fn transaction_proof_by_hash(&self, hash: &B256) -> Option<TransactionProof> {
        self.entries.iter().enumerate().find_map(|(position, entry)| {
            let index = entry.tx_hashes.iter().position(|h| h == hash)?;
            Some(TransactionProof {
                txProof: entry.tree.prove(index as u64)?,
                namespaceProof: self.entry_proof(position)?,
            })
        })
    }

    /// Proof that `namespace` has no transaction in this block, or `None` if it has.
    pub fn absence_proof(&self, namespace: Namespace) -> Option<NamespaceAbsenceProof> {
        let insert_at = self.position(namespace).err()?;
        let neighbours = [insert_at.checked_sub(1), Some(insert_at)]
            .into_iter()
            .flatten()
            .filter_map(|position| self.entry_proof(position))
            .collect();
        Some(NamespaceAbsenceProof { leafCount: self.tree.len(), neighbours })
    }
}

impl NamespaceProof {
    /// Checks that the leaf is in the payload tree with `payload_root`.
    pub fn verify(&self, payload_root: &B256) -> Result<(), PayloadError> {
        self.proof
            .verify(&namespace_leaf_digest(&self.leaf), payload_root)
            .map_err(PayloadError::NamespacePath)
    }

    /// Checks that `transactions` (in block order) are *all* of the namespace's transactions
    /// in the block with `payload_root`.
    pub fn verify_complete(
        &self,
        transactions: &[Transaction],
        payload_root: &B256,
    ) -> Result<(), PayloadError> {
        self.verify(payload_root)?;
        for tx in transactions {
            if tx.namespace.get() != self.leaf.namespace {
                return Err(PayloadError::WrongNamespace {
                    proof: self.leaf.namespace,
                    expected: tx.namespace.get(),
                });
            }
        }
        let hashes: Vec<B256> = transactions.iter().map(Transaction::hash).collect();
        let tree = MerkleTree::from_digests(&hashes);
        if tree.len() != self.leaf.txCount || tree.root() != self.leaf.txRoot {
            return Err(PayloadError::Incomplete);
        }
        Ok(())
    }
}

impl TransactionProof {
    /// Checks that a transaction with `tx_hash` in `namespace` is in the block with
    /// `payload_root`.
    pub fn verify_hash(
        &self,
        namespace: Namespace,
        tx_hash: &B256,
        payload_root: &B256,
    ) -> Result<(), PayloadError> {
        let leaf = &self.namespaceProof.leaf;
        if leaf.namespace != namespace.get() {
            return Err(PayloadError::WrongNamespace {
                proof: leaf.namespace,
                expected: namespace.get(),
            });
        }
        if self.txProof.count != leaf.txCount {
            return Err(PayloadError::CountMismatch {
                proof: self.txProof.count,
                leaf: leaf.txCount,
            });
        }
        self.txProof.verify(tx_hash, &leaf.txRoot).map_err(PayloadError::TransactionPath)?;
        self.namespaceProof.verify(payload_root)
    }

    /// Checks that `tx` is in the block with `payload_root`.
    pub fn verify(&self, tx: &Transaction, payload_root: &B256) -> Result<(), PayloadError> {
        self.verify_hash(tx.namespace, &tx.hash(), payload_root)
    }
}

impl NamespaceAbsenceProof {
    /// Checks that the block with `payload_root` has no transaction in `namespace`.
    pub fn verify(&self, namespace: Namespace, payload_root: &B256) -> Result<(), PayloadError> {
        let ns = namespace.get();
        let not_excluded = || PayloadError::NotExcluded(ns);
        for neighbour in &self.neighbours {
            if neighbour.proof.count != self.leafCount {
                return Err(not_excluded());
            }
            if neighbour.leaf.namespace == ns {
                return Err(PayloadError::NamespacePresent(ns));
            }
            neighbour.verify(payload_root)?;
        }
        let last = self.leafCount.checked_sub(1);
        let excluded = match self.neighbours.as_slice() {
            // Only the empty payload has no neighbours.
            [] => self.leafCount == 0 && committed_root(0, &B256::ZERO) == *payload_root,
            // Below the first leaf, or above the last.
            [only] => {
                (only.proof.index == 0 && ns < only.leaf.namespace)
                    || (Some(only.proof.index) == last && only.leaf.namespace < ns)
            }
            // Between two adjacent leaves.
            [left, right] => {
                left.proof.index.checked_add(1) == Some(right.proof.index)
                    && left.leaf.namespace < ns
                    && ns < right.leaf.namespace
            }
            _ => false,
        };
        if excluded { Ok(()) } else { Err(not_excluded()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block() -> Vec<Transaction> {
        let mut txs = Vec::new();
        for i in 0u8..12 {
            let ns = Namespace([30u64, 10, 20][usize::from(i % 3)]);
            txs.push(Transaction::new(ns, vec![i; usize::from(i)]));
        }
        txs
    }

    #[test]
    fn every_transaction_proves_and_order_is_block_order() {
        let txs = block();
        let tree = PayloadTree::new(&txs);
        let root = tree.root();
        assert_eq!(
            tree.namespaces().collect::<Vec<_>>(),
            vec![Namespace(10), Namespace(20), Namespace(30)]
        );
        for tx in &txs {
            let proof = tree.transaction_proof_by_hash(&tx.hash()).expect("present");
            proof.verify(tx, &root).expect("valid");
            let mut other = tx.clone();
            other.namespace = Namespace(99);
            assert!(proof.verify(&other, &root).is_err());
        }
        for ns in [10, 20, 30] {
            let members: Vec<Transaction> =
                txs.iter().filter(|t| t.namespace == Namespace(ns)).cloned().collect();
            let proof = tree.namespace_proof(Namespace(ns)).expect("present");
            proof.verify_complete(&members, &root).expect("complete");
            assert_eq!(proof.verify_complete(&members[1..], &root), Err(PayloadError::Incomplete));
            let mut reordered = members.clone();
            reordered.swap(0, 1);
            assert_eq!(proof.verify_complete(&reordered, &root), Err(PayloadError::Incomplete));
        }
    }

    #[test]
    fn absence_proofs_cover_below_between_above_and_empty() {
        let tree = PayloadTree::new(&block());
        let root = tree.root();
        for ns in [0, 9, 11, 25, 31, u64::MAX] {
            let proof = tree.absence_proof(Namespace(ns)).expect("absent");
            proof.verify(Namespace(ns), &root).expect("excluded");
        }
        for ns in [10, 20, 30] {
            assert!(tree.absence_proof(Namespace(ns)).is_none());
        }
        // A proof for 15 (between 10 and 20) does not exclude 25.
        let proof = tree.absence_proof(Namespace(15)).expect("absent");
        assert_eq!(proof.verify(Namespace(25), &root), Err(PayloadError::NotExcluded(25)));
        assert_eq!(proof.verify(Namespace(10), &root), Err(PayloadError::NamespacePresent(10)));
        // Dropping a neighbour does not make a proof for "below everything".
        let mut one_sided = proof.clone();
        one_sided.neighbours.remove(0);
        assert_eq!(one_sided.verify(Namespace(15), &root), Err(PayloadError::NotExcluded(15)));

        let empty = PayloadTree::new(&[]);
        let proof = empty.absence_proof(Namespace(1)).expect("absent");
        proof.verify(Namespace(1), &empty.root()).expect("empty payload");
        assert!(proof.verify(Namespace(1), &root).is_err());
    }
}
