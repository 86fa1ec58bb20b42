//! The relayer's command line, shared by the `trestle-relayer` binary and `trestle relayer`.

use std::path::PathBuf;

use clap::Subcommand;
use tracing::info;

use crate::{
    RelayError,
    config::Config,
    log_filter, run, shutdown_signal,
    status::client::{StatusClient, render_messages, render_status},
};

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
    /// Show a running relayer's status: per chain its post cursor, unfinalized submissions,
    /// pending and failed messages and light client height; every loop's health.
    Status {
        /// Which relayer to ask.
        #[command(flatten)]
        target: StatusTarget,
        /// Print the JSON answer as it is.
        #[arg(long)]
        json: bool,
    },
    /// List a running relayer's pending messages (oldest first), or with `--failed` those
    /// received with a failing recipient (retryable with `retry`).
    Messages {
        /// Which relayer to ask.
        #[command(flatten)]
        target: StatusTarget,
        /// The failed messages instead of the pending ones.
        #[arg(long)]
        failed: bool,
        /// Print the JSON answer as it is.
        #[arg(long)]
        json: bool,
    },
    /// Retry a failed message (`Mailbox.retry` on its destination, paid by the relayer): for a
    /// recipient fixed since. Fails if the recipient still reverts (the message stays failed).
    Retry {
        /// Which relayer to ask.
        #[command(flatten)]
        target: StatusTarget,
        /// The message hash (`messages --failed` lists them).
        hash: alloy_primitives::B256,
    },
}

/// Which running relayer to ask: its status address, or the configuration it runs with.
#[derive(Clone, Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct StatusTarget {
    /// The relayer's status address (its `metrics` setting), e.g. `http://127.0.0.1:9100`.
    #[arg(long)]
    pub url: Option<String>,
    /// The relayer's TOML configuration: its `metrics` address is asked.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

impl StatusTarget {
    /// The base URL of the relayer's status endpoints.
    pub fn base_url(&self) -> Result<String, RelayError> {
        if let Some(url) = &self.url {
            return Ok(url.clone());
        }
        let Some(path) = &self.config else {
            return Err(RelayError::NoStatusAddress("give --url or --config".into()));
        };
        let config = Config::load(path)?;
        let Some(mut addr) = config.metrics else {
            return Err(RelayError::NoStatusAddress(format!(
                "{} sets no `metrics` address, where the status is served",
                path.display()
            )));
        };
        if addr.port() == 0 {
            return Err(RelayError::NoStatusAddress(format!(
                "{} serves on a random port (metrics = \"{addr}\"): give --url",
                path.display()
            )));
        }
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        Ok(format!("http://{addr}"))
    }
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
        Command::Status { target, json } => {
            let client = StatusClient::new(&target.base_url()?);
            let status = block_on(client.status())??;
            if json { print(&to_json(&status)) } else { print(&render_status(&status)) }
        }
        Command::Messages { target, failed, json } => {
            let client = StatusClient::new(&target.base_url()?);
            let list = block_on(client.messages(failed))??;
            if json {
                print(&to_json(&list))
            } else {
                print(&render_messages(&list, crate::now_ms()))
            }
        }
        Command::Retry { target, hash } => {
            let client = StatusClient::new(&target.base_url()?);
            let answer = block_on(client.retry(hash))??;
            if answer.outcome == "delivered" || answer.outcome == "not failed" {
                let tx = answer.tx.map(|tx| format!(" in {tx}")).unwrap_or_default();
                print(&format!("{hash}: {}{tx}\n", answer.outcome))
            } else {
                Err(RelayError::RetryFailed {
                    hash,
                    outcome: answer.outcome,
                    detail: answer.detail,
                })
            }
        }
    }
}

/// Runs `future` on a small runtime of its own (the status commands make one request).
fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, RelayError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RelayError::Runtime)?;
    Ok(runtime.block_on(future))
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// Writes `text` to standard output (a command's answer; logs go to stderr).
fn print(text: &str) -> Result<(), RelayError> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).map_err(RelayError::Output)
}
