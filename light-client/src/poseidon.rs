//! Poseidon over BN254, bit-compatible with circomlib (and so with circomlibjs and circom
//! circuits): x^5 S-box, circomlib's round constants and MDS matrices, state width
//! `inputs + 1` with a zero capacity element.
//!
//! The constants come from `light-poseidon`; this module only caches them per width (building
//! them costs more than a hash) and runs the permutation without allocating. Tests pin the
//! result to `light-poseidon`'s own hasher, and the ecosystem test to circomlibjs.

use std::sync::OnceLock;

use ark_ff::{AdditiveGroup, Field};
use ark_std::Zero;
use light_poseidon::{PoseidonParameters, parameters::bn254_x5::get_poseidon_parameters};

use crate::field::Fr;

/// Most inputs one Poseidon call takes (circomlib supports up to 16 state elements; we use
/// at most 12 inputs, the widths `light-poseidon` ships).
pub const MAX_INPUTS: usize = 12;

/// Why a Poseidon hash could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoseidonError {
    /// Poseidon is instantiated for 1 to [`MAX_INPUTS`] inputs.
    #[error("Poseidon takes 1 to {MAX_INPUTS} inputs, got {0}")]
    InputCount(usize),
}

/// Round constants and matrices for one width, rearranged for speed.
///
/// Full rounds use circomlib's constants and dense MDS matrix as they are. Partial rounds (the
/// S-box on the first element only) are rewritten with the sparse-matrix factorization of the
/// Poseidon paper (appendix B): writing `M = [[m00, wᵀ], [v, M̂]]`, the dense product is split
/// into a matrix `diag(1, P)` that commutes with the next round's S-box (so it can be deferred)
/// and a sparse matrix `[[m00, wᵀP], [v̂, I]]` applied now, `2t - 1` multiplications instead of
/// `t²`. The deferred `diag(1, P)` is applied once after the last partial round; round constants
/// met while it is deferred are pre-multiplied by `diag(1, P⁻¹)`. The result is the same
/// permutation, which the tests check against `light-poseidon` at every width.
struct Params {
    width: usize,
    half_full: usize,
    /// Round constants of the full rounds, `width` each.
    full_constants: Vec<Fr>,
    /// Dense MDS, row-major.
    mds: Vec<Fr>,
    partial: Vec<PartialRound>,
    /// The deferred `P` after the last partial round, row-major `(t-1)²`.
    deferred: Vec<Fr>,
}

/// One rewritten partial round.
struct PartialRound {
    /// Round constants in the deferred basis (`width` of them).
    constants: Vec<Fr>,
    /// First row of the sparse matrix: `m00, wᵀP` (`width`).
    row: Vec<Fr>,
    /// First column below the diagonal: `v̂` (`width - 1`).
    column: Vec<Fr>,
}

type Matrix = Vec<Vec<Fr>>;

fn identity(n: usize) -> Matrix {
    (0..n).map(|i| (0..n).map(|j| if i == j { Fr::ONE } else { Fr::ZERO }).collect()).collect()
}

fn mat_mul(a: &Matrix, b: &Matrix) -> Matrix {
    let n = a.len();
    (0..n).map(|i| (0..n).map(|j| (0..n).map(|k| a[i][k] * b[k][j]).sum()).collect()).collect()
}

fn mat_vec(a: &Matrix, v: &[Fr]) -> Vec<Fr> {
    a.iter().map(|row| row.iter().zip(v).map(|(m, x)| *m * x).sum()).collect()
}

/// Gauss-Jordan inverse; MDS submatrices of a Cauchy matrix are always invertible.
fn invert(a: &Matrix) -> Matrix {
    let n = a.len();
    let mut m = a.clone();
    let mut inv = identity(n);
    for col in 0..n {
        let pivot = (col..n)
            .find(|&r| !m[r][col].is_zero())
            .unwrap_or_else(|| unreachable!("Cauchy submatrices are invertible"));
        m.swap(col, pivot);
        inv.swap(col, pivot);
        let scale = m[col][col].inverse().unwrap_or_else(|| unreachable!("pivot is non-zero"));
        for j in 0..n {
            m[col][j] *= scale;
            inv[col][j] *= scale;
        }
        for r in 0..n {
            if r != col && !m[r][col].is_zero() {
                let factor = m[r][col];
                for j in 0..n {
                    let (mv, iv) = (m[col][j], inv[col][j]);
                    m[r][j] -= factor * mv;
                    inv[r][j] -= factor * iv;
                }
            }
        }
    }
    inv
}

impl Params {
    fn load(inputs: usize) -> Self {
        let width = inputs + 1;
        // Widths 2..=13 are exactly the ones light-poseidon ships, so this cannot fail for
        // an `inputs` already checked against MAX_INPUTS.
        let PoseidonParameters { ark, mds, full_rounds, partial_rounds, .. } =
            get_poseidon_parameters::<Fr>(width as u8)
                .unwrap_or_else(|e| unreachable!("light-poseidon ships width {width}: {e}"));
        let half_full = full_rounds / 2;
        let constants = |round: usize| &ark[round * width..(round + 1) * width];

        let m00 = mds[0][0];
        let w: Vec<Fr> = mds[0][1..].to_vec();
        let v: Vec<Fr> = mds[1..].iter().map(|row| row[0]).collect();
        let m_hat: Matrix = mds[1..].iter().map(|row| row[1..].to_vec()).collect();
        let m_hat_inv = invert(&m_hat);

        let mut p = identity(width - 1);
        let mut p_inv = identity(width - 1);
        let mut partial = Vec::with_capacity(partial_rounds);
        for round in half_full..half_full + partial_rounds {
            let c = constants(round);
            let mut moved = vec![c[0]];
            moved.extend(mat_vec(&p_inv, &c[1..]));
            // Row: (m00, wᵀP); P_next = M̂P; column: v̂ = P_next⁻¹ v.
            let mut row = vec![m00];
            row.extend((0..width - 1).map(|j| (0..width - 1).map(|k| w[k] * p[k][j]).sum::<Fr>()));
            p = mat_mul(&m_hat, &p);
            p_inv = mat_mul(&p_inv, &m_hat_inv);
            let column = mat_vec(&p_inv, &v);
            partial.push(PartialRound { constants: moved, row, column });
        }
        let mut full_constants = Vec::with_capacity(full_rounds * width);
        for round in (0..half_full).chain(half_full + partial_rounds..full_rounds + partial_rounds)
        {
            full_constants.extend_from_slice(constants(round));
        }
        Self {
            width,
            half_full,
            full_constants,
            mds: mds.into_iter().flatten().collect(),
            partial,
            deferred: p.into_iter().flatten().collect(),
        }
    }

    fn full_round(&self, index: usize, state: &mut [Fr]) {
        let width = self.width;
        let constants = &self.full_constants[index * width..(index + 1) * width];
        for (s, c) in state.iter_mut().zip(constants) {
            *s += c;
            sbox(s);
        }
        let mut next = [Fr::ZERO; MAX_INPUTS + 1];
        for (i, out) in next[..width].iter_mut().enumerate() {
            let row = &self.mds[i * width..(i + 1) * width];
            *out = row.iter().zip(state.iter()).map(|(m, s)| *m * s).sum();
        }
        state.copy_from_slice(&next[..width]);
    }

    fn permute(&self, state: &mut [Fr]) {
        let width = self.width;
        for index in 0..self.half_full {
            self.full_round(index, state);
        }
        for round in &self.partial {
            for (s, c) in state.iter_mut().zip(&round.constants) {
                *s += c;
            }
            sbox(&mut state[0]);
            let first = state[0];
            state[0] = round.row.iter().zip(state.iter()).map(|(m, s)| *m * s).sum();
            for (s, v) in state[1..].iter_mut().zip(&round.column) {
                *s += *v * first;
            }
        }
        let mut rest = [Fr::ZERO; MAX_INPUTS];
        for (i, out) in rest[..width - 1].iter_mut().enumerate() {
            let row = &self.deferred[i * (width - 1)..(i + 1) * (width - 1)];
            *out = row.iter().zip(&state[1..]).map(|(m, s)| *m * s).sum();
        }
        state[1..].copy_from_slice(&rest[..width - 1]);
        for index in self.half_full..2 * self.half_full {
            self.full_round(index, state);
        }
    }
}

fn sbox(x: &mut Fr) {
    let x2 = x.square();
    *x *= x2.square();
}

fn params(inputs: usize) -> Result<&'static Params, PoseidonError> {
    static CACHE: [OnceLock<Params>; MAX_INPUTS] = [const { OnceLock::new() }; MAX_INPUTS];
    if inputs == 0 || inputs > MAX_INPUTS {
        return Err(PoseidonError::InputCount(inputs));
    }
    Ok(CACHE[inputs - 1].get_or_init(|| Params::load(inputs)))
}

/// circomlib's `Poseidon(n)` of `inputs` (1 to [`MAX_INPUTS`] elements).
pub fn hash(inputs: &[Fr]) -> Result<Fr, PoseidonError> {
    let params = params(inputs.len())?;
    let mut state = [Fr::ZERO; MAX_INPUTS + 1];
    state[1..=inputs.len()].copy_from_slice(inputs);
    params.permute(&mut state[..=inputs.len()]);
    Ok(state[0])
}

/// [`hash`] for a fixed number of inputs known to be in range at compile time.
pub fn hash_fixed<const N: usize>(inputs: [Fr; N]) -> Fr {
    const { assert!(N >= 1 && N <= MAX_INPUTS) };
    match hash(&inputs) {
        Ok(out) => out,
        Err(e) => unreachable!("arity checked at compile time: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use light_poseidon::{Poseidon, PoseidonHasher};
    use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

    #[test]
    fn matches_light_poseidon_at_every_width() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for n in 1..=MAX_INPUTS {
            let inputs: Vec<Fr> = (0..n).map(|_| ark_std_rand(&mut rng)).collect();
            let mut reference = Poseidon::<Fr>::new_circom(n).expect("supported width");
            assert_eq!(hash(&inputs), Ok(reference.hash(&inputs).expect("hash")), "n = {n}");
        }
        assert_eq!(hash(&[]), Err(PoseidonError::InputCount(0)));
        assert_eq!(hash(&[Fr::ZERO; 13]), Err(PoseidonError::InputCount(13)));
    }

    #[test]
    fn circomlib_reference_vector() {
        // circomlib's published test vector: poseidon([1, 2]).
        let out = hash_fixed([Fr::from(1u64), Fr::from(2u64)]);
        assert_eq!(
            crate::field::fr_to_decimal(&out),
            "7853200120776062878684798364095072458815029376092732009249414926327459813530"
        );
    }

    fn ark_std_rand(rng: &mut ChaCha20Rng) -> Fr {
        use rand_chacha::rand_core::RngCore;
        let mut bytes = [0u8; 64];
        rng.fill_bytes(&mut bytes);
        <Fr as ark_ff::PrimeField>::from_le_bytes_mod_order(&bytes)
    }
}
