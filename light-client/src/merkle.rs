//! Keccak Merkle tree with domain-separated nodes and a committed leaf count.
//!
//! The shape is RFC 6962 / RFC 9162's: the tree over `n > 1` leaves splits at the largest power
//! of two below `n`, so there is no padding and no duplicated last node (the flaw that makes
//! `root([a,b,c]) == root([a,b,c,c])` in trees that duplicate odd nodes). On top of that:
//!
//! * leaves are 32-byte digests `d` and hash as `H(0x00 ‖ d)`; inner nodes as `H(0x01 ‖ l ‖ r)`,
//!   so a leaf can never be passed off as an inner node or the reverse;
//! * the published root commits the leaf count: `root = H(0x02 ‖ n as u64 big-endian ‖ M)`,
//!   with `M` the tree hash (or 32 zero bytes for the empty tree). A proof carries `index` and
//!   `count`; a proof with a wrong count rebuilds another root. 0 and 1 leaves are ordinary cases.
//!
//! Verification is RFC 9162 §2.1.3.2, which the Solidity library mirrors line for line.
//! Proof length is at most 64 siblings (the depth of a tree of 2^64 leaves).
//!
//! [`MerkleTree`] keeps every perfect subtree (about `2n` hashes), so it is both the static tree
//! of a block's payload and the append-only history tree: appending is amortized O(1), the root
//! and proofs at any earlier size are O(log n) hashes (proofs O(log² n) at worst).

use alloy_primitives::{B256, keccak256};

pub use crate::abi::MAX_PROOF_LEN;
use crate::abi::MerkleProof;

/// Prefix of a leaf node.
pub const LEAF_PREFIX: u8 = 0x00;
/// Prefix of an inner node.
pub const NODE_PREFIX: u8 = 0x01;
/// Prefix of the count-committing root.
pub const ROOT_PREFIX: u8 = 0x02;

/// Why a Merkle proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// The proof's index is not below its leaf count.
    #[error("leaf index {index} out of range for {count} leaves")]
    IndexOutOfRange {
        /// Claimed leaf index.
        index: u64,
        /// Claimed leaf count.
        count: u64,
    },
    /// The proof has more siblings than a tree of its leaf count has levels.
    #[error("proof has too many siblings ({len}) for {count} leaves")]
    PathTooLong {
        /// Number of siblings in the proof.
        len: usize,
        /// Claimed leaf count.
        count: u64,
    },
    /// The proof has fewer siblings than the leaf's depth in a tree of its leaf count.
    #[error("proof has too few siblings ({len}) for {count} leaves")]
    PathTooShort {
        /// Number of siblings in the proof.
        len: usize,
        /// Claimed leaf count.
        count: u64,
    },
    /// The proof is well formed but rebuilds a different root.
    #[error("proof rebuilds root {computed}, expected {expected}")]
    RootMismatch {
        /// The root the proof leads to.
        computed: B256,
        /// The root it was checked against.
        expected: B256,
    },
}

/// `H(0x00 ‖ digest)`.
pub fn leaf_hash(digest: &B256) -> B256 {
    let mut buf = [0u8; 33];
    buf[0] = LEAF_PREFIX;
    buf[1..].copy_from_slice(digest.as_slice());
    keccak256(buf)
}

/// `H(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &B256, right: &B256) -> B256 {
    let mut buf = [0u8; 65];
    buf[0] = NODE_PREFIX;
    buf[1..33].copy_from_slice(left.as_slice());
    buf[33..].copy_from_slice(right.as_slice());
    keccak256(buf)
}

/// `H(0x02 ‖ count ‖ tree_hash)`: the published root of a tree of `count` leaves.
pub fn committed_root(count: u64, tree_hash: &B256) -> B256 {
    let mut buf = [0u8; 41];
    buf[0] = ROOT_PREFIX;
    buf[1..9].copy_from_slice(&count.to_be_bytes());
    buf[9..].copy_from_slice(tree_hash.as_slice());
    keccak256(buf)
}

/// Largest power of two strictly below `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// An append-only Merkle tree that remembers every perfect subtree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MerkleTree {
    /// `levels[k][i]` is the hash of the perfect subtree over leaves `[i·2^k, (i+1)·2^k)`.
    levels: Vec<Vec<B256>>,
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tree over `digests`, in order.
    pub fn from_digests<'a>(digests: impl IntoIterator<Item = &'a B256>) -> Self {
        let mut tree = Self::new();
        for digest in digests {
            tree.push(digest);
        }
        tree
    }

    /// Number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends a leaf digest: amortized one leaf hash and one node hash.
    pub fn push(&mut self, digest: &B256) {
        let mut node = leaf_hash(digest);
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let nodes = &mut self.levels[level];
            nodes.push(node);
            if nodes.len() % 2 == 1 {
                return;
            }
            node = node_hash(&nodes[nodes.len() - 2], &nodes[nodes.len() - 1]);
            level += 1;
        }
    }

    /// The perfect subtrees the leaves decompose into, `(level, hash)` from the largest
    /// (leftmost) down: one per set bit of `len()`.
    pub fn peaks(&self) -> Vec<(u32, B256)> {
        let len = self.len();
        let mut peaks = Vec::new();
        let mut covered = 0u64;
        for level in (0..u64::BITS).rev() {
            let size = 1u64 << level;
            if len & size != 0 {
                // Level `level` holds floor(len / size) nodes; `covered` is a multiple of size.
                peaks.push((level, self.levels[level as usize][(covered / size) as usize]));
                covered += size;
            }
        }
        peaks
    }

    /// The leaf node (`H(0x00 ‖ d)`) at `index`, if present.
    pub fn leaf_node(&self, index: u64) -> Option<B256> {
        self.levels.first()?.get(usize::try_from(index).ok()?).copied()
    }

    /// Published root over all leaves.
    pub fn root(&self) -> B256 {
        self.root_at(self.len()).unwrap_or_default()
    }

    /// Published root the tree had when it held `size` leaves, or `None` if `size > len()`.
    pub fn root_at(&self, size: u64) -> Option<B256> {
        if size > self.len() {
            return None;
        }
        let tree_hash = if size == 0 { B256::ZERO } else { self.subtree_hash(0, size) };
        Some(committed_root(size, &tree_hash))
    }

    /// Proof of leaf `index` against the root of the whole tree.
    pub fn prove(&self, index: u64) -> Option<MerkleProof> {
        self.prove_at(index, self.len())
    }

    /// Proof of leaf `index` against the root the tree had at `size` leaves.
    pub fn prove_at(&self, index: u64, size: u64) -> Option<MerkleProof> {
        if index >= size || size > self.len() {
            return None;
        }
        let mut siblings = Vec::new();
        self.path(index, 0, size, &mut siblings);
        Some(MerkleProof { index, count: size, siblings })
    }

    /// RFC 9162 `PATH(m, D[start:end])`, deepest sibling first.
    fn path(&self, index: u64, start: u64, end: u64, out: &mut Vec<B256>) {
        let n = end - start;
        if n == 1 {
            return;
        }
        let k = split_point(n);
        if index < start + k {
            self.path(index, start, start + k, out);
            out.push(self.subtree_hash(start + k, end));
        } else {
            self.path(index, start + k, end, out);
            out.push(self.subtree_hash(start, start + k));
        }
    }

    /// Tree hash `MTH(D[start:end])` for a range produced by the RFC 6962 recursion, whose
    /// `start` is always aligned to the largest power of two below the range's size.
    fn subtree_hash(&self, start: u64, end: u64) -> B256 {
        let n = end - start;
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let level = n.trailing_zeros() as usize;
            // In range: `end <= len()` and level `k` holds floor(len / 2^k) nodes.
            return self.levels[level][(start / n) as usize];
        }
        let k = split_point(n);
        node_hash(&self.subtree_hash(start, start + k), &self.subtree_hash(start + k, end))
    }
}

/// Published root of the tree over `digests`.
pub fn root_of(digests: &[B256]) -> B256 {
    MerkleTree::from_digests(digests).root()
}

impl MerkleProof {
    /// Rebuilds the published root this proof leads to from the leaf's digest, checking the
    /// proof's shape against its index and count (RFC 9162 §2.1.3.2).
    pub fn compute_root(&self, leaf_digest: &B256) -> Result<B256, MerkleError> {
        let (index, count, len) = (self.index, self.count, self.siblings.len());
        if index >= count {
            return Err(MerkleError::IndexOutOfRange { index, count });
        }
        if len > MAX_PROOF_LEN {
            return Err(MerkleError::PathTooLong { len, count });
        }
        let (mut fn_, mut sn) = (index, count - 1);
        let mut node = leaf_hash(leaf_digest);
        for sibling in &self.siblings {
            if sn == 0 {
                return Err(MerkleError::PathTooLong { len, count });
            }
            if fn_ & 1 == 1 || fn_ == sn {
                node = node_hash(sibling, &node);
                if fn_ & 1 == 0 {
                    // The last node of a level with no right sibling moves up unchanged.
                    while fn_ & 1 == 0 && fn_ != 0 {
                        fn_ >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                node = node_hash(&node, sibling);
            }
            fn_ >>= 1;
            sn >>= 1;
        }
        if sn != 0 {
            return Err(MerkleError::PathTooShort { len, count });
        }
        Ok(committed_root(count, &node))
    }

    /// Checks that the leaf with `leaf_digest` is at `self.index` of the tree with `root`.
    pub fn verify(&self, leaf_digest: &B256, root: &B256) -> Result<(), MerkleError> {
        let computed = self.compute_root(leaf_digest)?;
        if computed != *root {
            return Err(MerkleError::RootMismatch { computed, expected: *root });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digests(n: u64) -> Vec<B256> {
        (0..n).map(|i| keccak256(i.to_be_bytes())).collect()
    }

    /// Direct transcription of RFC 6962's recursive definition, as an oracle.
    fn reference_hash(leaves: &[B256]) -> B256 {
        match leaves.len() {
            0 => B256::ZERO,
            1 => leaf_hash(&leaves[0]),
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&reference_hash(&leaves[..k]), &reference_hash(&leaves[k..]))
            }
        }
    }

    #[test]
    fn roots_match_the_recursive_definition_at_every_size() {
        let all = digests(70);
        let tree = MerkleTree::from_digests(&all);
        for size in 0..=70u64 {
            let expected = committed_root(size, &reference_hash(&all[..size as usize]));
            assert_eq!(tree.root_at(size), Some(expected), "size {size}");
            assert_eq!(root_of(&all[..size as usize]), expected);
        }
        assert_eq!(tree.root_at(71), None);
    }

    #[test]
    fn every_leaf_proves_against_every_later_root() {
        let all = digests(40);
        let tree = MerkleTree::from_digests(&all);
        for size in 1..=40u64 {
            let root = tree.root_at(size).expect("size in range");
            for index in 0..size {
                let proof = tree.prove_at(index, size).expect("index in range");
                assert!(proof.siblings.len() <= 64 - (size - 1).leading_zeros() as usize);
                proof.verify(&all[index as usize], &root).expect("valid proof");
            }
        }
    }

    #[test]
    fn empty_and_single_leaf_trees() {
        let empty = MerkleTree::new();
        assert_eq!(empty.root(), committed_root(0, &B256::ZERO));
        assert!(empty.prove(0).is_none());
        let one = MerkleTree::from_digests(&digests(1));
        let proof = one.prove(0).expect("one leaf");
        assert!(proof.siblings.is_empty());
        proof.verify(&digests(1)[0], &one.root()).expect("valid");
        // Same digest, claimed count 2 with no siblings: the shape check refuses it.
        let lying = MerkleProof { index: 0, count: 2, siblings: vec![] };
        assert_eq!(
            lying.compute_root(&digests(1)[0]),
            Err(MerkleError::PathTooShort { len: 0, count: 2 })
        );
    }

    #[test]
    fn duplicated_last_leaf_changes_the_root() {
        let abc = digests(3);
        let mut abcc = abc.clone();
        abcc.push(abc[2]);
        assert_ne!(root_of(&abc), root_of(&abcc));
    }

    #[test]
    fn malformed_proofs_get_typed_errors() {
        let all = digests(5);
        let tree = MerkleTree::from_digests(&all);
        let root = tree.root();
        let mut proof = tree.prove(4).expect("in range");
        proof.index = 5;
        assert_eq!(
            proof.verify(&all[4], &root),
            Err(MerkleError::IndexOutOfRange { index: 5, count: 5 })
        );
        let mut long = tree.prove(0).expect("in range");
        long.siblings.push(B256::ZERO);
        assert!(matches!(long.verify(&all[0], &root), Err(MerkleError::PathTooLong { .. })));
        let mut short = tree.prove(0).expect("in range");
        short.siblings.pop();
        assert!(matches!(short.verify(&all[0], &root), Err(MerkleError::PathTooShort { .. })));
        let huge = MerkleProof { index: 0, count: u64::MAX, siblings: vec![B256::ZERO; 65] };
        assert!(matches!(huge.verify(&all[0], &root), Err(MerkleError::PathTooLong { .. })));
        // Leaf 0 of a tree of 2^64 - 1 leaves is 64 levels deep: the longest valid shape.
        let max = MerkleProof { index: 0, count: u64::MAX, siblings: vec![B256::ZERO; 64] };
        assert!(matches!(max.verify(&all[0], &root), Err(MerkleError::RootMismatch { .. })));
    }
}
