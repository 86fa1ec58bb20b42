//! `trestle follow-anchor`: keeps an anchor cache (`trestle confirm --anchor-cache FILE`) at the
//! network's latest epoch, walking each epoch hand-off as soon as it is final.
//!
//! A confirmation right after an epoch boundary otherwise walks the hand-off itself: a second
//! quorum check and the next committee's commitment, about three times the cost of a check
//! inside an epoch (BENCHMARKS.md). A solver or a bridge that checks often runs this beside its
//! checks: the hand-off is then verified once, off their path, and every check costs the same
//! whichever side of a boundary it falls on.
//!
//! Each step asks the node for the hand-off of the epoch the cache holds (`trestle_epochProof`),
//! verifies it with the kernel against that epoch's committee (the cache itself was verified
//! from the genesis file, so the chain of trust is the same as `trestle confirm`'s), and moves
//! the cache on. A node that answers nothing (the epoch is not over), a hand-off not signed by a
//! quorum yet, or a lying node never moves the cache: the step is tried again after the poll
//! interval.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use trestle_api::{
    FileError,
    client::{ConnectError, connect, handoff_of},
};
use trestle_light_client::{
    Anchor, Epoch,
    handoff::{HandoffError, follow_handoff},
};

use crate::{
    anchor_cache::{self, CacheError},
    confirm::{DEFAULT_GENESIS, anchor_from_genesis},
};

/// Longest time one request to the node may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// `trestle follow-anchor`'s arguments.
#[derive(Clone, Debug, clap::Args)]
pub struct FollowAnchorArgs {
    /// A validator's JSON-RPC URL.
    #[arg(long)]
    pub rpc: String,
    /// The genesis file whose committee is trusted.
    #[arg(long, default_value = DEFAULT_GENESIS)]
    pub genesis: PathBuf,
    /// The anchor cache to keep current (the file `trestle confirm --anchor-cache` reads).
    #[arg(long)]
    pub anchor_cache: PathBuf,
    /// Milliseconds between asking for the next hand-off while the epoch runs.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub poll_ms: u64,
    /// Exit once the cache holds this epoch (default: follow until stopped).
    #[arg(long)]
    pub until_epoch: Option<u64>,
}

/// Why following stopped.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The genesis file could not be read or is invalid.
    #[error(transparent)]
    Genesis(#[from] FileError),
    /// The RPC URL is not usable.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The cache could not be written.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The network has one endless epoch: there is nothing to follow.
    #[error("the network has one endless epoch: no hand-off to follow")]
    Endless,
    /// The async runtime could not be started.
    #[error("starting the runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// What one step did.
#[derive(Clone, Debug)]
pub enum Step {
    /// The hand-off verified: the anchor it leads to (recorded in the cache).
    Advanced(Anchor),
    /// Nothing to walk yet, or nothing that verifies (the reason, for the log).
    Waiting(Option<String>),
}

/// One step from `from` (the genesis anchor or one verified from it): fetch the hand-off of its
/// epoch, verify it, record the anchor it leads to in the cache at `path`. The follower keeps
/// `from` in memory rather than reading the cache back at every poll (which recomputes the
/// committee's commitment); when a `trestle confirm` moved the cache further meanwhile, `store`
/// keeps the later epoch and the follower walks on until it is there too.
pub async fn step<C>(
    client: &C,
    genesis: &Anchor,
    from: &Anchor,
    path: &Path,
) -> Result<Step, FollowError>
where
    C: trestle_api::TrestleApiClient + Sync,
{
    let proof = match client.epoch_proof(from.epoch.get()).await {
        Ok(Some(proof)) => proof,
        Ok(None) => return Ok(Step::Waiting(None)),
        Err(e) => return Ok(Step::Waiting(Some(format!("the node did not answer: {e}")))),
    };
    match follow_handoff(from, &handoff_of(&proof)) {
        Ok(reached) => {
            anchor_cache::store(path, genesis, &reached)?;
            Ok(Step::Advanced(reached))
        }
        Err(HandoffError::Endless) => Err(FollowError::Endless),
        Err(e) => Ok(Step::Waiting(Some(format!(
            "the hand-off of epoch {} does not verify (yet): {e}",
            from.epoch
        )))),
    }
}

/// Follows until stopped (or `--until-epoch`), printing each epoch reached.
pub fn run(args: &FollowAnchorArgs) -> Result<(), FollowError> {
    let genesis = anchor_from_genesis(&args.genesis)?;
    // Said at once, rather than waiting for a hand-off that never comes.
    if genesis.epoch_length == trestle_light_client::epoch::ENDLESS {
        return Err(FollowError::Endless);
    }
    let client = connect(&args.rpc, REQUEST_TIMEOUT)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let poll = Duration::from_millis(args.poll_ms);
    let reached = |epoch: Epoch| args.until_epoch.is_some_and(|until| epoch.get() >= until);
    let mut anchor =
        anchor_cache::load(&args.anchor_cache, &genesis).unwrap_or_else(|| genesis.clone());
    eprintln!("trestle follow-anchor: {} at epoch {}", args.anchor_cache.display(), anchor.epoch);
    if reached(anchor.epoch) {
        return Ok(());
    }
    let mut last_reason = None;
    runtime.block_on(async {
        loop {
            match step(&client, &genesis, &anchor, &args.anchor_cache).await? {
                Step::Advanced(next) => {
                    anchor = next;
                    let epoch = anchor.epoch;
                    eprintln!("trestle follow-anchor: hand-off verified, anchor at epoch {epoch}");
                    last_reason = None;
                    if reached(epoch) {
                        return Ok(());
                    }
                    // Catch up at once: the next epoch may be over too.
                    continue;
                }
                Step::Waiting(reason) => {
                    // Each distinct reason once, not every poll.
                    if reason.is_some() && reason != last_reason {
                        eprintln!("trestle follow-anchor: {}", reason.as_deref().unwrap_or(""));
                    }
                    last_reason = reason;
                }
            }
            tokio::time::sleep(poll).await;
        }
    })
}

/// `trestle follow-anchor` as a command: its exit status.
pub fn command(args: &FollowAnchorArgs) -> i32 {
    match run(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("trestle follow-anchor: {e}");
            1
        }
    }
}
