//! The consensus scheme of every epoch whose committee the chain decided: what marshal verifies
//! finalizations with (a certificate [`Provider`] scoped by epoch) and what each epoch's simplex
//! engine signs or verifies with.

use std::{
    collections::BTreeMap,
    sync::{Arc, PoisonError, RwLock},
};

use commonware_codec::DecodeExt as _;
use commonware_consensus::types::Epoch as CwEpoch;
use commonware_cryptography::{
    Signer as _,
    certificate::{Provider, Scheme as _, Scoped},
    ed25519,
};
use commonware_utils::ordered::Set;
use trestle_light_client::{Epoch, rotation::CommitteeRecord};

use super::peers::Peer;
use crate::Scheme;

/// Why a committee cannot become a consensus scheme.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SchemeError {
    /// A member's consensus key is not an ed25519 public key (a committee that passed the
    /// rotation rule never has one: its proofs of possession verified under it).
    #[error("member {slot} of the committee of epoch {epoch} has no ed25519 consensus key")]
    InvalidConsensusKey {
        /// The epoch.
        epoch: u64,
        /// The member's slot.
        slot: usize,
    },
    /// Two members share a consensus key.
    #[error("the committee of epoch {epoch} lists a consensus key twice")]
    DuplicateConsensusKey {
        /// The epoch.
        epoch: u64,
    },
}

/// The ordered consensus keys of a committee (simplex orders participants by key).
pub fn consensus_keys(
    epoch: Epoch,
    committee: &CommitteeRecord,
) -> Result<Set<ed25519::PublicKey>, SchemeError> {
    let keys = committee
        .members()
        .iter()
        .enumerate()
        .map(|(slot, seat)| {
            ed25519::PublicKey::decode(seat.consensus_key.to_vec())
                .map_err(|_| SchemeError::InvalidConsensusKey { epoch: epoch.get(), slot })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Set::try_from(keys).map_err(|_| SchemeError::DuplicateConsensusKey { epoch: epoch.get() })
}

/// Committees and their schemes by epoch, shared by marshal (as its [`Provider`]) and the epoch orchestrator (which
/// inserts each epoch's scheme once the chain decided its committee). Past epochs are kept:
/// ed25519 certificates can only be checked against the committee that signed them, and a
/// lagging peer may ask for any of them.
#[derive(Clone)]
pub struct EpochSchemes {
    namespace: Arc<[u8]>,
    identity: ed25519::PrivateKey,
    schemes: Arc<RwLock<BTreeMap<u64, Decided>>>,
}

/// A decided epoch: its committee and the scheme made of it.
struct Decided {
    committee: Arc<CommitteeRecord>,
    scheme: Arc<Scheme>,
}

impl std::fmt::Debug for EpochSchemes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let epochs: Vec<u64> = self.read().keys().copied().collect();
        f.debug_struct("EpochSchemes").field("epochs", &epochs).finish()
    }
}

impl EpochSchemes {
    /// No epoch yet; `identity` signs in the epochs whose committee includes it.
    pub fn new(namespace: &[u8], identity: ed25519::PrivateKey) -> Self {
        Self { namespace: namespace.into(), identity, schemes: Arc::default() }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<u64, Decided>> {
        // A panic while holding the lock cannot leave the map half-written (one insert).
        self.schemes.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers the committee of `epoch`: a signing scheme if our key is a member, a
    /// verifying one otherwise. Returns whether we are a member. Registering an epoch again
    /// (a replayed block) keeps the first scheme.
    pub fn insert(
        &self,
        epoch: Epoch,
        committee: &Arc<CommitteeRecord>,
    ) -> Result<bool, SchemeError> {
        let participants = consensus_keys(epoch, committee)?;
        let scheme = Scheme::signer(&self.namespace, participants.clone(), self.identity.clone())
            .unwrap_or_else(|| Scheme::verifier(&self.namespace, participants));
        let member = scheme.me().is_some();
        let mut schemes = self.schemes.write().unwrap_or_else(PoisonError::into_inner);
        schemes
            .entry(epoch.get())
            .or_insert_with(|| Decided { committee: committee.clone(), scheme: Arc::new(scheme) });
        Ok(member)
    }

    /// The scheme of `epoch`, once its committee is decided.
    pub fn get(&self, epoch: Epoch) -> Option<Arc<Scheme>> {
        self.read().get(&epoch.get()).map(|decided| decided.scheme.clone())
    }

    /// The committee of `epoch`, once decided.
    pub fn committee(&self, epoch: Epoch) -> Option<Arc<CommitteeRecord>> {
        self.read().get(&epoch.get()).map(|decided| decided.committee.clone())
    }

    /// Up to `limit` distinct members of the committees before `epoch` for which `skip` is
    /// false, most recent epoch first (each committee in slot order). Each key is decoded once
    /// (a member of many committees is seen by its bytes first); members whose consensus key
    /// does not decode are left out. The walk stops at `limit`, so entering an epoch costs
    /// the same however long the chain.
    pub fn former_members(
        &self,
        epoch: Epoch,
        limit: usize,
        skip: impl Fn(&ed25519::PublicKey) -> bool,
    ) -> Vec<Peer> {
        let schemes = self.read();
        let mut seen = std::collections::HashSet::new();
        let mut former = Vec::new();
        for seat in schemes.range(..epoch.get()).rev().flat_map(|(_, d)| d.committee.members()) {
            if former.len() == limit {
                break;
            }
            if !seen.insert(seat.consensus_key) {
                continue;
            }
            let Ok(key) = ed25519::PublicKey::decode(seat.consensus_key.to_vec()) else {
                continue;
            };
            if !skip(&key) {
                former.push((key, seat.p2p_address.clone()));
            }
        }
        former
    }

    /// Whether our key is in the committee of `epoch` (`false` while undecided).
    pub fn is_member(&self, epoch: Epoch) -> bool {
        self.get(epoch).is_some_and(|scheme| scheme.me().is_some())
    }

    /// Our consensus key.
    pub fn public_key(&self) -> ed25519::PublicKey {
        self.identity.public_key()
    }
}

impl Provider for EpochSchemes {
    type Scope = CwEpoch;
    type Scheme = Scheme;

    fn scoped(&self, epoch: CwEpoch) -> Option<Scoped<Scheme>> {
        self.get(Epoch(epoch.get())).map(Scoped::scheme)
    }
}

#[cfg(test)]
mod tests {
    use commonware_codec::Encode as _;
    use trestle_light_client::{B256, SecretKey, rotation::CommitteeSeat};

    use super::*;

    fn committee(members: &[u64]) -> Arc<CommitteeRecord> {
        let seats = members
            .iter()
            .map(|&i| CommitteeSeat {
                consensus_key: B256::from_slice(&key(i).encode()),
                light_client_key: *SecretKey::from_seed([i as u8 + 1; 32]).public_key(),
                p2p_address: None,
            })
            .collect();
        Arc::new(CommitteeRecord::new(seats, 8).expect("valid"))
    }

    fn key(i: u64) -> ed25519::PublicKey {
        ed25519::PrivateKey::from_seed(i).public_key()
    }

    #[test]
    fn former_members_are_distinct_newest_first_skipped_and_bounded() {
        let schemes = EpochSchemes::new(b"test", ed25519::PrivateKey::from_seed(99));
        for (epoch, members) in [(0, &[1, 2, 3][..]), (1, &[1, 2, 4]), (2, &[2, 5, 6]), (3, &[7])] {
            schemes.insert(Epoch(epoch), &committee(members)).expect("valid");
        }
        let keys = |peers: Vec<Peer>| peers.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        // Before epoch 3: epoch 2's members, then epoch 1's and 0's not seen yet; 2 is skipped.
        let all = schemes.former_members(Epoch(3), 10, |k| *k == key(2));
        assert_eq!(keys(all), vec![key(5), key(6), key(1), key(4), key(3)]);
        let bounded = schemes.former_members(Epoch(3), 3, |_| false);
        assert_eq!(keys(bounded), vec![key(2), key(5), key(6)]);
        assert!(schemes.former_members(Epoch(0), 10, |_| false).is_empty());
    }
}
