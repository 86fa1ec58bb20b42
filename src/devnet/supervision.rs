//! Supervision of a running devnet: the live status line, restarting the relayer when it exits,
//! and the demo message.
//!
//! On a terminal the status line rewrites itself twice a second; anywhere else (a file, a pipe,
//! a service manager's journal) it is printed as its own line every [`LOG_INTERVAL`], so that a
//! log stays a log.

use std::{
    collections::VecDeque,
    io::IsTerminal as _,
    path::Path,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::bail;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use trestle_api::TrestleApiClient as _;

use super::{
    demo::demo,
    files::DevnetFile,
    processes::{Processes, Signals},
    relayer,
};

/// Prints a live status line until Ctrl-C / SIGTERM, restarts the relayer whenever it exits and
/// runs the demo message; returns an error if every validator died.
pub(crate) async fn monitor(
    dir: &Path,
    exe: &Path,
    devnet: &mut DevnetFile,
    processes: &mut Processes,
    signals: &mut Signals,
) -> anyhow::Result<()> {
    let mut ticker = tokio::time::interval(Duration::from_millis(500));
    let mut status = Status::new(devnet);
    let mut reported_anvils = false;
    let demo = demo(devnet.clone());
    let mut demo = std::pin::pin!(demo);
    let mut demo_done = devnet.relayer.is_none();
    let mut relayer_restart = RestartPolicy::default();
    loop {
        tokio::select! {
            _ = signals.recv() => return Ok(()),
            record = &mut demo, if !demo_done => {
                demo_done = true;
                match record {
                    Ok(record) => devnet.demo = Some(record),
                    Err(e) => eprintln!(
                        "\ndemo message: {e:#} (see {})",
                        devnet.relayer.as_ref().map(|r| r.log.display().to_string()).unwrap_or_default()
                    ),
                }
                devnet.save(dir)?;
            }
            _ = ticker.tick() => {
                let exited: Vec<usize> = processes
                    .validators
                    .iter_mut()
                    .enumerate()
                    .filter_map(|(i, c)| matches!(c.try_wait(), Ok(Some(_))).then_some(i))
                    .collect();
                if exited.len() == processes.validators.len() {
                    bail!("every validator exited; see the logs under {}", dir.display());
                }
                let anvil_exited = processes.anvils.iter_mut().any(|c| matches!(c.try_wait(), Ok(Some(_))));
                if anvil_exited && !reported_anvils {
                    reported_anvils = true;
                    eprintln!("\nan anvil exited; see the logs under {}", dir.join("chains").display());
                }
                if supervise_relayer(exe, devnet, processes, &mut relayer_restart)? {
                    devnet.save(dir)?;
                }
                status.refresh(&exited).await;
            }
        }
    }
}

/// When the devnet may start its relayer again after it exited: at once the first time, then
/// after a wait that doubles (up to a minute) while it keeps exiting within a minute of starting.
#[derive(Debug, Default)]
struct RestartPolicy {
    exited_at: Option<Instant>,
    started_at: Option<Instant>,
    wait: Duration,
}

impl RestartPolicy {
    fn exited(&mut self) {
        let quick = self.started_at.is_some_and(|t| t.elapsed() < Duration::from_secs(60));
        self.wait = if quick {
            (self.wait * 2).clamp(Duration::from_secs(1), Duration::from_secs(60))
        } else {
            Duration::ZERO
        };
        self.exited_at = Some(Instant::now());
    }

    fn due(&self) -> bool {
        self.exited_at.is_none_or(|t| t.elapsed() >= self.wait)
    }

    fn started(&mut self) {
        self.exited_at = None;
        self.started_at = Some(Instant::now());
    }
}

/// Restarts the relayer if it exited (its store keeps its progress: nothing is lost or done
/// twice). Returns whether `devnet` changed.
fn supervise_relayer(
    exe: &Path,
    devnet: &mut DevnetFile,
    processes: &mut Processes,
    policy: &mut RestartPolicy,
) -> anyhow::Result<bool> {
    let Some(described) = devnet.relayer.as_mut() else { return Ok(false) };
    let mut changed = false;
    if let Some(child) = processes.relayer.as_mut()
        && let Ok(Some(status)) = child.try_wait()
    {
        eprintln!("\nthe relayer (pid {}) exited with {status}; restarting it", described.pid);
        processes.relayer = None;
        described.pid = 0;
        policy.exited();
        changed = true;
    }
    if processes.relayer.is_none() && policy.due() {
        let child = relayer::spawn(exe, described)?;
        described.pid = child.id();
        described.restarts += 1;
        processes.relayer = Some(child);
        policy.started();
        changed = true;
    }
    Ok(changed)
}

/// The live status line: every validator's finalized height and the finality latency of the
/// newest block as observed here (time since its proposer stamped it; includes this poll's delay).
/// How often the status is printed when stderr is not a terminal.
pub(crate) const LOG_INTERVAL: Duration = Duration::from_secs(5);

struct Status {
    clients: Vec<Option<HttpClient>>,
    last_height: u64,
    latencies: VecDeque<u64>,
    /// Whether stderr is a terminal (rewrite one line) or not (one line per interval).
    terminal: bool,
    /// When the last line was printed outside a terminal.
    last_logged: Option<Instant>,
}

impl Status {
    fn new(devnet: &DevnetFile) -> Self {
        let clients = devnet
            .validators
            .iter()
            .map(|v| {
                HttpClientBuilder::default()
                    .request_timeout(Duration::from_secs(2))
                    .build(&v.rpc_url)
                    .ok()
            })
            .collect();
        Self {
            clients,
            last_height: 0,
            latencies: VecDeque::new(),
            terminal: std::io::stderr().is_terminal(),
            last_logged: None,
        }
    }

    /// Prints `line`: over the previous one on a terminal, else as a line of its own at most
    /// once per [`LOG_INTERVAL`].
    fn show(&mut self, line: &str) {
        if self.terminal {
            // Padded, so that a shorter line covers a longer one.
            eprint!("\r{line:<72}");
        } else if self.last_logged.is_none_or(|at| at.elapsed() >= LOG_INTERVAL) {
            self.last_logged = Some(Instant::now());
            eprintln!("{line}");
        }
    }

    async fn refresh(&mut self, exited: &[usize]) {
        let mut heights = Vec::with_capacity(self.clients.len());
        for (i, client) in self.clients.iter().enumerate() {
            let height = match client {
                Some(client) if !exited.contains(&i) => client.block_height().await.ok(),
                _ => None,
            };
            heights.push(height);
        }
        let Some(tip) = heights.iter().flatten().copied().max() else {
            self.show("waiting for validators to answer…");
            return;
        };
        if tip > self.last_height {
            let now_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .unwrap_or(0);
            let source =
                heights.iter().position(|h| *h == Some(tip)).and_then(|i| self.clients[i].as_ref());
            let header = match source {
                Some(client) => client.header(tip).await.ok().flatten(),
                None => None,
            };
            // The first observation after start-up may be an old block: skip it.
            if let Some(header) = header.filter(|_| self.last_height > 0) {
                self.latencies.push_back(now_ms.saturating_sub(header.header.timestamp_ms));
                if self.latencies.len() > 50 {
                    self.latencies.pop_front();
                }
            }
            self.last_height = tip;
        }
        let mut sorted: Vec<u64> = self.latencies.iter().copied().collect();
        sorted.sort_unstable();
        let p50 = sorted.get(sorted.len() / 2).map_or("-".to_owned(), |ms| format!("{ms} ms"));
        let per_node: Vec<String> =
            heights.iter().map(|h| h.map_or("down".to_owned(), |h| h.to_string())).collect();
        let line = format!(
            "height {tip}  [{}]  finality ≈ {p50} (observed p50 of last {})",
            per_node.join(" "),
            sorted.len()
        );
        self.show(&line);
    }
}
