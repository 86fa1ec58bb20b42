//! Order and finalize namespaced rollup transactions with simplex BFT, serving headers and proofs.
//!
//! Empty until the node issue lands: the validator (commonware simplex consensus, p2p, storage,
//! JSON-RPC API) is built here on top of `trestle-light-client`.
