//! Configuration of the application actor.

use std::time::Duration;

use commonware_utils::channel::mpsc;
use trestle_light_client::SecretKey;

use super::SignedState;
use crate::{block::Block, mempool::MempoolConfig, rules::ChainParams};

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
    /// This validator's EdDSA-Poseidon light-client key; when set, the actor signs the
    /// light-client state after finalizing each height.
    pub signer: Option<SecretKey>,
    /// Capacity of the submission queue (requests beyond it are refused as
    /// [`SubmitError::Unavailable`](crate::mempool::SubmitError::Unavailable)).
    pub submission_queue: usize,
    /// Where to hand each light-client state this validator signs (for gossip and
    /// persistence), in height order. `None` keeps them only in the actor.
    pub signed_states: Option<mpsc::UnboundedSender<SignedState>>,
    /// Where to hand each finalized block (for subscriptions), in height order, after the
    /// actor applied it. Blocks are replayed on restart (recovery), so a consumer may see a
    /// height again. `None` sends nothing.
    pub finalized_blocks: Option<mpsc::UnboundedSender<Block>>,
}

impl Config {
    /// A configuration with default mempool limits, 1 s of clock drift and no signer.
    pub fn new(params: ChainParams) -> Self {
        let mempool =
            MempoolConfig { max_payload: params.limits.max_payload, ..MempoolConfig::default() };
        Self {
            params,
            mempool,
            max_clock_drift: Duration::from_secs(1),
            signer: None,
            submission_queue: 1_024,
            signed_states: None,
            finalized_blocks: None,
        }
    }
}
