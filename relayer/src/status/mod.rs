//! What the relayer is doing, for operators: JSON on the metrics address, and the commands
//! that read it.
//!
//! Endpoints, beside `GET /metrics` (served when `metrics` is configured):
//! - `GET /status`: [`RelayerStatus`], every chain's post cursor and resolved head, unfinalized
//!   submissions, pending and failed messages, the age of the oldest pending message, light
//!   client and proven heights, the network endpoint in use, and every loop's health (last
//!   success, consecutive failures, last error);
//! - `GET /messages` ([`MessageList`]): the pending messages, oldest first; with
//!   `?failed`, the messages received with a failing recipient instead, with their decoded
//!   reasons (the mailbox keeps them for `Mailbox.retry`; one failing recipient never holds up
//!   its route, see [`crate::deliver`]);
//! - `POST /messages/{hash}/retry`: `Mailbox.retry` of a failed message on its destination,
//!   paid by this relayer's EVM key there ([`RetryAnswer`]): for a recipient that has since been
//!   fixed, funded or unpaused.
//!
//! `trestle relayer status`, `messages [--failed]` and `retry HASH` are their clients
//! ([`client`]): they talk to the running relayer rather than opening its store, which the
//! running process holds locked.

pub mod client;
pub mod server;

use alloy_primitives::B256;
use serde::{Deserialize, Serialize};

pub use crate::metrics::LoopHealth;

/// `GET /status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RelayerStatus {
    /// The relayer's version.
    pub version: String,
    /// The roles this process runs.
    pub roles: Vec<String>,
    /// The trestle network as this relayer sees it.
    pub network: NetworkStatus,
    /// Each configured chain.
    pub chains: Vec<ChainStatus>,
    /// Messages queued for delivery, all destinations.
    pub pending: usize,
    /// Messages on record as received with a failing recipient.
    pub failed: usize,
    /// Messages on record as received (delivered or failed).
    pub delivered: u64,
    /// Every loop's health.
    pub loops: Vec<LoopHealth>,
}

/// The network side of [`RelayerStatus`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkStatus {
    /// The configured endpoints, in the order they are tried.
    pub endpoints: Vec<String>,
    /// The endpoint requests go to now (the last that answered).
    pub current: String,
    /// The network's finalized height, as last seen.
    pub finalized_height: Option<u64>,
    /// The next height the discovery loop reads.
    pub discovery_cursor: Option<u64>,
}

/// One chain in [`RelayerStatus`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainStatus {
    /// Its configured name.
    pub name: String,
    /// Its chain id.
    pub chain_id: u64,
    /// The block tag posting follows (`finalized`, `latest`), once decided.
    pub head: Option<String>,
    /// The next source block to post.
    pub source_cursor: Option<u64>,
    /// The last source block posted, with its hash.
    pub posted: Option<(u64, B256)>,
    /// Submissions posted and not yet seen finalized.
    pub unfinalized: usize,
    /// Messages queued for delivery here.
    pub pending: usize,
    /// How long the oldest of them has waited, in milliseconds.
    pub oldest_pending_ms: Option<u64>,
    /// Messages received here with a failing recipient.
    pub failed: usize,
    /// Its light client's latest height, as last seen.
    pub light_client_height: Option<u64>,
    /// The highest height this relayer proved here.
    pub proven_height: Option<u64>,
}

/// `GET /messages`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageList {
    /// The messages.
    pub messages: Vec<MessageEntry>,
}

/// A pending or failed message in [`MessageList`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEntry {
    /// `keccak256(abi.encode(message))`.
    pub hash: B256,
    /// `pending` or `failed`.
    pub state: String,
    /// The source chain.
    pub src_chain_id: u64,
    /// The destination chain.
    pub dest_chain_id: u64,
    /// Its nonce on its route.
    pub nonce: u64,
    /// The trestle transaction that carries it (pending messages).
    pub tx_hash: Option<B256>,
    /// The trestle height it was finalized at, once known (pending messages).
    pub included_height: Option<u64>,
    /// When it was queued or received as failed (ms since the Unix epoch).
    pub since_ms: Option<u64>,
    /// Why its recipient failed, decoded where possible (failed messages).
    pub reason: Option<String>,
    /// The destination transaction that received it (failed messages).
    pub delivery_tx: Option<B256>,
}

/// `POST /messages/{hash}/retry`: what became of the retry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryAnswer {
    /// The message.
    pub hash: B256,
    /// `delivered` (the recipient took it), `still failing` (it reverted again; the message
    /// stays failed), `not failed` (someone retried it already), or `error`.
    pub outcome: String,
    /// The retry transaction, if one was mined.
    pub tx: Option<B256>,
    /// The details: the recipient's decoded revert, or the error.
    pub detail: Option<String>,
}

/// The failure `reason` of a `MessageFailed` event or a `RecipientReverted` error, decoded:
/// a Solidity `Error(string)` or `Panic(uint256)`, one of the mailbox's own errors, or else its
/// hex.
pub fn describe_reason(reason: &[u8]) -> String {
    use alloy_sol_types::SolInterface as _;
    if reason.is_empty() {
        return "reverted without data (or ran out of gas)".into();
    }
    if let Ok(revert) = alloy_sol_types::GenericContractError::abi_decode(reason) {
        return revert.to_string();
    }
    if let Ok(error) = crate::bindings::Mailbox::MailboxErrors::abi_decode(reason) {
        return format!("{error:?}");
    }
    format!("0x{}", hex::encode(reason))
}
