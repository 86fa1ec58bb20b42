//! The INSECURE dev Groth16 keys the end-to-end tests prove with, generated once per target
//! directory.

use std::{
    path::{Path, PathBuf},
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use trestle_circuits::setup::{
    DEVNET_CAPACITY, INSECURE_DEV_SEED, insecure_dev_key_paths, read_proving_key,
    write_insecure_dev_keys,
};

/// The INSECURE dev keys for [`DEVNET_CAPACITY`], generated once into cargo's per-target
/// scratch directory and reused by later runs.
///
/// Tests in this binary run on several threads and other test binaries may run at the same
/// time, so: one thread of this process generates at a time (the lock), each generation writes
/// a directory of its own (pid and a counter: two threads once shared one and the second found
/// its files renamed away), and a finished directory is only ever replaced when it is invalid.
pub(crate) fn dev_keys_dir() -> PathBuf {
    static GENERATING: Mutex<()> = Mutex::new(());
    static ATTEMPT: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("relayer-insecure-dev-keys");
    let (pk, _) = insecure_dev_key_paths(&dir, DEVNET_CAPACITY);
    let valid = || read_proving_key(&pk, DEVNET_CAPACITY).is_ok();
    if valid() {
        return dir;
    }
    let _one_at_a_time = GENERATING.lock().unwrap_or_else(PoisonError::into_inner);
    if valid() {
        return dir;
    }
    let attempt = ATTEMPT.fetch_add(1, Ordering::Relaxed);
    let fresh = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("relayer-insecure-dev-keys.{}.{attempt}", std::process::id()));
    let started = Instant::now();
    write_insecure_dev_keys(&fresh, DEVNET_CAPACITY, INSECURE_DEV_SEED).expect("dev keys");
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "generated the INSECURE dev keys");
    if valid() {
        // Another process finished first; its keys are the same (same seed).
        let _ = std::fs::remove_dir_all(&fresh);
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    if std::fs::rename(&fresh, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&fresh);
    }
    assert!(valid(), "no valid dev keys in {} after generating them", dir.display());
    dir
}
