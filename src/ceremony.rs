//! `trestle circuit r1cs` and `trestle circuit import-zkey`: the two ends of a snarkjs
//! phase-2 ceremony (`scripts/ceremony` runs the snarkjs steps in between; see
//! [`trestle_circuits::ceremony`]).

use std::{fs, io::BufWriter, path::Path};

use anyhow::Context;
use trestle_circuits::{
    Prover,
    ceremony::{import_zkey, write_r1cs},
    export::{self, fixtures::fixture_proof},
    setup::{ceremony_key_paths, write_proving_key, write_verifying_key},
};

/// Writes the constraint system of `capacity` to `out` in circom's `.r1cs` format.
pub fn r1cs(capacity: usize, out: &Path) -> anyhow::Result<()> {
    let file = fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let summary = write_r1cs(capacity, &mut BufWriter::new(file))
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "wrote {} (capacity {capacity}: {} constraints, {} wires, {} public inputs)",
        out.display(),
        summary.constraints,
        summary.wires,
        summary.public_inputs
    );
    Ok(())
}

/// Imports a ceremony's final `.zkey` for `capacity`: checks it against the circuit, proves
/// the fixture state with it as a self-test, and writes into `out` the trestle key files
/// (`light-client-n{capacity}.pk` / `.vk`), the Solidity verifier (`LightClientVerifier.sol`)
/// and the snarkjs verification key (`verification_key.json`).
pub fn import(capacity: usize, zkey: &Path, out: &Path) -> anyhow::Result<()> {
    let bytes = fs::read(zkey).with_context(|| format!("reading {}", zkey.display()))?;
    let imported = import_zkey(&bytes, capacity)
        .with_context(|| format!("importing {} for capacity {capacity}", zkey.display()))?;
    let origin = imported.origin();
    eprintln!("{} accepted for capacity {capacity} ({origin})", zkey.display());
    for (i, contribution) in imported.contributions.iter().enumerate() {
        let kind = if contribution.beacon { "beacon" } else { "contribution" };
        let name = contribution.name.as_deref().unwrap_or("(unnamed)");
        eprintln!("  #{}: {kind} {name}", i + 1);
    }
    // A proof of the fixture state (a quorum of a deterministic committee), made with the
    // imported key and checked against the key's own verifying key: the key proves.
    let prover = Prover::new(imported.proving_key.clone(), capacity)
        .context("the key does not fit the prover")?;
    fixture_proof(&prover).context("the imported key does not prove the fixture state")?;
    eprintln!("  self-test: a proof with the key verifies against its verifying key");

    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let (pk_path, vk_path) = ceremony_key_paths(out, capacity);
    let vk = &imported.proving_key.vk;
    write_proving_key(&pk_path, &imported.proving_key, capacity, &origin)?;
    write_verifying_key(&vk_path, vk, capacity, &origin)?;
    let provenance = export::solidity::Provenance {
        capacity,
        origin: format!("snarkjs phase-2 ceremony, capacity {capacity}, {origin}"),
        insecure_dev_setup: false,
    };
    let [verifier_path, snarkjs_path] = export::write_verifier_exports(out, vk, &provenance, "")?;
    for path in [pk_path, vk_path, verifier_path, snarkjs_path] {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
