//! Windowed fixed-base scalar multiplication on the Montgomery form, exact for every scalar.
//!
//! The table for a base `P` in the prime-order subgroup stores, per 3-bit window `j`, the
//! interpolation coefficients of `v·8ʲ·P + sⱼ·σ` (`σ` the order-8 point [`TORSION8`]): a lookup
//! is one product of two bits plus one product per coordinate, and the torsion schedule `sⱼ`
//! keeps every incomplete addition of the chain non-exceptional (see
//! [`eddsa`](super::eddsa)'s module docs for why torsion offsets make them exact).

use ark_ff::Zero;
use ark_r1cs_std::{boolean::Boolean, fields::fp::FpVar};
use ark_relations::gr1cs::SynthesisError;

use super::{
    affine_combination,
    babyjubjub::{AffinePoint, MontgomeryPoint, MontgomeryPointVar, SUBGROUP_ORDER, TORSION8},
};
use crate::{CircuitError, Fr};

/// Windowed fixed-base scalar multiplication table on the Montgomery form.
///
/// Window `j` covers bits `3j..3j+3` and stores, for the 8 window values `v`, the
/// multilinear-interpolation coefficients of the points `v·8ʲ·P + sⱼ·σ`, so that a lookup is
/// one product of two bits plus one product per coordinate.
#[derive(Debug, Clone)]
pub struct FixedBaseMulGadget {
    num_bits: usize,
    windows: Vec<WindowCoefficients>,
    torsion: u8,
}

/// Interpolation coefficients of one window: `coord = f(b₀,b₁) + b₂·g(b₀,b₁)` with
/// `f = c₀ + c₁b₀ + c₂b₁ + c₃b₀b₁`, `g` likewise; stored as `[c₀..c₃, g₀..g₃]`.
#[derive(Debug, Clone)]
struct WindowCoefficients {
    u: [Fr; 8],
    v: [Fr; 8],
}

impl WindowCoefficients {
    fn interpolate(points: &[MontgomeryPoint; 8]) -> Self {
        let coeffs = |c: &dyn Fn(&MontgomeryPoint) -> Fr| {
            let p: Vec<Fr> = points.iter().map(c).collect();
            [
                p[0],
                p[1] - p[0],
                p[2] - p[0],
                p[3] - p[2] - p[1] + p[0],
                p[4] - p[0],
                p[5] - p[4] - p[1] + p[0],
                p[6] - p[4] - p[2] + p[0],
                p[7] - p[6] - p[5] + p[4] - p[3] + p[2] + p[1] - p[0],
            ]
        };
        Self { u: coeffs(&|p| p.u), v: coeffs(&|p| p.v) }
    }
}

impl FixedBaseMulGadget {
    /// Builds the table for `k·base` with `k < 2^num_bits`. The result of [`mul`](Self::mul)
    /// is `k·base + torsion·σ`; `torsion ≢ 0 (mod 8)` keeps it from ever being the identity.
    ///
    /// `base` must be in the prime-order subgroup. The torsion schedule is `s₀ = 1`,
    /// `sⱼ = 2`, with the last window corrected to reach `torsion`; it is checked here that no
    /// addition of the chain can be exceptional.
    pub fn new(base: &AffinePoint, num_bits: usize, torsion: u8) -> Result<Self, CircuitError> {
        if !base.is_on_curve() {
            return Err(CircuitError::NotOnCurve);
        }
        if base.mul(&SUBGROUP_ORDER)? != AffinePoint::IDENTITY {
            return Err(CircuitError::NotInPrimeSubgroup);
        }
        let num_windows = num_bits.div_ceil(3);
        let schedule = torsion_schedule(num_windows, torsion)?;
        let torsion_points =
            (0..8u64).map(|k| TORSION8.mul_u64(k)).collect::<Result<Vec<_>, _>>()?;

        let mut windows = Vec::with_capacity(num_windows);
        let mut window_base = *base; // 8^j · base
        for &s in &schedule {
            let offset = torsion_points[usize::from(s)];
            let mut multiple = AffinePoint::IDENTITY; // v · 8^j · base
            let mut points = [MontgomeryPoint::new(Fr::zero(), Fr::zero()); 8];
            for point in &mut points {
                *point = multiple.add(&offset)?.to_montgomery()?;
                multiple = multiple.add(&window_base)?;
            }
            windows.push(WindowCoefficients::interpolate(&points));
            window_base = window_base.double()?.double()?.double()?;
        }
        Ok(Self { num_bits, windows, torsion })
    }

    /// Number of scalar bits the table covers.
    pub fn num_bits(&self) -> usize {
        self.num_bits
    }

    /// The multiple of `σ` added to every result.
    pub fn torsion(&self) -> u8 {
        self.torsion
    }

    /// `k·base + torsion·σ` for the little-endian bits of `k` (exactly
    /// [`num_bits`](Self::num_bits) of them, else [`SynthesisError::ArityMismatch`]).
    /// Any bit assignment is fine (no exceptional case). Cost: 3 per full window plus 3 per
    /// addition; a 2-bit window costs 1, a 1-bit window 0.
    pub fn mul(&self, bits_le: &[Boolean<Fr>]) -> Result<MontgomeryPointVar, SynthesisError> {
        if bits_le.len() != self.num_bits {
            return Err(SynthesisError::ArityMismatch);
        }
        let mut acc: Option<MontgomeryPointVar> = None;
        for (j, window) in self.windows.iter().enumerate() {
            let bit = |i: usize| {
                bits_le.get(3 * j + i).cloned().map_or(FpVar::Constant(Fr::zero()), FpVar::from)
            };
            let (b0, b1, b2) = (bit(0), bit(1), bit(2));
            let b01 = &b0 * &b1;
            let lookup = |c: &[Fr; 8]| -> Result<FpVar<Fr>, SynthesisError> {
                let f = affine_combination([(c[1], &b0), (c[2], &b1), (c[3], &b01)], c[0])?;
                let g = affine_combination([(c[5], &b0), (c[6], &b1), (c[7], &b01)], c[4])?;
                Ok(f + &b2 * &g)
            };
            let point = MontgomeryPointVar { u: lookup(&window.u)?, v: lookup(&window.v)? };
            acc = Some(match acc {
                None => point,
                Some(acc) => acc.add_unchecked(&point)?,
            });
        }
        acc.ok_or(SynthesisError::ArityMismatch)
    }
}

/// `s₀ = 1`, `sⱼ = 2`, last adjusted so that `Σ sⱼ ≡ target (mod 8)`; checks that every
/// addition `accⱼ₋₁ + Tⱼ` has `t(acc) ≠ ±t(T)` and that no entry is the identity.
fn torsion_schedule(windows: usize, target: u8) -> Result<Vec<u8>, CircuitError> {
    let mut schedule: Vec<u8> = (0..windows).map(|j| if j == 0 { 1 } else { 2 }).collect();
    let total: u32 = schedule.iter().map(|&s| u32::from(s)).sum();
    if let Some(last) = schedule.last_mut().filter(|_| windows > 1) {
        let without_last = (total - u32::from(*last)) % 8;
        *last = u8::try_from((u32::from(target) + 8 - without_last) % 8)
            .map_err(|_| CircuitError::UnsafeTorsionSchedule("overflow"))?;
    }
    let mut t = 0u8;
    for (j, &s) in schedule.iter().enumerate() {
        if s % 8 == 0 {
            return Err(CircuitError::UnsafeTorsionSchedule("table entry may be the identity"));
        }
        if j > 0 && (t == s || t == (8 - s) % 8) {
            return Err(CircuitError::UnsafeTorsionSchedule(
                "fixed-base addition may be exceptional",
            ));
        }
        t = (t + s) % 8;
    }
    if t != target % 8 {
        return Err(CircuitError::UnsafeTorsionSchedule("cannot reach the target torsion"));
    }
    Ok(schedule)
}

#[cfg(test)]
mod tests {
    use ark_r1cs_std::{GR1CSVar, alloc::AllocVar};
    use ark_relations::gr1cs::ConstraintSystem;

    use super::*;
    use crate::gadgets::babyjubjub::{BASE8, GENERATOR};

    #[test]
    fn torsion_schedule_is_checked() {
        assert_eq!(torsion_schedule(84, 1).expect("schedule").last(), Some(&4));
        assert!(torsion_schedule(84, 0).is_err());
        assert!(torsion_schedule(3, 1).is_ok());
        assert!(torsion_schedule(1, 3).is_err());
        let not_in_subgroup = GENERATOR;
        assert_eq!(
            FixedBaseMulGadget::new(&not_in_subgroup, 8, 1).err(),
            Some(CircuitError::NotInPrimeSubgroup)
        );
        // A small table against the native result, for every scalar.
        let base = BASE8.mul_u64(99).expect("mul");
        let table = FixedBaseMulGadget::new(&base, 7, 5).expect("table");
        for k in 0..128u64 {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let bits: Vec<Boolean<Fr>> = (0..7)
                .map(|i| Boolean::new_witness(cs.clone(), || Ok(k >> i & 1 == 1)).expect("alloc"))
                .collect();
            let out = table.mul(&bits).expect("mul");
            assert!(cs.is_satisfied().expect("checkable"));
            let expected = base
                .mul_u64(k)
                .and_then(|p| p.add(&TORSION8.mul_u64(5)?))
                .and_then(|p| p.to_montgomery())
                .expect("native");
            assert_eq!(out.value().expect("value"), expected, "k = {k}");
        }
    }
}
