//! Poseidon over BN254, bit-compatible with circomlib (and so with circomlibjs and circom
//! circuits): x^5 S-box, circomlib's round constants and MDS matrices, state width
//! `inputs + 1` with a zero capacity element.
//!
//! The constants come from `light-poseidon`; this module only caches them per width (building
//! them costs more than a hash) and runs the permutation without allocating. Tests pin the
//! result to `light-poseidon`'s own hasher, and the ecosystem test to circomlibjs.

use std::sync::OnceLock;

use ark_ff::{AdditiveGroup, Field};
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

/// Round constants and MDS matrix for one width, flattened for the hot loop.
struct Params {
    width: usize,
    full_rounds: usize,
    partial_rounds: usize,
    ark: Vec<Fr>,
    mds: Vec<Fr>,
}

impl Params {
    fn load(inputs: usize) -> Self {
        let width = inputs + 1;
        // Widths 2..=13 are exactly the ones light-poseidon ships, so this cannot fail for
        // an `inputs` already checked against MAX_INPUTS.
        let PoseidonParameters {
            ark,
            mds,
            full_rounds,
            partial_rounds,
            ..
        } = get_poseidon_parameters::<Fr>(width as u8)
            .unwrap_or_else(|e| unreachable!("light-poseidon ships width {width}: {e}"));
        Self {
            width,
            full_rounds,
            partial_rounds,
            ark,
            mds: mds.into_iter().flatten().collect(),
        }
    }

    fn permute(&self, state: &mut [Fr; MAX_INPUTS + 1]) {
        let width = self.width;
        let half = self.full_rounds / 2;
        let rounds = self.full_rounds + self.partial_rounds;
        let mut next = [Fr::ZERO; MAX_INPUTS + 1];
        for round in 0..rounds {
            let constants = &self.ark[round * width..(round + 1) * width];
            for (s, c) in state[..width].iter_mut().zip(constants) {
                *s += c;
            }
            if round < half || round >= half + self.partial_rounds {
                state[..width].iter_mut().for_each(sbox);
            } else {
                sbox(&mut state[0]);
            }
            for (i, out) in next[..width].iter_mut().enumerate() {
                let row = &self.mds[i * width..(i + 1) * width];
                let mut acc = Fr::ZERO;
                for (m, s) in row.iter().zip(&state[..width]) {
                    acc += *m * s;
                }
                *out = acc;
            }
            state[..width].copy_from_slice(&next[..width]);
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
    params.permute(&mut state);
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
            assert_eq!(
                hash(&inputs),
                Ok(reference.hash(&inputs).expect("hash")),
                "n = {n}"
            );
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
