//! The light-client circuit: "more than two thirds of the committee's weight signed this
//! light-client state" (DESIGN.md §5), for a committee capacity `N` fixed at setup time.
//!
//! # Statement
//! Public inputs, in this order ([`PublicInputs::to_field_elements`]):
//!
//! | # | input | range enforced in-circuit |
//! |---|---|---|
//! | 0 | `stateHigh`: the high 248 bits of `chainId ‖ epoch ‖ height ‖ historyRoot` | `< 2²⁴⁸` |
//! | 1 | `stateLow`: the low 200 bits (the low 200 bits of `historyRoot`) | `< 2²⁰⁰` |
//! | 2 | `committee` (commitment of the signing committee) | field element |
//! | 3 | `nextCommittee` | field element |
//!
//! The 448 bits of the state's counters and root travel in two field elements (four inputs
//! instead of five: one elliptic-curve multiplication less in every on-chain verification).
//! In-circuit both are decomposed into bits (248 + 200), and the fields the validators sign are
//! linear combinations of those bits: `packedCounters = stateHigh >> 56`, `historyRootHi =
//! (stateHigh mod 2⁵⁶)·2⁷² + (stateLow >> 128)`, `historyRootLo = stateLow mod 2¹²⁸`. The range
//! checks make every accepted input vector the image of exactly one `(chainId, epoch, height,
//! historyRoot)`: without them a prover could present, say, a `stateLow ≥ 2²⁰⁰` that no contract
//! would build. Both bounds are below `p`, so each decomposition is unique.
//!
//! Private inputs: per slot `i < N` the key `(xᵢ, yᵢ)` in circom coordinates, its weight `wᵢ`,
//! a signer flag `bᵢ` and a signature `(R8ᵢ, Sᵢ)`.
//!
//! Constraints:
//! 1. `committee == acc_N` with `acc₀ = Poseidon(committee_tag, N)` (a constant) and
//!    `acc_{i+1} = Poseidon(acc_i, xᵢ, yᵢ, wᵢ)` — exactly
//!    [`Committee::commitment`](trestle_light_client::Committee::commitment), padding slots
//!    included;
//! 2. `bᵢ·bᵢ = bᵢ` (boolean);
//! 3. `bᵢ = 1 ⇒` `(R8ᵢ, Sᵢ)` is a valid EdDSA-Poseidon signature of
//!    `M = Poseidon(TAG, packedCounters, historyRootHi, historyRootLo, nextCommittee)` (the
//!    light client's message, unchanged by the packing of the inputs) under
//!    `(xᵢ, yᵢ)` (circomlib semantics, `Sᵢ < l`; see [`gadgets::eddsa`](crate::gadgets::eddsa));
//! 4. `wᵢ < 2⁶⁴`, and `3·Σ bᵢ·wᵢ − 2·Σ wᵢ − 1` has an 80-bit decomposition, i.e.
//!    `3·signed > 2·total` over the integers: with at most [`MAX_CAPACITY`] = 1024 weights below
//!    2⁶⁴ both sums are below 2⁷⁴, so the difference lies in `(−2⁷⁶, 2⁷⁶)` and a negative value
//!    would be a field element above `p − 2⁷⁶ > 2⁸⁰`, which has no 80-bit decomposition.
//!
//! Keys are not checked in-circuit: the committee commitment binds them, and committees are
//! built only from validated keys ([`PublicKey`](trestle_light_client::PublicKey) is on the
//! curve, in the prime-order subgroup and not the identity), which is the precondition of the
//! signature gadget. Padding slots `(0, 1, 0)` (the identity, weight zero) must have `bᵢ = 0`:
//! the identity makes an enabled verification unsatisfiable.
//!
//! # Cost
//! Per slot: Poseidon4 (297) + signature (3,102) + flag booleanity (1) + weight range check
//! (64 + 1) + `bᵢ·wᵢ` (1) = **3,466** ([`CONSTRAINTS_PER_SLOT`]). Fixed, **847**
//! ([`FIXED_CONSTRAINTS`]): input range checks (249 + 201), the message hash (315: its
//! domain tag is a constant, which frees two S-boxes), the commitment equality (1) and the
//! quorum comparison (80 + 1). [`constraint_count`] synthesizes the circuit and counts; tests
//! pin both numbers.

use ark_ff::{BigInteger, PrimeField, Zero};
use ark_r1cs_std::{
    alloc::AllocVar,
    eq::EqGadget,
    fields::{FieldVar, fp::FpVar},
};
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, OptimizationGoal, SynthesisError,
    SynthesisMode,
};
use trestle_light_client::{
    B256, Committee, LightClientState, StateSignature, committee::committee_tag,
    field::fr_from_b256, poseidon, state::state_tag,
};

use crate::{
    Fr,
    error::{InputError, WitnessError},
    gadgets::{
        affine_combination,
        babyjubjub::{AffinePoint, PointVar},
        bits::{pack_le, witness_bits_le},
        eddsa::{EddsaPoseidonVerifier, SignatureVar, SignatureWitness},
        poseidon::PoseidonGadget,
    },
};

/// Number of public inputs: `[stateHigh, stateLow, committee, nextCommittee]`.
pub const NUM_PUBLIC_INPUTS: usize = 4;

/// Bits of `stateHigh`: `chainId ‖ epoch ‖ height` (192) and the root's top [`ROOT_HIGH_BITS`].
pub const STATE_HIGH_BITS: usize = 248;

/// Bits of `stateLow`: the history root's low bits.
pub const STATE_LOW_BITS: usize = 200;

/// Bits of the history root carried in `stateHigh`.
pub const ROOT_HIGH_BITS: usize = 256 - STATE_LOW_BITS;

/// Bits of each history-root limb in the signed message.
pub const LIMB_BITS: usize = 128;

/// Bits of a slot weight.
pub const WEIGHT_BITS: usize = 64;

/// Bits of `3·signed − 2·total − 1` (non-negative and below 2⁸⁰ exactly when the quorum holds).
pub const QUORUM_BITS: usize = 80;

/// Largest capacity the circuit supports is the light client's: under it the quorum comparison
/// cannot wrap (`1024·2⁶⁴ = 2⁷⁴`).
pub use trestle_light_client::committee::MAX_CAPACITY;

// 3·2⁷⁴ < 2⁸⁰ and 2·2⁷⁴ + 1 < 2⁸⁰, and 2⁸⁰ + 2⁷⁶ < p: see the module docs.
const _: () = assert!(MAX_CAPACITY <= 1 << (QUORUM_BITS - WEIGHT_BITS - 6));

/// Constraints per committee slot (see the module docs).
pub const CONSTRAINTS_PER_SLOT: usize = 297 + 3102 + 1 + (WEIGHT_BITS + 1) + 1;

/// Constraints independent of the capacity (see the module docs).
pub const FIXED_CONSTRAINTS: usize =
    (STATE_HIGH_BITS + 1) + (STATE_LOW_BITS + 1) + 315 + 1 + (QUORUM_BITS + 1);

// 192 bits of counters and 256 of root fill the two inputs exactly, and both fit below p.
const _: () = assert!(STATE_HIGH_BITS + STATE_LOW_BITS == 192 + 256);
const _: () = assert!(STATE_HIGH_BITS < 254 && STATE_LOW_BITS < 254);

/// The public inputs of one proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PublicInputs {
    /// The high 248 bits of `chainId ‖ epoch ‖ height ‖ historyRoot` (big-endian).
    pub state_high: Fr,
    /// The low 200 bits of `chainId ‖ epoch ‖ height ‖ historyRoot`.
    pub state_low: Fr,
    /// Commitment of the committee that signed the state.
    pub committee: Fr,
    /// The state's `nextCommittee`.
    pub next_committee: Fr,
}

/// Bytes of `chainId ‖ epoch ‖ height ‖ historyRoot`.
const STATE_BYTES: usize = 8 + 8 + 8 + 32;

impl PublicInputs {
    /// The inputs proving `state` signed by the committee with commitment `committee`
    /// (big-endian, as headers and contracts carry it). Both commitments must be canonical
    /// field elements.
    pub fn new(state: &LightClientState, committee: &B256) -> Result<Self, InputError> {
        let committee = fr_from_b256(committee).map_err(InputError::Committee)?;
        let next_committee =
            fr_from_b256(&state.next_committee).map_err(InputError::NextCommittee)?;
        let mut bytes = [0u8; STATE_BYTES];
        bytes[..8].copy_from_slice(&state.chain_id.get().to_be_bytes());
        bytes[8..16].copy_from_slice(&state.epoch.get().to_be_bytes());
        bytes[16..24].copy_from_slice(&state.height.get().to_be_bytes());
        bytes[24..].copy_from_slice(state.history_root.as_slice());
        let (high, low) = bytes.split_at(STATE_HIGH_BITS / 8);
        Ok(Self {
            state_high: Fr::from_be_bytes_mod_order(high),
            state_low: Fr::from_be_bytes_mod_order(low),
            committee,
            next_committee,
        })
    }

    /// The inputs in circuit order (what Groth16 verification, snarkjs' `public.json` and the
    /// Solidity verifier take).
    pub fn to_field_elements(&self) -> [Fr; NUM_PUBLIC_INPUTS] {
        [self.state_high, self.state_low, self.committee, self.next_committee]
    }

    /// The fields the validators sign, `(packedCounters, historyRootHi, historyRootLo)`, read
    /// from the low 248 and 200 bits of the two state inputs (all of them for inputs in range).
    pub fn signed_fields(&self) -> (Fr, Fr, Fr) {
        let mut bytes = [0u8; STATE_BYTES];
        let split = STATE_HIGH_BITS / 8;
        let high = self.state_high.into_bigint().to_bytes_be();
        let low = self.state_low.into_bigint().to_bytes_be();
        bytes[..split].copy_from_slice(&high[high.len() - split..]);
        bytes[split..].copy_from_slice(&low[low.len() - (STATE_BYTES - split)..]);
        let field = |range: std::ops::Range<usize>| Fr::from_be_bytes_mod_order(&bytes[range]);
        (field(0..24), field(24..40), field(40..56))
    }

    /// The message validators sign for these inputs (as the light client computes it).
    pub fn message(&self) -> Fr {
        let (packed_counters, root_hi, root_lo) = self.signed_fields();
        poseidon::hash_fixed([state_tag(), packed_counters, root_hi, root_lo, self.next_committee])
    }
}

/// The private inputs of one committee slot.
///
/// Fields are raw field elements so that tests can assign values an honest prover never
/// would (a weight of 2⁶⁴, a signer flag of 2); [`LightClientCircuit::from_signed_state`]
/// builds honest ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SlotAssignment {
    /// The key in circom coordinates (`(0, 1)` for padding).
    pub key: AffinePoint,
    /// The slot's weight (`0` for padding).
    pub weight: Fr,
    /// `1` if the slot's signature counts, else `0`.
    pub signer: Fr,
    /// The signature (any value when `signer = 0`).
    pub signature: SignatureWitness,
}

impl SlotAssignment {
    /// A padding slot: the identity with weight zero, not signing.
    pub fn padding() -> Self {
        Self {
            key: AffinePoint::IDENTITY,
            weight: Fr::zero(),
            signer: Fr::zero(),
            signature: SignatureWitness::default(),
        }
    }
}

/// A full assignment: public inputs and one [`SlotAssignment`] per slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// The public inputs.
    pub public: PublicInputs,
    /// The slots, exactly `capacity` of them.
    pub slots: Vec<SlotAssignment>,
}

/// The light-client circuit for a fixed capacity, with or without an assignment.
///
/// Without one ([`LightClientCircuit::new`]) it is the shape Groth16 setup needs; with one
/// ([`LightClientCircuit::with_assignment`], [`LightClientCircuit::from_signed_state`]) it is
/// what the prover synthesizes.
#[derive(Clone, Debug)]
pub struct LightClientCircuit {
    capacity: usize,
    assignment: Option<Assignment>,
}

impl LightClientCircuit {
    /// The circuit for `capacity` slots without an assignment (for setup and counting).
    pub fn new(capacity: usize) -> Result<Self, WitnessError> {
        check_capacity(capacity)?;
        Ok(Self { capacity, assignment: None })
    }

    /// The circuit with an explicit assignment (`capacity = slots.len()`). Nothing is checked
    /// beyond the capacity: an invalid assignment yields an unsatisfied constraint system.
    pub fn with_assignment(assignment: Assignment) -> Result<Self, WitnessError> {
        check_capacity(assignment.slots.len())?;
        Ok(Self { capacity: assignment.slots.len(), assignment: Some(assignment) })
    }

    /// The assignment for `state` signed by `signatures` of `committee`'s members (capacity
    /// `committee.capacity()`).
    ///
    /// Checks only structure (slots exist and are distinct, commitments are field elements);
    /// it does *not* check the signatures or the quorum, so it can build witnesses for
    /// invalid statements. Provers call [`verify_quorum`](trestle_light_client::verify_quorum)
    /// first (as [`Prover::prove`](crate::prove::Prover::prove) does).
    pub fn from_signed_state(
        state: &LightClientState,
        committee: &Committee,
        signatures: &[StateSignature],
    ) -> Result<Self, WitnessError> {
        let public = PublicInputs::new(state, &committee.commitment_bytes())?;
        let mut slots: Vec<SlotAssignment> = committee
            .slots()
            .iter()
            .map(|slot| {
                let (x, y) = slot.key.circom();
                SlotAssignment {
                    key: AffinePoint::new(x, y),
                    weight: Fr::from(slot.weight),
                    ..SlotAssignment::padding()
                }
            })
            .collect();
        slots.resize(committee.capacity(), SlotAssignment::padding());
        let members = committee.slots().len();
        for sig in signatures {
            let index = sig.slot as usize;
            let slot = slots
                .get_mut(index)
                .filter(|_| index < members)
                .ok_or(WitnessError::UnknownSlot { slot: sig.slot, members })?;
            if !slot.signer.is_zero() {
                return Err(WitnessError::DuplicateSlot(sig.slot));
            }
            slot.signer = Fr::from(1u8);
            slot.signature = signature_witness(&sig.signature);
        }
        Self::with_assignment(Assignment { public, slots })
    }

    /// The capacity this circuit was built for.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The assignment, if any.
    pub fn assignment(&self) -> Option<&Assignment> {
        self.assignment.as_ref()
    }

    /// The public inputs of the assignment, if any.
    pub fn public_inputs(&self) -> Option<PublicInputs> {
        self.assignment.as_ref().map(|a| a.public)
    }

    /// Synthesizes the circuit into a fresh constraint system in proving mode (the
    /// assignment is required) and returns it, so callers can ask
    /// [`is_satisfied`](ConstraintSystemRef::is_satisfied) or
    /// [`which_is_unsatisfied`](ConstraintSystemRef::which_is_unsatisfied).
    pub fn synthesize(self) -> Result<ConstraintSystemRef<Fr>, SynthesisError> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        self.generate_constraints(cs.clone())?;
        Ok(cs)
    }
}

fn check_capacity(capacity: usize) -> Result<(), WitnessError> {
    if capacity == 0 || capacity > MAX_CAPACITY {
        return Err(WitnessError::Capacity(capacity));
    }
    Ok(())
}

/// A light-client signature as the circuit's witness (circom coordinates, `S` as an integer).
pub fn signature_witness(signature: &trestle_light_client::Signature) -> SignatureWitness {
    let (x, y) = signature.r8().circom();
    let s = Fr::from_le_bytes_mod_order(&signature.s().into_bigint().to_bytes_le());
    SignatureWitness { r8: AffinePoint::new(x, y), s }
}

/// `acc₀ = Poseidon(committee_tag, capacity)`, the constant start of the commitment chain.
pub fn commitment_seed(capacity: usize) -> Fr {
    poseidon::hash_fixed([committee_tag(), Fr::from(capacity as u64)])
}

/// `(packedCounters, historyRootHi, historyRootLo)` in-circuit.
type SignedFieldsVar = (FpVar<Fr>, FpVar<Fr>, FpVar<Fr>);

/// Decomposes the two state inputs (`stateHigh < 2²⁴⁸`, `stateLow < 2²⁰⁰`: 450 constraints)
/// and returns the signed fields `(packedCounters, historyRootHi, historyRootLo)` as linear
/// combinations of their bits.
fn signed_fields_var(
    state_high: &FpVar<Fr>,
    state_low: &FpVar<Fr>,
) -> Result<SignedFieldsVar, SynthesisError> {
    let (high, packed_high) = witness_bits_le(state_high, STATE_HIGH_BITS)?;
    packed_high.enforce_equal(state_high)?;
    let (low, packed_low) = witness_bits_le(state_low, STATE_LOW_BITS)?;
    packed_low.enforce_equal(state_low)?;
    // Little-endian: stateHigh's low ROOT_HIGH_BITS bits are the root's top bits, the rest the
    // counters; stateLow's low LIMB_BITS bits are the root's low limb.
    let packed_counters = pack_le(&high[ROOT_HIGH_BITS..])?;
    let root_lo = pack_le(&low[..LIMB_BITS])?;
    let root_hi_bits: Vec<_> =
        low[LIMB_BITS..].iter().chain(&high[..ROOT_HIGH_BITS]).cloned().collect();
    let root_hi = pack_le(&root_hi_bits)?;
    Ok((packed_counters, root_hi, root_lo))
}

/// Enforces `value < 2ⁿ`: `n` booleanity constraints and one packing equality.
fn enforce_bit_length(value: &FpVar<Fr>, n: usize) -> Result<(), SynthesisError> {
    let (_, packed) = witness_bits_le(value, n)?;
    packed.enforce_equal(value)
}

impl ConstraintSynthesizer<Fr> for LightClientCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        check_capacity(self.capacity).map_err(|_| SynthesisError::Unsatisfiable)?;
        if let Some(assignment) = &self.assignment
            && assignment.slots.len() != self.capacity
        {
            return Err(SynthesisError::ArityMismatch);
        }
        let public = self.public_inputs();
        let input = |pick: fn(&PublicInputs) -> Fr| {
            FpVar::new_input(cs.clone(), || public.as_ref().map(pick).ok_or(missing()))
        };
        let state_high = input(|p| p.state_high)?;
        let state_low = input(|p| p.state_low)?;
        let committee = input(|p| p.committee)?;
        let next_committee = input(|p| p.next_committee)?;

        // No public input may alias: each is the image of exactly one integer in range, and the
        // signed fields are linear combinations of the bits (see the module docs).
        let (packed_counters, root_hi, root_lo) = signed_fields_var(&state_high, &state_low)?;

        // M = Poseidon(TAG, packed, rootHi, rootLo, nextCommittee), as the light client signs.
        let message =
            PoseidonGadget::circom(5).map_err(|_| SynthesisError::Unsatisfiable)?.hash(&[
                FpVar::Constant(state_tag()),
                packed_counters,
                root_hi,
                root_lo,
                next_committee,
            ])?;

        let chain = PoseidonGadget::circom(4).map_err(|_| SynthesisError::Unsatisfiable)?;
        let verifier = EddsaPoseidonVerifier::new().map_err(|_| SynthesisError::Unsatisfiable)?;
        let mut acc = FpVar::Constant(commitment_seed(self.capacity));
        let mut weights = Vec::with_capacity(self.capacity);
        let mut signed = Vec::with_capacity(self.capacity);
        for i in 0..self.capacity {
            let slot = self.assignment.as_ref().and_then(|a| a.slots.get(i).copied());
            let slot = || slot.ok_or(missing());
            let key = PointVar::new_witness(cs.clone(), || slot().map(|s| s.key))?;
            let weight = FpVar::new_witness(cs.clone(), || slot().map(|s| s.weight))?;
            let signer = FpVar::new_witness(cs.clone(), || slot().map(|s| s.signer))?;
            let signature = SignatureVar::new_witness(cs.clone(), || slot().map(|s| s.signature))?;

            acc = chain.hash(&[acc, key.x.clone(), key.y.clone(), weight.clone()])?;
            signer.mul_equals(&signer, &signer)?; // b² = b
            verifier.verify_if_flag(&signer, &key, &message, &signature)?;
            enforce_bit_length(&weight, WEIGHT_BITS)?;
            signed.push(&signer * &weight);
            weights.push(weight);
        }
        acc.enforce_equal(&committee)?;

        // 3·signed − 2·total − 1 ∈ [0, 2⁸⁰)  ⇔  3·signed > 2·total (see the module docs).
        let three = Fr::from(3u8);
        let minus_two = -Fr::from(2u8);
        let terms = signed.iter().map(|s| (three, s)).chain(weights.iter().map(|w| (minus_two, w)));
        let margin = affine_combination(terms, -Fr::from(1u8))?;
        enforce_bit_length(&margin, QUORUM_BITS)
    }
}

fn missing() -> SynthesisError {
    SynthesisError::AssignmentMissing
}

/// Number of constraints of the circuit for `capacity` slots (synthesized in setup mode).
pub fn constraint_count(capacity: usize) -> Result<usize, WitnessError> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    LightClientCircuit::new(capacity)?.generate_constraints(cs.clone())?;
    Ok(cs.num_constraints())
}
