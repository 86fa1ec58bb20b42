//! Newtypes for the protocol's counters and identifiers.
//!
//! Heights, views and epochs are all `u64` on the wire, and mixing them up is the classic
//! consensus bug (a view is *not* a height: nullified views leave gaps, heights never do).
//! Each gets its own type so the compiler keeps them apart.

use core::fmt;

macro_rules! u64_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(transparent))]
        pub struct $name(pub u64);

        impl $name {
            /// The raw integer.
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl From<u64> for $name {
            fn from(value: u64) -> Self {
                Self(value)
            }
        }

        impl From<$name> for u64 {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

u64_newtype!(
    /// Identifies a trestle network; bound into every header and light-client state so a
    /// signature or proof for one network never counts on another.
    ChainId
);
u64_newtype!(
    /// Position of a block in the chain: contiguous from genesis (height 0).
    Height
);
u64_newtype!(
    /// Consensus round in which a block was finalized; strictly increasing but with gaps.
    View
);
u64_newtype!(
    /// Committee period: the committee is fixed for every height of an epoch.
    Epoch
);
u64_newtype!(
    /// A rollup's lane in the network: transactions are grouped and proven per namespace.
    Namespace
);

impl Height {
    /// The next height, or `None` at `u64::MAX`.
    pub const fn checked_next(self) -> Option<Self> {
        match self.0.checked_add(1) {
            Some(next) => Some(Self(next)),
            None => None,
        }
    }
}
