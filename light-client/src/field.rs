//! BN254 scalar field elements (`Fr`) as 32-byte big-endian words.
//!
//! Poseidon hashes, Baby Jubjub coordinates and committee commitments are elements of BN254's
//! scalar field (Baby Jubjub's base field). Headers and Solidity carry them as `bytes32`
//! big-endian; every conversion from outside bytes checks that the integer is below the modulus
//! so one element has exactly one encoding.

use alloy_primitives::B256;
use ark_ff::{BigInteger, PrimeField};

/// BN254's scalar field: the field Poseidon works in and Baby Jubjub is defined over.
pub type Fr = ark_bn254::Fr;

/// Why 32 bytes were not a field element.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// The big-endian integer is not below the BN254 scalar field modulus.
    #[error("{0} is not below the BN254 scalar field modulus")]
    NotCanonical(B256),
}

/// Reads a field element from 32 big-endian bytes, rejecting values `>= p`.
pub fn fr_from_b256(word: &B256) -> Result<Fr, FieldError> {
    let mut limbs = [0u64; 4];
    for (i, chunk) in word.as_slice().rchunks_exact(8).enumerate() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        limbs[i] = u64::from_be_bytes(bytes);
    }
    Fr::from_bigint(ark_ff::BigInt(limbs)).ok_or(FieldError::NotCanonical(*word))
}

/// Writes a field element as 32 big-endian bytes.
pub fn fr_to_b256(value: &Fr) -> B256 {
    let bytes = value.into_bigint().to_bytes_be();
    B256::from_slice(&bytes)
}

/// A `u64` as a field element.
pub fn fr_from_u64(value: u64) -> Fr {
    Fr::from(value)
}

/// Decimal string of a field element (the form circomlib and snarkjs print).
pub fn fr_to_decimal(value: &Fr) -> String {
    value.into_bigint().to_string()
}

/// Splits a 256-bit word into its high and low 128-bit halves, each a field element; used to
/// carry keccak roots (which may exceed the field) into Poseidon without losing bits.
pub fn split_b256(word: &B256) -> (Fr, Fr) {
    let (hi, lo) = word.as_slice().split_at(16);
    let limb = |half: &[u8]| {
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(half);
        Fr::from(u128::from_be_bytes(bytes))
    };
    (limb(hi), limb(lo))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{AdditiveGroup, Field};

    #[test]
    fn round_trips_and_rejects_the_modulus() {
        for value in [Fr::ZERO, Fr::ONE, -Fr::ONE, Fr::from(1u64 << 63)] {
            assert_eq!(fr_from_b256(&fr_to_b256(&value)), Ok(value));
        }
        let modulus = B256::from_slice(&Fr::MODULUS.to_bytes_be());
        assert_eq!(fr_from_b256(&modulus), Err(FieldError::NotCanonical(modulus)));
        assert!(fr_from_b256(&B256::repeat_byte(0xff)).is_err());
    }

    #[test]
    fn split_keeps_all_bits() {
        let word = B256::repeat_byte(0xab);
        let (hi, lo) = split_b256(&word);
        let two_128 = Fr::from(2u64).pow([128]);
        assert_eq!(fr_to_b256(&(hi * two_128 + lo)), {
            // 0xabab.. exceeds p, so compare modulo p.
            let mut expected = Fr::from_be_bytes_mod_order(word.as_slice());
            expected += Fr::ZERO;
            fr_to_b256(&expected)
        });
    }
}
