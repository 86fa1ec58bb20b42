//! Light-client states and the field element validators sign for them.
//!
//! After finalizing height `h`, every validator signs
//! `{chainId, epoch, height, historyRoot (over headers 0..=h), nextCommittee}`. The signed
//! message is one BN254 field element, so both the native verifier and the Groth16 circuit can
//! recompute it cheaply:
//!
//! ```text
//! M = Poseidon(TAG, chainId·2^128 + epoch·2^64 + height, historyRoot_hi, historyRoot_lo, nextCommittee)
//! ```
//!
//! `TAG` separates these messages from any other use of the same keys; the three counters pack
//! into one element (192 bits < 254, injective); the keccak history root is split into two
//! 128-bit limbs because it may exceed the field. `nextCommittee` must be a canonical field
//! element (it is a Poseidon output).

use alloy_primitives::B256;
use alloy_sol_types::SolValue;
use ark_ff::PrimeField;

use crate::{
    abi::{self, CodecError, decode_canonical},
    field::{FieldError, Fr, fr_from_b256, split_b256},
    poseidon,
    primitives::{ChainId, Epoch, Height},
};

/// Length of a state's canonical encoding: five static words.
pub const STATE_LEN: usize = 5 * 32;

/// Domain tag of light-client state messages: the ASCII bytes of `trestle.lc-state.v1` read as
/// a big-endian integer.
pub fn state_tag() -> Fr {
    Fr::from_be_bytes_mod_order(b"trestle.lc-state.v1")
}

/// Why a light-client state could not be turned into a signed message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// `nextCommittee` is not a canonical field element, so no committee can have it.
    #[error("nextCommittee is not a field element: {0}")]
    NextCommittee(#[from] FieldError),
    /// The bytes are not a canonical state encoding.
    #[error(transparent)]
    Codec(#[from] CodecError),
}

/// A light-client state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct LightClientState {
    /// Network the state belongs to.
    pub chain_id: ChainId,
    /// Epoch of the finalized height.
    pub epoch: Epoch,
    /// The finalized height.
    pub height: Height,
    /// History root over headers `0..=height`.
    pub history_root: B256,
    /// Commitment to the committee that signs the next states: the next epoch's committee at
    /// an epoch's last height, otherwise the current one.
    pub next_committee: B256,
}

impl LightClientState {
    /// The ABI struct form.
    pub fn to_abi(&self) -> abi::LightClientState {
        abi::LightClientState {
            chainId: self.chain_id.get(),
            epoch: self.epoch.get(),
            height: self.height.get(),
            historyRoot: self.history_root,
            nextCommittee: self.next_committee,
        }
    }

    /// Canonical encoding: `abi.encode(LightClientState)`.
    pub fn encode(&self) -> Vec<u8> {
        self.to_abi().abi_encode()
    }

    /// Decodes a canonical state encoding; `nextCommittee` must be a field element.
    pub fn decode(bytes: &[u8]) -> Result<Self, StateError> {
        let s = decode_canonical::<abi::LightClientState>(bytes, STATE_LEN)?;
        let state = Self {
            chain_id: ChainId(s.chainId),
            epoch: Epoch(s.epoch),
            height: Height(s.height),
            history_root: s.historyRoot,
            next_committee: s.nextCommittee,
        };
        fr_from_b256(&state.next_committee)?;
        Ok(state)
    }

    /// `chainId·2^128 + epoch·2^64 + height` as one field element.
    pub fn packed_counters(&self) -> Fr {
        let packed = (u128::from(self.chain_id.get()) << 64) | u128::from(self.epoch.get());
        let shifted = Fr::from(packed) * Fr::from(1u128 << 64);
        shifted + Fr::from(self.height.get())
    }

    /// The field element validators sign for this state.
    pub fn message(&self) -> Result<Fr, StateError> {
        let next = fr_from_b256(&self.next_committee)?;
        let (root_hi, root_lo) = split_b256(&self.history_root);
        Ok(poseidon::hash_fixed([state_tag(), self.packed_counters(), root_hi, root_lo, next]))
    }
}
