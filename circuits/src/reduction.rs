//! The circuit's R1CS-to-QAP reduction: libsnark's QAP with the roles of the `A` and `B`
//! matrices exchanged, and snarkjs's odd-coset form of the quotient.
//!
//! # Why `A` and `B` are exchanged
//! In Groth16 the proving key holds the `B` polynomials twice, once in G1 and once in **G2**, and
//! every proof computes a multi-scalar multiplication over that G2 query. A G2 operation costs
//! about three G1 operations, and scalars that are small (bits, counters) are nearly free in
//! arkworks' MSM, so what matters is how many variables with full-size values have a non-zero
//! `B` polynomial. An R1CS constraint `a·b = c` is the same constraint as `b·a = c`, so
//! exchanging the whole `A` and `B` matrices changes nothing about what is proven, only which
//! side lands in G2. In this circuit (Poseidon S-boxes, ladder formulas) `A` touches about a
//! quarter fewer full-size variables than `B` (measured with an honest witness at capacity 10:
//! 12,551 against 16,590 columns), so the exchanged reduction moves the smaller side into G2.
//!
//! The exchange must be the same at setup and when proving: [`BSwappedReduction`] is the
//! reduction parameter of [`Groth16`](ark_groth16::Groth16) in both, and the prover hands it the
//! matrices in its order ([`qap_order`]). Verification does not involve the reduction. The
//! circom `.r1cs` export writes the constraints in the same order, so a snarkjs ceremony
//! ([`crate::ceremony`]) makes keys for exactly this QAP.
//!
//! # The quotient in snarkjs's form
//! Groth16's `C` needs `h(τ)·Z(τ)/δ` for the quotient `h = (A·B − C)/Z` of the witness's
//! polynomials over the domain of size `n`. libsnark (and arkworks' default) publishes
//! `τⁱ·Z(τ)/δ` and makes the prover compute `h`'s coefficients: three inverse FFTs, three FFTs
//! over a coset, a division by `Z` there and one more inverse FFT. snarkjs publishes instead
//! `Hᵢ = L'₂ᵢ₊₁(τ)/δ`, the Lagrange polynomials of the domain of size `2n` at its odd points
//! `ω₂ₙ^(2i+1)` (the coset `ω₂ₙ·⟨ωₙ⟩`): `P = A·B − C` has degree at most `2n − 2` and vanishes
//! on the even points, so `P(τ) = Σᵢ P(ω₂ₙ^(2i+1))·L'₂ᵢ₊₁(τ)` exactly, and the prover only
//! needs `P`'s values on that coset: the last inverse FFT and the division disappear. This
//! crate uses snarkjs's form for every key, so a key imported from a ceremony `.zkey` and the
//! INSECURE dev key go through the same prover.

use ark_ff::PrimeField;
use ark_groth16::r1cs_to_qap::R1CSToQAP;
use ark_poly::EvaluationDomain;
use ark_relations::gr1cs::{
    ConstraintSystemRef, Matrix, R1CS_PREDICATE_LABEL, Result as R1CSResult, SynthesisError,
};
use rayon::prelude::*;

/// libsnark's reduction applied to the R1CS `(B, A, C)`; see the [module docs](self).
#[derive(Clone, Copy, Debug)]
pub struct BSwappedReduction;

/// The circuit's matrices `[A, B, C]` in the order [`BSwappedReduction`] reduces them:
/// `[B, A, C]`.
pub fn qap_order<F: PrimeField>(circuit_order: Vec<Matrix<F>>) -> R1CSResult<Vec<Matrix<F>>> {
    let [a, b, c]: [Matrix<F>; 3] =
        circuit_order.try_into().map_err(|_| SynthesisError::PredicateNotFound)?;
    Ok(vec![b, a, c])
}

/// The R1CS matrices of a finalized constraint system, in [`qap_order`].
fn matrices_of<F: PrimeField>(cs: &ConstraintSystemRef<F>) -> R1CSResult<Vec<Matrix<F>>> {
    let matrices =
        cs.to_matrices()?.remove(R1CS_PREDICATE_LABEL).ok_or(SynthesisError::PredicateNotFound)?;
    qap_order(matrices)
}

impl R1CSToQAP for BSwappedReduction {
    fn instance_map_with_evaluation<F: PrimeField, D: EvaluationDomain<F>>(
        cs: ConstraintSystemRef<F>,
        t: &F,
    ) -> R1CSResult<(Vec<F>, Vec<F>, Vec<F>, F, usize, usize)> {
        let matrices = matrices_of(&cs)?;
        let num_constraints = cs.num_constraints();
        let num_inputs = cs.num_instance_variables();
        let domain =
            D::new(num_constraints + num_inputs).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        let vanishing_at_t = domain.evaluate_vanishing_polynomial(*t);
        // L_i(t) for every point of the domain: row i of the QAP contributes
        // coefficient · L_i(t) to the polynomial of each variable it mentions.
        let lagrange = domain.evaluate_all_lagrange_coefficients(*t);
        let num_variables = (num_inputs - 1) + cs.num_witness_variables();

        let mut u = vec![F::zero(); num_variables + 1];
        let mut v = vec![F::zero(); num_variables + 1];
        let mut w = vec![F::zero(); num_variables + 1];
        // libsnark's extra rows `input_i · 0 = 0` after the constraints keep the inputs'
        // polynomials independent; like the witness map, they go to the first matrix.
        u[..num_inputs].copy_from_slice(&lagrange[num_constraints..num_constraints + num_inputs]);
        for (row, l_row) in lagrange.iter().enumerate().take(num_constraints) {
            for (polys, matrix) in [&mut u, &mut v, &mut w].into_iter().zip(&matrices) {
                for (coefficient, variable) in &matrix[row] {
                    polys[*variable] += *l_row * coefficient;
                }
            }
        }
        Ok((u, v, w, vanishing_at_t, num_variables, domain.size()))
    }

    fn witness_map<F: PrimeField, D: EvaluationDomain<F>>(
        prover: ConstraintSystemRef<F>,
    ) -> R1CSResult<Vec<F>> {
        let matrices = matrices_of(&prover)?;
        let num_inputs = prover.num_instance_variables();
        let num_constraints = prover.num_constraints();
        let full_assignment = {
            let system = prover.borrow().ok_or(SynthesisError::MissingCS)?;
            [system.instance_assignment()?, system.witness_assignment()?].concat()
        };
        Self::witness_map_from_matrices::<F, D>(
            &matrices,
            num_inputs,
            num_constraints,
            &full_assignment,
        )
    }

    /// `matrices` must be in [`qap_order`]. Returns `P = A·B − C` at the odd points of the
    /// doubled domain, `ω₂ₙ^(2i+1)` for `i < n` (see the [module docs](self)).
    fn witness_map_from_matrices<F: PrimeField, D: EvaluationDomain<F>>(
        matrices: &[Matrix<F>],
        num_inputs: usize,
        num_constraints: usize,
        full_assignment: &[F],
    ) -> R1CSResult<Vec<F>> {
        let [first, second, third] = matrices else {
            return Err(SynthesisError::PredicateNotFound);
        };
        let domain =
            D::new(num_constraints + num_inputs).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        let coset = odd_coset(&domain)?;
        // Each row's value, rows in parallel (hundreds of thousands at N=100).
        let evaluate = |matrix: &Matrix<F>| -> Vec<F> {
            let mut values = vec![F::zero(); domain.size()];
            values.par_iter_mut().zip(matrix.par_iter()).for_each(|(value, row)| {
                *value =
                    row.iter().map(|(coefficient, i)| *coefficient * full_assignment[*i]).sum();
            });
            values
        };
        // Each matrix's values over the domain → coefficients → values over the odd coset.
        let over_coset = |mut values: Vec<F>| {
            domain.ifft_in_place(&mut values);
            coset.fft_in_place(&mut values);
            values
        };
        let mut a = evaluate(first);
        // libsnark's rows `input_i · 0 = 0`, as in the instance map.
        a[num_constraints..num_constraints + num_inputs]
            .copy_from_slice(&full_assignment[..num_inputs]);
        // arkworks' FFTs are parallel themselves (the `parallel` feature).
        let (a, b, c) = (over_coset(a), over_coset(evaluate(second)), over_coset(evaluate(third)));
        Ok(a.iter().zip(&b).zip(&c).map(|((a, b), c)| *a * b - c).collect())
    }

    /// `L'₂ᵢ₊₁(t)/δ` for `i < n`, where `n = max_power + 1` is the domain size (arkworks' setup
    /// passes the size minus one) and `L'` are the Lagrange polynomials of the domain of size
    /// `2n`; see the [module docs](self).
    fn h_query_scalars<F: PrimeField, D: EvaluationDomain<F>>(
        max_power: usize,
        t: F,
        _zt: F,
        delta_inverse: F,
    ) -> R1CSResult<Vec<F>> {
        let doubled =
            D::new(2 * (max_power + 1)).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        Ok(doubled
            .evaluate_all_lagrange_coefficients(t)
            .into_iter()
            .skip(1)
            .step_by(2)
            .map(|lagrange| lagrange * delta_inverse)
            .collect())
    }
}

/// The coset `ω₂ₙ·D` of `domain` (size `n`): the odd points of the domain of size `2n`.
fn odd_coset<F: PrimeField, D: EvaluationDomain<F>>(domain: &D) -> R1CSResult<D> {
    let doubled = D::new(2 * domain.size()).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
    domain.get_coset(doubled.group_gen()).ok_or(SynthesisError::PolynomialDegreeTooLarge)
}

/// Groth16 over BN254 with the circuit's reduction: what setup and proving use.
pub type LightClientGroth16 = ark_groth16::Groth16<ark_bn254::Bn254, BSwappedReduction>;
