//! The committed golden vectors are exactly what the code computes today.

use std::fs;

use crate::fixtures_dir;

#[test]
fn committed_fixtures_match_the_code() {
    let mut drifted = Vec::new();
    for fixture in trestle::vectors::all() {
        let path = fixtures_dir().join(fixture.name);
        let on_disk = fs::read_to_string(&path).unwrap_or_default();
        if on_disk != fixture.contents {
            drifted.push(fixture.name);
        }
    }
    assert!(
        drifted.is_empty(),
        "fixtures drifted from the code: {drifted:?}; regenerate with `cargo run -- vectors` \
         and make sure Solidity and circomlibjs still agree"
    );
}

#[test]
fn vectors_are_deterministic() {
    let a: Vec<String> = trestle::vectors::all().into_iter().map(|f| f.contents).collect();
    let b: Vec<String> = trestle::vectors::all().into_iter().map(|f| f.contents).collect();
    assert_eq!(a, b);
}
