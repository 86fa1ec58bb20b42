//! Cross-crate and cross-language tests of the root package.

#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

mod accepting_validator;
mod circomlib;
mod cli;
mod confirm;
mod devnet;
mod explorer;
mod external_keys;
mod genesis;
mod join;
mod layout;
mod netns;
mod prove;
mod relayer;
mod stake_table;
mod vectors;

use std::path::{Path, PathBuf};

/// The repository root (this package's manifest directory).
pub(crate) fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where the golden vectors live.
pub(crate) fn fixtures_dir() -> PathBuf {
    repo_root().join("solidity/test/fixtures")
}
