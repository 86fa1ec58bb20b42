//! `trestle-relayer run --config relayer.toml`: runs the relayer's loops until SIGINT/SIGTERM.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use trestle_relayer::config::Config;

/// Carry rollup blocks, proofs and messages between EVM chains and the trestle network.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the configured roles (post, prove, deliver) until SIGINT or SIGTERM.
    Run {
        /// The relayer's TOML configuration.
        #[arg(long)]
        config: PathBuf,
    },
    /// Check a configuration (files, keys, addresses) and exit.
    Check {
        /// The relayer's TOML configuration.
        #[arg(long)]
        config: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    // Logs go to stderr, like every long-running tool's diagnostics.
    tracing_subscriber::fmt()
        .with_env_filter(trestle_relayer::log_filter("info"))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match Cli::parse().command {
        Command::Check { config } => {
            Config::load(&config).with_context(|| format!("{}", config.display()))?;
            tracing::info!(config = %config.display(), "configuration is valid");
            Ok(())
        }
        Command::Run { config } => {
            let config = Config::load(&config).with_context(|| format!("{}", config.display()))?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the tokio runtime")?;
            runtime.block_on(trestle_relayer::run(config, trestle_relayer::shutdown_signal()))?;
            Ok(())
        }
    }
}
