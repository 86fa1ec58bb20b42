//! Light-client state decoding: never panics, canonical, and a decoded state has a message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trestle_light_client::LightClientState;

fuzz_target!(|data: &[u8]| {
    if let Ok(state) = LightClientState::decode(data) {
        assert_eq!(state.encode(), data);
        assert!(state.message().is_ok(), "decode validated nextCommittee");
    }
});
