//! Setup, proving and verification end to end at capacity 4, and key files.

use std::fs;

use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
use trestle_light_client::{B256, LightClientState, primitives::Height, quorum::QuorumError};

use super::{keys4, signed4, temp_dir};
use crate::{
    Fr, LightClientCircuit, Prover, PublicInputs, Verifier,
    error::{KeyFileError, ProveError, VerifyError},
    export::fixtures::fixture_signed_state,
    setup::{
        INSECURE_DEV_ORIGIN, insecure_dev_key_paths, read_proving_key, read_verifying_key,
        write_proving_key, write_verifying_key,
    },
    verify::{PROOF_LEN, proof_from_bytes, proof_to_bytes},
};

fn rng(seed: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed; 32])
}

#[test]
fn honest_state_proves_and_verifies_and_tampered_inputs_do_not() {
    let keys = keys4();
    let s = signed4();
    let prover = Prover::new(keys.proving_key.clone(), 4).expect("prover");
    let proof = prover.prove(&s.state, &s.committee, &s.signatures, &mut rng(1)).expect("proof");
    let verifier = Verifier::new(&keys.verifying_key).expect("verifier");
    let committee = s.committee.commitment_bytes();
    verifier.verify(&s.state, &committee, &proof).expect("valid proof");

    // Every public input changed after proving: rejected.
    let inputs = PublicInputs::new(&s.state, &committee).expect("inputs").to_field_elements();
    for i in 0..inputs.len() {
        for delta in [Fr::from(1u8), -Fr::from(1u8)] {
            let mut tampered = inputs;
            tampered[i] += delta;
            assert_eq!(
                verifier.verify_field_elements(&tampered, &proof),
                Err(VerifyError::Rejected),
                "input {i} changed by {delta}"
            );
        }
    }
    // The same through the state API.
    let later = LightClientState { height: Height(1001), ..s.state.clone() };
    assert_eq!(verifier.verify(&later, &committee, &proof), Err(VerifyError::Rejected));
    let other_root = LightClientState { history_root: B256::ZERO, ..s.state.clone() };
    assert_eq!(verifier.verify(&other_root, &committee, &proof), Err(VerifyError::Rejected));
    let other_committee = fixture_signed_state(5).expect("fixture").committee.commitment_bytes();
    assert_eq!(verifier.verify(&s.state, &other_committee, &proof), Err(VerifyError::Rejected));
    // Non-canonical commitments are typed errors, not rejections.
    assert!(matches!(
        verifier.verify(&s.state, &B256::repeat_byte(0xff), &proof),
        Err(VerifyError::Input(_))
    ));

    // The byte form round-trips; a different proof for the same statement also verifies.
    let bytes = proof_to_bytes(&proof);
    assert_eq!(bytes.len(), PROOF_LEN);
    assert_eq!(proof_from_bytes(&bytes).expect("parse"), proof);
    let again = prover.prove(&s.state, &s.committee, &s.signatures, &mut rng(2)).expect("proof");
    assert_ne!(again, proof);
    verifier.verify(&s.state, &committee, &again).expect("valid proof");
    // Same seed, same proof.
    let same = prover.prove(&s.state, &s.committee, &s.signatures, &mut rng(1)).expect("proof");
    assert_eq!(same, proof);
}

#[test]
fn malformed_proof_bytes_are_typed_errors() {
    assert!(matches!(proof_from_bytes(&[0u8; 5]), Err(VerifyError::MalformedProof(_))));
    let keys = keys4();
    let s = signed4();
    let prover = Prover::new(keys.proving_key.clone(), 4).expect("prover");
    let proof = prover.prove(&s.state, &s.committee, &s.signatures, &mut rng(3)).expect("proof");
    let mut bytes = proof_to_bytes(&proof);
    let mut rejected = 0;
    for i in [0usize, 31, 40, 95, 100] {
        bytes[i] ^= 0x5a;
        match proof_from_bytes(&bytes) {
            Err(VerifyError::MalformedProof(_)) => rejected += 1,
            Ok(p) => {
                let v = Verifier::new(&keys.verifying_key).expect("v");
                let c = s.committee.commitment_bytes();
                assert_eq!(v.verify(&s.state, &c, &p), Err(VerifyError::Rejected));
            }
            Err(e) => panic!("unexpected error {e}"),
        }
        bytes[i] ^= 0x5a;
    }
    assert!(rejected > 0, "some flips give invalid points");
}

#[test]
fn prover_refuses_invalid_states_before_proving() {
    let keys = keys4();
    let s = signed4();
    let prover = Prover::new(keys.proving_key.clone(), 4).expect("prover");
    // 2 of 4: not a quorum.
    let err = prover.prove(&s.state, &s.committee, &s.signatures[..2], &mut rng(4));
    assert_eq!(
        err,
        Err(ProveError::Quorum(QuorumError::InsufficientWeight { signed: 2, total: 4 }))
    );
    // A signature on another state.
    let other = LightClientState { height: Height(7), ..s.state.clone() };
    assert!(matches!(
        prover.prove(&other, &s.committee, &s.signatures, &mut rng(4)),
        Err(ProveError::Quorum(QuorumError::InvalidSignature { .. }))
    ));
    // Capacity mismatch.
    let five = fixture_signed_state(5).expect("fixture");
    assert_eq!(
        prover.prove(&five.state, &five.committee, &five.signatures, &mut rng(4)),
        Err(ProveError::CapacityMismatch { committee: 5, key: 4 })
    );
    // An unsatisfied explicit assignment never yields a proof.
    let mut assignment =
        LightClientCircuit::from_signed_state(&s.state, &s.committee, &s.signatures)
            .expect("circuit")
            .assignment()
            .expect("assigned")
            .clone();
    assignment.public.committee = Fr::from(0u8);
    let circuit = LightClientCircuit::with_assignment(assignment).expect("circuit");
    // The self-check refuses it; builds with debug assertions (tests) also say why.
    let refused = prover.prove_circuit(circuit, &mut rng(4));
    if cfg!(debug_assertions) {
        assert!(matches!(refused, Err(ProveError::Unsatisfied)), "{refused:?}");
    } else {
        assert!(matches!(refused, Err(ProveError::SelfCheck)), "{refused:?}");
    }
}

#[test]
fn key_files_round_trip_and_reject_corruption() {
    let keys = keys4();
    let dir = temp_dir("keys");
    let (pk_path, vk_path) = insecure_dev_key_paths(&dir, 4);
    assert!(pk_path.to_string_lossy().contains("INSECURE"));
    write_proving_key(&pk_path, &keys.proving_key, 4, INSECURE_DEV_ORIGIN).expect("write pk");
    write_verifying_key(&vk_path, &keys.verifying_key, 4, INSECURE_DEV_ORIGIN).expect("write vk");
    let header = fs::read(&vk_path).expect("read");
    assert!(header.starts_with(
        b"trestle-groth16-bn254 v3 kind=verifying-key capacity=4 origin=INSECURE-DEV-SETUP\n"
    ));

    let pk = read_proving_key(&pk_path, 4).expect("read pk");
    assert_eq!(pk.key, keys.proving_key);
    assert_eq!(pk.origin, INSECURE_DEV_ORIGIN);
    let vk = read_verifying_key(&vk_path, 4).expect("read vk");
    assert_eq!(vk.key, keys.verifying_key);

    // Wrong capacity, wrong kind.
    assert!(matches!(
        read_verifying_key(&vk_path, 5),
        Err(KeyFileError::Capacity { found: 4, expected: 5, .. })
    ));
    assert!(matches!(read_proving_key(&vk_path, 4), Err(KeyFileError::WrongKind { .. })));
    // Missing file.
    assert!(matches!(read_verifying_key(&dir.join("nope"), 4), Err(KeyFileError::Io { .. })));

    let good = fs::read(&vk_path).expect("read");
    let body = good.iter().position(|&b| b == b'\n').expect("header") + 1;
    let corrupt = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        fs::write(&path, bytes).expect("write");
        read_verifying_key(&path, 4)
    };
    // A flipped coordinate byte: off the curve or outside the subgroup (or, rarely, another
    // valid point — then the file still parses; try a few positions).
    let mut invalid = 0;
    for offset in [0usize, 7, 33, 70, 130] {
        let mut bytes = good.clone();
        bytes[body + offset] ^= 0x21;
        match corrupt("flipped.vk", &bytes) {
            Err(KeyFileError::Invalid { .. }) => invalid += 1,
            Ok(file) => assert_ne!(file.key, keys.verifying_key),
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert!(invalid > 0);
    // Truncated, trailing bytes, bad headers.
    assert!(matches!(
        corrupt("short.vk", &good[..good.len() - 1]),
        Err(KeyFileError::Invalid { .. })
    ));
    let mut long = good.clone();
    long.push(0);
    assert!(matches!(corrupt("long.vk", &long), Err(KeyFileError::Invalid { .. })));
    assert!(matches!(corrupt("empty.vk", b""), Err(KeyFileError::Header { .. })));
    assert!(matches!(
        corrupt("magic.vk", &[b"other-format v1 kind=verifying-key\n", &good[body..]].concat()),
        Err(KeyFileError::Header { .. })
    ));
    // Files of earlier versions (five public inputs; libsnark's H query) are refused, saying why.
    for (version, why) in [("v2", "five public inputs"), ("v1", "libsnark")] {
        let header = format!("trestle-groth16-bn254 {version}");
        let old = [header.as_bytes(), &good["trestle-groth16-bn254 v3".len()..]].concat();
        match corrupt(&format!("{version}.vk"), &old) {
            Err(KeyFileError::Header { reason, .. }) => assert!(reason.contains(why), "{reason}"),
            other => panic!("a {version} key was not refused: {other:?}"),
        }
    }
    // Origins with whitespace are refused on write.
    assert!(matches!(
        write_verifying_key(&dir.join("x.vk"), &keys.verifying_key, 4, "two words"),
        Err(KeyFileError::Header { .. })
    ));
    fs::remove_dir_all(&dir).ok();
}
