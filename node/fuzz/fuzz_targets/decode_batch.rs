//! Binary ingress decoding (`POST /v1/submitBatch`): never panics; whatever decodes re-encodes to
//! the same bytes (the format is canonical) and respects the payload bound it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trestle_api::binary::{decode_batch, encode_batch};

/// A small bound, so that the fuzzer reaches the payload check; and the node's request bound.
const BOUNDS: [usize; 2] = [64, 4 << 20];

fuzz_target!(|data: &[u8]| {
    for bound in BOUNDS {
        if let Ok(requests) = decode_batch(data, bound) {
            assert!(requests.iter().all(|request| request.payload.len() <= bound));
            let again = encode_batch(&requests).expect("a decoded batch encodes");
            assert_eq!(again, data, "non-canonical batch accepted");
        }
    }
});
