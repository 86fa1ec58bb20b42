//! Epochs: one simplex engine per epoch, over the committee the chain decided for it
//! (DESIGN §3a).
//!
//! Marshal, its shard engine and backfill, the application and the coding `Marshaled` wrapper
//! span all epochs; only consensus is per epoch. The orchestrator ([`actor`]) is one of the
//! application's sinks of finalized blocks:
//!
//! * **Committees.** Epochs 0 and 1 belong to the genesis committee; the finalized last block
//!   of epoch e names the committee of e+2, whose scheme is then registered in
//!   [`EpochSchemes`] (signing if our key is a member, verifying otherwise). Marshal verifies
//!   every finalization with the scheme of its epoch, so a backfilled certificate of any past
//!   epoch checks out against the committee that signed it.
//! * **Hand-over.** Epoch e's engine never builds past last(e): at the boundary marshal's
//!   `Marshaled` wrapper re-proposes the last block until it is finalized. Once the application
//!   has applied last(e), the orchestrator aborts engine e and starts engine e+1 with that
//!   block's commitment (what simplex voted on) as its view-0 genesis (`Floor::Genesis`), on its own journal partition
//!   (`{prefix}-simplex-{e}`) and its own subchannel `e` of the votes, certificates and
//!   resolver channels (a p2p `Muxer` each).
//! * **Catching up.** A peer that sends traffic for a later epoch has finalized our epoch's
//!   end: we hint marshal to fetch the finalization of last(e) from it (at most once per
//!   second), marshal walks back to what we have and delivers the blocks in order, and the
//!   boundary moves us on. A node that is behind by many epochs moves one epoch per hint.
//! * **Restart.** The application replays the finalized chain to its sinks; the orchestrator
//!   registers every committee along the way and starts only the engine of the epoch after
//!   marshal's processed height, which resumes from its journal.
//! * **Peers.** Entering epoch e, the orchestrator tracks p2p peer set e: C(e) ∪ C(e+1) as
//!   primary peers, the configured followers as secondary ones ([`PeerSets`]).
//! * **Followers.** In an epoch whose committee lacks our key the engine runs with a verifying
//!   scheme: it follows certificates and never votes.

mod actor;
mod peers;
mod schemes;

pub(crate) use actor::{Config, run};

/// The consensus-facing wrapper of the application: epoch boundaries, erasure coding of
/// proposals, deferred verification (commonware's coding `Marshaled`).
pub(crate) type Wrapper<E, A> = commonware_consensus::marshal::coding::Marshaled<
    E,
    A,
    crate::block::Block,
    crate::block::CodingScheme,
    crate::block::CodingHasher,
    EpochSchemes,
    commonware_parallel::Sequential,
    commonware_consensus::types::FixedEpocher,
>;
pub use peers::{Addressed, EpochPeers, Keyed, Peer, PeerSets};
pub use schemes::{EpochSchemes, SchemeError, consensus_keys};

/// Why the epoch orchestrator stopped.
#[derive(Debug, thiserror::Error)]
pub enum EpochError {
    /// A decided committee cannot become a consensus scheme.
    #[error(transparent)]
    Scheme(#[from] SchemeError),
    /// The chain reached an epoch whose committee it never decided (a block that names the
    /// committee two epochs on was not applied).
    #[error("the committee of epoch {0} is not decided")]
    Undecided(u64),
    /// The chain reached an epoch whose previous epoch's last block was not seen.
    #[error("no floor for epoch {0}: the previous epoch's last block was not finalized")]
    NoFloor(u64),
    /// A subchannel of epoch traffic could not be opened.
    #[error("p2p subchannel: {0}")]
    Subchannel(#[from] commonware_p2p::utils::mux::Error),
    /// The consensus timeouts are invalid.
    #[error(transparent)]
    Timeouts(#[from] crate::timeouts::TimeoutsError),
}
