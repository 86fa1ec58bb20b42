//! Client-side helpers over [`TrestleApiClient`](super::TrestleApiClient): fetch what a prover or
//! a verifier needs from a node and check it before anyone relies on it.

use jsonrpsee::core::client::Error as ClientError;
use trestle_light_client::{
    Committee, LightClientState, StateSignature, state::StateError, verify_quorum,
};

use super::{CommitteeInfoError, TrestleApiClient};

/// A finalized light-client state, its epoch's committee and the signatures collected on it, as
/// one node reports them.
///
/// Only the encodings and the committee commitment have been checked here: whether the
/// signatures form a quorum is for [`verify_quorum`](trestle_light_client::verify_quorum) (or
/// the prover, which runs it first) to say.
#[derive(Clone, Debug)]
pub struct SignedState {
    /// The state.
    pub state: LightClientState,
    /// The committee of the state's epoch, checked against its commitment.
    pub committee: Committee,
    /// The signatures the node has collected on `state` (possibly fewer than a quorum).
    pub signatures: Vec<StateSignature>,
}

/// Why [`fetch_signed_state`] could not produce a [`SignedState`].
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The request failed (transport, or the node returned an error).
    #[error("rpc: {0}")]
    Rpc(#[from] ClientError),
    /// The node has not finalized this height (yet).
    #[error("height {0} is not finalized on this node")]
    NotFinalized(u64),
    /// The node does not know the committee of this epoch.
    #[error("the node does not know the committee of epoch {0}")]
    UnknownCommittee(u64),
    /// The state's canonical encoding does not decode.
    #[error("malformed light-client state: {0}")]
    State(#[from] StateError),
    /// The state the node returned is for another height than asked.
    #[error("asked for the state at height {asked}, got height {got}")]
    WrongHeight {
        /// Requested height.
        asked: u64,
        /// Height of the returned state.
        got: u64,
    },
    /// The committee does not match its commitment.
    #[error(transparent)]
    Committee(#[from] CommitteeInfoError),
}

/// Fetches the light-client state at `height`, the signatures on it and its epoch's committee.
pub async fn fetch_signed_state<C>(client: &C, height: u64) -> Result<SignedState, FetchError>
where
    C: TrestleApiClient + Sync,
{
    let response =
        client.state_signatures(height).await?.ok_or(FetchError::NotFinalized(height))?;
    let state = response.state.decode()?;
    if state.height.0 != height {
        return Err(FetchError::WrongHeight { asked: height, got: state.height.0 });
    }
    let info = client
        .committee(state.epoch.0)
        .await?
        .ok_or(FetchError::UnknownCommittee(state.epoch.0))?;
    let committee = info.to_committee()?;
    Ok(SignedState { state, committee, signatures: response.state_signatures() })
}

/// The newest state at a height in `floor..=top` whose collected signatures already form a
/// quorum (signatures are gossiped after finality, so the newest height may not have one yet),
/// or `None` if no height in the range has one.
pub async fn fetch_newest_quorum<C>(
    client: &C,
    top: u64,
    floor: u64,
) -> Result<Option<SignedState>, FetchError>
where
    C: TrestleApiClient + Sync,
{
    for height in (floor..=top).rev() {
        let signed = fetch_signed_state(client, height).await?;
        if verify_quorum(&signed.committee, &signed.state, &signed.signatures).is_ok() {
            return Ok(Some(signed));
        }
    }
    Ok(None)
}
