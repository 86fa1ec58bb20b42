//! The page's files: its own HTML, JavaScript and CSS, embedded in the binary, and the chart
//! library (uPlot), read at run time from `explorer/node_modules`, where `npm ci` installs it
//! from the npm registry at the version `explorer/package-lock.json` pins (the devnet and
//! `trestle explorer` run that themselves when it is missing). The library is not copied into
//! the repository, so what is served is exactly what the lockfile names.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

/// The page's own files: (name under `/assets/`, content type, content).
const EMBEDDED: [(&str, &str, &str); 7] = [
    ("style.css", CSS, include_str!("../../explorer/web/style.css")),
    ("main.js", JS, include_str!("../../explorer/web/main.js")),
    ("rpc.js", JS, include_str!("../../explorer/web/rpc.js")),
    ("live.js", JS, include_str!("../../explorer/web/live.js")),
    ("blocks.js", JS, include_str!("../../explorer/web/blocks.js")),
    ("chains.js", JS, include_str!("../../explorer/web/chains.js")),
    ("evm.js", JS, include_str!("../../explorer/web/evm.js")),
];

/// The page itself.
pub(crate) const INDEX_HTML: &str = include_str!("../../explorer/web/index.html");

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// The chart library's files: (name under `/vendor/`, content type, path under `node_modules`).
const VENDORED: [(&str, &str, &str); 2] = [
    ("uplot.js", JS, "uplot/dist/uPlot.iife.min.js"),
    ("uplot.css", CSS, "uplot/dist/uPlot.min.css"),
];

/// Why the chart library could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum AssetsError {
    /// `npm` could not be started (Node.js and npm are prerequisites).
    #[error("cannot run `npm ci` in {dir}: {source}")]
    NpmMissing {
        /// The explorer's directory.
        dir: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// `npm ci` failed.
    #[error("`npm ci` in {dir} failed ({status}): {tail}")]
    NpmFailed {
        /// The explorer's directory.
        dir: PathBuf,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// The end of its output.
        tail: String,
    },
    /// `npm ci` succeeded and the library is still not where it should be.
    #[error("{0} is missing after `npm ci`")]
    StillMissing(PathBuf),
}

/// One of the page's own files, by name.
pub(crate) fn embedded(name: &str) -> Option<(&'static str, &'static str)> {
    EMBEDDED.iter().find(|(n, _, _)| *n == name).map(|(_, kind, body)| (*kind, *body))
}

/// Where a chart-library file lives under the explorer directory `dir`, by name.
pub(crate) fn vendored(dir: &Path, name: &str) -> Option<(&'static str, PathBuf)> {
    VENDORED
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, kind, path)| (*kind, dir.join("node_modules").join(path)))
}

/// Whether every chart-library file is installed under `dir`.
pub(crate) fn installed(dir: &Path) -> bool {
    VENDORED.iter().all(|(_, _, path)| dir.join("node_modules").join(path).is_file())
}

/// Runs `npm ci` in the explorer directory `dir` if the chart library is not installed there.
pub(crate) fn ensure_installed(dir: &Path) -> Result<(), AssetsError> {
    if installed(dir) {
        return Ok(());
    }
    eprintln!("installing the explorer's chart library (npm ci in {})…", dir.display());
    let output = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| AssetsError::NpmMissing { dir: dir.to_owned(), source })?;
    if !output.status.success() {
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        // npm says what went wrong at the end.
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(10)..].join("\n");
        return Err(AssetsError::NpmFailed { dir: dir.to_owned(), status: output.status, tail });
    }
    match VENDORED
        .iter()
        .map(|(_, _, path)| dir.join("node_modules").join(path))
        .find(|p| !p.is_file())
    {
        Some(missing) => Err(AssetsError::StillMissing(missing)),
        None => Ok(()),
    }
}
