//! The trestle application: builds and verifies blocks, tracks the finalized chain and the
//! light-client state after each finalized height.
//!
//! # How it plugs into consensus
//!
//! ```text
//! simplex ──Automaton/Relay/Reporter──▶ marshal::standard::Inline ──Application──▶ Mailbox ─▶ Actor
//! marshal actor ──Reporter<Update<Block>> (finalized blocks, in height order)──▶ Mailbox ─▶ Actor
//! ```
//!
//! * `propose(context, ancestry)`: the mailbox walks the ancestry stream until it reaches a
//!   block the actor knows (normally the parent itself), then the actor builds the child:
//!   height = parent + 1, view = the consensus view, timestamp = max(parent, local clock),
//!   `historyRoot` from the parent's history frontier, transactions from the mempool minus those
//!   already in unfinalized ancestors.
//! * `verify(context, ancestry)`: a block from the future (beyond `max_clock_drift`) is held,
//!   not rejected; otherwise the actor recomputes every header field from the parent
//!   ([`rules::check_block`](crate::rules::check_block)) and checks the view. `false` is only
//!   returned for permanently invalid blocks; shutdown keeps the request pending.
//! * Finalized blocks arrive from marshal exactly in height order (at least once; duplicates
//!   are ignored); the actor appends them to the history tree, hands each with its
//!   light-client state to its sinks ([`Finalized`]: the signatures actor signs the state) and
//!   acknowledges, after which marshal records them as processed. A block that does not extend
//!   the finalized chain with the right history root is never acknowledged nor handed on: the
//!   actor halts with the [`FinalizeError`]. On restart the actor restores the chain state
//!   from its finalized index ([`index`]: one small entry per height, synced every second),
//!   then replays the processed blocks the index lacks from marshal, before serving requests
//!   (a missing one halts it too).
//!
//! Split commonware-style into [`Actor`] (event loop), `state` (the pure chain state),
//! [`Mailbox`] (ingress) and [`Config`].

mod actor;
mod committees;
mod config;
pub mod evidence;
pub mod index;
mod ingress;
mod metrics;
pub mod recent;
pub mod records;
pub mod retention;
mod state;

pub use actor::Actor;
pub use config::Config;
pub use ingress::{
    Finalized, HistoryProofError, IncludedTransaction, Mailbox, NamespaceContents, Pruned,
    RecordNamespace, Status, namespace_contents,
};
pub use metrics::Metrics;
pub use state::FinalizeError;
