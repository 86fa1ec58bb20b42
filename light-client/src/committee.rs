//! Committees of light-client keys and their Poseidon commitment.
//!
//! A committee is a list of slots `(key, weight)` padded to a fixed *capacity* (the light-client
//! circuit's compile-time size). Its commitment chains Poseidon over the padded slots in
//! circomlib coordinates:
//!
//! ```text
//! acc_0     = Poseidon(TAG, capacity)
//! acc_{i+1} = Poseidon(acc_i, x_i, y_i, weight_i)      for i in 0..capacity
//! commitment = acc_capacity
//! ```
//!
//! Padding slots are `(0, 1, 0)`: the identity point with weight zero, which can never sign.
//! The chain costs one 4-input Poseidon per slot, in the circuit as natively. Voting is
//! equal-weight today (weight 1 each) but the commitment carries weights so a stake-weighted
//! scheme needs no new circuit shape. The commitment is computed once, when the committee is
//! built, and cached.
//!
//! A committee that verifies many states (a node, a relayer, a long-running light client) should
//! call [`Committee::prepare`] once: it precomputes a fixed-base table per member key (64 KiB
//! each), after which every signature check costs a few dozen point additions instead of a full
//! scalar multiplication.

use std::sync::OnceLock;

use alloy_primitives::B256;
use ark_ff::{AdditiveGroup, Field, PrimeField};

use crate::{
    babyjubjub::FixedBaseTable,
    eddsa::PublicKey,
    field::{Fr, fr_to_b256},
    poseidon,
};

/// Largest capacity a committee may have (the network's committee is at most 200 today).
pub const MAX_CAPACITY: usize = 1024;

/// Domain tag of committee commitments: ASCII `trestle.committee.v1`, big-endian.
pub fn committee_tag() -> Fr {
    Fr::from_be_bytes_mod_order(b"trestle.committee.v1")
}

/// Why a committee could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitteeError {
    /// A committee needs at least one member.
    #[error("committee is empty")]
    Empty,
    /// More members than the capacity, or a capacity above [`MAX_CAPACITY`].
    #[error("{members} members do not fit capacity {capacity} (at most {MAX_CAPACITY})")]
    Capacity {
        /// Number of members given.
        members: usize,
        /// Capacity asked for.
        capacity: usize,
    },
    /// A member with weight zero could never count towards a quorum.
    #[error("slot {0} has zero weight")]
    ZeroWeight(usize),
    /// The same key appears twice; it would be counted twice.
    #[error("slot {second} repeats the key of slot {first}")]
    DuplicateKey {
        /// First slot with the key.
        first: usize,
        /// Slot repeating it.
        second: usize,
    },
}

/// One committee member: a light-client key and its voting weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CommitteeSlot {
    /// The member's EdDSA-Poseidon public key.
    pub key: PublicKey,
    /// Voting weight (1 for every member under equal-weight voting).
    pub weight: u64,
}

/// A validated committee with its cached commitment.
#[derive(Clone, Debug)]
pub struct Committee {
    slots: Vec<CommitteeSlot>,
    capacity: usize,
    total_weight: u128,
    commitment: Fr,
    tables: OnceLock<Vec<FixedBaseTable>>,
}

/// Two committees are equal when their members and capacity are; prepared tables are a cache.
impl PartialEq for Committee {
    fn eq(&self, other: &Self) -> bool {
        self.slots == other.slots && self.capacity == other.capacity
    }
}

impl Eq for Committee {}

impl Committee {
    /// Builds a committee of `slots` padded to `capacity`.
    pub fn new(slots: Vec<CommitteeSlot>, capacity: usize) -> Result<Self, CommitteeError> {
        if slots.is_empty() {
            return Err(CommitteeError::Empty);
        }
        if slots.len() > capacity || capacity > MAX_CAPACITY {
            return Err(CommitteeError::Capacity { members: slots.len(), capacity });
        }
        let mut seen = std::collections::HashMap::with_capacity(slots.len());
        for (i, slot) in slots.iter().enumerate() {
            if slot.weight == 0 {
                return Err(CommitteeError::ZeroWeight(i));
            }
            if let Some(first) = seen.insert(slot.key.to_bytes(), i) {
                return Err(CommitteeError::DuplicateKey { first, second: i });
            }
        }
        let total_weight = slots.iter().map(|s| u128::from(s.weight)).sum();
        let commitment = commit(&slots, capacity);
        Ok(Self { slots, capacity, total_weight, commitment, tables: OnceLock::new() })
    }

    /// An equal-weight committee (weight 1 per key).
    pub fn equal_weight(
        keys: impl IntoIterator<Item = PublicKey>,
        capacity: usize,
    ) -> Result<Self, CommitteeError> {
        Self::new(keys.into_iter().map(|key| CommitteeSlot { key, weight: 1 }).collect(), capacity)
    }

    /// The members, in slot order.
    pub fn slots(&self) -> &[CommitteeSlot] {
        &self.slots
    }

    /// The padded size the commitment covers.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Sum of all members' weights.
    pub fn total_weight(&self) -> u128 {
        self.total_weight
    }

    /// The Poseidon commitment as a field element.
    pub fn commitment(&self) -> Fr {
        self.commitment
    }

    /// The commitment as it appears in headers and contracts (big-endian `bytes32`).
    pub fn commitment_bytes(&self) -> B256 {
        fr_to_b256(&self.commitment)
    }

    /// Precomputes each member key's fixed-base table (once; later calls return at once).
    pub fn prepare(&self) -> &Self {
        self.tables.get_or_init(|| {
            self.slots.iter().map(|s| FixedBaseTable::new(s.key.point())).collect()
        });
        self
    }

    /// The members' fixed-base tables, if [`prepare`](Self::prepare) has run.
    pub fn tables(&self) -> Option<&[FixedBaseTable]> {
        self.tables.get().map(Vec::as_slice)
    }

    /// Whether `signed` weight is more than two thirds of the total.
    pub fn is_quorum(&self, signed: u128) -> bool {
        // Weights are u64 and there are at most MAX_CAPACITY of them: 3·total fits in u128.
        3 * signed > 2 * self.total_weight
    }
}

fn commit(slots: &[CommitteeSlot], capacity: usize) -> Fr {
    let padding = (Fr::ZERO, Fr::ONE, Fr::ZERO);
    let mut acc = poseidon::hash_fixed([committee_tag(), Fr::from(capacity as u64)]);
    for i in 0..capacity {
        let (x, y, w) = match slots.get(i) {
            Some(slot) => {
                let (x, y) = slot.key.circom();
                (x, y, Fr::from(slot.weight))
            }
            None => padding,
        };
        acc = poseidon::hash_fixed([acc, x, y, w]);
    }
    acc
}
