//! The zkey reader and importer against a zkey written here in snarkjs's layout from a
//! capacity-4 key made as snarkjs makes keys (the canonical generators; arkworks' own setup
//! picks random ones); the ceremony test checks the same code on real snarkjs output. The
//! import gives back exactly that key, and damaged files are refused with typed errors, never
//! a panic.

use std::sync::OnceLock;

use ark_bn254::{Fq, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, Field, PrimeField};
use ark_groth16::ProvingKey;

use ark_std::UniformRand;
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

use crate::{
    Fr, LightClientCircuit,
    ceremony::{import::expected_coefficients, import_zkey, parse_zkey},
    error::ZkeyError,
    prove::ConstraintMatrices,
    reduction::LightClientGroth16,
};

/// A capacity-4 key over the canonical generators, made once per test process.
fn key4() -> &'static ProvingKey<ark_bn254::Bn254> {
    static KEY: OnceLock<ProvingKey<ark_bn254::Bn254>> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut rng = ChaCha20Rng::from_seed([9; 32]);
        let [alpha, beta, gamma, delta] = [(); 4].map(|()| Fr::rand(&mut rng));
        LightClientGroth16::generate_parameters_with_qap(
            LightClientCircuit::new(4).expect("circuit"),
            alpha,
            beta,
            gamma,
            delta,
            G1Affine::generator().into(),
            G2Affine::generator().into(),
            &mut rng,
        )
        .expect("setup")
    })
}

/// Montgomery form (`x·2²⁵⁶ mod q`), little-endian.
fn lem(x: &Fq) -> Vec<u8> {
    (*x * Fq::from(2u64).pow([256])).into_bigint().to_bytes_le()
}

fn g1(p: &G1Affine) -> Vec<u8> {
    match p.xy() {
        Some((x, y)) => [lem(&x), lem(&y)].concat(),
        None => vec![0; 64],
    }
}

fn g2(p: &G2Affine) -> Vec<u8> {
    match p.xy() {
        Some((x, y)) => [lem(&x.c0), lem(&x.c1), lem(&y.c0), lem(&y.c1)].concat(),
        None => vec![0; 128],
    }
}

fn section(kind: u32, body: &[u8]) -> Vec<u8> {
    [&kind.to_le_bytes()[..], &(body.len() as u64).to_le_bytes(), body].concat()
}

/// `key` for the circuit of `capacity` as a snarkjs zkey with one contribution named "test".
fn write_zkey(key: &ProvingKey<ark_bn254::Bn254>, capacity: usize) -> Vec<u8> {
    write_zkey_with(key, capacity, true)
}

/// [`write_zkey`], or with an empty transcript (no contribution).
fn write_zkey_with(
    key: &ProvingKey<ark_bn254::Bn254>,
    capacity: usize,
    contributed: bool,
) -> Vec<u8> {
    let matrices = ConstraintMatrices::derive(capacity).expect("matrices");
    let variables = matrices.num_instance_variables + matrices.num_witness_variables;
    let u32le = |n: usize| (n as u32).to_le_bytes().to_vec();
    let mut header = Vec::new();
    for modulus in [Fq::MODULUS.to_bytes_le(), Fr::MODULUS.to_bytes_le()] {
        header.extend(u32le(32));
        header.extend(modulus);
    }
    header.extend(u32le(variables));
    header.extend(u32le(matrices.num_instance_variables - 1));
    header.extend(u32le(key.h_query.len()));
    for part in [
        g1(&key.vk.alpha_g1),
        g1(&key.beta_g1),
        g2(&key.vk.beta_g2),
        g2(&key.vk.gamma_g2),
        g1(&key.delta_g1),
        g2(&key.vk.delta_g2),
    ] {
        header.extend(part);
    }
    let coefficients = expected_coefficients(&matrices);
    let scale = Fr::from(2u64).pow([512]);
    let mut coefficient_section = u32le(coefficients.len());
    for c in &coefficients {
        for word in [c.matrix, c.constraint, c.signal] {
            coefficient_section.extend(word.to_le_bytes());
        }
        coefficient_section.extend((c.value * scale).into_bigint().to_bytes_le());
    }
    let points1 = |points: &[G1Affine]| points.iter().flat_map(g1).collect::<Vec<u8>>();
    let mut transcript = vec![7u8; 64];
    transcript.extend(u32le(usize::from(contributed)));
    if contributed {
        transcript.extend(g1(&key.delta_g1));
        transcript.extend(vec![0u8; 64 * 2 + 128 + 64]);
        transcript.extend(u32le(0));
        transcript.extend(u32le(6));
        transcript.extend([1, 4]);
        transcript.extend(b"test");
    }
    let sections = [
        section(1, &u32le(1)),
        section(2, &header),
        section(3, &points1(&key.vk.gamma_abc_g1)),
        section(4, &coefficient_section),
        section(5, &points1(&key.a_query)),
        section(6, &points1(&key.b_g1_query)),
        section(7, &key.b_g2_query.iter().flat_map(g2).collect::<Vec<u8>>()),
        section(8, &points1(&key.l_query)),
        section(9, &points1(&key.h_query)),
        section(10, &transcript),
    ];
    [b"zkey".to_vec(), u32le(1), u32le(sections.len()), sections.concat()].concat()
}

#[test]
fn a_zkey_of_our_key_imports_back_to_it() {
    let bytes = write_zkey(key4(), 4);
    let imported = import_zkey(&bytes, 4).expect("import");
    assert_eq!(&imported.proving_key, key4());
    assert_eq!(imported.contributions.len(), 1);
    assert_eq!(imported.contributions[0].name.as_deref(), Some("test"));
    assert!(imported.origin().starts_with("snarkjs-zkey-sha256:"));
    // Another capacity is another circuit.
    assert!(matches!(import_zkey(&bytes, 3), Err(ZkeyError::OtherCircuit { capacity: 3, .. })));
    // Nobody contributed: refused.
    let uncontributed = write_zkey_with(key4(), 4, false);
    assert!(matches!(import_zkey(&uncontributed, 4), Err(ZkeyError::NoContributions)));
    // One QAP coefficient changed (the value of the first, in canonical range): another circuit.
    // Sections 1 and 2, the IC section (one G1 point per public input and one more), section 4's
    // header and its count.
    let ic = (crate::circuit::NUM_PUBLIC_INPUTS + 1) * 64;
    let header_and_coefficients = 12 + 12 + 4 + 12 + 660 + 12 + ic + 12 + 4;
    let mut changed = bytes.clone();
    changed[header_and_coefficients + 12] ^= 1;
    match import_zkey(&changed, 4) {
        Err(ZkeyError::OtherCircuit { reason, .. }) => assert!(reason.contains("coefficient 0")),
        other => panic!("a changed coefficient was not refused: {other:?}"),
    }
    // δ₂ that is not δ₁'s scalar: inconsistent.
    let mut other_delta = key4().clone();
    other_delta.vk.delta_g2 = (G2Affine::generator() * Fr::from(5u8)).into();
    assert!(matches!(
        import_zkey(&write_zkey(&other_delta, 4), 4),
        Err(ZkeyError::Inconsistent(_))
    ));
}

#[test]
fn damaged_zkeys_are_typed_errors() {
    let good = write_zkey(key4(), 4);
    // Every truncation point in the file's head and a few beyond: an error, no panic.
    for length in (0..800).chain([good.len() / 2, good.len() - 1]) {
        assert!(parse_zkey(&good[..length]).is_err(), "truncated at {length} parsed");
    }
    // Single-byte changes in the section table and the header: rejected (or, where the byte
    // does not matter to the key, the same key), never a panic.
    for at in 0..720 {
        let mut bytes = good.clone();
        bytes[at] ^= 0x5a;
        if let Ok(zkey) = import_zkey(&bytes, 4) {
            assert_eq!(&zkey.proving_key, key4(), "byte {at} changed the key");
        }
    }
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(parse_zkey(&trailing).is_err());
    assert!(matches!(parse_zkey(b"zkey"), Err(ZkeyError::Truncated { .. })));
    assert!(matches!(parse_zkey(b"r1cs\x01\0\0\0\0\0\0\0"), Err(ZkeyError::NotZkey)));
}
