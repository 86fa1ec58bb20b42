//! Gathering the [`Evidence`] of a confirmation from a node: find the transaction (by hash) or
//! the rollup block's record (by the node's index, `trestle_blockRecord`), pick the newest state at or above
//! it whose signatures carry a quorum of the trust anchor's committee, and fetch the history
//! proof linking the two. Nothing here is trusted: the kernel's
//! [`verify_confirmation`](trestle_light_client::verify_confirmation) checks it all.

use std::time::{Duration, Instant};

use trestle_light_client::{
    Anchor, Evidence, Namespace, Subject, minimal_quorum, transaction::DEFAULT_MAX_PAYLOAD,
};

use super::{
    FetchError,
    handoffs::fetch_handoffs,
    state::{ReportedState, newest_quorum},
};
use crate::{
    TrestleApiClient,
    records::{RecordFields, RecordNamespaceResponse},
    types::HeaderResponse,
};

/// How often the quorum search is repeated while waiting.
const QUORUM_POLL: Duration = Duration::from_millis(200);

/// How long to wait.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// How long to wait for a state with a quorum of signatures.
    pub quorum_wait: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self { quorum_wait: Duration::from_secs(10) }
    }
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
}

/// What [`fetch_evidence`] found.
#[derive(Debug)]
pub enum Fetched {
    /// The subject was found (boxed: it is much larger than the other variant).
    Found(Box<Found>),
    /// The node knows no such transaction, or has no record of the block's number yet.
    NotFound {
        /// For a block subject: what the node's finalized chain holds of the namespace.
        records: Option<RecordNamespaceResponse>,
    },
    /// The node's chain confirmed *another* record for the block's number (as the node says:
    /// verify it by fetching the evidence of `confirmed`).
    Conflict {
        /// The record confirmed for that number.
        confirmed: RecordFields,
        /// Height of the trestle block that confirmed it.
        height: u64,
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
    let tx_hash = match *subject {
        Subject::Transaction { hash } => hash,
        Subject::Block { number, hash } => {
            match client.block_record(namespace.get(), number, None).await? {
                None => {
                    let records = client.record_namespace(namespace.get()).await?;
                    return Ok(Fetched::NotFound { records: Some(records) });
                }
                Some(found) if found.record.hash != hash => {
                    return Ok(Fetched::Conflict { confirmed: found.record, height: found.height });
                }
                Some(found) => found.transaction.hash,
            }
        }
    };
    let Some(inclusion) = client.tx_proof(tx_hash).await? else {
        return Ok(Fetched::NotFound { records: None });
    };
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
    })))
}
