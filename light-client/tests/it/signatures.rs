use proptest::prelude::*;
use trestle_light_client::{PublicKey, SecretKey, Signature, field::Fr};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn signatures_round_trip_and_bind_key_and_message(
        seed in any::<[u8; 32]>(),
        other in any::<[u8; 32]>(),
        m in any::<u64>(),
        byte in 0..96usize,
        flip in 1..=255u8,
    ) {
        prop_assume!(seed != other);
        let sk = SecretKey::from_seed(seed);
        let message = Fr::from(m);
        let sig = sk.sign(&message);
        prop_assert!(sig.verify(sk.public_key(), &message).is_ok());
        prop_assert_eq!(Signature::from_bytes(&sig.to_bytes()).unwrap(), sig);
        prop_assert_eq!(PublicKey::from_bytes(&sk.public_key().to_bytes()).unwrap(), *sk.public_key());
        prop_assert!(sig.verify(SecretKey::from_seed(other).public_key(), &message).is_err());
        prop_assert!(sig.verify(sk.public_key(), &(message + Fr::from(1u64))).is_err());
        // Any corrupted byte makes the signature unparsable or invalid.
        let mut bytes = sig.to_bytes();
        bytes[byte] ^= flip;
        if let Ok(corrupt) = Signature::from_bytes(&bytes) {
            prop_assert!(corrupt.verify(sk.public_key(), &message).is_err());
        }
    }
}
