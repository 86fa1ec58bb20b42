//! The committees the chain decided, by epoch, and the rotation rule applied to this node's L1
//! view (DESIGN §3a; the rule itself is [`trestle_light_client::rotation`]).
//!
//! Epochs 0 and 1 belong to the genesis committee. The block at the last height of epoch e
//! names the committee of e+2; when it is finalized, [`Committees::decide`] records that
//! committee and the block's L1 reference (the "previous" reference of epoch e+1's rotation).
//! Everything here comes from finalized blocks, so a node replaying its chain rebuilds the
//! same store without asking L1.

use std::{collections::BTreeMap, sync::Arc};

use alloy_primitives::B256;
use trestle_api::stake::Ed25519Pops;
use trestle_light_client::{
    Epoch,
    rotation::{CommitteeRecord, L1Reference, Rotation, RotationError, StakeTableAt, rotate},
};

use crate::{l1::L1View, rules::ChainParams};

/// Committees by epoch, and the L1 references of the epochs' last blocks.
#[derive(Clone, Debug)]
pub(crate) struct Committees {
    by_epoch: BTreeMap<Epoch, Arc<CommitteeRecord>>,
    boundary_l1: BTreeMap<Epoch, L1Reference>,
    genesis_l1: L1Reference,
}

impl Committees {
    /// The store of a fresh chain: the genesis committee for epochs 0 and 1.
    pub(crate) fn new(params: &ChainParams) -> Self {
        let genesis = params.genesis_committee.clone();
        Self {
            by_epoch: BTreeMap::from([(Epoch(0), genesis.clone()), (Epoch(1), genesis)]),
            boundary_l1: BTreeMap::new(),
            genesis_l1: params.genesis_l1,
        }
    }

    /// The committee of `epoch`, once decided.
    pub(crate) fn get(&self, epoch: Epoch) -> Option<&Arc<CommitteeRecord>> {
        self.by_epoch.get(&epoch)
    }

    /// The commitment of the committee of `epoch`, once decided.
    pub(crate) fn commitment(&self, epoch: Epoch) -> Option<B256> {
        self.get(epoch).map(|record| record.commitment())
    }

    /// The reference the rotation at the end of `epoch` compares with: that of epoch − 1's
    /// last block, or the genesis reference for epoch 0 (`None` before it is finalized).
    fn previous_reference(&self, epoch: Epoch) -> Option<L1Reference> {
        match epoch.get().checked_sub(1) {
            None => Some(self.genesis_l1),
            Some(previous) => self.boundary_l1.get(&Epoch(previous)).copied(),
        }
    }

    /// The committee of `epoch + 2` that a last block of `epoch` with L1 reference `reference`
    /// must name, read from `view` when the reference moved.
    pub(crate) fn expected_next(
        &self,
        params: &ChainParams,
        epoch: Epoch,
        reference: &L1Reference,
        view: &L1View,
    ) -> Result<(CommitteeRecord, Rotation), ExpectedError> {
        let next = self.get(Epoch(epoch.get() + 1)).ok_or(ExpectedError::Undecided)?;
        let previous = self.previous_reference(epoch).ok_or(ExpectedError::Undecided)?;
        let snapshot = view.stake_table_at(reference);
        let stake_table = params
            .stake_table
            .as_ref()
            .map(|table| StakeTableAt { table, snapshot: snapshot.as_deref() });
        rotate(next, &previous, reference, stake_table, &Ed25519Pops)
            .map_err(ExpectedError::Rotation)
    }

    /// Records what the finalized last block of `epoch` decided.
    pub(crate) fn decide(
        &mut self,
        epoch: Epoch,
        reference: L1Reference,
        next: Arc<CommitteeRecord>,
    ) {
        self.boundary_l1.insert(epoch, reference);
        self.by_epoch.insert(Epoch(epoch.get() + 2), next);
    }
}

/// Why the expected committee cannot be computed now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExpectedError {
    /// The chain has not decided the committee of the next epoch or the previous reference
    /// (the node is behind: not a fault of the block).
    Undecided,
    /// The rotation rule needs what the view cannot give yet, or refuses.
    Rotation(RotationError),
}
