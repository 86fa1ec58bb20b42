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
//!
//! A member registered by DNS name (`host:port`) is dialed by name: the p2p layer resolves it
//! again at every dial, so a validator that moves keeps its seat. Its connections to us are
//! checked against the IP the name resolves to when the set is tracked (once per epoch), as an
//! operator's configured names are at start; with `bypass_ip_check` they are not checked.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    time::{Duration, SystemTime},
};

use commonware_codec::DecodeExt as _;
use commonware_cryptography::ed25519;
use commonware_macros::select;
use commonware_p2p::{
    Address, AddressableManager, AddressableTrackedPeers, Ingress, Manager, TrackedPeers,
};
use commonware_runtime::{Clock, Resolver, Spawner};
use commonware_utils::{
    Hostname,
    ordered::{Map, Set},
};
use tracing::warn;
use trestle_light_client::{Epoch, PeerAddress, rotation::CommitteeRecord};

/// A peer as the p2p layer needs it: its key and, where known, its address.
pub type Peer = (ed25519::PublicKey, Option<PeerAddress>);

/// How long the names of one peer set may take to resolve, all together, before the rest are
/// tracked without a known IP (dials still resolve the name; their connections to us are refused
/// unless `bypass_ip_check`).
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);

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
                Some(known) => {
                    if let Some(address) = &seat.p2p_address {
                        known.1 = Some(address.clone());
                    }
                }
                None => primary.push((key, seat.p2p_address.clone())),
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
/// with a warning: nobody could dial it. A set naming DNS names is tracked once they resolve
/// (or [`RESOLVE_TIMEOUT`] passed), from a task of its own: the orchestrator never waits on DNS.
#[derive(Clone)]
pub struct Addressed<M, E> {
    manager: M,
    book: BTreeMap<ed25519::PublicKey, Address>,
    context: E,
    bypass_ip_check: bool,
}

impl<M, E> Addressed<M, E> {
    /// Tracks through `manager`, with `book` for addresses records do not name, resolving
    /// names with `context`; `bypass_ip_check` as configured for the p2p layer (an unresolved
    /// name is then no reason for a warning).
    pub fn new(
        manager: M,
        book: BTreeMap<ed25519::PublicKey, Address>,
        context: E,
        bypass_ip_check: bool,
    ) -> Self {
        Self { manager, book, context, bypass_ip_check }
    }
}

impl<M, E: Clock + Resolver> Addressed<M, E> {
    /// The addresses of `peers`, names resolved with `resolver` until `deadline`.
    async fn addressed(
        resolver: &E,
        book: &BTreeMap<ed25519::PublicKey, Address>,
        bypass_ip_check: bool,
        epoch: Epoch,
        peers: Vec<Peer>,
        deadline: SystemTime,
    ) -> Map<ed25519::PublicKey, Address> {
        let mut addressed = Vec::with_capacity(peers.len());
        for (key, address) in peers {
            let address = match address {
                Some(PeerAddress::Socket(socket)) => Some(Address::Symmetric(socket)),
                Some(PeerAddress::Dns { host, port }) => {
                    let name = host.as_str();
                    dns_address(resolver, name, port, bypass_ip_check, epoch, deadline).await
                }
                None => book.get(&key).cloned(),
            };
            match address {
                Some(address) => addressed.push((key, address)),
                None => warn!(epoch = epoch.get(), %key, "peer without an address; not tracked"),
            }
        }
        Map::from_iter_dedup(addressed)
    }
}

/// `host:port` as the p2p layer dials it: by name, with the IP it resolves to now as the one its
/// connections must come from (a placeholder when it does not resolve before `deadline`).
async fn dns_address(
    resolver: &(impl Clock + Resolver),
    host: &str,
    port: u16,
    bypass_ip_check: bool,
    epoch: Epoch,
    deadline: SystemTime,
) -> Option<Address> {
    // Our names are RFC 1123 names, which commonware's rules (the same minus the numeric last
    // label) accept; a refusal would be a bug in one of them, so the peer is left out loudly.
    let Ok(hostname) = Hostname::new(host) else {
        warn!(epoch = epoch.get(), host, "p2p address name refused by the p2p layer");
        return None;
    };
    let resolved = select! {
        resolved = resolver.resolve(host) => resolved.ok().and_then(|ips| ips.first().copied()),
        _ = resolver.sleep_until(deadline) => None,
    };
    let egress = resolved.map(|ip| SocketAddr::new(ip, port)).unwrap_or_else(|| {
        if !bypass_ip_check {
            warn!(
                epoch = epoch.get(),
                host, "p2p address does not resolve; dialing it by name, refusing its connections"
            );
        }
        SocketAddr::from(([0, 0, 0, 0], port))
    });
    Some(Address::Asymmetric { ingress: Ingress::Dns { host: hostname, port }, egress })
}

impl<M, E> std::fmt::Debug for Addressed<M, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Addressed").field("book", &self.book).finish_non_exhaustive()
    }
}

impl<M, E> PeerSets for Addressed<M, E>
where
    M: AddressableManager<PublicKey = ed25519::PublicKey> + Sync,
    E: Spawner + Clock + Resolver + Send + Sync + 'static,
{
    fn track(&self, epoch: Epoch, peers: EpochPeers) {
        let (mut manager, book, bypass) =
            (self.manager.clone(), self.book.clone(), self.bypass_ip_check);
        // The p2p layer ignores a set whose id it has passed, so a slow resolution of an older
        // epoch's names cannot replace a newer set.
        self.context.child("peer_set").spawn(move |context| async move {
            let deadline = context.current() + RESOLVE_TIMEOUT;
            let (primary, secondary) = (peers.primary, peers.secondary);
            let primary = Self::addressed(&context, &book, bypass, epoch, primary, deadline).await;
            let secondary =
                Self::addressed(&context, &book, bypass, epoch, secondary, deadline).await;
            let _ = manager.track(epoch.get(), AddressableTrackedPeers::new(primary, secondary));
        });
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

    #[test]
    fn names_are_dialed_by_name_and_checked_against_what_they_resolve_to() {
        use commonware_runtime::{Runner as _, deterministic};
        deterministic::Runner::default().start(|context| async move {
            context.resolver_register("validator-1.example.org", Some(vec![[10, 0, 0, 9].into()]));
            let (named, _) = seat(1, None);
            let (unresolved, _) = seat(2, None);
            let (socket, _) = seat(3, None);
            let (booked, _) = seat(4, None);
            let (nowhere, _) = seat(5, None);
            let book =
                BTreeMap::from([(booked.clone(), Address::Symmetric(([10, 0, 0, 4], 1).into()))]);
            let peers = vec![
                (named.clone(), Some("validator-1.example.org:3000".parse().expect("name"))),
                (unresolved.clone(), Some("validator-2.example.org:3000".parse().expect("name"))),
                (socket.clone(), Some("10.0.0.3:3000".parse().expect("socket"))),
                (booked.clone(), None),
                (nowhere.clone(), None),
            ];
            let deadline = context.current() + RESOLVE_TIMEOUT;
            let addressed =
                Addressed::<(), _>::addressed(&context, &book, false, Epoch(1), peers, deadline)
                    .await;
            let dns =
                |host: &str| Ingress::Dns { host: Hostname::new(host).expect("name"), port: 3000 };
            let expected = [
                (named, dns("validator-1.example.org"), SocketAddr::from(([10, 0, 0, 9], 3000))),
                (
                    unresolved,
                    dns("validator-2.example.org"),
                    SocketAddr::from(([0, 0, 0, 0], 3000)),
                ),
                (
                    socket,
                    Ingress::Socket(([10, 0, 0, 3], 3000).into()),
                    ([10, 0, 0, 3], 3000).into(),
                ),
                (booked, Ingress::Socket(([10, 0, 0, 4], 1).into()), ([10, 0, 0, 4], 1).into()),
            ];
            assert_eq!(addressed.len(), expected.len(), "the peer without an address is left out");
            for (key, ingress, egress) in expected {
                let address = addressed.get_value(&key).expect("tracked");
                assert_eq!((address.ingress(), address.egress()), (ingress, egress), "{key}");
            }
            assert!(addressed.get_value(&nowhere).is_none());
        });
    }
}
