//! Configuration of the application actor.

use std::{num::NonZeroU64, time::Duration};

use commonware_utils::channel::mpsc;

use super::Finalized;
use crate::{known::KnownTransactions, l1::L1View, mempool::MempoolConfig, rules::ChainParams};

/// Application actor configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Network parameters every validator shares.
    pub params: ChainParams,
    /// Mempool limits (`max_payload` is capped by the block limits).
    pub mempool: MempoolConfig,
    /// A proposal whose timestamp is more than this far ahead of the local clock is held
    /// (not rejected) until it is within range.
    pub max_clock_drift: Duration,
    /// Capacity of the submission queue (requests beyond it are refused as
    /// [`SubmitError::Unavailable`](crate::mempool::SubmitError::Unavailable)).
    pub submission_queue: usize,
    /// The sinks of the finalized chain: each gets every [`Finalized`] block with its
    /// light-client state, in height order, once the actor applied it (the signatures actor,
    /// which signs the states; the RPC's subscriptions). Blocks are replayed on restart
    /// (recovery), so a consumer may see a height again.
    pub finalized: Vec<mpsc::UnboundedSender<Finalized>>,
    /// This node's view of L1, fed by an L1 follower ([`crate::l1::follow`]); an empty view for
    /// a network without an L1.
    pub l1: L1View,
    /// How long a proposal whose L1 reference (or stake table) this node's view lacks waits
    /// before it is checked again.
    pub l1_retry: Duration,
    /// The storage partition of the equivocation evidence ([`super::evidence`]); `None` keeps
    /// it in memory only.
    pub evidence_partition: Option<String>,
    /// The storage partition of the finalized index ([`super::index`]): a restart restores the
    /// chain state from it instead of replaying every block. `None` keeps no index.
    pub index_partition: Option<String>,
    /// The node's memory of the transactions it hashed (shared with its block decoders, which
    /// then need not hash them again); `None` remembers nothing.
    pub known: Option<KnownTransactions>,
    /// Keep marshal's finalized blocks and certificates of the last this many heights only
    /// ([`super::retention`]; checked with [`super::retention::check_retention`]); `None`:
    /// archival, keep everything.
    pub retention: Option<NonZeroU64>,
}

impl Config {
    /// A configuration with default mempool limits, 1 s of clock drift, no sink and an empty
    /// L1 view (retried every 100 ms).
    pub fn new(params: ChainParams) -> Self {
        let mempool =
            MempoolConfig { max_payload: params.limits.max_payload, ..MempoolConfig::default() };
        Self {
            params,
            mempool,
            max_clock_drift: Duration::from_secs(1),
            submission_queue: 1_024,
            finalized: Vec::new(),
            l1: L1View::new(0, 1),
            l1_retry: Duration::from_millis(100),
            evidence_partition: None,
            index_partition: None,
            known: None,
            retention: None,
        }
    }
}
