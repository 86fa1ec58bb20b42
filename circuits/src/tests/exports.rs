//! The generated Solidity verifier and forge fixture (drift), and snarkjs' verifier on our
//! exports.

use std::{fs, path::Path, process::Command};

use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

use super::{keys4, repo_root, signed4, temp_dir};
use crate::{
    Fr, Prover, PublicInputs,
    export::{generated_files, snarkjs},
};

#[test]
fn generated_files_are_up_to_date() {
    let root = repo_root();
    let regenerate = std::env::var_os("TRESTLE_REGENERATE").is_some();
    let mut drifted = Vec::new();
    for (path, contents) in generated_files().expect("generate") {
        let full = root.join(&path);
        if fs::read_to_string(&full).ok().as_deref() == Some(contents.as_str()) {
            continue;
        }
        if regenerate {
            fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            fs::write(&full, &contents).expect("write");
        } else {
            drifted.push(path.display().to_string());
        }
    }
    assert!(
        drifted.is_empty(),
        "generated files differ from the code: {drifted:?}; regenerate with \
         `TRESTLE_REGENERATE=1 cargo test -p trestle-circuits generated_files`"
    );
}

/// Runs `snarkjs groth16 verify vk public proof` (its CLI exits 0 iff the proof verifies).
fn snarkjs_verify(dir: &Path, vk: &str, public: &str, proof: &str) -> (bool, String) {
    let cli = repo_root().join("tests/js/node_modules/snarkjs/build/cli.cjs");
    assert!(
        cli.is_file(),
        "snarkjs is not installed: run `npm ci --prefix tests/js` (scripts/test does)"
    );
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        fs::write(&path, text).expect("write");
        path
    };
    let output = Command::new("node")
        .arg(&cli)
        .args(["groth16", "verify"])
        .arg(write("verification_key.json", vk))
        .arg(write("public.json", public))
        .arg(write("proof.json", proof))
        .output()
        .expect("node runs (Node.js is a prerequisite)");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), log)
}

#[test]
fn snarkjs_verifies_our_proofs_and_rejects_tampered_inputs() {
    let keys = keys4();
    let s = signed4();
    let prover = Prover::new(keys.proving_key.clone(), 4).expect("prover");
    let proof = prover
        .prove(&s.state, &s.committee, &s.signatures, &mut ChaCha20Rng::from_seed([9; 32]))
        .expect("proof");
    let inputs = PublicInputs::new(&s.state, &s.committee.commitment_bytes()).expect("inputs");

    let text = |v: &serde_json::Value| snarkjs::to_text(v).expect("json");
    let vk = text(&snarkjs::verification_key(&keys.verifying_key).expect("vk"));
    let proof_json = text(&snarkjs::proof(&proof).expect("proof"));
    let public = text(&snarkjs::public(&inputs));
    let dir = temp_dir("snarkjs");

    let (ok, log) = snarkjs_verify(&dir, &vk, &public, &proof_json);
    assert!(ok, "snarkjs rejected a valid proof:\n{log}");
    assert!(log.contains("OK"), "{log}");

    for i in 0..crate::circuit::NUM_PUBLIC_INPUTS {
        let mut tampered = inputs.to_field_elements();
        tampered[i] += Fr::from(1u8);
        let public = text(&snarkjs::public_elements(&tampered));
        let (ok, log) = snarkjs_verify(&dir, &vk, &public, &proof_json);
        assert!(!ok, "snarkjs accepted tampered input {i}:\n{log}");
    }

    // e(α, β) as snarkjs computes it matches our vk_alphabeta_12.
    let helper = repo_root().join("tests/js/snarkjs-verify.mjs");
    let output = Command::new("node")
        .arg(&helper)
        .arg(dir.join("verification_key.json"))
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    fs::remove_dir_all(&dir).ok();
}
