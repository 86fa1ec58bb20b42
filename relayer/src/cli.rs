//! The relayer's command line, shared by the `trestle-relayer` binary and `trestle relayer`.

use std::path::PathBuf;

use clap::Subcommand;
use tracing::info;

use crate::{RelayError, config::Config, log_filter, run, shutdown_signal};

/// What to do with a relayer configuration.
#[derive(Clone, Debug, Subcommand)]
pub enum Command {
    /// Run the configured roles (post, prove, deliver) until SIGINT or SIGTERM (see
    /// relayer/relayer.example.toml).
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

/// Logs to stderr (colours only on a terminal), filtered by `RUST_LOG` or `default`, with the
/// prover's span targets off (see [`crate::PROVER_SPAN_TARGETS`]). Does nothing if the process
/// already has a subscriber.
pub fn init_logging(default: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(log_filter(default))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Carries out `command`, blocking: `Run` serves until SIGINT or SIGTERM on a new
/// multi-threaded runtime.
pub fn execute(command: Command) -> Result<(), RelayError> {
    match command {
        Command::Check { config } => {
            Config::load(&config)?;
            info!(config = %config.display(), "configuration is valid");
            Ok(())
        }
        Command::Run { config } => {
            let config = Config::load(&config)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(RelayError::Runtime)?;
            runtime.block_on(run(config, shutdown_signal()))
        }
    }
}
