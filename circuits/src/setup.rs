//! Groth16 setup of the light-client circuit, and key files.
//!
//! # INSECURE development setup
//! [`insecure_dev_setup`] derives *all* setup randomness (the "toxic waste" `α, β, γ, δ, τ`)
//! from a seed with a deterministic RNG. Anyone who knows the seed — and the default
//! [`INSECURE_DEV_SEED`] is in this source file — can forge proofs of any statement. It
//! exists so that devnets, tests and the committed Solidity verifier are reproducible. A
//! deployment that must be sound needs keys from a real multi-party ceremony, loaded with
//! [`read_proving_key`] / [`read_verifying_key`].
//!
//! # Key files
//! A key file is one ASCII header line followed by the key in arkworks' compressed
//! canonical serialization:
//!
//! ```text
//! trestle-groth16-bn254 v3 kind=proving-key capacity=4 origin=INSECURE-DEV-SETUP
//! <compressed ProvingKey<Bn254> bytes>
//! ```
//!
//! `kind` is `proving-key` or `verifying-key`; `origin` is free text without spaces
//! (`INSECURE-DEV-SETUP` for [`insecure_dev_setup`] keys, so a key file always says where it
//! came from). Reading validates everything: the header, the kind, the capacity the caller
//! expects, every curve point (on the curve, in the right subgroup), no trailing bytes and the
//! number of public inputs; any failure is a [`KeyFileError`].
//!
//! Version `v3` is the circuit with four public inputs (the state's counters and root packed
//! into two field elements, see [`crate::circuit`]) and the `H` query in snarkjs's odd-coset
//! form (see [`crate::reduction`]). Earlier versions are refused with their reason: `v2` keys
//! are for the circuit with five public inputs, `v1` keys hold libsnark's powers of `τ`; their
//! proofs would not verify, so make them again.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use ark_bn254::Bn254;
use ark_groth16::{ProvingKey, VerifyingKey};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use ark_snark::CircuitSpecificSetupSNARK;
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

use crate::{
    circuit::{LightClientCircuit, NUM_PUBLIC_INPUTS},
    error::{KeyFileError, SetupError},
    reduction::LightClientGroth16,
};

/// The seed of the devnet's INSECURE setup. Public, so its keys prove nothing to anyone who
/// reads this line.
pub const INSECURE_DEV_SEED: [u8; 32] = *b"trestle INSECURE dev setup seed!";

/// The capacity of the devnet's committee, and of the committed Solidity verifier: twice the
/// devnet's default 4 validators, so that validators can join (`trestle validator register`)
/// without displacing anyone, and still a small circuit (DESIGN §5: CI circuits ≤ 10 signers).
pub const DEVNET_CAPACITY: usize = 8;

/// `origin` recorded in key files written by [`write_insecure_dev_keys`].
pub const INSECURE_DEV_ORIGIN: &str = "INSECURE-DEV-SETUP";

const MAGIC: &str = "trestle-groth16-bn254";
const VERSION: &str = "v3";
const MAX_HEADER: usize = 512;

/// A proving key and its verifying key for one capacity.
#[derive(Clone, Debug)]
pub struct CircuitKeys {
    /// Capacity of the circuit the keys are for.
    pub capacity: usize,
    /// The proving key (it contains the verifying key too).
    pub proving_key: ProvingKey<Bn254>,
    /// The verifying key.
    pub verifying_key: VerifyingKey<Bn254>,
}

/// **INSECURE**: Groth16 setup for `capacity` with all randomness derived from `seed`.
///
/// Whoever knows `seed` knows the toxic waste and can prove false statements. For devnets
/// and tests only; see the [module docs](self).
pub fn insecure_dev_setup(capacity: usize, seed: [u8; 32]) -> Result<CircuitKeys, SetupError> {
    let circuit = LightClientCircuit::new(capacity)?;
    let mut rng = ChaCha20Rng::from_seed(seed);
    let (proving_key, verifying_key) = LightClientGroth16::setup(circuit, &mut rng)?;
    Ok(CircuitKeys { capacity, proving_key, verifying_key })
}

/// File names of the INSECURE dev keys for `capacity` inside `dir`: `(proving, verifying)`.
pub fn insecure_dev_key_paths(dir: &Path, capacity: usize) -> (PathBuf, PathBuf) {
    let stem = format!("light-client-n{capacity}.INSECURE-DEV");
    (dir.join(format!("{stem}.pk")), dir.join(format!("{stem}.vk")))
}

/// File names of ceremony keys for `capacity` inside `dir` (written by `trestle circuit
/// import-zkey`): `(proving, verifying)`.
pub fn ceremony_key_paths(dir: &Path, capacity: usize) -> (PathBuf, PathBuf) {
    let stem = format!("light-client-n{capacity}");
    (dir.join(format!("{stem}.pk")), dir.join(format!("{stem}.vk")))
}

/// **INSECURE**: runs [`insecure_dev_setup`] and writes both keys to
/// [`insecure_dev_key_paths`] in `dir` (created if missing), labelled
/// [`INSECURE_DEV_ORIGIN`] in their headers and names. Returns the keys.
pub fn write_insecure_dev_keys(
    dir: &Path,
    capacity: usize,
    seed: [u8; 32],
) -> Result<CircuitKeys, KeyFileOrSetupError> {
    let keys = insecure_dev_setup(capacity, seed)?;
    fs::create_dir_all(dir)
        .map_err(|source| KeyFileError::Io { path: dir.to_path_buf(), source })?;
    let (pk_path, vk_path) = insecure_dev_key_paths(dir, capacity);
    write_proving_key(&pk_path, &keys.proving_key, capacity, INSECURE_DEV_ORIGIN)?;
    write_verifying_key(&vk_path, &keys.verifying_key, capacity, INSECURE_DEV_ORIGIN)?;
    Ok(keys)
}

/// Either a setup or a key-file failure.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileOrSetupError {
    /// Setup failed.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// Writing a key failed.
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
}

/// A key read from a file, with what its header says.
#[derive(Clone, Debug)]
pub struct KeyFile<K> {
    /// The key.
    pub key: K,
    /// The capacity in the header.
    pub capacity: usize,
    /// The origin in the header (e.g. [`INSECURE_DEV_ORIGIN`]).
    pub origin: String,
}

const PROVING: &str = "proving-key";
const VERIFYING: &str = "verifying-key";

/// Writes a proving key (header + compressed key). `origin` must be non-empty ASCII without
/// whitespace.
pub fn write_proving_key(
    path: &Path,
    key: &ProvingKey<Bn254>,
    capacity: usize,
    origin: &str,
) -> Result<(), KeyFileError> {
    write_key(path, key, PROVING, capacity, origin)
}

/// Writes a verifying key (header + compressed key).
pub fn write_verifying_key(
    path: &Path,
    key: &VerifyingKey<Bn254>,
    capacity: usize,
    origin: &str,
) -> Result<(), KeyFileError> {
    write_key(path, key, VERIFYING, capacity, origin)
}

/// Reads and fully validates a proving key for `capacity`.
pub fn read_proving_key(
    path: &Path,
    capacity: usize,
) -> Result<KeyFile<ProvingKey<Bn254>>, KeyFileError> {
    let file: KeyFile<ProvingKey<Bn254>> = read_key(path, PROVING, capacity)?;
    check_inputs(path, file.key.vk.gamma_abc_g1.len())?;
    Ok(file)
}

/// Reads and fully validates a verifying key for `capacity`.
pub fn read_verifying_key(
    path: &Path,
    capacity: usize,
) -> Result<KeyFile<VerifyingKey<Bn254>>, KeyFileError> {
    let file: KeyFile<VerifyingKey<Bn254>> = read_key(path, VERIFYING, capacity)?;
    check_inputs(path, file.key.gamma_abc_g1.len())?;
    Ok(file)
}

fn check_inputs(path: &Path, points: usize) -> Result<(), KeyFileError> {
    if points != NUM_PUBLIC_INPUTS + 1 {
        return Err(KeyFileError::Invalid {
            path: path.to_path_buf(),
            reason: format!("{points} input points, expected {}", NUM_PUBLIC_INPUTS + 1),
        });
    }
    Ok(())
}

fn write_key<K: CanonicalSerialize>(
    path: &Path,
    key: &K,
    kind: &str,
    capacity: usize,
    origin: &str,
) -> Result<(), KeyFileError> {
    let header_error = |reason: &str| KeyFileError::Header {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    if origin.is_empty() || !origin.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(header_error("origin must be non-empty ASCII without whitespace"));
    }
    let io = |source| KeyFileError::Io { path: path.to_path_buf(), source };
    let file = fs::File::create(path).map_err(io)?;
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "{MAGIC} {VERSION} kind={kind} capacity={capacity} origin={origin}")
        .map_err(io)?;
    key.serialize_compressed(&mut out).map_err(|e| match e {
        ark_serialize::SerializationError::IoError(source) => io(source),
        other => KeyFileError::Invalid { path: path.to_path_buf(), reason: other.to_string() },
    })?;
    out.flush().map_err(io)
}

fn read_key<K: CanonicalDeserialize>(
    path: &Path,
    kind: &'static str,
    capacity: usize,
) -> Result<KeyFile<K>, KeyFileError> {
    let bytes =
        fs::read(path).map_err(|source| KeyFileError::Io { path: path.to_path_buf(), source })?;
    let header_error = |reason: String| KeyFileError::Header { path: path.to_path_buf(), reason };
    let end = bytes
        .iter()
        .take(MAX_HEADER)
        .position(|&b| b == b'\n')
        .ok_or_else(|| header_error("no header line".into()))?;
    let header = std::str::from_utf8(&bytes[..end])
        .map_err(|_| header_error("header is not ASCII".into()))?;
    let mut fields = header.split(' ');
    if fields.next() != Some(MAGIC) {
        return Err(header_error("not a trestle Groth16 key file".into()));
    }
    match fields.next() {
        Some(VERSION) => {}
        Some("v2") => {
            return Err(header_error(
                "version v2 (the circuit with five public inputs, before the state's counters and \
                 root were packed into two): make the key again"
                    .into(),
            ));
        }
        Some("v1") => {
            return Err(header_error(
                "version v1 (H query in libsnark's form, before snarkjs's was adopted): make the \
                 key again"
                    .into(),
            ));
        }
        _ => return Err(header_error("unsupported version".into())),
    }
    let mut field = |name: &str| {
        fields
            .next()
            .and_then(|f| f.strip_prefix(name))
            .and_then(|f| f.strip_prefix('='))
            .map(str::to_string)
            .ok_or_else(|| header_error(format!("missing {name}")))
    };
    let found_kind = field("kind")?;
    let found_capacity = field("capacity")?;
    let origin = field("origin")?;
    if found_kind != kind {
        return Err(KeyFileError::WrongKind {
            path: path.to_path_buf(),
            found: found_kind,
            expected: kind,
        });
    }
    let found_capacity: usize =
        found_capacity.parse().map_err(|_| header_error("capacity is not a number".into()))?;
    if found_capacity != capacity {
        return Err(KeyFileError::Capacity {
            path: path.to_path_buf(),
            found: found_capacity,
            expected: capacity,
        });
    }
    let mut body = &bytes[end + 1..];
    let key = K::deserialize_compressed(&mut body)
        .map_err(|e| KeyFileError::Invalid { path: path.to_path_buf(), reason: e.to_string() })?;
    if !body.is_empty() {
        return Err(KeyFileError::Invalid {
            path: path.to_path_buf(),
            reason: format!("{} trailing bytes", body.len()),
        });
    }
    Ok(KeyFile { key, capacity, origin })
}
