//! Importing a ceremony's `.zkey` as the light client's proving key, checked against our
//! circuit.
//!
//! [`import_zkey`] refuses a key that is not for the light-client circuit of the expected
//! capacity: the number of variables, public inputs and the domain must match, and section 4
//! (every `A` and `B` coefficient of the QAP, in snarkjs's order) must equal what our circuit's
//! matrices give, term by term. The `C` matrix is not in a zkey; it is bound through the `C`
//! query, which `snarkjs zkey verify` (run by the ceremony script) checks against the `.r1cs`
//! and the powers of tau, and through the prover's self-check, which refuses a key whose
//! proofs do not verify. The import also checks what it can cheaply: `β₁`/`β₂` and `δ₁`/`δ₂`
//! are the same scalars (two pairings), the last contribution produced `δ₁`, and there was at
//! least one contribution (otherwise `δ` is the generator and anyone can forge proofs).

use ark_bn254::{Bn254, G1Affine, G2Affine};
use ark_ec::{AffineRepr, pairing::Pairing};
use ark_ff::One;
use ark_groth16::ProvingKey;
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use sha2::{Digest, Sha256};

use super::zkey::{Coefficient, Contribution, parse_zkey};
use crate::{Fr, circuit::NUM_PUBLIC_INPUTS, error::ZkeyError, prove::ConstraintMatrices};

/// A ceremony key accepted for our circuit.
#[derive(Clone, Debug)]
pub struct ImportedKey {
    /// The capacity it was checked against.
    pub capacity: usize,
    /// The proving key (with its verifying key).
    pub proving_key: ProvingKey<Bn254>,
    /// The phase-2 contributions, oldest first.
    pub contributions: Vec<Contribution>,
    /// snarkjs's circuit hash (what `snarkjs zkey verify` prints as "Circuit hash").
    pub circuit_hash: [u8; 64],
    /// SHA-256 of the zkey file, which operators compare.
    pub zkey_sha256: [u8; 32],
}

impl ImportedKey {
    /// The key's origin as key-file headers record it: `snarkjs-zkey-sha256:<hex>`.
    pub fn origin(&self) -> String {
        let hex: String = self.zkey_sha256.iter().map(|b| format!("{b:02x}")).collect();
        format!("snarkjs-zkey-sha256:{hex}")
    }
}

/// Parses `zkey_bytes` and checks it against the light-client circuit of `capacity` (see
/// the [module docs](self)).
pub fn import_zkey(zkey_bytes: &[u8], capacity: usize) -> Result<ImportedKey, ZkeyError> {
    let zkey = parse_zkey(zkey_bytes)?;
    let matrices = ConstraintMatrices::derive(capacity)?;
    let other = |reason: String| ZkeyError::OtherCircuit { capacity, reason };

    let variables = matrices.num_instance_variables + matrices.num_witness_variables;
    let rows = matrices.num_constraints + matrices.num_instance_variables;
    let domain = GeneralEvaluationDomain::<Fr>::new(rows)
        .ok_or_else(|| other(format!("no domain for {rows} rows")))?
        .size();
    for (what, found, expected) in [
        ("public inputs", zkey.num_public, NUM_PUBLIC_INPUTS),
        ("variables", zkey.num_variables, variables),
        ("domain size", zkey.domain_size, domain),
    ] {
        if found != expected {
            return Err(other(format!("{found} {what}, the circuit has {expected}")));
        }
    }
    let expected = expected_coefficients(&matrices);
    if zkey.coefficients.len() != expected.len() {
        return Err(other(format!(
            "{} QAP coefficients, the circuit has {}",
            zkey.coefficients.len(),
            expected.len()
        )));
    }
    if let Some((index, (found, want))) =
        zkey.coefficients.iter().zip(&expected).enumerate().find(|(_, (f, w))| f != w)
    {
        return Err(other(format!("QAP coefficient {index} is {found:?}, expected {want:?}")));
    }

    let key = &zkey.proving_key;
    let same_scalar = |g1: G1Affine, g2: G2Affine| {
        Bn254::pairing(g1, G2Affine::generator()) == Bn254::pairing(G1Affine::generator(), g2)
    };
    if !same_scalar(key.beta_g1, key.vk.beta_g2) {
        return Err(ZkeyError::Inconsistent("β₁ and β₂ differ"));
    }
    if !same_scalar(key.delta_g1, key.vk.delta_g2) {
        return Err(ZkeyError::Inconsistent("δ₁ and δ₂ differ"));
    }
    let last = zkey.contributions.last().ok_or(ZkeyError::NoContributions)?;
    if last.delta_after != key.delta_g1 {
        return Err(ZkeyError::Inconsistent("δ₁ is not what the last contribution produced"));
    }
    if key.delta_g1 == G1Affine::generator() {
        return Err(ZkeyError::NoContributions);
    }

    Ok(ImportedKey {
        capacity,
        proving_key: zkey.proving_key,
        contributions: zkey.contributions,
        circuit_hash: zkey.circuit_hash,
        zkey_sha256: Sha256::digest(zkey_bytes).into(),
    })
}

/// Section 4 as snarkjs derives it from our `.r1cs` export: per constraint its `A` terms, then
/// its `B` terms (the reduction's order), then one `A` row `1·inputᵢ` per instance variable.
pub(crate) fn expected_coefficients(matrices: &ConstraintMatrices) -> Vec<Coefficient> {
    let m = matrices.num_constraints;
    let mut out = Vec::new();
    for row in 0..m {
        for (matrix, terms) in matrices.abc.iter().take(2).enumerate() {
            out.extend(terms[row].iter().map(|(value, signal)| Coefficient {
                matrix: matrix as u32,
                constraint: row as u32,
                signal: *signal as u32,
                value: *value,
            }));
        }
    }
    out.extend((0..matrices.num_instance_variables).map(|input| Coefficient {
        matrix: 0,
        constraint: (m + input) as u32,
        signal: input as u32,
        value: Fr::one(),
    }));
    out
}
