//! Unit tests of the file formats and the authorization domain: genesis and key files round trip,
//! and every refusal comes with its reason.

use crate::{
    FileError, Genesis, GenesisLimits, OwnedNamespace, ValidatorKeys,
    authorization::{authorize, is_authorized},
    keygen,
};
use commonware_cryptography::Signer as _;
use trestle_light_client::{Namespace, Transaction};

fn keys(n: u8) -> Vec<ValidatorKeys> {
    (0..n).map(|i| ValidatorKeys::from_entropy([i + 1; 32], [i + 100; 32]).expect("keys")).collect()
}

fn genesis(n: u8) -> (Genesis, Vec<ValidatorKeys>) {
    let keys = keys(n);
    let genesis = Genesis {
        chain_id: 7,
        epoch: 0,
        epoch_length: None,
        l1: None,
        timestamp_ms: 1,
        min_block_interval_ms: 100,
        committee_capacity: 4,
        validators: keys.iter().map(ValidatorKeys::genesis_entry).collect(),
        owned_namespaces: vec![OwnedNamespace {
            namespace: 5,
            owner: keys[0].genesis_entry().consensus_key,
            block_records_of: None,
            first_record: 0,
        }],
        limits: GenesisLimits::default(),
    };
    (genesis, keys)
}

#[test]
fn genesis_round_trips_and_resolves() {
    let (genesis, keys) = genesis(4);
    let json = serde_json::to_string(&genesis).expect("json");
    let back: Genesis = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, genesis);
    let resolved = back.resolve().expect("valid");
    assert_eq!(resolved.consensus_keys.len(), 4);
    assert_eq!(resolved.committee.slots()[2].key, *keys[2].light_client.public_key());
    assert_eq!(resolved.owners.len(), 1);
    assert_eq!(resolved.owners[&Namespace(5)], keys[0].consensus.public_key());
    assert_eq!(resolved.slot_of(&keys[3].consensus.public_key()), Some(3));
    assert_ne!(resolved.consensus_namespace(), crate::genesis::consensus_namespace(8));

    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("genesis.json");
    genesis.save(&path).expect("save");
    let (loaded, _) = Genesis::load(&path).expect("load");
    assert_eq!(loaded, genesis);
}

#[test]
fn bad_genesis_is_refused_with_a_reason() {
    let (good, _) = genesis(4);
    let mut dup = good.clone();
    dup.validators[1] = dup.validators[0].clone();
    assert!(matches!(dup.resolve(), Err(FileError::Genesis(_))));
    let mut short = good.clone();
    short.validators[0].consensus_key.pop();
    assert!(matches!(short.resolve(), Err(FileError::Hex { .. })));
    let mut off_curve = good.clone();
    off_curve.validators[0].light_client_key = format!("0x{}", "11".repeat(64));
    assert!(matches!(off_curve.resolve(), Err(FileError::Key { .. })));
    let mut over = good.clone();
    over.committee_capacity = 3;
    assert!(matches!(over.resolve(), Err(FileError::Genesis(_))));
    let mut twice = good.clone();
    twice.owned_namespaces.push(twice.owned_namespaces[0].clone());
    assert!(matches!(twice.resolve(), Err(FileError::Genesis(_))));
    let mut limits = good.clone();
    limits.limits.max_block_payload = 1;
    assert!(matches!(limits.resolve(), Err(FileError::Genesis(_))));
    assert!(serde_json::from_str::<Genesis>(r#"{"chainId": -1}"#).is_err());
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("genesis.json");
    std::fs::write(&path, "{ not json").expect("write");
    assert!(matches!(Genesis::load(&path), Err(FileError::Parse { .. })));
    assert!(matches!(Genesis::load(&dir.path().join("missing")), Err(FileError::Io { .. })));
}

#[test]
fn a_block_namespace_records_from_the_first_number_genesis_declares() {
    let (mut genesis, _) = genesis(4);
    let json = serde_json::to_value(&genesis).expect("json");
    assert!(json["ownedNamespaces"][0].get("firstRecord").is_none(), "0 is left out");
    genesis.owned_namespaces[0].block_records_of = Some(901);
    let from_zero = genesis.resolve().expect("valid");
    let spec = from_zero.block_namespaces[&Namespace(5)];
    assert_eq!((spec.chain_id, spec.first), (901, 0));
    genesis.owned_namespaces[0].first_record = 40;
    let json = serde_json::to_string(&genesis).expect("json");
    assert!(json.contains(r#""firstRecord":40"#), "{json}");
    let back: Genesis = serde_json::from_str(&json).expect("parse");
    assert_eq!(back.resolve().expect("valid").block_namespaces[&Namespace(5)].first, 40);
    // A first record for a namespace that records no blocks means nothing: refused.
    genesis.owned_namespaces[0].block_records_of = None;
    let refused = genesis.resolve();
    assert!(
        matches!(&refused, Err(FileError::Genesis(reason)) if reason.contains("firstRecord 40")),
        "{refused:?}"
    );
}

#[test]
fn genesis_weights_other_than_one_are_refused() {
    let (good, _) = genesis(4);
    for weight in [0, 2, u64::MAX] {
        let mut weighted = good.clone();
        weighted.validators[3].weight = weight;
        match weighted.resolve() {
            Err(FileError::Genesis(reason)) => {
                assert!(reason.contains("equal-weight"), "{reason}");
                assert!(reason.contains("validator 3"), "{reason}");
            }
            other => panic!("weight {weight} accepted: {other:?}"),
        }
    }
}

#[test]
fn key_files_round_trip_and_are_never_overwritten() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("keys.toml");
    let keys = ValidatorKeys::from_entropy([3; 32], [4; 32]).expect("keys");
    keys.save(&path).expect("save");
    let back = ValidatorKeys::load(&path).expect("load");
    assert_eq!(back.consensus.public_key(), keys.consensus.public_key());
    assert_eq!(back.light_client.public_key(), keys.light_client.public_key());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::write(&path, "consensus_key = \"0x12\"\nlight_client_seed = \"0x\"\n").expect("write");
    assert!(matches!(ValidatorKeys::load(&path), Err(FileError::Hex { .. })));

    let fresh = dir.path().join("fresh.toml");
    let entry = keygen(&fresh).expect("keygen");
    let loaded = ValidatorKeys::load(&fresh).expect("load");
    assert_eq!(loaded.genesis_entry(), entry);
    assert!(matches!(keygen(&fresh), Err(FileError::Exists(_))));
    // Two generations never give the same key (OS randomness, not a small seed space).
    let other = ValidatorKeys::generate().expect("keys");
    assert_ne!(other.consensus.public_key(), loaded.consensus.public_key());
}

#[test]
fn authorizations_bind_the_owner_and_the_transaction() {
    let [owner, stranger] =
        [1u8, 2].map(|i| ValidatorKeys::from_entropy([i; 32], [i; 32]).expect("keys"));
    let tx = Transaction::new(Namespace(5), b"payload".to_vec());
    let other = Transaction::new(Namespace(5), b"other".to_vec());
    let signature = authorize(&owner.consensus, &tx);
    assert!(is_authorized(&owner.consensus.public_key(), &tx.hash(), &signature));
    assert!(!is_authorized(&stranger.consensus.public_key(), &tx.hash(), &signature));
    assert!(!is_authorized(&owner.consensus.public_key(), &other.hash(), &signature));
}

#[test]
fn keys_from_entropy_use_all_of_it() {
    // The consensus key is the whole 32-byte secret, not a seed drawn from its first byte.
    let mut seen = std::collections::BTreeSet::new();
    for last in 0..16u8 {
        let mut entropy = [7u8; 32];
        entropy[31] = last;
        let keys = ValidatorKeys::from_entropy(entropy, [1; 32]).expect("keys");
        assert!(seen.insert(keys.consensus.public_key()), "entropy {last} repeats a key");
    }
}

#[test]
fn proofs_of_possession_pass_the_committee_rule_and_bind_account_and_table() {
    use alloy_primitives::Address;
    use trestle_light_client::stake::{
        Ineligible, LogPosition, Registration, StakeTableEvent, StakeTableId, StakeTableSnapshot,
        select_committee,
    };

    use crate::stake::Ed25519Pops;

    let table = StakeTableId { chain_id: 900, address: Address::repeat_byte(0x57) };
    let registration = |i: u8, account: Address, pops_for: Address| {
        let keys = ValidatorKeys::from_entropy([i; 32], [i + 50; 32]).expect("keys");
        let proofs = keys.proofs_of_possession(&table, &pops_for);
        Registration {
            account,
            consensus_key: proofs.consensus_key,
            light_client_key: proofs.light_client_key,
            p2p_address: "127.0.0.1:3000".into(),
            consensus_pop: proofs.consensus_pop,
            light_client_pop: proofs.light_client_pop,
            stake: 1,
            registered_at: LogPosition { block: 1, index: u64::from(i) },
        }
    };
    let alice = Address::repeat_byte(0xa1);
    let bob = Address::repeat_byte(0xb0);
    let honest = registration(1, alice, alice);
    // Bob copies proofs made for Alice's account: both fail for him.
    let copied = registration(2, bob, alice);
    // A consensus proof that is not an ed25519 signature at all, and a key that is no point.
    let mut garbage_pop = registration(3, Address::repeat_byte(3), Address::repeat_byte(3));
    garbage_pop.consensus_pop = [0xff; 64];
    // (Its light-client proof is re-made for the changed message, so the ed25519 half decides.)
    let mut garbage_key = registration(4, Address::repeat_byte(4), Address::repeat_byte(4));
    garbage_key.consensus_key = alloy_primitives::B256::repeat_byte(0xff);
    let message = trestle_light_client::stake::pop_message(
        &table,
        &garbage_key.account,
        &garbage_key.consensus_key,
        &garbage_key.light_client_key,
    );
    let light_client = ValidatorKeys::from_entropy([4; 32], [54; 32]).expect("keys").light_client;
    garbage_key.light_client_pop = light_client
        .sign(&trestle_light_client::stake::light_client_pop_message(&message))
        .to_bytes();

    let mut snapshot = StakeTableSnapshot::new();
    for r in [honest.clone(), copied, garbage_pop, garbage_key] {
        snapshot.apply(r.registered_at, StakeTableEvent::Registered(Box::new(r))).expect("apply");
    }
    let selection = select_committee(&table, &snapshot, 10, &Ed25519Pops);
    let members: Vec<Address> = selection.members.iter().map(|m| m.registration.account).collect();
    assert_eq!(members, [alice]);
    let reasons: Vec<&Ineligible> = selection.ineligible.iter().map(|(_, why)| why).collect();
    assert!(matches!(reasons[0], Ineligible::LightClientPop(_)), "{reasons:?}");
    assert_eq!(reasons[1..], [&Ineligible::ConsensusPop, &Ineligible::ConsensusPop]);

    // With a valid light-client proof, the ed25519 half alone decides.
    let mut only_consensus_wrong = honest;
    only_consensus_wrong.consensus_pop[10] ^= 1;
    let mut one = StakeTableSnapshot::new();
    one.apply(
        only_consensus_wrong.registered_at,
        StakeTableEvent::Registered(Box::new(only_consensus_wrong)),
    )
    .expect("apply");
    let selection = select_committee(&table, &one, 10, &Ed25519Pops);
    assert_eq!(selection.ineligible[0].1, Ineligible::ConsensusPop);
}
