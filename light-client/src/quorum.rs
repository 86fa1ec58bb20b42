//! Native verification of a signed light-client state: the check the Groth16 circuit proves.
//!
//! A state is accepted when the signatures of distinct committee slots, each valid on the
//! state's message, carry more than two thirds of the committee's total weight. Any malformed
//! part (unknown slot, repeated slot, invalid signature) rejects the whole set rather than being
//! skipped, so what passes here is exactly what the prover can prove.
//!
//! Signatures are checked with the committee's prepared key tables when it has them
//! ([`Committee::prepare`]), and on all cores with the `parallel` feature.
//!
//! A node serves every signature it collected, usually more than a quorum. [`minimal_quorum`]
//! picks the smallest prefix (in slot order) that carries a quorum's weight, without checking
//! signatures (cheap: how clients choose a height); [`select_quorum`] verifies such a prefix and,
//! when a signature in it is invalid (a lying node or a faulty signer), drops that slot and tries
//! the next signers, so one bad signature never hides a quorum of good ones. Verifying only a
//! minimal quorum keeps large committees fast.

use crate::{
    committee::Committee,
    eddsa::{Signature, SignatureError},
    state::{LightClientState, StateError},
};

/// One committee member's signature on a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StateSignature {
    /// The signer's slot in the committee.
    pub slot: u32,
    /// Its EdDSA-Poseidon signature on the state's message.
    pub signature: Signature,
}

/// Why a signed state was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuorumError {
    /// The state has no valid message (its `nextCommittee` is not a field element).
    #[error(transparent)]
    State(#[from] StateError),
    /// A signature names a slot the committee does not have.
    #[error("slot {slot} is outside the committee of {members}")]
    UnknownSlot {
        /// The slot named.
        slot: u32,
        /// Committee size.
        members: usize,
    },
    /// Two signatures name the same slot.
    #[error("slot {0} signed twice")]
    DuplicateSlot(u32),
    /// A signature does not verify under its slot's key.
    #[error("signature of slot {slot} is invalid: {source}")]
    InvalidSignature {
        /// The slot whose signature failed.
        slot: u32,
        /// Why it failed.
        source: SignatureError,
    },
    /// The valid signatures do not carry more than two thirds of the weight.
    #[error("signed weight {signed} of {total} is not more than two thirds")]
    InsufficientWeight {
        /// Weight of the valid signatures.
        signed: u128,
        /// Total committee weight.
        total: u128,
    },
}

/// Verifies that `signatures` are a quorum of `committee` on `state`; returns the signed weight.
///
/// The caller is responsible for `committee` being the one that signs `state` (the committee
/// whose commitment the headers of `state.epoch` carry).
pub fn verify_quorum(
    committee: &Committee,
    state: &LightClientState,
    signatures: &[StateSignature],
) -> Result<u128, QuorumError> {
    let message = state.message()?;
    let slots = committee.slots();
    let mut seen = vec![false; slots.len()];
    let mut signed = 0u128;
    let mut checks = Vec::with_capacity(signatures.len());
    for sig in signatures {
        let index = sig.slot as usize;
        let Some(slot) = slots.get(index) else {
            return Err(QuorumError::UnknownSlot { slot: sig.slot, members: slots.len() });
        };
        if std::mem::replace(&mut seen[index], true) {
            return Err(QuorumError::DuplicateSlot(sig.slot));
        }
        signed += u128::from(slot.weight);
        checks.push((sig, index));
    }
    // Fail fast on weight before spending time on signatures.
    if !committee.is_quorum(signed) {
        return Err(QuorumError::InsufficientWeight { signed, total: committee.total_weight() });
    }
    let tables = committee.tables();
    let verify = |&(sig, index): &(&StateSignature, usize)| {
        let key = &slots[index].key;
        match tables {
            Some(tables) => sig.signature.verify_prepared(key, &tables[index], &message),
            None => sig.signature.verify(key, &message),
        }
        .map_err(|source| QuorumError::InvalidSignature { slot: sig.slot, source })
    };
    #[cfg(feature = "parallel")]
    let results: Vec<Result<(), QuorumError>> = {
        use rayon::prelude::*;
        checks.par_iter().map(verify).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let results: Vec<Result<(), QuorumError>> = checks.iter().map(verify).collect();
    // Report the first failure in input order, whatever order the checks ran in.
    results.into_iter().collect::<Result<Vec<()>, _>>()?;
    Ok(signed)
}

/// The smallest prefix (in slot order, distinct slots of the committee, unknown slots skipped)
/// of `signatures` that carries a quorum's weight, or `None` if all of them together do not.
/// Signatures are not checked here: see [`select_quorum`].
pub fn minimal_quorum(
    committee: &Committee,
    signatures: &[StateSignature],
) -> Option<Vec<StateSignature>> {
    let slots = committee.slots();
    let mut sorted: Vec<StateSignature> =
        signatures.iter().filter(|s| (s.slot as usize) < slots.len()).copied().collect();
    sorted.sort_by_key(|s| s.slot);
    sorted.dedup_by_key(|s| s.slot);
    let mut weight = 0u128;
    let mut chosen = Vec::new();
    for signature in sorted {
        weight += u128::from(slots[signature.slot as usize].weight);
        chosen.push(signature);
        if committee.is_quorum(weight) {
            return Some(chosen);
        }
    }
    None
}

/// A verified quorum: the signatures chosen and the weight they carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quorum {
    /// Valid signatures of distinct slots, in slot order.
    pub signatures: Vec<StateSignature>,
    /// Their weight (more than two thirds of the committee's).
    pub weight: u128,
}

/// Verifies a [`minimal_quorum`] of `signatures` on `state` and returns it; a slot whose
/// signature does not verify is dropped and the next signers are tried while the remaining ones
/// still carry a quorum's weight.
///
/// Fails with [`QuorumError::InsufficientWeight`] (the weight of the valid signatures among
/// them) when the valid signatures do not carry a quorum, and with the state's error when it
/// has no message.
pub fn select_quorum(
    committee: &Committee,
    state: &LightClientState,
    signatures: &[StateSignature],
) -> Result<Quorum, QuorumError> {
    let mut candidates = signatures.to_vec();
    while let Some(chosen) = minimal_quorum(committee, &candidates) {
        match verify_quorum(committee, state, &chosen) {
            Ok(weight) => return Ok(Quorum { signatures: chosen, weight }),
            Err(QuorumError::InvalidSignature { slot, .. }) => {
                candidates.retain(|s| s.slot != slot);
            }
            Err(other) => return Err(other),
        }
    }
    // No quorum: report the weight of the signatures that are valid, each checked alone.
    let message = state.message()?;
    let slots = committee.slots();
    let mut counted = vec![false; slots.len()];
    let mut signed = 0u128;
    for sig in &candidates {
        let index = sig.slot as usize;
        let Some(slot) = slots.get(index) else { continue };
        if !counted[index] && sig.signature.verify(&slot.key, &message).is_ok() {
            counted[index] = true;
            signed += u128::from(slot.weight);
        }
    }
    Err(QuorumError::InsufficientWeight { signed, total: committee.total_weight() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{eddsa::SecretKey, primitives::*};
    use alloy_primitives::B256;

    fn setup(n: u8) -> (Vec<SecretKey>, Committee, LightClientState) {
        let keys: Vec<SecretKey> = (0..n).map(|i| SecretKey::from_seed([i + 1; 32])).collect();
        let committee =
            Committee::equal_weight(keys.iter().map(|k| *k.public_key()), 8).expect("valid");
        let state = LightClientState {
            chain_id: ChainId(7),
            epoch: Epoch(1),
            height: Height(42),
            history_root: B256::repeat_byte(0xee),
            next_committee: committee.commitment_bytes(),
        };
        (keys, committee, state)
    }

    fn sign(keys: &[SecretKey], slots: &[u32], state: &LightClientState) -> Vec<StateSignature> {
        let m = state.message().expect("valid state");
        slots
            .iter()
            .map(|&slot| StateSignature { slot, signature: keys[slot as usize].sign(&m) })
            .collect()
    }

    #[test]
    fn strictly_more_than_two_thirds() {
        let (keys, committee, state) = setup(6);
        // 4 of 6 is exactly 2/3: not enough. 5 of 6 is.
        assert_eq!(
            verify_quorum(&committee, &state, &sign(&keys, &[0, 1, 2, 3], &state)),
            Err(QuorumError::InsufficientWeight { signed: 4, total: 6 })
        );
        assert_eq!(
            verify_quorum(&committee, &state, &sign(&keys, &[5, 0, 1, 2, 3], &state)),
            Ok(5)
        );
    }

    #[test]
    fn prepared_committee_gives_the_same_verdicts() {
        let (keys, committee, state) = setup(4);
        let mut tampered = sign(&keys, &[0, 1, 2], &state);
        tampered[1].slot = 3;
        let cold = (
            verify_quorum(&committee, &state, &sign(&keys, &[0, 1, 2], &state)),
            verify_quorum(&committee, &state, &tampered),
        );
        assert!(committee.tables().is_none());
        committee.prepare();
        assert!(committee.tables().is_some());
        let warm = (
            verify_quorum(&committee, &state, &sign(&keys, &[0, 1, 2], &state)),
            verify_quorum(&committee, &state, &tampered),
        );
        assert_eq!(cold, warm);
        assert_eq!(warm.0, Ok(3));
        assert!(warm.1.is_err());
    }

    #[test]
    fn every_malformed_set_is_rejected_with_its_reason() {
        let (keys, committee, state) = setup(4);
        committee.prepare();
        let mut sigs = sign(&keys, &[0, 1, 2], &state);
        sigs.push(sigs[0]);
        assert_eq!(verify_quorum(&committee, &state, &sigs), Err(QuorumError::DuplicateSlot(0)));
        let mut sigs = sign(&keys, &[0, 1, 2], &state);
        sigs[2].slot = 9;
        assert_eq!(
            verify_quorum(&committee, &state, &sigs),
            Err(QuorumError::UnknownSlot { slot: 9, members: 4 })
        );
        // Slot 2's signature presented as slot 3's.
        let mut sigs = sign(&keys, &[0, 1, 2], &state);
        sigs[2].slot = 3;
        assert!(matches!(
            verify_quorum(&committee, &state, &sigs),
            Err(QuorumError::InvalidSignature { slot: 3, .. })
        ));
        // Signatures on another height do not count.
        let mut other = state.clone();
        other.height = Height(43);
        assert!(matches!(
            verify_quorum(&committee, &state, &sign(&keys, &[0, 1, 2], &other)),
            Err(QuorumError::InvalidSignature { slot: 0, .. })
        ));
        let mut bad = state.clone();
        bad.next_committee = B256::repeat_byte(0xff);
        assert!(matches!(verify_quorum(&committee, &bad, &[]), Err(QuorumError::State(_))));
    }

    #[test]
    fn minimal_quorum_takes_the_smallest_prefix_in_slot_order() {
        let (keys, committee, state) = setup(6);
        let mut all = sign(&keys, &[5, 3, 1, 0, 2, 4, 4], &state);
        all.push(StateSignature { slot: 9, signature: all[0].signature });
        let chosen = minimal_quorum(&committee, &all).expect("a quorum's weight");
        assert_eq!(chosen.iter().map(|s| s.slot).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
        assert_eq!(minimal_quorum(&committee, &all[..4]), None, "4 of 6 is not a quorum");
        assert_eq!(minimal_quorum(&committee, &[]), None);
    }

    #[test]
    fn select_quorum_skips_invalid_signatures_while_a_quorum_remains() {
        let (keys, committee, state) = setup(6);
        let mut all = sign(&keys, &[0, 1, 2, 3, 4, 5], &state);
        assert_eq!(
            select_quorum(&committee, &state, &all).map(|q| (q.signatures.len(), q.weight)),
            Ok((5, 5))
        );
        // Slot 1 signed another height: dropped, slot 5 takes its place.
        let mut other = state.clone();
        other.height = Height(43);
        all[1] = sign(&keys, &[1], &other)[0];
        let quorum = select_quorum(&committee, &state, &all).expect("5 valid of 6");
        assert_eq!(quorum.signatures.iter().map(|s| s.slot).collect::<Vec<_>>(), [0, 2, 3, 4, 5]);
        verify_quorum(&committee, &state, &quorum.signatures).expect("what it selects verifies");
        // A second bad signature leaves 4 of 6: no quorum, and the valid weight is reported.
        all[2] = sign(&keys, &[2], &other)[0];
        assert_eq!(
            select_quorum(&committee, &state, &all),
            Err(QuorumError::InsufficientWeight { signed: 4, total: 6 })
        );
    }
}
