//! In-circuit Poseidon, bit-for-bit compatible with circomlib (and `light-poseidon`'s
//! `Poseidon::<Fr>::new_circom(n)`).
//!
//! Construction: state width `t = n + 1`, `state = [0, x_1, …, x_n]` (domain tag 0 in
//! `state[0]`), `R_F = 8` full rounds split 4 + 4 around `R_P(t)` partial rounds, each round
//! `ARK → S-box (x⁵) → MDS`, output `state[0]`. Round constants and MDS matrices are read at
//! run time from `light_poseidon::parameters::bn254_x5::get_poseidon_parameters`, so the
//! gadget cannot drift from the native hash.
//!
//! Cost: an S-box costs 3 constraints (`x²`, `x⁴`, `x⁴·x`); ARK and MDS are linear and cost
//! none (each new state element is one linear combination of the previous S-box outputs,
//! with the next round's constants folded in). The very first S-box of `state[0]` acts on a
//! constant and is free, so a hash costs `3·(8·t + R_P(t) − 1)` constraints:
//!
//! | inputs | width | R_P | constraints |
//! |---|---|---|---|
//! | 1 | 2 | 56 | 213 |
//! | 2 | 3 | 57 | 240 |
//! | 3 | 4 | 56 | 261 |
//! | 4 | 5 | 60 | 297 |
//! | 5 | 6 | 60 | 321 |

use std::sync::{Arc, OnceLock};

use ark_r1cs_std::{fields::FieldVar, fields::fp::FpVar};
use ark_relations::gr1cs::SynthesisError;
use light_poseidon::parameters::bn254_x5;

use super::affine_combination;
use crate::{CircuitError, Fr};

/// Largest number of inputs circomlib's Poseidon (and `light-poseidon`) supports.
pub const MAX_INPUTS: usize = 12;

/// Poseidon constants for one width, as `light-poseidon` defines them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoseidonConfig {
    /// State width `t` (number of inputs + 1).
    pub width: usize,
    /// Number of full rounds `R_F` (8 for every circomlib width).
    pub full_rounds: usize,
    /// Number of partial rounds `R_P`.
    pub partial_rounds: usize,
    /// Round constants, `width` per round, round-major.
    pub ark: Vec<Fr>,
    /// MDS matrix, `mds[i][j]` multiplies `state[j]` into the new `state[i]`.
    pub mds: Vec<Vec<Fr>>,
}

impl PoseidonConfig {
    /// Loads circomlib's parameters for `inputs` inputs from `light-poseidon`.
    pub fn circom(inputs: usize) -> Result<Self, CircuitError> {
        if inputs == 0 || inputs > MAX_INPUTS {
            return Err(CircuitError::UnsupportedPoseidonArity { inputs });
        }
        let width = u8::try_from(inputs + 1)
            .map_err(|_| CircuitError::UnsupportedPoseidonArity { inputs })?;
        let params = bn254_x5::get_poseidon_parameters::<Fr>(width)
            .map_err(|e| CircuitError::PoseidonParameters(e.to_string()))?;
        let config = Self {
            width: params.width,
            full_rounds: params.full_rounds,
            partial_rounds: params.partial_rounds,
            ark: params.ark,
            mds: params.mds,
        };
        let rounds = config.full_rounds + config.partial_rounds;
        let well_formed = params.alpha == 5
            && config.width == inputs + 1
            && config.full_rounds.is_multiple_of(2)
            && config.ark.len() == rounds * config.width
            && config.mds.len() == config.width
            && config.mds.iter().all(|row| row.len() == config.width);
        if !well_formed {
            return Err(CircuitError::PoseidonParameters(format!(
                "unexpected parameter shape for width {}",
                config.width
            )));
        }
        Ok(config)
    }

    /// Number of constraints one hash costs with these parameters.
    pub fn num_constraints(&self) -> usize {
        3 * (self.full_rounds * self.width + self.partial_rounds - 1)
    }
}

/// Per-width cache: parameters are parsed once per process.
static CONFIGS: [OnceLock<Result<Arc<PoseidonConfig>, CircuitError>>; MAX_INPUTS] =
    [const { OnceLock::new() }; MAX_INPUTS];

/// The in-circuit Poseidon hash for a fixed number of inputs.
#[derive(Debug, Clone)]
pub struct PoseidonGadget {
    config: Arc<PoseidonConfig>,
}

impl PoseidonGadget {
    /// The circomlib-compatible hash of `inputs` field elements (parameters are cached).
    pub fn circom(inputs: usize) -> Result<Self, CircuitError> {
        let slot = inputs
            .checked_sub(1)
            .and_then(|i| CONFIGS.get(i))
            .ok_or(CircuitError::UnsupportedPoseidonArity { inputs })?;
        let config = slot.get_or_init(|| PoseidonConfig::circom(inputs).map(Arc::new)).clone()?;
        Ok(Self { config })
    }

    /// The parameters this gadget uses.
    pub fn config(&self) -> &PoseidonConfig {
        &self.config
    }

    /// Number of inputs this gadget hashes.
    pub fn arity(&self) -> usize {
        self.config.width - 1
    }

    /// Hashes `inputs` (exactly [`arity`](Self::arity) of them, else
    /// [`SynthesisError::ArityMismatch`]) and returns `state[0]` after the permutation.
    pub fn hash(&self, inputs: &[FpVar<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
        let c = &*self.config;
        let t = c.width;
        if inputs.len() != t - 1 {
            return Err(SynthesisError::ArityMismatch);
        }
        let rounds = c.full_rounds + c.partial_rounds;
        let half_full = c.full_rounds / 2;

        // state = [tag, inputs…] + ARK of round 0.
        let mut state: Vec<FpVar<Fr>> = Vec::with_capacity(t);
        state.push(FpVar::Constant(c.ark[0]));
        for (i, x) in inputs.iter().enumerate() {
            state.push(x + c.ark[i + 1]);
        }

        for round in 0..rounds {
            let full = round < half_full || round >= half_full + c.partial_rounds;
            // S-box layer (the only non-linear part).
            if full {
                for s in &mut state {
                    *s = sbox(s)?;
                }
            } else {
                state[0] = sbox(&state[0])?;
            }
            // MDS, with the next round's constants folded in. After the last round only
            // `state[0]` is needed.
            let last = round + 1 == rounds;
            let outputs = if last { 1 } else { t };
            let mut next = Vec::with_capacity(outputs);
            for (i, row) in c.mds.iter().enumerate().take(outputs) {
                let constant = if last { Fr::from(0u8) } else { c.ark[(round + 1) * t + i] };
                next.push(affine_combination(row.iter().copied().zip(state.iter()), constant)?);
            }
            state = next;
        }
        state.into_iter().next().ok_or(SynthesisError::Unsatisfiable)
    }
}

/// `x⁵` with 3 constraints (free on constants).
fn sbox(x: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let x2 = x.square()?;
    let x4 = x2.square()?;
    Ok(&x4 * x)
}

/// Convenience: circomlib Poseidon of `inputs` (arity taken from the slice length).
pub fn poseidon_hash(inputs: &[FpVar<Fr>]) -> Result<FpVar<Fr>, CircuitError> {
    Ok(PoseidonGadget::circom(inputs.len())?.hash(inputs)?)
}

#[cfg(test)]
mod tests {
    use ark_ff::UniformRand;
    use ark_r1cs_std::{GR1CSVar, alloc::AllocVar, eq::EqGadget};
    use ark_relations::gr1cs::{ConstraintSystem, SynthesisMode};
    use light_poseidon::{Poseidon, PoseidonHasher};
    use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

    use super::*;

    #[test]
    fn matches_light_poseidon_and_counts_constraints() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x5eed);
        for n in 1..=MAX_INPUTS {
            let gadget = PoseidonGadget::circom(n).expect("parameters");
            for _ in 0..3 {
                let inputs: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
                let expected = Poseidon::<Fr>::new_circom(n)
                    .expect("native parameters")
                    .hash(&inputs)
                    .expect("native hash");

                let cs = ConstraintSystem::<Fr>::new_ref();
                let vars: Vec<FpVar<Fr>> = inputs
                    .iter()
                    .map(|x| FpVar::new_witness(cs.clone(), || Ok(*x)).expect("alloc"))
                    .collect();
                let out = gadget.hash(&vars).expect("hash");
                assert_eq!(out.value().expect("value"), expected, "n = {n}");
                assert!(cs.is_satisfied().expect("satisfiable"), "n = {n}");
                assert_eq!(cs.num_constraints(), gadget.config().num_constraints(), "n = {n}");

                // A wrong output must not satisfy an equality with it.
                let wrong =
                    FpVar::new_witness(cs.clone(), || Ok(expected + Fr::from(1u8))).expect("alloc");
                out.enforce_equal(&wrong).expect("enforce");
                assert!(!cs.is_satisfied().expect("checkable"));
            }
        }
    }

    #[test]
    fn constant_inputs_cost_nothing() {
        let inputs = [Fr::from(1u8), Fr::from(2u8)];
        let vars: Vec<FpVar<Fr>> = inputs.iter().map(|x| FpVar::Constant(*x)).collect();
        let out = poseidon_hash(&vars).expect("hash");
        let expected = Poseidon::<Fr>::new_circom(2).expect("p").hash(&inputs).expect("h");
        assert!(matches!(out, FpVar::Constant(c) if c == expected));
    }

    #[test]
    fn setup_mode_has_the_same_shape() {
        let gadget = PoseidonGadget::circom(5).expect("parameters");
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_mode(SynthesisMode::Setup);
        let vars: Vec<FpVar<Fr>> = (0..5)
            .map(|_| {
                FpVar::new_witness(cs.clone(), || -> Result<Fr, SynthesisError> {
                    Err(SynthesisError::AssignmentMissing)
                })
                .expect("alloc")
            })
            .collect();
        let _ = gadget.hash(&vars).expect("hash");
        assert_eq!(cs.num_constraints(), 321);
    }

    #[test]
    fn rejects_bad_arity() {
        assert_eq!(
            PoseidonGadget::circom(0).err(),
            Some(CircuitError::UnsupportedPoseidonArity { inputs: 0 })
        );
        assert!(PoseidonGadget::circom(MAX_INPUTS + 1).is_err());
        let gadget = PoseidonGadget::circom(2).expect("parameters");
        assert_eq!(
            gadget.hash(&[FpVar::Constant(Fr::from(1u8))]).err(),
            Some(SynthesisError::ArityMismatch)
        );
    }
}
