//! Fetching the hand-offs a trust anchor needs to reach a later epoch (`trestle_epochProof`,
//! one per epoch), checked as they arrive with the kernel's
//! [`follow_handoff`](trestle_light_client::handoff::follow_handoff): a node that lies about a
//! hand-off is caught at the first wrong one.

use trestle_light_client::{
    Anchor, CommitteeSlot, Epoch,
    handoff::{Handoff, follow_handoff},
};

use super::FetchError;
use crate::{TrestleApiClient, types::EpochProofResponse};

/// The kernel's hand-off from the node's answer (canonical state bytes, signatures, the next
/// committee's members).
pub fn handoff_of(proof: &EpochProofResponse) -> Handoff {
    Handoff {
        state: proof.last.state.encoded.clone(),
        signatures: proof.last.state_signatures(),
        next_slots: proof
            .next_committee
            .members
            .iter()
            .map(|m| CommitteeSlot { key: m.light_client_key, weight: m.weight })
            .collect(),
        next_capacity: proof.next_committee.capacity,
    }
}

/// The hand-offs from `anchor`'s epoch to `target` (none if the anchor is there already), and
/// the anchor they lead to.
pub async fn fetch_handoffs<C>(
    client: &C,
    anchor: &Anchor,
    target: Epoch,
) -> Result<(Vec<Handoff>, Anchor), FetchError>
where
    C: TrestleApiClient + Sync,
{
    let mut handoffs = Vec::new();
    let mut reached = anchor.clone();
    while reached.epoch < target {
        let epoch = reached.epoch.get();
        let proof = client.epoch_proof(epoch).await?.ok_or(FetchError::NoHandoff(epoch))?;
        let handoff = handoff_of(&proof);
        reached = follow_handoff(&reached, &handoff)?;
        handoffs.push(handoff);
    }
    Ok((handoffs, reached))
}
