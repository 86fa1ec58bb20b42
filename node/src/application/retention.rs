//! Retention: how long a node keeps full finalized blocks and their finalization certificates.
//!
//! By default a node is *archival*: marshal's archives keep every finalized block and
//! certificate, and the node serves the whole history (blocks, inclusion proofs, backfill to
//! peers that sync from genesis). With a retention of `R` heights, marshal keeps those of the
//! last `R` finalized heights (and possibly a few more: its archives prune by section) and
//! drops older ones as the chain grows. What stays forever either way:
//!
//! * the application's finalized index ([`super::index`]): every header, the history frontier,
//!   the transaction and record indexes, so heights, headers, history proofs and "is this
//!   transaction finalized, at which height" keep answering, and a restart restores from it;
//! * the signatures actor's signed light-client states of every epoch end (its own retention
//!   keeps recent heights and epoch ends), which `trestle confirm` and relayers walk.
//!
//! What a pruned height loses: its block's payloads (so `trestle_block`, `trestle_txProof` and
//! namespace proofs of it answer nothing) and its consensus certificate. Peers that sync from
//! genesis need an archival peer.
//!
//! Bounds: at least [`MIN_RETENTION`] heights, and two epochs where epochs end: a restart reads
//! the block of the last indexed height (at most a second old) and the epoch orchestrator the
//! last block of the previous epoch (the next engine's floor). Pruning also waits for the
//! finalized index: a node whose index is unavailable replays its chain from marshal on the
//! next start, so it never prunes.

use std::num::NonZeroU64;

/// Least retention, in heights.
pub const MIN_RETENTION: u64 = 1_024;

/// Heights between two prune requests (marshal's prunable archives drop whole sections).
pub const PRUNE_STEP: u64 = 256;

/// A retention marshal cannot honour safely.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    /// Fewer heights than restarts and epoch hand-overs read back.
    #[error("retention of {heights} heights: at least {least} (two epochs, and {MIN_RETENTION})")]
    TooShort {
        /// The retention asked for.
        heights: u64,
        /// The least this network allows.
        least: u64,
    },
}

/// The least retention of a network whose epochs last `epoch_length` heights.
pub fn least_retention(epoch_length: NonZeroU64) -> u64 {
    if epoch_length == NonZeroU64::MAX {
        // Endless epochs: the only floor is the genesis block, which every node builds.
        return MIN_RETENTION;
    }
    MIN_RETENTION.max(epoch_length.get().saturating_mul(2))
}

/// Checks a retention of `heights` against the network's epoch length.
pub fn check_retention(
    heights: u64,
    epoch_length: NonZeroU64,
) -> Result<NonZeroU64, RetentionError> {
    let least = least_retention(epoch_length);
    match NonZeroU64::new(heights) {
        Some(retention) if heights >= least => Ok(retention),
        _ => Err(RetentionError::TooShort { heights, least }),
    }
}

/// Decides when to ask marshal to prune, as the finalized height grows.
#[derive(Clone, Debug)]
pub(crate) struct Pruner {
    retention: u64,
    pruned_below: u64,
}

impl Pruner {
    /// A pruner keeping the last `retention` heights.
    pub(crate) fn new(retention: NonZeroU64) -> Self {
        Self { retention: retention.get(), pruned_below: 0 }
    }

    /// The height below which to prune now that `finalized` is the finalized height (the
    /// last `retention` heights, `finalized` included, are kept), once it moved at least
    /// [`PRUNE_STEP`] past the last request; `None` otherwise.
    pub(crate) fn next(&mut self, finalized: u64) -> Option<u64> {
        let below = finalized.checked_sub(self.retention)?.saturating_add(1);
        if below < self.pruned_below.saturating_add(PRUNE_STEP) {
            return None;
        }
        self.pruned_below = below;
        Some(below)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_bounded_by_two_epochs_and_the_minimum() {
        let nz = |n| NonZeroU64::new(n).expect("non-zero");
        assert_eq!(least_retention(NonZeroU64::MAX), MIN_RETENTION);
        assert_eq!(least_retention(nz(20)), MIN_RETENTION);
        assert_eq!(least_retention(nz(1_000)), 2_000);
        assert_eq!(least_retention(nz(u64::MAX - 1)), u64::MAX);
        assert_eq!(check_retention(2_000, nz(1_000)), Ok(nz(2_000)));
        assert_eq!(
            check_retention(1_999, nz(1_000)),
            Err(RetentionError::TooShort { heights: 1_999, least: 2_000 })
        );
        assert!(check_retention(0, NonZeroU64::MAX).is_err());
        assert!(check_retention(MIN_RETENTION - 1, NonZeroU64::MAX).is_err());
    }

    #[test]
    fn the_pruner_keeps_the_last_heights_and_asks_in_steps() {
        let mut pruner = Pruner::new(NonZeroU64::new(1_024).expect("non-zero"));
        assert_eq!(pruner.next(0), None);
        assert_eq!(pruner.next(1_023), None);
        // 1,024 heights are kept (1..=1,024); nothing below height 1 but genesis: not a step.
        assert_eq!(pruner.next(1_024), None);
        assert_eq!(pruner.next(1_278), None);
        assert_eq!(pruner.next(1_279), Some(256));
        assert_eq!(pruner.next(1_300), None);
        assert_eq!(pruner.next(1_535), Some(512));
        // A jump (a restart after a while) asks once, for everything below the window.
        assert_eq!(pruner.next(100_000), Some(100_000 - 1_024 + 1));
        assert_eq!(pruner.next(100_001), None);
    }
}
