//! Tests of the light-client circuit, setup/prove/verify and the exports.
//!
//! Proving tests use capacity 4 (the devnet's) with keys made once per test process.

mod exports;
mod groth16;
mod soundness;

use std::{path::PathBuf, sync::OnceLock};

use crate::{
    export::fixtures::{FixtureSignedState, devnet_keys, fixture_signed_state},
    setup::CircuitKeys,
};

/// The INSECURE dev keys for capacity 4, made once per test process.
fn keys4() -> &'static CircuitKeys {
    static KEYS: OnceLock<CircuitKeys> = OnceLock::new();
    KEYS.get_or_init(|| devnet_keys().expect("dev setup"))
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
