//! Which configured peers this node has heard from, and a warning for each one it never has.
//!
//! A peer that is configured but never reached is the most common operator mistake on a new
//! network (a wrong address or port, a firewall, a NAT without `bypass_ip_check`, or its
//! configuration not listing us): consensus goes on without it while a quorum remains, so
//! nothing else would say so. Every receiver the engine reads is wrapped in [`Heard`], which marks
//! the sender of each message as reached; [`watch`] logs a warning naming every configured peer
//! not yet heard from after a grace period and again every [`REPEAT`], an info line when one is
//! first heard after it was reported, and keeps the count in the `peers_unreached` gauge.
//!
//! Heard from means one message on any channel: a peer is never marked unreached again (a
//! peer that goes away later shows in consensus metrics and in its absence from votes).

use std::{
    collections::BTreeMap,
    num::NonZeroUsize,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use commonware_cryptography::ed25519;
use commonware_p2p::{Message, Receiver};
use commonware_runtime::{Clock, telemetry::metrics::MetricsExt};
use tracing::{info, warn};

/// How long after start a configured peer may stay silent before the first warning.
pub const GRACE: Duration = Duration::from_secs(30);
/// How often the warning is repeated while a peer stays unreached.
pub const REPEAT: Duration = Duration::from_secs(300);
/// How often the peers are looked at (the gauge, and the note that a reported peer was reached).
pub const TICK: Duration = Duration::from_secs(5);

/// Configured peers and whether each has been heard from (shared by every [`Heard`]).
#[derive(Clone, Debug)]
pub struct Reached {
    index: Arc<BTreeMap<ed25519::PublicKey, usize>>,
    heard: Arc<[AtomicBool]>,
}

impl Reached {
    /// Tracks `peers` (none heard yet).
    pub fn new(peers: impl IntoIterator<Item = ed25519::PublicKey>) -> Self {
        let index: BTreeMap<_, _> = peers.into_iter().enumerate().map(|(i, k)| (k, i)).collect();
        let heard = (0..index.len()).map(|_| AtomicBool::new(false)).collect();
        Self { index: Arc::new(index), heard }
    }

    /// Marks `peer` as heard from (a peer that is not configured is ignored).
    pub fn mark(&self, peer: &ed25519::PublicKey) {
        if let Some(&i) = self.index.get(peer) {
            // Relaxed: a flag read by a periodic report, ordering nothing else.
            self.heard[i].store(true, Ordering::Relaxed);
        }
    }

    /// Whether `peer` has been heard from.
    pub fn has_heard(&self, peer: &ed25519::PublicKey) -> bool {
        self.index.get(peer).is_some_and(|&i| self.heard[i].load(Ordering::Relaxed))
    }
}

/// A receiver that marks the sender of every message it yields as reached.
#[derive(Debug)]
pub struct Heard<R> {
    inner: R,
    reached: Reached,
}

impl<R> Heard<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, reached: Reached) -> Self {
        Self { inner, reached }
    }
}

impl<R: Receiver<PublicKey = ed25519::PublicKey>> Receiver for Heard<R> {
    type Error = R::Error;
    type PublicKey = ed25519::PublicKey;

    async fn recv(&mut self) -> Result<Message<Self::PublicKey>, Self::Error> {
        let message = self.inner.recv().await?;
        self.reached.mark(&message.0);
        Ok(message)
    }

    fn capacity(&self) -> NonZeroUsize {
        self.inner.capacity()
    }
}

/// Reports configured peers (key and configured address) never heard from: a warning for each
/// after [`GRACE`] and every [`REPEAT`] while it stays unheard, an info line within a [`TICK`]
/// of hearing one that was reported; the gauge follows every tick. Runs until the runtime stops.
pub async fn watch<E: Clock + MetricsExt>(
    context: E,
    peers: Vec<(ed25519::PublicKey, String)>,
    reached: Reached,
) {
    let gauge = context.gauge("peers_unreached", "configured peers never heard from");
    // Until the first look, every peer counts as unreached (a reader waiting for 0 must not
    // take the gauge's initial value for an answer).
    gauge.set(i64::try_from(peers.len()).unwrap_or(i64::MAX));
    let mut reported = vec![false; peers.len()];
    let mut elapsed = Duration::ZERO;
    let mut next_report = GRACE;
    loop {
        context.sleep(TICK).await;
        elapsed += TICK;
        let mut unreached = Vec::new();
        for (i, (key, address)) in peers.iter().enumerate() {
            if !reached.has_heard(key) {
                unreached.push(i);
            } else if reported[i] {
                info!(peer = %key, %address, "configured peer reached at last");
                reported[i] = false;
            }
        }
        gauge.set(i64::try_from(unreached.len()).unwrap_or(i64::MAX));
        if elapsed < next_report || unreached.is_empty() {
            continue;
        }
        for i in unreached {
            let (key, address) = &peers[i];
            reported[i] = true;
            warn!(
                peer = %key,
                %address,
                silent_for = ?elapsed,
                "configured peer never reached: check its address and port, that it runs, \
                 firewalls and NAT (bypass_ip_check), and that its configuration lists this node"
            );
        }
        next_report = elapsed + REPEAT;
    }
}

#[cfg(test)]
mod tests {
    use commonware_cryptography::Signer as _;

    use super::*;

    #[test]
    fn marks_only_configured_peers() {
        let key = |seed| ed25519::PrivateKey::from_seed(seed).public_key();
        let reached = Reached::new([key(1), key(2)]);
        assert!(!reached.has_heard(&key(1)));
        reached.mark(&key(1));
        reached.mark(&key(3));
        assert!(reached.has_heard(&key(1)));
        assert!(!reached.has_heard(&key(2)));
        assert!(!reached.has_heard(&key(3)), "not configured");
        let clone = reached.clone();
        clone.mark(&key(2));
        assert!(reached.has_heard(&key(2)), "clones share the flags");
    }

    /// The gauge counts the configured peers not heard from after the grace period, and drops
    /// as they are heard.
    #[test]
    fn gauge_counts_unreached_peers_after_the_grace_period() {
        use commonware_runtime::{
            Metrics as _, Runner as _, Spawner as _, Supervisor as _, deterministic,
        };
        let key = |seed| ed25519::PrivateKey::from_seed(seed).public_key();
        deterministic::Runner::default().start(|context| async move {
            let peers = vec![(key(1), "a:1".to_string()), (key(2), "b:2".to_string())];
            let reached = Reached::new(peers.iter().map(|(k, _)| k.clone()));
            let watched = reached.clone();
            context.child("reach").spawn(move |context| watch(context, peers, watched));
            let unreached = |text: String| {
                text.lines()
                    .find(|l| l.contains("peers_unreached") && !l.starts_with('#'))
                    .map(|l| l.rsplit(' ').next().unwrap_or_default().to_string())
            };
            // Half a tick in: the watcher has registered the gauge but not looked yet.
            context.sleep(TICK / 2).await;
            assert_eq!(unreached(context.encode()).as_deref(), Some("2"), "before the first look");
            reached.mark(&key(1));
            context.sleep(GRACE).await;
            assert_eq!(unreached(context.encode()).as_deref(), Some("1"));
            reached.mark(&key(2));
            context.sleep(TICK).await;
            assert_eq!(unreached(context.encode()).as_deref(), Some("0"));
        });
    }
}
