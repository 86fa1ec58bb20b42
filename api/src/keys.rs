//! A validator's secret key file (TOML): its ed25519 consensus (and p2p) key and the seed of its
//! EdDSA-Poseidon light-client key.
//!
//! `trestle keygen` writes one with fresh keys from the operating system's randomness
//! ([`keygen`]) and prints the public half as a genesis entry; the file is created readable by
//! its owner only and never overwritten. The same file format holds a namespace owner's
//! (sequencer's) key for the relayer's post role: only the consensus key is used there.

use std::path::Path;

use alloy_primitives::B256;
use commonware_codec::{DecodeExt as _, Encode as _};
use commonware_cryptography::{Signer as _, ed25519};
use serde::{Deserialize, Serialize};
use trestle_light_client::{
    SecretKey,
    stake::{
        CONSENSUS_POP_LEN, GENESIS_CONSENSUS_POP_NAMESPACE, genesis_pop_message,
        light_client_pop_message,
    },
};

use crate::{
    files::{FileError, parse_error, parse_hex, read, to_hex, write},
    genesis::{GenesisProofs, GenesisValidator},
};

/// A validator's secret keys, as stored in its key file.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorKeyFile {
    /// ed25519 consensus / p2p private key, `0x` + 32 bytes.
    pub consensus_key: String,
    /// EdDSA-Poseidon light-client key seed, `0x` + 32 bytes.
    pub light_client_seed: String,
}

impl std::fmt::Debug for ValidatorKeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ValidatorKeyFile { .. }")
    }
}

/// A validator's decoded keys.
#[derive(Clone)]
pub struct ValidatorKeys {
    /// Consensus and p2p identity.
    pub consensus: ed25519::PrivateKey,
    /// Light-client signing key.
    pub light_client: SecretKey,
}

impl std::fmt::Debug for ValidatorKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidatorKeys")
            .field("consensus", &self.consensus.public_key())
            .field("light_client", self.light_client.public_key())
            .finish()
    }
}

impl ValidatorKeys {
    /// Keys from 64 bytes of secret entropy (the caller supplies OS randomness, or a labelled
    /// test seed): every 32-byte string is an ed25519 secret key.
    pub fn from_entropy(
        consensus_seed: [u8; 32],
        light_client_seed: [u8; 32],
    ) -> Result<Self, FileError> {
        Ok(Self {
            consensus: consensus_key("consensus_key", consensus_seed)?,
            light_client: SecretKey::from_seed(light_client_seed),
        })
    }

    /// Fresh keys from the operating system's randomness.
    pub fn generate() -> Result<Self, FileError> {
        let mut consensus = [0u8; 32];
        let mut light_client = [0u8; 32];
        rand::fill(&mut consensus);
        rand::fill(&mut light_client);
        Self::from_entropy(consensus, light_client)
    }

    /// The public half, as a genesis entry (weight 1) with both proofs of possession.
    pub fn genesis_entry(&self) -> GenesisValidator {
        let proofs = self.genesis_proofs();
        GenesisValidator {
            consensus_key: to_hex(self.consensus.public_key().encode()),
            light_client_key: to_hex(self.light_client.public_key().to_bytes()),
            weight: 1,
            p2p_address: None,
            consensus_pop: Some(to_hex(proofs.consensus_pop)),
            light_client_pop: Some(to_hex(proofs.light_client_pop)),
        }
    }

    /// The key file contents.
    pub fn to_file(&self) -> ValidatorKeyFile {
        ValidatorKeyFile {
            consensus_key: to_hex(self.consensus.encode()),
            light_client_seed: to_hex(self.light_client.seed()),
        }
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Self, FileError> {
        let file: ValidatorKeyFile =
            toml::from_str(&read(path)?).map_err(|e| parse_error(path, e))?;
        Ok(Self {
            consensus: consensus_key(
                "consensus_key",
                parse_hex::<32>("consensus_key", &file.consensus_key)?,
            )?,
            light_client: SecretKey::from_seed(parse_hex::<32>(
                "light_client_seed",
                &file.light_client_seed,
            )?),
        })
    }

    /// Writes the key file, readable by its owner only.
    pub fn save(&self, path: &Path) -> Result<(), FileError> {
        let contents = toml::to_string(&self.to_file()).map_err(|e| parse_error(path, e))?;
        write(
            path,
            &format!("# trestle validator keys: SECRET, never share or commit.\n{contents}"),
        )?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|source| FileError::Io { path: path.into(), source })?;
        }
        Ok(())
    }
}

/// The ed25519 secret key `bytes` (decoding a 32-byte string cannot fail, but nothing is
/// assumed: a failure is an error, never a weaker key).
fn consensus_key(field: &str, bytes: [u8; 32]) -> Result<ed25519::PrivateKey, FileError> {
    ed25519::PrivateKey::decode(bytes.to_vec())
        .map_err(|_| FileError::Key { field: field.to_owned() })
}

/// Writes fresh keys to `path` (never overwriting a file) and returns their genesis entry.
pub fn keygen(path: &Path) -> Result<GenesisValidator, FileError> {
    if path.exists() {
        return Err(FileError::Exists(path.to_path_buf()));
    }
    let keys = ValidatorKeys::generate()?;
    keys.save(path)?;
    Ok(keys.genesis_entry())
}

impl ValidatorKeys {
    /// Both proofs of possession of these keys' genesis entry.
    pub fn genesis_proofs(&self) -> GenesisProofs {
        let consensus_key = B256::from_slice(&self.consensus.public_key().encode());
        let message =
            genesis_pop_message(&consensus_key, &self.light_client.public_key().to_bytes());
        let signature = self.consensus.sign(GENESIS_CONSENSUS_POP_NAMESPACE, message.as_slice());
        let mut consensus_pop = [0u8; CONSENSUS_POP_LEN];
        consensus_pop.copy_from_slice(&signature.encode());
        GenesisProofs {
            consensus_pop,
            light_client_pop: self
                .light_client
                .sign(&light_client_pop_message(&message))
                .to_bytes(),
        }
    }
}
