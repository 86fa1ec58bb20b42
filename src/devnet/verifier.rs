//! `trestle devnet --keys DIR`: light-client keys from outside the devnet (a ceremony's, as
//! `trestle circuit import-zkey` writes them) instead of the INSECURE dev keys.
//!
//! The relayer proves with `DIR/light-client-n<capacity>.pk`, and every chain's LightClient
//! verifies with a verifier generated here from `DIR/light-client-n<capacity>.vk` (not from a
//! `.sol` file beside it, so the contract matches the key by construction), compiled with the
//! project's pinned solc and the settings of `solidity/foundry.toml`, and deployed by
//! `Deploy.s.sol` from its creation code (`VERIFIER_CREATION_CODE`).

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use trestle_circuits::{
    export::solidity::{Provenance, verifier_contract},
    setup::{INSECURE_DEV_ORIGIN, ceremony_key_paths, read_proving_key, read_verifying_key},
};

/// Keys for the devnet from `--keys`, checked, with their verifier compiled.
#[derive(Clone, Debug)]
pub struct ExternalKeys {
    /// The directory (absolute), for the relayer's `[prover] keys_dir`.
    pub dir: PathBuf,
    /// The origin the key files record.
    pub origin: String,
    /// The generated verifier's creation code, `0x` hex.
    pub creation_code: String,
}

/// Reads and checks the keys for `capacity` in `dir` and compiles their verifier with the
/// compiler of `solidity`.
pub fn load(solidity: &Path, dir: &Path, capacity: usize) -> anyhow::Result<ExternalKeys> {
    let dir = std::path::absolute(dir).with_context(|| format!("resolving {}", dir.display()))?;
    let (pk_path, vk_path) = ceremony_key_paths(&dir, capacity);
    let vk = read_verifying_key(&vk_path, capacity)
        .with_context(|| format!("--keys: the verifying key for capacity {capacity}"))?;
    if vk.origin == INSECURE_DEV_ORIGIN {
        bail!("--keys: {} is an INSECURE dev key; give keys from a ceremony", vk_path.display());
    }
    let pk = read_proving_key(&pk_path, capacity)
        .with_context(|| format!("--keys: the proving key for capacity {capacity}"))?;
    if pk.key.vk != vk.key {
        bail!("--keys: {} and {} are not one key pair", pk_path.display(), vk_path.display());
    }
    let provenance = Provenance {
        capacity,
        origin: format!("{} (given to trestle devnet --keys)", vk.origin),
        insecure_dev_setup: false,
    };
    let source = verifier_contract(&vk.key, &provenance)?;
    let compiled = compile_verifier(solidity, &source)?;
    Ok(ExternalKeys { dir, origin: vk.origin, creation_code: compiled.creation_code })
}

/// A compiled `LightClientVerifier`.
#[derive(Clone, Debug)]
pub struct CompiledVerifier {
    /// Creation code, `0x` hex.
    pub creation_code: String,
    /// Runtime code, `0x` hex.
    pub runtime_code: String,
}

/// Compiles a generated `LightClientVerifier` source with `solidity/tools/solc` (standard JSON)
/// and the optimizer settings of `solidity/foundry.toml`.
pub fn compile_verifier(solidity: &Path, source: &str) -> anyhow::Result<CompiledVerifier> {
    let input = json!({
        "language": "Solidity",
        "sources": { "LightClientVerifier.sol": { "content": source } },
        "settings": {
            "optimizer": { "enabled": true, "runs": 10000 },
            "evmVersion": "cancun",
            "outputSelection": {
                "*": { "LightClientVerifier": ["evm.bytecode.object", "evm.deployedBytecode.object"] }
            }
        }
    });
    let solc = solidity.join("tools/solc");
    let mut child = Command::new(&solc)
        .arg("--standard-json")
        .current_dir(solidity)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {}", solc.display()))?;
    child
        .stdin
        .take()
        .context("solc stdin")?
        .write_all(input.to_string().as_bytes())
        .context("writing to solc")?;
    let out = child.wait_with_output().context("waiting for solc")?;
    let output: Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!("solc answered no JSON: {}", String::from_utf8_lossy(&out.stderr))
    })?;
    let errors: Vec<&str> = output["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["severity"] == "error")
        .filter_map(|e| e["formattedMessage"].as_str())
        .collect();
    if !errors.is_empty() {
        bail!("solc refused the generated verifier:\n{}", errors.join("\n"));
    }
    let evm = &output["contracts"]["LightClientVerifier.sol"]["LightClientVerifier"]["evm"];
    let code = |field: &str| -> anyhow::Result<String> {
        match evm[field]["object"].as_str() {
            Some(hex) if !hex.is_empty() => Ok(format!("0x{hex}")),
            _ => bail!("solc returned no {field} for LightClientVerifier"),
        }
    };
    Ok(CompiledVerifier {
        creation_code: code("bytecode")?,
        runtime_code: code("deployedBytecode")?,
    })
}
