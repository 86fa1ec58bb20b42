//! The `trestle` binary itself: subcommands run end to end and their outputs are usable.

use std::process::Command;

fn trestle() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trestle"))
}

#[test]
fn vectors_check_passes_on_the_committed_fixtures_and_fails_on_drift() {
    let ok = trestle()
        .args(["vectors", "--check", "--out"])
        .arg(crate::fixtures_dir())
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));

    let dir = tempdir("vectors");
    let written = trestle().args(["vectors", "--out"]).arg(&dir).output().unwrap();
    assert!(written.status.success());
    std::fs::write(dir.join("merkle.json"), "{}\n").unwrap();
    let drift = trestle().args(["vectors", "--check", "--out"]).arg(&dir).output().unwrap();
    assert!(!drift.status.success(), "a changed fixture must be reported");
    assert!(String::from_utf8_lossy(&drift.stderr).contains("merkle.json"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn circuit_setup_writes_labelled_keys_that_load() {
    let dir = tempdir("circuit");
    let out = trestle()
        .args(["circuit", "setup", "--capacity", "2", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("INSECURE"), "the setup must say it is insecure: {stderr}");
    let (pk, vk) = trestle_circuits::setup::insecure_dev_key_paths(&dir, 2);
    let vk = trestle_circuits::setup::read_verifying_key(&vk, 2).unwrap();
    assert_eq!(
        (vk.capacity, vk.origin.as_str()),
        (2, trestle_circuits::setup::INSECURE_DEV_ORIGIN)
    );
    assert!(trestle_circuits::setup::read_proving_key(&pk, 2).is_ok());
    let verifier =
        std::fs::read_to_string(dir.join("LightClientVerifier.INSECURE-DEV.sol")).unwrap();
    assert!(verifier.contains("contract LightClientVerifier") && verifier.contains("INSECURE"));
    std::fs::remove_dir_all(dir).ok();
}

pub(crate) fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("trestle-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn follow_anchor_refuses_a_network_without_hand_offs() {
    // `devnet::init` makes a network without an L1: one committee, one endless epoch.
    let dir = tempdir("follow-endless");
    let devnet = trestle::devnet::init(&dir, 4).unwrap();
    let out = trestle()
        .args(["follow-anchor", "--rpc", "http://127.0.0.1:1", "--genesis"])
        .arg(&devnet.genesis)
        .arg("--anchor-cache")
        .arg(dir.join("anchor.json"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("one endless epoch"), "{said}");
    assert!(!dir.join("anchor.json").exists());
    std::fs::remove_dir_all(dir).ok();
}
