//! A compact history accumulator for unfinalized branches.
//!
//! Proposing or verifying the block at height `h` needs the history root over headers `0..h`,
//! and heights above the finalized tip live on (possibly competing) unfinalized branches.
//! Cloning the full [`HistoryTree`](trestle_light_client::HistoryTree) per branch would cost
//! O(height); instead each known block keeps a [`Frontier`]: the perfect-subtree roots ("peaks")
//! of the binary decomposition of its leaf count, O(log height) words. Appending is amortized
//! O(1) and the root is O(log height) hashes.
//!
//! The tree shape is the light client's RFC 6962 one (split at the largest power of two below
//! `n`), whose tree hash for `n` leaves is the right fold `node(P0, node(P1, … Pk))` of its
//! peaks from the largest down; the published root then commits the count,
//! `H(0x02 ‖ n ‖ treeHash)`. Tests check equality with `HistoryTree` for every size up to 300.

use alloy_primitives::B256;
use trestle_light_client::merkle::{committed_root, leaf_hash, node_hash};

/// Peaks of an append-only Merkle tree (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    /// `(level, hash)` from the largest (leftmost) perfect subtree down; levels strictly decrease.
    peaks: Vec<(u32, B256)>,
    len: u64,
}

impl Frontier {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves (headers) appended.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing has been appended.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a leaf digest (a header hash).
    pub fn push(&mut self, digest: &B256) {
        let mut level = 0u32;
        let mut hash = leaf_hash(digest);
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

    /// A copy with `digest` appended.
    pub fn with(&self, digest: &B256) -> Self {
        let mut next = self.clone();
        next.push(digest);
        next
    }

    /// The count-committing root (equal to `HistoryTree::root()` over the same leaves).
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
    use trestle_light_client::{Height, HistoryTree};

    #[test]
    fn matches_the_light_client_history_tree() {
        let mut tree = HistoryTree::new();
        let mut frontier = Frontier::new();
        assert_eq!(frontier.root(), tree.root());
        for i in 0..300u32 {
            let leaf = alloy_primitives::keccak256(i.to_be_bytes());
            tree.append(&leaf);
            frontier.push(&leaf);
            assert_eq!(frontier.len(), tree.len());
            assert_eq!(frontier.root(), tree.root(), "size {}", i + 1);
            assert_eq!(
                frontier.root(),
                tree.root_at(Height(u64::from(i))).expect("covered"),
                "root_at {i}"
            );
        }
    }
}
