//! Tests of the relayer: configuration validation, network failover, the store's restart and
//! idempotence guarantees, TLS to https endpoints, and an end-to-end run over real parts (two
//! anvil chains with the forge-deployed contracts, a four-validator trestle network, the INSECURE
//! dev Groth16 keys).

mod config;
mod dev_keys;
mod e2e;
mod evm;
mod faults;
mod harness;
mod liar;
mod metrics;
mod network;
mod operate;
mod records;
mod reorg;
mod replace;
mod store;
