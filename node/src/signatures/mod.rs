//! Gossip, verification and persistence of light-client state signatures.
//!
//! After finalizing height `h`, the [application](crate::application) hands this actor the
//! [`Finalized`](crate::application::Finalized) block and its light-client state
//! `{chainId, epoch, h, historyRoot, nextCommittee}`; the actor, the only holder of this
//! validator's EdDSA-Poseidon key, signs the state. A relayer needs signatures of more than two
//! thirds of the committee's weight on one state to update the on-chain light client, so every
//! validator collects everyone's.
//!
//! The module is split along its seams: `book` holds the rules (pure), `store` the
//! journals, `wire` the network codec, `ingress` the queries, `actor` the event loop.
//!
//! # Protocol (p2p channel [`CHANNEL_SIGNATURES`](crate::engine::CHANNEL_SIGNATURES))
//!
//! * **Push.** On each of our own finalized states the actor signs and stores it and sends
//!   [`Wire::Signatures`] `[(h, state, signature)]` to every peer.
//! * **Attribution.** A signature carries no signer: it is attributed to the committee slot
//!   of the *authenticated* p2p sender ([`Config::slots`]), so a peer can only ever submit its
//!   own signature; replaying someone else's fails verification under the sender's key.
//! * **Verification.** A received signature is checked against *our own* finalized state at
//!   that height and the sender's slot key. A well-formed signature on a different state is
//!   evidence of a faulty or Byzantine signer: logged and dropped, never stored. Undecodable
//!   messages (strict codecs: canonical state encoding, canonical signature, bounded batch)
//!   and invalid signatures get the peer blocked.
//! * **Pending.** A signature for a height we have not finalized yet (at most
//!   [`Config::max_ahead`] above our tip) waits in a bounded buffer ([`Config::max_pending`])
//!   and is verified when our own state for the height arrives.
//! * **Pull.** Every [`Config::sync_interval`], for each peer we ask ([`Wire::Request`]) for
//!   its own signatures over the first range (≤ [`MAX_REQUEST_SPAN`] heights) of the last
//!   [`Config::catch_up`] heights where we lack it, cycling through the window; a peer
//!   answers with what it has. This repairs lost messages and catches up a restarted or
//!   lagging node. Costs are bounded: one request per peer per interval, one answer of at
//!   most [`MAX_BATCH`] signatures per request.
//!
//! # Storage and retention
//!
//! Our own states and every verified signature are appended to segmented journals
//! (commonware-storage) and synced before they are served, so a restart restores them
//! (`{prefix}-recent`, sections of 1024 heights, pruned to the last [`Config::retention`]
//! heights below our tip; `{prefix}-epochs`, the last height of each epoch, never pruned).
//! Memory holds the same set: about `retention × committee × 100` bytes at most, plus at
//! most [`Config::max_pending`] early signatures.
//!
//! # Queries
//!
//! [`Mailbox::signatures`] (what the RPC serves) and [`Mailbox::quorum`] (a set that passes
//! [`verify_quorum`](trestle_light_client::verify_quorum), once collected).

mod actor;
mod book;
mod config;
mod ingress;
mod record;
mod store;
mod wire;

pub use actor::Actor;
pub use config::{Config, DEFAULT_RETENTION};
pub use ingress::Mailbox;
use trestle_light_client::eddsa::SignatureError;
pub use wire::{Gossip, MAX_BATCH, MAX_MESSAGE_SIZE, MAX_REQUEST_SPAN, Wire};

/// Why the signatures actor could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is inconsistent (slot mapping, bounds).
    #[error("invalid signatures config: {0}")]
    Config(&'static str),
    /// A journal failed to open, replay, append, sync or prune.
    #[error("signatures storage: {0}")]
    Storage(#[from] commonware_storage::journal::Error),
    /// A journal was lost after an earlier failure.
    #[error("signatures storage is closed after an earlier failure")]
    StorageClosed,
}

/// Why a signature (or a signatures message) was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// The sender has no committee slot (blocks the peer).
    #[error("sender is not a committee member")]
    NotAMember,
    /// The state has no valid message (its `nextCommittee` is not a field element).
    #[error("state has no valid message")]
    InvalidState,
    /// The signature does not verify under the sender's slot key on our state (blocks the
    /// peer).
    #[error("signature of slot {slot} at height {height} is invalid: {source}")]
    InvalidSignature {
        /// The sender's slot.
        slot: u32,
        /// The height.
        height: u64,
        /// Why it failed.
        source: SignatureError,
    },
    /// The signed state differs from our own finalized state at that height: the signer is
    /// faulty or Byzantine (logged, dropped).
    #[error("slot {slot} signed a different state at height {height}")]
    DifferentState {
        /// The sender's slot.
        slot: u32,
        /// The height.
        height: u64,
    },
    /// The height is below retention (and not an epoch end), or we have no state for it.
    #[error("height {height} is not retained")]
    Pruned {
        /// The height.
        height: u64,
    },
    /// The height is too far above our finalized tip to hold.
    #[error("height {height} is too far above our tip {tip}")]
    TooFarAhead {
        /// The height.
        height: u64,
        /// Our finalized tip.
        tip: u64,
    },
    /// The buffer of signatures waiting for our own state is full.
    #[error("pending buffer is full")]
    PendingFull,
    /// The application handed us a different state for a height we already stored.
    #[error("our own state at height {height} changed")]
    OwnStateChanged {
        /// The height.
        height: u64,
    },
}

impl Rejected {
    /// Whether the sender is provably misbehaving (it gets blocked).
    pub fn blocks(&self) -> bool {
        matches!(self, Self::NotAMember | Self::InvalidSignature { .. })
    }
}
