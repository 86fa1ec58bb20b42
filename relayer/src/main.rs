//! `trestle-relayer run --config relayer.toml`: runs the relayer's loops until SIGINT/SIGTERM.

use clap::Parser;
use trestle_relayer::cli;

/// Carry rollup blocks, proofs and messages between EVM chains and the trestle network.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: cli::Command,
}

fn main() -> anyhow::Result<()> {
    cli::init_logging("info");
    cli::execute(Cli::parse().command)?;
    Ok(())
}
