//! `trestle-node`: run a trestle validator, or generate its keys.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use trestle_node::service;

/// A trestle validator.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a validator from its node configuration (TOML).
    Run {
        /// The node configuration file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Generate validator keys: writes the secret key file and prints the genesis entry.
    Keygen {
        /// Where to write the key file (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Run { config } => {
            let prepared = service::prepare(&config)
                .with_context(|| format!("loading {}", config.display()))?;
            service::run(prepared)?;
        }
        Command::Keygen { out } => {
            let entry = trestle_api::keygen(&out)?;
            #[allow(clippy::print_stdout)]
            {
                println!("{}", serde_json::to_string_pretty(&entry)?);
            }
        }
    }
    Ok(())
}
