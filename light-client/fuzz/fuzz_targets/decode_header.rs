//! Header decoding: never panics; whatever decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trestle_light_client::Header;

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = Header::decode(data) {
        assert_eq!(header.encode(), data);
        let _ = header.hash();
    }
});
