//! Signature and public-key decoding: never panics, canonical, and verification never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trestle_light_client::{PublicKey, SecretKey, Signature, field::Fr};

fuzz_target!(|data: &[u8]| {
    if let Ok(signature) = Signature::from_bytes(data) {
        assert_eq!(signature.to_bytes().as_slice(), data);
        let key = SecretKey::from_seed([1; 32]);
        // Finding bytes that verify under a key the fuzzer does not hold would be a forgery.
        assert!(signature.verify(key.public_key(), &Fr::from(0u64)).is_err(), "forgery");
    }
    if let Ok(key) = PublicKey::from_bytes(data) {
        assert_eq!(key.to_bytes().as_slice(), data);
        assert!(key.point().is_in_prime_subgroup());
    }
});
