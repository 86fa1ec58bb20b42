//! Wiring of one validator: application actor, marshal (+ erasure-coded shard dissemination and
//! backfill resolver), and simplex consensus, over any commonware runtime and p2p channels.
//!
//! Blocks travel erasure-coded (commonware `marshal::coding`, DESIGN §3b): the leader sends
//! each committee member one Reed-Solomon shard (about |B|/(f+1) bytes) and each member
//! forwards its own, so any f+1 shards rebuild the block; votes sign the [`Commitment`]
//! (block digest, coding root, context hash, coding config).
//!
//! Channels (one per concern; the same numbers on every validator):
//!
//! | channel | user | carries |
//! |---|---|---|
//! | [`CHANNEL_VOTES`] | simplex | notarize / nullify / finalize votes |
//! | [`CHANNEL_CERTIFICATES`] | simplex | notarizations, nullifications, finalizations |
//! | [`CHANNEL_RESOLVER`] | simplex | fetches of missing certificates |
//! | [`CHANNEL_BROADCAST`] | marshal's shard engine | erasure-coded shards of proposals |
//! | [`CHANNEL_BACKFILL`] | marshal's resolver | blocks/finalizations a lagging node lacks |
//! | [`CHANNEL_SIGNATURES`] | [`signatures`](crate::signatures) | light-client state signatures |
//! | [`CHANNEL_MEMPOOL`] | [`gossip`](crate::gossip) | admitted transactions, to the next leaders |
//!
//! The three simplex channels are multiplexed by epoch: each epoch's engine has subchannel `e`
//! of each ([`epochs`]).
//!
//! Storage partitions are prefixed with [`EngineConfig::partition_prefix`]: simplex's journal
//! of each epoch (`{prefix}-simplex-{e}`), marshal's caches and metadata (`{prefix}-marshal-*`) and the two
//! archives of finalized blocks and finalizations (`{prefix}-blocks-*`,
//! `{prefix}-finalizations-*`: immutable on an archival node, prunable `*-pruned-*` ones on a
//! node with a retention, see [`application::retention`]). Restarting with the same prefix resumes from them. The
//! signatures actor uses its own [`signatures::Config::partition_prefix`].

use std::{
    num::{NonZeroU16, NonZeroU64, NonZeroUsize},
    sync::Arc,
    time::Duration,
};

use commonware_consensus::{
    marshal::{
        self,
        coding::{Marshaled, MarshaledConfig, shards, types::CodedBlock as Coded},
        core::Actor as MarshalActor,
        resolver::p2p as marshal_resolver,
    },
    simplex,
    types::{FixedEpocher, ViewDelta},
};
use commonware_cryptography::{Digestible as _, Signer as _, ed25519};
use commonware_p2p::{Blocker, Provider, Receiver, Sender, utils::mux};
use commonware_parallel::Sequential;
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage, buffer::paged::CacheRef};
use commonware_storage::{
    archive::{immutable, prunable},
    translator::EightCap,
};
use rand::CryptoRng;
use trestle_light_client::Epoch;

use crate::{
    ConsensusApplication, Marshal, MarshalVariant, Scheme,
    application::{
        self, Actor as AppActor, FinalizeError, Mailbox,
        retention::{PRUNE_STEP, RetentionError, check_retention},
    },
    block::{BlockCodec, BlockLimits, Commitment, uncoded_commitment},
    epochs::{self, EpochSchemes, Peer, PeerSets},
    gossip,
    known::KnownTransactions,
    rules, signatures,
    timeouts::{Timeouts, TimeoutsError},
};

/// Simplex votes.
pub const CHANNEL_VOTES: u64 = 0;
/// Simplex certificates.
pub const CHANNEL_CERTIFICATES: u64 = 1;
/// Simplex certificate fetches.
pub const CHANNEL_RESOLVER: u64 = 2;
/// Marshal's erasure-coded block dissemination (shards).
pub const CHANNEL_BROADCAST: u64 = 3;
/// Marshal's backfill.
pub const CHANNEL_BACKFILL: u64 = 4;
/// Light-client state signatures.
pub const CHANNEL_SIGNATURES: u64 = 5;
/// Mempool gossip.
pub const CHANNEL_MEMPOOL: u64 = 6;

/// Everything a validator needs besides its runtime context and network channels.
#[derive(Clone, Debug)]
pub struct EngineConfig<B, P> {
    /// Consensus (and p2p) identity: it votes in the epochs whose committee includes it and
    /// follows the others.
    pub identity: ed25519::PrivateKey,
    /// Domain separation of consensus signatures (unique per network).
    pub namespace: Vec<u8>,
    /// Prefix of every storage partition of this validator.
    pub partition_prefix: String,
    /// The application's configuration.
    pub application: application::Config,
    /// Consensus timeouts.
    pub timeouts: Timeouts,
    /// Blocks misbehaving peers (the p2p oracle's or network's control handle).
    pub blocker: B,
    /// Tells marshal's broadcast and backfill which peers exist.
    pub peer_provider: P,
    /// Capacity of the internal mailboxes.
    pub mailbox_size: NonZeroUsize,
    /// Signing, gossip, persistence and serving of light-client state signatures: the
    /// signatures actor runs when this is set, as one of the application's sinks of finalized
    /// heights (sinks already in `application.finalized` get every height too).
    pub signatures: Option<signatures::Config>,
    /// Where the epoch orchestrator tracks each epoch's p2p peers (`None`: fixed peers).
    pub peer_sets: Option<Arc<dyn PeerSets>>,
    /// Followers: secondary peers of every epoch's set.
    pub followers: Vec<Peer>,
}

/// Why a validator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The genesis committee cannot become a consensus scheme.
    #[error(transparent)]
    Scheme(#[from] epochs::SchemeError),
    /// The timeouts violate simplex's ordering.
    #[error(transparent)]
    Timeouts(#[from] TimeoutsError),
    /// A storage archive failed to open.
    #[error("storage: {0}")]
    Storage(#[from] commonware_storage::archive::Error),
    /// The retention is shorter than restarts and epoch hand-overs read back.
    #[error(transparent)]
    Retention(#[from] RetentionError),
    /// The signatures actor could not start.
    #[error(transparent)]
    Signatures(#[from] signatures::Error),
}

/// A running validator.
pub struct Node {
    /// The application (submissions, queries).
    pub application: Mailbox,
    /// Marshal (finalized blocks and certificates by height).
    pub marshal: Marshal,
    /// Collected light-client state signatures (`None` when the signatures actor does not
    /// run: no [`EngineConfig::signatures`]).
    pub signatures: Option<signatures::Mailbox>,
    /// The application's task: it ends with the reason when the application must refuse a
    /// finalized block (the validator has halted), and cleanly when it is stopped.
    pub application_task: Handle<Result<(), FinalizeError>>,
    /// The epoch orchestrator's task (consensus): it ends with the reason when an epoch
    /// cannot start (the node no longer takes part in consensus, and must stop loudly), and
    /// cleanly when the application's finalized stream ends.
    pub epochs_task: Handle<Result<(), epochs::EpochError>>,
    /// The other tasks' handles (abort to stop; they are also aborted with the spawning task).
    pub handles: Vec<Handle<()>>,
}

/// One `(sender, receiver)` pair per channel (see the module docs).
pub struct Channels<S, R> {
    /// [`CHANNEL_VOTES`].
    pub votes: (S, R),
    /// [`CHANNEL_CERTIFICATES`].
    pub certificates: (S, R),
    /// [`CHANNEL_RESOLVER`].
    pub resolver: (S, R),
    /// [`CHANNEL_BROADCAST`].
    pub broadcast: (S, R),
    /// [`CHANNEL_BACKFILL`].
    pub backfill: (S, R),
    /// [`CHANNEL_SIGNATURES`] (unused when the signatures actor does not run).
    pub signatures: (S, R),
    /// [`CHANNEL_MEMPOOL`].
    pub mempool: (S, R),
}

impl<S, R> Channels<S, R> {
    /// Registers the seven channels, in order, with `register(channel)` (a p2p network's or a
    /// simulated peer's registration, synchronous ones wrapped in `std::future::ready`).
    pub async fn register<F, Fut>(mut register: F) -> Self
    where
        F: FnMut(u64) -> Fut,
        Fut: std::future::Future<Output = (S, R)>,
    {
        Self {
            votes: register(CHANNEL_VOTES).await,
            certificates: register(CHANNEL_CERTIFICATES).await,
            resolver: register(CHANNEL_RESOLVER).await,
            broadcast: register(CHANNEL_BROADCAST).await,
            backfill: register(CHANNEL_BACKFILL).await,
            signatures: register(CHANNEL_SIGNATURES).await,
            mempool: register(CHANNEL_MEMPOOL).await,
        }
    }
}

/// Largest network message this node sends or accepts with `limits` and committees of at most
/// `participants` validators (the circuit capacity; configure the p2p layer's `max_size` with
/// at least this).
pub fn max_message_size(limits: &BlockLimits, participants: u32) -> u32 {
    let marshal = marshal::max_payload_size::<MarshalVariant, Scheme>(
        participants,
        &BlockCodec::from(*limits),
    );
    // Simplex runs on a subchannel per epoch: its messages carry the subchannel's prefix.
    let simplex = mux::prefixed(simplex::max_payload_size::<Scheme, Commitment>(participants));
    let largest = marshal.max(simplex).max(signatures::MAX_MESSAGE_SIZE);
    u32::try_from(largest).unwrap_or(u32::MAX)
}

const PAGE_SIZE: NonZeroU16 = NonZeroU16::new(4096).expect("non-zero");
const PAGE_CACHE_PAGES: NonZeroUsize = NonZeroUsize::new(64).expect("non-zero");
const WRITE_BUFFER: NonZeroUsize = NonZeroUsize::new(64 * 1024).expect("non-zero");
const ITEMS_PER_SECTION: NonZeroU64 = NonZeroU64::new(1024).expect("non-zero");

fn archive_config<C>(
    prefix: &str,
    name: &str,
    page_cache: &CacheRef,
    codec_config: C,
) -> immutable::Config<C> {
    immutable::Config {
        metadata_partition: format!("{prefix}-{name}-metadata"),
        freezer_table_partition: format!("{prefix}-{name}-freezer-table"),
        freezer_table_initial_size: 1024,
        freezer_table_resize_frequency: 10,
        freezer_table_resize_chunk_size: 1024,
        freezer_key_partition: format!("{prefix}-{name}-freezer-key"),
        freezer_key_page_cache: page_cache.clone(),
        freezer_value_partition: format!("{prefix}-{name}-freezer-value"),
        freezer_value_target_size: 64 * 1024 * 1024,
        freezer_value_compression: None,
        ordinal_partition: format!("{prefix}-{name}-ordinal"),
        items_per_section: ITEMS_PER_SECTION,
        freezer_key_write_buffer: WRITE_BUFFER,
        freezer_value_write_buffer: WRITE_BUFFER,
        ordinal_write_buffer: WRITE_BUFFER,
        replay_buffer: WRITE_BUFFER,
        codec_config,
    }
}

/// The prunable archive `name` (a node with a retention): sections of [`PRUNE_SECTION`]
/// heights, dropped whole.
fn prunable_config<C>(
    prefix: &str,
    name: &str,
    page_cache: &CacheRef,
    codec_config: C,
) -> prunable::Config<EightCap, C> {
    prunable::Config {
        translator: EightCap,
        metadata_partition: format!("{prefix}-{name}-pruned-metadata"),
        key_partition: format!("{prefix}-{name}-pruned-key"),
        key_page_cache: page_cache.clone(),
        value_partition: format!("{prefix}-{name}-pruned-value"),
        compression: None,
        codec_config,
        items_per_section: PRUNE_SECTION,
        key_write_buffer: WRITE_BUFFER,
        value_write_buffer: WRITE_BUFFER,
        replay_buffer: WRITE_BUFFER,
    }
}

/// Heights per section of a prunable archive (the granularity of pruning).
const PRUNE_SECTION: NonZeroU64 = NonZeroU64::new(PRUNE_STEP).expect("non-zero");

/// Starts a validator: application, marshal (broadcast + backfill), and the epoch orchestrator
/// (one simplex engine per epoch).
pub async fn start<E, B, P, S, R>(
    context: E,
    config: EngineConfig<B, P>,
    channels: Channels<S, R>,
) -> Result<Node, EngineError>
where
    E: Clock + CryptoRng + Spawner + Storage + Metrics,
    B: Blocker<PublicKey = ed25519::PublicKey> + Clone,
    P: Provider<PublicKey = ed25519::PublicKey> + Clone,
    S: Sender<PublicKey = ed25519::PublicKey>,
    R: Receiver<PublicKey = ed25519::PublicKey>,
{
    start_with(context, config, channels, |mailbox| mailbox).await
}

/// Like [`start`], but consensus proposes and verifies through `wrap(mailbox)` instead of the
/// mailbox itself (finalized blocks still go straight to the application). This is the seam for
/// fault injection in simulations (a Byzantine proposer) and for instrumentation.
pub async fn start_with<E, B, P, S, R, A>(
    mut context: E,
    config: EngineConfig<B, P>,
    channels: Channels<S, R>,
    wrap: impl FnOnce(Mailbox) -> A,
) -> Result<Node, EngineError>
where
    E: Clock + CryptoRng + Spawner + Storage + Metrics,
    B: Blocker<PublicKey = ed25519::PublicKey> + Clone,
    P: Provider<PublicKey = ed25519::PublicKey> + Clone,
    S: Sender<PublicKey = ed25519::PublicKey>,
    R: Receiver<PublicKey = ed25519::PublicKey>,
    A: ConsensusApplication<E>,
{
    config.timeouts.validate()?;
    let retention = config.application.retention;
    if let Some(heights) = retention {
        check_retention(heights.get(), config.application.params.epoch_length)?;
    }
    let fetch_timeout = config.timeouts.fetch_timeout()?;
    let me = config.identity.public_key();
    let prefix = config.partition_prefix.clone();
    let params = &config.application.params;
    // Block decoders take the hashes of transactions this node admitted from the
    // application's memory of them (crate::known): bounded like the mempool's bytes.
    let mut app_config = config.application.clone();
    let known = KnownTransactions::new(app_config.mempool.max_bytes, context.next_u64());
    app_config.known = Some(known.clone());
    let limits = BlockCodec { limits: params.limits, known: Some(known) };
    let capacity = params.genesis_committee.capacity();
    let genesis = rules::genesis(params);
    let genesis_digest = genesis.digest();
    let genesis_commitment = uncoded_commitment(&genesis);
    let epocher = FixedEpocher::new(params.epoch_length);
    let schemes = EpochSchemes::new(&config.namespace, config.identity.clone());
    for epoch in [Epoch(0), Epoch(1)] {
        schemes.insert(epoch, &params.genesis_committee)?;
    }
    let epoch_length = params.epoch_length;

    // Sinks of finalized blocks: the epoch orchestrator, and the signatures actor.
    app_config.evidence_partition = Some(format!("{prefix}-record-evidence"));
    app_config.index_partition = Some(format!("{prefix}-finalized-index"));
    let (epochs_sink, epochs_finalized) = commonware_utils::channel::mpsc::unbounded_channel();
    app_config.finalized.push(epochs_sink);
    let mut signatures_actor = None;
    if let Some(sigs_config) = config.signatures.clone() {
        let (actor, mailbox) =
            signatures::Actor::init(context.child("signatures"), sigs_config).await?;
        let (sink, finalized) = commonware_utils::channel::mpsc::unbounded_channel();
        app_config.finalized.push(sink);
        signatures_actor = Some((actor, mailbox, finalized));
    }

    // Application, and the gossip of the submissions it admits.
    let max_payload = app_config.mempool.max_payload;
    let (app, application) = AppActor::new(context.child("application"), app_config);
    let (gossip, gossip_mailbox) = gossip::Actor::new(
        context.child("gossip"),
        gossip::Config {
            max_payload,
            mailbox_size: config.mailbox_size,
            // f of the genesis committee: with this validator, f + 1 then hold a submission.
            replicas: params.genesis_committee.members().len().saturating_sub(1) / 3,
            replica_timeout: gossip::DEFAULT_REPLICA_TIMEOUT,
        },
    );
    application.set_gossip(gossip_mailbox);

    // Marshal: backfill resolver, shard engine, archives, actor.
    let resolver = marshal_resolver::init(
        context.child("marshal_resolver"),
        marshal_resolver::Config {
            public_key: me.clone(),
            peer_provider: config.peer_provider.clone(),
            blocker: config.blocker.clone(),
            mailbox_size: config.mailbox_size,
            fetch_timeout,
            fetch_retry_delay: Duration::from_millis(100),
            priority_requests: false,
            priority_responses: false,
        },
        channels.backfill,
    );
    let (shard_engine, shards) = shards::Engine::new(
        context.child("shards"),
        shards::Config {
            scheme_provider: schemes.clone(),
            blocker: config.blocker.clone(),
            block_codec_config: limits.clone(),
            strategy: Sequential,
            mailbox_size: config.mailbox_size,
            // Shards that arrive before their leader is known: a few blocks' worth per peer.
            peer_buffer_size: NonZeroUsize::new(64).expect("non-zero"),
            // At least 2 * (optimistic views + 2) commitment records (shards::Config).
            records: NonZeroUsize::new(32).expect("non-zero"),
            peer_provider: config.peer_provider.clone(),
        },
    );
    let shards_handle = shard_engine.start(channels.broadcast);

    let page_cache = CacheRef::new(PAGE_SIZE, PAGE_CACHE_PAGES);
    let marshal_config = marshal::Config {
        provider: schemes.clone(),
        epocher: epocher.clone(),
        start: marshal::Start::Genesis(Arc::new(Coded::precomputed(
            commonware_cryptography::Digested::precomputed(genesis, genesis_digest),
            genesis_commitment,
        ))),
        partition_prefix: format!("{prefix}-marshal"),
        mailbox_size: config.mailbox_size,
        view_retention: ViewDelta::new(10),
        prunable_items_per_section: NonZeroU64::new(10).expect("non-zero"),
        page_cache: page_cache.clone(),
        replay_buffer: WRITE_BUFFER,
        key_write_buffer: WRITE_BUFFER,
        value_write_buffer: WRITE_BUFFER,
        block_codec_config: limits.clone(),
        max_repair: NonZeroUsize::new(16).expect("non-zero"),
        max_pending_acks: NonZeroUsize::new(16).expect("non-zero"),
        strategy: Sequential,
    };
    // Archival nodes keep finalized blocks and certificates in immutable archives (they never
    // prune); with a retention they live in prunable ones, under other partition names (the
    // two layouts do not mix: a data directory is one or the other).
    // Certificates of every epoch are bounded by the circuit capacity, the largest committee.
    let (marshal, marshal_handle) = if retention.is_none() {
        let finalizations = immutable::Archive::init(
            context.child("finalizations"),
            archive_config(&prefix, "finalizations", &page_cache, capacity),
        )
        .await?;
        let blocks = immutable::Archive::init(
            context.child("blocks"),
            archive_config(&prefix, "blocks", &page_cache, limits),
        )
        .await?;
        let (actor, marshal, _floor) =
            MarshalActor::init(context.child("marshal"), finalizations, blocks, marshal_config)
                .await;
        (marshal, actor.start(application.clone(), shards.clone(), resolver))
    } else {
        let finalizations = prunable::Archive::init(
            context.child("finalizations"),
            prunable_config(&prefix, "finalizations", &page_cache, capacity),
        )
        .await?;
        let blocks = prunable::Archive::init(
            context.child("blocks"),
            prunable_config(&prefix, "blocks", &page_cache, limits),
        )
        .await?;
        let (actor, marshal, _floor) =
            MarshalActor::init(context.child("marshal"), finalizations, blocks, marshal_config)
                .await;
        (marshal, actor.start(application.clone(), shards.clone(), resolver))
    };
    let application_task = app.start(marshal.clone());
    let mut handles =
        vec![gossip.start(application.clone(), channels.mempool, config.blocker.clone())];
    let signatures = signatures_actor.map(|(actor, mailbox, finalized)| {
        handles.push(actor.start(finalized, channels.signatures, config.blocker.clone()));
        mailbox
    });

    // Consensus: one simplex engine per epoch.
    let wrapper = Marshaled::new(
        context.child("marshaled"),
        MarshaledConfig {
            application: wrap(application.clone()),
            marshal: marshal.clone(),
            shards,
            scheme_provider: schemes.clone(),
            strategy: Sequential,
            epocher,
        },
    );
    let epochs_config = epochs::Config {
        partition_prefix: prefix,
        epoch_length,
        genesis_commitment,
        timeouts: config.timeouts,
        blocker: config.blocker,
        mailbox_size: config.mailbox_size,
        page_cache,
        peer_sets: config.peer_sets,
        followers: config.followers,
    };
    let epochs_marshal = marshal.clone();
    let epochs_task = context.child("epochs").spawn(move |context| async move {
        let outcome = epochs::run(
            context,
            epochs_config,
            schemes,
            wrapper,
            epochs_marshal,
            epochs_finalized,
            channels.votes,
            channels.certificates,
            channels.resolver,
        )
        .await;
        if let Err(e) = &outcome {
            tracing::error!(%e, "the epoch orchestrator stopped; this node no longer takes part in consensus");
        }
        outcome
    });

    handles.extend([shards_handle, marshal_handle]);
    Ok(Node { application, marshal, signatures, application_task, epochs_task, handles })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_size_covers_the_largest_block() {
        let limits = BlockLimits::default();
        assert!(max_message_size(&limits, 4) as usize >= limits.max_encoded_size());
    }
}
