//! snarkjs `.zkey` parsing (a ceremony's output, from outside): never panics, and whatever it
//! accepts has the shapes its header announced.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trestle_circuits::ceremony::parse_zkey;

fuzz_target!(|data: &[u8]| {
    if let Ok(zkey) = parse_zkey(data) {
        let key = &zkey.proving_key;
        assert_eq!(key.a_query.len(), zkey.num_variables);
        assert_eq!(key.b_g2_query.len(), zkey.num_variables);
        assert_eq!(key.vk.gamma_abc_g1.len(), zkey.num_public + 1);
        assert_eq!(key.l_query.len(), zkey.num_variables - zkey.num_public - 1);
        assert_eq!(key.h_query.len(), zkey.domain_size);
    }
});
