//! Starting one validator on the real network: authenticated, encrypted TCP p2p
//! (`authenticated::lookup`: each epoch's peer set is its committee and the next, dialed at the
//! addresses their records name or the configured ones, plus the configured peers outside them
//! as followers; the handshake authenticates both ends by their ed25519 consensus keys and
//! refuses keys outside the tracked sets; a warning for every configured peer never heard from,
//! [`reach`]), the engine, and the JSON-RPC server. Shared by the validator process
//! ([`run`](super::run)) and the in-process test harness, so both start a validator the same way.

use std::{collections::BTreeMap, net::SocketAddr, sync::Arc, time::Duration};

use commonware_cryptography::{ChaCha20Poly1305, Signer as _, ed25519};
use commonware_p2p::{Address, authenticated::lookup};
use commonware_runtime::{Quota, Spawner as _, Supervisor as _, tokio as cw_tokio};
use commonware_stream::{
    cups::{self, Cups},
    sake::{self, Sake},
};
use commonware_utils::{NZU32, channel::mpsc};
use tracing::info;

use super::{
    ServiceError,
    config::L1Settings,
    network::{P2pOptions, dial_target},
    reach::{self, Heard, Reached},
};
use crate::{
    engine::{self, Channels, Node},
    epochs::{Addressed, PeerSets},
    l1::{FollowConfig, JsonRpcL1},
    rpc::{self, RpcConfig, RpcServer},
    validator::Validator,
};

/// Per-channel, per-peer sustained rate (messages per second).
const CHANNEL_RATE: u32 = 4_096;

/// Per-channel, per-peer burst: what a peer may send at once before the rate applies. Each
/// channel's inbox preallocates `burst × max_peers_per_set` slots, so the burst sizes memory
/// and start-up time (DESIGN §3: huge quotas make start-up slow). With the burst equal to the
/// rate (governor's default) and the 28-peer sets of a capacity-8 network, each node touched
/// 1.5 GB at start and four fresh nodes on two cores took 6 s to come up.
const CHANNEL_BURST: u32 = 512;

/// Where a validator listens and whom it dials.
#[derive(Clone, Debug)]
pub struct Launch {
    /// The validator.
    pub validator: Validator,
    /// p2p listen address.
    pub p2p: SocketAddr,
    /// p2p tuning.
    pub p2p_options: P2pOptions,
    /// The other nodes' consensus keys and p2p addresses.
    pub peers: Vec<(ed25519::PublicKey, Address)>,
    /// JSON-RPC listen address (port 0 for any).
    pub rpc: SocketAddr,
    /// The stake table's L1 (`None` on a network without one).
    pub l1: Option<L1Settings>,
}

/// A started validator: its actors and its RPC server.
pub struct Running {
    /// The engine's handles.
    pub node: Node,
    /// The RPC server.
    pub rpc: RpcServer,
}

/// Starts the validator of `launch` on `context` (commonware's tokio runtime): p2p, engine
/// (which replays its journal and archives, so a restarted validator resumes where it
/// stopped), then the RPC server.
pub async fn launch(context: cw_tokio::Context, launch: Launch) -> Result<Running, ServiceError> {
    let Launch { validator, p2p, p2p_options, peers, rpc, l1 } = launch;
    let me = validator.keys.consensus.public_key();
    let namespace = validator.genesis.consensus_namespace();
    let validators = validator.genesis.consensus_keys.len();
    let mut validator = validator;
    // Configured peers outside the committees of an epoch are its followers.
    // (Their addresses come from the book below, which holds DNS names too.)
    validator.followers = peers.iter().map(|(key, _)| (key.clone(), None)).collect();
    let handshake = Cups::<_, ChaCha20Poly1305>::new(
        Sake {
            signer: validator.keys.consensus.clone(),
            synchrony_bound: Duration::from_secs(5),
            max_handshake_age: Duration::from_secs(10),
            version: sake::Version::V1,
        },
        cups::Version::V1,
    );
    let p2p_config = p2p_options.lookup_config(
        handshake,
        &namespace,
        p2p,
        validator.max_peers_per_set(),
        validator.max_message_size(),
    );
    let (mut network, oracle) = lookup::Network::new(context.child("network"), p2p_config);
    // Each epoch's peer set is tracked by the epoch orchestrator from the committees the chain
    // decided; the configured peers (and we, at our listen address) fill in the addresses
    // that committee records do not name.
    let book: BTreeMap<_, _> = peers
        .iter()
        .cloned()
        .chain(std::iter::once((me.clone(), Address::Symmetric(p2p))))
        .collect();
    let peer_sets: Arc<dyn PeerSets> = Arc::new(Addressed::new(
        oracle.clone(),
        book,
        context.child("peer_sets"),
        p2p_options.bypass_ip_check,
    ));
    let quota = Quota::per_second(NZU32!(CHANNEL_RATE)).allow_burst(NZU32!(CHANNEL_BURST));
    let reached = Reached::new(peers.iter().map(|(key, _)| key.clone()));
    let channels = Channels::register(|channel| {
        let (sender, receiver) = network.register(channel, quota);
        std::future::ready((sender, Heard::new(receiver, reached.clone())))
    })
    .await;
    network.start();
    let watched = peers.iter().map(|(key, address)| (key.clone(), dial_target(address))).collect();
    context.child("reach").spawn(move |context| reach::watch(context, watched, reached));

    // The L1 view fills from the stake table's chain while the engine starts (verifiers wait
    // for it at each epoch's end; proposers name what it holds).
    if let (Some(settings), Some(genesis_l1)) = (l1, validator.genesis.l1) {
        let source =
            JsonRpcL1::connect(&settings.rpc, genesis_l1.stake_table.address, settings.safe_depth)?;
        let view = validator.l1.clone();
        let follow =
            FollowConfig { poll: Duration::from_millis(settings.poll_ms.max(1)), batch: 64 };
        info!(rpc = %settings.rpc, safe_depth = settings.safe_depth, "following the stake table's L1");
        context.child("l1").spawn(move |context| crate::l1::follow(context, source, view, follow));
    }
    let mut config = validator.engine(oracle.clone(), oracle, Some(peer_sets));
    let (finalized, finalized_rx) = mpsc::unbounded_channel();
    config.application.finalized.push(finalized);
    let node = engine::start(context.child("engine"), config, channels).await?;
    let mut rpc_config = RpcConfig::new(validator.params().limits);
    rpc_config.epoch_length = validator.genesis.epoch_length;
    let Some(signatures) = node.signatures.clone() else {
        return Err(ServiceError::Shutdown("the signatures actor did not start".into()));
    };
    let sources = rpc::Sources {
        application: node.application.clone(),
        marshal: node.marshal.clone(),
        signatures,
    };
    let server = rpc::start(rpc, rpc_config, sources, Some(finalized_rx)).await?;
    info!(%me, %p2p, rpc = %server.local_addr(), validators, "validator started");
    Ok(Running { node, rpc: server })
}
