//! EdDSA over Baby Jubjub with Poseidon, exactly as circomlib's `EdDSAPoseidonVerifier` checks it.
//!
//! A signature on a field element `M` under public key `A` is `(R8, S)` with
//! `S·Base8 == R8 + (8·e)·A`, where `e = Poseidon(R8.x, R8.y, A.x, A.y, M)` in circomlib
//! coordinates and `S < l`. Signatures made here verify with circomlibjs' `verifyPoseidon`
//! (the test suite runs it), and the light-client circuit proves the same equation.
//!
//! Beyond circomlib, verification here rejects:
//! * public keys off the curve, of small order or outside the prime subgroup (checked once,
//!   when a [`PublicKey`] is built);
//! * `R8` off the curve or of small order (`R8` with a torsion component cannot satisfy the
//!   equation at all: both `S·Base8` and `8e·A` lie in the prime subgroup, so their difference
//!   does too — no separate, costly subgroup check is needed);
//! * `S ≥ l`, the malleable form.
//!
//! Keys and nonces are derived deterministically: the secret scalar from a 32-byte seed, the
//! nonce from a per-key nonce secret and the message (RFC 6979 in spirit), each with a 512-bit
//! keccak output reduced modulo `l`, so a signer never needs randomness at signing time and
//! never reuses a nonce for two messages.

use alloy_primitives::keccak256;
use ark_ec::CurveGroup;
use ark_ed_on_bn254::EdwardsProjective;
use ark_ff::{BigInteger, PrimeField};
use ark_std::Zero;

use crate::{
    babyjubjub::{CurveError, FixedBaseTable, POINT_LEN, Point, Scalar, mul_base8, mul_wnaf},
    field::{Fr, fr_to_b256},
    poseidon,
};

/// Length of a signature on the wire: `R8.x ‖ R8.y ‖ S`, 32 bytes big-endian each.
pub const SIGNATURE_LEN: usize = 96;

const SECRET_TAG: &[u8] = b"trestle.eddsa-poseidon.secret.v1";
const NONCE_KEY_TAG: &[u8] = b"trestle.eddsa-poseidon.nonce-key.v1";
const NONCE_TAG: &[u8] = b"trestle.eddsa-poseidon.nonce.v1";

/// Why a public key was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The point itself is malformed or not on the curve.
    #[error("invalid public key point: {0}")]
    Point(#[from] CurveError),
}

/// Why a signature was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The bytes have the wrong length for a signature.
    #[error("a signature is {SIGNATURE_LEN} bytes, got {0}")]
    Length(usize),
    /// `R8` is malformed, off the curve or of small order.
    #[error("invalid R8: {0}")]
    Nonce(CurveError),
    /// `S` is not below the subgroup order `l` (the malleable form).
    #[error("S is not below the subgroup order")]
    ScalarNotCanonical,
    /// The signature is well formed but the verification equation does not hold.
    #[error("signature does not verify")]
    Mismatch,
}

/// A validated public key: on the curve, in the prime-order subgroup, not the identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(Point);

impl PublicKey {
    /// Validates a point as a public key.
    pub fn from_point(point: Point) -> Result<Self, KeyError> {
        if point.is_small_order() {
            return Err(CurveError::SmallOrder.into());
        }
        if !point.is_in_prime_subgroup() {
            return Err(CurveError::NotInSubgroup.into());
        }
        Ok(Self(point))
    }

    /// Parses and validates the wire form (circomlib `x ‖ y`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        Self::from_point(Point::from_bytes(bytes)?)
    }

    /// Wire form.
    pub fn to_bytes(&self) -> [u8; POINT_LEN] {
        self.0.to_bytes()
    }

    /// The underlying point.
    pub fn point(&self) -> &Point {
        &self.0
    }

    /// circomlib coordinates.
    pub fn circom(&self) -> (Fr, Fr) {
        self.0.circom()
    }
}

/// A secret signing key. `Debug` does not print it.
#[derive(Clone)]
pub struct SecretKey {
    seed: [u8; 32],
    scalar: Scalar,
    nonce_key: [u8; 32],
    public: PublicKey,
}

impl core::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SecretKey").field("public", &self.public).finish_non_exhaustive()
    }
}

/// Reduces 64 bytes of keccak output, derived from `tag ‖ parts ‖ counter`, modulo `l`.
fn wide_scalar(tag: &[u8], parts: &[&[u8]], counter: u8) -> Scalar {
    let mut wide = [0u8; 64];
    for (half, chunk) in wide.chunks_exact_mut(32).enumerate() {
        let mut input = tag.to_vec();
        for part in parts {
            input.extend_from_slice(part);
        }
        input.extend_from_slice(&[counter, half as u8]);
        chunk.copy_from_slice(keccak256(&input).as_slice());
    }
    Scalar::from_le_bytes_mod_order(&wide)
}

impl SecretKey {
    /// The key derived from a 32-byte seed (keep the seed secret: it is the key).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        // A zero scalar has probability 2^-251; retrying keeps the function total anyway.
        let scalar = (0..=u8::MAX)
            .map(|counter| wide_scalar(SECRET_TAG, &[&seed], counter))
            .find(|s| !s.is_zero())
            .unwrap_or_else(|| unreachable!("256 independent 512-bit reductions were all zero"));
        let nonce_key = keccak256([NONCE_KEY_TAG, &seed].concat()).0;
        let point = Point(mul_base8(&scalar).into_affine());
        // a ∈ [1, l) so a·Base8 is a non-identity point of the prime subgroup.
        let public = PublicKey(point);
        Self { seed, scalar, nonce_key, public }
    }

    /// The seed this key was derived from.
    pub fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Signs a field element: deterministic, so signing the same message twice gives the
    /// same signature.
    pub fn sign(&self, message: &Fr) -> Signature {
        let message_bytes = fr_to_b256(message);
        let r = (0..=u8::MAX)
            .map(|counter| {
                wide_scalar(NONCE_TAG, &[&self.nonce_key, message_bytes.as_slice()], counter)
            })
            .find(|r| !r.is_zero())
            .unwrap_or_else(|| unreachable!("256 independent 512-bit reductions were all zero"));
        let r8 = Point(mul_base8(&r).into_affine());
        let e = challenge(&r8, &self.public, message);
        let s = r + Scalar::from(8u64) * e * self.scalar;
        Signature { r8, s }
    }
}

/// `8·e mod l` would lose nothing: `A` has order `l`. `e` is reduced modulo `l` here.
fn challenge(r8: &Point, public: &PublicKey, message: &Fr) -> Scalar {
    let (rx, ry) = r8.circom();
    let (ax, ay) = public.circom();
    let e = poseidon::hash_fixed([rx, ry, ax, ay, *message]);
    Scalar::from_le_bytes_mod_order(&e.into_bigint().to_bytes_le())
}

/// An EdDSA-Poseidon signature `(R8, S)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature {
    r8: Point,
    s: Scalar,
}

impl Signature {
    /// Parses the wire form, rejecting malformed or small-order `R8` and `S ≥ l`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SignatureError> {
        if bytes.len() != SIGNATURE_LEN {
            return Err(SignatureError::Length(bytes.len()));
        }
        let r8 = Point::from_bytes(&bytes[..POINT_LEN]).map_err(SignatureError::Nonce)?;
        let s = {
            let mut le = [0u8; 32];
            le.copy_from_slice(&bytes[POINT_LEN..]);
            le.reverse();
            let limbs = core::array::from_fn(|i| {
                let mut limb = [0u8; 8];
                limb.copy_from_slice(&le[8 * i..8 * i + 8]);
                u64::from_le_bytes(limb)
            });
            Scalar::from_bigint(ark_ff::BigInt(limbs)).ok_or(SignatureError::ScalarNotCanonical)?
        };
        Self::new(r8, s)
    }

    /// A signature from its parts, rejecting a small-order `R8`.
    pub fn new(r8: Point, s: Scalar) -> Result<Self, SignatureError> {
        if r8.is_small_order() {
            return Err(SignatureError::Nonce(CurveError::SmallOrder));
        }
        Ok(Self { r8, s })
    }

    /// Wire form: `R8.x ‖ R8.y ‖ S`, big-endian.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_LEN] {
        let mut out = [0u8; SIGNATURE_LEN];
        out[..POINT_LEN].copy_from_slice(&self.r8.to_bytes());
        let mut s = self.s.into_bigint().to_bytes_be();
        s.resize(32, 0);
        out[POINT_LEN..].copy_from_slice(&s);
        out
    }

    /// The nonce point `R8`.
    pub fn r8(&self) -> &Point {
        &self.r8
    }

    /// The scalar `S`.
    pub fn s(&self) -> &Scalar {
        &self.s
    }

    /// Checks `S·Base8 == R8 + 8·e·A`.
    pub fn verify(&self, public: &PublicKey, message: &Fr) -> Result<(), SignatureError> {
        self.verify_with(public, message, |k| mul_wnaf(public.point(), k))
    }

    /// [`verify`](Self::verify) with a precomputed table of the public key's multiples
    /// (several times faster when one key verifies many signatures).
    pub fn verify_prepared(
        &self,
        public: &PublicKey,
        table: &FixedBaseTable,
        message: &Fr,
    ) -> Result<(), SignatureError> {
        self.verify_with(public, message, |k| table.mul(k))
    }

    fn verify_with(
        &self,
        public: &PublicKey,
        message: &Fr,
        mul_public: impl FnOnce(&Scalar) -> EdwardsProjective,
    ) -> Result<(), SignatureError> {
        let e8 = challenge(&self.r8, public, message) * Scalar::from(8u64);
        let lhs = mul_base8(&self.s);
        let rhs = mul_public(&e8) + self.r8.0;
        if lhs != rhs {
            return Err(SignatureError::Mismatch);
        }
        Ok(())
    }
}

#[cfg(feature = "serde")]
mod serde_impls {
    use super::*;
    use alloy_primitives::hex;
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error};

    fn bytes_from_hex<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        hex::decode(text.as_ref()).map_err(D::Error::custom)
    }

    impl Serialize for PublicKey {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_str(&hex::encode_prefixed(self.to_bytes()))
        }
    }

    impl<'de> Deserialize<'de> for PublicKey {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            Self::from_bytes(&bytes_from_hex(deserializer)?).map_err(D::Error::custom)
        }
    }

    impl Serialize for Signature {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_str(&hex::encode_prefixed(self.to_bytes()))
        }
    }

    impl<'de> Deserialize<'de> for Signature {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            Self::from_bytes(&bytes_from_hex(deserializer)?).map_err(D::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{AdditiveGroup, Field};

    fn key(i: u8) -> SecretKey {
        SecretKey::from_seed([i; 32])
    }

    #[test]
    fn sign_verify_round_trip_is_deterministic() {
        let sk = key(1);
        let m = Fr::from(42u64);
        let sig = sk.sign(&m);
        assert_eq!(sig, sk.sign(&m));
        sig.verify(sk.public_key(), &m).expect("valid");
        let table = FixedBaseTable::new(sk.public_key().point());
        sig.verify_prepared(sk.public_key(), &table, &m).expect("valid");
        assert_eq!(
            sig.verify_prepared(sk.public_key(), &table, &(m + Fr::ONE)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(Signature::from_bytes(&sig.to_bytes()), Ok(sig));
        assert_eq!(PublicKey::from_bytes(&sk.public_key().to_bytes()), Ok(*sk.public_key()));
    }

    #[test]
    fn wrong_message_key_or_scalar_fails() {
        let (sk, other) = (key(1), key(2));
        let m = Fr::from(42u64);
        let sig = sk.sign(&m);
        assert_eq!(sig.verify(sk.public_key(), &(m + Fr::ONE)), Err(SignatureError::Mismatch));
        assert_eq!(sig.verify(other.public_key(), &m), Err(SignatureError::Mismatch));
        let bumped = Signature { r8: sig.r8, s: sig.s + Scalar::ONE };
        assert_eq!(bumped.verify(sk.public_key(), &m), Err(SignatureError::Mismatch));
    }

    #[test]
    fn malleable_scalar_is_rejected_on_decode() {
        let sig = key(3).sign(&Fr::ZERO);
        // S + l: same point equation, non-canonical encoding.
        let mut bytes = sig.to_bytes();
        let s_plus_l = sig.s.into_bigint();
        let mut wide = s_plus_l;
        let _carry = wide.add_with_carry(&Scalar::MODULUS);
        bytes[POINT_LEN..].copy_from_slice(&wide.to_bytes_be());
        assert_eq!(Signature::from_bytes(&bytes), Err(SignatureError::ScalarNotCanonical));
        assert_eq!(Signature::from_bytes(&bytes[..95]), Err(SignatureError::Length(95)));
    }

    #[test]
    fn torsioned_nonce_or_key_is_rejected() {
        let sk = key(4);
        let m = Fr::from(7u64);
        let sig = sk.sign(&m);
        let order_two = Point::from_circom(Fr::ZERO, -Fr::ONE).expect("on curve");
        // R8 + T for a 2-torsion point T: on the curve, not small order, but not in the
        // subgroup; the equation must reject it.
        let shifted = Point((sig.r8.0 + order_two.0).into());
        let forged = Signature::new(shifted, sig.s).expect("not small order");
        assert_eq!(forged.verify(sk.public_key(), &m), Err(SignatureError::Mismatch));
        assert_eq!(
            Signature::new(order_two, sig.s),
            Err(SignatureError::Nonce(CurveError::SmallOrder))
        );
        let key_with_torsion = Point((sk.public_key().point().0 + order_two.0).into());
        assert_eq!(
            PublicKey::from_point(key_with_torsion),
            Err(KeyError::Point(CurveError::NotInSubgroup))
        );
        assert_eq!(PublicKey::from_point(order_two), Err(KeyError::Point(CurveError::SmallOrder)));
    }
}
