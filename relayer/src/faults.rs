//! Named crash points, for restart-safety tests with real processes.
//!
//! `TRESTLE_RELAYER_CRASH_AT=<point>[,<point>…]` makes the process abort the first time it
//! reaches one of the listed points: no destructor runs and nothing is flushed, as with kill -9,
//! at exactly the moment a test wants to prove harmless (between an external effect and the
//! store write that records it). The points are [`CrashPoint`]'s names. Unset, as it always is
//! in operation, a point costs one check of a value read once.
//!
//! Why a crash anywhere is harmless is the store's doc ([`crate::store`]); the tests in
//! `relayer/tests/it/faults.rs` check it point by point.

use std::sync::OnceLock;

/// The environment variable naming the points to crash at.
pub const CRASH_AT: &str = "TRESTLE_RELAYER_CRASH_AT";

/// A place in a loop between an external effect and the store write recording it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashPoint {
    /// `post-after-submit`: a block's record was submitted to the network, the store does not
    /// know yet (the block is posted again after a restart; the network answers "duplicate").
    PostAfterSubmit,
    /// `post-after-record`: a block and its submissions are recorded; they are not finalized
    /// yet (the resend schedule takes them over).
    PostAfterRecord,
    /// `discover-before-record`: heights were read, their messages are not queued yet (read
    /// again after a restart).
    DiscoverBeforeRecord,
    /// `prove-after-update`: `LightClient.update` was mined, the proven height is not stored
    /// (proved again; the light client answers `HeightNotIncreasing`, or takes a newer one).
    ProveAfterUpdate,
    /// `deliver-after-send`: a delivery was mined, its messages are still queued (the mailbox's
    /// inbox position says they were received).
    DeliverAfterSend,
}

impl CrashPoint {
    /// Every point.
    pub const ALL: [Self; 5] = [
        Self::PostAfterSubmit,
        Self::PostAfterRecord,
        Self::DiscoverBeforeRecord,
        Self::ProveAfterUpdate,
        Self::DeliverAfterSend,
    ];

    /// The point's name in [`CRASH_AT`].
    pub const fn name(self) -> &'static str {
        match self {
            Self::PostAfterSubmit => "post-after-submit",
            Self::PostAfterRecord => "post-after-record",
            Self::DiscoverBeforeRecord => "discover-before-record",
            Self::ProveAfterUpdate => "prove-after-update",
            Self::DeliverAfterSend => "deliver-after-send",
        }
    }
}

/// The points listed in [`CRASH_AT`], read once.
fn armed() -> &'static [CrashPoint] {
    static ARMED: OnceLock<Vec<CrashPoint>> = OnceLock::new();
    ARMED.get_or_init(|| {
        let Ok(value) = std::env::var(CRASH_AT) else { return Vec::new() };
        let names: Vec<&str> = value.split(',').map(str::trim).collect();
        CrashPoint::ALL.into_iter().filter(|point| names.contains(&point.name())).collect()
    })
}

/// Aborts the process if `point` is armed: the test's stand-in for kill -9 at this line.
pub fn reach(point: CrashPoint) {
    if armed().contains(&point) {
        tracing::error!(point = point.name(), "crash point reached: aborting ({CRASH_AT})");
        std::process::abort();
    }
}
