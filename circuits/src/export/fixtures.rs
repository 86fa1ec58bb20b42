//! The generated files committed to the repository, and the deterministic signed state behind
//! them.
//!
//! * [`DEVNET_VERIFIER_PATH`](super::solidity::DEVNET_VERIFIER_PATH): the Solidity verifier
//!   for the devnet's capacity ([`DEVNET_CAPACITY`]) and INSECURE dev setup
//!   ([`INSECURE_DEV_SEED`]);
//! * [`PROOF_FIXTURE_PATH`]: a proof of [`fixture_signed_state`] under that key, proved with a
//!   seeded RNG ([`FIXTURE_PROVING_SEED`]), for the forge tests;
//! * `rotation.json`: proofs of a committee rotation over two epoch ends
//!   ([`super::rotation`]).
//!
//! They, and [`super::rotation`]'s fixture, are byte-stable functions of the code
//! ([`super::generated_files`]): the test `generated_files_are_up_to_date`
//! regenerates them and fails on any difference; run it with `TRESTLE_REGENERATE=1` to
//! rewrite them (`TRESTLE_REGENERATE=1 cargo test -p trestle-circuits generated_files`).

use ark_bn254::Bn254;
use ark_groth16::Proof;
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
use serde_json::Value;
use trestle_light_client::{
    B256, Committee, LightClientState, SecretKey, StateSignature,
    primitives::{ChainId, Epoch, Height},
};

use super::{
    snarkjs::to_text,
    solidity::{Provenance, proof_document, verifier_contract},
};
use crate::{
    error::ExportError,
    prove::Prover,
    setup::{CircuitKeys, DEVNET_CAPACITY, INSECURE_DEV_SEED, insecure_dev_setup},
};

/// Where the forge proof fixture lives, relative to the repository root.
pub const PROOF_FIXTURE_PATH: &str = "solidity/test/fixtures/groth16/proof.json";

/// Seed of the RNG the fixture proof is made with (Groth16's `r`, `s`).
pub const FIXTURE_PROVING_SEED: [u8; 32] = *b"trestle groth16 fixture proof rn";

/// A state, its committee and a quorum of signatures on it.
#[derive(Clone, Debug)]
pub struct FixtureSignedState {
    /// The state.
    pub state: LightClientState,
    /// The committee that signed it (`next_committee` is its own commitment).
    pub committee: Committee,
    /// The members' secret keys, in slot order.
    pub keys: Vec<SecretKey>,
    /// The signatures: every member except slot `⌈capacity / 2⌉ − 1`'s, or a smallest
    /// quorum if that leaves too many (see [`fixture_signed_state`]).
    pub signatures: Vec<StateSignature>,
}

/// The deterministic member key of slot `index`.
pub fn fixture_key(index: usize) -> SecretKey {
    let mut seed = [0x5a; 32];
    seed[..8].copy_from_slice(&(index as u64).to_be_bytes());
    SecretKey::from_seed(seed)
}

/// A full equal-weight committee of `capacity` deterministic keys signing a fixed state:
/// all members but the smallest number needed to keep a quorum of exactly
/// `⌊2·capacity / 3⌋ + 1` signers sign (for 4: slots 0, 1 and 3).
pub fn fixture_signed_state(capacity: usize) -> Result<FixtureSignedState, ExportError> {
    let keys: Vec<SecretKey> = (0..capacity).map(fixture_key).collect();
    let committee = Committee::equal_weight(keys.iter().map(|k| *k.public_key()), capacity)
        .map_err(|e| ExportError::Fixture(e.to_string()))?;
    let mut root = [0u8; 32];
    for (i, byte) in root.iter_mut().enumerate() {
        *byte = (i as u8).wrapping_mul(29).wrapping_add(0x83);
    }
    let state = LightClientState {
        chain_id: ChainId(1337),
        epoch: Epoch(2),
        height: Height(1000),
        history_root: B256::from(root),
        next_committee: committee.commitment_bytes(),
    };
    let message = state.message().map_err(|e| ExportError::Fixture(e.to_string()))?;
    let quorum = 2 * capacity / 3 + 1;
    // Signers: the first quorum − 1 slots and the last one (a gap in the middle).
    let signers = (0..quorum.saturating_sub(1)).chain(std::iter::once(capacity - 1));
    let signatures = signers
        .map(|slot| StateSignature { slot: slot as u32, signature: keys[slot].sign(&message) })
        .collect();
    Ok(FixtureSignedState { state, committee, keys, signatures })
}

/// The INSECURE dev keys of the devnet capacity.
pub fn devnet_keys() -> Result<CircuitKeys, ExportError> {
    insecure_dev_setup(DEVNET_CAPACITY, INSECURE_DEV_SEED)
        .map_err(|e| ExportError::Fixture(e.to_string()))
}

/// The devnet verifier contract for `keys` (made by [`devnet_keys`]).
pub fn devnet_verifier(keys: &CircuitKeys) -> Result<String, ExportError> {
    let provenance = Provenance {
        capacity: keys.capacity,
        origin: format!(
            "INSECURE dev setup from the public seed {:?} (setup::INSECURE_DEV_SEED): anyone can \
             forge proofs for this key; devnets and tests only.",
            String::from_utf8_lossy(&INSECURE_DEV_SEED)
        ),
        insecure_dev_setup: true,
    };
    verifier_contract(&keys.verifying_key, &provenance)
}

/// The fixture state of [`fixture_signed_state`] for `prover`'s capacity, proven with
/// `prover` (proving RNG seeded with [`FIXTURE_PROVING_SEED`]): the signed state, the proof and
/// its document ([`proof_document`]: state, committee, signers, public inputs and the proof in
/// the verifier's calldata layout, all as `0x` hex words).
pub fn fixture_proof(prover: &Prover) -> Result<FixtureProof, ExportError> {
    let signed = fixture_signed_state(prover.capacity())?;
    let mut rng = ChaCha20Rng::from_seed(FIXTURE_PROVING_SEED);
    let proof = prover
        .prove(&signed.state, &signed.committee, &signed.signatures, &mut rng)
        .map_err(|e| ExportError::Fixture(e.to_string()))?;
    let signers: Vec<u32> = signed.signatures.iter().map(|s| s.slot).collect();
    let Value::Object(fields) = proof_document(
        prover.capacity(),
        &signed.state,
        &signed.committee.commitment_bytes(),
        &signers,
        &proof,
    )?
    else {
        return Err(ExportError::Fixture("proof document is not an object".into()));
    };
    Ok(FixtureProof { signed, proof, document: fields })
}

/// What [`fixture_proof`] returns.
#[derive(Clone, Debug)]
pub struct FixtureProof {
    /// The signed fixture state.
    pub signed: FixtureSignedState,
    /// Its proof.
    pub proof: Proof<Bn254>,
    /// The proof document's fields ([`proof_document`]).
    pub document: serde_json::Map<String, Value>,
}

/// The forge proof fixture (JSON text) for `keys`: [`fixture_proof`]'s document with a
/// comment.
pub fn proof_fixture(keys: &CircuitKeys) -> Result<String, ExportError> {
    let prover = Prover::new(keys.proving_key.clone(), keys.capacity)
        .map_err(|e| ExportError::Fixture(e.to_string()))?;
    let fields = fixture_proof(&prover)?.document;
    let mut document = serde_json::Map::new();
    document.insert(
        "comment".into(),
        Value::String(format!(
            "Groth16 proof of the light-client circuit (capacity {}) under the INSECURE dev \
             setup key of solidity/src/generated/LightClientVerifier.sol. Generated by \
             trestle-circuits (export::fixtures); do not edit.",
            keys.capacity
        )),
    );
    document.extend(fields);
    to_text(&Value::Object(document))
}
