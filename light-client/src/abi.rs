//! Canonical byte encodings shared with Solidity.
//!
//! Every structure a contract reads has exactly one encoding: `abi.encode` of its fields in the
//! order given here (DESIGN §4). The `sol!` definitions below are the single source of truth on
//! the Rust side; the contracts declare the same structs and golden vectors pin both.
//!
//! Decoding is strict: [`decode_canonical`] accepts a byte string only if re-encoding the decoded
//! value gives back exactly the same bytes. That rejects dirty padding, non-standard offsets,
//! trailing bytes and every other malleable form, so one value has one encoding and one hash.

use alloy_sol_types::{SolType, sol};

sol! {
    /// A transaction: an opaque payload in a namespace.
    #[derive(Debug, PartialEq, Eq)]
    struct Transaction {
        uint64 namespace;
        bytes payload;
    }

    /// A block header. `viewNumber` is the consensus view (`view` is a Solidity keyword).
    #[derive(Debug, PartialEq, Eq)]
    struct Header {
        uint64 chainId;
        uint64 epoch;
        uint64 height;
        uint64 viewNumber;
        uint64 timestampMs;
        bytes32 parent;
        bytes32 payloadRoot;
        bytes32 historyRoot;
        bytes32 committee;
    }

    /// What validators sign after finalizing a height and what the on-chain light client stores.
    #[derive(Debug, PartialEq, Eq)]
    struct LightClientState {
        uint64 chainId;
        uint64 epoch;
        uint64 height;
        bytes32 historyRoot;
        bytes32 nextCommittee;
    }

    /// Leaf of the payload tree: one namespace's transactions in a block.
    #[derive(Debug, PartialEq, Eq)]
    struct NamespaceLeaf {
        uint64 namespace;
        uint64 txCount;
        bytes32 txRoot;
    }

    /// Inclusion proof in a committed-count Merkle tree.
    #[derive(Debug, PartialEq, Eq)]
    struct MerkleProof {
        uint64 index;
        uint64 count;
        bytes32[] siblings;
    }

    /// Proof that a namespace leaf is in a block's payload tree.
    #[derive(Debug, PartialEq, Eq)]
    struct NamespaceProof {
        NamespaceLeaf leaf;
        MerkleProof proof;
    }

    /// Proof that a transaction is in a namespace of a block's payload.
    #[derive(Debug, PartialEq, Eq)]
    struct TransactionProof {
        MerkleProof txProof;
        NamespaceProof namespaceProof;
    }

    /// Proof that a namespace has no transactions in a block: the neighbouring namespace
    /// leaves (zero, one or two of them) that leave no room for it.
    #[derive(Debug, PartialEq, Eq)]
    struct NamespaceAbsenceProof {
        uint64 leafCount;
        NamespaceProof[] neighbours;
    }

    /// A rollup block as the relayer's post role records it in the chain's block namespace
    /// (the transaction payload is this struct's canonical encoding). `trestle confirm
    /// --block N [--hash H]` and `trestle_blockRecord` find it by number.
    #[derive(Debug, PartialEq, Eq)]
    struct BlockRecord {
        uint64 chainId;
        uint64 number;
        bytes32 hash;
        bytes32 parentHash;
    }

    /// What `RollupConfirmations.isConfirmed` takes with a block record: the record's
    /// transaction proof in the header's payload, and the header's proof under `historyRoot`
    /// (a root the light client knows).
    #[derive(Debug, PartialEq, Eq)]
    struct RecordProof {
        Header header;
        TransactionProof txProof;
        MerkleProof historyProof;
        bytes32 historyRoot;
    }
}

/// Why bytes from outside were not a canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The bytes are not a valid ABI encoding of the expected type.
    #[error("invalid ABI encoding of {ty}: {reason}")]
    Abi {
        /// The type that was expected.
        ty: &'static str,
        /// What the ABI decoder reported.
        reason: String,
    },
    /// The bytes decode, but are not the one canonical encoding of the value
    /// (dirty padding, unusual offsets or trailing bytes).
    #[error("non-canonical encoding of {ty}")]
    NonCanonical {
        /// The type that was expected.
        ty: &'static str,
    },
    /// The input is larger than any honest encoding of this type can be.
    #[error("encoding of {ty} is {len} bytes, limit is {limit}")]
    TooLarge {
        /// The type that was expected.
        ty: &'static str,
        /// Length of the input.
        len: usize,
        /// The largest accepted length.
        limit: usize,
    },
}

/// Decodes `T` from `bytes`, accepting only its canonical `abi.encode` form.
pub fn decode_canonical<T>(bytes: &[u8], limit: usize) -> Result<T::RustType, CodecError>
where
    T: SolType,
{
    if bytes.len() > limit {
        return Err(CodecError::TooLarge { ty: T::SOL_NAME, len: bytes.len(), limit });
    }
    let value = T::abi_decode_validate(bytes)
        .map_err(|e| CodecError::Abi { ty: T::SOL_NAME, reason: e.to_string() })?;
    if T::abi_encode(&value) != bytes {
        return Err(CodecError::NonCanonical { ty: T::SOL_NAME });
    }
    Ok(value)
}

/// Longest valid Merkle proof (siblings): a tree of at most 2^64 leaves is at most 64 levels
/// deep. Defined with the encodings it bounds; `merkle` re-exports it.
pub const MAX_PROOF_LEN: usize = 64;

/// Largest accepted encoding of a [`MerkleProof`]: head, array length and 64 siblings, with room
/// to spare (a longer proof could never verify).
pub const MAX_MERKLE_PROOF_LEN: usize = 96 + 32 * MAX_PROOF_LEN + 64;
/// Largest accepted encoding of a [`NamespaceProof`].
pub const MAX_NAMESPACE_PROOF_LEN: usize = 4 * 32 + MAX_MERKLE_PROOF_LEN;
/// Largest accepted encoding of a [`TransactionProof`].
pub const MAX_TRANSACTION_PROOF_LEN: usize =
    3 * 32 + MAX_MERKLE_PROOF_LEN + MAX_NAMESPACE_PROOF_LEN;
/// Largest accepted encoding of a [`NamespaceAbsenceProof`] (at most two neighbours).
pub const MAX_ABSENCE_PROOF_LEN: usize = 6 * 32 + 2 * (32 + MAX_NAMESPACE_PROOF_LEN);

macro_rules! canonical_decoder {
    ($ty:ident, $limit:expr) => {
        impl $ty {
            /// Decodes the canonical `abi.encode` form, refusing oversized input.
            pub fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
                decode_canonical::<$ty>(bytes, $limit)
            }

            /// The canonical `abi.encode` form.
            pub fn encode(&self) -> Vec<u8> {
                <$ty as SolType>::abi_encode(self)
            }
        }
    };
}

canonical_decoder!(MerkleProof, MAX_MERKLE_PROOF_LEN);
canonical_decoder!(NamespaceProof, MAX_NAMESPACE_PROOF_LEN);
canonical_decoder!(TransactionProof, MAX_TRANSACTION_PROOF_LEN);
canonical_decoder!(NamespaceAbsenceProof, MAX_ABSENCE_PROOF_LEN);
canonical_decoder!(BlockRecord, 4 * 32);
