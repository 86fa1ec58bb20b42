//! Gathering the [`Evidence`] of a confirmation from a node: find the transaction (by hash) or
//! the rollup block's record (scanning the block namespace), pick the newest state at or above
//! it whose signatures carry a quorum of the trust anchor's committee, and fetch the history
//! proof linking the two. Nothing here is trusted: the kernel's
//! [`verify_confirmation`](trestle_light_client::verify_confirmation) checks it all.

use std::time::{Duration, Instant};

use alloy_primitives::B256;
use futures::{StreamExt as _, TryStreamExt as _};
use serde::{Deserialize, Serialize};
use trestle_light_client::{
    Anchor, Evidence, Namespace, Subject, abi::BlockRecord, minimal_quorum,
    transaction::DEFAULT_MAX_PAYLOAD,
};

use super::{
    FetchError,
    handoffs::fetch_handoffs,
    state::{ReportedState, newest_quorum},
};
use crate::{TrestleApiClient, types::HeaderResponse};

/// How many heights a block-record scan covers by default (newest first).
pub const DEFAULT_SCAN_DEPTH: u64 = 2_000;

/// Length of a block record's canonical encoding (four words).
const BLOCK_RECORD_LEN: usize = 4 * 32;

/// Concurrent `trestle_namespaceProof` requests while scanning for a block record.
const SCAN_CONCURRENCY: usize = 16;

/// How often the quorum search is repeated while waiting.
const QUORUM_POLL: Duration = Duration::from_millis(200);

/// Where to look and how long to wait.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// For block subjects: how many heights to scan.
    pub scan_depth: u64,
    /// For block subjects: the highest height to scan (default: the newest finalized).
    pub from_height: Option<u64>,
    /// How long to wait for a state with a quorum of signatures.
    pub quorum_wait: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            scan_depth: DEFAULT_SCAN_DEPTH,
            from_height: None,
            quorum_wait: Duration::from_secs(10),
        }
    }
}

/// A range of heights scanned for a block record (inclusive, scanned downwards).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Searched {
    /// Lowest height scanned.
    pub from_height: u64,
    /// Highest height scanned.
    pub to_height: u64,
}

/// A subject found on the node, with its evidence gathered (not yet verified).
#[derive(Debug)]
pub struct Found {
    /// The evidence.
    pub evidence: Evidence,
    /// The anchor: the given one, or built from the node's own committee.
    pub anchor: Anchor,
    /// Whether `anchor` came from the queried node itself (nothing independent vouches for it).
    pub anchor_from_node: bool,
    /// The header as the node described it (hash and encoding included).
    pub header: HeaderResponse,
    /// The heights scanned, for a block subject.
    pub searched: Option<Searched>,
}

/// What [`fetch_evidence`] found.
#[derive(Debug)]
pub enum Fetched {
    /// The subject was found (boxed: it is much larger than the other variant).
    Found(Box<Found>),
    /// The node knows no such transaction or block record.
    NotFound {
        /// What was searched (block subjects); `None` for a transaction lookup by hash.
        searched: Option<Searched>,
    },
}

/// Finds `subject` in `namespace` on the node behind `client` and gathers its evidence: the
/// transaction and its proof, the hand-offs from `anchor`'s epoch to the transaction's (none if
/// the anchor is there or later), a state at or after its height whose signatures carry a
/// quorum's weight of the committee reached (of the node's own committee when `anchor` is
/// `None`): the last state of that epoch once it ended, else the newest such state; and the
/// history proof linking them.
pub async fn fetch_evidence<C>(
    client: &C,
    namespace: Namespace,
    subject: &Subject,
    anchor: Option<&Anchor>,
    options: &FetchOptions,
) -> Result<Fetched, FetchError>
where
    C: TrestleApiClient + Sync,
{
    let (tx_hash, searched) = match *subject {
        Subject::Transaction { hash } => (Some(hash), None),
        Subject::Block { number, hash } => {
            let (found, searched) =
                scan_for_block(client, namespace, number, hash, options).await?;
            (found, Some(searched))
        }
    };
    let inclusion = match tx_hash {
        Some(hash) => client.tx_proof(hash).await?,
        None => None,
    };
    let Some(inclusion) = inclusion else { return Ok(Fetched::NotFound { searched }) };
    let header = inclusion.header.decode().map_err(FetchError::Header)?;
    let (anchor, anchor_from_node) = match anchor {
        Some(anchor) => (anchor.clone(), false),
        // The node's own committee of the header's epoch: nothing to hand over.
        None => {
            let info = client
                .committee(header.epoch.get())
                .await?
                .ok_or(FetchError::UnknownCommittee(header.epoch.get()))?;
            let anchor = Anchor {
                chain_id: header.chain_id,
                epoch: header.epoch,
                committee: info.to_committee()?,
                max_payload: DEFAULT_MAX_PAYLOAD,
                epoch_length: trestle_light_client::epoch::ENDLESS,
            };
            (anchor, true)
        }
    };
    // A given anchor of an earlier epoch follows the hand-offs up to the header's epoch; one of
    // a later epoch (a cached anchor) signs a state of its own epoch, whose history covers the
    // header.
    let target = header.epoch.max(anchor.epoch);
    let (handoffs, signer) = fetch_handoffs(client, &anchor, target).await?;
    // A finished epoch's last state covers all its headers and keeps its signatures for good;
    // an epoch still running is signed at its newest heights.
    let finished = match client.epoch_proof(target.get()).await? {
        Some(proof) if signer.epoch_length != trestle_light_client::epoch::ENDLESS => {
            let state = proof.last.state.decode()?;
            let signatures = proof.last.state_signatures();
            minimal_quorum(&signer.committee, &signatures).is_some().then_some((state, signatures))
        }
        _ => None,
    };
    let started = Instant::now();
    let signed = match finished {
        Some((state, signatures)) => {
            ReportedState { state, committee: signer.committee.clone(), signatures }
        }
        None => loop {
            let tip = client.block_height().await?;
            let floor = header.height.get();
            if let Some(found) = newest_quorum(client, tip, floor, Some(&signer.committee)).await? {
                break found;
            }
            if started.elapsed() >= options.quorum_wait {
                return Err(FetchError::NoQuorum {
                    from: floor.max(tip.saturating_sub(super::QUORUM_LOOKBACK)),
                    to: tip,
                    waited: started.elapsed(),
                });
            }
            tokio::time::sleep(QUORUM_POLL).await;
        },
    };
    let root_height = signed.state.height.get();
    let history = client
        .history_proof(header.height.get(), root_height)
        .await?
        .ok_or(FetchError::NoHistoryProof { height: header.height.get(), root_height })?;
    let evidence = Evidence {
        transaction: inclusion.transaction.encoded,
        header: inclusion.header.encoded.clone(),
        tx_proof: inclusion.proof.encoded,
        history_proof: history.proof.encoded,
        state: signed.state.encode().into(),
        signatures: signed.signatures,
        handoffs,
    };
    Ok(Fetched::Found(Box::new(Found {
        evidence,
        anchor,
        anchor_from_node,
        header: inclusion.header,
        searched,
    })))
}

/// Scans heights downwards for a transaction in `namespace` whose payload is the block record
/// of (`number`, `hash`); returns its hash, newest first.
async fn scan_for_block<C>(
    client: &C,
    namespace: Namespace,
    number: u64,
    hash: B256,
    options: &FetchOptions,
) -> Result<(Option<B256>, Searched), FetchError>
where
    C: TrestleApiClient + Sync,
{
    let to_height = match options.from_height {
        Some(height) => height,
        None => client.block_height().await?,
    };
    let from_height = to_height.saturating_sub(options.scan_depth.saturating_sub(1));
    let searched = Searched { from_height, to_height };
    let mut answers = futures::stream::iter((from_height..=to_height).rev())
        .map(|height| client.namespace_proof(height, namespace.get()))
        .buffered(SCAN_CONCURRENCY);
    while let Some(response) = answers.try_next().await? {
        let Some(response) = response else { continue };
        for tx in &response.transactions {
            // Strict decoding of the canonical bytes, no larger than a record; anything else in
            // the namespace is skipped (the verification decodes again and proves what is found).
            let Ok(decoded) = tx.decode(BLOCK_RECORD_LEN) else { continue };
            if decoded.namespace != namespace {
                continue;
            }
            let Ok(record) = BlockRecord::decode(&decoded.payload) else { continue };
            if record.number == number && record.hash == hash {
                return Ok((Some(decoded.hash()), searched));
            }
        }
    }
    Ok((None, searched))
}
