//! Signed light-client states as a node reports them, and the one newest-quorum search.

use trestle_light_client::{Committee, Epoch, LightClientState, StateSignature, minimal_quorum};

use super::FetchError;
use crate::TrestleApiClient;

/// How far below the newest finalized height [`newest_quorum`] looks: signatures are gossiped
/// after finality, so the newest heights may still lack some, while validators keep at least
/// this many recent heights' signatures (their retention is far longer) and every epoch's last
/// height for good. 32 heights are a few seconds of a busy network: a state that recent serves
/// every client, and a search that finds nothing there means the network is not signing.
pub const QUORUM_LOOKBACK: u64 = 32;

/// A finalized light-client state, its epoch's committee and the signatures collected on it, as
/// one node reports them.
///
/// Only the encodings and the committee commitment have been checked: whether the signatures
/// form a quorum is for [`select_quorum`](trestle_light_client::select_quorum) (or the prover,
/// which runs it first) to say.
#[derive(Clone, Debug)]
pub struct ReportedState {
    /// The state.
    pub state: LightClientState,
    /// The committee of the state's epoch, checked against its commitment (or the trust
    /// anchor's committee the caller gave).
    pub committee: Committee,
    /// The signatures the node has collected on `state` (possibly fewer than a quorum).
    pub signatures: Vec<StateSignature>,
}

/// Fetches the light-client state at `height`, the signatures on it and its epoch's committee.
pub async fn fetch_state<C>(client: &C, height: u64) -> Result<ReportedState, FetchError>
where
    C: TrestleApiClient + Sync,
{
    let (state, signatures) =
        fetch_signatures(client, height).await?.ok_or(FetchError::NotFinalized(height))?;
    let committee = node_committee(client, state.epoch).await?;
    Ok(ReportedState { state, committee, signatures })
}

/// The state at `height` and its signatures, `None` if the node has not finalized it.
async fn fetch_signatures<C>(
    client: &C,
    height: u64,
) -> Result<Option<(LightClientState, Vec<StateSignature>)>, FetchError>
where
    C: TrestleApiClient + Sync,
{
    let Some(response) = client.state_signatures(height).await? else { return Ok(None) };
    let state = response.state.decode()?;
    if state.height.get() != height {
        return Err(FetchError::WrongHeight { asked: height, got: state.height.get() });
    }
    Ok(Some((state, response.state_signatures())))
}

/// The node's committee of `epoch`, checked against its commitment.
async fn node_committee<C>(client: &C, epoch: Epoch) -> Result<Committee, FetchError>
where
    C: TrestleApiClient + Sync,
{
    let info =
        client.committee(epoch.get()).await?.ok_or(FetchError::UnknownCommittee(epoch.get()))?;
    Ok(info.to_committee()?)
}

/// The newest state at a height in `max(floor, top − QUORUM_LOOKBACK) ..= top` whose collected
/// signatures carry a quorum's weight of `committee` (a trust anchor's) or, without one, of the
/// node's own committee of the state's epoch; `None` if no height in that range has one.
///
/// Only weights are compared here (cheap); verify the signatures with
/// [`select_quorum`](trestle_light_client::select_quorum), which also skips invalid ones.
pub async fn newest_quorum<C>(
    client: &C,
    top: u64,
    floor: u64,
    committee: Option<&Committee>,
) -> Result<Option<ReportedState>, FetchError>
where
    C: TrestleApiClient + Sync,
{
    let lowest = floor.max(top.saturating_sub(QUORUM_LOOKBACK));
    // The node's committee changes only between epochs: fetched once per epoch.
    let mut cached: Option<(Epoch, Committee)> = None;
    for height in (lowest..=top).rev() {
        let Some((state, signatures)) = fetch_signatures(client, height).await? else { continue };
        let committee = match (committee, &cached) {
            (Some(anchor), _) => anchor.clone(),
            (None, Some((epoch, known))) if *epoch == state.epoch => known.clone(),
            (None, _) => {
                let fetched = node_committee(client, state.epoch).await?;
                cached = Some((state.epoch, fetched.clone()));
                fetched
            }
        };
        if minimal_quorum(&committee, &signatures).is_some() {
            return Ok(Some(ReportedState { state, committee, signatures }));
        }
    }
    Ok(None)
}
