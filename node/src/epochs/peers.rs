//! Peer sets by epoch: whom the p2p layer connects to while an epoch runs.
//!
//! Entering epoch e, the orchestrator tracks peer set `e`: the members of C(e) and of C(e+1)
//! as primary peers (C(e+1) was decided at the end of e−1, so a validator that joins in e+1
//! is dialed, synced and heard during all of e), and as secondary peers (accepted and served,
//! never dialed) the node's configured followers and the most recent former members (up to
//! the capacity: a validator that leaves keeps following, [`EpochPeers::with_former`]). Every
//! node derives the same sets from the same finalized chain, so every node tracks the same set
//! under the same id (the p2p layer requires both). Sets are tracked only for epochs the node runs: a restarted node
//! replays its chain silently and tracks the epoch it resumes in.
//!
//! Two implementations: [`Addressed`] for the real network (`authenticated::lookup`), which
//! needs each peer's address (from the committee record, which carries the address each
//! validator registered, or from the operator's peer list), and [`Keyed`] for networks that
//! know peers by key only (the simulated network).

use std::{collections::BTreeMap, net::SocketAddr};

use commonware_codec::DecodeExt as _;
use commonware_cryptography::ed25519;
use commonware_p2p::{Address, AddressableManager, AddressableTrackedPeers, Manager, TrackedPeers};
use commonware_utils::ordered::{Map, Set};
use tracing::warn;
use trestle_light_client::{Epoch, rotation::CommitteeRecord};

/// A peer as the p2p layer needs it: its key and, where known, its address.
pub type Peer = (ed25519::PublicKey, Option<SocketAddr>);

/// The peers of one epoch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EpochPeers {
    /// Members of the epoch's committee and of the next one (dialed).
    pub primary: Vec<Peer>,
    /// Followers (accepted and served; never among `primary`).
    pub secondary: Vec<Peer>,
}

impl EpochPeers {
    /// The peers of an epoch run by `current`, handing over to `next`, with `followers`.
    /// Members whose consensus key does not decode are left out (the scheme of that epoch
    /// refuses the committee anyway).
    pub fn new(current: &CommitteeRecord, next: &CommitteeRecord, followers: &[Peer]) -> Self {
        let mut primary: Vec<Peer> = Vec::new();
        for seat in current.members().iter().chain(next.members()) {
            let Ok(key) = ed25519::PublicKey::decode(seat.consensus_key.to_vec()) else {
                continue;
            };
            match primary.iter_mut().find(|(k, _)| *k == key) {
                // The later committee's record holds the newer registration.
                Some(known) => known.1 = seat.p2p_address.or(known.1),
                None => primary.push((key, seat.p2p_address)),
            }
        }
        let secondary = followers
            .iter()
            .filter(|(key, _)| primary.iter().all(|(k, _)| k != key))
            .cloned()
            .collect();
        Self { primary, secondary }
    }

    /// Whether `key` is already in the set (primary or secondary).
    pub fn contains(&self, key: &ed25519::PublicKey) -> bool {
        self.primary.iter().chain(&self.secondary).any(|(k, _)| k == key)
    }

    /// Adds up to `limit` of the `former` members (most recent first) to the secondary peers,
    /// skipping those already in the set: a validator that left the committee (deregistered,
    /// or displaced by more stake) drops back to following, which it can only do while the
    /// committee accepts its connections. Bounded, so that the set keeps a fixed size: the
    /// `limit` most recent leavers follow without being anyone's configured follower.
    pub fn with_former(mut self, former: impl IntoIterator<Item = Peer>, limit: usize) -> Self {
        let mut added = 0;
        for (key, address) in former {
            if added == limit {
                break;
            }
            if self.contains(&key) {
                continue;
            }
            self.secondary.push((key, address));
            added += 1;
        }
        self
    }

    /// The most peers one set can hold with committees of at most `capacity` members,
    /// `capacity` former members and `followers` followers, ourselves included (the p2p
    /// layers' `max_peers_per_set`, which they assert).
    pub fn max_per_set(capacity: usize, followers: usize) -> usize {
        capacity.saturating_mul(3).saturating_add(followers).saturating_add(1)
    }
}

/// Where the orchestrator reports each epoch's peers (shared: `Arc<dyn PeerSets>`).
pub trait PeerSets: Send + Sync + std::fmt::Debug + 'static {
    /// Tracks `peers` as the set of `epoch` (the p2p layer ignores an id it has passed).
    fn track(&self, epoch: Epoch, peers: EpochPeers);
}

/// Peer sets for a network that knows peers by key only.
#[derive(Clone)]
pub struct Keyed<M> {
    manager: M,
}

impl<M> Keyed<M> {
    /// Tracks through `manager`.
    pub fn new(manager: M) -> Self {
        Self { manager }
    }
}

impl<M> std::fmt::Debug for Keyed<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyed").finish_non_exhaustive()
    }
}

impl<M: Manager<PublicKey = ed25519::PublicKey> + Sync> PeerSets for Keyed<M> {
    fn track(&self, epoch: Epoch, peers: EpochPeers) {
        let primary = Set::from_iter_dedup(peers.primary.into_iter().map(|(key, _)| key));
        let secondary = Set::from_iter_dedup(peers.secondary.into_iter().map(|(key, _)| key));
        // Managers are mailbox handles: a clone reaches the same p2p layer.
        let _ = self.manager.clone().track(epoch.get(), TrackedPeers::new(primary, secondary));
    }
}

/// Peer sets for a network that dials peers at their addresses. The record's address wins;
/// `book` (the operator's peer list, ourselves included) fills in members the record names no
/// address for (genesis validators whose genesis lists none). A member with neither is left out
/// with a warning: nobody could dial it.
#[derive(Clone)]
pub struct Addressed<M> {
    manager: M,
    book: BTreeMap<ed25519::PublicKey, Address>,
}

impl<M> Addressed<M> {
    /// Tracks through `manager`, with `book` for addresses records do not name.
    pub fn new(manager: M, book: BTreeMap<ed25519::PublicKey, Address>) -> Self {
        Self { manager, book }
    }

    fn addressed(&self, epoch: Epoch, peers: Vec<Peer>) -> Map<ed25519::PublicKey, Address> {
        Map::from_iter_dedup(peers.into_iter().filter_map(|(key, address)| {
            match address.map(Address::from).or_else(|| self.book.get(&key).cloned()) {
                Some(address) => Some((key, address)),
                None => {
                    warn!(epoch = epoch.get(), %key, "peer without an address; not tracked");
                    None
                }
            }
        }))
    }
}

impl<M> std::fmt::Debug for Addressed<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Addressed").field("book", &self.book).finish_non_exhaustive()
    }
}

impl<M: AddressableManager<PublicKey = ed25519::PublicKey> + Sync> PeerSets for Addressed<M> {
    fn track(&self, epoch: Epoch, peers: EpochPeers) {
        let primary = self.addressed(epoch, peers.primary);
        let secondary = self.addressed(epoch, peers.secondary);
        let peers = AddressableTrackedPeers::new(primary, secondary);
        let _ = self.manager.clone().track(epoch.get(), peers);
    }
}

#[cfg(test)]
mod tests {
    use commonware_codec::Encode as _;
    use commonware_cryptography::Signer as _;
    use trestle_light_client::{B256, SecretKey, rotation::CommitteeSeat};

    use super::*;

    fn seat(i: u64, address: Option<&str>) -> (ed25519::PublicKey, CommitteeSeat) {
        let key = ed25519::PrivateKey::from_seed(i).public_key();
        let seat = CommitteeSeat {
            consensus_key: B256::from_slice(&key.encode()),
            light_client_key: *SecretKey::from_seed([i as u8 + 1; 32]).public_key(),
            p2p_address: address.map(|a| a.parse().expect("an address")),
        };
        (key, seat)
    }

    #[test]
    fn an_epoch_tracks_both_committees_once_and_followers_beside_them() {
        let members: Vec<_> = (0..5).map(|i| seat(i, None)).collect();
        let (_, moved) = seat(2, Some("10.0.0.2:9000"));
        let current =
            CommitteeRecord::new(members[..4].iter().map(|(_, s)| s.clone()).collect(), 8)
                .expect("valid");
        let next = CommitteeRecord::new(
            vec![members[1].1.clone(), moved, members[3].1.clone(), members[4].1.clone()],
            8,
        )
        .expect("valid");
        let follower = ed25519::PrivateKey::from_seed(9).public_key();
        let followers = [(members[4].0.clone(), None), (follower.clone(), None)];
        let peers = EpochPeers::new(&current, &next, &followers);
        let keys: Vec<_> = peers.primary.iter().map(|(k, _)| k.clone()).collect();
        let expected: Vec<_> = members.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(keys, expected, "C(e) ∪ C(e+1), each once");
        assert_eq!(peers.primary[2].1, Some("10.0.0.2:9000".parse().expect("an address")));
        assert_eq!(peers.secondary, vec![(follower, None)], "a member is no follower");
        assert!(EpochPeers::max_per_set(8, 1) > peers.primary.len() + peers.secondary.len());
    }

    #[test]
    fn former_members_follow_up_to_the_limit_most_recent_first() {
        let members: Vec<_> = (0..4).map(|i| seat(i, None)).collect();
        let current = CommitteeRecord::new(members.iter().map(|(_, s)| s.clone()).collect(), 4)
            .expect("valid");
        let key = |i| ed25519::PrivateKey::from_seed(i).public_key();
        let follower = (key(9), None);
        let former =
            [(key(1), None), (key(5), None), (key(9), None), (key(6), None), (key(7), None)];
        let peers = EpochPeers::new(&current, &current, std::slice::from_ref(&follower))
            .with_former(former, 2);
        let secondary: Vec<_> = peers.secondary.iter().map(|(k, _)| k.clone()).collect();
        // Member 1 and the follower are already in the set; 5 and 6 are the two most recent.
        assert_eq!(secondary, vec![key(9), key(5), key(6)]);
        let most = EpochPeers::max_per_set(4, 1);
        let next =
            CommitteeRecord::new((4..8).map(|i| seat(i, None).1).collect(), 4).expect("valid");
        let full = EpochPeers::new(&current, &next, std::slice::from_ref(&follower))
            .with_former((10..20).map(|i| (key(i), None)), 4);
        assert_eq!(full.primary.len() + full.secondary.len() + 1, most, "the bound is tight");
    }
}
