//! Epoch arithmetic: which epoch a height is in, where an epoch ends, and how far a light client
//! may move in one update. The same rules as `LightClient.sol`, pinned to it by golden vectors
//! (`solidity/test/fixtures/epochs.json`); every Rust caller (node, relayer, `trestle confirm`)
//! uses these functions instead of its own arithmetic.
//!
//! Epoch `e` covers heights `[e·L, (e+1)·L − 1]` for the epoch length `L > 0` of the network's
//! genesis, so the epoch of height `h` is `h / L`. The committee changes only between epochs:
//! the state at an epoch's last height names the next epoch's committee, and a light client must
//! accept that state before any later one (DESIGN §3a). A devnet with one endless epoch uses
//! `L = u64::MAX`, whose epoch 0 ends at `u64::MAX − 1`; the epoch of `u64::MAX` itself has no
//! last height.

use std::num::NonZeroU64;

use crate::primitives::{Epoch, Height};

/// The epoch length of a network with one endless epoch (devnets): `u64::MAX`.
pub const ENDLESS: NonZeroU64 = NonZeroU64::MAX;

/// The epoch of `height`: `height / L`.
pub fn epoch_of(height: Height, length: NonZeroU64) -> Epoch {
    Epoch(height.get() / length.get())
}

/// The first height of `epoch`, `e·L`, or `None` past `u64::MAX`.
pub fn first_height(epoch: Epoch, length: NonZeroU64) -> Option<Height> {
    epoch.get().checked_mul(length.get()).map(Height)
}

/// The last height of `epoch`, `(e+1)·L − 1`, or `None` when that runs past `u64::MAX` (no height
/// ends the epoch).
pub fn last_height(epoch: Epoch, length: NonZeroU64) -> Option<Height> {
    let length = u128::from(length.get());
    // (e + 1) ≤ 2^64 and L < 2^64: the product fits in u128 and is at least 1.
    let last = (u128::from(epoch.get()) + 1) * length - 1;
    u64::try_from(last).ok().map(Height)
}

/// The last height of the epoch `height` is in, or `None` when no height ends that epoch.
pub fn last_height_of(height: Height, length: NonZeroU64) -> Option<Height> {
    last_height(epoch_of(height, length), length)
}

/// Whether `height` is the last height of its epoch (its state names the next committee).
pub fn is_last(height: Height, length: NonZeroU64) -> bool {
    last_height_of(height, length) == Some(height)
}

/// The highest height a light client at `latest` accepts next: the last height of the epoch of
/// `latest + 1` (the current epoch, or the next one when `latest` ends an epoch), or `None` when
/// any higher height is acceptable (that epoch never ends) or none is (`latest` is `u64::MAX`).
///
/// `LightClient.update` refuses a state of a later epoch than that (`EpochBoundarySkipped`)
/// and a height not above `latest` (`HeightNotIncreasing`).
pub fn furthest_next(latest: Height, length: NonZeroU64) -> Option<Height> {
    last_height_of(Height(latest.get().checked_add(1)?), length)
}

/// The next height to prove to a light client at `latest` on the way to `wanted`, or `None`
/// when it is there already.
///
/// That is `wanted` when it is within reach ([`furthest_next`]), else the furthest reachable
/// height, an epoch's last; repeating from each target reaches `wanted` without skipping an
/// epoch's last height, in one step per epoch end in between plus one.
pub fn next_target(latest: Height, length: NonZeroU64, wanted: Height) -> Option<Height> {
    if wanted <= latest {
        return None;
    }
    // latest < wanted ≤ u64::MAX, so latest + 1 does not overflow.
    let furthest = last_height_of(Height(latest.get() + 1), length);
    Some(furthest.map_or(wanted, |furthest| furthest.min(wanted)))
}

/// Whether `LightClient` accepts a state at `height` after one at `latest`, for states whose
/// epoch is `height / L` as the network makes them: the height increases and, across an epoch
/// boundary, only by one epoch and only from that epoch's last height. A model of the contract's
/// transition rule, for tests.
pub fn accepts(latest: Height, height: Height, length: NonZeroU64) -> bool {
    let (epoch, latest_epoch) = (epoch_of(height, length), epoch_of(latest, length));
    height > latest
        && (epoch == latest_epoch
            || (epoch.get() == latest_epoch.get() + 1 && is_last(latest, length)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(length: u64) -> NonZeroU64 {
        NonZeroU64::new(length).expect("non-zero")
    }

    fn last(height: u64, length: u64) -> Option<u64> {
        last_height_of(Height(height), l(length)).map(Height::get)
    }

    fn target(latest: u64, length: u64, wanted: u64) -> Option<u64> {
        next_target(Height(latest), l(length), Height(wanted)).map(Height::get)
    }

    /// Checks one `next_target` answer and, when few epochs lie between, follows it to
    /// `wanted`: every step is accepted by the light client (so none skips an epoch end or goes
    /// backwards) and the walk takes at most one step per epoch in between plus one.
    fn check_walk(latest: u64, length: u64, wanted: u64) {
        let context = format!("latest {latest}, L {length}, wanted {wanted}");
        let accepted = |from: u64, to: u64| accepts(Height(from), Height(to), l(length));
        let Some(first) = target(latest, length, wanted) else {
            assert!(wanted <= latest, "{context}: nothing proven although behind");
            return;
        };
        assert!(wanted > latest, "{context}: proves although there");
        if let Some(furthest) = furthest_next(Height(latest), l(length)) {
            assert!(first <= furthest.get(), "{context}: {first} beyond reach");
        }
        let epochs_between = wanted / length - latest / length;
        if epochs_between > 64 {
            assert!(accepted(latest, first), "{context}: {first}");
            assert!(first <= wanted, "{context}: {first} overshoots");
            return;
        }
        let (mut at, mut steps) = (latest, 0u64);
        while let Some(next) = target(at, length, wanted) {
            assert!(accepted(at, next), "{context}: {at} → {next}");
            assert!(next <= wanted, "{context}: {next} overshoots");
            assert!(
                next == wanted || is_last(Height(next), l(length)),
                "{context}: {next} stops short of both the epoch end and the wanted height"
            );
            (at, steps) = (next, steps + 1);
        }
        assert_eq!(at, wanted, "{context}");
        assert!(steps <= epochs_between + 1, "{context}: {steps} steps");
    }

    /// splitmix64: a deterministic stream of test inputs.
    struct Inputs(u64);

    impl Inputs {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        /// An epoch length: tiny, arbitrary, around a power of two, or the extremes.
        fn length(&mut self) -> u64 {
            match self.next() % 5 {
                0 => 1 + self.next() % 16,
                1 => (1u64 << (self.next() % 64))
                    .saturating_add(self.next() % 3)
                    .saturating_sub(1)
                    .max(1),
                2 => u64::MAX - self.next() % 2,
                _ => self.next().max(1),
            }
        }

        /// A height: arbitrary, near an epoch end, near the top, or near `near`.
        fn height(&mut self, length: u64, near: u64) -> u64 {
            let jitter = self.next() % 5;
            match self.next() % 4 {
                0 => self.next(),
                1 => {
                    let end = last(self.next(), length).unwrap_or(u64::MAX);
                    end.saturating_sub(2).saturating_add(jitter)
                }
                2 => u64::MAX - jitter,
                _ => near.saturating_add(jitter).saturating_add(self.next() % 40),
            }
        }
    }

    #[test]
    fn epochs_cover_consecutive_height_ranges() {
        assert_eq!(epoch_of(Height(0), l(10)), Epoch(0));
        assert_eq!(epoch_of(Height(19), l(10)), Epoch(1));
        assert_eq!(first_height(Epoch(2), l(10)), Some(Height(20)));
        assert_eq!(first_height(Epoch(2), ENDLESS), None);
        assert_eq!(last_height(Epoch(2), l(10)), Some(Height(29)));
        for length in [1u64, 2, 3, 7, 10] {
            for epoch in 0..20u64 {
                let (first, end) = (
                    first_height(Epoch(epoch), l(length)).expect("small"),
                    last_height(Epoch(epoch), l(length)).expect("small"),
                );
                assert_eq!(end.get() - first.get() + 1, length);
                assert_eq!(epoch_of(first, l(length)), Epoch(epoch));
                assert_eq!(epoch_of(end, l(length)), Epoch(epoch));
                assert!(is_last(end, l(length)));
                assert_eq!(is_last(first, l(length)), length == 1);
            }
        }
    }

    #[test]
    fn last_height_handles_every_length() {
        assert_eq!(last(0, 10), Some(9));
        assert_eq!(last(9, 10), Some(9));
        assert_eq!(last(10, 10), Some(19));
        assert_eq!(last(7, 1), Some(7));
        assert_eq!(last(u64::MAX, 1), Some(u64::MAX));
        assert_eq!(last(u64::MAX, 1 << 32), Some(u64::MAX));
        // The devnets' single epoch, and the epoch after it that no height ends.
        assert_eq!(last(0, u64::MAX), Some(u64::MAX - 1));
        assert_eq!(last(u64::MAX - 1, u64::MAX), Some(u64::MAX - 1));
        assert_eq!(last(u64::MAX, u64::MAX), None);
        assert_eq!(last((1 << 63) + 1, (1 << 63) + 1), None);
        assert_eq!(furthest_next(Height(u64::MAX), l(10)), None);
        assert_eq!(furthest_next(Height(9), l(10)), Some(Height(19)));
    }

    #[test]
    fn next_target_walks_every_small_case_through_each_epoch_end() {
        for length in 1..=12 {
            for latest in 0..=50 {
                for wanted in 0..=50 {
                    check_walk(latest, length, wanted);
                }
            }
        }
    }

    #[test]
    fn next_target_walks_random_and_extreme_cases() {
        let mut inputs = Inputs(0x007e_571e);
        for _ in 0..200_000 {
            let length = inputs.length();
            let latest = inputs.height(length, 0);
            let wanted = inputs.height(length, latest);
            check_walk(latest, length, wanted);
        }
        for length in [1, 2, u64::MAX - 1, u64::MAX] {
            for latest in [0, 1, u64::MAX - 2, u64::MAX - 1, u64::MAX] {
                for wanted in [0, 1, u64::MAX - 2, u64::MAX - 1, u64::MAX] {
                    check_walk(latest, length, wanted);
                }
            }
        }
    }

    #[test]
    fn next_target_examples() {
        // Within an epoch, straight to the wanted height.
        assert_eq!(target(3, 10, 7), Some(7));
        // Across epochs, the current epoch's end first, then the next one's, then there.
        assert_eq!(target(3, 10, 25), Some(9));
        assert_eq!(target(9, 10, 25), Some(19));
        assert_eq!(target(19, 10, 25), Some(25));
        assert_eq!(target(25, 10, 25), None);
        assert_eq!(target(30, 10, 25), None);
        // One endless epoch (devnets): always straight there.
        assert_eq!(target(3, u64::MAX, 1 << 40), Some(1 << 40));
    }
}
