//! What the genesis and key files have in common: reading, writing, `0x`-hex fields, and the
//! one error type their loaders return.

use std::path::{Path, PathBuf};

use commonware_codec::DecodeExt as _;
use commonware_cryptography::ed25519;
use trestle_light_client::PublicKey as LightClientKey;

/// Why a genesis or key file was refused.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML / JSON for its type.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// A hex field is malformed or has the wrong length.
    #[error("{field}: {message}")]
    Hex {
        /// The field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A key does not decode (not on the curve, not in the subgroup, wrong length, …).
    #[error("{field}: invalid key")]
    Key {
        /// The field.
        field: String,
    },
    /// The genesis is inconsistent (duplicate keys, empty committee, bad capacity, weights, …).
    #[error("genesis: {0}")]
    Genesis(String),
    /// A file that must not be overwritten (a secret key file) exists already.
    #[error("{0} exists; refusing to overwrite a key file")]
    Exists(PathBuf),
}

/// `0x`-prefixed lowercase hex.
pub fn to_hex(bytes: impl AsRef<[u8]>) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Decodes `0x` followed by exactly `2·N` hex digits.
pub fn parse_hex<const N: usize>(field: &str, value: &str) -> Result<[u8; N], FileError> {
    let hex_error = |message: String| FileError::Hex { field: field.to_owned(), message };
    let digits = value.strip_prefix("0x").ok_or_else(|| hex_error("missing 0x prefix".into()))?;
    let bytes = hex::decode(digits).map_err(|e| hex_error(e.to_string()))?;
    <[u8; N]>::try_from(bytes.as_slice())
        .map_err(|_| hex_error(format!("expected {N} bytes, found {}", bytes.len())))
}

/// Decodes an ed25519 consensus public key from `0x` + 64 hex digits.
pub fn parse_consensus_key(field: &str, value: &str) -> Result<ed25519::PublicKey, FileError> {
    let bytes = parse_hex::<32>(field, value)?;
    ed25519::PublicKey::decode(bytes.to_vec())
        .map_err(|_| FileError::Key { field: field.to_owned() })
}

/// Decodes a light-client (Baby Jubjub, circomlib coordinates) public key from `0x` + 128 hex
/// digits; points off the curve or outside the prime subgroup are refused.
pub fn parse_light_client_key(field: &str, value: &str) -> Result<LightClientKey, FileError> {
    let bytes = parse_hex::<64>(field, value)?;
    LightClientKey::from_bytes(&bytes).map_err(|_| FileError::Key { field: field.to_owned() })
}

/// Reads a whole file as text.
pub fn read(path: &Path) -> Result<String, FileError> {
    std::fs::read_to_string(path).map_err(|source| FileError::Io { path: path.into(), source })
}

/// Writes a whole file.
pub fn write(path: &Path, contents: &str) -> Result<(), FileError> {
    std::fs::write(path, contents).map_err(|source| FileError::Io { path: path.into(), source })
}

/// A parse error of the file at `path`.
pub(crate) fn parse_error(path: &Path, message: impl std::fmt::Display) -> FileError {
    FileError::Parse { path: path.into(), message: message.to_string() }
}
