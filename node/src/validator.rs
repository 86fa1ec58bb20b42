//! One validator of a network, from its genesis and keys: the single place that turns them
//! into the engine's configuration (consensus identity, participants and namespace, the
//! application's chain parameters, the signatures actor with the light-client key and slot
//! map), used alike by the validator process ([`service`](crate::service)), the test harnesses
//! (`testing`, feature `test-utils`) and the benchmarks.

use std::{
    num::{NonZeroU64, NonZeroUsize},
    sync::Arc,
};

use commonware_cryptography::Signer as _;
use trestle_api::{CommitteeInfo, ResolvedGenesis, ValidatorKeys};

use crate::{
    application,
    engine::{self, EngineConfig},
    epochs::{EpochPeers, Peer, PeerSets},
    l1::{DEFAULT_RETAIN, L1View},
    mempool::MempoolConfig,
    rules::ChainParams,
    signatures,
    timeouts::Timeouts,
};

/// Why keys cannot run as a validator of a genesis.
#[derive(Debug, thiserror::Error)]
pub enum ValidatorError {
    /// The light-client key is not the one the genesis lists for this validator's slot.
    #[error("the light-client key does not match genesis slot {slot}")]
    LightClientKeyMismatch {
        /// The validator's slot.
        slot: u32,
    },
}

/// A validator: the network's genesis, its own keys, and where and how it runs. Its key need
/// not be in the genesis committee: a node runs every epoch, votes in those whose committee
/// seats it, and follows (verifies every certificate, serves the RPC) in the others.
#[derive(Clone, Debug)]
pub struct Validator {
    /// The network's (checked) genesis.
    pub genesis: ResolvedGenesis,
    /// This validator's keys.
    pub keys: ValidatorKeys,
    /// Prefix of every storage partition (restarting with the same prefix resumes).
    pub partition_prefix: String,
    /// Consensus timeouts.
    pub timeouts: Timeouts,
    /// Mempool limits (the per-transaction limit is capped by the genesis).
    pub mempool: MempoolConfig,
    /// Capacity of the internal mailboxes.
    pub mailbox_size: NonZeroUsize,
    /// Capacity of the application's submission queue.
    pub submission_queue: usize,
    /// This node's view of L1 (feed it with [`crate::l1::follow`]); empty, and never
    /// consulted, on a network without a stake table.
    pub l1: L1View,
    /// Nodes outside the committees to accept and serve (secondary p2p peers of every epoch).
    pub followers: Vec<Peer>,
    /// Keep full finalized blocks of the last this many heights only (`None`: archival; see
    /// [`crate::application::retention`]).
    pub retention: Option<NonZeroU64>,
    slot: Option<u32>,
}

impl Validator {
    /// The node with `keys` on the network of `genesis`, with default timeouts and mempool
    /// limits. Keys outside the genesis committee follow until an epoch seats them.
    pub fn new(
        genesis: ResolvedGenesis,
        keys: ValidatorKeys,
        partition_prefix: impl Into<String>,
    ) -> Result<Self, ValidatorError> {
        let me = keys.consensus.public_key();
        let slot = genesis.slot_of(&me);
        if let Some(slot) = slot
            && genesis.committee.slots()[slot as usize].key != *keys.light_client.public_key()
        {
            return Err(ValidatorError::LightClientKeyMismatch { slot });
        }
        let first_l1 = genesis.l1.map_or(0, |l1| l1.deploy_block);
        Ok(Self {
            genesis,
            keys,
            partition_prefix: partition_prefix.into(),
            timeouts: Timeouts::default(),
            mempool: MempoolConfig::default(),
            mailbox_size: NonZeroUsize::new(1_024).unwrap_or(NonZeroUsize::MIN),
            submission_queue: 1_024,
            l1: L1View::new(first_l1, DEFAULT_RETAIN),
            followers: Vec::new(),
            retention: None,
            slot,
        })
    }

    /// This validator's slot in the genesis committee (`None` for a node outside it).
    pub fn genesis_slot(&self) -> Option<u32> {
        self.slot
    }

    /// The chain parameters the block rules check.
    pub fn params(&self) -> ChainParams {
        ChainParams::from_genesis(&self.genesis)
    }

    /// The application's configuration (no sink yet: the engine adds the signatures actor's).
    pub fn application(&self) -> application::Config {
        let params = self.params();
        let mut config = application::Config::new(params);
        config.mempool = MempoolConfig {
            max_payload: self.mempool.max_payload.min(config.params.limits.max_payload),
            ..self.mempool.clone()
        };
        config.submission_queue = self.submission_queue;
        config.l1 = self.l1.clone();
        config.retention = self.retention;
        config
    }

    /// The signatures actor's configuration: our consensus and light-client keys (the
    /// committees come with the finalized blocks) and the epoch length.
    pub fn signatures(&self) -> signatures::Config {
        let mut config = signatures::Config::new(
            self.keys.consensus.public_key(),
            self.keys.light_client.clone(),
            format!("{}-signatures", self.partition_prefix),
        );
        config.epoch_length = self.genesis.epoch_length;
        config
    }

    /// The genesis committee as the RPC serves it for epoch 0 (`trestle_committee`).
    pub fn committee_info(&self) -> CommitteeInfo {
        CommitteeInfo::from_record(self.genesis.epoch.get(), &self.genesis.committee_record())
    }

    /// The most peers one p2p peer set holds: two committees at the circuit capacity, the
    /// followers and ourselves (size the transport's `max_peers_per_set` with it).
    pub fn max_peers_per_set(&self) -> NonZeroUsize {
        let most = EpochPeers::max_per_set(self.genesis.committee.capacity(), self.followers.len());
        NonZeroUsize::new(most).unwrap_or(NonZeroUsize::MIN)
    }

    /// The largest p2p message this network sends (size the transport with it).
    pub fn max_message_size(&self) -> u32 {
        // Every committee fits the circuit capacity.
        let capacity = u32::try_from(self.genesis.committee.capacity()).unwrap_or(u32::MAX);
        engine::max_message_size(&self.params().limits, capacity)
    }

    /// The engine's configuration over a network's `blocker` and `peer_provider`, tracking each
    /// epoch's peers through `peer_sets`.
    pub fn engine<B, P>(
        &self,
        blocker: B,
        peer_provider: P,
        peer_sets: Option<Arc<dyn PeerSets>>,
    ) -> EngineConfig<B, P> {
        EngineConfig {
            identity: self.keys.consensus.clone(),
            namespace: self.genesis.consensus_namespace(),
            partition_prefix: self.partition_prefix.clone(),
            application: self.application(),
            timeouts: self.timeouts,
            blocker,
            peer_provider,
            mailbox_size: self.mailbox_size,
            signatures: Some(self.signatures()),
            peer_sets,
            followers: self.followers.clone(),
        }
    }
}
