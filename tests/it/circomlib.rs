//! Ecosystem cross-check: circomlibjs computes our Poseidon hashes and accepts our EdDSA-Poseidon
//! signatures under our public keys (and rejects tampered ones).
//!
//! Needs the pinned npm packages: `npm ci --prefix tests/js` (the README test command runs it).

use std::{fs, process::Command};

use crate::repo_root;

#[test]
fn circomlibjs_agrees_with_poseidon_and_eddsa() {
    let js = repo_root().join("tests/js");
    assert!(
        js.join("node_modules/circomlibjs").is_dir(),
        "circomlibjs is not installed: run `npm ci --prefix tests/js` (the README test command does)"
    );
    // Fresh vectors from the code under test, not the committed file.
    let fixture = trestle::vectors::all()
        .into_iter()
        .find(|f| f.name == "circomlib.json")
        .expect("circomlib vectors are generated");
    let dir = std::env::temp_dir().join(format!("trestle-circomlib-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("circomlib.json");
    fs::write(&path, fixture.contents).unwrap();

    let output = Command::new("node")
        .arg(js.join("crosscheck.mjs"))
        .arg(&path)
        .output()
        .expect("node runs (Node.js is a prerequisite)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    fs::remove_dir_all(&dir).ok();
    assert!(output.status.success(), "circomlibjs disagrees:\n{stdout}\n{stderr}");
    let summary = stdout.lines().rev().find(|l| l.starts_with("crosscheck:")).unwrap_or_default();
    assert!(summary.contains(" 0 failed"), "unexpected summary: {summary}");
    println!("{summary}");
}
