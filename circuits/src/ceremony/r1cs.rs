//! The light-client constraint system in circom's binary `.r1cs` format (version 1), the
//! input of `snarkjs groth16 setup` and `snarkjs zkey verify`.
//!
//! The file is `"r1cs"`, the version (`u32` 1), the number of sections (`u32`), then each
//! section as its type (`u32`), byte length (`u64`) and body; every integer little-endian:
//! * **1, header**: field element size (32), the prime `r` (32 bytes), number of wires,
//!   public outputs, public inputs, private inputs (`u32` each), number of labels (`u64`),
//!   number of constraints (`u32`);
//! * **2, constraints**: for each constraint its linear combinations `A`, `B`, `C`, each as a
//!   term count (`u32`) and terms (wire `u32`, coefficient as 32 bytes, standard form);
//! * **3, wire → label**: one `u64` label per wire.
//!
//! Wires are arkworks' variables in arkworks' order, which is circom's: wire 0 is the constant
//! 1, wires `1..=5` the public inputs (declared as public inputs, no outputs), then every
//! witness variable, all counted as private inputs (this circuit has no separate
//! intermediate signals). Each label is its wire's index. The constraints are written in the
//! reduction's order ([`qap_order`](crate::reduction::qap_order)): the circuit's `B` as circom's
//! `A`, so snarkjs's keys put the sparser side in G2 exactly as the INSECURE dev setup does.

use std::io::Write;

use ark_ff::{BigInteger, PrimeField};

use crate::{Fr, error::CeremonyError, prove::ConstraintMatrices};

/// Dimensions of an exported constraint system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct R1csSummary {
    /// Wires, including the constant 1.
    pub wires: usize,
    /// Public inputs (without the constant).
    pub public_inputs: usize,
    /// Constraints.
    pub constraints: usize,
}

const FIELD_BYTES: usize = 32;

/// Writes the constraint system of the light-client circuit of `capacity` to `out`.
pub fn write_r1cs(capacity: usize, out: &mut impl Write) -> Result<R1csSummary, CeremonyError> {
    let matrices = ConstraintMatrices::derive(capacity)?;
    write_matrices(&matrices, out)
}

fn write_matrices(
    matrices: &ConstraintMatrices,
    out: &mut impl Write,
) -> Result<R1csSummary, CeremonyError> {
    let wires = matrices.num_instance_variables + matrices.num_witness_variables;
    let public_inputs = matrices.num_instance_variables - 1;
    let constraints = matrices.num_constraints;
    let to_u32 = |what: &'static str, n: usize| {
        u32::try_from(n).map_err(|_| CeremonyError::TooLarge { what, count: n })
    };

    out.write_all(b"r1cs")?;
    out.write_all(&1u32.to_le_bytes())?;
    out.write_all(&3u32.to_le_bytes())?;

    let mut header = Vec::with_capacity(64);
    header.extend_from_slice(&(FIELD_BYTES as u32).to_le_bytes());
    header.extend_from_slice(&Fr::MODULUS.to_bytes_le());
    header.extend_from_slice(&to_u32("wires", wires)?.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    header.extend_from_slice(&to_u32("public inputs", public_inputs)?.to_le_bytes());
    header.extend_from_slice(
        &to_u32("private inputs", matrices.num_witness_variables)?.to_le_bytes(),
    );
    header.extend_from_slice(&(wires as u64).to_le_bytes());
    header.extend_from_slice(&to_u32("constraints", constraints)?.to_le_bytes());
    write_section(out, 1, &header)?;

    // Section 2 is large: its length first, then streamed.
    let terms: usize = matrices.abc.iter().flatten().map(Vec::len).sum();
    let length = (constraints * 3 * 4 + terms * (4 + FIELD_BYTES)) as u64;
    out.write_all(&2u32.to_le_bytes())?;
    out.write_all(&length.to_le_bytes())?;
    let mut row_bytes = Vec::new();
    for row in 0..constraints {
        row_bytes.clear();
        for matrix in &matrices.abc {
            let combination = &matrix[row];
            row_bytes.extend_from_slice(&to_u32("terms", combination.len())?.to_le_bytes());
            for (coefficient, wire) in combination {
                row_bytes.extend_from_slice(&to_u32("wires", *wire)?.to_le_bytes());
                row_bytes.extend_from_slice(&coefficient.into_bigint().to_bytes_le());
            }
        }
        out.write_all(&row_bytes)?;
    }

    let labels: Vec<u8> = (0..wires as u64).flat_map(u64::to_le_bytes).collect();
    write_section(out, 3, &labels)?;
    out.flush()?;
    Ok(R1csSummary { wires, public_inputs, constraints })
}

fn write_section(out: &mut impl Write, kind: u32, body: &[u8]) -> Result<(), CeremonyError> {
    out.write_all(&kind.to_le_bytes())?;
    out.write_all(&(body.len() as u64).to_le_bytes())?;
    out.write_all(body)?;
    Ok(())
}
