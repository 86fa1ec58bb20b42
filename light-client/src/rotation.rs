//! Committee rotation: the L1 reference every block carries, and the rule that turns the stake
//! table at an epoch's last reference into the committee two epochs on (DESIGN §3a).
//!
//! # The L1 reference
//!
//! Every block names an L1 block ([`L1Reference`]: number and hash) that its proposer saw at a
//! safe depth. References never go back along the chain ([`check_advance`]): a child names a
//! later L1 block than its parent, or the same one. Whether the named block is really on L1 is
//! each verifier's own question, asked of its own L1 view (the node waits while its view lags);
//! this module owns only what follows from the chain itself. [`L1Reference::NONE`] is the
//! reference of a network without an L1 (and of any chain before its first reference).
//!
//! # The rotation rule
//!
//! The committee of epoch e+2 is decided by the block at the last height of epoch e, which
//! carries it as a [`CommitteeRecord`]; it is derived, by [`rotate`], from
//! * the committee of epoch e+1 (decided one epoch earlier), and
//! * the stake table at the reference `R` of that last block, when `R` is newer than the
//!   reference of epoch e−1's last block (the genesis reference for e = 0).
//!
//! When `R` did not move (no L1 at all, or an L1 nobody could read for a whole epoch), or when
//! the table holds fewer than [`MIN_COMMITTEE`] eligible registrations, the committee of e+1 is
//! carried forward: epochs have a fixed length, so the rule must always produce a committee,
//! and it produces the same one on every node. Otherwise the committee is the stake table's
//! top `capacity` eligible registrations ([`select_committee`]), in ranking order, which is also
//! their light-client slot order.
//!
//! Because the record is in a finalized block, a node syncing from genesis learns every
//! committee from chain data, checked by the certificates of the committee before it, and
//! never needs a historical L1 read.

use alloy_primitives::B256;

use crate::{
    committee::{Committee, CommitteeError},
    eddsa::PublicKey,
    peer_address::PeerAddress,
    stake::{ConsensusPopVerifier, StakeTableId, StakeTableSnapshot, select_committee},
};

/// Fewest eligible registrations the stake table must hold to replace a committee: below this a
/// BFT committee tolerates no fault, so the current committee is carried forward instead.
pub const MIN_COMMITTEE: usize = 4;

/// An L1 block a trestle block refers to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct L1Reference {
    /// L1 block number.
    pub number: u64,
    /// L1 block hash.
    pub hash: B256,
}

impl L1Reference {
    /// No L1 block: the reference of a network without an L1.
    pub const NONE: Self = Self { number: 0, hash: B256::ZERO };

    /// Whether this is [`L1Reference::NONE`].
    pub fn is_none(&self) -> bool {
        *self == Self::NONE
    }
}

/// Why a block's L1 reference cannot follow its parent's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum L1ReferenceError {
    /// The reference names an earlier L1 block than the parent's.
    #[error("L1 reference {child} is below the parent's {parent}")]
    Regressed {
        /// The parent's L1 block number.
        parent: u64,
        /// The child's.
        child: u64,
    },
    /// The reference names the parent's L1 height with another hash.
    #[error("L1 reference at {number} names hash {child}, the parent named {parent}")]
    Forked {
        /// The L1 block number both name.
        number: u64,
        /// The parent's hash.
        parent: B256,
        /// The child's.
        child: B256,
    },
    /// A reference other than [`L1Reference::NONE`] with a zero hash (no L1 block hashes to 0).
    #[error("L1 reference at {0} has a zero hash")]
    ZeroHash(u64),
}

/// Checks that `child` may follow `parent` along the chain (see the module docs).
pub fn check_advance(parent: &L1Reference, child: &L1Reference) -> Result<(), L1ReferenceError> {
    if !child.is_none() && child.hash.is_zero() {
        return Err(L1ReferenceError::ZeroHash(child.number));
    }
    if child.number < parent.number || (child.is_none() && !parent.is_none()) {
        return Err(L1ReferenceError::Regressed { parent: parent.number, child: child.number });
    }
    // Any L1 block may follow NONE, L1's own genesis (number 0) included.
    if child.number == parent.number && child.hash != parent.hash && !parent.is_none() {
        return Err(L1ReferenceError::Forked {
            number: child.number,
            parent: parent.hash,
            child: child.hash,
        });
    }
    Ok(())
}

/// One member of a committee: what consensus, the light client and the p2p layer need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitteeSeat {
    /// ed25519 consensus (and p2p) public key.
    pub consensus_key: B256,
    /// EdDSA-Poseidon light-client key (its slot is the member's position).
    pub light_client_key: PublicKey,
    /// Where peers reach it (`None` for a genesis validator whose genesis names no address:
    /// its peers know it from their own configuration).
    pub p2p_address: Option<PeerAddress>,
}

/// Why a list of members is not a committee.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Two members share a consensus key.
    #[error("members {first} and {second} share a consensus key")]
    DuplicateConsensusKey {
        /// The first member holding it.
        first: usize,
        /// The member repeating it.
        second: usize,
    },
    /// The light-client committee is invalid (empty, over capacity, duplicate light-client keys).
    #[error(transparent)]
    Committee(#[from] CommitteeError),
}

/// A committee as a boundary block records it: members in light-client slot order, with the
/// light-client committee (capacity and commitment) they form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitteeRecord {
    members: Vec<CommitteeSeat>,
    light_client: Committee,
}

impl CommitteeRecord {
    /// A record of `members` (slot order) padded to the circuit's `capacity`.
    pub fn new(members: Vec<CommitteeSeat>, capacity: usize) -> Result<Self, RecordError> {
        for (second, member) in members.iter().enumerate() {
            if let Some(first) =
                members[..second].iter().position(|m| m.consensus_key == member.consensus_key)
            {
                return Err(RecordError::DuplicateConsensusKey { first, second });
            }
        }
        let light_client =
            Committee::equal_weight(members.iter().map(|m| m.light_client_key), capacity)?;
        Ok(Self { members, light_client })
    }

    /// The members, in slot order.
    pub fn members(&self) -> &[CommitteeSeat] {
        &self.members
    }

    /// The light-client committee (equal weights).
    pub fn light_client(&self) -> &Committee {
        &self.light_client
    }

    /// The circuit capacity the committee is padded to.
    pub fn capacity(&self) -> usize {
        self.light_client.capacity()
    }

    /// The Poseidon commitment headers and light-client states carry.
    pub fn commitment(&self) -> B256 {
        self.light_client.commitment_bytes()
    }

    /// The slot of the member with `consensus_key`.
    pub fn slot_of(&self, consensus_key: &B256) -> Option<usize> {
        self.members.iter().position(|m| &m.consensus_key == consensus_key)
    }
}

/// How [`rotate`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The L1 reference did not move over the epoch: the committee is carried forward.
    Unchanged,
    /// The stake table held fewer than [`MIN_COMMITTEE`] eligible registrations (the count):
    /// the committee is carried forward.
    TooFewEligible(usize),
    /// The committee is the stake table's selection at the epoch's last reference.
    FromStakeTable,
    /// The selection did not form a valid record (cannot happen: [`select_committee`] keeps
    /// keys distinct and within capacity); the committee is carried forward rather than halt.
    InvalidSelection,
}

/// Why [`rotate`] cannot decide yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RotationError {
    /// The reference moved, so the stake table at it is needed.
    #[error("the stake table at L1 block {} is needed", .0.number)]
    StakeTableNeeded(L1Reference),
    /// The network has no stake table, yet the reference moved (a genesis without an L1 admits
    /// only [`L1Reference::NONE`]).
    #[error("the L1 reference moved on a network without a stake table")]
    NoStakeTable,
}

/// Where the stake table is and what it held at the epoch's last reference.
#[derive(Clone, Copy, Debug)]
pub struct StakeTableAt<'a> {
    /// The contract.
    pub table: &'a StakeTableId,
    /// Its events folded up to the reference (`None` when not read yet).
    pub snapshot: Option<&'a StakeTableSnapshot>,
}

/// The committee of epoch e+2 (see the module docs): `next` is the committee of e+1,
/// `previous` the reference of epoch e−1's last block (the genesis reference for e = 0) and
/// `reference` that of epoch e's last block.
pub fn rotate(
    next: &CommitteeRecord,
    previous: &L1Reference,
    reference: &L1Reference,
    stake_table: Option<StakeTableAt<'_>>,
    consensus: &impl ConsensusPopVerifier,
) -> Result<(CommitteeRecord, Rotation), RotationError> {
    if reference == previous {
        return Ok((next.clone(), Rotation::Unchanged));
    }
    let stake_table = stake_table.ok_or(RotationError::NoStakeTable)?;
    let snapshot = stake_table.snapshot.ok_or(RotationError::StakeTableNeeded(*reference))?;
    let selection = select_committee(stake_table.table, snapshot, next.capacity(), consensus);
    if selection.members.len() < MIN_COMMITTEE {
        return Ok((next.clone(), Rotation::TooFewEligible(selection.members.len())));
    }
    let members = selection
        .members
        .iter()
        .map(|member| CommitteeSeat {
            consensus_key: member.registration.consensus_key,
            light_client_key: member.light_client_key,
            p2p_address: Some(member.p2p_address.clone()),
        })
        .collect();
    // select_committee returns at most `capacity` members with distinct keys of both kinds, so
    // the record is valid; were it not, carrying forward is the deterministic answer.
    match CommitteeRecord::new(members, next.capacity()) {
        Ok(record) => Ok((record, Rotation::FromStakeTable)),
        Err(_) => Ok((next.clone(), Rotation::InvalidSelection)),
    }
}
