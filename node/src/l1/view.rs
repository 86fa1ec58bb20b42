//! A node's own view of L1: the chain of L1 blocks its source delivered (each at a safe depth),
//! with the stake table folded up to each. Shared (cheap clones of one `Arc`) between the
//! follower that extends it and the application that asks it about references.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
};

use alloy_primitives::B256;
use trestle_light_client::{
    rotation::L1Reference,
    stake::{LogPosition, StakeTableError, StakeTableEvent, StakeTableSnapshot},
};

/// One L1 block as a source delivers it: where it is and the StakeTable events it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct L1Block {
    /// Its number and hash.
    pub reference: L1Reference,
    /// Its parent's hash.
    pub parent: B256,
    /// The StakeTable's events in it, in log order.
    pub events: Vec<(LogPosition, StakeTableEvent)>,
}

/// What the view says about a reference a block names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L1Check {
    /// The view holds that block.
    Confirmed,
    /// The view has not reached that number yet: ask again later.
    Lagging,
    /// The view holds another block at that number: the reference is not on our L1.
    Conflicts {
        /// Our block's hash at that number.
        ours: B256,
    },
    /// That number is older than what the view keeps (it cannot tell).
    Forgotten,
}

/// Why a block cannot extend the view (the source is wrong, or L1 reorganized deeper than the
/// safe depth). The view is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum L1ViewError {
    /// The block is not the next number.
    #[error("L1 block {found} does not follow {expected}")]
    NotNext {
        /// The next number the view takes.
        expected: u64,
        /// The block's.
        found: u64,
    },
    /// The block's parent is not the view's latest block.
    #[error("L1 block {number} has parent {parent}, the view's block before it is {ours}")]
    Reorganized {
        /// The block's number.
        number: u64,
        /// Its parent hash.
        parent: B256,
        /// The view's hash at `number - 1`.
        ours: B256,
    },
    /// A zero block hash.
    #[error("L1 block {0} has a zero hash")]
    ZeroHash(u64),
    /// Its events are not a StakeTable's.
    #[error("L1 block {number}: {error}")]
    Events {
        /// The block's number.
        number: u64,
        /// Why the events were refused.
        error: StakeTableError,
    },
    /// An event outside the block it came with.
    #[error("L1 block {number} carries an event of block {event}")]
    MisplacedEvent {
        /// The block's number.
        number: u64,
        /// The event's block.
        event: u64,
    },
}

struct Entry {
    hash: B256,
    snapshot: Arc<StakeTableSnapshot>,
}

struct Inner {
    /// The next number the view takes.
    next: u64,
    /// Blocks by number, the oldest pruned beyond `retain`.
    blocks: BTreeMap<u64, Entry>,
    /// The table after the latest block.
    snapshot: Arc<StakeTableSnapshot>,
    retain: usize,
}

/// A node's L1 view (see the module docs).
#[derive(Clone)]
pub struct L1View {
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for L1View {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("L1View").field("latest", &self.latest()).finish()
    }
}

/// Blocks a view keeps by default (about 3.4 days of 12-second L1 blocks).
pub const DEFAULT_RETAIN: usize = 1 << 15;

impl L1View {
    /// An empty view that takes blocks from number `first` on (the StakeTable's deployment
    /// block: nothing before it can hold its events), keeping the last `retain` blocks.
    pub fn new(first: u64, retain: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                next: first,
                blocks: BTreeMap::new(),
                snapshot: Arc::new(StakeTableSnapshot::new()),
                retain: retain.max(1),
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The critical sections never panic; a poisoned lock still holds consistent data.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The number the view takes next.
    pub fn next_number(&self) -> u64 {
        self.lock().next
    }

    /// The latest block of the view (`None` before the first).
    pub fn latest(&self) -> Option<L1Reference> {
        self.lock()
            .blocks
            .last_key_value()
            .map(|(number, entry)| L1Reference { number: *number, hash: entry.hash })
    }

    /// Appends the next block, folding its events into the stake table.
    pub fn extend(&self, block: L1Block) -> Result<(), L1ViewError> {
        let mut inner = self.lock();
        let number = block.reference.number;
        if number != inner.next {
            return Err(L1ViewError::NotNext { expected: inner.next, found: number });
        }
        if block.reference.hash.is_zero() {
            return Err(L1ViewError::ZeroHash(number));
        }
        if let Some((_, parent)) = inner.blocks.last_key_value()
            && parent.hash != block.parent
        {
            return Err(L1ViewError::Reorganized {
                number,
                parent: block.parent,
                ours: parent.hash,
            });
        }
        let mut snapshot = inner.snapshot.clone();
        if !block.events.is_empty() {
            let mut folded = (*snapshot).clone();
            for (position, event) in block.events {
                if position.block != number {
                    return Err(L1ViewError::MisplacedEvent { number, event: position.block });
                }
                folded
                    .apply(position, event)
                    .map_err(|error| L1ViewError::Events { number, error })?;
            }
            snapshot = Arc::new(folded);
        }
        inner
            .blocks
            .insert(number, Entry { hash: block.reference.hash, snapshot: snapshot.clone() });
        inner.snapshot = snapshot;
        inner.next = number + 1;
        while inner.blocks.len() > inner.retain {
            inner.blocks.pop_first();
        }
        Ok(())
    }

    /// Whether `reference` is a block of this view.
    pub fn check(&self, reference: &L1Reference) -> L1Check {
        let inner = self.lock();
        match inner.blocks.get(&reference.number) {
            Some(entry) if entry.hash == reference.hash => L1Check::Confirmed,
            Some(entry) => L1Check::Conflicts { ours: entry.hash },
            None if reference.number >= inner.next => L1Check::Lagging,
            None => L1Check::Forgotten,
        }
    }

    /// The stake table after block `reference` (`None` unless [`L1View::check`] confirms it).
    pub fn stake_table_at(&self, reference: &L1Reference) -> Option<Arc<StakeTableSnapshot>> {
        let inner = self.lock();
        inner
            .blocks
            .get(&reference.number)
            .filter(|entry| entry.hash == reference.hash)
            .map(|entry| entry.snapshot.clone())
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::Address;

    use super::*;

    fn hash(number: u64) -> B256 {
        B256::left_padding_from(&(number + 1).to_be_bytes())
    }

    fn block(number: u64, events: Vec<(LogPosition, StakeTableEvent)>) -> L1Block {
        let parent = if number == 0 { B256::ZERO } else { hash(number - 1) };
        L1Block { reference: L1Reference { number, hash: hash(number) }, parent, events }
    }

    fn exit(number: u64) -> (LogPosition, StakeTableEvent) {
        (
            LogPosition { block: number, index: 0 },
            StakeTableEvent::Deregistered { account: Address::repeat_byte(1) },
        )
    }

    #[test]
    fn blocks_extend_in_order_and_references_are_checked() {
        let view = L1View::new(5, 3);
        assert_eq!(view.latest(), None);
        assert_eq!(
            view.extend(block(6, vec![])),
            Err(L1ViewError::NotNext { expected: 5, found: 6 })
        );
        for n in 5..=8 {
            view.extend(block(n, vec![])).expect("next");
        }
        assert_eq!(view.latest(), Some(L1Reference { number: 8, hash: hash(8) }));
        assert_eq!(view.check(&L1Reference { number: 7, hash: hash(7) }), L1Check::Confirmed);
        assert_eq!(
            view.check(&L1Reference { number: 7, hash: hash(3) }),
            L1Check::Conflicts { ours: hash(7) }
        );
        assert_eq!(view.check(&L1Reference { number: 9, hash: hash(9) }), L1Check::Lagging);
        // Only three blocks are kept.
        assert_eq!(view.check(&L1Reference { number: 5, hash: hash(5) }), L1Check::Forgotten);
        // A block on another parent (a reorganization below the safe depth) is refused.
        let mut fork = block(9, vec![]);
        fork.parent = B256::repeat_byte(9);
        assert!(matches!(view.extend(fork), Err(L1ViewError::Reorganized { number: 9, .. })));
        assert_eq!(view.next_number(), 9);
    }

    #[test]
    fn snapshots_follow_the_events_and_refused_blocks_change_nothing() {
        let view = L1View::new(0, 16);
        view.extend(block(0, vec![])).expect("first");
        // Deregistering an unknown account is not something the contract emits.
        assert!(matches!(view.extend(block(1, vec![exit(1)])), Err(L1ViewError::Events { .. })));
        assert!(matches!(
            view.extend(block(1, vec![exit(0)])),
            Err(L1ViewError::MisplacedEvent { number: 1, event: 0 })
        ));
        assert_eq!(view.next_number(), 1);
        view.extend(block(1, vec![])).expect("empty block");
        let at_one = view.stake_table_at(&L1Reference { number: 1, hash: hash(1) });
        assert!(at_one.expect("confirmed").is_empty());
        assert!(view.stake_table_at(&L1Reference { number: 1, hash: hash(0) }).is_none());
        assert!(view.stake_table_at(&L1Reference { number: 2, hash: hash(2) }).is_none());
    }
}
