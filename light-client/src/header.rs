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
    ///
    /// Nine static words: a canonical encoding is exactly [`HEADER_LEN`] bytes with each
    /// `uint64` in the low 8 bytes of its word. That is read directly; anything else goes
    /// through the generic decoder ([`decode_canonical`]: decode, re-encode, compare), which
    /// accepts exactly the same encodings (tested) and names what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        if let Some(header) = Self::decode_words(bytes) {
            return Ok(header);
        }
        Self::decode_generic(bytes)
    }

    /// The direct read of a canonical encoding (`None` for anything else).
    fn decode_words(bytes: &[u8]) -> Option<Self> {
        let words: &[[u8; 32]; 9] = bytes.as_chunks::<32>().0.try_into().ok()?;
        if bytes.len() != HEADER_LEN {
            return None;
        }
        let uint = |word: &[u8; 32]| -> Option<u64> {
            let (high, low) = word.split_at(24);
            if high.iter().any(|b| *b != 0) {
                return None;
            }
            Some(u64::from_be_bytes(low.try_into().ok()?))
        };
        Some(Self {
            chain_id: ChainId(uint(&words[0])?),
            epoch: Epoch(uint(&words[1])?),
            height: Height(uint(&words[2])?),
            view: View(uint(&words[3])?),
            timestamp_ms: uint(&words[4])?,
            parent: B256::from(words[5]),
            payload_root: B256::from(words[6]),
            history_root: B256::from(words[7]),
            committee: B256::from(words[8]),
        })
    }

    fn decode_generic(bytes: &[u8]) -> Result<Self, CodecError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            chain_id: ChainId(31_337),
            epoch: Epoch(2),
            height: Height(u64::MAX),
            view: View(9),
            timestamp_ms: 1_700_000_000_000,
            parent: B256::repeat_byte(1),
            payload_root: B256::repeat_byte(2),
            history_root: B256::repeat_byte(3),
            committee: B256::repeat_byte(0xff),
        }
    }

    #[test]
    fn the_direct_read_accepts_exactly_what_the_generic_decoder_accepts() {
        let bytes = sample().encode();
        assert_eq!(Header::decode(&bytes), Ok(sample()));
        assert_eq!(Header::decode_words(&bytes), Some(sample()));
        let mut cases =
            vec![Vec::new(), bytes[..HEADER_LEN - 1].to_vec(), [&bytes[..], &[0]].concat()];
        // Every byte of every word flipped: high bytes of a uint64 are non-canonical.
        for i in 0..HEADER_LEN {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0x80;
            cases.push(flipped);
        }
        for case in cases {
            let direct = Header::decode_words(&case);
            let generic = Header::decode_generic(&case);
            assert_eq!(direct.is_some(), generic.is_ok(), "{case:?}");
            if let Some(header) = direct {
                assert_eq!(Ok(header), generic);
            }
            assert_eq!(Header::decode(&case), generic);
        }
    }
}
