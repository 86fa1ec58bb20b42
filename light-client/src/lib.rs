#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod abi;
pub mod babyjubjub;
pub mod committee;
pub mod confirmation;
pub mod eddsa;
pub mod epoch;
pub mod field;
pub mod handoff;
pub mod header;
pub mod history;
pub mod merkle;
pub mod payload;
pub mod peer_address;
pub mod poseidon;
pub mod primitives;
pub mod quorum;
pub mod records;
pub mod rotation;
pub mod stake;
pub mod stake_log;
pub mod state;
pub mod transaction;

pub use alloy_primitives::{B256, Bytes};
pub use committee::{Committee, CommitteeSlot};
pub use confirmation::{Evidence, Subject, Verdict, verify_confirmation};
pub use eddsa::{PublicKey, SecretKey, Signature};
pub use handoff::Anchor;
pub use header::Header;
pub use history::{Frontier, HistoryTree};
pub use merkle::MerkleTree;
pub use payload::PayloadTree;
pub use peer_address::PeerAddress;
pub use primitives::{ChainId, Epoch, Height, Namespace, View};
pub use quorum::{Quorum, StateSignature, minimal_quorum, select_quorum, verify_quorum};
pub use state::LightClientState;
pub use transaction::Transaction;
