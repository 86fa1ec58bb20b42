//! Reading snarkjs's Groth16 proving keys (`.zkey`, version 1).
//!
//! A `.zkey` is an iden3 binary file: `"zkey"`, the version (`u32` 1), the number of sections
//! (`u32`), then each section as type (`u32`), byte length (`u64`) and body, all
//! little-endian. Field elements are 32 bytes little-endian in Montgomery form (`x·2²⁵⁶`);
//! a G1 point is `x‖y`, a G2 point `x.c0‖x.c1‖y.c0‖y.c1`; the identity is all zeros.
//! * **1**: the protocol (`u32`, 1 = Groth16);
//! * **2**: `n8q`, `q`, `n8r`, `r`, the number of variables (the constant 1 included), of public
//!   inputs (without it), the domain size, then `α₁, β₁, β₂, γ₂, δ₁, δ₂`;
//! * **3**: `IC` (one G1 point per public input and the constant), the verifying key's input
//!   points;
//! * **4**: the `A` and `B` coefficients of the QAP: a count, then `(matrix, constraint,
//!   signal, value)` with the value in standard form times `2⁵¹²` (what snarkjs's prover
//!   reads as Montgomery form);
//! * **5, 6, 7**: the `A` query (G1), `B` query in G1 and in G2, one point per variable;
//! * **8**: the `C` query (arkworks' `L`), one G1 point per private variable;
//! * **9**: the `H` query, one G1 point per domain point (the odd-coset form, see
//!   [`crate::reduction`]);
//! * **10**: the phase-2 transcript: the circuit hash (64 bytes) and the contributions.
//!
//! [`parse_zkey`] checks the structure and every point (on the curve and in its subgroup) and
//! turns the key into arkworks' [`ProvingKey`]; whether it belongs to *our* circuit is
//! [`import`](super::import)'s job.

use std::sync::LazyLock;

use ark_bn254::{Bn254, Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInt, Field, PrimeField};
use ark_groth16::{ProvingKey, VerifyingKey};
use rayon::prelude::*;

use crate::error::ZkeyError;

/// One `A` or `B` coefficient of the QAP as section 4 holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coefficient {
    /// 0 for `A`, 1 for `B`.
    pub matrix: u32,
    /// The row: a constraint, or `constraints + i` for public input `i`'s extra row.
    pub constraint: u32,
    /// The variable.
    pub signal: u32,
    /// The coefficient.
    pub value: Fr,
}

/// One phase-2 contribution as the transcript records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contribution {
    /// The contributor's name, if they gave one.
    pub name: Option<String>,
    /// `δ₁` after this contribution.
    pub delta_after: G1Affine,
    /// Whether this was a random beacon rather than a person.
    pub beacon: bool,
}

/// A parsed `.zkey`.
#[derive(Clone, Debug)]
pub struct Zkey {
    /// Variables, the constant 1 included.
    pub num_variables: usize,
    /// Public inputs, without the constant.
    pub num_public: usize,
    /// The QAP's domain size.
    pub domain_size: usize,
    /// The key in arkworks' form (`l_query` is section 8, `h_query` section 9).
    pub proving_key: ProvingKey<Bn254>,
    /// Section 4.
    pub coefficients: Vec<Coefficient>,
    /// snarkjs's hash of the circuit and the phase-1 parameters.
    pub circuit_hash: [u8; 64],
    /// The phase-2 contributions, oldest first.
    pub contributions: Vec<Contribution>,
}

const G1_BYTES: usize = 64;
const G2_BYTES: usize = 128;
const COEFFICIENT_BYTES: usize = 12 + 32;
const SECTIONS: u32 = 10;

/// Parses and validates a `.zkey` (see the [module docs](self)).
pub fn parse_zkey(bytes: &[u8]) -> Result<Zkey, ZkeyError> {
    let sections = split_sections(bytes)?;
    let section = |kind: u32| sections[kind as usize - 1];

    let mut protocol = Reader::new(section(1), 1);
    if protocol.u32()? != 1 {
        return Err(ZkeyError::NotGroth16);
    }
    protocol.end()?;

    let mut header = Reader::new(section(2), 2);
    for modulus in [Fq::MODULUS.0, Fr::MODULUS.0] {
        if header.u32()? != 32 || limbs(header.take(32)?) != modulus {
            return Err(ZkeyError::NotBn254);
        }
    }
    let num_variables = header.u32()? as usize;
    let num_public = header.u32()? as usize;
    let domain_size = header.u32()? as usize;
    if num_public + 1 > num_variables || !domain_size.is_power_of_two() {
        return Err(ZkeyError::Malformed {
            section: 2,
            reason: format!(
                "{num_variables} variables, {num_public} public inputs, domain {domain_size}"
            ),
        });
    }
    let alpha_g1 = g1(header.take(G1_BYTES)?, 2, 0)?;
    let beta_g1 = g1(header.take(G1_BYTES)?, 2, 1)?;
    let beta_g2 = g2(header.take(G2_BYTES)?, 2, 2)?;
    let gamma_g2 = g2(header.take(G2_BYTES)?, 2, 3)?;
    let delta_g1 = g1(header.take(G1_BYTES)?, 2, 4)?;
    let delta_g2 = g2(header.take(G2_BYTES)?, 2, 5)?;
    header.end()?;

    let private = num_variables - num_public - 1;
    let ic = g1_section(section(3), 3, num_public + 1)?;
    let coefficients = coefficient_section(section(4))?;
    let a_query = g1_section(section(5), 5, num_variables)?;
    let b_g1_query = g1_section(section(6), 6, num_variables)?;
    let b_g2_query = g2_section(section(7), 7, num_variables)?;
    let l_query = g1_section(section(8), 8, private)?;
    let h_query = g1_section(section(9), 9, domain_size)?;
    let (circuit_hash, contributions) = transcript(section(10))?;

    let vk = VerifyingKey { alpha_g1, beta_g2, gamma_g2, delta_g2, gamma_abc_g1: ic };
    let proving_key =
        ProvingKey { vk, beta_g1, delta_g1, a_query, b_g1_query, b_g2_query, h_query, l_query };
    Ok(Zkey {
        num_variables,
        num_public,
        domain_size,
        proving_key,
        coefficients,
        circuit_hash,
        contributions,
    })
}

/// The bodies of sections 1..=10, in order; each must appear exactly once.
fn split_sections(bytes: &[u8]) -> Result<[&[u8]; SECTIONS as usize], ZkeyError> {
    let mut file = Reader::new(bytes, 0);
    if file.take(4)? != b"zkey" {
        return Err(ZkeyError::NotZkey);
    }
    let version = file.u32()?;
    if version != 1 {
        return Err(ZkeyError::Version(version));
    }
    let count = file.u32()?;
    let mut sections: [Option<&[u8]>; SECTIONS as usize] = [None; SECTIONS as usize];
    for _ in 0..count {
        let kind = file.u32()?;
        let length =
            usize::try_from(file.u64()?).map_err(|_| ZkeyError::Truncated { section: 0 })?;
        let body = file.take(length)?;
        let slot = kind
            .checked_sub(1)
            .and_then(|i| sections.get_mut(i as usize))
            .ok_or(ZkeyError::UnknownSection(kind))?;
        if slot.replace(body).is_some() {
            return Err(ZkeyError::DuplicateSection(kind));
        }
    }
    file.end()?;
    let mut out: [&[u8]; SECTIONS as usize] = [&[]; SECTIONS as usize];
    for (i, (slot, section)) in out.iter_mut().zip(sections).enumerate() {
        *slot = section.ok_or(ZkeyError::MissingSection(i as u32 + 1))?;
    }
    Ok(out)
}

fn coefficient_section(body: &[u8]) -> Result<Vec<Coefficient>, ZkeyError> {
    let mut reader = Reader::new(body, 4);
    let count = reader.u32()? as usize;
    let entries = reader
        .take(count.checked_mul(COEFFICIENT_BYTES).ok_or(ZkeyError::Truncated { section: 4 })?)?;
    reader.end()?;
    // The stored value is v·2⁵¹² in standard form.
    let unscale = two_pow_256::<Fr>().square().inverse().ok_or(ZkeyError::NotBn254)?;
    entries
        .chunks_exact(COEFFICIENT_BYTES)
        .enumerate()
        .map(|(index, entry)| {
            let word =
                |i: usize| u32::from_le_bytes([entry[i], entry[i + 1], entry[i + 2], entry[i + 3]]);
            let value = Fr::from_bigint(BigInt(limbs(&entry[12..])))
                .ok_or(ZkeyError::Field { section: 4, index })?;
            Ok(Coefficient {
                matrix: word(0),
                constraint: word(4),
                signal: word(8),
                value: value * unscale,
            })
        })
        .collect()
}

fn transcript(body: &[u8]) -> Result<([u8; 64], Vec<Contribution>), ZkeyError> {
    let mut reader = Reader::new(body, 10);
    let mut circuit_hash = [0u8; 64];
    circuit_hash.copy_from_slice(reader.take(64)?);
    let count = reader.u32()?;
    let mut contributions = Vec::new();
    for index in 0..count as usize {
        let delta_after = g1(reader.take(G1_BYTES)?, 10, index)?;
        // The proof of knowledge of the contribution (g1_s, g1_sx, g2_spx) and the transcript
        // hash: `snarkjs zkey verify` checks them; importing only records who contributed.
        reader.take(2 * G1_BYTES + G2_BYTES + 64)?;
        let kind = reader.u32()?;
        let length = reader.u32()? as usize;
        let mut parameters = Reader::new(reader.take(length)?, 10);
        // Tagged parameters in increasing order: 1 the name (length, UTF-8), 2 the beacon's
        // iteration exponent (one byte), 3 the beacon hash (length, bytes).
        let mut name = None;
        let mut last_tag = 0;
        while !parameters.is_empty() {
            let tag = parameters.take(1)?[0];
            if tag <= last_tag || tag > 3 {
                return Err(ZkeyError::Malformed {
                    section: 10,
                    reason: format!("contribution {index}: parameter {tag} after {last_tag}"),
                });
            }
            last_tag = tag;
            let size = if tag == 2 { 1 } else { parameters.take(1)?[0] as usize };
            let value = parameters.take(size)?;
            if tag == 1 {
                name = Some(String::from_utf8_lossy(value).into_owned());
            }
        }
        contributions.push(Contribution { name, delta_after, beacon: kind == 1 });
    }
    reader.end()?;
    Ok((circuit_hash, contributions))
}

fn g1_section(body: &[u8], section: u32, count: usize) -> Result<Vec<G1Affine>, ZkeyError> {
    expect_length(body, section, count, G1_BYTES)?;
    body.par_chunks_exact(G1_BYTES).enumerate().map(|(i, bytes)| g1(bytes, section, i)).collect()
}

fn g2_section(body: &[u8], section: u32, count: usize) -> Result<Vec<G2Affine>, ZkeyError> {
    expect_length(body, section, count, G2_BYTES)?;
    body.par_chunks_exact(G2_BYTES).enumerate().map(|(i, bytes)| g2(bytes, section, i)).collect()
}

fn expect_length(body: &[u8], section: u32, count: usize, size: usize) -> Result<(), ZkeyError> {
    if Some(body.len()) != count.checked_mul(size) {
        return Err(ZkeyError::Malformed {
            section,
            reason: format!("{} bytes for {count} points of {size} bytes", body.len()),
        });
    }
    Ok(())
}

/// `2²⁵⁶` in `F` (the Montgomery factor of 4-limb fields).
fn two_pow_256<F: Field>() -> F {
    F::from(2u64).pow([256])
}

/// `2⁻²⁵⁶` in the base field: Montgomery form → value.
static FROM_MONTGOMERY: LazyLock<Fq> =
    LazyLock::new(|| two_pow_256::<Fq>().inverse().unwrap_or_default());

/// A base-field element from its 32 bytes in Montgomery form.
fn fq(bytes: &[u8], section: u32, index: usize) -> Result<Fq, ZkeyError> {
    let raw = Fq::from_bigint(BigInt(limbs(bytes))).ok_or(ZkeyError::Field { section, index })?;
    Ok(raw * *FROM_MONTGOMERY)
}

fn g1(bytes: &[u8], section: u32, index: usize) -> Result<G1Affine, ZkeyError> {
    if bytes.iter().all(|&b| b == 0) {
        return Ok(G1Affine::zero());
    }
    let point = G1Affine::new_unchecked(
        fq(&bytes[..32], section, index)?,
        fq(&bytes[32..], section, index)?,
    );
    if !point.is_on_curve() || !point.is_in_correct_subgroup_assuming_on_curve() {
        return Err(ZkeyError::Point { section, index });
    }
    Ok(point)
}

fn g2(bytes: &[u8], section: u32, index: usize) -> Result<G2Affine, ZkeyError> {
    if bytes.iter().all(|&b| b == 0) {
        return Ok(G2Affine::zero());
    }
    let element = |at: usize| fq(&bytes[at..at + 32], section, index);
    let x = Fq2::new(element(0)?, element(32)?);
    let y = Fq2::new(element(64)?, element(96)?);
    let point = G2Affine::new_unchecked(x, y);
    if !point.is_on_curve() || !point.is_in_correct_subgroup_assuming_on_curve() {
        return Err(ZkeyError::Point { section, index });
    }
    Ok(point)
}

/// Four little-endian 64-bit limbs from 32 bytes.
fn limbs(bytes: &[u8]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (limb, chunk) in out.iter_mut().zip(bytes.chunks_exact(8)) {
        *limb = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
    }
    out
}

/// A bounds-checked little-endian cursor over one section.
struct Reader<'a> {
    bytes: &'a [u8],
    section: u32,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], section: u32) -> Self {
        Self { bytes, section }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ZkeyError> {
        if n > self.bytes.len() {
            return Err(ZkeyError::Truncated { section: self.section });
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, ZkeyError> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn u64(&mut self) -> Result<u64, ZkeyError> {
        let mut out = [0u8; 8];
        out.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(out))
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Fails if bytes are left.
    fn end(&self) -> Result<(), ZkeyError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(ZkeyError::Malformed {
                section: self.section,
                reason: format!("{} bytes left over", self.bytes.len()),
            })
        }
    }
}
