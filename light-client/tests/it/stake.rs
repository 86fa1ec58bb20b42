//! The stake table (`stake`): snapshots fold exactly what the contract can emit, and the committee
//! rule ranks by stake then registration order, leaving out (with the reason) every registration
//! whose keys, proofs or address do not hold.

use alloy_primitives::{Address, B256, keccak256};
use proptest::prelude::*;
use trestle_light_client::{
    SecretKey,
    stake::{
        CONSENSUS_POP_LEN, ConsensusPopVerifier, Ineligible, LogPosition, Registration,
        StakeTableError, StakeTableEvent, StakeTableId, StakeTableSnapshot,
        light_client_pop_message, pop_message, select_committee,
    },
};

pub(crate) const TABLE: StakeTableId =
    StakeTableId { chain_id: 900, address: Address::new([0x57; 20]) };

/// ed25519 is checked outside the kernel; here a consensus proof "verifies" when it is
/// keccak(key ‖ message) twice, which only someone who computed it for this message has.
pub(crate) struct HashPops;

fn hash_pop(key: &B256, message: &B256) -> [u8; CONSENSUS_POP_LEN] {
    let half = keccak256([key.as_slice(), message.as_slice()].concat());
    let mut pop = [0u8; CONSENSUS_POP_LEN];
    pop[..32].copy_from_slice(half.as_slice());
    pop[32..].copy_from_slice(half.as_slice());
    pop
}

impl ConsensusPopVerifier for HashPops {
    fn verify(&self, key: &B256, message: &B256, pop: &[u8; CONSENSUS_POP_LEN]) -> bool {
        *pop == hash_pop(key, message)
    }
}

fn account(i: u64) -> Address {
    Address::left_padding_from(&(0x1000 + i).to_be_bytes())
}

pub(crate) fn at(block: u64, index: u64) -> LogPosition {
    LogPosition { block, index }
}

/// Registration `i`: distinct keys, valid proofs for `account(i)`, the given stake and position.
pub(crate) fn registration(i: u64, stake: u128, registered_at: LogPosition) -> Registration {
    let secret = SecretKey::from_seed(keccak256(i.to_be_bytes()).0);
    let light_client_key = secret.public_key().to_bytes();
    let consensus_key = keccak256([b"consensus".as_slice(), &i.to_be_bytes()].concat());
    let account = account(i);
    let message = pop_message(&TABLE, &account, &consensus_key, &light_client_key);
    Registration {
        account,
        consensus_key,
        light_client_key,
        p2p_address: format!("10.0.0.{}:3000", i % 250),
        consensus_pop: hash_pop(&consensus_key, &message),
        light_client_pop: secret.sign(&light_client_pop_message(&message)).to_bytes(),
        stake,
        registered_at,
    }
}

pub(crate) fn snapshot_of(registrations: &[Registration]) -> StakeTableSnapshot {
    let mut sorted = registrations.to_vec();
    sorted.sort_by_key(|r| r.registered_at);
    let mut snapshot = StakeTableSnapshot::new();
    for r in sorted {
        snapshot.apply(r.registered_at, StakeTableEvent::Registered(Box::new(r))).unwrap();
    }
    snapshot
}

fn accounts_of(selection: &trestle_light_client::stake::Selection<'_>) -> Vec<Address> {
    selection.members.iter().map(|m| m.registration.account).collect()
}

#[test]
fn snapshot_follows_stake_moves_and_exits() {
    let mut snapshot = snapshot_of(&[registration(0, 10, at(1, 0)), registration(1, 20, at(1, 1))]);
    snapshot
        .apply(at(2, 0), StakeTableEvent::StakeAdded { account: account(0), stake: 30 })
        .unwrap();
    snapshot
        .apply(
            at(2, 1),
            StakeTableEvent::P2pAddressUpdated {
                account: account(0),
                p2p_address: "10.9.9.9:1".into(),
            },
        )
        .unwrap();
    snapshot.apply(at(3, 0), StakeTableEvent::Deregistered { account: account(1) }).unwrap();
    assert_eq!(snapshot.len(), 1);
    let entry = snapshot.get(&account(0)).unwrap();
    assert_eq!((entry.stake, entry.p2p_address.as_str()), (30, "10.9.9.9:1"));
    assert_eq!(snapshot.last_position(), Some(at(3, 0)));
    // The account may come back (after withdrawing) with new keys.
    let mut again = registration(7, 5, at(4, 0));
    again.account = account(1);
    snapshot.apply(at(4, 0), StakeTableEvent::Registered(Box::new(again))).unwrap();
    assert_eq!(snapshot.len(), 2);
}

#[test]
fn snapshot_refuses_what_the_contract_cannot_emit_and_stays_unchanged() {
    let mut snapshot = snapshot_of(&[registration(0, 10, at(5, 3))]);
    let before = snapshot.clone();
    let refusals = [
        (
            at(5, 3),
            StakeTableEvent::Deregistered { account: account(0) },
            StakeTableError::OutOfOrder { position: at(5, 3), previous: at(5, 3) },
        ),
        (
            at(4, 9),
            StakeTableEvent::Deregistered { account: account(0) },
            StakeTableError::OutOfOrder { position: at(4, 9), previous: at(5, 3) },
        ),
        (
            at(6, 0),
            StakeTableEvent::Registered(Box::new(registration(0, 10, at(6, 0)))),
            StakeTableError::AlreadyRegistered(account(0)),
        ),
        (
            at(6, 0),
            StakeTableEvent::Registered(Box::new(registration(1, 10, at(6, 1)))),
            StakeTableError::PositionMismatch { position: at(6, 0), claimed: at(6, 1) },
        ),
        (
            at(6, 0),
            StakeTableEvent::Deregistered { account: account(1) },
            StakeTableError::NotRegistered(account(1)),
        ),
        (
            at(6, 0),
            StakeTableEvent::StakeAdded { account: account(1), stake: 1 },
            StakeTableError::NotRegistered(account(1)),
        ),
        (
            at(6, 0),
            StakeTableEvent::P2pAddressUpdated { account: account(1), p2p_address: "x".into() },
            StakeTableError::NotRegistered(account(1)),
        ),
        (
            at(6, 0),
            StakeTableEvent::StakeAdded { account: account(0), stake: 9 },
            StakeTableError::StakeDecreased { account: account(0), from: 10, to: 9 },
        ),
    ];
    for (position, event, expected) in refusals {
        assert_eq!(snapshot.apply(position, event), Err(expected.clone()), "{expected}");
        assert_eq!(snapshot, before, "unchanged after {expected}");
    }
}

#[test]
fn committee_is_top_stake_with_earliest_registration_on_ties() {
    let table = [
        registration(0, 50, at(1, 0)),
        registration(1, 70, at(1, 1)),
        registration(2, 50, at(2, 0)),
        registration(3, 90, at(3, 0)),
        registration(4, 50, at(0, 7)),
    ];
    let snapshot = snapshot_of(&table);
    let selection = select_committee(&TABLE, &snapshot, 4, &HashPops);
    assert_eq!(accounts_of(&selection), [account(3), account(1), account(4), account(0)]);
    assert_eq!(selection.waiting.iter().map(|r| r.account).collect::<Vec<_>>(), [account(2)]);
    assert!(selection.ineligible.is_empty());
    assert_eq!(selection.members[0].p2p_address.to_string(), "10.0.0.3:3000");

    let everyone = select_committee(&TABLE, &snapshot, 10, &HashPops);
    assert_eq!(everyone.members.len(), 5);
    assert!(everyone.waiting.is_empty());
    assert!(select_committee(&TABLE, &snapshot, 0, &HashPops).members.is_empty());
}

#[test]
fn registrations_that_fail_the_rule_are_left_out_with_their_reason() {
    let good = registration(0, 10, at(1, 0));

    let mut wrong_account = registration(1, 99, at(1, 1));
    wrong_account.account = account(11); // both proofs were made for account(1)
    let mut bad_light_client_key = registration(2, 99, at(1, 2));
    bad_light_client_key.light_client_key[63] ^= 1;
    let mut bad_light_client_pop = registration(3, 99, at(1, 3));
    bad_light_client_pop.light_client_pop = registration(4, 0, at(0, 0)).light_client_pop;
    let mut bad_consensus_pop = registration(5, 99, at(1, 4));
    bad_consensus_pop.consensus_pop[0] ^= 1;
    let mut bad_address = registration(6, 99, at(1, 5));
    // An underscore is not allowed in a DNS name; the name itself would be (`named` below).
    bad_address.p2p_address = "validator_6.example.org:3000".into();
    let mut same_consensus_key = registration(7, 99, at(1, 6));
    same_consensus_key.consensus_key = good.consensus_key;
    // The proofs must be valid for the duplicate to be the only reason.
    let message = pop_message(
        &TABLE,
        &same_consensus_key.account,
        &same_consensus_key.consensus_key,
        &same_consensus_key.light_client_key,
    );
    same_consensus_key.consensus_pop = hash_pop(&same_consensus_key.consensus_key, &message);
    let secret = SecretKey::from_seed(keccak256(7u64.to_be_bytes()).0);
    same_consensus_key.light_client_pop =
        secret.sign(&light_client_pop_message(&message)).to_bytes();
    let mut same_light_client_key = registration(8, 99, at(1, 7));
    same_light_client_key.light_client_key = good.light_client_key;
    // A scoped IPv6 address is host-local and would not survive a block's encoding.
    let mut scoped_address = registration(9, 99, at(1, 8));
    scoped_address.p2p_address = "[fe80::1%2]:3000".into();
    let mut plain_v6 = registration(10, 1, at(1, 9));
    plain_v6.p2p_address = "[2001:db8::1]:3000".into();
    let mut named = registration(12, 2, at(1, 10));
    named.p2p_address = "validator-12.example.org:3000".into();

    let snapshot = snapshot_of(&[
        good.clone(),
        wrong_account,
        bad_light_client_key,
        bad_light_client_pop,
        bad_consensus_pop,
        bad_address,
        same_consensus_key,
        same_light_client_key,
        scoped_address,
        plain_v6.clone(),
        named.clone(),
    ]);
    let selection = select_committee(&TABLE, &snapshot, 10, &HashPops);
    assert_eq!(accounts_of(&selection), [good.account, named.account, plain_v6.account]);
    assert_eq!(selection.members[1].p2p_address.to_string(), named.p2p_address);
    let reasons: Vec<(Address, String)> = selection
        .ineligible
        .iter()
        .map(|(r, why)| {
            let kind = match why {
                Ineligible::LightClientKey(_) => "key",
                Ineligible::LightClientPop(_) => "lc-pop",
                Ineligible::ConsensusPop => "consensus-pop",
                Ineligible::P2pAddress(_) => "address",
                Ineligible::DuplicateKey(holder) => {
                    assert_eq!(*holder, good.account);
                    "duplicate"
                }
            };
            (r.account, kind.to_string())
        })
        .collect();
    let expected = [
        (account(11), "lc-pop"),
        (account(2), "key"),
        (account(3), "lc-pop"),
        (account(5), "consensus-pop"),
        (account(6), "address"),
        (account(7), "duplicate"),
        (account(8), "duplicate"),
        (account(9), "address"),
    ];
    assert_eq!(reasons, expected.iter().map(|(a, k)| (*a, k.to_string())).collect::<Vec<_>>());
    // The same table on another chain or contract: every proof is for this table only.
    let elsewhere = StakeTableId { chain_id: 901, ..TABLE };
    assert!(select_committee(&elsewhere, &snapshot, 10, &HashPops).members.is_empty());
}

#[test]
fn pop_message_binds_every_field() {
    let r = registration(0, 1, at(0, 0));
    let base = pop_message(&TABLE, &r.account, &r.consensus_key, &r.light_client_key);
    let other_table = StakeTableId { address: Address::new([0x58; 20]), ..TABLE };
    let other_chain = StakeTableId { chain_id: 1, ..TABLE };
    let mut other_key = r.light_client_key;
    other_key[0] ^= 1;
    for changed in [
        pop_message(&other_table, &r.account, &r.consensus_key, &r.light_client_key),
        pop_message(&other_chain, &r.account, &r.consensus_key, &r.light_client_key),
        pop_message(&TABLE, &account(9), &r.consensus_key, &r.light_client_key),
        pop_message(&TABLE, &r.account, &B256::repeat_byte(1), &r.light_client_key),
        pop_message(&TABLE, &r.account, &r.consensus_key, &other_key),
    ] {
        assert_ne!(changed, base);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever the stakes (ties included): members are the `seats` best by (stake desc,
    /// position asc), in that order, and nobody waiting outranks a member.
    #[test]
    fn committee_matches_the_reference_ranking(
        stakes in proptest::collection::vec(1u128..6, 1..9),
        seats in 0usize..10,
    ) {
        let table: Vec<Registration> = stakes
            .iter()
            .enumerate()
            .map(|(i, stake)| registration(i as u64, *stake, at(10 - i as u64, 0)))
            .collect();
        let snapshot = snapshot_of(&table);
        let selection = select_committee(&TABLE, &snapshot, seats, &HashPops);
        let mut reference = table.clone();
        reference.sort_by(|a, b| b.stake.cmp(&a.stake).then(a.registered_at.cmp(&b.registered_at)));
        let expected: Vec<Address> = reference.iter().take(seats).map(|r| r.account).collect();
        prop_assert_eq!(accounts_of(&selection), expected);
        prop_assert_eq!(selection.members.len() + selection.waiting.len(), table.len());
    }
}

mod logs {
    use alloy_primitives::{Address, B256, U256};
    use alloy_sol_types::SolEvent;
    use proptest::prelude::*;
    use trestle_light_client::{
        stake::StakeTableEvent,
        stake_log::{
            MAX_P2P_ADDRESS_LENGTH, P2pAddressUpdated, StakeAdded, StakeLogError, StakeWithdrawn,
            ValidatorDeregistered, ValidatorRegistered, decode_stake_log,
        },
    };

    use super::{at, registration};

    fn decode(event: &impl SolEvent) -> Result<Option<StakeTableEvent>, StakeLogError> {
        let log = event.encode_log_data();
        decode_stake_log(at(9, 2), log.topics(), &log.data)
    }

    fn registered(r: &trestle_light_client::stake::Registration) -> ValidatorRegistered {
        let word = |bytes: &[u8]| B256::from_slice(bytes);
        ValidatorRegistered {
            account: r.account,
            consensusKey: r.consensus_key,
            lightClientKey: [word(&r.light_client_key[..32]), word(&r.light_client_key[32..])],
            p2pAddress: r.p2p_address.clone(),
            consensusPop: [word(&r.consensus_pop[..32]), word(&r.consensus_pop[32..])],
            lightClientPop: [
                word(&r.light_client_pop[..32]),
                word(&r.light_client_pop[32..64]),
                word(&r.light_client_pop[64..]),
            ],
            stake: U256::from(r.stake),
        }
    }

    #[test]
    fn every_event_decodes_to_what_the_contract_meant() {
        let r = registration(3, 5_000_000_000_000_000_000, at(9, 2));
        assert_eq!(
            decode(&registered(&r)),
            Ok(Some(StakeTableEvent::Registered(Box::new(r.clone()))))
        );
        let account = r.account;
        assert_eq!(
            decode(&StakeAdded { account, amount: U256::from(2), stake: U256::from(7) }),
            Ok(Some(StakeTableEvent::StakeAdded { account, stake: 7 }))
        );
        assert_eq!(
            decode(&P2pAddressUpdated { account, p2pAddress: "10.1.1.1:9".into() }),
            Ok(Some(StakeTableEvent::P2pAddressUpdated {
                account,
                p2p_address: "10.1.1.1:9".into()
            }))
        );
        assert_eq!(
            decode(&ValidatorDeregistered { account, withdrawableAt: U256::from(99) }),
            Ok(Some(StakeTableEvent::Deregistered { account }))
        );
        assert_eq!(
            decode(&StakeWithdrawn { account, recipient: Address::ZERO, amount: U256::from(7) }),
            Ok(None)
        );
    }

    #[test]
    fn what_the_contract_cannot_emit_is_refused() {
        let r = registration(1, 1, at(9, 2));
        let mut rich = registered(&r);
        rich.stake = U256::from(1u128 << 96);
        assert_eq!(decode(&rich), Err(StakeLogError::StakeTooLarge(U256::from(1u128 << 96))));
        let mut far = registered(&r);
        far.p2pAddress = "x".repeat(MAX_P2P_ADDRESS_LENGTH + 1);
        assert_eq!(decode(&far), Err(StakeLogError::P2pAddressTooLong(MAX_P2P_ADDRESS_LENGTH + 1)));
        assert_eq!(decode_stake_log(at(0, 0), &[], &[]), Err(StakeLogError::NoTopics));
        let unknown = B256::repeat_byte(7);
        assert_eq!(
            decode_stake_log(at(0, 0), &[unknown], &[]),
            Err(StakeLogError::UnknownEvent(unknown))
        );
        // The right signature with a topic missing, data cut short, or a byte appended.
        let log = registered(&r).encode_log_data();
        assert!(matches!(
            decode_stake_log(at(0, 0), &log.topics()[..2], &log.data),
            Err(StakeLogError::Malformed { .. })
        ));
        assert!(matches!(
            decode_stake_log(at(0, 0), log.topics(), &log.data[..log.data.len() - 1]),
            Err(StakeLogError::Malformed { .. })
        ));
        let mut longer = log.data.to_vec();
        longer.push(0);
        assert!(matches!(
            decode_stake_log(at(0, 0), log.topics(), &longer),
            Err(StakeLogError::Malformed { .. })
        ));
    }

    /// The declarations here are the contract's: every event of the ABI forge compiled
    /// (`relayer/abi/StakeTable.json`, kept current by `solidity/scripts/check.sh`) has the
    /// signature the decoder matches.
    #[test]
    fn event_signatures_match_the_compiled_abi() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../relayer/abi/StakeTable.json");
        let abi: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut compiled: Vec<String> = abi["abi"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|item| item["type"] == "event")
            .map(|event| {
                let types: Vec<&str> = event["inputs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|input| input["type"].as_str().unwrap())
                    .collect();
                format!("{}({})", event["name"].as_str().unwrap(), types.join(","))
            })
            .collect();
        compiled.sort();
        let mut ours = vec![
            ValidatorRegistered::SIGNATURE.to_string(),
            StakeAdded::SIGNATURE.to_string(),
            P2pAddressUpdated::SIGNATURE.to_string(),
            ValidatorDeregistered::SIGNATURE.to_string(),
            StakeWithdrawn::SIGNATURE.to_string(),
        ];
        ours.sort();
        assert_eq!(ours, compiled);
    }

    proptest! {
        /// Arbitrary logs, with or without a real signature, never panic the decoder.
        #[test]
        fn arbitrary_logs_never_panic(
            which in 0usize..6,
            extra in proptest::collection::vec(any::<[u8; 32]>(), 0..4),
            data in proptest::collection::vec(any::<u8>(), 0..600),
        ) {
            let signatures = [
                ValidatorRegistered::SIGNATURE_HASH,
                StakeAdded::SIGNATURE_HASH,
                P2pAddressUpdated::SIGNATURE_HASH,
                ValidatorDeregistered::SIGNATURE_HASH,
                StakeWithdrawn::SIGNATURE_HASH,
                B256::ZERO,
            ];
            let mut topics = vec![signatures[which]];
            topics.extend(extra.into_iter().map(B256::from));
            let _ = decode_stake_log(at(1, 1), &topics, &data);
        }
    }
}
