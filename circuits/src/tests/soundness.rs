//! Soundness of the circuit: each bad witness leaves the constraint system unsatisfied
//! (checked with `is_satisfied` on the synthesized witness, not by proving), while the
//! honest neighbour of each case is satisfied.

use ark_ff::{BigInteger, Field, PrimeField};
use trestle_light_client::{
    B256, ChainId, Committee, CommitteeSlot, Epoch, LightClientState, SecretKey, StateSignature,
    field::split_b256, poseidon, primitives::Height,
};

use super::signed4;
use crate::{
    Fr,
    circuit::{
        Assignment, CONSTRAINTS_PER_SLOT, FIXED_CONSTRAINTS, LightClientCircuit, PublicInputs,
        SlotAssignment, commitment_seed, constraint_count,
    },
    export::fixtures::fixture_key,
    gadgets::{
        babyjubjub::{AffinePoint, BASE8, SUBGROUP_ORDER, TORSION8},
        eddsa::SignatureWitness,
    },
};

fn satisfied(assignment: Assignment) -> bool {
    LightClientCircuit::with_assignment(assignment)
        .expect("circuit")
        .synthesize()
        .expect("synthesis")
        .is_satisfied()
        .expect("checkable")
}

fn honest(state: &LightClientState, committee: &Committee, sigs: &[StateSignature]) -> Assignment {
    LightClientCircuit::from_signed_state(state, committee, sigs)
        .expect("witness")
        .assignment()
        .expect("assigned")
        .clone()
}

/// The commitment over raw slots, as `Committee::commitment` computes it for valid ones.
fn raw_commitment(slots: &[SlotAssignment]) -> Fr {
    slots.iter().fold(commitment_seed(slots.len()), |acc, s| {
        poseidon::hash_fixed([acc, s.key.x, s.key.y, s.weight])
    })
}

fn sign_raw(key: &SecretKey, message: Fr) -> SignatureWitness {
    crate::circuit::signature_witness(&key.sign(&message))
}

fn fr(x: u64) -> Fr {
    Fr::from(x)
}

#[test]
fn honest_witness_satisfies_and_counts_constraints() {
    let s = signed4();
    assert_eq!(s.signatures.len(), 3);
    assert!(satisfied(honest(&s.state, &s.committee, &s.signatures)));
    // The witness's commitment and message are the light client's.
    let a = honest(&s.state, &s.committee, &s.signatures);
    assert_eq!(raw_commitment(&a.slots), s.committee.commitment());
    assert_eq!(a.public.message(), s.state.message().expect("message"));

    let n4 = constraint_count(4).expect("count");
    let n5 = constraint_count(5).expect("count");
    assert_eq!(n5 - n4, CONSTRAINTS_PER_SLOT);
    assert_eq!(CONSTRAINTS_PER_SLOT, 3466);
    // Fixed part: 249 + 201 (input ranges) + 315 (message) + 1 (commitment) + 81 (quorum).
    assert_eq!(n4 - 4 * CONSTRAINTS_PER_SLOT, FIXED_CONSTRAINTS);
    assert_eq!(FIXED_CONSTRAINTS, 847);
    // Setup and proving synthesize the same shape.
    let cs = LightClientCircuit::with_assignment(a).expect("c").synthesize().expect("s");
    assert_eq!(cs.num_constraints(), n4);
    assert_eq!(cs.num_instance_variables(), 1 + 4);
}

/// A weighted committee of 3 members (weights 2, 1, 3; total 6) in capacity 4.
fn weighted() -> (Vec<SecretKey>, Committee, LightClientState) {
    let keys: Vec<SecretKey> = (10..13).map(fixture_key).collect();
    let slots = keys
        .iter()
        .zip([2u64, 1, 3])
        .map(|(k, weight)| CommitteeSlot { key: *k.public_key(), weight })
        .collect();
    let committee = Committee::new(slots, 4).expect("committee");
    let state =
        LightClientState { next_committee: committee.commitment_bytes(), ..signed4().state };
    (keys, committee, state)
}

fn sign(keys: &[SecretKey], slots: &[u32], state: &LightClientState) -> Vec<StateSignature> {
    let m = state.message().expect("message");
    slots
        .iter()
        .map(|&slot| StateSignature { slot, signature: keys[slot as usize].sign(&m) })
        .collect()
}

#[test]
fn exactly_two_thirds_is_not_enough() {
    let (keys, committee, state) = weighted();
    // 1 + 3 = 4 of 6: 12 > 12 is false.
    let sigs = sign(&keys, &[1, 2], &state);
    assert!(!satisfied(honest(&state, &committee, &sigs)), "exactly 2/3");
    // 2 + 3 = 5 of 6 is a quorum.
    let sigs = sign(&keys, &[0, 2], &state);
    assert!(satisfied(honest(&state, &committee, &sigs)), "5/6");
    // Equal weights: 2 of 3 members is exactly 2/3, 3 of 3 is enough.
    let eq = Committee::equal_weight(keys.iter().map(|k| *k.public_key()), 4).expect("c");
    let state = LightClientState { next_committee: eq.commitment_bytes(), ..state };
    assert!(!satisfied(honest(&state, &eq, &sign(&keys, &[0, 2], &state))));
    assert!(satisfied(honest(&state, &eq, &sign(&keys, &[0, 1, 2], &state))));
}

#[test]
fn below_two_thirds_fails() {
    let (keys, committee, state) = weighted();
    for signers in [&[][..], &[0], &[2], &[0, 1]] {
        let sigs = sign(&keys, signers, &state);
        assert!(!satisfied(honest(&state, &committee, &sigs)), "signers {signers:?}");
    }
}

#[test]
fn tampered_signature_fails() {
    let s = signed4();
    let mut a = honest(&s.state, &s.committee, &s.signatures);
    a.slots[1].signature.s += fr(1);
    assert!(!satisfied(a.clone()), "S + 1");
    let mut a = honest(&s.state, &s.committee, &s.signatures);
    a.slots[3].signature.r8 = a.slots[0].signature.r8;
    assert!(!satisfied(a), "R8 of another signature");
}

#[test]
fn signature_on_another_message_fails() {
    let s = signed4();
    let other = LightClientState { height: Height(1001), ..s.state.clone() };
    let mut sigs = s.signatures.clone();
    sigs[1] = sign(&s.keys, &[sigs[1].slot], &other)[0];
    assert!(!satisfied(honest(&s.state, &s.committee, &sigs)));
    // All signatures on the other state: satisfied only with the other state's inputs.
    let all = sign(&s.keys, &[0, 1, 3], &other);
    assert!(!satisfied(Assignment {
        public: honest(&s.state, &s.committee, &all).public,
        slots: honest(&other, &s.committee, &all).slots,
    }));
    assert!(satisfied(honest(&other, &s.committee, &all)));
}

#[test]
fn key_outside_the_committee_fails() {
    let s = signed4();
    let outsider = fixture_key(99);
    let message = s.state.message().expect("message");
    let mut a = honest(&s.state, &s.committee, &s.signatures);
    let (x, y) = outsider.public_key().circom();
    a.slots[0].key = AffinePoint::new(x, y);
    a.slots[0].signature = sign_raw(&outsider, message);
    assert!(!satisfied(a.clone()), "outsider key with the real committee input");
    // The same slots are fine for the committee they actually commit to: the commitment is
    // what keeps the outsider out.
    a.public.committee = raw_commitment(&a.slots);
    assert!(satisfied(a));
}

#[test]
fn wrong_committee_input_fails() {
    let s = signed4();
    let mut a = honest(&s.state, &s.committee, &s.signatures);
    a.public.committee += fr(1);
    assert!(!satisfied(a), "committee + 1");
    let (_, other, _) = weighted();
    let mut a = honest(&s.state, &s.committee, &s.signatures);
    a.public.committee = other.commitment();
    assert!(!satisfied(a), "another committee's commitment");
    // nextCommittee is only bound through the message: changing it breaks the signatures.
    let mut a = honest(&s.state, &s.committee, &s.signatures);
    a.public.next_committee = other.commitment();
    assert!(!satisfied(a), "another nextCommittee");
}

#[test]
fn non_boolean_signer_bit_fails() {
    let s = signed4();
    // Slots 0 and 1 sign validly; slot 0's flag is 2, so Σ b·w = 3 would pass 3·3 > 2·4.
    let mut a = honest(&s.state, &s.committee, &s.signatures[..2]);
    assert!(!satisfied(a.clone()), "2 of 4 is no quorum");
    a.slots[0].signer = fr(2);
    assert!(!satisfied(a.clone()), "flag 2");
    a.slots[0].signer = -fr(1);
    assert!(!satisfied(a.clone()), "flag -1");
    a.slots[0].signer = fr(2).inverse().expect("inverse");
    assert!(!satisfied(a), "flag 1/2");
}

#[test]
fn non_canonical_s_fails() {
    let s = signed4();
    let l = Fr::from_bigint(SUBGROUP_ORDER).expect("l < p");
    let mut tested_251_bit_alias = false;
    for i in [0, 1, 3] {
        let mut a = honest(&s.state, &s.committee, &s.signatures);
        let alias = a.slots[i].signature.s + l;
        tested_251_bit_alias |= alias.into_bigint().num_bits() <= 251;
        a.slots[i].signature.s = alias;
        assert!(!satisfied(a), "S + l in slot {i}");
    }
    // With these deterministic signatures at least one S + l fits in 251 bits, so the range
    // check (not only the bit decomposition) is exercised.
    assert!(tested_251_bit_alias);
    let mut a = honest(&s.state, &s.committee, &s.signatures);
    a.slots[0].signature.s = -fr(1);
    assert!(!satisfied(a), "S = p - 1");
}

#[test]
fn invalid_nonce_points_fail() {
    let s = signed4();
    let torsion4 = TORSION8.mul_u64(4).expect("mul");
    type Tamper = fn(AffinePoint, AffinePoint) -> AffinePoint;
    let cases: [(&str, Tamper); 5] = [
        ("R8 off curve", |r, _| AffinePoint::new(r.x, r.y + Fr::from(1u8))),
        ("R8 + order-2 point", |r, t4| r.add(&t4).expect("add")),
        ("R8 + order-8 point", |r, _| r.add(&TORSION8).expect("add")),
        ("R8 of order 8", |_, _| TORSION8),
        ("R8 = identity", |_, _| AffinePoint::IDENTITY),
    ];
    for (name, bad) in cases {
        let mut a = honest(&s.state, &s.committee, &s.signatures);
        a.slots[1].signature.r8 = bad(a.slots[1].signature.r8, torsion4);
        assert!(!satisfied(a), "{name}");
    }
}

#[test]
fn invalid_keys_fail() {
    let s = signed4();
    let message = s.state.message().expect("message");
    let bad_keys = [
        ("off curve", AffinePoint::new(BASE8.x, BASE8.y + Fr::from(1u8))),
        ("identity", AffinePoint::IDENTITY),
        ("order 2", TORSION8.mul_u64(4).expect("mul")),
        ("order 4", TORSION8.mul_u64(2).expect("mul")),
        ("order 8", TORSION8),
    ];
    for (name, key) in bad_keys {
        // A forgery attempt for small-order keys: with 8·A = O the equation reads S·B8 = R8.
        let forged = SignatureWitness { r8: BASE8.mul_u64(5).expect("mul"), s: fr(5) };
        for sig in [forged, sign_raw(&s.keys[1], message)] {
            // The key replaces slot 1's with the real committee input: the commitment rejects it.
            let mut a = honest(&s.state, &s.committee, &s.signatures);
            a.slots[1].key = key;
            a.slots[1].signature = sig;
            assert!(!satisfied(a.clone()), "{name} key in slot 1");
            // Even a committee committing to the invalid key (which `Committee::new` never
            // builds) gets no accepted forgery from these witnesses.
            a.public.committee = raw_commitment(&a.slots);
            assert!(!satisfied(a), "{name} key committed");
        }
    }
}

#[test]
fn padding_slots_cannot_sign() {
    let (keys, committee, state) = weighted();
    let sigs = sign(&keys, &[0, 2], &state);
    let mut a = honest(&state, &committee, &sigs);
    assert!(satisfied(a.clone()));
    assert_eq!(a.slots[3], SlotAssignment::padding());
    a.slots[3].signer = fr(1);
    assert!(!satisfied(a), "padding slot with flag 1");
}

#[test]
fn weights_are_range_checked() {
    // A committee the protocol never forms: weights that wrap modulo p. Slot 3 has weight
    // p − 4 (≡ −4): the total is 2 + 1 + 3 − 4 = 2, so slot 0 alone (weight 2) would be a
    // "quorum" of 3·2 > 2·2 if weights were not range-checked.
    let (keys, committee, state) = weighted();
    let sigs = sign(&keys, &[0], &state);
    let mut a = honest(&state, &committee, &sigs);
    let extra = fixture_key(50);
    let (x, y) = extra.public_key().circom();
    a.slots[3] = SlotAssignment { key: AffinePoint::new(x, y), weight: -fr(4), ..a.slots[3] };
    a.public.committee = raw_commitment(&a.slots);
    assert!(!satisfied(a.clone()), "weight p - 4");
    // 2⁶⁴ is out of range too; 2⁶⁴ − 1 is fine.
    let two_64 = fr(2).pow([64]);
    a.slots[3].weight = two_64;
    a.public.committee = raw_commitment(&a.slots);
    assert!(!satisfied(a.clone()), "weight 2^64");
    a.slots[3].weight = two_64 - fr(1);
    a.slots[0].weight = two_64 - fr(1);
    a.slots[0].signer = fr(0);
    a.slots[3].signer = fr(1);
    a.slots[3].signature = sign_raw(&extra, a.public.message());
    a.public.committee = raw_commitment(&a.slots);
    // Signed (2⁶⁴ − 1) of (2·(2⁶⁴ − 1) + 4): not a quorum.
    assert!(!satisfied(a.clone()));
    a.slots[0].signer = fr(1);
    a.slots[0].signature = sign_raw(&keys[0], a.public.message());
    assert!(satisfied(a), "2·(2⁶⁴ − 1) of 2·(2⁶⁴ − 1) + 4 is a quorum");
}

#[test]
fn public_inputs_are_range_checked() {
    // The signers sign whatever message the aliased inputs hash to (test keys; the message
    // reads the inputs' low 248 and 200 bits, so each alias below signs like the honest
    // inputs), so only the range checks can reject these witnesses.
    let s = signed4();
    let two_200 = fr(2).pow([200]);
    let two_248 = fr(2).pow([248]);
    let base = honest(&s.state, &s.committee, &s.signatures);
    type Alias = fn(&mut PublicInputs, Fr, Fr);
    let aliases: [(&str, Alias); 5] = [
        ("stateLow + 2^200", |p, t200, _| p.state_low += t200),
        ("stateLow + 2^200, stateHigh - 1", |p, t200, _| {
            p.state_low += t200;
            p.state_high -= Fr::from(1u8);
        }),
        ("stateHigh + 2^248", |p, _, t248| p.state_high += t248),
        ("stateHigh = p - 1", |p, _, _| p.state_high = -Fr::from(1u8)),
        ("stateLow = p - 1", |p, _, _| p.state_low = -Fr::from(1u8)),
    ];
    for (name, alias) in aliases {
        let mut a = base.clone();
        alias(&mut a.public, two_200, two_248);
        let message = a.public.message();
        for slot in [0usize, 1, 3] {
            a.slots[slot].signature = sign_raw(&s.keys[slot], message);
        }
        assert!(!satisfied(a.clone()), "{name}");
    }
    // Control: the same re-signing with in-range inputs is satisfied.
    let mut a = base;
    a.public.state_high += fr(1 << 56);
    let message = a.public.message();
    for slot in [0usize, 1, 3] {
        a.slots[slot].signature = sign_raw(&s.keys[slot], message);
    }
    assert!(satisfied(a));
    // All-ones counters and roots are in range.
    let state = LightClientState {
        chain_id: ChainId(u64::MAX),
        epoch: Epoch(u64::MAX),
        height: Height(u64::MAX),
        history_root: B256::repeat_byte(0xff),
        ..s.state.clone()
    };
    let m = state.message().expect("message");
    let sigs: Vec<StateSignature> = [0u32, 1, 3]
        .iter()
        .map(|&slot| StateSignature { slot, signature: s.keys[slot as usize].sign(&m) })
        .collect();
    assert!(satisfied(honest(&state, &s.committee, &sigs)));
}

/// `state` with bit `bit` of `chainId ‖ epoch ‖ height ‖ historyRoot` flipped (bit 0 is the
/// root's least significant bit, bit 447 the chain id's most significant).
fn flip_state_bit(state: &LightClientState, bit: usize) -> LightClientState {
    let mut flipped = state.clone();
    match bit {
        0..256 => {
            let mut root = state.history_root;
            root.0[31 - bit / 8] ^= 1 << (bit % 8);
            flipped.history_root = root;
        }
        256..320 => flipped.height = Height(state.height.get() ^ (1 << (bit - 256))),
        320..384 => flipped.epoch = Epoch(state.epoch.get() ^ (1 << (bit - 320))),
        _ => flipped.chain_id = ChainId(state.chain_id.get() ^ (1 << (bit - 384))),
    }
    flipped
}

#[test]
fn every_bit_of_every_state_field_is_bound() {
    let s = signed4();
    let committee = s.committee.commitment_bytes();
    let inputs = |state: &LightClientState| PublicInputs::new(state, &committee).expect("inputs");
    let base = inputs(&s.state);
    assert_eq!(base.message(), s.state.message().expect("message"));
    // Natively: each of the 448 bits changes the inputs, and the inputs' message is the light
    // client's message of the flipped state (so it differs from the signed one).
    for bit in 0..448 {
        let flipped = flip_state_bit(&s.state, bit);
        let public = inputs(&flipped);
        assert_ne!(public, base, "bit {bit}");
        assert_eq!(public.message(), flipped.message().expect("message"), "bit {bit}");
        assert_ne!(public.message(), base.message(), "bit {bit}");
        let (packed, root_hi, root_lo) = public.signed_fields();
        let (hi, lo) = split_b256(&flipped.history_root);
        assert_eq!((packed, root_hi, root_lo), (flipped.packed_counters(), hi, lo), "bit {bit}");
    }
    // In-circuit: the honest signatures of the state do not satisfy the inputs of a state
    // differing in one bit, for the bits at every field's ends and at every limb and input
    // boundary.
    let honest_assignment = honest(&s.state, &s.committee, &s.signatures);
    for bit in [0, 1, 127, 128, 199, 200, 201, 255, 256, 319, 320, 383, 384, 446, 447] {
        let mut a = honest_assignment.clone();
        a.public = inputs(&flip_state_bit(&s.state, bit));
        assert!(!satisfied(a), "bit {bit}");
    }
    assert!(satisfied(honest_assignment));
}
