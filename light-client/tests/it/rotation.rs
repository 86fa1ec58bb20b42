//! Committee rotation (`rotation`): L1 references never go back along the chain, and the
//! committee two epochs on is the stake table's selection when the reference moved, the current
//! one carried forward otherwise.

use alloy_primitives::B256;
use proptest::prelude::*;
use trestle_light_client::{
    SecretKey,
    rotation::{
        CommitteeRecord, CommitteeSeat, L1Reference, L1ReferenceError, MIN_COMMITTEE, RecordError,
        Rotation, RotationError, StakeTableAt, check_advance, rotate,
    },
};

use super::stake::{HashPops, TABLE, at, registration, snapshot_of};

fn reference(number: u64, tag: u8) -> L1Reference {
    L1Reference { number, hash: B256::repeat_byte(tag) }
}

fn member(i: u8) -> CommitteeSeat {
    CommitteeSeat {
        consensus_key: B256::repeat_byte(i),
        light_client_key: *SecretKey::from_seed([i; 32]).public_key(),
        p2p_address: Some(format!("127.0.0.1:{}", 3000 + u16::from(i)).parse().unwrap()),
    }
}

fn genesis_record() -> CommitteeRecord {
    CommitteeRecord::new((1..=4).map(member).collect(), 8).unwrap()
}

#[test]
fn references_advance_or_stay_and_never_fork() {
    let none = L1Reference::NONE;
    check_advance(&none, &none).unwrap();
    check_advance(&none, &reference(5, 1)).unwrap();
    check_advance(&reference(5, 1), &reference(5, 1)).unwrap();
    check_advance(&reference(5, 1), &reference(9, 2)).unwrap();
    assert_eq!(
        check_advance(&reference(5, 1), &reference(4, 1)),
        Err(L1ReferenceError::Regressed { parent: 5, child: 4 })
    );
    assert_eq!(
        check_advance(&reference(5, 1), &none),
        Err(L1ReferenceError::Regressed { parent: 5, child: 0 })
    );
    assert_eq!(
        check_advance(&reference(5, 1), &reference(5, 2)),
        Err(L1ReferenceError::Forked {
            number: 5,
            parent: B256::repeat_byte(1),
            child: B256::repeat_byte(2)
        })
    );
    assert_eq!(
        check_advance(&none, &L1Reference { number: 3, hash: B256::ZERO }),
        Err(L1ReferenceError::ZeroHash(3))
    );
    // L1 genesis (number 0) with its real hash follows NONE; NONE cannot follow it.
    check_advance(&none, &reference(0, 7)).unwrap();
    assert!(check_advance(&reference(0, 7), &none).is_err());
}

proptest! {
    /// The rule is a total order on accepted chains: a chain of accepted references has
    /// non-decreasing numbers, and equal numbers carry equal hashes.
    #[test]
    fn accepted_chains_are_monotonic(steps in prop::collection::vec((0u64..4, 1u8..3), 1..20)) {
        let mut chain = vec![L1Reference::NONE];
        for (delta, tag) in steps {
            let last = *chain.last().unwrap();
            let next = reference(last.number + delta, tag);
            if check_advance(&last, &next).is_ok() {
                chain.push(next);
            }
        }
        for pair in chain.windows(2) {
            prop_assert!(pair[0].number <= pair[1].number);
            if pair[0].number == pair[1].number && !pair[0].is_none() {
                prop_assert_eq!(pair[0].hash, pair[1].hash);
            }
        }
    }
}

#[test]
fn records_refuse_duplicate_keys_and_overflow() {
    let mut members: Vec<_> = (1..=4).map(member).collect();
    let record = CommitteeRecord::new(members.clone(), 4).unwrap();
    assert_eq!(record.slot_of(&B256::repeat_byte(3)), Some(2));
    assert_eq!(record.commitment(), record.light_client().commitment_bytes());
    assert!(matches!(CommitteeRecord::new(members.clone(), 3), Err(RecordError::Committee(_))));
    members[3].consensus_key = members[0].consensus_key;
    assert_eq!(
        CommitteeRecord::new(members.clone(), 8),
        Err(RecordError::DuplicateConsensusKey { first: 0, second: 3 })
    );
    members[3] = member(4);
    members[3].light_client_key = members[1].light_client_key;
    assert!(matches!(CommitteeRecord::new(members, 8), Err(RecordError::Committee(_))));
    assert!(matches!(CommitteeRecord::new(Vec::new(), 8), Err(RecordError::Committee(_))));
}

#[test]
fn an_unmoved_reference_carries_the_committee_forward_without_the_table() {
    let next = genesis_record();
    let r = reference(10, 1);
    // No stake table needed, none consulted, even on a network without one.
    assert_eq!(rotate(&next, &r, &r, None, &HashPops), Ok((next.clone(), Rotation::Unchanged)));
    let none = L1Reference::NONE;
    assert_eq!(
        rotate(&next, &none, &none, None, &HashPops),
        Ok((next.clone(), Rotation::Unchanged))
    );
    assert_eq!(rotate(&next, &none, &r, None, &HashPops), Err(RotationError::NoStakeTable));
    let at_r = StakeTableAt { table: &TABLE, snapshot: None };
    assert_eq!(
        rotate(&next, &none, &r, Some(at_r), &HashPops),
        Err(RotationError::StakeTableNeeded(r))
    );
}

#[test]
fn a_moved_reference_selects_the_top_stakes_in_ranking_order() {
    let next = genesis_record();
    let registrations: Vec<_> =
        (0..10u64).map(|i| registration(i, 100 + u128::from(i % 3), at(1 + i, 0))).collect();
    let snapshot = snapshot_of(&registrations);
    let at_r = StakeTableAt { table: &TABLE, snapshot: Some(&snapshot) };
    let (record, how) =
        rotate(&next, &reference(1, 1), &reference(20, 2), Some(at_r), &HashPops).unwrap();
    assert_eq!(how, Rotation::FromStakeTable);
    assert_eq!(record.capacity(), next.capacity(), "the circuit's capacity is kept");
    // Stakes 102 (i = 2, 5, 8), then 101 (1, 4, 7), then 100 (0, 3, 6, 9); eight seats.
    let expected: Vec<B256> = [2u64, 5, 8, 1, 4, 7, 0, 3]
        .iter()
        .map(|&i| registrations[i as usize].consensus_key)
        .collect();
    let got: Vec<B256> = record.members().iter().map(|m| m.consensus_key).collect();
    assert_eq!(got, expected);
    for (member, i) in record.members().iter().zip([2usize, 5, 8, 1, 4, 7, 0, 3]) {
        assert_eq!(member.light_client_key.to_bytes(), registrations[i].light_client_key);
        assert_eq!(
            member.p2p_address.as_ref().expect("named").to_string(),
            registrations[i].p2p_address
        );
    }
    assert_ne!(record.commitment(), next.commitment());
}

#[test]
fn too_few_eligible_carries_forward_and_invalid_registrations_do_not_count() {
    let next = genesis_record();
    let mut registrations: Vec<_> =
        (0..MIN_COMMITTEE as u64).map(|i| registration(i, 100, at(1 + i, 0))).collect();
    // One bad proof of possession: only MIN_COMMITTEE - 1 are eligible.
    registrations[2].consensus_pop[0] ^= 1;
    let snapshot = snapshot_of(&registrations);
    let at_r = StakeTableAt { table: &TABLE, snapshot: Some(&snapshot) };
    let carried = rotate(&next, &reference(1, 1), &reference(2, 2), Some(at_r), &HashPops);
    assert_eq!(carried, Ok((next.clone(), Rotation::TooFewEligible(MIN_COMMITTEE - 1))));
    // With the proof mended, the table's committee replaces the carried one.
    registrations[2] = registration(2, 100, at(3, 0));
    let snapshot = snapshot_of(&registrations);
    let at_r = StakeTableAt { table: &TABLE, snapshot: Some(&snapshot) };
    let (record, how) =
        rotate(&next, &reference(1, 1), &reference(2, 2), Some(at_r), &HashPops).unwrap();
    assert_eq!(how, Rotation::FromStakeTable);
    assert_eq!(record.members().len(), MIN_COMMITTEE);
}
