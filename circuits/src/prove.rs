//! Proving: a signed light-client state → a Groth16 proof.
//!
//! [`Prover::prove`] first checks natively, with
//! [`verify_quorum`], that the signatures are a quorum of
//! the committee on the state (milliseconds), so an invalid state never costs a proving run
//! (seconds); then it builds the witness, proves, and checks the proof against the proving
//! key's own verifying key before returning it.
//!
//! Randomness: the caller passes the RNG (Groth16's `r`, `s`). A seeded RNG makes proofs
//! reproducible (the committed fixtures use one); a prover that wants zero knowledge passes a
//! cryptographically secure one.

use ark_bn254::Bn254;
use ark_groth16::{Groth16, PreparedVerifyingKey, Proof, ProvingKey, prepare_verifying_key};
use ark_snark::SNARK;
use ark_std::rand::{CryptoRng, RngCore};
use trestle_light_client::{Committee, LightClientState, StateSignature, verify_quorum};

use crate::{
    circuit::{LightClientCircuit, NUM_PUBLIC_INPUTS},
    error::ProveError,
};

/// A proving key for one capacity, ready to prove.
#[derive(Clone, Debug)]
pub struct Prover {
    proving_key: ProvingKey<Bn254>,
    prepared: PreparedVerifyingKey<Bn254>,
    capacity: usize,
}

impl Prover {
    /// A prover for circuits of `capacity` slots with `proving_key` (made for that capacity;
    /// a key for another circuit is caught by the self-check after proving).
    pub fn new(proving_key: ProvingKey<Bn254>, capacity: usize) -> Result<Self, ProveError> {
        let found = proving_key.vk.gamma_abc_g1.len();
        if found != NUM_PUBLIC_INPUTS + 1 {
            return Err(ProveError::KeyShape { found, expected: NUM_PUBLIC_INPUTS + 1 });
        }
        let prepared = prepare_verifying_key(&proving_key.vk);
        Ok(Self { proving_key, prepared, capacity })
    }

    /// The capacity the proving key is for.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The proving key.
    pub fn proving_key(&self) -> &ProvingKey<Bn254> {
        &self.proving_key
    }

    /// Proves that `signatures` are a quorum of `committee` on `state`.
    ///
    /// Fails fast, before any proving work, with [`ProveError::CapacityMismatch`] or
    /// [`ProveError::Quorum`] (the native check rejects unknown or repeated slots, invalid
    /// signatures and insufficient weight).
    pub fn prove<R: RngCore + CryptoRng>(
        &self,
        state: &LightClientState,
        committee: &Committee,
        signatures: &[StateSignature],
        rng: &mut R,
    ) -> Result<Proof<Bn254>, ProveError> {
        if committee.capacity() != self.capacity {
            return Err(ProveError::CapacityMismatch {
                committee: committee.capacity(),
                key: self.capacity,
            });
        }
        verify_quorum(committee, state, signatures)?;
        let circuit = LightClientCircuit::from_signed_state(state, committee, signatures)?;
        self.prove_circuit(circuit, rng)
    }

    /// Proves an explicit circuit assignment, without the native quorum check (benchmarks and
    /// tests). An unsatisfied assignment yields [`ProveError::SelfCheck`] (the proof does not
    /// verify), or [`ProveError::Unsatisfied`] in builds with debug assertions, which check the
    /// witness first (arkworks' prover would otherwise panic on its own debug assertion).
    pub fn prove_circuit<R: RngCore + CryptoRng>(
        &self,
        circuit: LightClientCircuit,
        rng: &mut R,
    ) -> Result<Proof<Bn254>, ProveError> {
        if circuit.capacity() != self.capacity {
            return Err(ProveError::CapacityMismatch {
                committee: circuit.capacity(),
                key: self.capacity,
            });
        }
        let inputs = circuit
            .public_inputs()
            .ok_or(ProveError::Synthesis(ark_relations::gr1cs::SynthesisError::AssignmentMissing))?
            .to_field_elements();
        if cfg!(debug_assertions) && !circuit.clone().synthesize()?.is_satisfied()? {
            return Err(ProveError::Unsatisfied);
        }
        let proof = Groth16::<Bn254>::prove(&self.proving_key, circuit, rng)?;
        if !Groth16::<Bn254>::verify_with_processed_vk(&self.prepared, &inputs, &proof)? {
            return Err(ProveError::SelfCheck);
        }
        Ok(proof)
    }
}
