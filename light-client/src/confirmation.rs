//! Native confirmation: is a rollup's transaction, or a rollup block's record, final on the
//! trestle network? The check `trestle confirm` runs and the relayer runs before paying for a
//! delivery, over canonical bytes a node returned:
//!
//! ```text
//! transaction ∈ namespace ∈ payloadRoot of header h          (TransactionProof)
//! header h ∈ historyRoot of the light-client state at r ≥ h   (history proof)
//! > 2/3 of the committee's weight signed that state           (select_quorum)
//! the committee is the trust anchor's, or one it handed over to (Anchor, handoff)
//! ```
//!
//! [`verify_inclusion`] is the first two lines, for a caller that already trusts a history root
//! (the relayer trusts its destination chain's `LightClient`); [`verify_confirmation`] is all
//! four, from [`Evidence`] to a [`Verdict`]. Both are pure and deterministic; every failure is a
//! [`ConfirmError`], a reason for "not confirmed".

use alloy_primitives::{B256, Bytes};

pub use crate::handoff::Anchor;
use crate::{
    abi::{self, BlockRecord, CodecError},
    handoff::{Handoff, HandoffError, follow_handoffs},
    header::Header,
    history::{HistoryError, verify_history_proof},
    payload::PayloadError,
    primitives::{Height, Namespace},
    quorum::{QuorumError, StateSignature, select_quorum},
    state::{LightClientState, StateError},
    transaction::Transaction,
};

/// What is asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A transaction, by hash.
    Transaction {
        /// `keccak256(abi.encode(Transaction))`.
        hash: B256,
    },
    /// A rollup block, recorded as a [`BlockRecord`] transaction in the rollup's block
    /// namespace.
    Block {
        /// The rollup block number.
        number: u64,
        /// The rollup block hash.
        hash: B256,
    },
}

/// Everything a confirmation rests on, as the canonical encodings a node returned. Serialized
/// (bytes as 0x-hex) in `trestle confirm --json` so anyone can verify it again.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase", deny_unknown_fields))]
pub struct Evidence {
    /// `abi.encode(Transaction)`.
    pub transaction: Bytes,
    /// `abi.encode(Header)` of the block containing it.
    pub header: Bytes,
    /// `abi.encode(TransactionProof)` against the header's `payloadRoot`.
    pub tx_proof: Bytes,
    /// `abi.encode(MerkleProof)` of the header's hash against the state's `historyRoot`.
    pub history_proof: Bytes,
    /// `abi.encode(LightClientState)` of the signed state.
    pub state: Bytes,
    /// Committee signatures on the state (a quorum of valid ones is enough; others are skipped).
    pub signatures: Vec<StateSignature>,
    /// The hand-offs from the anchor's epoch to the state's, in order (none when the anchor's
    /// committee signs the state's epoch itself).
    #[cfg_attr(feature = "serde", serde(default))]
    pub handoffs: Vec<Handoff>,
}

/// What a successful verification established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The transaction.
    pub transaction: Transaction,
    /// Its hash.
    pub tx_hash: B256,
    /// The block record it carries (block subjects only).
    pub block_record: Option<BlockRecord>,
    /// The header of the block that contains it.
    pub header: Header,
    /// That header's hash.
    pub header_hash: B256,
    /// The signed state whose history covers the header.
    pub state: LightClientState,
    /// The verified quorum: a minimal set of valid signatures, in slot order.
    pub signatures: Vec<StateSignature>,
    /// Their weight.
    pub signed_weight: u128,
    /// Total weight of the committee.
    pub total_weight: u128,
}

/// Why the evidence does not confirm the subject. Each is a reason for "not confirmed".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfirmError {
    /// The transaction bytes are not a canonical transaction encoding.
    #[error("malformed transaction: {0}")]
    Transaction(CodecError),
    /// The transaction is in another namespace than asked.
    #[error("the transaction is in namespace {found}, not {expected}")]
    WrongNamespace {
        /// Namespace asked about.
        expected: u64,
        /// Namespace of the transaction.
        found: u64,
    },
    /// The transaction is not the one asked about.
    #[error("the evidence is for transaction {found}, not {expected}")]
    WrongTransaction {
        /// Hash asked about.
        expected: B256,
        /// Hash of the transaction in the evidence.
        found: B256,
    },
    /// The transaction's payload is not a canonical block record.
    #[error("the transaction's payload is not a block record: {0}")]
    NotABlockRecord(CodecError),
    /// The block record is for another block than asked.
    #[error(
        "the record is for block {found_number} {found_hash}, not {expected_number} {expected_hash}"
    )]
    WrongBlock {
        /// Block number asked about.
        expected_number: u64,
        /// Block hash asked about.
        expected_hash: B256,
        /// Block number in the record.
        found_number: u64,
        /// Block hash in the record.
        found_hash: B256,
    },
    /// The header bytes are not a canonical header encoding.
    #[error("malformed header: {0}")]
    Header(CodecError),
    /// The transaction proof bytes are not canonical.
    #[error("malformed transaction proof: {0}")]
    TransactionProof(CodecError),
    /// The transaction proof does not lead to the header's payload root.
    #[error("the transaction is not in the header's payload: {0}")]
    Inclusion(PayloadError),
    /// The history proof bytes are not canonical.
    #[error("malformed history proof: {0}")]
    HistoryProofEncoding(CodecError),
    /// The header is not in the history the root commits to.
    #[error("the header is not in the signed state's history: {0}")]
    History(HistoryError),
    /// The state bytes are not a canonical state encoding.
    #[error("malformed light-client state: {0}")]
    State(StateError),
    /// The header or the state belongs to another network than the anchor's.
    #[error("the {what} is for chain {found}, the anchor for chain {expected}")]
    WrongChain {
        /// `"header"` or `"state"`.
        what: &'static str,
        /// The anchor's chain id.
        expected: u64,
        /// The chain id found.
        found: u64,
    },
    /// The state is of an epoch the anchor's committee does not sign for, or the header is of
    /// a later epoch than the anchor's.
    #[error("the {what} is of epoch {found}; the anchor's committee signs epoch {expected}")]
    WrongEpoch {
        /// `"header"` or `"state"`.
        what: &'static str,
        /// The anchor's epoch.
        expected: u64,
        /// The epoch found.
        found: u64,
    },
    /// The header commits to another committee than the anchor's.
    #[error("the header commits to committee {header}, the anchor's is {anchor}")]
    WrongCommittee {
        /// Commitment in the header.
        header: B256,
        /// Commitment of the anchor's committee.
        anchor: B256,
    },
    /// The signatures do not contain a quorum of the anchor's committee on the state.
    #[error("the state is not signed by a quorum: {0}")]
    Quorum(QuorumError),
    /// A hand-off from the anchor's epoch towards the state's is refused.
    #[error("committee hand-off: {0}")]
    Handoff(HandoffError),
}

/// Verifies that `transaction` is in the block of `header` (`tx_proof` against its
/// `payloadRoot`) and that `header` is under the history root `root` of height `root_height`
/// (`history_proof`); returns the header's hash.
///
/// The caller vouches for `root` (a light client that verified it, or a quorum-signed state).
pub fn verify_inclusion(
    transaction: &Transaction,
    header: &Header,
    tx_proof: &abi::TransactionProof,
    history_proof: &abi::MerkleProof,
    root: &B256,
    root_height: Height,
) -> Result<B256, ConfirmError> {
    tx_proof.verify(transaction, &header.payload_root).map_err(ConfirmError::Inclusion)?;
    let header_hash = header.hash();
    // Also rejects a root below the header (the proof's count would not match).
    verify_history_proof(history_proof, &header_hash, header.height, root, root_height)
        .map_err(ConfirmError::History)?;
    Ok(header_hash)
}

/// Verifies that `evidence` confirms `subject` in `namespace` under `anchor`.
///
/// Decodes every part strictly, then checks the chain of proofs from the transaction up to the
/// anchor's committee. Costs the verification of one minimal quorum (a few ms for 100 signers)
/// plus a few Merkle paths.
pub fn verify_confirmation(
    evidence: &Evidence,
    namespace: Namespace,
    subject: &Subject,
    anchor: &Anchor,
) -> Result<Verdict, ConfirmError> {
    let transaction = Transaction::decode(&evidence.transaction, anchor.max_payload)
        .map_err(ConfirmError::Transaction)?;
    if transaction.namespace != namespace {
        return Err(ConfirmError::WrongNamespace {
            expected: namespace.get(),
            found: transaction.namespace.get(),
        });
    }
    let tx_hash = transaction.hash();
    let block_record = match *subject {
        Subject::Transaction { hash } => {
            if hash != tx_hash {
                return Err(ConfirmError::WrongTransaction { expected: hash, found: tx_hash });
            }
            None
        }
        Subject::Block { number, hash } => {
            let record =
                BlockRecord::decode(&transaction.payload).map_err(ConfirmError::NotABlockRecord)?;
            if record.number != number || record.hash != hash {
                return Err(ConfirmError::WrongBlock {
                    expected_number: number,
                    expected_hash: hash,
                    found_number: record.number,
                    found_hash: record.hash,
                });
            }
            Some(record)
        }
    };

    // The committee of the state's epoch, reached from the anchor's through the hand-offs.
    let anchor = &follow_handoffs(anchor, &evidence.handoffs).map_err(ConfirmError::Handoff)?;
    let header = Header::decode(&evidence.header).map_err(ConfirmError::Header)?;
    let tx_proof = abi::TransactionProof::decode(&evidence.tx_proof)
        .map_err(ConfirmError::TransactionProof)?;
    let state = LightClientState::decode(&evidence.state).map_err(ConfirmError::State)?;
    let history_proof = abi::MerkleProof::decode(&evidence.history_proof)
        .map_err(ConfirmError::HistoryProofEncoding)?;
    let header_hash = verify_inclusion(
        &transaction,
        &header,
        &tx_proof,
        &history_proof,
        &state.history_root,
        state.height,
    )?;

    // The header is now bound to the state; the state must be the anchor's network and epoch,
    // and signed by the anchor's committee. The header may be of an earlier epoch: the state's
    // history root commits to every finalized header before it, whichever committee signed
    // those (so an anchor that moved on, e.g. a cached one, still confirms old transactions).
    // A header of the anchor's epoch must name the anchor's committee.
    for (what, chain_id, epoch) in
        [("header", header.chain_id, header.epoch), ("state", state.chain_id, state.epoch)]
    {
        if chain_id != anchor.chain_id {
            return Err(ConfirmError::WrongChain {
                what,
                expected: anchor.chain_id.get(),
                found: chain_id.get(),
            });
        }
        let allowed = match what {
            "header" => epoch <= anchor.epoch,
            _ => epoch == anchor.epoch,
        };
        if !allowed {
            return Err(ConfirmError::WrongEpoch {
                what,
                expected: anchor.epoch.get(),
                found: epoch.get(),
            });
        }
    }
    let anchor_commitment = anchor.committee.commitment_bytes();
    if header.epoch == anchor.epoch && header.committee != anchor_commitment {
        return Err(ConfirmError::WrongCommittee {
            header: header.committee,
            anchor: anchor_commitment,
        });
    }
    let quorum = select_quorum(&anchor.committee, &state, &evidence.signatures)
        .map_err(ConfirmError::Quorum)?;
    Ok(Verdict {
        transaction,
        tx_hash,
        block_record,
        header,
        header_hash,
        state,
        signatures: quorum.signatures,
        signed_weight: quorum.weight,
        total_weight: anchor.committee.total_weight(),
    })
}
