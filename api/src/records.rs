//! Rollup block records over the API (DESIGN §4, §8): the confirmed record of a block number
//! with its proofs (`trestle_blockRecord`), a block namespace's progress
//! (`trestle_recordNamespace`), and the equivocations of its owner (`trestle_recordEquivocations`):
//! two records for one number, both signed by the owner, which anyone can check with
//! [`verify_equivocation`] and the genesis alone.

use alloy_primitives::{B256, Bytes};
use commonware_codec::DecodeExt as _;
use commonware_cryptography::ed25519;
use serde::{Deserialize, Serialize};
use trestle_light_client::{
    Namespace, Transaction,
    abi::{BlockRecord, CodecError, RecordProof},
    records::{self, RecordError},
};

use crate::{
    authorization::is_authorized,
    types::{HeaderResponse, HistoryProofResponse, TransactionProofResponse, TransactionResponse},
};

/// A block record's fields, readable (the transaction's payload is its canonical encoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordFields {
    /// The rollup's chain id.
    pub chain_id: u64,
    /// The rollup block's number.
    pub number: u64,
    /// The rollup block's hash.
    pub hash: B256,
    /// Its parent's hash.
    pub parent_hash: B256,
}

impl BlockRecordResponse {
    /// The record and its [`RecordProof`] for `RollupConfirmations.isConfirmed`, decoded
    /// strictly from the canonical encodings (not the readable fields).
    pub fn record_proof(&self) -> Result<(BlockRecord, RecordProof), CodecError> {
        let record = BlockRecord::decode(&self.transaction.payload)?;
        let proof = RecordProof {
            header: self.header.decode()?.to_abi(),
            txProof: self.proof.decode()?,
            historyProof: self.history.proof.decode()?,
            historyRoot: self.history.root,
        };
        Ok((record, proof))
    }
}

impl From<&BlockRecord> for RecordFields {
    fn from(record: &BlockRecord) -> Self {
        Self {
            chain_id: record.chainId,
            number: record.number,
            hash: record.hash,
            parent_hash: record.parentHash,
        }
    }
}

impl From<RecordFields> for BlockRecord {
    fn from(fields: RecordFields) -> Self {
        Self {
            chainId: fields.chain_id,
            number: fields.number,
            hash: fields.hash,
            parentHash: fields.parent_hash,
        }
    }
}

/// `trestle_blockRecord`'s result: the confirmed record of a block number, found by index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockRecordResponse {
    /// The block namespace.
    pub namespace: u64,
    /// The record (the same as `transaction.payload` decoded).
    pub record: RecordFields,
    /// Height of the block that confirmed it.
    pub height: u64,
    /// That block's header.
    pub header: HeaderResponse,
    /// The record's transaction, with the owner's authorization.
    pub transaction: TransactionResponse,
    /// The transaction's proof against `header.payloadRoot`.
    pub proof: TransactionProofResponse,
    /// The header's proof under the history root of `history.rootHeight` (the requested root
    /// height, else the newest finalized height).
    pub history: HistoryProofResponse,
}

/// `trestle_recordNamespace`'s result: what the finalized chain holds of a block namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordNamespaceResponse {
    /// The block namespace.
    pub namespace: u64,
    /// The rollup whose blocks it records.
    pub chain_id: u64,
    /// The number of its first record, as genesis declares: lower numbers are never recorded.
    #[serde(default)]
    pub first_record: u64,
    /// The first and the last confirmed record (`None` before the first).
    pub confirmed: Option<ConfirmedRange>,
    /// Equivocations of the owner this node has seen for the namespace.
    pub equivocations: u64,
}

/// The confirmed records of a block namespace: every number from `first` to `last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmedRange {
    /// Number of the first record.
    pub first: u64,
    /// Number of the last record.
    pub last: u64,
    /// Hash of the last record's block.
    pub last_hash: B256,
}

/// One of the records of an equivocation: the payload and the owner's signature on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedRecord {
    /// The record's canonical encoding (the transaction payload).
    pub payload: Bytes,
    /// The owner's 64-byte ed25519 authorization of the transaction `(namespace, payload)`.
    pub authorization: Bytes,
}

/// Two records the owner of a block namespace signed for one block number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EquivocationResponse {
    /// The block namespace.
    pub namespace: u64,
    /// The block number both records claim.
    pub number: u64,
    /// The record the node met first: the confirmed one when `confirmedAt` is set.
    pub first: SignedRecord,
    /// The record refused because of `first`.
    pub second: SignedRecord,
    /// Height of the block that confirmed `first`, if the chain confirmed it.
    pub confirmed_at: Option<u64>,
}

/// Why evidence is not a proof that a namespace's owner equivocated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EquivocationError {
    /// A payload is not a block record.
    #[error("record {index}: {reason}")]
    NotARecord {
        /// 0 for `first`, 1 for `second`.
        index: usize,
        /// The decoding error.
        reason: RecordError,
    },
    /// An authorization is not a 64-byte ed25519 signature.
    #[error("record {0}: the authorization is not an ed25519 signature")]
    MalformedSignature(usize),
    /// An authorization is not the owner's signature of its record's transaction.
    #[error("record {0}: not signed by the namespace's owner")]
    NotSigned(usize),
    /// The records do not conflict (another number or chain, or the same record).
    #[error("the records do not claim different contents for one block")]
    NoConflict,
}

/// Checks that `first` and `second` prove that `owner`, the owner of block namespace
/// `namespace`, signed two different records for one block; returns the two records.
pub fn verify_equivocation(
    owner: &ed25519::PublicKey,
    namespace: Namespace,
    first: &SignedRecord,
    second: &SignedRecord,
) -> Result<(BlockRecord, BlockRecord), EquivocationError> {
    let check = |index: usize, signed: &SignedRecord| {
        let record = records::decode(&signed.payload)
            .map_err(|reason| EquivocationError::NotARecord { index, reason })?;
        let signature = ed25519::Signature::decode(signed.authorization.0.clone())
            .map_err(|_| EquivocationError::MalformedSignature(index))?;
        let tx_hash = Transaction::new(namespace, signed.payload.clone()).hash();
        if !is_authorized(owner, &tx_hash, &signature) {
            return Err(EquivocationError::NotSigned(index));
        }
        Ok(record)
    };
    let a = check(0, first)?;
    let b = check(1, second)?;
    if !records::conflict(&a, &b) {
        return Err(EquivocationError::NoConflict);
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests {
    use commonware_cryptography::Signer as _;

    use super::*;
    use crate::authorization::authorize;

    fn signed(
        key: &ed25519::PrivateKey,
        namespace: Namespace,
        record: &BlockRecord,
    ) -> SignedRecord {
        let payload = Bytes::from(record.encode());
        let signature = authorize(key, &Transaction::new(namespace, payload.clone()));
        SignedRecord { payload, authorization: Bytes::copy_from_slice(signature.as_ref()) }
    }

    fn record(hash: u8) -> BlockRecord {
        BlockRecord {
            chainId: 901,
            number: 4,
            hash: B256::repeat_byte(hash),
            parentHash: B256::repeat_byte(3),
        }
    }

    #[test]
    fn two_signed_records_for_one_number_prove_an_equivocation_and_nothing_else_does() {
        let owner = ed25519::PrivateKey::from_seed(1);
        let stranger = ed25519::PrivateKey::from_seed(2);
        let ns = Namespace(1_901);
        let (a, b) = (signed(&owner, ns, &record(4)), signed(&owner, ns, &record(5)));
        let key = owner.public_key();
        assert_eq!(verify_equivocation(&key, ns, &a, &b), Ok((record(4), record(5))));
        // The same record twice, another number, another signer, another namespace, a bad
        // signature or payload: no proof.
        assert_eq!(verify_equivocation(&key, ns, &a, &a), Err(EquivocationError::NoConflict));
        let later = BlockRecord { number: 5, ..record(5) };
        let later = signed(&owner, ns, &later);
        assert_eq!(verify_equivocation(&key, ns, &a, &later), Err(EquivocationError::NoConflict));
        let forged = signed(&stranger, ns, &record(5));
        assert_eq!(
            verify_equivocation(&key, ns, &a, &forged),
            Err(EquivocationError::NotSigned(1))
        );
        assert_eq!(
            verify_equivocation(&key, Namespace(7), &a, &b),
            Err(EquivocationError::NotSigned(0))
        );
        let mut short = b.clone();
        short.authorization = Bytes::from(vec![0u8; 63]);
        assert_eq!(
            verify_equivocation(&key, ns, &a, &short),
            Err(EquivocationError::MalformedSignature(1))
        );
        let mut garbage = b;
        garbage.payload = Bytes::from(vec![1u8; 100]);
        assert!(matches!(
            verify_equivocation(&key, ns, &garbage, &a),
            Err(EquivocationError::NotARecord { index: 0, .. })
        ));
    }
}
