//! JSON shapes of the RPC's parameters and results (DESIGN §8).
//!
//! Bytes are 0x-prefixed hex, `u64` fields decimal JSON numbers, field names camelCase. Every
//! result that carries a protocol object also carries its canonical encoding in `encoded`
//! (ABI for what Solidity reads, commonware-codec for blocks and certificates): clients should
//! decode that strictly with `trestle-light-client` (the `decode` helpers here do) rather than
//! trust the readable fields, which are a convenience.
//!
//! Every type is `Serialize + Deserialize`: the server (`trestle-node`) and its clients (CLI,
//! relayer, tests) share them. Responses about blocks are built by the node, which owns the block
//! type; everything else has a constructor here.

use alloy_primitives::{B256, Bytes};
use commonware_cryptography::ed25519;
use serde::{Deserialize, Serialize};
use trestle_light_client::{
    Committee, CommitteeSlot, Header, LightClientState, PublicKey, Signature, StateSignature,
    Transaction,
    abi::{self, CodecError},
    committee::CommitteeError,
    rotation::CommitteeRecord,
    state::StateError,
};

/// `trestle_submit`'s parameter: a transaction and, for an owned namespace, its owner's
/// ed25519 signature over the transaction hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubmitRequest {
    /// Namespace.
    pub namespace: u64,
    /// Opaque payload.
    pub payload: Bytes,
    /// 64-byte ed25519 signature of the namespace owner (`null` for unowned namespaces).
    #[serde(default)]
    pub authorization: Option<Bytes>,
}

/// Most transactions in one `trestle_submitBatch`.
pub const MAX_SUBMIT_BATCH: usize = 1_024;

/// One transaction's answer in `trestle_submitBatch`, in the order submitted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubmitOutcome {
    /// The transaction's hash (computed from its namespace and payload, so also given for a
    /// refused one).
    pub hash: B256,
    /// Why it was refused, with the code `trestle_submit` would answer
    /// ([`codes`](crate::codes)); absent when it was admitted and held as by `trestle_submit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SubmitFailure>,
}

/// A refused submission in a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubmitFailure {
    /// The JSON-RPC error code `trestle_submit` answers for the same refusal.
    pub code: i32,
    /// What was wrong.
    pub message: String,
}

impl SubmitOutcome {
    /// Whether the node has the transaction: admitted now, or pending or finalized already.
    pub fn is_known(&self) -> bool {
        self.error.as_ref().is_none_or(|e| crate::codes::is_already_known(e.code))
    }
}

/// A header with its hash and canonical encoding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderResponse {
    /// The header's fields.
    pub header: Header,
    /// `keccak256(encoded)`.
    pub hash: B256,
    /// `abi.encode(header)` (288 bytes).
    pub encoded: Bytes,
}

impl HeaderResponse {
    /// Builds the response for `header`.
    pub fn new(header: &Header) -> Self {
        Self { header: header.clone(), hash: header.hash(), encoded: header.encode().into() }
    }

    /// Strictly decodes `encoded`.
    pub fn decode(&self) -> Result<Header, CodecError> {
        Header::decode(&self.encoded)
    }
}

/// A transaction as carried in a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionResponse {
    /// Namespace.
    pub namespace: u64,
    /// Payload.
    pub payload: Bytes,
    /// Transaction hash (`keccak256(encoded)`).
    pub hash: B256,
    /// The owner's ed25519 signature over `hash` (owned namespaces only).
    pub authorization: Option<Bytes>,
    /// `abi.encode(Transaction)`.
    pub encoded: Bytes,
}

impl TransactionResponse {
    /// Builds the response for `transaction`, carried with the owner's `authorization` (the
    /// 64-byte ed25519 signature, for owned namespaces).
    pub fn new(transaction: &Transaction, authorization: Option<&ed25519::Signature>) -> Self {
        Self {
            namespace: transaction.namespace.get(),
            payload: transaction.payload.clone(),
            hash: transaction.hash(),
            authorization: authorization.map(|s| Bytes::copy_from_slice(s.as_ref())),
            encoded: transaction.encode().into(),
        }
    }

    /// Strictly decodes `encoded` (payloads up to `max_payload` bytes).
    pub fn decode(&self, max_payload: usize) -> Result<Transaction, CodecError> {
        Transaction::decode(&self.encoded, max_payload)
    }
}

/// A finalized block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockResponse {
    /// The header.
    pub header: HeaderResponse,
    /// Consensus digest of the block (what the finalization certificate signs).
    pub digest: B256,
    /// Digest of the parent block.
    pub parent_digest: B256,
    /// The L1 block the proposer referred to (number; 0 with a zero hash: no L1).
    pub l1_block: u64,
    /// Its hash.
    pub l1_hash: B256,
    /// Commitment of the committee two epochs on, in an epoch's last block only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_committee: Option<B256>,
    /// Hash of the block's succession (L1 reference and next committee; see the node's
    /// `succession` module).
    pub succession_hash: B256,
    /// Hash of the transactions' owner authorizations (see the node's `block` module).
    pub authorizations_hash: B256,
    /// Hash of the consensus context the block was proposed in (round, leader, parent view
    /// and commitment; see the node's `block` module).
    pub context_hash: B256,
    /// Transactions in block order.
    pub transactions: Vec<TransactionResponse>,
    /// The block's commonware-codec encoding (decode with the network's block limits).
    pub encoded: Bytes,
}

/// A finalized block without its payloads: what a list of blocks shows (a few hundred bytes
/// where [`BlockResponse`] carries up to megabytes of payload).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockSummaryResponse {
    /// The header.
    pub header: HeaderResponse,
    /// Consensus digest of the block.
    pub digest: B256,
    /// Number of transactions.
    pub transactions: u64,
    /// Sum of the transactions' payload bytes.
    pub payload_bytes: u64,
    /// Size of the block's commonware-codec encoding.
    pub encoded_bytes: u64,
    /// The namespaces present, ascending, with their transactions and payload bytes.
    pub namespaces: Vec<NamespaceSummary>,
}

/// One namespace's share of a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSummary {
    /// The namespace.
    pub namespace: u64,
    /// Its transactions in the block.
    pub transactions: u64,
    /// Their payload bytes.
    pub payload_bytes: u64,
}

/// The finalization certificate of a height, with what links it to the header. The certificate
/// signs `commitment` = `digest ‖ codingRoot ‖ contextDigest ‖ codingConfig` (blocks travel
/// erasure-coded), and
/// `digest = keccak256("trestle.block.v3" ‖ headerHash ‖ parentDigest ‖ successionHash ‖
/// authorizationsHash ‖ contextHash)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FinalityResponse {
    /// Height of the finalized block.
    pub height: u64,
    /// Consensus epoch of the certificate.
    pub epoch: u64,
    /// Consensus view of the finalized proposal.
    pub view: u64,
    /// View of the parent proposal.
    pub parent_view: u64,
    /// The block digest (the first 32 bytes of the commitment the certificate signs).
    pub digest: B256,
    /// The coding commitment the certificate signs (100 bytes: block digest, BLAKE3 coding
    /// root of the shards, BLAKE3 of the consensus context, coding configuration).
    pub commitment: Bytes,
    /// Hash of the finalized header.
    pub header_hash: B256,
    /// Digest of the parent block.
    pub parent_digest: B256,
    /// Hash of the block's succession (L1 reference and next committee).
    pub succession_hash: B256,
    /// Hash of the block's authorizations.
    pub authorizations_hash: B256,
    /// Hash of the block's consensus context.
    pub context_hash: B256,
    /// Indices (in the sorted participant set) of the validators whose signatures it carries.
    pub signers: Vec<u32>,
    /// The commonware-codec encoding of the simplex `Finalization` (ed25519 scheme).
    pub encoded: Bytes,
}

/// A Merkle proof in a committed-count tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MerkleProofResponse {
    /// Leaf index.
    pub index: u64,
    /// Leaf count of the tree.
    pub count: u64,
    /// Sibling hashes, leaf to root.
    pub siblings: Vec<B256>,
    /// `abi.encode(MerkleProof)`.
    pub encoded: Bytes,
}

impl MerkleProofResponse {
    /// Builds the response for `proof`.
    pub fn new(proof: &abi::MerkleProof) -> Self {
        Self {
            index: proof.index,
            count: proof.count,
            siblings: proof.siblings.clone(),
            encoded: proof.encode().into(),
        }
    }

    /// Strictly decodes `encoded`.
    pub fn decode(&self) -> Result<abi::MerkleProof, CodecError> {
        abi::MerkleProof::decode(&self.encoded)
    }
}

/// A namespace leaf and its path to `payloadRoot`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceProofResponse {
    /// Namespace.
    pub namespace: u64,
    /// Number of the namespace's transactions in the block.
    pub tx_count: u64,
    /// Root of the namespace's transaction tree.
    pub tx_root: B256,
    /// Path of the leaf to `payloadRoot`.
    pub proof: MerkleProofResponse,
    /// `abi.encode(NamespaceProof)`.
    pub encoded: Bytes,
}

impl NamespaceProofResponse {
    /// Builds the response for `proof`.
    pub fn new(proof: &abi::NamespaceProof) -> Self {
        Self {
            namespace: proof.leaf.namespace,
            tx_count: proof.leaf.txCount,
            tx_root: proof.leaf.txRoot,
            proof: MerkleProofResponse::new(&proof.proof),
            encoded: proof.encode().into(),
        }
    }

    /// Strictly decodes `encoded`.
    pub fn decode(&self) -> Result<abi::NamespaceProof, CodecError> {
        abi::NamespaceProof::decode(&self.encoded)
    }
}

/// Proof that a namespace has no transaction in a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AbsenceProofResponse {
    /// Number of namespace leaves in the block.
    pub leaf_count: u64,
    /// The neighbouring namespace leaves (zero, one or two).
    pub neighbours: Vec<NamespaceProofResponse>,
    /// `abi.encode(NamespaceAbsenceProof)`.
    pub encoded: Bytes,
}

impl AbsenceProofResponse {
    /// Builds the response for `proof`.
    pub fn new(proof: &abi::NamespaceAbsenceProof) -> Self {
        Self {
            leaf_count: proof.leafCount,
            neighbours: proof.neighbours.iter().map(NamespaceProofResponse::new).collect(),
            encoded: proof.encode().into(),
        }
    }

    /// Strictly decodes `encoded`.
    pub fn decode(&self) -> Result<abi::NamespaceAbsenceProof, CodecError> {
        abi::NamespaceAbsenceProof::decode(&self.encoded)
    }
}

/// A namespace's part of a finalized block (`trestle_namespaceProof`, and each notification of
/// `trestle_subscribeNamespace`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceResponse {
    /// The block's header (its `payloadRoot` is what the proofs lead to).
    pub header: HeaderResponse,
    /// Namespace asked about.
    pub namespace: u64,
    /// Its transactions in block order (empty when absent).
    pub transactions: Vec<TransactionResponse>,
    /// The namespace proof (when present).
    pub proof: Option<NamespaceProofResponse>,
    /// The absence proof (when the block has no transaction in the namespace).
    pub absence_proof: Option<AbsenceProofResponse>,
}

/// A transaction proof: the transaction's path in its namespace plus the namespace proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionProofResponse {
    /// Path of the transaction in its namespace's transaction tree.
    pub tx_proof: MerkleProofResponse,
    /// The namespace proof.
    pub namespace_proof: NamespaceProofResponse,
    /// `abi.encode(TransactionProof)`.
    pub encoded: Bytes,
}

impl TransactionProofResponse {
    /// Builds the response for `proof`.
    pub fn new(proof: &abi::TransactionProof) -> Self {
        Self {
            tx_proof: MerkleProofResponse::new(&proof.txProof),
            namespace_proof: NamespaceProofResponse::new(&proof.namespaceProof),
            encoded: proof.encode().into(),
        }
    }

    /// Strictly decodes `encoded`.
    pub fn decode(&self) -> Result<abi::TransactionProof, CodecError> {
        abi::TransactionProof::decode(&self.encoded)
    }
}

/// `trestle_txProof`'s result: a finalized transaction, its block header and its proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxInclusionResponse {
    /// Height of the block containing it.
    pub height: u64,
    /// That block's header.
    pub header: HeaderResponse,
    /// The transaction.
    pub transaction: TransactionResponse,
    /// Its proof against `header.payloadRoot`.
    pub proof: TransactionProofResponse,
}

/// `trestle_historyProof`'s result: header `height` under the history root of `rootHeight`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryProofResponse {
    /// Height of the proven header.
    pub height: u64,
    /// Height whose light-client state carries `root`.
    pub root_height: u64,
    /// Hash of the proven header.
    pub header_hash: B256,
    /// History root over headers `0..=rootHeight`.
    pub root: B256,
    /// The proof.
    pub proof: MerkleProofResponse,
}

/// A light-client state with its canonical encoding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LightClientStateResponse {
    /// The state's fields.
    pub state: LightClientState,
    /// `abi.encode(LightClientState)`.
    pub encoded: Bytes,
}

impl LightClientStateResponse {
    /// Builds the response for `state`.
    pub fn new(state: &LightClientState) -> Self {
        Self { state: state.clone(), encoded: state.encode().into() }
    }

    /// Strictly decodes `encoded`.
    pub fn decode(&self) -> Result<LightClientState, StateError> {
        LightClientState::decode(&self.encoded)
    }
}

/// One validator's EdDSA-Poseidon signature on a light-client state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateSignatureResponse {
    /// The signer's slot in the committee.
    pub slot: u32,
    /// The signer's light-client public key (64 bytes, circomlib coordinates).
    pub public_key: PublicKey,
    /// The signature (96 bytes).
    pub signature: Signature,
}

/// `trestle_stateSignatures`' result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateSignaturesResponse {
    /// The signed state.
    pub state: LightClientStateResponse,
    /// The signatures collected so far (possibly fewer than a quorum).
    pub signatures: Vec<StateSignatureResponse>,
}

/// One committee member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitteeMember {
    /// The member's ed25519 consensus public key (32 bytes).
    pub consensus_key: Bytes,
    /// The member's light-client (Baby Jubjub EdDSA-Poseidon) public key.
    pub light_client_key: PublicKey,
    /// Voting weight.
    pub weight: u64,
    /// Where peers reach it, as registered in the stake table (absent for a genesis validator
    /// whose genesis names no address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p2p_address: Option<String>,
}

/// An epoch's committee (`trestle_committee`'s result).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitteeInfo {
    /// Epoch.
    pub epoch: u64,
    /// Poseidon commitment of the light-client committee (what headers carry).
    pub commitment: B256,
    /// Number of slots the commitment is padded to (the light-client circuit's capacity).
    pub capacity: u64,
    /// Members in slot order.
    pub members: Vec<CommitteeMember>,
}

impl CommitteeInfo {
    /// Describes `committee` for `epoch`; `consensus_keys[i]` is the ed25519 key of slot `i`.
    pub fn new(epoch: u64, committee: &Committee, consensus_keys: &[ed25519::PublicKey]) -> Self {
        let members = committee
            .slots()
            .iter()
            .zip(consensus_keys)
            .map(|(slot, key)| CommitteeMember {
                consensus_key: Bytes::copy_from_slice(key.as_ref()),
                light_client_key: slot.key,
                weight: slot.weight,
                p2p_address: None,
            })
            .collect();
        Self {
            epoch,
            commitment: committee.commitment_bytes(),
            capacity: committee.capacity() as u64,
            members,
        }
    }

    /// Describes the committee `record` of `epoch` (members, their light-client keys and the
    /// addresses they registered).
    pub fn from_record(epoch: u64, record: &CommitteeRecord) -> Self {
        let members = record
            .members()
            .iter()
            .zip(record.light_client().slots())
            .map(|(seat, slot)| CommitteeMember {
                consensus_key: Bytes::copy_from_slice(seat.consensus_key.as_slice()),
                light_client_key: seat.light_client_key,
                weight: slot.weight,
                p2p_address: seat.p2p_address.as_ref().map(ToString::to_string),
            })
            .collect();
        Self { epoch, commitment: record.commitment(), capacity: record.capacity() as u64, members }
    }

    /// Rebuilds the light-client committee from the members and checks it against
    /// `commitment`, so a client never works with a member list the commitment does not bind.
    pub fn to_committee(&self) -> Result<Committee, CommitteeInfoError> {
        let capacity = usize::try_from(self.capacity)
            .map_err(|_| CommitteeInfoError::Capacity(self.capacity))?;
        let slots = self
            .members
            .iter()
            .map(|m| CommitteeSlot { key: m.light_client_key, weight: m.weight })
            .collect();
        let committee = Committee::new(slots, capacity)?;
        let computed = committee.commitment_bytes();
        if computed != self.commitment {
            return Err(CommitteeInfoError::CommitmentMismatch {
                computed,
                claimed: self.commitment,
            });
        }
        Ok(committee)
    }
}

/// The hand-off at the end of an epoch (`trestle_epochProof`'s result): the light-client state
/// at the epoch's last height with the signatures known for it (a quorum of the epoch's
/// committee once gathered), and the next epoch's committee, which that state's
/// `nextCommittee` commits to. A light client that trusts the committee of `epoch` checks the
/// quorum, checks `next_committee` against the state (`to_committee` and the commitment), and
/// trusts the committee of `epoch + 1` from then on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EpochProofResponse {
    /// The epoch handing over.
    pub epoch: u64,
    /// Its last state and the signatures on it.
    pub last: StateSignaturesResponse,
    /// The committee of `epoch + 1`.
    pub next_committee: CommitteeInfo,
}

impl StateSignaturesResponse {
    /// The signatures as the light-client kernel takes them (`verify_quorum`, the prover).
    pub fn state_signatures(&self) -> Vec<StateSignature> {
        self.signatures
            .iter()
            .map(|s| StateSignature { slot: s.slot, signature: s.signature })
            .collect()
    }
}

/// Why a [`CommitteeInfo`] does not describe a valid committee.
#[derive(Debug, thiserror::Error)]
pub enum CommitteeInfoError {
    /// The capacity does not fit this platform's `usize`.
    #[error("committee capacity {0} is too large")]
    Capacity(u64),
    /// The members do not form a committee of that capacity (too many, zero weight, …).
    #[error("invalid committee: {0}")]
    Committee(#[from] CommitteeError),
    /// The members' commitment differs from the one the response claims.
    #[error(
        "committee commitment mismatch: members commit to {computed}, response claims {claimed}"
    )]
    CommitmentMismatch {
        /// Commitment computed from the members.
        computed: B256,
        /// Commitment in the response.
        claimed: B256,
    },
}
