//! Transaction decoding under a small payload limit: never panics, canonical, limit enforced.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trestle_light_client::Transaction;

const LIMIT: usize = 1024;

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = Transaction::decode(data, LIMIT) {
        assert_eq!(tx.encode(), data);
        assert!(tx.payload.len() <= LIMIT);
    }
});
