#![doc = include_str!("../README.md")]
//!
//! # Modules
//!
//! * [`types`]: the JSON shapes of parameters and results;
//! * [`binary`]: the binary ingress path, a batch of transactions as raw bytes (its client
//!   `BinaryClient` with the feature `client`);
//! * [`codes`]: the error codes of rejected requests;
//! * `rpc` (features `server` / `client`): the `#[rpc]` traits;
//! * `client` (feature `client`): building a client and the fetch helpers;
//! * [`genesis`], [`keys`], [`files`]: the genesis and key file formats;
//! * [`authorization`]: namespace owners' signatures on transactions;
//! * [`records`]: rollup block records, their index and their owners' equivocations;
//! * [`stake`]: proofs of possession for the L1 stake table (ed25519 over commonware);
//! * `signal` (feature `signal`): how a trestle process is asked to stop.

pub mod authorization;
pub mod binary;
pub mod codes;
pub mod files;
pub mod genesis;
pub mod keys;
pub mod records;
pub mod stake;
pub mod types;

#[cfg(feature = "client")]
pub mod client;
#[cfg(any(feature = "server", feature = "client"))]
mod rpc;
#[cfg(feature = "signal")]
mod signal;

pub use files::FileError;
pub use genesis::{
    Genesis, GenesisL1, GenesisL1Reference, GenesisLimits, GenesisValidator, OwnedNamespace,
    ResolvedGenesis, ResolvedL1,
};
pub use keys::{ValidatorKeyFile, ValidatorKeys, keygen};
#[cfg(feature = "client")]
pub use rpc::TrestleApiClient;
#[cfg(feature = "server")]
pub use rpc::{TrestleApiServer, TrestleSubscriptionsServer};
#[cfg(feature = "signal")]
pub use signal::shutdown_signal;
pub use types::*;

#[cfg(test)]
mod tests;
