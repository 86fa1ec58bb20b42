//! The history tree: an append-only commitment to every header.
//!
//! Leaf `i` is the hash of header `i`. The header at height `h` carries the root over headers
//! `0..h`; the light-client state signed after finalizing `h` carries the root over `0..=h`.
//! The tree is a [`MerkleTree`] whose published root commits the leaf count, so a root names its
//! height; proofs grow with `log(height)` and a proof of header `h` can be built against the
//! root at any later height `g` — contracts keep a set of recent roots and accept proofs against
//! any of them.
//!
//! Proposing or verifying the block at height `h` needs the history root over headers `0..h`,
//! and heights above the finalized tip live on (possibly competing) unfinalized branches.
//! Cloning the full [`HistoryTree`] per branch would cost O(height); instead each branch keeps a
//! [`Frontier`]: the perfect-subtree roots ("peaks") of the binary decomposition of its leaf
//! count, O(log height) words. Appending is amortized O(1) and the root is O(log height) hashes.

use alloy_primitives::B256;

use crate::{
    abi::MerkleProof,
    merkle::{MerkleError, MerkleTree, committed_root, leaf_hash, node_hash},
    primitives::Height,
};

/// Why a history proof was rejected or could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// The proof's leaf index is not the height asked about.
    #[error("proof is for height {proof}, expected {expected}")]
    WrongHeight {
        /// Height the proof's index names.
        proof: u64,
        /// Height that was expected.
        expected: u64,
    },
    /// The proof's leaf count does not match the root's height.
    #[error("proof covers heights 0..{count}, root is at height {root_height}")]
    WrongRootHeight {
        /// Leaf count in the proof.
        count: u64,
        /// Height of the root it is checked against.
        root_height: u64,
    },
    /// The Merkle path does not lead to the root.
    #[error(transparent)]
    Path(#[from] MerkleError),
    /// The tree does not (yet) cover the height asked for.
    #[error("history covers heights 0..{len}, asked for {height}")]
    Unknown {
        /// Number of headers in the tree.
        len: u64,
        /// Height asked for.
        height: u64,
    },
}

/// History of header hashes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryTree {
    tree: MerkleTree,
}

impl HistoryTree {
    /// An empty history (before genesis).
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of headers recorded (the next height to append).
    pub fn len(&self) -> u64 {
        self.tree.len()
    }

    /// Whether no header has been recorded.
    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// Appends the hash of the header at height `len()`.
    pub fn append(&mut self, header_hash: &B256) -> Height {
        let height = Height(self.len());
        self.tree.push(header_hash);
        height
    }

    /// Root over every header recorded so far (what the next header carries).
    pub fn root(&self) -> B256 {
        self.tree.root()
    }

    /// Root over headers `0..=height` (what the light-client state of `height` carries).
    pub fn root_at(&self, height: Height) -> Result<B256, HistoryError> {
        let unknown = HistoryError::Unknown { len: self.len(), height: height.get() };
        let size = height.get().checked_add(1).ok_or(unknown.clone())?;
        self.tree.root_at(size).ok_or(unknown)
    }

    /// The same history as a [`Frontier`] (read from the tree, no hashing).
    pub fn frontier(&self) -> Frontier {
        Frontier { peaks: self.tree.peaks(), len: self.len() }
    }

    /// Proof of header `height` against the root over `0..=root_height`.
    pub fn prove(&self, height: Height, root_height: Height) -> Result<MerkleProof, HistoryError> {
        let unknown = |h: Height| HistoryError::Unknown { len: self.len(), height: h.get() };
        if height > root_height {
            return Err(unknown(height));
        }
        let size = root_height.get().checked_add(1).ok_or(unknown(root_height))?;
        self.tree.prove_at(height.get(), size).ok_or(unknown(root_height))
    }
}

/// Checks that `header_hash` is header `height` under the history root of `root_height`.
pub fn verify_history_proof(
    proof: &MerkleProof,
    header_hash: &B256,
    height: Height,
    root: &B256,
    root_height: Height,
) -> Result<(), HistoryError> {
    if proof.index != height.get() {
        return Err(HistoryError::WrongHeight { proof: proof.index, expected: height.get() });
    }
    if Some(proof.count) != root_height.get().checked_add(1) {
        return Err(HistoryError::WrongRootHeight {
            count: proof.count,
            root_height: root_height.get(),
        });
    }
    Ok(proof.verify(header_hash, root)?)
}

/// Peaks of an append-only history (see the module docs): the same root as a [`HistoryTree`]
/// over the same headers, in O(log height) space.
///
/// The tree shape is RFC 6962's (split at the largest power of two below `n`), whose tree hash
/// for `n` leaves is the right fold `node(P0, node(P1, … Pk))` of its peaks from the largest
/// down; the published root then commits the count, `H(0x02 ‖ n ‖ treeHash)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    /// `(level, hash)` from the largest (leftmost) perfect subtree down; levels strictly decrease.
    peaks: Vec<(u32, B256)>,
    len: u64,
}

impl Frontier {
    /// The empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of headers appended.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing has been appended.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a header hash.
    pub fn push(&mut self, header_hash: &B256) {
        let mut level = 0u32;
        let mut hash = leaf_hash(header_hash);
        while let Some(&(top_level, top_hash)) = self.peaks.last() {
            if top_level != level {
                break;
            }
            self.peaks.pop();
            hash = node_hash(&top_hash, &hash);
            level += 1;
        }
        self.peaks.push((level, hash));
        self.len += 1;
    }

    /// A copy with `header_hash` appended.
    pub fn with(&self, header_hash: &B256) -> Self {
        let mut next = self.clone();
        next.push(header_hash);
        next
    }

    /// The count-committing root (equal to [`HistoryTree::root`] over the same headers).
    pub fn root(&self) -> B256 {
        let tree_hash = self
            .peaks
            .iter()
            .rev()
            .map(|(_, hash)| *hash)
            .reduce(|right, left| node_hash(&left, &right))
            .unwrap_or(B256::ZERO);
        committed_root(self.len, &tree_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;

    #[test]
    fn proofs_against_every_later_root() {
        let mut history = HistoryTree::new();
        let hashes: Vec<B256> = (0u64..33).map(|h| keccak256(h.to_be_bytes())).collect();
        let mut roots = Vec::new();
        for (h, hash) in hashes.iter().enumerate() {
            assert_eq!(history.append(hash), Height(h as u64));
            roots.push(history.root());
            assert_eq!(history.root_at(Height(h as u64)), Ok(history.root()));
        }
        for g in 0..33u64 {
            for h in 0..=g {
                let proof = history.prove(Height(h), Height(g)).expect("known");
                verify_history_proof(
                    &proof,
                    &hashes[h as usize],
                    Height(h),
                    &roots[g as usize],
                    Height(g),
                )
                .expect("valid");
                // Claiming another root height fails even with the right root.
                assert!(
                    verify_history_proof(
                        &proof,
                        &hashes[h as usize],
                        Height(h),
                        &roots[g as usize],
                        Height(g + 1)
                    )
                    .is_err()
                );
            }
        }
        assert!(history.prove(Height(5), Height(4)).is_err());
        assert!(history.prove(Height(5), Height(33)).is_err());
        assert!(history.root_at(Height(u64::MAX)).is_err());
    }

    #[test]
    fn frontier_matches_the_history_tree() {
        let mut tree = HistoryTree::new();
        let mut frontier = Frontier::new();
        assert_eq!(frontier.root(), tree.root());
        for i in 0..300u32 {
            let leaf = keccak256(i.to_be_bytes());
            tree.append(&leaf);
            assert_eq!(frontier.with(&leaf).root(), {
                frontier.push(&leaf);
                frontier.root()
            });
            assert_eq!(frontier.len(), tree.len());
            assert_eq!(tree.frontier(), frontier, "size {}", i + 1);
            assert_eq!(frontier.root(), tree.root(), "size {}", i + 1);
            assert_eq!(
                frontier.root(),
                tree.root_at(Height(u64::from(i))).expect("covered"),
                "root_at {i}"
            );
        }
    }
}
