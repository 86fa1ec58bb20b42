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
//! the circuit's [reduction](crate::reduction) and its own Groth16 assembly over the proving
//! key's queries without their zero points (see `SparseQueries`). Nothing about soundness changes: a
//! witness that does not satisfy the matrices still cannot produce a proof that verifies, and
//! the self-check after proving catches a key or matrices that do not belong together.
//!
//! Randomness: the caller passes the RNG (Groth16's `r`, `s`). A seeded RNG makes proofs
//! reproducible (the committed fixtures use one); a prover that wants zero knowledge passes a
//! cryptographically secure one.

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::PrimeField;
use ark_groth16::r1cs_to_qap::R1CSToQAP;
use ark_groth16::{Groth16, PreparedVerifyingKey, Proof, ProvingKey, prepare_verifying_key};
use ark_poly::GeneralEvaluationDomain;
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
    reduction::{BSwappedReduction, qap_order},
};

/// A proving key for one capacity, ready to prove.
#[derive(Clone, Debug)]
pub struct Prover {
    proving_key: ProvingKey<Bn254>,
    prepared: PreparedVerifyingKey<Bn254>,
    capacity: usize,
    matrices: ConstraintMatrices,
    queries: SparseQueries,
}

/// The circuit's R1CS matrices (in the reduction's order, see [`qap_order`]) and its
/// dimensions, for one capacity.
#[derive(Clone, Debug)]
pub(crate) struct ConstraintMatrices {
    pub(crate) abc: Vec<Matrix<Fr>>,
    pub(crate) num_instance_variables: usize,
    pub(crate) num_witness_variables: usize,
    pub(crate) num_constraints: usize,
}

impl ConstraintMatrices {
    /// Synthesizes the blank circuit of `capacity` as Groth16's setup does and keeps its
    /// matrices.
    pub(crate) fn derive(capacity: usize) -> Result<Self, ProveError> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        LightClientCircuit::new(capacity)?.generate_constraints(cs.clone())?;
        cs.finalize();
        let abc = qap_order(
            cs.to_matrices()?
                .remove(R1CS_PREDICATE_LABEL)
                .ok_or(SynthesisError::PredicateNotFound)?,
        )?;
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
        let queries = SparseQueries::new(&proving_key);
        let variables = matrices.num_instance_variables + matrices.num_witness_variables;
        // a_query has one point per variable; a key for another capacity fails here rather
        // than in the prover's MSMs.
        if proving_key.a_query.len() != variables {
            return Err(ProveError::KeyShape {
                found: proving_key.a_query.len(),
                expected: variables,
            });
        }
        Ok(Self { proving_key, prepared, capacity, matrices, queries })
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
    /// verify), or, in builds with debug assertions, [`ProveError::Unsatisfied`]: they check the
    /// witness once the self-check failed, to say why. (Checking it before every proof cost a
    /// second full synthesis, with matrices, on every proof of a debug-built relayer.)
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
        let diagnosis = cfg!(debug_assertions).then(|| circuit.clone());
        let proof = self.prove_with_matrices(circuit, rng)?;
        if !Groth16::<Bn254>::verify_with_processed_vk(&self.prepared, &inputs, &proof)? {
            if let Some(circuit) = diagnosis
                && !circuit.synthesize()?.is_satisfied()?
            {
                return Err(ProveError::Unsatisfied);
            }
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
        let h = BSwappedReduction::witness_map_from_matrices::<Fr, GeneralEvaluationDomain<Fr>>(
            &self.matrices.abc,
            self.matrices.num_instance_variables,
            self.matrices.num_constraints,
            &full_assignment,
        )?;
        Ok(self.queries.prove(
            &self.proving_key,
            &full_assignment,
            &h,
            r,
            s,
            self.matrices.num_instance_variables,
        ))
    }
}

/// The proving key's `A`, `B` (G1) and `B` (G2) queries without their zero points.
///
/// ark-groth16 multiplies every query by the whole assignment, also where the query's point is
/// the identity (a variable absent from that matrix): those terms add nothing but still cost a
/// scalar decomposition and a bucket visit each. Dropping them once, when the prover is built,
/// leaves each multi-scalar multiplication with the variables its matrix actually mentions.
#[derive(Clone, Debug)]
struct SparseQueries {
    a: SparseQuery<G1Affine>,
    b_g1: SparseQuery<G1Affine>,
    b_g2: SparseQuery<G2Affine>,
}

/// The non-zero points of a query and the indices (into the full assignment `[1, inputs…,
/// witness…]`) they belong to.
#[derive(Clone, Debug)]
struct SparseQuery<G: AffineRepr> {
    indices: Vec<usize>,
    bases: Vec<G>,
}

impl<G: AffineRepr> SparseQuery<G> {
    fn new(query: &[G]) -> Self {
        let (indices, bases) = query
            .iter()
            .enumerate()
            .filter(|(_, point)| !point.is_zero())
            .map(|(i, p)| (i, *p))
            .unzip();
        Self { indices, bases }
    }

    /// `Σ assignment[i] · query[i]` over the non-zero points.
    fn msm(&self, assignment: &[<Fr as PrimeField>::BigInt]) -> G::Group
    where
        G::Group: VariableBaseMSM<MulBase = G, ScalarField = Fr>,
    {
        let scalars: Vec<_> = self.indices.iter().map(|&i| assignment[i]).collect();
        G::Group::msm_bigint(&self.bases, &scalars)
    }
}

impl SparseQueries {
    fn new(key: &ProvingKey<Bn254>) -> Self {
        Self {
            a: SparseQuery::new(&key.a_query),
            b_g1: SparseQuery::new(&key.b_g1_query),
            b_g2: SparseQuery::new(&key.b_g2_query),
        }
    }

    /// Groth16's prover (the paper's `A`, `B`, `C`) for the full assignment `[1, inputs…,
    /// witness…]`, the QAP quotient's coefficients `h` and the blinding scalars `r`, `s`:
    ///
    /// ```text
    /// A = α + Σ zᵢ·uᵢ(τ) + r·δ                      (G1)
    /// B = β + Σ zᵢ·vᵢ(τ) + s·δ                      (G2, and in G1 for C)
    /// C = Σ witnessᵢ·Lᵢ + Σ hᵢ·Hᵢ + s·A + r·B − r·s·δ (G1)
    /// ```
    fn prove(
        &self,
        key: &ProvingKey<Bn254>,
        full_assignment: &[Fr],
        h: &[Fr],
        r: Fr,
        s: Fr,
        num_instance_variables: usize,
    ) -> Proof<Bn254> {
        let z: Vec<_> = full_assignment.iter().map(|x| x.into_bigint()).collect();
        let h: Vec<_> = h.iter().map(|x| x.into_bigint()).collect();
        let a = key.vk.alpha_g1 + self.a.msm(&z) + key.delta_g1 * r;
        let b_g1 = key.beta_g1 + self.b_g1.msm(&z) + key.delta_g1 * s;
        let b_g2 = key.vk.beta_g2 + self.b_g2.msm(&z) + key.vk.delta_g2 * s;
        let l = G1Projective::msm_bigint(&key.l_query, &z[num_instance_variables..]);
        let h_sum = G1Projective::msm_bigint(&key.h_query, &h[..key.h_query.len().min(h.len())]);
        let c = l + h_sum + a * s + b_g1 * r - key.delta_g1 * (r * s);
        Proof { a: a.into_affine(), b: b_g2.into_affine(), c: c.into_affine() }
    }
}
