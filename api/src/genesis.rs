//! The network's genesis file (JSON, identical on every validator): everything validators must
//! agree on before block 1, and what a client takes as its trust anchor.
//!
//! [`Genesis`] is the file as written; [`Genesis::resolve`] checks it and decodes it into
//! protocol types ([`ResolvedGenesis`]), refusing with a [`FileError`] that names the field:
//! malformed hex, keys that do not decode (light-client keys must be on the curve and in the
//! prime subgroup), duplicate consensus keys, a committee that does not fit its capacity, a
//! namespace owned twice, limits that cannot hold a transaction, weights other than 1
//! (consensus votes are equal-weight, so a weighted light-client quorum could diverge from the
//! consensus quorum: DESIGN §3), an epoch length below 2, and an L1 section whose stake table
//! or reference does not parse.
//!
//! Block namespaces (DESIGN §4): an owned namespace with `"blockRecordsOf": <chain id>` holds
//! that rollup's `BlockRecord`s, which validators require to be contiguous, chained and one per
//! number ([`trestle_light_client::records`]).
//!
//! Epochs (DESIGN §3a): `epochLength` heights each (absent: one endless epoch). With an `l1`
//! section, the committee of every epoch from 2 on is drawn from the StakeTable it names, at
//! the L1 references the chain finalizes; the genesis committee serves epochs 0 and 1.

use std::{collections::BTreeMap, num::NonZeroU64, path::Path};

use alloy_primitives::{Address, B256};
use commonware_codec::{DecodeExt as _, Encode as _};
use commonware_cryptography::{Verifier as _, ed25519};
use serde::{Deserialize, Serialize};
use trestle_light_client::{
    ChainId, Committee, CommitteeSlot, Epoch, Namespace, PeerAddress,
    eddsa::{PublicKey as LightClientKey, SIGNATURE_LEN, Signature as LightClientSignature},
    epoch::ENDLESS,
    records::BlockNamespace,
    rotation::{CommitteeRecord, CommitteeSeat, L1Reference},
    stake::{
        CONSENSUS_POP_LEN, GENESIS_CONSENSUS_POP_NAMESPACE, StakeTableId, genesis_pop_message,
        light_client_pop_message,
    },
    transaction::DEFAULT_MAX_PAYLOAD,
};

use crate::files::{
    FileError, parse_consensus_key, parse_error, parse_hex, parse_light_client_key, read, write,
};

/// One genesis validator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisValidator {
    /// ed25519 consensus (and p2p) public key, `0x` + 32 bytes.
    pub consensus_key: String,
    /// EdDSA-Poseidon light-client public key, `0x` + 64 bytes (circomlib coordinates).
    pub light_client_key: String,
    /// Voting weight of the light-client slot: must be 1 while consensus is equal-weight.
    #[serde(default = "one")]
    pub weight: u64,
    /// Where peers reach it (`ip:port` or `host:port`, [`PeerAddress`]); optional, since nodes
    /// also know their peers from their own configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p2p_address: Option<String>,
    /// ed25519 proof of possession of the consensus key, `0x` + 64 bytes
    /// ([`crate::stake::GenesisProofs`]); checked whenever present, required by `trestle genesis`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consensus_pop: Option<String>,
    /// EdDSA-Poseidon proof of possession of the light-client key, `0x` + 96 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub light_client_pop: Option<String>,
}

impl GenesisValidator {
    /// The entry's proofs of possession: `None` if it carries neither, an error if it carries
    /// only one or a malformed one.
    pub fn proofs(&self, field: &str) -> Result<Option<GenesisProofs>, FileError> {
        match (&self.consensus_pop, &self.light_client_pop) {
            (None, None) => Ok(None),
            (Some(consensus), Some(light_client)) => Ok(Some(GenesisProofs {
                consensus_pop: parse_hex(&format!("{field}.consensusPop"), consensus)?,
                light_client_pop: parse_hex(&format!("{field}.lightClientPop"), light_client)?,
            })),
            _ => Err(FileError::Genesis(format!(
                "{field}: carries one proof of possession without the other"
            ))),
        }
    }
}

/// The L1 chain holding the network's StakeTable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisL1 {
    /// The L1 chain id (`block.chainid`, bound into every proof of possession).
    pub chain_id: u64,
    /// The StakeTable contract, `0x` + 20 bytes.
    pub stake_table: String,
    /// The L1 block the StakeTable was deployed in (nothing before it holds its events).
    #[serde(default)]
    pub deploy_block: u64,
    /// The L1 block the genesis refers to: the chain's first L1 reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<GenesisL1Reference>,
}

/// An L1 block, as a genesis names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisL1Reference {
    /// Block number.
    pub number: u64,
    /// Block hash, `0x` + 32 bytes.
    pub hash: String,
}

/// The L1 section of a genesis, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResolvedL1 {
    /// The StakeTable (L1 chain and address).
    pub stake_table: StakeTableId,
    /// Its deployment block.
    pub deploy_block: u64,
    /// The genesis L1 reference ([`L1Reference::NONE`] when the genesis names none).
    pub reference: L1Reference,
}

fn one() -> u64 {
    1
}

/// A namespace bound to its sequencer's key: only transactions it signed are admitted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OwnedNamespace {
    /// The namespace.
    pub namespace: u64,
    /// The owner's ed25519 public key, `0x` + 32 bytes.
    pub owner: String,
    /// Set for a rollup's *block namespace* (hybrid mode, DESIGN §4): the rollup's chain id.
    /// Its transactions must then be `BlockRecord`s of that chain that extend the namespace's
    /// records (contiguous numbers, chained parents, one record per number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_records_of: Option<u64>,
    /// With `block_records_of`: the number of the rollup block the namespace records first
    /// (default 0, the rollup's genesis block). Records start exactly there, so one that
    /// arrives ahead of the ones before it waits for them (DESIGN §4).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub first_record: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// Default most transactions per block.
pub const DEFAULT_MAX_TRANSACTIONS: usize = 1_024;
/// Default largest sum of payloads per block (4 MiB).
pub const DEFAULT_MAX_BLOCK_PAYLOAD: usize = 4 * 1024 * 1024;

/// Block size limits, as written in a genesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisLimits {
    /// Most transactions per block.
    pub max_transactions: usize,
    /// Largest transaction payload (bytes).
    pub max_payload: usize,
    /// Largest sum of payloads per block (bytes).
    pub max_block_payload: usize,
}

impl Default for GenesisLimits {
    /// 1,024 transactions, 1 MiB per payload, 4 MiB per block.
    fn default() -> Self {
        Self {
            max_transactions: DEFAULT_MAX_TRANSACTIONS,
            max_payload: DEFAULT_MAX_PAYLOAD,
            max_block_payload: DEFAULT_MAX_BLOCK_PAYLOAD,
        }
    }
}

/// The network's genesis file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Genesis {
    /// Network id (also separates consensus signatures of different networks).
    pub chain_id: u64,
    /// The epoch of the genesis block: 0 (the field predates epochs and is kept for old files).
    #[serde(default)]
    pub epoch: u64,
    /// Heights per epoch (at least 2); absent for one endless epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch_length: Option<u64>,
    /// The L1 chain holding the StakeTable; absent for a fixed committee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1: Option<GenesisL1>,
    /// Timestamp of the genesis header (ms since the Unix epoch).
    pub timestamp_ms: u64,
    /// Least time between consecutive blocks (ms); paces an idle network.
    pub min_block_interval_ms: u64,
    /// Slots of the light-client circuit the committee is padded to.
    pub committee_capacity: usize,
    /// The validators, in light-client slot order.
    pub validators: Vec<GenesisValidator>,
    /// Namespaces with a sequencer key.
    #[serde(default)]
    pub owned_namespaces: Vec<OwnedNamespace>,
    /// Block size limits.
    #[serde(default)]
    pub limits: GenesisLimits,
}

/// A genesis decoded into protocol types and checked.
#[derive(Clone, Debug)]
pub struct ResolvedGenesis {
    /// The network.
    pub chain_id: ChainId,
    /// The epoch of the genesis block (0).
    pub epoch: Epoch,
    /// Heights per epoch ([`ENDLESS`] for one endless epoch).
    pub epoch_length: NonZeroU64,
    /// The StakeTable's L1, when the committee can change.
    pub l1: Option<ResolvedL1>,
    /// Timestamp of the genesis header (ms since the Unix epoch).
    pub timestamp_ms: u64,
    /// Least time between consecutive blocks (ms).
    pub min_block_interval_ms: u64,
    /// Consensus keys, in light-client slot order.
    pub consensus_keys: Vec<ed25519::PublicKey>,
    /// The light-client committee (slot `i` belongs to `consensus_keys[i]`).
    pub committee: Committee,
    /// The validators' p2p addresses, where the genesis names them (slot order).
    pub p2p_addresses: Vec<Option<PeerAddress>>,
    /// Owned namespaces and their owners' keys.
    pub owners: BTreeMap<Namespace, ed25519::PublicKey>,
    /// The block namespaces among the owned ones, with the rollup each records.
    pub block_namespaces: BTreeMap<Namespace, BlockNamespace>,
    /// Block size limits (non-zero; a block holds its largest transaction).
    pub limits: GenesisLimits,
}

impl ResolvedGenesis {
    /// The light-client slot of the validator with consensus key `key`.
    pub fn slot_of(&self, key: &ed25519::PublicKey) -> Option<u32> {
        self.consensus_keys.iter().position(|k| k == key).and_then(|i| u32::try_from(i).ok())
    }

    /// The domain separating this network's consensus signatures from every other network's.
    pub fn consensus_namespace(&self) -> Vec<u8> {
        consensus_namespace(self.chain_id.get())
    }

    /// The genesis committee as a committee record (it serves epochs 0 and 1).
    pub fn committee_record(&self) -> CommitteeRecord {
        let members = self
            .consensus_keys
            .iter()
            .zip(self.committee.slots())
            .zip(&self.p2p_addresses)
            .map(|((consensus, slot), address)| CommitteeSeat {
                consensus_key: B256::from_slice(consensus.as_ref()),
                light_client_key: slot.key,
                p2p_address: address.clone(),
            })
            .collect();
        // Resolution checked keys, duplicates and capacity: the record cannot be refused.
        CommitteeRecord::new(members, self.committee.capacity())
            .unwrap_or_else(|e| unreachable!("a resolved genesis is a valid committee: {e}"))
    }

    /// The genesis L1 reference ([`L1Reference::NONE`] without an L1).
    pub fn l1_reference(&self) -> L1Reference {
        self.l1.map_or(L1Reference::NONE, |l1| l1.reference)
    }
}

/// The domain separating the consensus signatures of network `chain_id` from every other
/// network's.
pub fn consensus_namespace(chain_id: u64) -> Vec<u8> {
    let mut namespace = b"trestle.consensus.v1.".to_vec();
    namespace.extend_from_slice(&chain_id.to_be_bytes());
    namespace
}

impl Genesis {
    /// Reads and validates a genesis file.
    pub fn load(path: &Path) -> Result<(Self, ResolvedGenesis), FileError> {
        let genesis: Self = serde_json::from_str(&read(path)?).map_err(|e| parse_error(path, e))?;
        let resolved = genesis.resolve()?;
        Ok((genesis, resolved))
    }

    /// Writes the genesis as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<(), FileError> {
        let json = serde_json::to_string_pretty(self).map_err(|e| parse_error(path, e))?;
        write(path, &(json + "\n"))
    }

    /// Decodes every key and checks that the genesis is self-consistent.
    pub fn resolve(&self) -> Result<ResolvedGenesis, FileError> {
        let mut consensus_keys = Vec::with_capacity(self.validators.len());
        let mut slots = Vec::with_capacity(self.validators.len());
        let mut p2p_addresses = Vec::with_capacity(self.validators.len());
        for (i, validator) in self.validators.iter().enumerate() {
            let key = parse_consensus_key(
                &format!("validators[{i}].consensusKey"),
                &validator.consensus_key,
            )?;
            if let Some(first) = consensus_keys.iter().position(|k| *k == key) {
                return Err(FileError::Genesis(format!(
                    "validators {first} and {i} share their consensus key"
                )));
            }
            if validator.weight != 1 {
                return Err(FileError::Genesis(format!(
                    "validator {i}: weight {}; consensus votes are equal-weight, so every \
                     genesis weight must be 1 (a weighted light-client quorum could differ from \
                     the consensus quorum)",
                    validator.weight
                )));
            }
            consensus_keys.push(key);
            p2p_addresses.push(
                validator
                    .p2p_address
                    .as_deref()
                    .map(|address| {
                        address.parse::<PeerAddress>().map_err(|e| {
                            FileError::Genesis(format!("validator {i}: p2pAddress {e}"))
                        })
                    })
                    .transpose()?,
            );
            let light_client_key = parse_light_client_key(
                &format!("validators[{i}].lightClientKey"),
                &validator.light_client_key,
            )?;
            if let Some(proofs) = validator.proofs(&format!("validators[{i}]"))? {
                verify_genesis_proofs(&consensus_keys[i], &light_client_key, &proofs)
                    .map_err(|e| FileError::Genesis(format!("validator {i}: {e}")))?;
            }
            slots.push(CommitteeSlot { key: light_client_key, weight: validator.weight });
        }
        if self.validators.len() < trestle_light_client::rotation::MIN_COMMITTEE {
            return Err(FileError::Genesis(format!(
                "{} validators: a committee needs at least {} (3f + 1 with f ≥ 1: blocks travel \
                 erasure-coded, f + 1 of the n shards rebuild one, and fewer validators tolerate \
                 no fault)",
                self.validators.len(),
                trestle_light_client::rotation::MIN_COMMITTEE
            )));
        }
        let committee = Committee::new(slots, self.committee_capacity)
            .map_err(|e| FileError::Genesis(e.to_string()))?;
        let mut owners = BTreeMap::new();
        let mut block_namespaces = BTreeMap::new();
        for (i, owned) in self.owned_namespaces.iter().enumerate() {
            let owner = parse_consensus_key(&format!("ownedNamespaces[{i}].owner"), &owned.owner)?;
            if owners.insert(Namespace(owned.namespace), owner).is_some() {
                return Err(FileError::Genesis(format!(
                    "namespace {} owned twice",
                    owned.namespace
                )));
            }
            match (owned.block_records_of, owned.first_record) {
                (Some(chain_id), first) => {
                    let spec = BlockNamespace { chain_id, first };
                    block_namespaces.insert(Namespace(owned.namespace), spec);
                }
                (None, 0) => {}
                (None, first) => {
                    return Err(FileError::Genesis(format!(
                        "ownedNamespaces[{i}]: firstRecord {first} without blockRecordsOf (only \
                         a block namespace has records)"
                    )));
                }
            }
        }
        let limits = self.limits;
        if limits.max_transactions == 0
            || limits.max_payload == 0
            || limits.max_block_payload < limits.max_payload
        {
            return Err(FileError::Genesis(
                "limits must be non-zero and a block must fit its largest transaction".into(),
            ));
        }
        if self.epoch != 0 {
            return Err(FileError::Genesis(format!(
                "epoch {}: the genesis block is height 0, in epoch 0",
                self.epoch
            )));
        }
        let epoch_length = match self.epoch_length {
            None => ENDLESS,
            Some(length) if length >= 2 => NonZeroU64::new(length).unwrap_or(ENDLESS),
            Some(length) => {
                return Err(FileError::Genesis(format!(
                    "epochLength {length}: an epoch needs at least 2 heights (its last block \
                     hands over to the next)"
                )));
            }
        };
        let l1 = self.l1.as_ref().map(GenesisL1::resolve).transpose()?;
        Ok(ResolvedGenesis {
            chain_id: ChainId(self.chain_id),
            epoch: Epoch(self.epoch),
            epoch_length,
            l1,
            p2p_addresses,
            timestamp_ms: self.timestamp_ms,
            min_block_interval_ms: self.min_block_interval_ms,
            consensus_keys,
            committee,
            owners,
            block_namespaces,
            limits,
        })
    }
}

impl GenesisL1 {
    fn resolve(&self) -> Result<ResolvedL1, FileError> {
        let address = Address::from(parse_hex::<20>("l1.stakeTable", &self.stake_table)?);
        let reference = match &self.reference {
            None => L1Reference::NONE,
            Some(reference) => {
                let hash = B256::from(parse_hex::<32>("l1.reference.hash", &reference.hash)?);
                if hash.is_zero() {
                    return Err(FileError::Genesis("l1.reference.hash is zero".into()));
                }
                if reference.number < self.deploy_block {
                    return Err(FileError::Genesis(format!(
                        "l1.reference.number {} is before l1.deployBlock {}",
                        reference.number, self.deploy_block
                    )));
                }
                L1Reference { number: reference.number, hash }
            }
        };
        Ok(ResolvedL1 {
            stake_table: StakeTableId { chain_id: self.chain_id, address },
            deploy_block: self.deploy_block,
            reference,
        })
    }
}

/// A genesis entry's two proofs of possession.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenesisProofs {
    /// ed25519 signature of [`genesis_pop_message`] under [`GENESIS_CONSENSUS_POP_NAMESPACE`].
    pub consensus_pop: [u8; CONSENSUS_POP_LEN],
    /// EdDSA-Poseidon signature of the message mod r.
    pub light_client_pop: [u8; SIGNATURE_LEN],
}

/// Why a genesis entry's proofs of possession were refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GenesisProofError {
    /// The consensus key's proof is not its signature of the entry's message.
    #[error("the consensus key's proof of possession does not verify")]
    Consensus,
    /// The light-client key's proof is malformed or not its signature of the entry's message.
    #[error("the light-client key's proof of possession does not verify")]
    LightClient,
}

/// Checks a genesis entry's proofs of possession of `consensus_key` and `light_client_key`.
pub fn verify_genesis_proofs(
    consensus_key: &ed25519::PublicKey,
    light_client_key: &LightClientKey,
    proofs: &GenesisProofs,
) -> Result<(), GenesisProofError> {
    let message = genesis_pop_message(
        &B256::from_slice(&consensus_key.encode()),
        &light_client_key.to_bytes(),
    );
    let consensus_valid =
        ed25519::Signature::decode(proofs.consensus_pop.to_vec()).is_ok_and(|sig| {
            consensus_key.verify(GENESIS_CONSENSUS_POP_NAMESPACE, message.as_slice(), &sig)
        });
    if !consensus_valid {
        return Err(GenesisProofError::Consensus);
    }
    LightClientSignature::from_bytes(&proofs.light_client_pop)
        .and_then(|sig| sig.verify(light_client_key, &light_client_pop_message(&message)))
        .map_err(|_| GenesisProofError::LightClient)
}
