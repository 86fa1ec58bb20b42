//! Proofs of possession for the L1 stake table, over commonware's ed25519.
//!
//! `StakeTable.sol` records a registration's two proofs without checking them (an ed25519
//! verification costs about a million gas there); every node checks them with the kernel's
//! committee rule (`trestle_light_client::stake`), whose ed25519 half is [`Ed25519Pops`] here.
//! [`ValidatorKeys::proofs_of_possession`] makes both for a registration, as
//! `trestle validator register` sends them.
//!
//! The ed25519 proof is commonware's `sign(CONSENSUS_POP_NAMESPACE, message)`, which signs
//! `varint(len(namespace)) ‖ namespace ‖ message`; the light-client proof is EdDSA-Poseidon over
//! the message reduced mod r. `message` is [`pop_message`]: the same 32 bytes as
//! `StakeTable.popMessage`, pinned by golden vectors.
//!
//! A genesis entry carries the same two proofs over another message
//! ([`crate::genesis::GenesisProofs`]).

use alloy_primitives::{Address, B256};
use commonware_codec::{DecodeExt as _, Encode as _};
use commonware_cryptography::{Signer as _, Verifier as _, ed25519};
use trestle_light_client::{
    eddsa::SIGNATURE_LEN,
    stake::{
        CONSENSUS_POP_LEN, CONSENSUS_POP_NAMESPACE, ConsensusPopVerifier, LIGHT_CLIENT_KEY_LEN,
        StakeTableId, light_client_pop_message, pop_message,
    },
};

use crate::keys::ValidatorKeys;

/// Verifies consensus-key proofs of possession with ed25519 (malformed keys or signatures are
/// simply invalid).
#[derive(Clone, Copy, Debug, Default)]
pub struct Ed25519Pops;

impl ConsensusPopVerifier for Ed25519Pops {
    fn verify(&self, consensus_key: &B256, message: &B256, pop: &[u8; CONSENSUS_POP_LEN]) -> bool {
        let Ok(key) = ed25519::PublicKey::decode(consensus_key.to_vec()) else {
            return false;
        };
        let Ok(signature) = ed25519::Signature::decode(pop.to_vec()) else {
            return false;
        };
        key.verify(CONSENSUS_POP_NAMESPACE, message.as_slice(), &signature)
    }
}

/// What a registration sends besides its deposit and p2p address: both public keys and both
/// proofs of possession.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofsOfPossession {
    /// ed25519 consensus key.
    pub consensus_key: B256,
    /// Light-client key, circomlib `x ‖ y`.
    pub light_client_key: [u8; LIGHT_CLIENT_KEY_LEN],
    /// ed25519 signature of the message.
    pub consensus_pop: [u8; CONSENSUS_POP_LEN],
    /// EdDSA-Poseidon signature of the message mod r.
    pub light_client_pop: [u8; SIGNATURE_LEN],
}

impl ValidatorKeys {
    /// Both proofs of possession for registering these keys from `account` in `table`.
    pub fn proofs_of_possession(
        &self,
        table: &StakeTableId,
        account: &Address,
    ) -> ProofsOfPossession {
        let consensus_key = B256::from_slice(&self.consensus.public_key().encode());
        let light_client_key = self.light_client.public_key().to_bytes();
        let message = pop_message(table, account, &consensus_key, &light_client_key);
        let signature = self.consensus.sign(CONSENSUS_POP_NAMESPACE, message.as_slice());
        let mut consensus_pop = [0u8; CONSENSUS_POP_LEN];
        consensus_pop.copy_from_slice(&signature.encode());
        ProofsOfPossession {
            consensus_key,
            light_client_key,
            consensus_pop,
            light_client_pop: self
                .light_client
                .sign(&light_client_pop_message(&message))
                .to_bytes(),
        }
    }
}
