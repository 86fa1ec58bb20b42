//! Exports of keys and proofs for other verifiers.
//!
//! * [`solidity`] — a Solidity Groth16 verifier generated from a verifying key (the committed
//!   `solidity/src/generated/LightClientVerifier.sol` is the devnet's), and the calldata
//!   form of a proof;
//! * [`snarkjs`] — snarkjs' `verification_key.json`, `proof.json` and `public.json`;
//! * [`fixtures`] — the deterministic devnet proof the forge tests read
//!   (`solidity/test/fixtures/groth16/`), and [`rotation`] — proofs of a committee rotation.
//!
//! Everything generated from [`insecure_dev_setup`](crate::setup::insecure_dev_setup) keys is
//! labelled INSECURE in its header: such a verifier accepts forged proofs from anyone who
//! reads the seed.

pub mod fixtures;
pub mod rotation;
pub mod snarkjs;
pub mod solidity;

use std::path::{Path, PathBuf};

use ark_bn254::{Bn254, Fq, Fq2, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField};
use ark_groth16::VerifyingKey;

use crate::error::ExportError;

/// Affine coordinates of a G1 point (the identity has none).
pub(crate) fn g1_xy(p: &G1Affine) -> Result<(Fq, Fq), ExportError> {
    p.xy().ok_or(ExportError::Infinity)
}

/// Affine coordinates of a G2 point (the identity has none).
pub(crate) fn g2_xy(p: &G2Affine) -> Result<(Fq2, Fq2), ExportError> {
    p.xy().ok_or(ExportError::Infinity)
}

/// Decimal string of a field element (snarkjs' form).
pub(crate) fn decimal<F: PrimeField>(x: &F) -> String {
    x.into_bigint().to_string()
}

/// `0x` + 64 lowercase hex digits of a field element (Solidity's and forge's form).
pub(crate) fn hex_word<F: PrimeField>(x: &F) -> String {
    let bytes = x.into_bigint().to_bytes_be();
    let mut out = String::with_capacity(66);
    out.push_str("0x");
    for _ in bytes.len()..32 {
        out.push_str("00");
    }
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Every generated file as `(path relative to the repository root, contents)`.
pub fn generated_files() -> Result<Vec<(PathBuf, String)>, ExportError> {
    let keys = fixtures::devnet_keys()?;
    Ok(vec![
        (PathBuf::from(solidity::DEVNET_VERIFIER_PATH), fixtures::devnet_verifier(&keys)?),
        (PathBuf::from(fixtures::PROOF_FIXTURE_PATH), fixtures::proof_fixture(&keys)?),
        (PathBuf::from(rotation::ROTATION_FIXTURE_PATH), rotation::rotation_fixture(&keys)?),
    ])
}

/// Writes the Solidity verifier (`LightClientVerifier{label}.sol`) and the snarkjs verification
/// key (`verification_key{label}.json`) of `vk` into `out` (which must exist); returns their
/// paths. `trestle circuit setup` labels them `.INSECURE-DEV`; ceremony keys get no label.
pub fn write_verifier_exports(
    out: &Path,
    vk: &VerifyingKey<Bn254>,
    provenance: &solidity::Provenance,
    label: &str,
) -> Result<[PathBuf; 2], ExportError> {
    let verifier_path = out.join(format!("LightClientVerifier{label}.sol"));
    let snarkjs_path = out.join(format!("verification_key{label}.json"));
    let files = [
        (&verifier_path, solidity::verifier_contract(vk, provenance)?),
        (&snarkjs_path, snarkjs::to_text(&snarkjs::verification_key(vk)?)?),
    ];
    for (path, contents) in files {
        std::fs::write(path, contents)
            .map_err(|source| ExportError::Io { path: path.clone(), source })?;
    }
    Ok([verifier_path, snarkjs_path])
}

/// Writes [`generated_files`] under `repo_root`.
pub fn write_generated_files(repo_root: &Path) -> Result<(), ExportError> {
    for (path, contents) in generated_files()? {
        let path = repo_root.join(path);
        let io = |source| ExportError::Io { path: path.clone(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(&path, contents).map_err(io)?;
    }
    Ok(())
}
