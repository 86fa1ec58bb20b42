//! Block headers: one per height, contiguous from genesis.
//!
//! `hash = keccak256(abi.encode(Header))`; the consensus digest of a block binds this hash, and
//! the history tree's leaf `h` is the hash of header `h`.

use alloy_primitives::{B256, keccak256};
use alloy_sol_types::SolValue;

use crate::{
    abi::{self, CodecError, decode_canonical},
    primitives::{ChainId, Epoch, Height, View},
};

/// Length of a header's canonical encoding: nine static words.
pub const HEADER_LEN: usize = 9 * 32;

/// A block header.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct Header {
    /// Network the block belongs to.
    pub chain_id: ChainId,
    /// Committee period of the block.
    pub epoch: Epoch,
    /// Position in the chain (genesis = 0).
    pub height: Height,
    /// Consensus view in which the block was proposed.
    pub view: View,
    /// Proposer's timestamp in milliseconds since the Unix epoch; never decreases.
    pub timestamp_ms: u64,
    /// Hash of the header at `height - 1` (zero at genesis).
    pub parent: B256,
    /// Root of the block's payload commitment (namespace tree).
    pub payload_root: B256,
    /// Root of the history tree over headers `0..height` (excluding this one).
    pub history_root: B256,
    /// Poseidon commitment to this epoch's committee (a BN254 field element, big-endian).
    pub committee: B256,
}

impl Header {
    /// The ABI struct form.
    pub fn to_abi(&self) -> abi::Header {
        abi::Header {
            chainId: self.chain_id.get(),
            epoch: self.epoch.get(),
            height: self.height.get(),
            viewNumber: self.view.get(),
            timestampMs: self.timestamp_ms,
            parent: self.parent,
            payloadRoot: self.payload_root,
            historyRoot: self.history_root,
            committee: self.committee,
        }
    }

    /// Canonical encoding: `abi.encode(Header)`.
    pub fn encode(&self) -> Vec<u8> {
        self.to_abi().abi_encode()
    }

    /// `keccak256(abi.encode(Header))`.
    pub fn hash(&self) -> B256 {
        keccak256(self.encode())
    }

    /// Decodes a canonical header encoding.
    pub fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        let h = decode_canonical::<abi::Header>(bytes, HEADER_LEN)?;
        Ok(Self {
            chain_id: ChainId(h.chainId),
            epoch: Epoch(h.epoch),
            height: Height(h.height),
            view: View(h.viewNumber),
            timestamp_ms: h.timestampMs,
            parent: h.parent,
            payload_root: h.payloadRoot,
            history_root: h.historyRoot,
            committee: h.committee,
        })
    }
}
