//! `trestle`: run, query and prove a trestle confirmation network.

use std::{fs, path::PathBuf};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

/// trestle: sub-second confirmations for rollups, cheap to verify everywhere.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the golden vectors that pin the Rust, Solidity and JavaScript implementations
    /// together (hashes, Merkle proofs, Poseidon, signatures).
    Vectors {
        /// Directory to write the JSON fixtures into.
        #[arg(long, default_value = "solidity/test/fixtures")]
        out: PathBuf,
        /// Only compare: exit non-zero if any file differs from what the code computes.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Vectors { out, check } => vectors(&out, check),
    }
}

fn vectors(out: &std::path::Path, check: bool) -> anyhow::Result<()> {
    let mut drifted = Vec::new();
    if !check {
        fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    }
    for fixture in trestle::vectors::all() {
        let path = out.join(fixture.name);
        if check {
            let on_disk = fs::read_to_string(&path).unwrap_or_default();
            if on_disk != fixture.contents {
                drifted.push(path.display().to_string());
            }
        } else {
            fs::write(&path, &fixture.contents)
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
    }
    if !drifted.is_empty() {
        bail!("fixtures differ from the code: {}; run `cargo run -- vectors`", drifted.join(", "));
    }
    Ok(())
}
