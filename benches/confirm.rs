//! Criterion benchmark of `trestle confirm`'s native verification ([`verify_confirmation`]) with
//! a committee of 100: transaction proof, history proof and the quorum check, over evidence
//! built with the light-client kernel (no RPC); within the anchor's epoch, across 1 and 4
//! committee hand-offs, and right after a boundary whose hand-off `trestle follow-anchor` walked
//! beforehand (what a check costs then).
//!
//! `cargo bench --bench confirm` (acceptance: ≤ 10 ms). On a busy machine
//! `cargo bench --profile dev --bench confirm` reuses the test build (dependencies at opt-level 3)
//! and gives a close, slightly pessimistic figure.

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use trestle_light_client::{Evidence, handoff::follow_handoffs, verify_confirmation};

#[path = "support/confirm_fixture.rs"]
mod confirm_fixture;

use confirm_fixture::{NAMESPACE, setup, setup_across};

fn confirm(c: &mut Criterion) {
    let (evidence, anchor, subject) = setup();
    verify_confirmation(&evidence, NAMESPACE, &subject, &anchor).expect("the evidence verifies");
    let mut group = c.benchmark_group("confirm");
    group.sample_size(20);
    group.bench_function("verify_block_record_100_validators", |b| {
        b.iter(|| verify_confirmation(black_box(&evidence), NAMESPACE, &subject, &anchor))
    });
    // Across epoch boundaries: from an anchor `k` epochs back (the genesis anchor, or a stale
    // `--anchor-cache`), each hand-off is one more quorum check and committee commitment.
    for handoffs in [1, 4] {
        let (evidence, anchor, subject) = setup_across(handoffs);
        verify_confirmation(&evidence, NAMESPACE, &subject, &anchor)
            .expect("the evidence verifies across the hand-offs");
        group.bench_function(
            format!("verify_block_record_100_validators_{handoffs}_handoffs"),
            |b| b.iter(|| verify_confirmation(black_box(&evidence), NAMESPACE, &subject, &anchor)),
        );
    }
    // The check right after the boundary, under the anchor the follower already moved on: the
    // same evidence without the hand-off (which the follower verified, once, off this path).
    let (evidence, anchor, subject) = setup_across(1);
    let followed = follow_handoffs(&anchor, &evidence.handoffs).expect("the hand-off verifies");
    let evidence = Evidence { handoffs: Vec::new(), ..evidence };
    verify_confirmation(&evidence, NAMESPACE, &subject, &followed)
        .expect("the evidence verifies under the followed anchor");
    group.bench_function("verify_block_record_100_validators_1_handoff_followed", |b| {
        b.iter(|| verify_confirmation(black_box(&evidence), NAMESPACE, &subject, &followed))
    });
    group.finish();
}

criterion_group!(benches, confirm);
criterion_main!(benches);
