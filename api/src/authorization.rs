//! A namespace owner's authorization of a transaction: the owner's ed25519 signature over the
//! transaction hash, in the domain [`AUTHORIZATION_NAMESPACE`].
//!
//! Validators admit a transaction to an owned namespace only with its owner's authorization
//! (DESIGN §4); it travels beside the transaction in the block, not in its Merkle leaf, so a
//! contract recomputes the leaf from the transaction alone.

use commonware_cryptography::{Signer as _, Verifier as _, ed25519};
use trestle_light_client::{B256, Transaction};

/// The signing domain of owner authorizations: `ed25519(AUTHORIZATION_NAMESPACE, txHash)`.
pub const AUTHORIZATION_NAMESPACE: &[u8] = b"trestle.tx-auth.v1";

/// The owner's authorization of `transaction`.
pub fn authorize(owner: &ed25519::PrivateKey, transaction: &Transaction) -> ed25519::Signature {
    owner.sign(AUTHORIZATION_NAMESPACE, transaction.hash().as_slice())
}

/// Whether `signature` is `owner`'s authorization of the transaction with hash `tx_hash`.
pub fn is_authorized(
    owner: &ed25519::PublicKey,
    tx_hash: &B256,
    signature: &ed25519::Signature,
) -> bool {
    owner.verify(AUTHORIZATION_NAMESPACE, tx_hash.as_slice(), signature)
}
