//! Property tests of the light-client kernel: every proof round-trips, every mutation of a proof
//! or its inputs is rejected, every encoding round-trips and no decoder panics on arbitrary bytes.

#![allow(missing_docs, clippy::unwrap_used)]

mod codec;
mod confirmation;
mod handoff;
mod merkle;
mod payload;
mod rotation;
mod signatures;
mod stake;
