//! Test and benchmark harnesses (feature `test-utils`): one way to bring up validators for
//! every test and benchmark, over the same [`Validator`](crate::Validator) the process runs.
//!
//! * [`TestGenesis`] / [`TestNetwork`]: a network's keys (fixed, labelled test seeds) and its
//!   checked genesis;
//! * [`simulated::Cluster`]: N validators in commonware's deterministic runtime over the
//!   simulated p2p network: seeded links, partitions, crashes and restarts over the same
//!   storage, Byzantine proposers and rogue signers ([`faults`]);
//! * [`local::LocalNetwork`]: validators on loopback over the real authenticated TCP p2p and
//!   the JSON-RPC server, on a tokio runtime of their own ([`service::launch`], what the
//!   validator process runs);
//! * [`netns::NetnsNetwork`]: `trestle node run` processes on separate hosts of one machine
//!   (Linux network namespaces, `scripts/netns`), every link delayed by a TCP relay.
//!
//! [`service::launch`]: crate::service::launch

pub mod faults;
pub mod local;
pub mod netns;
pub mod simulated;

use std::{collections::BTreeMap, time::Duration};

use commonware_cryptography::{Signer as _, ed25519};
use trestle_api::{
    Genesis, GenesisL1, GenesisLimits, OwnedNamespace, ResolvedGenesis, ValidatorKeys,
};
use trestle_light_client::{Namespace, SecretKey, records::BlockNamespace};

use crate::{
    epochs::Peer, l1::scripted::TEST_STAKE_TABLE, timeouts::Timeouts, validator::Validator,
};

/// Namespace owned by a sequencer (the network's owner key) in every test network.
pub const OWNED_NAMESPACE: Namespace = Namespace(1_000);

/// The block namespace of the test rollup [`RECORD_CHAIN_ID`] (owned by the owner key).
pub const RECORD_NAMESPACE: Namespace = Namespace(1_901);

/// The chain id of the test rollup whose blocks [`RECORD_NAMESPACE`] records.
pub const RECORD_CHAIN_ID: u64 = 901;

/// The number of the test rollup's first recorded block.
pub const RECORD_FIRST: u64 = 1;

/// What a test network looks like.
#[derive(Clone, Debug)]
pub struct TestGenesis {
    /// Network id.
    pub chain_id: u64,
    /// Number of validators.
    pub validators: usize,
    /// Light-client committee capacity (at least `validators`).
    pub capacity: usize,
    /// Block limits.
    pub limits: GenesisLimits,
    /// Namespaces owned by the network's owner key.
    pub owned_namespaces: Vec<u64>,
    /// The block namespaces among them, with the rollup chain each records and its first
    /// number.
    pub block_namespaces: BTreeMap<u64, BlockNamespace>,
    /// Least time between blocks (ms).
    pub min_block_interval_ms: u64,
    /// Heights per epoch (`None`: one endless epoch).
    pub epoch_length: Option<u64>,
    /// Nodes outside the genesis committee (keys `validators..validators + extra`): they
    /// follow, and vote once a committee seats them.
    pub extra: usize,
    /// Whether the committee follows [`TEST_STAKE_TABLE`] (on a [`ScriptedL1`] the nodes
    /// follow) instead of staying the genesis committee forever.
    ///
    /// [`ScriptedL1`]: crate::l1::scripted::ScriptedL1
    pub stake_table: bool,
}

impl TestGenesis {
    /// `validators` validators, capacity equal to the committee, small test limits (64
    /// transactions, 1 KiB payloads, 16 KiB blocks), [`OWNED_NAMESPACE`] and the block
    /// namespace [`RECORD_NAMESPACE`] owned, no pacing, one
    /// endless epoch.
    pub fn new(validators: usize) -> Self {
        Self {
            chain_id: 31_337,
            validators,
            capacity: validators,
            limits: GenesisLimits {
                max_transactions: 64,
                max_payload: 1_024,
                max_block_payload: 16 * 1_024,
            },
            owned_namespaces: vec![OWNED_NAMESPACE.get(), RECORD_NAMESPACE.get()],
            block_namespaces: BTreeMap::from([(
                RECORD_NAMESPACE.get(),
                BlockNamespace { chain_id: RECORD_CHAIN_ID, first: RECORD_FIRST },
            )]),
            min_block_interval_ms: 0,
            epoch_length: None,
            extra: 0,
            stake_table: false,
        }
    }

    /// The network: keys derived from fixed test seeds and the checked genesis.
    pub fn build(&self) -> TestNetwork {
        let keys: Vec<ValidatorKeys> = (0..self.validators + self.extra).map(test_keys).collect();
        let owner = owner_keys();
        let l1 = self.stake_table.then(|| GenesisL1 {
            chain_id: TEST_STAKE_TABLE.chain_id,
            stake_table: TEST_STAKE_TABLE.address.to_string(),
            deploy_block: 0,
            reference: None,
        });
        let file = Genesis {
            chain_id: self.chain_id,
            epoch: 0,
            epoch_length: self.epoch_length,
            l1,
            timestamp_ms: 0,
            min_block_interval_ms: self.min_block_interval_ms,
            committee_capacity: self.capacity,
            validators: keys[..self.validators].iter().map(ValidatorKeys::genesis_entry).collect(),
            owned_namespaces: self
                .owned_namespaces
                .iter()
                .map(|&namespace| OwnedNamespace {
                    namespace,
                    owner: owner.genesis_entry().consensus_key,
                    block_records_of: self.block_namespaces.get(&namespace).map(|b| b.chain_id),
                    first_record: self.block_namespaces.get(&namespace).map_or(0, |b| b.first),
                })
                .collect(),
            limits: self.limits,
        };
        let genesis = match file.resolve() {
            Ok(genesis) => genesis,
            Err(e) => panic!("a test genesis must be valid: {e}"),
        };
        TestNetwork { keys, owner, file, genesis }
    }
}

/// A test network's keys and genesis.
#[derive(Clone, Debug)]
pub struct TestNetwork {
    /// Every node's keys: the genesis validators in slot order, then the nodes outside it.
    pub keys: Vec<ValidatorKeys>,
    /// The owner of the genesis's owned namespaces.
    pub owner: ValidatorKeys,
    /// The genesis as a file.
    pub file: Genesis,
    /// The checked genesis.
    pub genesis: ResolvedGenesis,
}

impl TestNetwork {
    /// Node `i` (a genesis validator or, from index `genesis validators` on, a node outside the
    /// genesis), storing under `partition_prefix`, with [`test_timeouts`].
    pub fn validator(&self, i: usize, partition_prefix: impl Into<String>) -> Validator {
        match Validator::new(self.genesis.clone(), self.keys[i].clone(), partition_prefix) {
            Ok(mut validator) => {
                validator.timeouts = test_timeouts();
                validator
            }
            Err(e) => panic!("test keys are the genesis's: {e}"),
        }
    }

    /// The genesis validators' consensus keys, in slot order.
    pub fn participants(&self) -> Vec<ed25519::PublicKey> {
        self.genesis.consensus_keys.clone()
    }

    /// Every node's consensus key, in index order.
    pub fn nodes(&self) -> Vec<ed25519::PublicKey> {
        self.keys.iter().map(|keys| keys.consensus.public_key()).collect()
    }

    /// Every node as every node's follower: whoever an epoch does not seat (a node outside the
    /// genesis before it joins, a validator after it left) is a secondary peer of its set, and
    /// keeps following (the simulated network knows peers by key only).
    pub fn followers(&self) -> Vec<Peer> {
        self.nodes().into_iter().map(|key| (key, None)).collect()
    }
}

/// Validator `i`'s keys: consensus key from seed `i`, light-client key from seed `[i + 1; 32]`.
/// TEST KEYS: their seeds are public.
pub fn test_keys(i: usize) -> ValidatorKeys {
    ValidatorKeys {
        consensus: ed25519::PrivateKey::from_seed(i as u64),
        light_client: SecretKey::from_seed([(i as u8).wrapping_add(1); 32]),
    }
}

/// The owner key of test networks' owned namespaces. TEST KEY: its seed is public.
pub fn owner_keys() -> ValidatorKeys {
    ValidatorKeys {
        consensus: ed25519::PrivateKey::from_seed(9_999),
        light_client: SecretKey::from_seed([0xee; 32]),
    }
}

/// Timeouts that suit links of tens of milliseconds.
pub fn test_timeouts() -> Timeouts {
    Timeouts {
        leader: Duration::from_millis(500),
        certification: Duration::from_millis(1_000),
        timeout_retry: Duration::from_millis(1_000),
        skip: Duration::from_secs(5),
        fetch: Duration::from_millis(500),
    }
}
