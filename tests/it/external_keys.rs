//! `trestle devnet --keys DIR`: light-client keys from outside the devnet. The relayer proves
//! with them and every LightClient verifies with a verifier generated from their verifying key,
//! so the demo message is delivered only if both sides use the operator's key; INSECURE dev
//! keys are refused there. Its output goes to a file, where the status comes as whole lines
//! (no line rewritten with `\r`).
//!
//! The key pair here is a real Groth16 key for the devnet's capacity from a seed that is not
//! the INSECURE dev seed, labelled as what it is: a ceremony at capacity 8 needs a power-16
//! powers of tau (about twenty minutes of snarkjs on this box). `tests/ceremony` covers the
//! ceremony and the import at capacity 2; this test covers what the devnet does with the result.

use std::{
    ffi::OsStr,
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

use alloy_primitives::keccak256;
use jsonrpsee::{core::client::ClientT as _, http_client::HttpClientBuilder, rpc_params};
use trestle_circuits::setup::{
    DEVNET_CAPACITY, INSECURE_DEV_ORIGIN, ceremony_key_paths, insecure_dev_setup,
    write_proving_key, write_verifying_key,
};

use crate::devnet::{DevnetProcess, demo_delivered, eventually, exe};

const OTHER_SEED: [u8; 32] = *b"trestle test key: not dev seed!!";

fn write_keys(dir: &Path, origin: &str) {
    let keys = insecure_dev_setup(DEVNET_CAPACITY, OTHER_SEED).expect("setup");
    std::fs::create_dir_all(dir).expect("keys dir");
    let (pk, vk) = ceremony_key_paths(dir, DEVNET_CAPACITY);
    write_proving_key(&pk, &keys.proving_key, DEVNET_CAPACITY, origin).expect("write pk");
    write_verifying_key(&vk, &keys.verifying_key, DEVNET_CAPACITY, origin).expect("write vk");
}

#[test]
fn devnet_relays_with_keys_given_by_the_operator() {
    let dir = crate::cli::tempdir("devnet-keys");
    let keys = dir.join("operator-keys");
    write_keys(&keys, "TEST-KEY-FROM-ANOTHER-SEED");

    // INSECURE dev keys under the ceremony names are refused before anything starts.
    let insecure = dir.join("insecure-keys");
    write_keys(&insecure, INSECURE_DEV_ORIGIN);
    let refused = Command::new(exe())
        .args(["devnet", "--validators", "4", "--no-l1", "--keys"])
        .arg(&insecure)
        .arg("--data-dir")
        .arg(dir.join("refused"))
        .output()
        .expect("trestle devnet");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("INSECURE dev key"), "{stderr}");

    let log = dir.join("devnet.stderr");
    let net = dir.join("net");
    let child = DevnetProcess::start(
        ["--validators", "4", "--no-l1", "--keys"].map(OsStr::new).into_iter().chain([
            keys.as_os_str(),
            OsStr::new("--data-dir"),
            net.as_os_str(),
        ]),
        Stdio::from(std::fs::File::create(&log).expect("log file")),
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let file = runtime.block_on(demo_delivered(&net));
    // The relayer was told to prove with the operator's keys.
    let relayer = file.relayer.as_ref().expect("relayer");
    let config = std::fs::read_to_string(&relayer.config).expect("relayer config");
    assert!(config.contains("operator-keys"), "relayer keys_dir is not --keys:\n{config}");
    // Every light client verifies with a verifier that is not the INSECURE dev one.
    runtime.block_on(async {
        for chain in &file.chains {
            let client = HttpClientBuilder::default().build(&chain.rpc_url).expect("client");
            let call = serde_json::json!({
                "to": chain.contracts.verifier,
                "data": format!("0x{}", hex::encode(&keccak256("INSECURE_DEV_SETUP()")[..4])),
            });
            let answer: String =
                client.request("eth_call", rpc_params![call, "latest"]).await.expect("eth_call");
            assert_eq!(
                u64::from_str_radix(answer.trim_start_matches("0x"), 16).ok(),
                Some(0),
                "chain {}: the verifier says it is the INSECURE dev one",
                chain.chain_id
            );
        }
    });
    // Outside a terminal the status is logged as lines of their own.
    let status_line =
        |text: &str| text.lines().any(|l| l.starts_with("height ") && l.contains("finality"));
    runtime.block_on(eventually(Duration::from_secs(30), "a status line in the log", || async {
        std::fs::read_to_string(&log).ok().filter(|text| status_line(text))
    }));
    let status = child.stop();
    assert!(status.success(), "devnet exited with {status}");
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(!text.contains('\r'), "a line was rewritten in a log file:\n{text}");
    std::fs::remove_dir_all(&dir).ok();
}
