//! A Groth16 phase-2 ceremony end to end, with the ecosystem's tools: a local powers of tau,
//! `scripts/ceremony` (snarkjs) with three contributions and a beacon over our `.r1cs` export,
//! `snarkjs zkey verify`, the import into trestle, and a proof made with the imported key that
//! verifies natively, with snarkjs and in the LightClient contract. Zkeys that are tampered,
//! for another capacity or without contributions are refused.
//!
//! Its own test binary (not a module of `tests/it`): it keeps both cores busy with snarkjs for
//! minutes, and cargo runs test binaries one after another, so it never starves the
//! time-bounded devnet tests. Capacity 2 (7,779 constraints, a 2¹³ domain) needs a powers of
//! tau of power 14, which snarkjs prepares in about five minutes on this 2-core box.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;
use trestle_circuits::{
    Prover, Verifier,
    export::{
        self,
        fixtures::{FixtureProof, fixture_proof},
    },
    setup::{ceremony_key_paths, read_proving_key, read_verifying_key},
};

const CAPACITY: usize = 2;
const PTAU_POWER: u32 = 14;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `scripts/ceremony ARGS` with this build's trestle binary.
fn ceremony(args: &[&str]) -> Output {
    Command::new(repo().join("scripts/ceremony"))
        .args(args)
        .env("TRESTLE", env!("CARGO_BIN_EXE_trestle"))
        .output()
        .expect("run scripts/ceremony")
}

fn ceremony_ok(args: &[&str]) -> String {
    let out = ceremony(args);
    assert!(
        out.status.success(),
        "scripts/ceremony {args:?} failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

fn trestle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trestle")).args(args).output().expect("run trestle")
}

fn import(zkey: &Path, capacity: usize, out: &Path) -> Output {
    trestle(&[
        "circuit",
        "import-zkey",
        "--capacity",
        &capacity.to_string(),
        "--zkey",
        path(zkey),
        "--out",
        path(out),
    ])
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn snarkjs(args: &[&str]) -> Output {
    Command::new("node")
        .arg(repo().join("tests/js/node_modules/snarkjs/build/cli.cjs"))
        .args(args)
        .output()
        .expect("node snarkjs")
}

/// Offsets `(start of body, length)` of each section of an iden3 binary file, by type.
fn sections(bytes: &[u8]) -> Vec<(u32, usize, usize)> {
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let mut at = 12;
    let mut out = Vec::new();
    for _ in 0..u32_at(8) {
        let kind = u32_at(at);
        let length = u64::from_le_bytes(bytes[at + 4..at + 12].try_into().expect("8 bytes"));
        out.push((kind, at + 12, length as usize));
        at += 12 + length as usize;
    }
    out
}

fn section(bytes: &[u8], kind: u32) -> (usize, usize) {
    sections(bytes)
        .into_iter()
        .find(|(k, _, _)| *k == kind)
        .map(|(_, start, len)| (start, len))
        .expect("section")
}

#[test]
fn ceremony_keys_prove_and_verify_natively_with_snarkjs_and_on_chain() {
    let work = tempfile::tempdir().expect("temp dir");
    let dir = work.path();
    let ptau = dir.join("pot.ptau");
    let phase2 = dir.join("phase2");
    let keys = dir.join("keys");

    // Phase 1 (local, for tests) and the start of phase 2 over our circuit.
    ceremony_ok(&["ptau", "--power", &PTAU_POWER.to_string(), "--out", path(&ptau)]);
    let started =
        ceremony_ok(&["start", "--capacity", "2", "--ptau", path(&ptau), "--dir", path(&phase2)]);
    let constraints = trestle_circuits::circuit::constraint_count(CAPACITY).expect("count");
    assert!(started.contains(&format!("{constraints} constraints")), "{started}");

    // A key nobody contributed to has a public δ: refused.
    let uncontributed = import(&phase2.join("key_0000.zkey"), CAPACITY, &dir.join("no"));
    assert!(!uncontributed.status.success());
    assert!(text(&uncontributed.stderr).contains("no phase-2 contribution"), "{uncontributed:?}");

    for name in ["alice", "bob", "carol"] {
        ceremony_ok(&["contribute", "--dir", path(&phase2), "--name", name]);
    }
    let beacon = "8e6bd4c1a3b2f2e5d0a9c7b6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6";
    ceremony_ok(&["beacon", "--dir", path(&phase2), "--hash", beacon]);
    let finished = ceremony_ok(&[
        "finish",
        "--dir",
        path(&phase2),
        "--ptau",
        path(&ptau),
        "--out",
        path(&keys),
    ]);
    assert!(finished.contains("ZKey Ok!"), "snarkjs zkey verify did not accept:\n{finished}");
    for line in [
        "accepted for capacity 2",
        "#1: contribution alice",
        "#3: contribution carol",
        "self-test: a proof with the key verifies",
    ] {
        assert!(finished.contains(line), "no {line:?} in:\n{finished}");
    }
    let final_zkey = phase2.join("key_0004.zkey");

    // snarkjs's verification key of the final zkey is the one we exported.
    let snarkjs_vk = dir.join("vk.snarkjs.json");
    assert!(
        snarkjs(&["zkey", "export", "verificationkey", path(&final_zkey), path(&snarkjs_vk)])
            .status
            .success()
    );
    let read_json = |p: &Path| -> Value {
        serde_json::from_str(&fs::read_to_string(p).expect("read")).expect("json")
    };
    assert_eq!(read_json(&snarkjs_vk), read_json(&keys.join("verification_key.json")));

    // A proof with the imported key verifies natively.
    let (pk_path, vk_path) = ceremony_key_paths(&keys, CAPACITY);
    let pk = read_proving_key(&pk_path, CAPACITY).expect("imported proving key");
    assert!(pk.origin.starts_with("snarkjs-zkey-sha256:"), "origin {}", pk.origin);
    let vk = read_verifying_key(&vk_path, CAPACITY).expect("imported verifying key").key;
    let prover = Prover::new(pk.key, CAPACITY).expect("prover");
    let FixtureProof { signed, proof, document } =
        fixture_proof(&prover).expect("proof with the ceremony key");
    Verifier::new(&vk)
        .expect("verifier")
        .verify(&signed.state, &signed.committee.commitment_bytes(), &proof)
        .expect("the proof verifies natively");

    // ... with snarkjs, which refuses a changed public input ...
    let inputs =
        trestle_circuits::PublicInputs::new(&signed.state, &signed.committee.commitment_bytes())
            .expect("public inputs");
    let proof_json = dir.join("proof.json");
    let public_json = dir.join("public.json");
    fs::write(
        &proof_json,
        export::snarkjs::to_text(&export::snarkjs::proof(&proof).expect("proof json"))
            .expect("text"),
    )
    .expect("write");
    let public = export::snarkjs::public(&inputs);
    fs::write(&public_json, export::snarkjs::to_text(&public).expect("text")).expect("write");
    let verify = |public: &Path| {
        let out = snarkjs(&[
            "groth16",
            "verify",
            path(&keys.join("verification_key.json")),
            path(public),
            path(&proof_json),
        ]);
        out.status.success() && text(&out.stdout).contains("OK")
    };
    assert!(verify(&public_json), "snarkjs rejects the ceremony proof");
    let mut tampered = public.clone();
    tampered[0] = Value::String("12345".into());
    let tampered_json = dir.join("public.tampered.json");
    fs::write(&tampered_json, tampered.to_string()).expect("write");
    assert!(!verify(&tampered_json), "snarkjs accepts a changed input");

    // ... and in the LightClient contract, with the verifier generated from the imported key.
    let mut fixture = document;
    let source = fs::read_to_string(keys.join("LightClientVerifier.sol")).expect("verifier source");
    let compiled = trestle::devnet::verifier::compile_verifier(&repo().join("solidity"), &source)
        .expect("the generated verifier compiles");
    fixture.insert("verifierRuntimeCode".into(), Value::String(compiled.runtime_code));
    let forge = Command::new(repo().join("solidity/tools/forge"))
        .args(["test", "--match-contract", "LightClientExternalKeyTest"])
        .current_dir(repo().join("solidity"))
        .env("LIGHT_CLIENT_KEY_FIXTURE", Value::Object(fixture).to_string())
        .output()
        .expect("forge");
    let forge_out = text(&forge.stdout);
    assert!(forge.status.success(), "forge test failed:\n{forge_out}\n{}", text(&forge.stderr));
    assert!(forge_out.contains("3 passed; 0 failed"), "{forge_out}");

    // Refusals: another capacity, a tampered point, a tampered coefficient.
    let other = import(&final_zkey, 1, &dir.join("other"));
    assert!(!other.status.success());
    assert!(
        text(&other.stderr).contains("not for the light-client circuit of capacity 1"),
        "{}",
        text(&other.stderr)
    );
    let good = fs::read(&final_zkey).expect("zkey");
    let tamper = |name: &str, kind: u32, offset_in_section: usize| -> (PathBuf, Output) {
        let mut bytes = good.clone();
        let (start, len) = section(&bytes, kind);
        assert!(offset_in_section < len);
        bytes[start + offset_in_section] ^= 0x01;
        let tampered_dir = dir.join(name);
        fs::create_dir_all(&tampered_dir).expect("dir");
        let zkey = tampered_dir.join("key_0000.zkey");
        fs::write(&zkey, bytes).expect("write");
        let out = import(&zkey, CAPACITY, &tampered_dir.join("keys"));
        (tampered_dir, out)
    };
    // An H point's x coordinate: no longer on the curve.
    let (h_dir, h_import) = tamper("h", 9, 64 * 5 + 3);
    assert!(!h_import.status.success());
    assert!(text(&h_import.stderr).contains("section 9, point 5"), "{}", text(&h_import.stderr));
    // snarkjs refuses it too.
    fs::copy(phase2.join("circuit.r1cs"), h_dir.join("circuit.r1cs")).expect("copy r1cs");
    let verify_tampered = ceremony(&["verify", "--dir", path(&h_dir), "--ptau", path(&ptau)]);
    assert!(!verify_tampered.status.success(), "snarkjs zkey verify accepted a tampered key");
    // The value of the first QAP coefficient (after its count and matrix/row/signal words).
    let (_, coefficient) = tamper("coefficient", 4, 4 + 12);
    assert!(!coefficient.status.success());
    assert!(
        text(&coefficient.stderr).contains("QAP coefficient 0"),
        "{}",
        text(&coefficient.stderr)
    );
}
