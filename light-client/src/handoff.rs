//! Following committee hand-offs: how a light client that trusts the committee of one epoch
//! comes to trust the committee of a later one, natively (the same rule `LightClient.sol`
//! enforces on chain, DESIGN §3a).
//!
//! The state at an epoch's last height names the next epoch's committee (`nextCommittee`). A
//! client that trusts C(e) accepts C(e+1) from a [`Handoff`]: that state, signed by a quorum of
//! C(e), and the members of C(e+1), which must hash to the state's `nextCommittee`. Only the
//! *last* height's state may hand over (any other state of e names C(e) itself), so the client
//! needs the network's epoch length; a state of another chain, another epoch or another
//! height is refused. [`follow_handoffs`] applies hand-offs in order, one epoch each.

use std::num::NonZeroU64;

use alloy_primitives::{B256, Bytes};

use crate::{
    committee::{Committee, CommitteeError, CommitteeSlot},
    epoch,
    primitives::{ChainId, Epoch},
    quorum::{QuorumError, StateSignature, select_quorum},
    state::{LightClientState, StateError},
};

/// The trust anchor: the network and the committee whose signatures make a state final.
#[derive(Clone, Debug)]
pub struct Anchor {
    /// The network.
    pub chain_id: ChainId,
    /// The epoch the committee signs for.
    pub epoch: Epoch,
    /// The committee.
    pub committee: Committee,
    /// The network's epoch length ([`ENDLESS`](crate::epoch::ENDLESS) for one endless epoch):
    /// where hand-offs happen ([`follow_handoff`]).
    pub epoch_length: NonZeroU64,
    /// Largest transaction payload of the network.
    pub max_payload: usize,
}

/// One epoch's hand-off, as canonical bytes a node returned (`trestle_epochProof`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase", deny_unknown_fields))]
pub struct Handoff {
    /// `abi.encode(LightClientState)` of the epoch's last state.
    pub state: Bytes,
    /// Signatures of the epoch's committee on it (a quorum of valid ones is enough).
    pub signatures: Vec<StateSignature>,
    /// The members of the next epoch's committee, in slot order.
    pub next_slots: Vec<CommitteeSlot>,
    /// The capacity the next committee is padded to.
    pub next_capacity: u64,
}

/// Why a hand-off is refused (the anchor stays where it was).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandoffError {
    /// The network has one endless epoch: no committee ever hands over.
    #[error("the network has one endless epoch: nothing hands over")]
    Endless,
    /// The state bytes are not a canonical state encoding.
    #[error("malformed hand-off state: {0}")]
    State(StateError),
    /// The state belongs to another network.
    #[error("the hand-off state is for chain {found}, the anchor for chain {expected}")]
    WrongChain {
        /// The anchor's chain id.
        expected: u64,
        /// The state's.
        found: u64,
    },
    /// The state is of another epoch than the anchor's.
    #[error("the hand-off state is of epoch {found}; the anchor is at epoch {expected}")]
    WrongEpoch {
        /// The anchor's epoch.
        expected: u64,
        /// The state's.
        found: u64,
    },
    /// The state is not at the epoch's last height (only that state names the next committee).
    #[error("the hand-off state of epoch {epoch} is at height {found}, not its last ({expected})")]
    NotLastHeight {
        /// The epoch.
        epoch: u64,
        /// Its last height.
        expected: u64,
        /// The state's height.
        found: u64,
    },
    /// The anchor's committee did not sign the state with a quorum.
    #[error("the hand-off state of epoch {epoch} is not signed by a quorum: {source}")]
    Quorum {
        /// The epoch.
        epoch: u64,
        /// Why.
        source: QuorumError,
    },
    /// The next committee's members do not form a committee.
    #[error("the next committee of epoch {epoch} is invalid: {source}")]
    Committee {
        /// The epoch handing over.
        epoch: u64,
        /// Why.
        source: CommitteeError,
    },
    /// The next committee's members hash to another commitment than the state names.
    #[error(
        "the members of epoch {epoch}'s next committee commit to {given}, the state to {state}"
    )]
    NextCommitteeMismatch {
        /// The epoch handing over.
        epoch: u64,
        /// What the members hash to.
        given: B256,
        /// The state's `nextCommittee`.
        state: B256,
    },
}

/// The anchor one epoch on: checks `handoff` against `anchor` and returns the anchor of the next
/// epoch (its committee from the hand-off).
pub fn follow_handoff(anchor: &Anchor, handoff: &Handoff) -> Result<Anchor, HandoffError> {
    let epoch = anchor.epoch;
    if anchor.epoch_length == epoch::ENDLESS {
        return Err(HandoffError::Endless);
    }
    let last = epoch::last_height(epoch, anchor.epoch_length).ok_or(HandoffError::Endless)?;
    let next_epoch = epoch.get().checked_add(1).ok_or(HandoffError::Endless)?;
    let state = LightClientState::decode(&handoff.state).map_err(HandoffError::State)?;
    if state.chain_id != anchor.chain_id {
        return Err(HandoffError::WrongChain {
            expected: anchor.chain_id.get(),
            found: state.chain_id.get(),
        });
    }
    if state.epoch != epoch {
        return Err(HandoffError::WrongEpoch { expected: epoch.get(), found: state.epoch.get() });
    }
    if state.height != last {
        return Err(HandoffError::NotLastHeight {
            epoch: epoch.get(),
            expected: last.get(),
            found: state.height.get(),
        });
    }
    select_quorum(&anchor.committee, &state, &handoff.signatures)
        .map_err(|source| HandoffError::Quorum { epoch: epoch.get(), source })?;
    let capacity = usize::try_from(handoff.next_capacity).unwrap_or(usize::MAX);
    let next = Committee::new(handoff.next_slots.clone(), capacity)
        .map_err(|source| HandoffError::Committee { epoch: epoch.get(), source })?;
    let given = next.commitment_bytes();
    if given != state.next_committee {
        return Err(HandoffError::NextCommitteeMismatch {
            epoch: epoch.get(),
            given,
            state: state.next_committee,
        });
    }
    Ok(Anchor { epoch: Epoch(next_epoch), committee: next, ..anchor.clone() })
}

/// The anchor after `handoffs`, applied in order (each must hand over the epoch the previous
/// one reached). An empty list leaves the anchor as it is.
pub fn follow_handoffs(anchor: &Anchor, handoffs: &[Handoff]) -> Result<Anchor, HandoffError> {
    handoffs.iter().try_fold(anchor.clone(), |anchor, handoff| follow_handoff(&anchor, handoff))
}
