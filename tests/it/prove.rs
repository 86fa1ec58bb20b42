//! `trestle prove` against real validator processes: the proof of a state the devnet finalized
//! and signed verifies with snarkjs and with our verifier, a tampered public input does not,
//! and bad requests fail with a message instead of a proof.

use std::{
    path::Path,
    process::{Command, Output},
    time::Duration,
};

use serde_json::Value;
use trestle_api::TrestleApiClient as _;
use trestle_circuits::{
    Verifier,
    setup::{DEVNET_CAPACITY, INSECURE_DEV_ORIGIN, insecure_dev_key_paths, read_verifying_key},
    verify::proof_from_bytes,
};

use crate::devnet::{Net, eventually, exe, reach};

fn trestle(args: &[&str]) -> Output {
    Command::new(exe()).args(args).output().expect("run trestle")
}

/// `trestle prove --rpc RPC --height HEIGHT --keys KEYS --out OUT`.
fn prove(rpc: &str, height: &str, keys: &Path, out: &Path) -> Output {
    let path = |p: &Path| p.to_str().expect("utf-8 path").to_owned();
    trestle(&[
        "prove",
        "--rpc",
        rpc,
        "--height",
        height,
        "--keys",
        &path(keys),
        "--out",
        &path(out),
    ])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `snarkjs groth16 verify` (exits 0 and says OK only for a valid proof).
fn snarkjs_verify(dir: &Path, vk: &Path, public: &Value, proof: &Value) -> bool {
    let cli = crate::repo_root().join("tests/js/node_modules/snarkjs/build/cli.cjs");
    assert!(
        cli.exists(),
        "snarkjs is not installed: run `npm ci --prefix tests/js` (scripts/test does)"
    );
    let public_path = dir.join("public.json");
    let proof_path = dir.join("proof.json");
    std::fs::write(&public_path, public.to_string()).expect("public.json");
    std::fs::write(&proof_path, proof.to_string()).expect("proof.json");
    let output = Command::new("node")
        .arg(&cli)
        .args(["groth16", "verify"])
        .args([vk, &public_path, &proof_path])
        .output()
        .expect("node snarkjs");
    output.status.success() && text(&output.stdout).contains("OK")
}

#[test]
fn prove_command_proves_a_finalized_devnet_state() {
    let net = Net::start("prove", 4);
    let keys = net.dir.join("keys");
    let setup = trestle(&[
        "circuit",
        "setup",
        "--capacity",
        &DEVNET_CAPACITY.to_string(),
        "--out",
        keys.to_str().expect("utf-8 path"),
    ]);
    assert!(setup.status.success(), "circuit setup failed: {}", text(&setup.stderr));
    assert!(text(&setup.stderr).contains("INSECURE"), "the dev setup must say it is insecure");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(reach(&net, 0, 3, Duration::from_secs(60)));
    let rpc = net.file.validators[0].rpc_url.clone();
    let out = net.dir.join("proof.document.json");
    let proved = prove(&rpc, "latest", &keys, &out);
    let stderr = text(&proved.stderr);
    assert!(proved.status.success(), "trestle prove failed:\n{stderr}");
    for progress in ["fetching", "a quorum", "loading the proving key", "proved in", "verified"] {
        assert!(stderr.contains(progress), "no {progress:?} progress line in:\n{stderr}");
    }
    assert!(stderr.contains("INSECURE dev key"), "the INSECURE key must be announced:\n{stderr}");

    let document: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("proof file")).expect("json");
    assert_eq!(document["capacity"], DEVNET_CAPACITY);
    assert_eq!(document["keyOrigin"], INSECURE_DEV_ORIGIN);
    assert_eq!(document["proof"].as_array().map(Vec::len), Some(8), "uint256[8] calldata");
    assert_eq!(document["publicInputs"].as_array().map(Vec::len), Some(4));
    let height = document["state"]["height"].as_u64().expect("state height");
    assert!(height >= 1, "proved height {height}");
    assert!(document["signers"].as_array().is_some_and(|s| s.len() >= 3), "a quorum of 4 signs");

    // The proven state is the one the validators finalized, and the committee the genesis one.
    let (state, committee) = runtime.block_on(async {
        let client = &net.clients[1];
        let state = eventually(Duration::from_secs(10), "the proved state", || async {
            client.light_client_state(height).await.ok().flatten()
        })
        .await;
        let committee = client.committee(0).await.expect("rpc").expect("committee");
        (state.decode().expect("canonical state"), committee)
    });
    assert_eq!(document["state"]["historyRoot"], state.history_root.to_string());
    assert_eq!(document["committee"], committee.commitment.to_string());

    // snarkjs accepts the proof with the setup's verification key; a changed input is refused.
    let (_, vk_path) = insecure_dev_key_paths(&keys, DEVNET_CAPACITY);
    let snarkjs_vk = keys.join("verification_key.INSECURE-DEV.json");
    let proof = &document["snarkjs"]["proof"];
    let public = &document["snarkjs"]["public"];
    assert!(snarkjs_verify(&net.dir, &snarkjs_vk, public, proof), "snarkjs rejects the proof");
    let mut tampered = public.clone();
    tampered[0] = Value::String("12345".into());
    assert!(!snarkjs_verify(&net.dir, &snarkjs_vk, &tampered, proof), "snarkjs accepts a lie");

    // Our verifier, from the state and commitment alone, agrees.
    let vk = read_verifying_key(&vk_path, DEVNET_CAPACITY).expect("verifying key");
    let verifier = Verifier::new(&vk.key).expect("verifier");
    let bytes = document["proofBytes"].as_str().and_then(|h| h.strip_prefix("0x")).expect("hex");
    let ark_proof = proof_from_bytes(&hex::decode(bytes).expect("hex")).expect("canonical proof");
    verifier.verify(&state, &committee.commitment, &ark_proof).expect("proof verifies");

    // Requests that cannot be proven fail with a reason and write nothing.
    let missing = net.dir.join("missing.json");
    let unfinalized = prove(&rpc, "100000000", &keys, &missing);
    assert!(!unfinalized.status.success());
    assert!(text(&unfinalized.stderr).contains("not finalized"), "{}", text(&unfinalized.stderr));
    let empty = net.dir.join("no-keys");
    std::fs::create_dir_all(&empty).expect("dir");
    let keyless = prove(&rpc, &height.to_string(), &empty, &missing);
    assert!(!keyless.status.success());
    assert!(text(&keyless.stderr).contains("no proving key"), "{}", text(&keyless.stderr));
    assert!(!missing.exists(), "a failed prove wrote a file");
}
