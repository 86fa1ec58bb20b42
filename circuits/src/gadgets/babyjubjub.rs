//! Baby Jubjub in circomlib's coordinates, natively and in-circuit.
//!
//! The curve is the twisted Edwards curve `a·x² + y² = 1 + d·x²·y²` over the BN254 scalar
//! field with `a = 168700`, `d = 168696` — exactly the coordinates circomlib and iden3 use on
//! the wire (arkworks' `ark-ed-on-bn254` uses an isomorphic `a = 1` form; working in circom
//! coordinates directly avoids a conversion in the circuit). Its group has order `8·l` and is
//! cyclic, so it has points of order 8 ([`TORSION8`]).
//!
//! The birationally equivalent Montgomery curve `v² = u³ + A·u² + u` with `A = 168698`
//! (`B = 1`) is reached by `u = (1 + y)/(1 − y)`, `v = u/x`. Montgomery addition is cheaper in
//! R1CS (3 constraints vs 6 for complete Edwards addition) but *incomplete*: the chord
//! formula needs `P ≠ ±Q` and neither may be the identity (which has no affine Montgomery
//! form). The scalar multiplications in [`eddsa`](super::eddsa) make those cases impossible
//! with torsion bookkeeping instead of checks.
//!
//! In-circuit types: [`PointVar`] (Edwards, circom coordinates) and [`MontgomeryPointVar`].

use std::borrow::Borrow;

use ark_ff::{AdditiveGroup, BigInt, BigInteger, Field, MontFp, One, Zero};
use ark_r1cs_std::{
    GR1CSVar,
    alloc::{AllocVar, AllocationMode},
    boolean::Boolean,
    eq::EqGadget,
    fields::{FieldVar, fp::FpVar},
    select::CondSelectGadget,
};
use ark_relations::gr1cs::{ConstraintSystemRef, Namespace, SynthesisError};

use super::{affine_combination, cs_of, div_or_zero, one, val};
use crate::{CircuitError, Fr};

/// Edwards coefficient `a` of circomlib's Baby Jubjub.
pub const COEFF_A: Fr = MontFp!("168700");
/// Edwards coefficient `d` of circomlib's Baby Jubjub.
pub const COEFF_D: Fr = MontFp!("168696");
/// Coefficient `A = 2(a + d)/(a − d)` of the Montgomery form (`B = 4/(a − d) = 1`).
pub const MONTGOMERY_A: Fr = MontFp!("168698");

/// Order `l` of the prime-order subgroup (the curve has `8·l` points).
pub const SUBGROUP_ORDER: BigInt<4> =
    BigInt!("2736030358979909402780800718157159386076813972158567259200215660948447373041");

/// circomlib's `Base8`, the generator of the prime-order subgroup used by EdDSA.
pub const BASE8: AffinePoint = AffinePoint::new(
    MontFp!("5299619240641551281634865583518297030282874472190772894086521144482721001553"),
    MontFp!("16950150798460657717958625567821834550301663161624707787222815936182638968203"),
);

/// circomlib's `Generator` (order `8·l`; `BASE8 = 8·GENERATOR`).
pub const GENERATOR: AffinePoint = AffinePoint::new(
    MontFp!("995203441582195749578291179787384436505546430278305826713579947235728471134"),
    MontFp!("5472060717959818805561601436314318772137091100104008585924551046643952123905"),
);

/// A point of order 8: `l·GENERATOR`. Its multiples `k·TORSION8` for `k = 0..8` are the
/// whole 8-torsion; `2·TORSION8 = (x₂, 0)` and `4·TORSION8 = (0, −1)` have linear addition
/// maps (see [`PointVar::add_low_order`]).
pub const TORSION8: AffinePoint = AffinePoint::new(
    MontFp!("4342719913949491028786768530115087822524712248835451589697801404893164183326"),
    MontFp!("4826523245007015323400664741523384119579596407052839571721035538011798951543"),
);

/// A native affine point in circomlib's twisted Edwards coordinates. Nothing guarantees it is
/// on the curve; see [`AffinePoint::is_on_curve`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AffinePoint {
    /// x coordinate.
    pub x: Fr,
    /// y coordinate.
    pub y: Fr,
}

impl Default for AffinePoint {
    fn default() -> Self {
        Self::IDENTITY
    }
}

impl AffinePoint {
    /// The neutral element `(0, 1)`.
    pub const IDENTITY: Self = Self::new(MontFp!("0"), MontFp!("1"));

    /// A point from its coordinates (not checked).
    pub const fn new(x: Fr, y: Fr) -> Self {
        Self { x, y }
    }

    /// Whether `a·x² + y² = 1 + d·x²·y²`.
    pub fn is_on_curve(&self) -> bool {
        let (x2, y2) = (self.x.square(), self.y.square());
        COEFF_A * x2 + y2 == Fr::one() + COEFF_D * x2 * y2
    }

    /// `−P = (−x, y)`.
    #[must_use]
    pub fn neg(&self) -> Self {
        Self::new(-self.x, self.y)
    }

    /// Complete twisted Edwards addition. Fails only if a denominator vanishes, which cannot
    /// happen for points on the curve (`d` is not a square).
    pub fn add(&self, other: &Self) -> Result<Self, CircuitError> {
        let t = COEFF_D * self.x * other.x * self.y * other.y;
        let x_den = (Fr::one() + t).inverse().ok_or(CircuitError::Degenerate)?;
        let y_den = (Fr::one() - t).inverse().ok_or(CircuitError::Degenerate)?;
        Ok(Self::new(
            (self.x * other.y + self.y * other.x) * x_den,
            (self.y * other.y - COEFF_A * self.x * other.x) * y_den,
        ))
    }

    /// `2·P`.
    pub fn double(&self) -> Result<Self, CircuitError> {
        self.add(self)
    }

    /// `k·P` for an integer `k` (double-and-add, not constant time: for public data and tests).
    pub fn mul<B: BigInteger>(&self, k: &B) -> Result<Self, CircuitError> {
        let mut acc = Self::IDENTITY;
        for bit in k.to_bits_be() {
            acc = acc.double()?;
            if bit {
                acc = acc.add(self)?;
            }
        }
        Ok(acc)
    }

    /// `k·P` for a small `k`.
    pub fn mul_u64(&self, k: u64) -> Result<Self, CircuitError> {
        self.mul(&BigInt::<1>::from(k))
    }

    /// The image on the Montgomery form. The identity has none; the point `(0, −1)` of order
    /// 2 maps to `(0, 0)`.
    pub fn to_montgomery(&self) -> Result<MontgomeryPoint, CircuitError> {
        if !self.is_on_curve() {
            return Err(CircuitError::NotOnCurve);
        }
        if *self == Self::IDENTITY {
            return Err(CircuitError::IdentityHasNoMontgomeryForm);
        }
        if self.x.is_zero() {
            return Ok(MontgomeryPoint::new(Fr::zero(), Fr::zero()));
        }
        let u = (Fr::one() + self.y)
            * (Fr::one() - self.y).inverse().ok_or(CircuitError::Degenerate)?;
        let v = u * self.x.inverse().ok_or(CircuitError::Degenerate)?;
        Ok(MontgomeryPoint::new(u, v))
    }
}

/// A native affine point on the Montgomery form `v² = u³ + 168698·u² + u`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MontgomeryPoint {
    /// u coordinate.
    pub u: Fr,
    /// v coordinate.
    pub v: Fr,
}

impl MontgomeryPoint {
    /// A point from its coordinates (not checked).
    pub const fn new(u: Fr, v: Fr) -> Self {
        Self { u, v }
    }

    /// Whether `v² = u³ + A·u² + u`.
    pub fn is_on_curve(&self) -> bool {
        self.v.square() == self.u * (self.u.square() + MONTGOMERY_A * self.u + Fr::one())
    }

    /// `−P = (u, −v)`.
    #[must_use]
    pub fn neg(&self) -> Self {
        Self::new(self.u, -self.v)
    }

    /// The Edwards image: `x = u/v`, `y = (u − 1)/(u + 1)`; `(0, 0) ↦ (0, −1)`.
    pub fn to_edwards(&self) -> Result<AffinePoint, CircuitError> {
        if self.u.is_zero() && self.v.is_zero() {
            return Ok(AffinePoint::new(Fr::zero(), -Fr::one()));
        }
        let x = self.u * self.v.inverse().ok_or(CircuitError::Degenerate)?;
        let y = (self.u - Fr::one())
            * (self.u + Fr::one()).inverse().ok_or(CircuitError::Degenerate)?;
        Ok(AffinePoint::new(x, y))
    }

    /// Chord addition; requires `P ≠ ±Q`.
    pub fn add_unchecked(&self, other: &Self) -> Result<Self, CircuitError> {
        let lambda =
            (other.v - self.v) * (other.u - self.u).inverse().ok_or(CircuitError::Degenerate)?;
        let u = lambda.square() - MONTGOMERY_A - self.u - other.u;
        Ok(Self::new(u, lambda * (self.u - u) - self.v))
    }
}

/// A Baby Jubjub point in circomlib's twisted Edwards coordinates, in-circuit.
///
/// Allocation does not check that the point is on the curve; see
/// [`enforce_on_curve`](Self::enforce_on_curve).
#[derive(Clone, Debug)]
#[must_use]
pub struct PointVar {
    /// x coordinate.
    pub x: FpVar<Fr>,
    /// y coordinate.
    pub y: FpVar<Fr>,
}

impl PointVar {
    /// A constant point (no variables).
    pub fn constant(point: AffinePoint) -> Self {
        Self { x: FpVar::Constant(point.x), y: FpVar::Constant(point.y) }
    }

    /// Enforces `a·x² + y² = 1 + d·x²·y²`. 3 constraints.
    pub fn enforce_on_curve(&self) -> Result<(), SynthesisError> {
        let x2 = self.x.square()?;
        let y2 = self.y.square()?;
        let rhs = affine_combination([(COEFF_A, &x2), (one(), &y2)], -one())?;
        (&x2 * COEFF_D).mul_equals(&y2, &rhs)
    }

    /// Enforces `self == other` coordinate-wise when `condition` holds. 2 constraints.
    pub fn conditional_enforce_equal(
        &self,
        other: &Self,
        condition: &Boolean<Fr>,
    ) -> Result<(), SynthesisError> {
        self.x.conditional_enforce_equal(&other.x, condition)?;
        self.y.conditional_enforce_equal(&other.y, condition)
    }

    /// `self + P` for a constant `P` of order at most 4 (`(0, ±1)` or `(±1/√a, 0)`), whose
    /// addition maps are linear: `(x, y) + (0, c) = (c·x, c·y)` and
    /// `(x, y) + (c, 0) = (c·y, −a·c·x)`. No constraints. Any other `P` is rejected.
    pub fn add_low_order(&self, point: &AffinePoint) -> Result<Self, CircuitError> {
        if !point.is_on_curve() {
            return Err(CircuitError::NotOnCurve);
        }
        if point.x.is_zero() {
            let c = point.y;
            Ok(Self { x: &self.x * c, y: &self.y * c })
        } else if point.y.is_zero() {
            let c = point.x;
            Ok(Self { x: &self.y * c, y: &self.x * (-COEFF_A * c) })
        } else {
            Err(CircuitError::Degenerate)
        }
    }

    /// The Montgomery image `u = (1 + y)/(1 − y)`, `v = u/x`. 2 constraints.
    ///
    /// Exact for every curve point except `(0, ±1)`: the identity makes the constraints
    /// unsatisfiable, and for `(0, −1)` (order 2) `v` is unconstrained. Callers feed points
    /// of the prime-order subgroup other than the identity.
    pub fn to_montgomery(&self) -> Result<MontgomeryPointVar, SynthesisError> {
        let cs = cs_of([&self.x, &self.y]);
        if cs.is_none() {
            let p = AffinePoint::new(val(&self.x)?, val(&self.y)?)
                .to_montgomery()
                .map_err(|_| SynthesisError::Unsatisfiable)?;
            return Ok(MontgomeryPointVar::constant(p));
        }
        let one_minus_y = affine_combination([(-one(), &self.y)], one())?;
        let one_plus_y = affine_combination([(one(), &self.y)], one())?;
        let u = FpVar::new_witness(cs.clone(), || {
            Ok(div_or_zero(val(&one_plus_y)?, val(&one_minus_y)?))
        })?;
        u.mul_equals(&one_minus_y, &one_plus_y)?;
        let v = FpVar::new_witness(cs, || Ok(div_or_zero(val(&u)?, val(&self.x)?)))?;
        v.mul_equals(&self.x, &u)?;
        Ok(MontgomeryPointVar { u, v })
    }
}

impl GR1CSVar<Fr> for PointVar {
    type Value = AffinePoint;

    fn cs(&self) -> ConstraintSystemRef<Fr> {
        self.x.cs().or(self.y.cs())
    }

    fn value(&self) -> Result<AffinePoint, SynthesisError> {
        Ok(AffinePoint::new(self.x.value()?, self.y.value()?))
    }
}

impl AllocVar<AffinePoint, Fr> for PointVar {
    fn new_variable<T: Borrow<AffinePoint>>(
        cs: impl Into<Namespace<Fr>>,
        f: impl FnOnce() -> Result<T, SynthesisError>,
        mode: AllocationMode,
    ) -> Result<Self, SynthesisError> {
        let cs = cs.into().cs();
        let point = f().map(|p| *p.borrow());
        let x = FpVar::new_variable(cs.clone(), || point.map(|p| p.x), mode)?;
        let y = FpVar::new_variable(cs, || point.map(|p| p.y), mode)?;
        Ok(Self { x, y })
    }
}

impl CondSelectGadget<Fr> for PointVar {
    /// 2 constraints (one per coordinate), fewer if coordinates are constant.
    fn conditionally_select(
        cond: &Boolean<Fr>,
        true_value: &Self,
        false_value: &Self,
    ) -> Result<Self, SynthesisError> {
        Ok(Self {
            x: FpVar::conditionally_select(cond, &true_value.x, &false_value.x)?,
            y: FpVar::conditionally_select(cond, &true_value.y, &false_value.y)?,
        })
    }
}

/// A point on the Montgomery form of Baby Jubjub, in-circuit.
///
/// The arithmetic is *incomplete*: `add_unchecked` and `double_and_add_unchecked` are exact
/// only when their operands have different `u` coordinates. If `P = −Q` the constraints are
/// unsatisfiable (harmless), but if `P = Q` the slope is unconstrained and a prover could
/// choose the result, so callers must make `P = Q` impossible (see [`eddsa`](super::eddsa)).
#[derive(Clone, Debug)]
#[must_use]
pub struct MontgomeryPointVar {
    /// u coordinate.
    pub u: FpVar<Fr>,
    /// v coordinate.
    pub v: FpVar<Fr>,
}

impl MontgomeryPointVar {
    /// A constant point (no variables).
    pub fn constant(point: MontgomeryPoint) -> Self {
        Self { u: FpVar::Constant(point.u), v: FpVar::Constant(point.v) }
    }

    /// `−P = (u, −v)`. No constraints.
    pub fn negate(&self) -> Self {
        Self { u: self.u.clone(), v: &self.v * -one() }
    }

    fn is_constant(&self) -> bool {
        self.u.is_constant() && self.v.is_constant()
    }

    fn native(&self) -> Result<MontgomeryPoint, SynthesisError> {
        Ok(MontgomeryPoint::new(val(&self.u)?, val(&self.v)?))
    }

    /// `P + Q` by the chord rule. 3 constraints. Requires `P ≠ ±Q` (see the type docs).
    pub fn add_unchecked(&self, other: &Self) -> Result<Self, SynthesisError> {
        let cs = cs_of([&self.u, &self.v, &other.u, &other.v]);
        if cs.is_none() {
            let sum = self
                .native()?
                .add_unchecked(&other.native()?)
                .map_err(|_| SynthesisError::Unsatisfiable)?;
            return Ok(Self::constant(sum));
        }
        let du = &other.u - &self.u;
        let dv = &other.v - &self.v;
        let lambda = FpVar::new_witness(cs.clone(), || Ok(div_or_zero(val(&dv)?, val(&du)?)))?;
        lambda.mul_equals(&du, &dv)?;
        let (u, v) = chord_output(&cs, &lambda, &self.u, &self.v, &other.u)?;
        Ok(Self { u, v })
    }

    /// `2·P` by the tangent rule. 4 constraints. Requires `v ≠ 0` (`P` not of order 2).
    pub fn double(&self) -> Result<Self, SynthesisError> {
        if self.is_constant() {
            let p = self.native()?;
            let lambda = div_or_zero(
                Fr::from(3u8) * p.u.square() + MONTGOMERY_A.double() * p.u + Fr::one(),
                p.v.double(),
            );
            let u = lambda.square() - MONTGOMERY_A - p.u.double();
            return Ok(Self::constant(MontgomeryPoint::new(u, lambda * (p.u - u) - p.v)));
        }
        let cs = cs_of([&self.u, &self.v]);
        let u_sq = self.u.square()?;
        let numerator =
            affine_combination([(Fr::from(3u8), &u_sq), (MONTGOMERY_A.double(), &self.u)], one())?;
        let two_v = self.v.double()?;
        let lambda =
            FpVar::new_witness(cs.clone(), || Ok(div_or_zero(val(&numerator)?, val(&two_v)?)))?;
        lambda.mul_equals(&two_v, &numerator)?;
        let (u, v) = chord_output(&cs, &lambda, &self.u, &self.v, &self.u)?;
        Ok(Self { u, v })
    }

    /// `2·P + Q` as `(P + Q) + P` without materializing the `v` coordinate of `P + Q`.
    /// 5 constraints (instead of 4 + 3). Requires `P ≠ ±Q` and `P + Q ≠ ±P`.
    pub fn double_and_add_unchecked(&self, other: &Self) -> Result<Self, SynthesisError> {
        let cs = cs_of([&self.u, &self.v, &other.u, &other.v]);
        if cs.is_none() {
            let p = self.native()?;
            let r = p.add_unchecked(&other.native()?).map_err(|_| SynthesisError::Unsatisfiable)?;
            return Ok(Self::constant(
                r.add_unchecked(&p).map_err(|_| SynthesisError::Unsatisfiable)?,
            ));
        }
        let (p, q) = (self, other);
        // λ₁ = (v_Q − v_P)/(u_Q − u_P)
        let du = &q.u - &p.u;
        let dv = &q.v - &p.v;
        let lambda1 = FpVar::new_witness(cs.clone(), || Ok(div_or_zero(val(&dv)?, val(&du)?)))?;
        lambda1.mul_equals(&du, &dv)?;
        // u_R = λ₁² − A − u_P − u_Q
        let u_r = FpVar::new_witness(cs.clone(), || {
            Ok(val(&lambda1)?.square() - MONTGOMERY_A - val(&p.u)? - val(&q.u)?)
        })?;
        let sum = affine_combination([(one(), &u_r), (one(), &p.u), (one(), &q.u)], MONTGOMERY_A)?;
        lambda1.mul_equals(&lambda1, &sum)?;
        // λ₂ = (v_P − v_R)/(u_P − u_R) with v_R = λ₁(u_P − u_R) − v_P, i.e.
        // (λ₁ + λ₂)·(u_P − u_R) = 2·v_P.
        let du_pr = &p.u - &u_r;
        let two_vp = p.v.double()?;
        let lambda2 = FpVar::new_witness(cs.clone(), || {
            Ok(div_or_zero(val(&two_vp)?, val(&du_pr)?) - val(&lambda1)?)
        })?;
        (&lambda1 + &lambda2).mul_equals(&du_pr, &two_vp)?;
        // S = R + P with slope λ₂.
        let (u, v) = chord_output(&cs, &lambda2, &p.u, &p.v, &u_r)?;
        Ok(Self { u, v })
    }

    /// The Edwards image `x = u/v`, `y = (u − 1)/(u + 1)`. 2 constraints.
    ///
    /// Exact whenever `v ≠ 0`, i.e. for every point not of order 2 (`u = −1` has no rational
    /// point because `d` is not a square).
    pub fn to_edwards(&self) -> Result<PointVar, SynthesisError> {
        let cs = cs_of([&self.u, &self.v]);
        if cs.is_none() {
            let p = self.native()?.to_edwards().map_err(|_| SynthesisError::Unsatisfiable)?;
            return Ok(PointVar::constant(p));
        }
        let x = FpVar::new_witness(cs.clone(), || Ok(div_or_zero(val(&self.u)?, val(&self.v)?)))?;
        x.mul_equals(&self.v, &self.u)?;
        let u_minus_one = &self.u - one();
        let u_plus_one = &self.u + one();
        let y = FpVar::new_witness(cs, || Ok(div_or_zero(val(&u_minus_one)?, val(&u_plus_one)?)))?;
        y.mul_equals(&u_plus_one, &u_minus_one)?;
        Ok(PointVar { x, y })
    }
}

/// Given the slope `λ` of a chord (or tangent) through `P = (u₁, v₁)` and a point with
/// `u = u₂`, allocates the third point `(u₃, v₃)` with `λ² = u₃ + A + u₁ + u₂` and
/// `λ·(u₁ − u₃) = v₃ + v₁`. 2 constraints.
///
/// The outputs are fresh variables rather than linear combinations: accumulators chained
/// through hundreds of additions would otherwise become ever longer combinations (quadratic
/// matrix density) although the constraint count is the same.
fn chord_output(
    cs: &ConstraintSystemRef<Fr>,
    lambda: &FpVar<Fr>,
    u1: &FpVar<Fr>,
    v1: &FpVar<Fr>,
    u2: &FpVar<Fr>,
) -> Result<(FpVar<Fr>, FpVar<Fr>), SynthesisError> {
    let u3 = FpVar::new_witness(cs.clone(), || {
        Ok(val(lambda)?.square() - MONTGOMERY_A - val(u1)? - val(u2)?)
    })?;
    let sum = affine_combination([(one(), &u3), (one(), u1), (one(), u2)], MONTGOMERY_A)?;
    lambda.mul_equals(lambda, &sum)?;
    let v3 =
        FpVar::new_witness(cs.clone(), || Ok(val(lambda)? * (val(u1)? - val(&u3)?) - val(v1)?))?;
    lambda.mul_equals(&(u1 - &u3), &(&v3 + v1))?;
    Ok((u3, v3))
}

impl GR1CSVar<Fr> for MontgomeryPointVar {
    type Value = MontgomeryPoint;

    fn cs(&self) -> ConstraintSystemRef<Fr> {
        self.u.cs().or(self.v.cs())
    }

    fn value(&self) -> Result<MontgomeryPoint, SynthesisError> {
        self.native()
    }
}

#[cfg(test)]
mod tests {
    use ark_relations::gr1cs::ConstraintSystem;

    use super::*;

    fn mont(p: &AffinePoint) -> MontgomeryPoint {
        p.to_montgomery().expect("montgomery")
    }

    #[test]
    fn curve_constants() {
        assert!(BASE8.is_on_curve());
        assert!(GENERATOR.is_on_curve());
        assert!(TORSION8.is_on_curve());
        assert_eq!(GENERATOR.mul_u64(8).expect("mul"), BASE8);
        assert_eq!(BASE8.mul(&SUBGROUP_ORDER).expect("mul"), AffinePoint::IDENTITY);
        assert_eq!(GENERATOR.mul(&SUBGROUP_ORDER).expect("mul"), TORSION8);
        assert_eq!(TORSION8.mul_u64(8).expect("mul"), AffinePoint::IDENTITY);
        assert_ne!(TORSION8.mul_u64(4).expect("mul"), AffinePoint::IDENTITY);
        assert_eq!(TORSION8.mul_u64(4).expect("mul"), AffinePoint::new(Fr::zero(), -Fr::one()));
        assert!(TORSION8.mul_u64(2).expect("mul").y.is_zero());
        // Montgomery coefficients: A = 2(a + d)/(a − d), B = 4/(a − d) = 1.
        assert_eq!(COEFF_A - COEFF_D, Fr::from(4u8));
        assert_eq!(MONTGOMERY_A * (COEFF_A - COEFF_D), (COEFF_A + COEFF_D).double());
    }

    #[test]
    fn montgomery_round_trip_and_arithmetic() {
        let p = BASE8.mul_u64(12345).expect("mul");
        let q = BASE8.mul_u64(777).expect("mul");
        let (mp, mq) = (mont(&p), mont(&q));
        assert!(mp.is_on_curve() && mq.is_on_curve());
        assert_eq!(mp.to_edwards().expect("edwards"), p);
        assert_eq!(mp.add_unchecked(&mq).expect("add"), mont(&p.add(&q).expect("add")));
        for k in 1..8u64 {
            let t = TORSION8.mul_u64(k).expect("mul");
            assert_eq!(mont(&t).to_edwards().expect("edwards"), t, "k = {k}");
        }
    }

    #[test]
    fn gadgets_match_native_and_cost_what_they_claim() {
        let p = BASE8.mul_u64(31337).expect("mul");
        let q = BASE8.mul_u64(4242).expect("mul");
        let cs = ConstraintSystem::<Fr>::new_ref();
        let pv = PointVar::new_witness(cs.clone(), || Ok(p)).expect("alloc");
        let qv = PointVar::new_witness(cs.clone(), || Ok(q)).expect("alloc");

        let mut n = cs.num_constraints();
        let mut cost = |label: &str, expected: usize| {
            let now = cs.num_constraints();
            assert_eq!(now - n, expected, "{label}");
            n = now;
        };
        pv.enforce_on_curve().expect("on curve");
        cost("on curve", 3);
        let mp = pv.to_montgomery().expect("to mont");
        let mq = qv.to_montgomery().expect("to mont");
        cost("2 × to_montgomery", 4);
        assert_eq!(mp.value().expect("v"), mont(&p));

        let sum = mp.add_unchecked(&mq).expect("add");
        cost("add", 3);
        assert_eq!(sum.value().expect("v"), mont(&p.add(&q).expect("add")));

        let dbl = mp.double().expect("double");
        cost("double", 4);
        assert_eq!(dbl.value().expect("v"), mont(&p.double().expect("double")));

        let dbl_add = mp.double_and_add_unchecked(&mq).expect("dbl add");
        cost("double and add", 5);
        let expected = p.double().expect("d").add(&q).expect("a");
        assert_eq!(dbl_add.value().expect("v"), mont(&expected));

        let back = dbl_add.to_edwards().expect("to edwards");
        cost("to_edwards", 2);
        assert_eq!(back.value().expect("v"), expected);

        let two_t = TORSION8.mul_u64(2).expect("mul");
        let shifted = back.add_low_order(&two_t).expect("low order");
        let four_t = TORSION8.mul_u64(4).expect("mul");
        let flipped = back.add_low_order(&four_t).expect("low order");
        cost("low-order additions", 0);
        assert_eq!(shifted.value().expect("v"), expected.add(&two_t).expect("add"));
        assert_eq!(flipped.value().expect("v"), expected.add(&four_t).expect("add"));
        assert!(back.add_low_order(&TORSION8).is_err());

        assert!(cs.is_satisfied().expect("checkable"));
    }

    #[test]
    fn off_curve_point_fails_the_curve_check() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let bad = AffinePoint::new(BASE8.x, BASE8.y + Fr::one());
        PointVar::new_witness(cs.clone(), || Ok(bad))
            .expect("alloc")
            .enforce_on_curve()
            .expect("synthesis");
        assert!(!cs.is_satisfied().expect("checkable"));
    }

    #[test]
    fn equal_operands_leave_the_slope_free() {
        // Documents why callers must rule out P = Q: the constraints accept a wrong result.
        let p = mont(&BASE8);
        let cs = ConstraintSystem::<Fr>::new_ref();
        let pv = MontgomeryPointVar {
            u: FpVar::new_witness(cs.clone(), || Ok(p.u)).expect("alloc"),
            v: FpVar::new_witness(cs.clone(), || Ok(p.v)).expect("alloc"),
        };
        let sum = pv.add_unchecked(&pv).expect("add");
        assert!(cs.is_satisfied().expect("checkable"));
        assert_ne!(sum.value().expect("v"), mont(&BASE8.double().expect("d")));
    }
}
