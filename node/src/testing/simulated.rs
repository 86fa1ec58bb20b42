//! A simulated trestle network: N validators in the deterministic runtime over the simulated
//! p2p network, each started in its own task so it can be crashed (task aborted) and restarted
//! over the same storage.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use commonware_codec::Encode as _;
use commonware_cryptography::{Signer as _, ed25519};
use commonware_p2p::simulated::{self, Link, Network, Oracle};
use commonware_runtime::{Clock as _, Handle, Quota, Spawner as _, Supervisor as _, deterministic};
use commonware_utils::{
    NZU32, NZUsize,
    channel::{mpsc, oneshot},
};
use trestle_light_client::{
    B256, Header, Height, HistoryTree, StateSignature, rotation::CommitteeRecord, verify_quorum,
};

use super::{
    TestGenesis, TestNetwork,
    faults::{Forgery, Proposer, RogueGossiper, RogueSigner},
    test_timeouts,
};
use crate::{
    application::{Finalized, Mailbox},
    engine::{self, Channels},
    epochs::{Keyed, PeerSets},
    l1::{self, FollowConfig, scripted::ScriptedL1},
    mempool::MempoolConfig,
    rules::ChainParams,
    signatures,
    timeouts::Timeouts,
};

/// A peer's identity in the simulated network.
pub type Pk = ed25519::PublicKey;

/// A channel no validator uses (where a rogue signer's engine gets its unused signatures
/// channel).
const UNUSED_CHANNEL: u64 = 99;

/// Another channel no validator uses (where a rogue gossiper's engine gets its unused mempool
/// channel).
const UNUSED_MEMPOOL_CHANNEL: u64 = 98;

/// A lossy, jittery link: 50 ms ± 30 ms, 10% loss.
pub fn lossy_link() -> Link {
    Link {
        latency: Duration::from_millis(50),
        jitter: Duration::from_millis(30),
        success_rate: commonware_utils::probability!(0.9),
    }
}

/// A clean link: 20 ms ± 5 ms, no loss.
pub fn clean_link() -> Link {
    Link {
        latency: Duration::from_millis(20),
        jitter: Duration::from_millis(5),
        success_rate: commonware_utils::probability!(1.0),
    }
}

/// How a simulated network is built.
#[derive(Clone)]
pub struct ClusterConfig {
    /// The validators' keys and genesis.
    pub network: TestNetwork,
    /// The link between every ordered pair of validators.
    pub link: Link,
    /// Consensus timeouts.
    pub timeouts: Timeouts,
    /// Mempool limits.
    pub mempool: MempoolConfig,
    /// Per-channel, per-peer rate (the simulator queues everything it delivers).
    pub quota: Quota,
    /// Each validator's egress and ingress bandwidth (bytes per second), unlimited if `None`.
    pub bandwidth: Option<usize>,
    /// Capacity of each application's submission queue.
    pub submission_queue: usize,
    /// Validators that propose forged blocks ([`ClusterConfig::forgery`]).
    pub byzantine: Vec<usize>,
    /// What the Byzantine validators forge.
    pub forgery: Forgery,
    /// Validators that run no signatures actor and hand their signatures channel to a callback.
    pub rogue_signers: BTreeMap<usize, RogueSigner>,
    /// Validators whose mempool gossip channel goes to a callback instead of their gossip.
    pub rogue_gossipers: BTreeMap<usize, RogueGossiper>,
    /// Whether each validator's [`Running::finalized`] receives its finalized heights.
    pub observe: bool,
    /// The L1 every node follows (a network whose genesis names a stake table needs one).
    pub l1: Option<ScriptedL1>,
    /// Validators that keep only the last this many heights of full blocks (the others are
    /// archival).
    pub retention: BTreeMap<usize, std::num::NonZeroU64>,
}

impl ClusterConfig {
    /// `validators` honest validators of a [`TestGenesis::new`] network linked by `link`.
    pub fn new(validators: usize, link: Link) -> Self {
        Self {
            network: TestGenesis::new(validators).build(),
            link,
            timeouts: test_timeouts(),
            mempool: MempoolConfig::default(),
            quota: Quota::per_second(NZU32!(1_024)),
            bandwidth: None,
            submission_queue: 1_024,
            byzantine: Vec::new(),
            forgery: Forgery::default(),
            rogue_signers: BTreeMap::new(),
            rogue_gossipers: BTreeMap::new(),
            observe: false,
            l1: None,
            retention: BTreeMap::new(),
        }
    }
}

/// A running validator.
pub struct Running {
    /// Application handle.
    pub mailbox: Mailbox,
    /// Signatures actor handle (`None` for a rogue signer).
    pub signatures: Option<signatures::Mailbox>,
    /// Its finalized heights, with [`ClusterConfig::observe`].
    pub finalized: Option<mpsc::UnboundedReceiver<Finalized>>,
    /// The task that owns every actor of the validator (abort = crash).
    pub task: Handle<()>,
}

/// The simulated network.
pub struct Cluster {
    /// Network control.
    pub oracle: Oracle<Pk, deterministic::Context>,
    /// Keys, genesis and the rest of the configuration.
    pub config: ClusterConfig,
    /// Validators, `None` while crashed.
    pub nodes: Vec<Option<Running>>,
    /// Header hashes of the blocks Byzantine validators proposed.
    pub forged: Arc<Mutex<Vec<B256>>>,
    context: deterministic::Context,
    restarts: Vec<u32>,
}

impl Cluster {
    /// Starts the network of `config`: every node of its [`TestNetwork`], the genesis
    /// validators and the nodes outside the genesis (followers until an epoch seats them).
    pub async fn start(context: &deterministic::Context, config: ClusterConfig) -> Self {
        let nodes = config.network.nodes();
        let n = nodes.len();
        let sizing = config.network.validator(0, "sizing");
        // Peer set 0 is what every orchestrator tracks entering epoch 0; later sets follow
        // the committees the chain decides.
        let (network, oracle) = Network::new_with_split_peers(
            context.child("network"),
            simulated::Config {
                max_size: sizing.max_message_size(),
                max_peers_per_set: sizing.max_peers_per_set(),
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(3),
            },
            config.network.participants(),
            config.network.followers().into_iter().map(|(key, _)| key),
        )
        .await;
        network.start();
        if config.bandwidth.is_some() {
            for peer in nodes {
                if let Err(e) =
                    oracle.limit_bandwidth(peer, config.bandwidth, config.bandwidth).await
                {
                    panic!("limiting bandwidth: {e}");
                }
            }
        }
        let link = config.link.clone();
        let mut cluster = Self {
            oracle,
            config,
            nodes: (0..n).map(|_| None).collect(),
            forged: Arc::default(),
            context: context.child("cluster"),
            restarts: vec![0; n],
        };
        cluster.link_all(link).await;
        for i in 0..n {
            cluster.start_node(context, i).await;
        }
        cluster
    }

    /// Consensus keys of every node, in index order.
    pub fn participants(&self) -> Vec<Pk> {
        self.config.network.nodes()
    }

    /// The chain parameters every validator checks.
    pub fn params(&self) -> ChainParams {
        ChainParams::from_genesis(&self.config.network.genesis)
    }

    /// Links every ordered pair of validators.
    pub async fn link_all(&mut self, link: Link) {
        self.link(link, |_, _| true).await;
    }

    /// Links the ordered pairs `(i, j)` for which `select(i, j)` holds.
    pub async fn link(&mut self, link: Link, select: impl Fn(usize, usize) -> bool) {
        let pks = self.participants();
        for i in 0..pks.len() {
            for j in 0..pks.len() {
                if i != j && select(i, j) {
                    let _ = self.oracle.remove_link(pks[i].clone(), pks[j].clone()).await;
                    if let Err(e) =
                        self.oracle.add_link(pks[i].clone(), pks[j].clone(), link.clone()).await
                    {
                        panic!("linking {i} → {j}: {e}");
                    }
                }
            }
        }
    }

    /// Removes the links between the two sides of a partition (both directions).
    pub async fn partition(&mut self, side: impl Fn(usize) -> bool) {
        let pks = self.participants();
        for i in 0..pks.len() {
            for j in 0..pks.len() {
                if i != j && side(i) != side(j) {
                    let _ = self.oracle.remove_link(pks[i].clone(), pks[j].clone()).await;
                }
            }
        }
    }

    /// Starts (or restarts, over the same storage) validator `i`.
    pub async fn start_node(&mut self, context: &deterministic::Context, i: usize) {
        let mut validator = self.config.network.validator(i, format!("validator-{i}"));
        validator.timeouts = self.config.timeouts;
        validator.mempool = self.config.mempool.clone();
        validator.submission_queue = self.config.submission_queue;
        validator.followers = self.config.network.followers();
        validator.retention = self.config.retention.get(&i).copied();
        let me = validator.keys.consensus.public_key();
        let control = self.oracle.control(me.clone());
        let quota = self.config.quota;
        let register = |channel| {
            let control = control.clone();
            async move {
                match control.register(channel, quota).await {
                    Ok(endpoints) => endpoints,
                    Err(e) => panic!("registering channel {channel}: {e}"),
                }
            }
        };
        let rogue = self.config.rogue_signers.get(&i).cloned();
        let mut channels = Channels::register(&register).await;
        let rogue_channel = match rogue {
            // Without the actor the engine ignores its channel; the rogue gets the real one.
            Some(_) => {
                Some(std::mem::replace(&mut channels.signatures, register(UNUSED_CHANNEL).await))
            }
            None => None,
        };
        let gossiper = self.config.rogue_gossipers.get(&i).cloned();
        let gossiper_channel = match gossiper {
            // The engine's gossip runs on a channel nobody uses; the rogue gets the real one.
            Some(_) => Some(std::mem::replace(
                &mut channels.mempool,
                register(UNUSED_MEMPOOL_CHANNEL).await,
            )),
            None => None,
        };
        let peer_sets: Arc<dyn PeerSets> = Arc::new(Keyed::new(self.oracle.manager()));
        let mut config = validator.engine(control.clone(), self.oracle.manager(), Some(peer_sets));
        let l1 = self.config.l1.clone().map(|l1| (l1, validator.l1.clone()));
        if rogue.is_some() {
            config.signatures = None;
        }
        let finalized = self.config.observe.then(|| {
            let (sink, receiver) = mpsc::unbounded_channel();
            config.application.finalized.push(sink);
            receiver
        });
        let (ready, receiver) = oneshot::channel();
        let forged = self.config.byzantine.contains(&i).then(|| self.forged.clone());
        let forgery = self.config.forgery;
        self.restarts[i] += 1;
        let task = context
            .child("validator")
            .with_attribute("index", i)
            .with_attribute("run", self.restarts[i])
            .spawn(move |context| async move {
                let wrap = |inner| Proposer::new(inner, forged, forgery);
                if let Some((source, view)) = l1 {
                    let follow = FollowConfig { poll: Duration::from_millis(100), batch: 64 };
                    context.child("l1").spawn(move |context| async move {
                        l1::follow(context, source, view, follow).await;
                    });
                }
                let rogue_context = context.child("rogue");
                let node = match engine::start_with(context, config, channels, wrap).await {
                    Ok(node) => node,
                    Err(e) => panic!("validator {i} does not start: {e}"),
                };
                if let (Some(rogue), Some(channel)) = (rogue, rogue_channel) {
                    rogue(rogue_context.child("signer"), node.application.clone(), channel);
                }
                if let (Some(gossiper), Some(channel)) = (gossiper, gossiper_channel) {
                    gossiper(rogue_context.child("gossiper"), node.application.clone(), channel);
                }
                let _ = ready.send((node.application.clone(), node.signatures.clone()));
                // The node's tasks live as long as this one (aborting it is a crash). Consensus
                // stopping with a reason is a defect every scenario must see.
                let engine::Node { application_task, epochs_task, .. } = node;
                commonware_macros::select! {
                    _ = application_task => {},
                    stopped = epochs_task => {
                        if let Ok(Err(reason)) = stopped {
                            panic!("validator {i}: consensus stopped: {reason}");
                        }
                    },
                }
                futures::future::pending::<()>().await;
            });
        let (mailbox, signatures) = match receiver.await {
            Ok(started) => started,
            Err(_) => panic!("validator {i} did not start"),
        };
        self.nodes[i] = Some(Running { mailbox, signatures, finalized, task });
    }

    /// Crashes validator `i`: every task it runs is aborted; its storage stays.
    pub async fn crash(&mut self, i: usize) {
        if let Some(node) = self.nodes[i].take() {
            node.task.abort();
            let _ = node.task.await;
        }
    }

    /// Mailboxes of the running validators.
    pub fn running(&self) -> impl Iterator<Item = (usize, &Mailbox)> {
        self.nodes.iter().enumerate().filter_map(|(i, n)| n.as_ref().map(|n| (i, &n.mailbox)))
    }

    /// Finalized height of validator `i` (0 if crashed).
    pub async fn height(&self, i: usize) -> u64 {
        match &self.nodes[i] {
            Some(node) => node.mailbox.status().await.map_or(0, |s| s.finalized_height.get()),
            None => 0,
        }
    }

    /// Waits (in simulated time) until every validator in `which` finalized `target`; panics
    /// after `deadline` of simulated time.
    pub async fn wait_for(
        &self,
        context: &deterministic::Context,
        which: &[usize],
        target: u64,
        deadline: Duration,
    ) {
        let start = context.current();
        loop {
            let mut heights = Vec::new();
            for &i in which {
                heights.push(self.height(i).await);
            }
            if heights.iter().all(|&h| h >= target) {
                return;
            }
            let elapsed = context.current().duration_since(start).unwrap_or_default();
            assert!(
                elapsed <= deadline,
                "heights {heights:?} did not reach {target} within {deadline:?}"
            );
            context.sleep(Duration::from_millis(100)).await;
        }
    }

    /// Finalized headers `0..=to` of validator `i`.
    pub async fn headers(&self, i: usize, to: u64) -> Vec<Header> {
        let Some(node) = &self.nodes[i] else { panic!("validator {i} is not running") };
        let mut headers = Vec::new();
        for h in 0..=to {
            match node.mailbox.header(Height(h)).await {
                Some(header) => headers.push(header),
                None => panic!("validator {i} has no finalized header at {h}"),
            }
        }
        headers
    }

    /// The committee of the epoch of `height`, from the chain of the first running node: the
    /// genesis committee in epochs 0 and 1, else the one the last block of two epochs before
    /// named.
    pub async fn committee_of(&self, height: u64) -> Arc<CommitteeRecord> {
        let params = self.params();
        let epoch = params.epoch_of(Height(height)).get();
        if epoch < 2 {
            return params.genesis_committee.clone();
        }
        let Some((_, mailbox)) = self.running().next() else { panic!("no node is running") };
        let decided_at = (epoch - 1) * params.epoch_length.get() - 1;
        let Some(block) = mailbox.block(Height(decided_at)).await else {
            panic!("no finalized block at {decided_at}")
        };
        match &block.succession().next_committee {
            Some(committee) => committee.clone(),
            None => panic!("the last block of epoch {} names no committee", epoch - 2),
        }
    }

    /// Checks agreement (every running validator has the same header at every height up to
    /// the lowest finalized height), the chain rules over the agreed headers, and that the
    /// running validators' own signatures on the state of that height form a quorum of the
    /// committee (each validator signs every finalized height; the check waits, in simulated
    /// time, for their signatures actors to have signed). Returns the header hashes.
    pub async fn assert_agreement(&self) -> Vec<B256> {
        let mut lowest = u64::MAX;
        for (i, _) in self.running() {
            lowest = lowest.min(self.height(i).await);
        }
        let mut reference: Option<Vec<Header>> = None;
        for (i, _) in self.running() {
            let headers = self.headers(i, lowest).await;
            match &reference {
                None => reference = Some(headers),
                Some(r) => assert_eq!(r, &headers, "validator {i} disagrees"),
            }
        }
        let Some(headers) = reference else { panic!("no validator is running") };
        assert_chain(&headers, &self.params());
        let mut tree = HistoryTree::new();
        for header in &headers {
            tree.append(&header.hash());
        }
        let committee = self.committee_of(lowest).await;
        let mut state = None;
        let mut own = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let Some(node) = node else { continue };
            let Some(signatures) = &node.signatures else { continue };
            let at = node.mailbox.light_client_state(Height(lowest)).await;
            let Some(at) = at else { panic!("validator {i} has no state at {lowest}") };
            assert_eq!(at.history_root, tree.root(), "validator {i}'s state at {lowest}");
            assert_eq!(state.get_or_insert_with(|| at.clone()), &at, "validator {i}'s state");
            let key = B256::from_slice(&self.participants()[i].encode());
            // Nodes the epoch does not seat follow and do not sign.
            let Some(slot) = committee.slot_of(&key) else { continue };
            own.push(self.own_signature(i, slot as u32, signatures, lowest).await);
        }
        let Some(state) = state else { panic!("no validator runs a signatures actor") };
        if let Err(e) = verify_quorum(committee.light_client(), &state, &own) {
            panic!("the running validators' signatures at {lowest} are no quorum: {e}");
        }
        headers.iter().map(Header::hash).collect()
    }

    /// Validator `i`'s own signature at `height`, waiting up to 10 s of simulated time for its
    /// signatures actor to sign.
    async fn own_signature(
        &self,
        i: usize,
        slot: u32,
        signatures: &signatures::Mailbox,
        height: u64,
    ) -> StateSignature {
        let start = self.context.current();
        loop {
            let listed = signatures.signatures(Height(height)).await;
            if let Some((_, _, signature)) = listed.into_iter().find(|(s, ..)| *s == slot) {
                return StateSignature { slot, signature };
            }
            let waited = self.context.current().duration_since(start).unwrap_or_default();
            assert!(waited < Duration::from_secs(10), "validator {i} did not sign height {height}");
            self.context.sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Checks the protocol rules over a finalized header chain: contiguous heights from genesis,
/// parent links, history roots, monotonic timestamps, epochs by height, views increasing within
/// an epoch, the genesis committee in epochs 0 and 1 and one committee per epoch.
pub fn assert_chain(headers: &[Header], params: &ChainParams) {
    let mut history = HistoryTree::new();
    for (h, header) in headers.iter().enumerate() {
        assert_eq!(header.height, Height(h as u64));
        assert_eq!(header.chain_id, params.chain_id);
        assert_eq!(header.epoch, params.epoch_of(header.height), "epoch at {h}");
        if header.epoch.get() < 2 {
            assert_eq!(header.committee, params.genesis_committee.commitment(), "committee at {h}");
        }
        assert_eq!(header.history_root, history.root(), "history root at {h}");
        if h > 0 {
            let parent = &headers[h - 1];
            assert_eq!(header.parent, parent.hash(), "parent link at {h}");
            assert!(header.timestamp_ms >= parent.timestamp_ms, "timestamp at {h}");
            if header.epoch == parent.epoch {
                assert!(header.view > parent.view, "view at {h}");
                assert_eq!(header.committee, parent.committee, "committee within epoch at {h}");
            }
        } else {
            assert_eq!(header.parent, B256::ZERO);
        }
        history.append(&header.hash());
    }
}
