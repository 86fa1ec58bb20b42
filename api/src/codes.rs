//! JSON-RPC error codes of the trestle API, besides the standard ones (`-32602` invalid params
//! for every malformed parameter, with the decoder's message).
//!
//! A rejected submission gets one code per reason, so a client can tell "already there" (safe to
//! treat as success when resubmitting) from "refused" without parsing messages.

/// The transaction is not a valid encoding.
pub const MALFORMED: i32 = -32010;
/// The payload exceeds the network's limit.
pub const OVERSIZED: i32 = -32011;
/// An owned namespace's transaction without authorization.
pub const MISSING_AUTHORIZATION: i32 = -32012;
/// The authorization is not the owner's signature.
pub const INVALID_AUTHORIZATION: i32 = -32013;
/// An authorization on an unowned namespace.
pub const UNEXPECTED_AUTHORIZATION: i32 = -32014;
/// The transaction is already pending.
pub const DUPLICATE: i32 = -32015;
/// The transaction is already finalized.
pub const ALREADY_FINALIZED: i32 = -32016;
/// The mempool is full.
pub const MEMPOOL_FULL: i32 = -32017;
/// The node is not accepting submissions or cannot answer (shutting down, overloaded).
pub const UNAVAILABLE: i32 = -32018;
/// Too many subscriptions on this server.
pub const TOO_MANY_SUBSCRIPTIONS: i32 = -32019;
/// A block record that cannot extend its namespace's confirmed records (not a record,
/// another rollup's, or the next number with the wrong parent).
pub const RECORD_REFUSED: i32 = -32020;
/// Another record of the same block number is confirmed or pending (the owner equivocated;
/// the node keeps both).
pub const RECORD_CONFLICT: i32 = -32021;
/// The namespace is not a block namespace.
pub const NOT_A_BLOCK_NAMESPACE: i32 = -32022;
/// The transaction was admitted, but not enough other validators said they hold it in time:
/// resubmit (idempotent) until it is held or finalized.
pub const NOT_REPLICATED: i32 = -32023;
/// The height is finalized, but this node no longer stores its block (it keeps only recent
/// blocks: `retain_heights`); an archival node serves it. Headers and history proofs of every
/// height stay available everywhere.
pub const PRUNED: i32 = -32024;

/// Whether a submission refused with `code` is already known to the node (pending or
/// finalized): a resubmission after a crash, ours or another client's, got there first.
pub fn is_already_known(code: i32) -> bool {
    code == DUPLICATE || code == ALREADY_FINALIZED
}
