//! Where a node's L1 view comes from: an [`L1Source`] (the alloy client in the process, a
//! scripted chain in tests) and the [`follow`] loop that feeds the view from it.

use std::{future::Future, time::Duration};

use commonware_runtime::Clock;
use tracing::{debug, warn};

use super::view::{L1Block, L1View};

/// Why a source could not deliver blocks this time (the follower retries).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum L1SourceError {
    /// L1 did not answer (down, unreachable, timed out).
    #[error("L1 unavailable: {0}")]
    Unavailable(String),
    /// L1 answered with something the source refuses (a malformed log, a block without a hash).
    #[error("L1 answered badly: {0}")]
    Invalid(String),
}

/// A source of L1 blocks at a safe depth.
pub trait L1Source: Send + 'static {
    /// Up to `max` consecutive blocks from number `from` on, each at least the source's safe
    /// depth below the L1 head (fewer, or none, when L1 is not that far yet).
    fn blocks(
        &mut self,
        from: u64,
        max: usize,
    ) -> impl Future<Output = Result<Vec<L1Block>, L1SourceError>> + Send;
}

/// How the follower polls.
#[derive(Clone, Copy, Debug)]
pub struct FollowConfig {
    /// Pause between polls once the view has caught up (and after a failure).
    pub poll: Duration,
    /// Most blocks asked for in one poll.
    pub batch: usize,
}

impl Default for FollowConfig {
    /// Poll every second, 64 blocks at a time.
    fn default() -> Self {
        Self { poll: Duration::from_secs(1), batch: 64 }
    }
}

/// Feeds `view` from `source` forever. A failing source is retried after `poll`; a block the
/// view refuses (a reorganization deeper than the safe depth, or a lying source) stops the
/// view where it is, with a warning each poll: the view never rewrites what it confirmed, and a
/// stalled view only delays this node's votes on blocks with newer references.
pub async fn follow<S: L1Source>(
    clock: impl Clock,
    mut source: S,
    view: L1View,
    config: FollowConfig,
) {
    loop {
        let from = view.next_number();
        let caught_up = match source.blocks(from, config.batch.max(1)).await {
            Ok(blocks) => {
                let full = blocks.len() >= config.batch.max(1);
                let mut refused = false;
                for block in blocks {
                    let number = block.reference.number;
                    if let Err(err) = view.extend(block) {
                        warn!(%err, number, "L1 block refused; the L1 view stops here");
                        refused = true;
                        break;
                    }
                }
                if let Some(latest) = view.latest() {
                    debug!(number = latest.number, "L1 view");
                }
                refused || !full
            }
            Err(err) => {
                warn!(%err, from, "L1 source failed; retrying");
                true
            }
        };
        if caught_up {
            clock.sleep(config.poll).await;
        }
    }
}
