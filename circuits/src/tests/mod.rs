//! Tests of the light-client circuit, setup/prove/verify and the exports.
//!
//! Proving tests use capacity 4 (smaller than the devnet's, for speed) with keys made once per
//! test process.

mod exports;
mod groth16;
mod soundness;
mod zkey;

use std::{path::PathBuf, sync::OnceLock};

use crate::{
    export::fixtures::{FixtureSignedState, fixture_signed_state},
    setup::{CircuitKeys, INSECURE_DEV_SEED, insecure_dev_setup},
};

/// The INSECURE dev keys for capacity 4, made once per test process.
fn keys4() -> &'static CircuitKeys {
    static KEYS: OnceLock<CircuitKeys> = OnceLock::new();
    KEYS.get_or_init(|| insecure_dev_setup(4, INSECURE_DEV_SEED).expect("dev setup"))
}

fn signed4() -> FixtureSignedState {
    fixture_signed_state(4).expect("fixture")
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fresh empty directory under the system temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trestle-circuits-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
