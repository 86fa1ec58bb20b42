//! snarkjs-format exports: `verification_key.json`, `proof.json` and `public.json`, accepted by
//! `snarkjs groth16 verify verification_key.json public.json proof.json`.
//!
//! snarkjs (0.7) writes BN254 ("bn128") points as decimal strings in projective form with
//! `z = 1`: G1 as `[x, y, "1"]`, G2 as `[[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]` (real part
//! first — the reverse of the EIP-197 precompile order), and `vk_alphabeta_12 = e(α, β)` as
//! `[[[c0.c0.c0, c0.c0.c1], [c0.c1…], [c0.c2…]], [[c1.c0…], …]]`. Its verifier does not read
//! `vk_alphabeta_12`; it is included for tools that do.

use ark_bn254::{Bn254, Fq2, G1Affine, G2Affine};
use ark_ec::pairing::Pairing;
use ark_groth16::{Proof, VerifyingKey};
use serde_json::{Value, json};

use super::{decimal, g1_xy, g2_xy};
use crate::{
    Fr,
    circuit::{NUM_PUBLIC_INPUTS, PublicInputs},
    error::ExportError,
};

fn g1(p: &G1Affine) -> Result<Value, ExportError> {
    let (x, y) = g1_xy(p)?;
    Ok(json!([decimal(&x), decimal(&y), "1"]))
}

fn fq2(x: &Fq2) -> Value {
    json!([decimal(&x.c0), decimal(&x.c1)])
}

fn g2(p: &G2Affine) -> Result<Value, ExportError> {
    let (x, y) = g2_xy(p)?;
    Ok(json!([fq2(&x), fq2(&y), ["1", "0"]]))
}

/// `verification_key.json`.
pub fn verification_key(vk: &VerifyingKey<Bn254>) -> Result<Value, ExportError> {
    if vk.gamma_abc_g1.len() != NUM_PUBLIC_INPUTS + 1 {
        return Err(ExportError::KeyShape {
            found: vk.gamma_abc_g1.len(),
            expected: NUM_PUBLIC_INPUTS + 1,
        });
    }
    let alpha_beta = Bn254::pairing(vk.alpha_g1, vk.beta_g2).0;
    let fq6 = |c: &ark_bn254::Fq6| json!([fq2(&c.c0), fq2(&c.c1), fq2(&c.c2)]);
    let ic = vk.gamma_abc_g1.iter().map(g1).collect::<Result<Vec<_>, _>>()?;
    Ok(json!({
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": NUM_PUBLIC_INPUTS,
        "vk_alpha_1": g1(&vk.alpha_g1)?,
        "vk_beta_2": g2(&vk.beta_g2)?,
        "vk_gamma_2": g2(&vk.gamma_g2)?,
        "vk_delta_2": g2(&vk.delta_g2)?,
        "vk_alphabeta_12": [fq6(&alpha_beta.c0), fq6(&alpha_beta.c1)],
        "IC": ic,
    }))
}

/// `proof.json`.
pub fn proof(proof: &Proof<Bn254>) -> Result<Value, ExportError> {
    Ok(json!({
        "pi_a": g1(&proof.a)?,
        "pi_b": g2(&proof.b)?,
        "pi_c": g1(&proof.c)?,
        "protocol": "groth16",
        "curve": "bn128",
    }))
}

/// `public.json`: the public inputs as decimal strings, in circuit order.
pub fn public(inputs: &PublicInputs) -> Value {
    public_elements(&inputs.to_field_elements())
}

/// `public.json` from raw field elements.
pub fn public_elements(inputs: &[Fr]) -> Value {
    Value::Array(inputs.iter().map(|x| Value::String(decimal(x))).collect())
}

/// Pretty JSON text with a trailing newline.
pub fn to_text(value: &Value) -> Result<String, ExportError> {
    serde_json::to_string_pretty(value)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| ExportError::Json(e.to_string()))
}
