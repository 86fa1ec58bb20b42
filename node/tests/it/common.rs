//! A simulated trestle network: N validators in the deterministic runtime over the simulated
//! p2p network, each started in its own task so it can be crashed (task aborted) and restarted
//! over the same storage.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use commonware_consensus::Application;
use commonware_cryptography::{Signer as _, ed25519};
use commonware_p2p::simulated::{self, Link, Network, Oracle};
use commonware_runtime::{Clock as _, Handle, Quota, Spawner as _, Supervisor as _, deterministic};
use commonware_utils::{NZU32, channel::oneshot};
use trestle_light_client::{
    B256, ChainId, Committee, Epoch, Header, Height, HistoryTree, Namespace, SecretKey,
};
use trestle_node::{
    ApplicationConfig, BlockLimits, ChainParams, Channels, ConsensusContext, EngineConfig, Mailbox,
    Scheme, Timeouts, block::Block, engine, signatures,
};

/// A peer's identity in the simulated network.
pub(crate) type Pk = ed25519::PublicKey;

/// Rate limit per channel and peer (generous; the simulator queues everything it delivers).
const QUOTA: Quota = Quota::per_second(NZU32!(1_024));

/// A channel no validator uses (the engine's signatures channel for rogue signers).
const UNUSED_CHANNEL: u64 = 99;

/// Namespace owned by a sequencer in every test network.
pub(crate) const OWNED_NAMESPACE: Namespace = Namespace(1_000);

/// Test network parameters.
pub(crate) fn limits() -> BlockLimits {
    BlockLimits { max_transactions: 64, max_payload: 1_024, max_block_payload: 16 * 1_024 }
}

/// Key of the owner of [`OWNED_NAMESPACE`].
pub(crate) fn owner_key() -> ed25519::PrivateKey {
    ed25519::PrivateKey::from_seed(9_999)
}

/// Per-validator keys.
pub(crate) struct Keys {
    /// Consensus identities.
    pub(crate) identities: Vec<ed25519::PrivateKey>,
    /// Light-client (EdDSA-Poseidon) keys.
    pub(crate) light: Vec<SecretKey>,
    /// Network parameters.
    pub(crate) params: ChainParams,
    /// The light-client committee.
    pub(crate) committee: Committee,
}

/// Keys and parameters of an `n`-validator network.
pub(crate) fn keys(n: usize) -> Keys {
    let identities: Vec<_> = (0..n as u64).map(ed25519::PrivateKey::from_seed).collect();
    let light: Vec<_> = (0..n).map(|i| SecretKey::from_seed([i as u8 + 1; 32])).collect();
    let committee =
        Committee::equal_weight(light.iter().map(|k| *k.public_key()), n).expect("committee");
    let params = ChainParams {
        chain_id: ChainId(31_337),
        epoch: Epoch(0),
        committee: committee.commitment_bytes(),
        limits: limits(),
        owners: BTreeMap::from([(OWNED_NAMESPACE, owner_key().public_key())]),
        genesis_timestamp_ms: 0,
        min_block_interval_ms: 0,
    };
    Keys { identities, light, params, committee }
}

/// A lossy, jittery link (10% loss).
pub(crate) fn lossy() -> Link {
    Link {
        latency: Duration::from_millis(50),
        jitter: Duration::from_millis(30),
        success_rate: commonware_utils::probability!(0.9),
    }
}

/// A clean link.
pub(crate) fn clean() -> Link {
    Link {
        latency: Duration::from_millis(20),
        jitter: Duration::from_millis(5),
        success_rate: commonware_utils::probability!(1.0),
    }
}

/// Timeouts that suit links of tens of milliseconds.
pub(crate) fn timeouts() -> Timeouts {
    Timeouts {
        leader: Duration::from_millis(500),
        certification: Duration::from_millis(1_000),
        timeout_retry: Duration::from_millis(1_000),
        skip: Duration::from_secs(5),
        fetch: Duration::from_millis(500),
    }
}

/// A running validator.
pub(crate) struct Running {
    /// Application handle.
    pub(crate) mailbox: Mailbox,
    /// Signatures actor handle (`None` for a validator that does not run it).
    pub(crate) signatures: Option<signatures::Mailbox>,
    /// The task that owns every actor of the validator (abort = crash).
    pub(crate) task: Handle<()>,
}

/// The simulated network.
pub(crate) struct Cluster {
    /// Network control.
    pub(crate) oracle: Oracle<Pk, deterministic::Context>,
    /// Keys and parameters.
    pub(crate) keys: Keys,
    /// Validators, `None` while crashed.
    pub(crate) nodes: Vec<Option<Running>>,
    /// Header hashes of the blocks Byzantine validators proposed.
    pub(crate) forged: Arc<Mutex<Vec<B256>>>,
    /// Validators started without the signatures actor; their signatures channel is handed to
    /// the callback instead (to gossip whatever a test wants).
    pub(crate) rogue_signers: BTreeMap<usize, RogueSigner>,
    restarts: Vec<u32>,
}

/// What a validator without a signatures actor does with its signatures channel: called once
/// per start with the validator's context, application mailbox and channel.
pub(crate) type RogueSigner = Arc<
    dyn Fn(
            deterministic::Context,
            Mailbox,
            (simulated::Sender<Pk, deterministic::Context>, simulated::Receiver<Pk>),
        ) + Send
        + Sync,
>;

impl Cluster {
    /// Starts a network of `n` honest validators linked by `link`.
    pub(crate) async fn start(context: &deterministic::Context, n: usize, link: Link) -> Self {
        Self::start_with(context, n, link, &[]).await
    }

    /// Starts a network of `n` validators; those listed in `byzantine` propose invalid blocks.
    pub(crate) async fn start_with(
        context: &deterministic::Context,
        n: usize,
        link: Link,
        byzantine: &[usize],
    ) -> Self {
        Self::start_full(context, n, link, byzantine, BTreeMap::new()).await
    }

    /// Starts a network of `n` validators; those in `byzantine` propose invalid blocks, those
    /// in `rogue_signers` run no signatures actor and hand their signatures channel to the
    /// callback.
    pub(crate) async fn start_full(
        context: &deterministic::Context,
        n: usize,
        link: Link,
        byzantine: &[usize],
        rogue_signers: BTreeMap<usize, RogueSigner>,
    ) -> Self {
        let keys = keys(n);
        let participants: Vec<Pk> = keys.identities.iter().map(|k| k.public_key()).collect();
        let (network, oracle) = Network::new_with_peers(
            context.child("network"),
            simulated::Config {
                max_size: engine::max_message_size(&keys.params.limits, n as u32),
                max_peers_per_set: commonware_utils::NZUsize!(n),
                disconnect_on_block: true,
                tracked_peer_sets: commonware_utils::NZUsize!(1),
            },
            participants.clone(),
        )
        .await;
        network.start();
        let mut cluster = Self {
            oracle,
            keys,
            nodes: (0..n).map(|_| None).collect(),
            forged: Arc::default(),
            rogue_signers,
            restarts: vec![0; n],
        };
        cluster.link_all(link).await;
        for i in 0..n {
            cluster.start_node(context, i, byzantine.contains(&i)).await;
        }
        cluster
    }

    /// Public keys in index order.
    pub(crate) fn participants(&self) -> Vec<Pk> {
        self.keys.identities.iter().map(|k| k.public_key()).collect()
    }

    /// Links every ordered pair of validators.
    pub(crate) async fn link_all(&mut self, link: Link) {
        let n = self.keys.identities.len();
        self.link(link, |_, _| true, n).await;
    }

    /// Links the ordered pairs `(i, j)` for which `select(i, j)` holds.
    pub(crate) async fn link(
        &mut self,
        link: Link,
        select: impl Fn(usize, usize) -> bool,
        n: usize,
    ) {
        let pks = self.participants();
        for i in 0..n {
            for j in 0..n {
                if i != j && select(i, j) {
                    let _ = self.oracle.remove_link(pks[i].clone(), pks[j].clone()).await;
                    self.oracle
                        .add_link(pks[i].clone(), pks[j].clone(), link.clone())
                        .await
                        .expect("link");
                }
            }
        }
    }

    /// Removes the links between the two sides of a partition (both directions).
    pub(crate) async fn partition(&mut self, side: impl Fn(usize) -> bool) {
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
    pub(crate) async fn start_node(
        &mut self,
        context: &deterministic::Context,
        i: usize,
        byzantine: bool,
    ) {
        let identity = self.keys.identities[i].clone();
        let me = identity.public_key();
        let control = self.oracle.control(me.clone());
        let register = async |channel| control.register(channel, QUOTA).await.expect("register");
        let rogue = self.rogue_signers.get(&i).cloned();
        let channels = Channels {
            votes: register(engine::CHANNEL_VOTES).await,
            certificates: register(engine::CHANNEL_CERTIFICATES).await,
            resolver: register(engine::CHANNEL_RESOLVER).await,
            broadcast: register(engine::CHANNEL_BROADCAST).await,
            backfill: register(engine::CHANNEL_BACKFILL).await,
            signatures: match rogue {
                // Without the actor the engine ignores this channel; the rogue gets the real one.
                Some(_) => register(UNUSED_CHANNEL).await,
                None => register(engine::CHANNEL_SIGNATURES).await,
            },
        };
        let rogue_channel = match rogue {
            Some(_) => Some(register(engine::CHANNEL_SIGNATURES).await),
            None => None,
        };
        let mut application = ApplicationConfig::new(self.keys.params.clone());
        application.signer = Some(self.keys.light[i].clone());
        let signatures = rogue.is_none().then(|| self.signatures_config(i));
        let config = EngineConfig {
            identity,
            participants: self.participants(),
            namespace: b"trestle-test".to_vec(),
            partition_prefix: format!("validator-{i}"),
            application,
            timeouts: timeouts(),
            blocker: self.oracle.control(me),
            peer_provider: self.oracle.manager(),
            mailbox_size: commonware_utils::NZUsize!(1_024),
            signatures,
        };
        let (ready, receiver) = oneshot::channel();
        let forged = byzantine.then(|| self.forged.clone());
        self.restarts[i] += 1;
        let task = context
            .child("validator")
            .with_attribute("index", i)
            .with_attribute("run", self.restarts[i])
            .spawn(move |context| async move {
                let wrap = |inner| Byzantine { inner, forged };
                let rogue_context = context.child("rogue");
                let node = engine::start_with(context, config, channels, wrap)
                    .await
                    .expect("validator starts");
                if let (Some(rogue), Some(channel)) = (rogue, rogue_channel) {
                    rogue(rogue_context, node.application.clone(), channel);
                }
                let _ = ready.send((node.application.clone(), node.signatures.clone()));
                futures::future::pending::<()>().await;
            });
        let (mailbox, signatures) = receiver.await.expect("validator started");
        self.nodes[i] = Some(Running { mailbox, signatures, task });
    }

    /// The signatures actor configuration of validator `i`.
    pub(crate) fn signatures_config(&self, i: usize) -> signatures::Config {
        let slots =
            self.participants().into_iter().enumerate().map(|(s, pk)| (pk, s as u32)).collect();
        signatures::Config::new(
            self.keys.identities[i].public_key(),
            self.keys.committee.clone(),
            slots,
            format!("validator-{i}-signatures"),
        )
    }

    /// Crashes validator `i`: every task it runs is aborted; its storage stays.
    pub(crate) async fn crash(&mut self, i: usize) {
        if let Some(node) = self.nodes[i].take() {
            node.task.abort();
            let _ = node.task.await;
        }
    }

    /// Mailboxes of the running validators.
    pub(crate) fn running(&self) -> impl Iterator<Item = (usize, &Mailbox)> {
        self.nodes.iter().enumerate().filter_map(|(i, n)| n.as_ref().map(|n| (i, &n.mailbox)))
    }

    /// Finalized height of validator `i` (0 if crashed).
    pub(crate) async fn height(&self, i: usize) -> u64 {
        match &self.nodes[i] {
            Some(node) => node.mailbox.status().await.map_or(0, |s| s.finalized_height.get()),
            None => 0,
        }
    }

    /// Waits (in simulated time) until every validator in `which` finalized `target`; panics
    /// after `deadline` of simulated time.
    pub(crate) async fn wait_for(
        &self,
        context: &deterministic::Context,
        which: &[usize],
        target: u64,
        deadline: Duration,
    ) {
        let start = context.current();
        loop {
            let mut done = true;
            for &i in which {
                if self.height(i).await < target {
                    done = false;
                    break;
                }
            }
            if done {
                return;
            }
            let elapsed = context.current().duration_since(start).unwrap_or_default();
            if elapsed > deadline {
                let mut heights = Vec::new();
                for &i in which {
                    heights.push(self.height(i).await);
                }
                panic!("heights {heights:?} did not reach {target} within {deadline:?}");
            }
            context.sleep(Duration::from_millis(100)).await;
        }
    }

    /// Finalized headers `0..=to` of validator `i`.
    pub(crate) async fn headers(&self, i: usize, to: u64) -> Vec<Header> {
        let mailbox = &self.nodes[i].as_ref().expect("running").mailbox;
        let mut headers = Vec::new();
        for h in 0..=to {
            headers.push(mailbox.header(Height(h)).await.expect("finalized header"));
        }
        headers
    }

    /// Checks agreement (every running validator has the same header at every height up to the
    /// lowest finalized height) and the chain rules over the agreed headers; returns the header
    /// hashes.
    pub(crate) async fn assert_agreement(&self) -> Vec<B256> {
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
        let headers = reference.expect("at least one validator");
        assert_chain(&headers, &self.keys.params);
        // Signed light-client states verify as a quorum at the lowest height.
        let mut signatures = Vec::new();
        for (i, mailbox) in self.running() {
            if let Some(signed) = mailbox.signed_state(Height(lowest)).await {
                assert_eq!(signed.state.height, Height(lowest));
                signatures.push(trestle_light_client::StateSignature {
                    slot: i as u32,
                    signature: signed.signature,
                });
                let mut tree = HistoryTree::new();
                for h in &headers {
                    tree.append(&h.hash());
                }
                assert_eq!(signed.state.history_root, tree.root());
            }
        }
        if signatures.len() * 3 > self.keys.identities.len() * 2 {
            let state = self.nodes.iter().flatten().next().expect("running");
            let signed = state.mailbox.signed_state(Height(lowest)).await.expect("signed");
            trestle_light_client::verify_quorum(&self.keys.committee, &signed.state, &signatures)
                .expect("quorum of light-client signatures");
        }
        headers.iter().map(Header::hash).collect()
    }
}

/// Checks the protocol rules over a finalized header chain: contiguous heights from genesis,
/// parent links, history roots, monotonic timestamps, increasing views, constant parameters.
pub(crate) fn assert_chain(headers: &[Header], params: &ChainParams) {
    let mut history = HistoryTree::new();
    for (h, header) in headers.iter().enumerate() {
        assert_eq!(header.height, Height(h as u64));
        assert_eq!(header.chain_id, params.chain_id);
        assert_eq!(header.epoch, params.epoch);
        assert_eq!(header.committee, params.committee);
        assert_eq!(header.history_root, history.root(), "history root at {h}");
        if h > 0 {
            let parent = &headers[h - 1];
            assert_eq!(header.parent, parent.hash(), "parent link at {h}");
            assert!(header.timestamp_ms >= parent.timestamp_ms, "timestamp at {h}");
            assert!(header.view > parent.view, "view at {h}");
        } else {
            assert_eq!(header.parent, B256::ZERO);
        }
        history.append(&header.hash());
    }
}

/// A proposer wrapper: honest ones (`forged: None`) forward, Byzantine ones corrupt every
/// proposal's history root (a block every honest validator must reject) and record the forged
/// header hashes.
#[derive(Clone)]
pub(crate) struct Byzantine {
    inner: Mailbox,
    forged: Option<Arc<Mutex<Vec<B256>>>>,
}

impl<E: commonware_runtime::Clock> Application<E> for Byzantine {
    type SigningScheme = Scheme;
    type Context = ConsensusContext;
    type Block = Block;
    type Input = ();

    async fn propose(
        &mut self,
        context: (E, ConsensusContext),
        ancestry: impl commonware_consensus::marshal::ancestry::Ancestry<Block>,
        input: (),
    ) -> Option<commonware_cryptography::Digested<Block>> {
        let block = Application::<E>::propose(&mut self.inner, context, ancestry, input).await?;
        let Some(forged) = &self.forged else { return Some(block) };
        let mut header = block.inner().header().clone();
        header.history_root = B256::repeat_byte(0xbd);
        forged.lock().expect("lock").push(header.hash());
        let forged = Block::from_parts(
            header,
            block.inner().parent_digest(),
            block.inner().transactions().to_vec(),
        );
        let digest = commonware_cryptography::Digestible::digest(&forged);
        Some(commonware_cryptography::Digested::precomputed(forged, digest))
    }

    async fn verify(
        &mut self,
        context: (E, ConsensusContext),
        ancestry: impl commonware_consensus::marshal::ancestry::Ancestry<Block>,
    ) -> bool {
        Application::<E>::verify(&mut self.inner, context, ancestry).await
    }
}

/// A deterministic runtime for `seed` that gives up after `timeout` of simulated time.
pub(crate) fn runner(seed: u64, timeout: Duration) -> deterministic::Runner {
    // Logs follow RUST_LOG (errors only by default); run with `--nocapture` to see them.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    deterministic::Runner::new(
        deterministic::Config::new().with_seed(seed).with_timeout(Some(timeout)),
    )
}

/// A transaction of an unowned namespace.
pub(crate) fn tx(namespace: u64, payload: &[u8]) -> trestle_node::BlockTransaction {
    trestle_node::BlockTransaction::unowned(trestle_light_client::Transaction::new(
        Namespace(namespace),
        payload.to_vec(),
    ))
}
