//! Verifying light-client proofs natively, and the proof's byte form.
//!
//! [`Verifier::verify`] recomputes the public inputs from the state and the committee
//! commitment (so a caller can never pair a proof with inputs it did not derive itself) and
//! runs the Groth16 pairing check.

use ark_bn254::Bn254;
use ark_groth16::{Groth16, PreparedVerifyingKey, Proof, VerifyingKey, prepare_verifying_key};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use ark_snark::SNARK;
use trestle_light_client::{B256, LightClientState};

use crate::{
    circuit::{NUM_PUBLIC_INPUTS, PublicInputs},
    error::VerifyError,
};

/// Length of a proof in compressed form: `A` (32) ‖ `B` (64) ‖ `C` (32).
pub const PROOF_LEN: usize = 128;

/// A prepared verifying key.
#[derive(Clone, Debug)]
pub struct Verifier {
    prepared: PreparedVerifyingKey<Bn254>,
}

impl Verifier {
    /// Prepares `verifying_key` (checks it has one point per public input plus one).
    pub fn new(verifying_key: &VerifyingKey<Bn254>) -> Result<Self, VerifyError> {
        let found = verifying_key.gamma_abc_g1.len();
        if found != NUM_PUBLIC_INPUTS + 1 {
            return Err(VerifyError::KeyShape { found, expected: NUM_PUBLIC_INPUTS + 1 });
        }
        Ok(Self { prepared: prepare_verifying_key(verifying_key) })
    }

    /// The verifying key.
    pub fn verifying_key(&self) -> &VerifyingKey<Bn254> {
        &self.prepared.vk
    }

    /// Accepts `proof` iff it proves that more than two thirds of the committee with
    /// commitment `committee` signed `state`.
    pub fn verify(
        &self,
        state: &LightClientState,
        committee: &B256,
        proof: &Proof<Bn254>,
    ) -> Result<(), VerifyError> {
        self.verify_inputs(&PublicInputs::new(state, committee)?, proof)
    }

    /// [`verify`](Self::verify) with the public inputs already formed.
    pub fn verify_inputs(
        &self,
        inputs: &PublicInputs,
        proof: &Proof<Bn254>,
    ) -> Result<(), VerifyError> {
        self.verify_field_elements(&inputs.to_field_elements(), proof)
    }

    /// The bare Groth16 check on raw public inputs (tests, tools).
    pub fn verify_field_elements(
        &self,
        inputs: &[crate::Fr; NUM_PUBLIC_INPUTS],
        proof: &Proof<Bn254>,
    ) -> Result<(), VerifyError> {
        match Groth16::<Bn254>::verify_with_processed_vk(&self.prepared, inputs, proof) {
            Ok(true) => Ok(()),
            _ => Err(VerifyError::Rejected),
        }
    }
}

/// The compressed form of a proof ([`PROOF_LEN`] bytes).
pub fn proof_to_bytes(proof: &Proof<Bn254>) -> Vec<u8> {
    let mut out = Vec::with_capacity(PROOF_LEN);
    // Writing into a Vec cannot fail and a proof always serializes.
    if proof.serialize_compressed(&mut out).is_err() {
        out.clear();
    }
    out
}

/// Parses a compressed proof, checking every point (on the curve, in its subgroup) and that
/// nothing follows it.
pub fn proof_from_bytes(bytes: &[u8]) -> Result<Proof<Bn254>, VerifyError> {
    if bytes.len() != PROOF_LEN {
        return Err(VerifyError::MalformedProof(format!(
            "a proof is {PROOF_LEN} bytes, got {}",
            bytes.len()
        )));
    }
    Proof::deserialize_compressed(bytes).map_err(|e| VerifyError::MalformedProof(e.to_string()))
}
