//! Configuration of the signatures actor.

use std::{
    num::{NonZeroU64, NonZeroUsize},
    time::Duration,
};

use commonware_cryptography::ed25519;
use trestle_light_client::{Height, SecretKey, epoch};

use super::Error;

/// Default number of recent heights whose signatures are kept.
pub const DEFAULT_RETENTION: u64 = 10_000;

/// Signatures actor configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// This validator's consensus (p2p) key: its slot in an epoch's committee is the seat
    /// with this key (a gossiped signature is attributed to the slot of its authenticated
    /// sender in the committee of the state's epoch, so a peer can only submit its own).
    pub public_key: ed25519::PublicKey,
    /// This validator's EdDSA-Poseidon light-client key: the actor signs our light-client state
    /// at every finalized height of the epochs whose committee seats us with it (the only
    /// holder of the key in the node).
    pub signer: SecretKey,
    /// Signatures of the last `retention` heights (below our finalized tip) are kept.
    pub retention: NonZeroU64,
    /// Epoch length in heights (epoch `e` covers `e·len ..= (e+1)·len - 1`). The signatures of
    /// an epoch's last height are kept forever. [`epoch::ENDLESS`]: one endless epoch.
    pub epoch_length: NonZeroU64,
    /// Prefix of the storage partitions (`{prefix}-recent`, `{prefix}-epochs`).
    pub partition_prefix: String,
    /// Capacity of the mailbox (queries).
    pub mailbox_size: NonZeroUsize,
    /// Signatures for heights more than this far above our finalized tip are ignored.
    pub max_ahead: u64,
    /// At most this many signatures for heights we have not finalized yet are held.
    pub max_pending: usize,
    /// How often we ask peers for the signatures we miss among the last
    /// [`catch_up`](Self::catch_up) heights.
    pub sync_interval: Duration,
    /// How far below our tip we look for missing signatures to request.
    pub catch_up: u64,
}

impl Config {
    /// A configuration with default bounds: retention [`DEFAULT_RETENTION`], one endless
    /// epoch, 64 heights ahead, 4096 pending signatures, a sync round every second over the
    /// last 1024 heights.
    pub fn new(
        public_key: ed25519::PublicKey,
        signer: SecretKey,
        partition_prefix: String,
    ) -> Self {
        Self {
            public_key,
            signer,
            retention: NonZeroU64::new(DEFAULT_RETENTION).unwrap_or(NonZeroU64::MIN),
            epoch_length: epoch::ENDLESS,
            partition_prefix,
            mailbox_size: NonZeroUsize::new(1_024).unwrap_or(NonZeroUsize::MIN),
            max_ahead: 64,
            max_pending: 4_096,
            sync_interval: Duration::from_secs(1),
            catch_up: 1_024,
        }
    }

    /// Checks the bounds.
    pub fn validate(&self) -> Result<(), Error> {
        if self.sync_interval.is_zero() {
            return Err(Error::Config("sync_interval must be non-zero"));
        }
        if self.max_pending == 0 {
            return Err(Error::Config("max_pending must be non-zero"));
        }
        Ok(())
    }

    /// Whether `height` is the last height of its epoch (kept forever).
    pub fn is_epoch_end(&self, height: u64) -> bool {
        epoch::is_last(Height(height), self.epoch_length)
    }
}
