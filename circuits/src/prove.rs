//! Proving: a signed light-client state → a Groth16 proof.
//!
//! [`Prover::prove`] first checks natively, with
//! [`verify_quorum`], that the signatures are a quorum of
//! the committee on the state (milliseconds), so an invalid state never costs a proving run
//! (seconds); then it builds the witness, proves, and checks the proof against the proving
//! key's own verifying key before returning it.
//!
//! # Why the prover keeps the constraint matrices
//! ark-groth16's `prove` re-synthesizes the whole constraint system on every call: it builds
//! every linear combination, inlines them (`finalize`) and copies out the R1CS matrices, only to
//! use them in the R1CS-to-QAP witness map. The matrices depend on the capacity alone, so
//! [`Prover::new`] derives them once from the blank circuit, and each proof synthesizes just the
//! witness (`construct_matrices: false`: no linear combinations are stored) and goes straight to
//! [`Groth16::create_proof_with_reduction_and_matrices`]. Nothing about soundness changes: a
//! witness that does not satisfy the matrices still cannot produce a proof that verifies, and
//! the self-check after proving catches a key or matrices that do not belong together.
//!
//! Randomness: the caller passes the RNG (Groth16's `r`, `s`). A seeded RNG makes proofs
//! reproducible (the committed fixtures use one); a prover that wants zero knowledge passes a
//! cryptographically secure one.

use ark_bn254::{Bn254, Fr};
use ark_groth16::{Groth16, PreparedVerifyingKey, Proof, ProvingKey, prepare_verifying_key};
use ark_relations::{
    gr1cs::{
        ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, R1CS_PREDICATE_LABEL,
        SynthesisError, SynthesisMode,
    },
    utils::matrix::Matrix,
};
use ark_snark::SNARK;
use ark_std::{
    UniformRand,
    rand::{CryptoRng, RngCore},
};
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
    matrices: ConstraintMatrices,
}

/// The circuit's R1CS matrices `A, B, C` and its dimensions, for one capacity.
#[derive(Clone, Debug)]
struct ConstraintMatrices {
    abc: Vec<Matrix<Fr>>,
    num_instance_variables: usize,
    num_witness_variables: usize,
    num_constraints: usize,
}

impl ConstraintMatrices {
    /// Synthesizes the blank circuit of `capacity` as Groth16's setup does and keeps its
    /// matrices.
    fn derive(capacity: usize) -> Result<Self, ProveError> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        LightClientCircuit::new(capacity)?.generate_constraints(cs.clone())?;
        cs.finalize();
        let abc = cs
            .to_matrices()?
            .remove(R1CS_PREDICATE_LABEL)
            .ok_or(SynthesisError::PredicateNotFound)?;
        Ok(Self {
            abc,
            num_instance_variables: cs.num_instance_variables(),
            num_witness_variables: cs.num_witness_variables(),
            num_constraints: cs.num_constraints(),
        })
    }
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
        let matrices = ConstraintMatrices::derive(capacity)?;
        let variables = matrices.num_instance_variables + matrices.num_witness_variables;
        // a_query has one point per variable; a key for another capacity fails here rather
        // than in the prover's MSMs.
        if proving_key.a_query.len() != variables {
            return Err(ProveError::KeyShape {
                found: proving_key.a_query.len(),
                expected: variables,
            });
        }
        Ok(Self { proving_key, prepared, capacity, matrices })
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
        let proof = self.prove_with_matrices(circuit, rng)?;
        if !Groth16::<Bn254>::verify_with_processed_vk(&self.prepared, &inputs, &proof)? {
            return Err(ProveError::SelfCheck);
        }
        Ok(proof)
    }

    /// Synthesizes only the witness of `circuit` and proves with the cached matrices.
    fn prove_with_matrices<R: RngCore + CryptoRng>(
        &self,
        circuit: LightClientCircuit,
        rng: &mut R,
    ) -> Result<Proof<Bn254>, ProveError> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Prove {
            construct_matrices: false,
            generate_lc_assignments: false,
        });
        circuit.generate_constraints(cs.clone())?;
        let full_assignment = {
            let system = cs.borrow().ok_or(SynthesisError::MissingCS)?;
            let instance = system.instance_assignment()?;
            let witness = system.witness_assignment()?;
            if instance.len() != self.matrices.num_instance_variables
                || witness.len() != self.matrices.num_witness_variables
            {
                return Err(ProveError::WitnessShape {
                    instance: instance.len(),
                    witness: witness.len(),
                    expected_instance: self.matrices.num_instance_variables,
                    expected_witness: self.matrices.num_witness_variables,
                });
            }
            [instance, witness].concat()
        };
        let r = Fr::rand(rng);
        let s = Fr::rand(rng);
        Ok(Groth16::<Bn254>::create_proof_with_reduction_and_matrices(
            &self.proving_key,
            r,
            s,
            &self.matrices.abc,
            self.matrices.num_instance_variables,
            self.matrices.num_constraints,
            &full_assignment,
        )?)
    }
}
