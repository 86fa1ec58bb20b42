//! The most recently finalized blocks, kept as they were finalized.
//!
//! A block read back from marshal's archive is decoded, and decoding hashes every payload again
//! to rebuild the transaction hashes and the payload tree (unless the node still remembers the
//! transactions: [`crate::known`]). Proof and block requests mostly ask about heights near the
//! tip (a relayer proves a message right after its block is finalized), so the application keeps
//! the last finalized blocks with the hashes and tree computed when each was built or received,
//! and answers those requests from them.
//!
//! Bounded by bytes (payloads plus a per-transaction and per-block charge) and by
//! [`MAX_HEIGHTS`]. It is a window below the newest finalized height: a block more than
//! [`MAX_HEIGHTS`] below it is dropped, so the window always lies inside the retention (at least
//! [`MIN_RETENTION`](super::retention::MIN_RETENTION) heights), and a height this node pruned is
//! never answered from here.

use std::{
    collections::BTreeMap,
    sync::{Mutex, PoisonError},
};

use trestle_light_client::Height;

use crate::block::Block;

/// Most heights kept, and how far below the newest one a kept block may lie.
pub const MAX_HEIGHTS: u64 = 256;

/// The byte budget the node uses: a few full blocks at the default 4 MiB payload limit, or the
/// last [`MAX_HEIGHTS`] heights at light load.
pub const DEFAULT_BUDGET: usize = 64 << 20;

/// Bytes charged for a block besides its payloads (header, context, bookkeeping).
const PER_BLOCK: usize = 1024;

/// Bytes charged per transaction besides its payload (its hash and share of the tree).
const PER_TRANSACTION: usize = 128;

// The window must stay inside the least retention, or a pruned height could be served.
const _: () = assert!(MAX_HEIGHTS < super::retention::MIN_RETENTION);

/// The last finalized blocks, shared by the application actor (which adds each block it
/// finalizes) and its mailboxes (which read).
#[derive(Debug)]
pub struct RecentBlocks {
    budget: usize,
    window: Mutex<Window>,
}

#[derive(Debug, Default)]
struct Window {
    blocks: BTreeMap<Height, (Block, usize)>,
    bytes: usize,
}

impl RecentBlocks {
    /// An empty window holding at most `budget` bytes.
    pub fn new(budget: usize) -> Self {
        Self { budget, window: Mutex::default() }
    }

    /// Keeps `block`, a finalized block, then drops the oldest blocks until the window is
    /// within its bounds again. A block below the newest one kept is ignored (the window
    /// follows the tip), and so is one larger than the whole budget.
    pub fn insert(&self, block: &Block) {
        let height = block.header().height;
        let cost = charge(block);
        if cost > self.budget {
            return;
        }
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        if window.blocks.last_key_value().is_some_and(|(newest, _)| *newest >= height) {
            return;
        }
        window.blocks.insert(height, (block.clone(), cost));
        window.bytes += cost;
        let floor = height.get().saturating_sub(MAX_HEIGHTS - 1);
        while let Some((&oldest, _)) = window.blocks.first_key_value() {
            let over = window.bytes > self.budget || window.blocks.len() as u64 > MAX_HEIGHTS;
            if !over && oldest.get() >= floor {
                break;
            }
            if let Some((_, (_, freed))) = window.blocks.pop_first() {
                window.bytes -= freed;
            }
        }
    }

    /// The finalized block at `height`, if the window holds it.
    pub fn get(&self, height: Height) -> Option<Block> {
        let window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        window.blocks.get(&height).map(|(block, _)| block.clone())
    }

    /// The heights held, oldest first.
    #[cfg(test)]
    fn heights(&self) -> Vec<Height> {
        let window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        window.blocks.keys().copied().collect()
    }

    /// The bytes charged for the blocks held.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.window.lock().unwrap_or_else(PoisonError::into_inner).bytes
    }
}

/// What `block` counts against the budget.
fn charge(block: &Block) -> usize {
    PER_BLOCK + block.payload_bytes() + PER_TRANSACTION * block.transactions().len()
}

#[cfg(test)]
mod tests {
    use alloy_primitives::B256;
    use commonware_cryptography::keccak256::Digest as Keccak;
    use trestle_light_client::{ChainId, Epoch, Namespace, Transaction, rotation::L1Reference};

    use super::*;
    use crate::{
        block::{BlockTransaction, HeaderFields, context_at},
        succession::Succession,
    };

    /// A block at `height` with `txs` transactions of `payload` bytes each.
    fn block(height: u64, txs: usize, payload: usize) -> Block {
        let fields = HeaderFields {
            chain_id: ChainId(7),
            epoch: Epoch(0),
            height: Height(height),
            context: context_at(0, height),
            timestamp_ms: 1_000 + height,
            parent: B256::repeat_byte(1),
            history_root: B256::repeat_byte(2),
            committee: B256::repeat_byte(3),
            succession: Succession::at(L1Reference { number: 1, hash: B256::repeat_byte(6) }),
        };
        let transactions = (0..txs)
            .map(|i| {
                BlockTransaction::unowned(Transaction::new(Namespace(1), vec![i as u8; payload]))
            })
            .collect();
        Block::new(fields, Keccak([0u8; 32]), transactions)
    }

    #[test]
    fn a_kept_block_is_the_finalized_one_with_its_hashes_and_tree() {
        let recent = RecentBlocks::new(DEFAULT_BUDGET);
        let finalized = block(5, 3, 40);
        recent.insert(&finalized);
        let kept = recent.get(Height(5)).expect("kept");
        assert_eq!(kept, finalized);
        assert_eq!(kept.tx_hashes(), finalized.tx_hashes());
        assert_eq!(kept.payload_tree().root(), finalized.header().payload_root);
        assert_eq!(recent.get(Height(4)), None);
        assert_eq!(recent.get(Height(6)), None);
    }

    #[test]
    fn the_oldest_blocks_go_first_when_the_budget_is_spent() {
        let cost = charge(&block(1, 2, 1000));
        let recent = RecentBlocks::new(3 * cost);
        for height in 1..=5 {
            recent.insert(&block(height, 2, 1000));
            assert!(recent.bytes() <= 3 * cost);
        }
        assert_eq!(recent.heights(), vec![Height(3), Height(4), Height(5)]);
        assert_eq!(recent.bytes(), 3 * cost);
        // A block larger than the whole budget is not kept, and evicts nothing.
        recent.insert(&block(6, 8, 1000));
        assert_eq!(recent.heights(), vec![Height(3), Height(4), Height(5)]);
    }

    #[test]
    fn the_window_follows_the_tip_and_never_reaches_below_it() {
        let recent = RecentBlocks::new(DEFAULT_BUDGET);
        for height in 1..=MAX_HEIGHTS + 10 {
            recent.insert(&block(height, 0, 0));
        }
        let heights = recent.heights();
        assert_eq!(heights.len() as u64, MAX_HEIGHTS);
        assert_eq!(heights.first(), Some(&Height(11)));
        // An older or repeated height is ignored.
        recent.insert(&block(3, 1, 10));
        recent.insert(&block(MAX_HEIGHTS + 10, 1, 10));
        assert_eq!(recent.heights(), heights);
        assert_eq!(recent.get(Height(MAX_HEIGHTS + 10)).expect("kept").transactions().len(), 0);
        // A gap (a restart far ahead) drops everything more than MAX_HEIGHTS below the new tip.
        recent.insert(&block(10 * MAX_HEIGHTS, 0, 0));
        assert_eq!(recent.heights(), vec![Height(10 * MAX_HEIGHTS)]);
    }
}
