//! `trestle confirm`: is a rollup's transaction (or block) confirmed by the trestle network?
//!
//! A bridge solver names a transaction by hash, or a rollup block by number, with or without
//! its hash (the relayer's post role records every rollup block as a `BlockRecord` transaction
//! in the chain's *block namespace*, where validators allow one record per number; the node
//! finds it by index). For a block the answer is "confirmed", "not confirmed yet" or "conflicts
//! with the confirmed H'" — the latter proven too: the confirmed record's evidence is verified
//! like any other. The answer is a verdict plus everything needed to check it again:
//!
//! * the evidence is gathered over the node's RPC by `trestle-api`'s
//!   [`fetch_evidence`](trestle_api::client::fetch_evidence);
//! * it is verified natively by the kernel's
//!   [`verify_confirmation`](trestle_light_client::verify_confirmation) (transaction ∈ namespace
//!   ∈ header ∈ signed history, > 2/3 of the anchor's committee);
//! * this module parses the arguments, loads the trust anchor, and prints a human or JSON
//!   [`Report`].
//!
//! Everything is verified from the canonical `encoded` bytes of the responses, never from their
//! readable fields, which are a convenience a lying node could fill with anything.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use alloy_primitives::B256;
use serde::{Deserialize, Serialize};
use trestle_api::{
    FileError, Genesis, HeaderResponse, TrestleApiClient as _,
    client::{ConnectError, FetchError, FetchOptions, Fetched, Found, connect, fetch_evidence},
    records::{RecordFields, RecordNamespaceResponse},
};
use trestle_light_client::{
    Anchor, Evidence, Namespace, Subject, handoff::follow_handoffs, verify_confirmation,
};

/// Exit status of `trestle confirm` when the subject is confirmed under a verified anchor.
pub const EXIT_CONFIRMED: i32 = 0;
/// Exit status when the subject is not confirmed (not found, or its proof does not verify).
pub const EXIT_NOT_CONFIRMED: i32 = 1;
/// Exit status for usage errors (also clap's) and failures to get an answer at all (the node is
/// unreachable, the genesis file unreadable, no state with a quorum appeared in time).
pub const EXIT_ERROR: i32 = 2;
/// Exit status when everything verifies, but against a committee the queried node itself
/// reported (no genesis file): confirmed only if that node is honest about the committee.
/// `--allow-unanchored` turns this into [`EXIT_CONFIRMED`].
pub const EXIT_UNANCHORED: i32 = 3;

/// The genesis file used as trust anchor when `--genesis` is not given and it exists: the one
/// `trestle devnet` writes with its default data directory.
pub const DEFAULT_GENESIS: &str = ".devnet/genesis.json";

/// How long one request to the node may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the committee that must have signed comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "source")]
pub enum AnchorSource {
    /// A genesis file the user trusts.
    Genesis {
        /// The file.
        path: PathBuf,
    },
    /// The queried node's own `trestle_committee` answer: nothing independent vouches for it.
    Rpc {
        /// The node's URL.
        url: String,
    },
}

/// The genesis committee of the genesis file at `path`, as a trust anchor.
pub fn anchor_from_genesis(path: &Path) -> Result<Anchor, FileError> {
    let (genesis, resolved) = Genesis::load(path)?;
    Ok(Anchor {
        chain_id: resolved.chain_id,
        epoch: resolved.epoch,
        committee: resolved.committee,
        max_payload: genesis.limits.max_payload,
        epoch_length: resolved.epoch_length,
    })
}

/// `trestle confirm`'s arguments.
#[derive(Clone, Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("subject").required(true).args(["block", "tx"])))]
pub struct ConfirmArgs {
    /// A validator's JSON-RPC URL.
    #[arg(long)]
    pub rpc: String,
    /// The namespace: the rollup's block namespace for --block, any namespace for --tx.
    #[arg(long)]
    pub namespace: u64,
    /// Rollup block number: its record in the block namespace, found by the node's index.
    #[arg(long)]
    pub block: Option<u64>,
    /// Rollup block hash (0x + 32 bytes), with --block: confirmed only if the record of that
    /// number has this hash (without it, whichever record is confirmed is proven and shown).
    #[arg(long, requires = "block")]
    pub hash: Option<B256>,
    /// Transaction hash (0x + 32 bytes).
    #[arg(long, conflicts_with_all = ["block", "hash"])]
    pub tx: Option<B256>,
    /// The genesis file whose committee is trusted (default: .devnet/genesis.json when it
    /// exists; otherwise the node's own committee, reported as an unverified anchor).
    #[arg(long)]
    pub genesis: Option<PathBuf>,
    /// Exit 0 (not 3) when everything verifies against the node's own committee.
    #[arg(long)]
    pub allow_unanchored: bool,
    /// Seconds to wait for a light-client state with a quorum of signatures.
    #[arg(long, default_value_t = 10)]
    pub quorum_wait: u64,
    /// Print the verdict and the proof as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Where to keep the anchor the hand-offs reached (tried first next time; written after
    /// each confirmation under the genesis file).
    #[arg(long)]
    pub anchor_cache: Option<PathBuf>,
}

/// What the arguments ask about (clap's groups make exactly one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Query {
    /// A subject the kernel verifies as is.
    Subject(Subject),
    /// A rollup block by number: whichever record is confirmed.
    Number(u64),
}

impl ConfirmArgs {
    fn query(&self) -> Option<Query> {
        match (self.tx, self.block, self.hash) {
            (Some(hash), None, None) => Some(Query::Subject(Subject::Transaction { hash })),
            (None, Some(number), Some(hash)) => {
                Some(Query::Subject(Subject::Block { number, hash }))
            }
            (None, Some(number), None) => Some(Query::Number(number)),
            _ => None,
        }
    }
}

/// A confirmed record of the block's number with another hash than the one asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConflictReport {
    /// The hash of the block confirmed for that number.
    pub confirmed_hash: B256,
    /// Height of the trestle block that confirmed it.
    pub height: u64,
    /// Whether its evidence verified under the same anchor (otherwise only the node says so).
    pub verified: bool,
}

/// The anchor's description in a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnchorReport {
    /// Where the committee came from.
    #[serde(flatten)]
    pub source: AnchorSource,
    /// Whether anything other than the queried node vouches for it.
    pub verified: bool,
    /// The network.
    pub chain_id: u64,
    /// The epoch.
    pub epoch: u64,
    /// The committee's commitment.
    pub committee: B256,
    /// Number of members.
    pub members: usize,
}

impl AnchorReport {
    /// Describes `anchor`, which came from `source`.
    pub fn new(anchor: &Anchor, source: AnchorSource) -> Self {
        Self {
            verified: matches!(source, AnchorSource::Genesis { .. }),
            source,
            chain_id: anchor.chain_id.get(),
            epoch: anchor.epoch.get(),
            committee: anchor.committee.commitment_bytes(),
            members: anchor.committee.slots().len(),
        }
    }
}

/// `trestle confirm --json`'s output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Whether the subject is confirmed (under `anchor`; see its `verified`).
    pub confirmed: bool,
    /// Why not, when not confirmed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// The namespace asked about.
    pub namespace: u64,
    /// The transaction hash asked about, or found for the block record.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tx_hash: Option<B256>,
    /// The block asked about (block subjects).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub block: Option<BlockQuery>,
    /// The block record found (block subjects).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub block_record: Option<RecordFields>,
    /// Height of the trestle block containing the transaction.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub height: Option<u64>,
    /// Its header.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub header: Option<HeaderResponse>,
    /// Height of the signed light-client state the proof goes up to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub state_height: Option<u64>,
    /// The proof (canonical encodings).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub proof: Option<Evidence>,
    /// The trust anchor.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub anchor: Option<AnchorReport>,
    /// Weight of the verified signatures / of the committee.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signed_weight: Option<String>,
    /// What the node's finalized chain holds of the block namespace (a block not confirmed).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub records: Option<RecordNamespaceResponse>,
    /// Another record confirmed for the block's number.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub conflict: Option<ConflictReport>,
    /// Time of the native verification ([`verify_confirmation`]), in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub verify_ms: Option<f64>,
}

/// The block a `--block` query names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockQuery {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
}

impl Report {
    fn new(namespace: Namespace, subject: &Subject) -> Self {
        let (tx_hash, block) = match *subject {
            Subject::Transaction { hash } => (Some(hash), None),
            Subject::Block { number, hash } => (None, Some(BlockQuery { number, hash })),
        };
        Self {
            confirmed: false,
            reason: None,
            namespace: namespace.get(),
            tx_hash,
            block,
            block_record: None,
            height: None,
            header: None,
            state_height: None,
            proof: None,
            anchor: None,
            signed_weight: None,
            records: None,
            conflict: None,
            verify_ms: None,
        }
    }

    fn subject_text(&self) -> String {
        match (&self.block, &self.tx_hash) {
            (Some(block), _) => format!("block {} {}", block.number, block.hash),
            (None, Some(hash)) => format!("transaction {hash}"),
            (None, None) => "subject".to_owned(),
        }
    }

    /// The report as people read it.
    pub fn human(&self) -> String {
        let subject = self.subject_text();
        let mut out = String::new();
        if self.confirmed {
            out += &format!(
                "CONFIRMED: {subject} in namespace {} at trestle height {}\n",
                self.namespace,
                self.height.unwrap_or_default()
            );
            if let Some(tx_hash) = self.tx_hash {
                out += &format!("  transaction {tx_hash}\n");
            }
            if let Some(header) = &self.header {
                out += &format!("  header      {}\n", header.hash);
            }
            out += &format!(
                "  proof       transaction ∈ namespace ∈ payloadRoot; header ∈ history of the \
                 state at height {}; signed by {} of the committee's weight\n",
                self.state_height.unwrap_or_default(),
                self.signed_weight.as_deref().unwrap_or("?")
            );
            if let Some(ms) = self.verify_ms {
                out += &format!("  verified natively in {ms:.2} ms\n");
            }
        } else {
            out += &format!(
                "NOT CONFIRMED: {subject} in namespace {}: {}\n",
                self.namespace,
                self.reason.as_deref().unwrap_or("unknown reason")
            );
            if let Some(records) = &self.records {
                out += &match records.confirmed {
                    Some(range) => format!(
                        "  the network confirmed blocks {}..={} of chain {} so far\n",
                        range.first, range.last, records.chain_id
                    ),
                    None => format!(
                        "  the network has confirmed no block of chain {} yet\n",
                        records.chain_id
                    ),
                };
            }
        }
        if let Some(anchor) = &self.anchor {
            let source = match &anchor.source {
                AnchorSource::Genesis { path } => format!("genesis {}", path.display()),
                AnchorSource::Rpc { url } => format!(
                    "UNVERIFIED: the committee reported by {url} itself (pass --genesis to anchor it)"
                ),
            };
            out += &format!(
                "  anchor      chain {} epoch {}, committee {} ({} members) from {source}\n",
                anchor.chain_id, anchor.epoch, anchor.committee, anchor.members
            );
        }
        out
    }
}

/// Why `trestle confirm` could not give a verdict.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The arguments do not name one subject.
    #[error("give either --tx HASH or --block N [--hash H]")]
    Usage,
    /// The trust anchor could not be loaded.
    #[error("genesis: {0}")]
    Anchor(#[from] FileError),
    /// The RPC client could not be built (bad URL).
    #[error("--rpc {0}")]
    Client(#[from] ConnectError),
    /// The evidence could not be fetched.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The async runtime could not start.
    #[error("starting the runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// Runs `trestle confirm`: the report and its exit status ([`EXIT_CONFIRMED`],
/// [`EXIT_NOT_CONFIRMED`], [`EXIT_UNANCHORED`]).
///
/// With `--anchor-cache`, the anchor a previous run reached (through the hand-offs from the
/// genesis anchor) is tried first, so a check on a long chain verifies only the epochs since
/// (older transactions too: a state of the cached epoch covers every earlier header); anything
/// it cannot confirm (a stale or foreign cache) is tried again from the genesis anchor. Each
/// confirmation moves the cache on to the epoch its hand-offs reached.
pub fn run(args: &ConfirmArgs) -> Result<(Report, i32), CommandError> {
    let subject = match args.query().ok_or(CommandError::Usage)? {
        Query::Subject(subject) => subject,
        Query::Number(number) => match confirmed_hash(args, number)? {
            Some(hash) => Subject::Block { number, hash },
            None => return not_yet(args, number),
        },
    };
    let genesis = args.genesis.clone().or_else(|| {
        let default = PathBuf::from(DEFAULT_GENESIS);
        default.exists().then_some(default)
    });
    let anchor = genesis.as_deref().map(anchor_from_genesis).transpose()?;
    let cache = args.anchor_cache.as_deref();
    let cached = match (cache, &anchor) {
        (Some(path), Some(genesis)) => crate::anchor_cache::load(path, genesis),
        _ => None,
    };
    if let Some(cached) = cached {
        let attempt = confirm_under(args, &subject, Some(&cached), genesis.clone());
        if let Ok((report, EXIT_CONFIRMED)) = attempt {
            // The cached anchor was verified from the genesis anchor, so the epochs its
            // hand-offs reached are too.
            if let (Some(path), Some(genesis)) = (cache, &anchor) {
                advance_cache(path, genesis, &cached, &report);
            }
            return Ok((report, EXIT_CONFIRMED));
        }
    }
    let (report, code) = confirm_under(args, &subject, anchor.as_ref(), genesis)?;
    if let (Some(path), Some(genesis), EXIT_CONFIRMED) = (cache, &anchor, code) {
        advance_cache(path, genesis, genesis, &report);
    }
    Ok((report, code))
}

/// The hash of the record the node confirmed for block `number` (what `--block` without
/// `--hash` then proves).
fn confirmed_hash(args: &ConfirmArgs, number: u64) -> Result<Option<B256>, CommandError> {
    let client = connect(&args.rpc, REQUEST_TIMEOUT)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let found = runtime
        .block_on(client.block_record(args.namespace, number, None))
        .map_err(FetchError::from)?;
    Ok(found.map(|found| found.record.hash))
}

/// Why block `number` has no confirmed record: not yet, or never (it precedes the namespace's
/// first record, which genesis declares, and records only extend forward).
fn unrecorded(number: u64, records: Option<&RecordNamespaceResponse>) -> String {
    match records {
        Some(records) if number < records.first_record => format!(
            "never confirmed: the network's records of this rollup start at block {}",
            records.first_record
        ),
        _ => format!("not confirmed yet: the network has no record of block {number}"),
    }
}

/// The report on a block number the node has no record of.
fn not_yet(args: &ConfirmArgs, number: u64) -> Result<(Report, i32), CommandError> {
    let client = connect(&args.rpc, REQUEST_TIMEOUT)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let records =
        runtime.block_on(client.record_namespace(args.namespace)).map_err(FetchError::from)?;
    let mut report =
        Report::new(Namespace(args.namespace), &Subject::Block { number, hash: B256::ZERO });
    report.block = None;
    report.reason = Some(unrecorded(number, Some(&records)));
    report.records = Some(records);
    Ok((report, EXIT_NOT_CONFIRMED))
}

/// Records in the cache at `path` the anchor that `report`'s hand-offs reach from `from` (the
/// genesis anchor or one verified from it); a failure to write is reported, not fatal.
fn advance_cache(path: &Path, genesis: &Anchor, from: &Anchor, report: &Report) {
    let Some(proof) = &report.proof else { return };
    // `store` keeps the cache when `reached` is no later than what it holds.
    if let Ok(reached) = follow_handoffs(from, &proof.handoffs)
        && let Err(error) = crate::anchor_cache::store(path, genesis, &reached)
    {
        eprintln!("trestle confirm: the anchor cache was not written: {error}");
    }
}

/// One confirmation attempt under `anchor` (the genesis anchor, one it handed over to, or
/// none: the node's own committee).
fn confirm_under(
    args: &ConfirmArgs,
    subject: &Subject,
    anchor: Option<&Anchor>,
    genesis: Option<PathBuf>,
) -> Result<(Report, i32), CommandError> {
    let subject = *subject;
    let namespace = Namespace(args.namespace);
    let options = FetchOptions { quorum_wait: Duration::from_secs(args.quorum_wait) };
    let client = connect(&args.rpc, REQUEST_TIMEOUT)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let fetched =
        runtime.block_on(fetch_evidence(&client, namespace, &subject, anchor, &options))?;

    let mut report = Report::new(namespace, &subject);
    let (evidence, anchor, source, header) = match fetched {
        Fetched::NotFound { records } => {
            report.reason = Some(match subject {
                Subject::Transaction { .. } => {
                    "the node knows no finalized transaction with this hash".to_owned()
                }
                Subject::Block { number, .. } => unrecorded(number, records.as_ref()),
            });
            report.records = records;
            report.anchor = match (&anchor, genesis) {
                (Some(anchor), Some(path)) => {
                    Some(AnchorReport::new(anchor, AnchorSource::Genesis { path }))
                }
                _ => None,
            };
            return Ok((report, EXIT_NOT_CONFIRMED));
        }
        Fetched::Conflict { confirmed, height } => {
            // Prove the other record like any subject: only then is the conflict a fact.
            let other = Subject::Block { number: confirmed.number, hash: confirmed.hash };
            let verified = matches!(
                confirm_under(args, &other, anchor, genesis.clone()),
                Ok((_, EXIT_CONFIRMED | EXIT_UNANCHORED))
            );
            report.reason = Some(format!(
                "conflicts with the confirmed {} (trestle height {height}{})",
                confirmed.hash,
                if verified { ", proven" } else { "; the node's proof of it does not verify" }
            ));
            report.conflict =
                Some(ConflictReport { confirmed_hash: confirmed.hash, height, verified });
            report.anchor = match (&anchor, genesis) {
                (Some(anchor), Some(path)) => {
                    Some(AnchorReport::new(anchor, AnchorSource::Genesis { path }))
                }
                _ => None,
            };
            return Ok((report, EXIT_NOT_CONFIRMED));
        }
        Fetched::Found(found) => {
            let Found { evidence, anchor, anchor_from_node, header } = *found;
            let source = match genesis {
                Some(path) if !anchor_from_node => AnchorSource::Genesis { path },
                _ => AnchorSource::Rpc { url: args.rpc.clone() },
            };
            (evidence, anchor, source, header)
        }
    };
    let verified_anchor = matches!(source, AnchorSource::Genesis { .. });
    report.anchor = Some(AnchorReport::new(&anchor, source));
    report.height = Some(header.header.height.get());
    report.header = Some(header);

    let started = Instant::now();
    let outcome = verify_confirmation(&evidence, namespace, &subject, &anchor);
    report.verify_ms = Some(started.elapsed().as_secs_f64() * 1_000.0);
    let mut proof = evidence;
    let code = match outcome {
        Ok(verdict) => {
            report.confirmed = true;
            report.tx_hash = Some(verdict.tx_hash);
            report.block_record = verdict.block_record.as_ref().map(RecordFields::from);
            report.state_height = Some(verdict.state.height.get());
            report.signed_weight =
                Some(format!("{}/{}", verdict.signed_weight, verdict.total_weight));
            // The proof printed is what was verified: a minimal quorum of valid signatures.
            proof.signatures = verdict.signatures;
            if verified_anchor || args.allow_unanchored { EXIT_CONFIRMED } else { EXIT_UNANCHORED }
        }
        Err(error) => {
            report.reason = Some(error.to_string());
            EXIT_NOT_CONFIRMED
        }
    };
    report.state_height = report.state_height.or_else(|| state_height(&proof.state));
    report.proof = Some(proof);
    Ok((report, code))
}

/// Height of an encoded state, if it decodes.
fn state_height(encoded: &[u8]) -> Option<u64> {
    trestle_light_client::LightClientState::decode(encoded).ok().map(|s| s.height.get())
}

/// `trestle confirm` end to end: prints the report (JSON on stdout with `--json`, otherwise
/// text on stdout) or the error (stderr); returns the process exit status.
pub fn command(args: &ConfirmArgs) -> i32 {
    match run(args) {
        Ok((report, code)) => {
            let text = if args.json {
                match serde_json::to_string_pretty(&report) {
                    Ok(json) => json + "\n",
                    Err(error) => {
                        eprintln!("trestle confirm: cannot serialize the report: {error}");
                        return EXIT_ERROR;
                    }
                }
            } else {
                report.human()
            };
            // The report is this command's output.
            #[allow(clippy::print_stdout)]
            {
                print!("{text}");
            }
            code
        }
        Err(error) => {
            eprintln!("trestle confirm: {error}");
            EXIT_ERROR
        }
    }
}

#[cfg(test)]
mod tests {
    use trestle_api::records::ConfirmedRange;

    use super::*;

    #[test]
    fn a_number_before_genesis_first_record_is_never_confirmed_and_a_later_one_not_yet() {
        let mut records = RecordNamespaceResponse {
            namespace: 1_000_901,
            chain_id: 901,
            first_record: 5,
            confirmed: None,
            equivocations: 0,
        };
        // Known before any record is confirmed: genesis says where they start.
        assert!(unrecorded(4, Some(&records)).starts_with("never confirmed"));
        assert!(unrecorded(5, Some(&records)).starts_with("not confirmed yet"));
        records.confirmed = Some(ConfirmedRange { first: 5, last: 9, last_hash: B256::ZERO });
        assert!(unrecorded(4, Some(&records)).contains("start at block 5"));
        assert!(unrecorded(10, Some(&records)).starts_with("not confirmed yet"));
        assert!(unrecorded(4, None).starts_with("not confirmed yet"));
    }
}
