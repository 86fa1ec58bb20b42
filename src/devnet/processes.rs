//! The devnet's child processes: starting them with their output logged, stopping them
//! cleanly, and the signals that stop the devnet.

use std::{
    fs,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context as _;

use super::files::DevnetValidator;

/// Starts validator `validator` as a child process running `exe node run --config …`, its
/// output appended to its log file.
pub fn spawn_validator(exe: &Path, validator: &DevnetValidator) -> anyhow::Result<Child> {
    spawn_logged(exe, &["node", "run", "--config"], &validator.config, &validator.log)
        .with_context(|| format!("starting validator {}", validator.index))
}

/// Starts `exe ARGS… PATH` with no input and its output (both streams) appended to `log`: how
/// the devnet starts its validators and relayer (and tests and benchmarks start a devnet).
pub fn spawn_logged(exe: &Path, args: &[&str], path: &Path, log: &Path) -> anyhow::Result<Child> {
    let file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening {}", log.display()))?;
    let stderr = file.try_clone()?;
    Ok(Command::new(exe)
        .args(args)
        .arg(path)
        // A log file gets plain text, not terminal colour codes (tracing-subscriber's NO_COLOR).
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(stderr)
        .spawn()?)
}

/// Asks a process to stop cleanly (SIGTERM).
pub fn terminate(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Waits up to `timeout` for `child` to exit; kills it after that.
pub fn reap(child: &mut Child, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Child processes of a running devnet. Dropping it stops them all (SIGTERM, then SIGKILL after
/// a grace period), so an error half-way through start-up leaves nothing running.
#[derive(Default)]
pub(crate) struct Processes {
    pub(crate) validators: Vec<Child>,
    pub(crate) anvils: Vec<Child>,
    /// The L1 anvil (`--l1` devnets).
    pub(crate) l1: Option<Child>,
    pub(crate) relayer: Option<Child>,
}

impl Processes {
    pub(crate) fn stop(&mut self) {
        // The relayer first: it would only log failures while the others go away.
        if let Some(mut relayer) = self.relayer.take() {
            terminate(relayer.id());
            reap(&mut relayer, Duration::from_secs(15));
        }
        for child in self.validators.iter().chain(&self.anvils).chain(&self.l1) {
            terminate(child.id());
        }
        for child in
            self.validators.iter_mut().chain(self.anvils.iter_mut()).chain(self.l1.iter_mut())
        {
            reap(child, Duration::from_secs(15));
        }
        self.validators.clear();
        self.anvils.clear();
        self.l1 = None;
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        self.stop();
    }
}

/// SIGINT and SIGTERM, registered before anything is started so that a signal during start-up
/// (deploying takes seconds) is remembered and handled, not fatal to this process alone.
pub(crate) struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    pub(crate) fn register() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
            terminate: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
        })
    }

    pub(crate) async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
