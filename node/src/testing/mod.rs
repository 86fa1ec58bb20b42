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
//!   validator process runs).
//!
//! [`service::launch`]: crate::service::launch

pub mod faults;
pub mod local;
pub mod simulated;

use std::time::Duration;

use commonware_cryptography::{Signer as _, ed25519};
use trestle_api::{Genesis, GenesisLimits, OwnedNamespace, ResolvedGenesis, ValidatorKeys};
use trestle_light_client::{Namespace, SecretKey};

use crate::{timeouts::Timeouts, validator::Validator};

/// Namespace owned by a sequencer (the network's owner key) in every test network.
pub const OWNED_NAMESPACE: Namespace = Namespace(1_000);

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
    /// Least time between blocks (ms).
    pub min_block_interval_ms: u64,
    /// Heights per epoch (`None`: one endless epoch).
    pub epoch_length: Option<u64>,
}

impl TestGenesis {
    /// `validators` validators, capacity equal to the committee, small test limits (64
    /// transactions, 1 KiB payloads, 16 KiB blocks), [`OWNED_NAMESPACE`] owned, no pacing, one
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
            owned_namespaces: vec![OWNED_NAMESPACE.get()],
            min_block_interval_ms: 0,
            epoch_length: None,
        }
    }

    /// The network: keys derived from fixed test seeds and the checked genesis.
    pub fn build(&self) -> TestNetwork {
        let keys: Vec<ValidatorKeys> = (0..self.validators).map(test_keys).collect();
        let owner = owner_keys();
        let file = Genesis {
            chain_id: self.chain_id,
            epoch: 0,
            epoch_length: self.epoch_length,
            l1: None,
            timestamp_ms: 0,
            min_block_interval_ms: self.min_block_interval_ms,
            committee_capacity: self.capacity,
            validators: keys.iter().map(ValidatorKeys::genesis_entry).collect(),
            owned_namespaces: self
                .owned_namespaces
                .iter()
                .map(|&namespace| OwnedNamespace {
                    namespace,
                    owner: owner.genesis_entry().consensus_key,
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
    /// The validators' keys, in slot order.
    pub keys: Vec<ValidatorKeys>,
    /// The owner of the genesis's owned namespaces.
    pub owner: ValidatorKeys,
    /// The genesis as a file.
    pub file: Genesis,
    /// The checked genesis.
    pub genesis: ResolvedGenesis,
}

impl TestNetwork {
    /// Validator `i`, storing under `partition_prefix`, with [`test_timeouts`].
    pub fn validator(&self, i: usize, partition_prefix: impl Into<String>) -> Validator {
        match Validator::new(self.genesis.clone(), self.keys[i].clone(), partition_prefix) {
            Ok(mut validator) => {
                validator.timeouts = test_timeouts();
                validator
            }
            Err(e) => panic!("test keys are the genesis's: {e}"),
        }
    }

    /// The consensus keys, in slot order.
    pub fn participants(&self) -> Vec<ed25519::PublicKey> {
        self.genesis.consensus_keys.clone()
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
