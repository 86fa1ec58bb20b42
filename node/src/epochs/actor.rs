//! The orchestrator's event loop: it follows the finalized chain (one of the application's
//! sinks), registers each decided committee's scheme, runs the simplex engine of the current
//! epoch and replaces it once the epoch's last block is finalized.

use std::{collections::BTreeMap, num::NonZeroU64, sync::Arc, time::Duration};

use commonware_consensus::{
    Application,
    simplex::{self, elector::RoundRobin},
    types::{Epoch as CwEpoch, Epocher as _, FixedEpocher, Height as CwHeight, ViewDelta},
};
use commonware_cryptography::{Committable as _, ed25519};
use commonware_macros::select;
use commonware_p2p::{
    Blocker, Receiver, Sender,
    utils::mux::{Builder as _, MuxHandle, Muxer},
};
use commonware_parallel::Sequential;
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage, buffer::paged::CacheRef};
use commonware_utils::{channel::mpsc, vec::NonEmptyVec};
use rand::CryptoRng;
use tracing::{debug, info, warn};
use trestle_light_client::{Epoch, Height, epoch};

use super::{EpochError, EpochPeers, EpochSchemes, Peer, PeerSets, Wrapper};
use crate::{
    ConsensusApplication, Marshal, application::Finalized, block::Commitment, timeouts::Timeouts,
};

/// How often at most a future epoch's traffic makes us ask a peer for our epoch's end.
const HINT_INTERVAL: Duration = Duration::from_secs(1);

const WRITE_BUFFER: std::num::NonZeroUsize =
    std::num::NonZeroUsize::new(64 * 1024).expect("non-zero");

/// What the orchestrator needs besides its channels.
pub(crate) struct Config<B> {
    /// Prefix of the storage partitions (`{prefix}-simplex-{epoch}`).
    pub partition_prefix: String,
    /// Heights per epoch.
    pub epoch_length: NonZeroU64,
    /// The commitment of the genesis block (epoch 0's floor).
    pub genesis_commitment: Commitment,
    /// Consensus timeouts.
    pub timeouts: Timeouts,
    /// Blocks misbehaving peers.
    pub blocker: B,
    /// Capacity of each engine's mailboxes.
    pub mailbox_size: std::num::NonZeroUsize,
    /// The page cache the engines' journals share.
    pub page_cache: CacheRef,
    /// Where each epoch's peers are tracked (`None`: the p2p layer's peers are fixed).
    pub peer_sets: Option<Arc<dyn PeerSets>>,
    /// Followers: secondary peers of every epoch.
    pub followers: Vec<Peer>,
}

/// The running engine and its epoch.
struct Current {
    epoch: Epoch,
    handle: Handle<()>,
}

/// The three simplex channels, multiplexed by epoch.
struct Subchannels<S: Sender> {
    votes: MuxHandle<S>,
    certificates: MuxHandle<S>,
    resolver: MuxHandle<S>,
}

/// Runs the epoch orchestrator until the application's finalized stream ends (the application
/// stopped or halted) or an epoch cannot start.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run<E, B, A, S, R>(
    context: E,
    config: Config<B>,
    schemes: EpochSchemes,
    wrapper: Wrapper<E, A>,
    marshal: Marshal,
    mut finalized: mpsc::UnboundedReceiver<Finalized>,
    votes: (S, R),
    certificates: (S, R),
    resolver: (S, R),
) -> Result<(), EpochError>
where
    E: Clock + CryptoRng + Spawner + Storage + Metrics,
    B: Blocker<PublicKey = ed25519::PublicKey> + Clone,
    S: Sender<PublicKey = ed25519::PublicKey>,
    R: Receiver<PublicKey = ed25519::PublicKey>,
    A: ConsensusApplication<E>,
{
    let (votes_mux, votes, mut votes_backup) =
        Muxer::builder(context.child("votes_mux"), votes.0, votes.1).with_backup().build();
    let (certificates_mux, certificates, mut certificates_backup) =
        Muxer::builder(context.child("certificates_mux"), certificates.0, certificates.1)
            .with_backup()
            .build();
    let (resolver_mux, resolver) =
        Muxer::new(context.child("resolver_mux"), resolver.0, resolver.1);
    let muxes = [votes_mux.start(), certificates_mux.start(), resolver_mux.start()];
    let mut subchannels = Subchannels { votes, certificates, resolver };

    // The finalized blocks up to marshal's processed height are the application's replay of
    // an earlier run: they register committees but start no engine (a height
    // acknowledged since is still in the stream, so reading late only skips more replay).
    let processed = marshal.get_processed().await.map_or(0, |p| p.height().get());
    let mut orchestrator = Orchestrator {
        processed,
        epocher: FixedEpocher::new(config.epoch_length),
        floors: BTreeMap::new(),
        config,
        schemes,
        wrapper,
        marshal,
        current: None,
        last_hint: None,
    };
    let result = loop {
        select! {
            block = finalized.recv() => {
                let Some(block) = block else { break Ok(()) };
                if let Err(e) = orchestrator.finalized(&context, &block, &mut subchannels).await {
                    break Err(e);
                }
            },
            message = votes_backup.recv() => {
                let Some((subchannel, (peer, _))) = message else { break Ok(()) };
                orchestrator.future_traffic(&context, subchannel, peer);
            },
            message = certificates_backup.recv() => {
                let Some((subchannel, (peer, _))) = message else { break Ok(()) };
                orchestrator.future_traffic(&context, subchannel, peer);
            },
        }
    };
    if let Some(current) = orchestrator.current.take() {
        current.handle.abort();
    }
    for mux in muxes {
        mux.abort();
    }
    debug!("epoch orchestrator stopped");
    result
}

/// Removes an old epoch's journal (entering e, that of e − 2: its engine stopped an epoch ago
/// and no restart resumes it, since a node restarts in the epoch after its processed height;
/// the previous epoch's engine was aborted just now, so its journal stays a while).
async fn remove_journal(storage: &impl Storage, partition: String) {
    match storage.remove(&partition, None).await {
        Ok(()) => debug!(%partition, "removed an old epoch's journal"),
        Err(commonware_runtime::Error::PartitionMissing(_)) => {}
        Err(e) => warn!(%e, %partition, "could not remove an old epoch's journal"),
    }
}

struct Orchestrator<E, B, A>
where
    A: Application<E, Block = crate::block::Block>,
    E: Clock + Spawner,
{
    config: Config<B>,
    processed: u64,
    schemes: EpochSchemes,
    wrapper: Wrapper<E, A>,
    marshal: Marshal,
    epocher: FixedEpocher,
    /// The floors (view-0 genesis) looked up so far: the commitment of the previous epoch's
    /// last block (the genesis block's for epoch 0).
    floors: BTreeMap<u64, Commitment>,
    current: Option<Current>,
    /// When we last asked for our epoch's end because peers are ahead.
    last_hint: Option<(Epoch, std::time::SystemTime)>,
}

impl<E, B, A> Orchestrator<E, B, A>
where
    E: Clock + CryptoRng + Spawner + Storage + Metrics,
    B: Blocker<PublicKey = ed25519::PublicKey> + Clone,
    A: ConsensusApplication<E>,
{
    /// Learns a finalized block: the committee it names, the floor it sets, and whether the
    /// node moves to the next epoch.
    async fn finalized<S: Sender<PublicKey = ed25519::PublicKey>>(
        &mut self,
        context: &E,
        finalized: &Finalized,
        subchannels: &mut Subchannels<S>,
    ) -> Result<(), EpochError> {
        let height = finalized.header.height;
        let epoch = epoch::epoch_of(height, self.config.epoch_length);
        if let Some(next) = &finalized.succession.next_committee {
            let decided = Epoch(epoch.get() + 2);
            let member = self.schemes.insert(decided, next)?;
            debug!(epoch = decided.get(), member, "committee decided");
        }
        if height.get() < self.processed {
            return Ok(());
        }
        let target =
            epoch::epoch_of(Height(height.get().saturating_add(1)), self.config.epoch_length);
        if self.current.as_ref().is_none_or(|current| current.epoch < target) {
            self.enter(context, target, subchannels).await?;
        }
        Ok(())
    }

    /// The floor of `epoch`: what simplex voted on for the previous epoch's last block, its
    /// commitment, which marshal archived with the block (looked up when the epoch starts, so
    /// a restart reads one block, and a node that prunes old blocks never needs an old one).
    async fn floor(&mut self, epoch: Epoch) -> Result<Commitment, EpochError> {
        if epoch.get() == 0 {
            return Ok(self.config.genesis_commitment);
        }
        if let Some(floor) = self.floors.get(&epoch.get()) {
            return Ok(*floor);
        }
        let last = self.epocher.last(CwEpoch::new(epoch.get() - 1));
        let block = match last {
            Some(height) => self.marshal.get_block(height).await,
            None => None,
        };
        let Some(block) = block else { return Err(EpochError::NoFloor(epoch.get())) };
        self.floors.retain(|&e, _| e + 1 >= epoch.get());
        self.floors.insert(epoch.get(), block.commitment());
        Ok(block.commitment())
    }

    /// Stops the current engine and starts the one of `epoch`.
    async fn enter<S: Sender<PublicKey = ed25519::PublicKey>>(
        &mut self,
        context: &E,
        epoch: Epoch,
        subchannels: &mut Subchannels<S>,
    ) -> Result<(), EpochError> {
        let scheme = self.schemes.get(epoch).ok_or(EpochError::Undecided(epoch.get()))?;
        let floor = self.floor(epoch).await?;
        if let Some(previous) = self.current.take() {
            previous.handle.abort();
        }
        let subchannel = epoch.get();
        let votes = subchannels.votes.register(subchannel).await?;
        let certificates = subchannels.certificates.register(subchannel).await?;
        let resolver = subchannels.resolver.register(subchannel).await?;
        let timeouts = self.config.timeouts;
        let fetch_timeout = timeouts.fetch_timeout()?;
        let member = self.schemes.is_member(epoch);
        let engine = simplex::Engine::new(
            context.child("simplex").with_attribute("epoch", epoch.get()),
            simplex::Config {
                scheme: (*scheme).clone(),
                elector: RoundRobin::<commonware_cryptography::Sha256>::default(),
                blocker: self.config.blocker.clone(),
                automaton: self.wrapper.clone(),
                relay: self.wrapper.clone(),
                reporter: self.wrapper.clone(),
                strategy: Sequential,
                partition: format!("{}-simplex-{}", self.config.partition_prefix, epoch.get()),
                mailbox_size: self.config.mailbox_size,
                epoch: CwEpoch::new(epoch.get()),
                floor: simplex::Floor::Genesis(floor),
                replay_buffer: WRITE_BUFFER,
                write_buffer: WRITE_BUFFER,
                page_cache: self.config.page_cache.clone(),
                leader_timeout: timeouts.leader,
                certification_timeout: timeouts.certification,
                timeout_retry: timeouts.timeout_retry,
                fetch_timeout,
                fetch_retry_delay: Duration::from_millis(100),
                view_retention: ViewDelta::new(10),
                skip: simplex::SkipPolicy::Enabled {
                    timeout: timeouts.skip,
                    budget: simplex::SkipBudget::Participants,
                },
                forward: simplex::ForwardPolicy::SilentLeader,
                track_historical_votes: false,
            },
        );
        self.track(epoch);
        let handle = engine.start(votes, certificates, resolver);
        info!(epoch = epoch.get(), member, "entered epoch");
        self.current = Some(Current { epoch, handle });
        self.last_hint = None;
        if let Some(old) = epoch.get().checked_sub(2) {
            remove_journal(context, format!("{}-simplex-{old}", self.config.partition_prefix))
                .await;
        }
        Ok(())
    }

    /// Tracks the peer set of `epoch`: its committee and the next (decided at the end of the
    /// previous epoch; the current one again should the chain not have named it) as primary
    /// peers, the followers and the most recent former members as secondary ones.
    fn track(&self, epoch: Epoch) {
        let Some(peer_sets) = &self.config.peer_sets else { return };
        let Some(current) = self.schemes.committee(epoch) else { return };
        let next = self.schemes.committee(Epoch(epoch.get() + 1));
        let peers =
            EpochPeers::new(&current, next.as_ref().unwrap_or(&current), &self.config.followers);
        let limit = current.capacity();
        let former = self.schemes.former_members(epoch, limit, |key| peers.contains(key));
        let peers = peers.with_former(former, limit);
        debug!(epoch = epoch.get(), primary = peers.primary.len(), "tracking the epoch's peers");
        peer_sets.track(epoch, peers);
    }

    /// A peer sent consensus traffic for an epoch we do not run. If it is ahead of us, the
    /// network has finalized our epoch's last block: ask that peer for its finalization
    /// (marshal fetches it, walks back to what we have and delivers the blocks, and the
    /// boundary moves us on). Behind us: nothing to do (it asks us the same way).
    fn future_traffic(&mut self, context: &E, subchannel: u64, peer: ed25519::PublicKey) {
        let Some(current) = &self.current else { return };
        if subchannel <= current.epoch.get() {
            return;
        }
        let now = context.current();
        if let Some((epoch, at)) = self.last_hint
            && epoch == current.epoch
            && now.duration_since(at).unwrap_or_default() < HINT_INTERVAL
        {
            return;
        }
        let Some(last) = self.epocher.last(CwEpoch::new(current.epoch.get())) else { return };
        warn!(epoch = current.epoch.get(), ahead = subchannel, %peer, "peers are ahead; fetching the epoch's end");
        self.marshal.hint_finalized(CwHeight::new(last.get()), NonEmptyVec::new(peer));
        self.last_hint = Some((current.epoch, now));
    }
}
