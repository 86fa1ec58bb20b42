//! Transactions: an opaque payload in a namespace.
//!
//! A transaction's hash is `keccak256(abi.encode(Transaction))` and is the digest of its leaf in
//! the namespace's transaction tree. The leaf commits to `(namespace, payload)` only, so a
//! contract can recompute it from the message alone; an owned namespace's authorization travels
//! beside the transaction in the block (DESIGN §4).

use alloy_primitives::{B256, Bytes, Keccak256};
use alloy_sol_types::SolValue;

use crate::{
    abi::{self, CodecError, decode_canonical},
    primitives::Namespace,
};

/// Default largest payload a network accepts (1 MiB); networks may configure another.
pub const DEFAULT_MAX_PAYLOAD: usize = 1 << 20;

/// A namespaced transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Transaction {
    /// The rollup (lane) this transaction belongs to.
    pub namespace: Namespace,
    /// Opaque bytes; for a CIRC message, its ABI encoding.
    pub payload: Bytes,
}

impl Transaction {
    /// A transaction of `payload` in `namespace`.
    pub fn new(namespace: Namespace, payload: impl Into<Bytes>) -> Self {
        Self { namespace, payload: payload.into() }
    }

    /// The ABI struct form.
    pub fn to_abi(&self) -> abi::Transaction {
        abi::Transaction { namespace: self.namespace.get(), payload: self.payload.clone() }
    }

    /// Canonical encoding: `abi.encode(Transaction)`.
    pub fn encode(&self) -> Vec<u8> {
        self.to_abi().abi_encode()
    }

    /// `keccak256(abi.encode(Transaction))`: the transaction's id and Merkle leaf digest.
    ///
    /// Hashed as a stream of the encoding's words (the struct's offset, the namespace, the
    /// payload's offset and length, the payload, its zero padding), so the payload, up to
    /// megabytes, is read once and never copied into an encoding buffer.
    pub fn hash(&self) -> B256 {
        let mut hasher = Keccak256::new();
        let mut word = [0u8; 32];
        word[31] = 0x20;
        hasher.update(word); // offset of the (dynamic) struct
        word = [0u8; 32];
        word[24..].copy_from_slice(&self.namespace.get().to_be_bytes());
        hasher.update(word);
        word = [0u8; 32];
        word[31] = 0x40;
        hasher.update(word); // offset of `payload` within the struct
        word = [0u8; 32];
        word[24..].copy_from_slice(&(self.payload.len() as u64).to_be_bytes());
        hasher.update(word);
        hasher.update(&self.payload);
        let padding = self.payload.len().next_multiple_of(32) - self.payload.len();
        hasher.update(&[0u8; 32][..padding]);
        hasher.finalize()
    }

    /// Decodes the canonical encoding of a transaction with a payload of at most
    /// `max_payload` bytes.
    pub fn decode(bytes: &[u8], max_payload: usize) -> Result<Self, CodecError> {
        // Offset of the dynamic struct, its head (2 words), the length word, and the payload
        // padded to whole words. Saturating: a caller may pass `usize::MAX` for "no limit".
        let limit = max_payload.div_ceil(32).saturating_mul(32).saturating_add(128);
        let tx = decode_canonical::<abi::Transaction>(bytes, limit)?;
        if tx.payload.len() > max_payload {
            return Err(CodecError::TooLarge {
                ty: "Transaction.payload",
                len: tx.payload.len(),
                limit: max_payload,
            });
        }
        Ok(Self { namespace: Namespace(tx.namespace), payload: tx.payload })
    }
}
