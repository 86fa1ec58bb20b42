//! Order and finalize namespaced rollup transactions with simplex BFT, serving headers and proofs.
//!
//! A trestle validator is a commonware application (DESIGN §3): simplex consensus orders block
//! digests, marshal disseminates and backfills the blocks and hands finalized ones back in
//! height order, and the [`application`] builds and checks blocks and keeps the finalized chain
//! (history tree, signed light-client states).
//!
//! * [`block`]: the block type, its canonical encoding and its consensus digest;
//! * [`rules`]: the validity rules, pure functions shared by proposer and verifier;
//! * [`mempool`]: the bounded, deduplicating transaction pool and its typed rejections;
//! * [`application`]: the actor (ingress/mailbox, actor, config) consensus talks to;
//! * [`engine`]: wiring of one validator over any runtime and p2p channels;
//! * [`epochs`]: one simplex engine per epoch over the committee the chain decided;
//! * [`rpc`]: the JSON-RPC server (HTTP + WebSocket) of the `trestle-api` contract;
//! * [`signatures`]: signing, gossip, persistence and serving of light-client state signatures;
//! * [`validator`]: one validator from its genesis and keys (every bring-up starts there);
//! * [`service`]: the validator process (files, tokio runtime, TCP p2p, RPC, metrics);
//! * `testing` (feature `test-utils`): simulated and loopback networks for tests and benches.
//!
//! Protocol code talks only to commonware traits (`Clock`, `Spawner`, `Storage`, p2p
//! `Sender`/`Receiver`): tests run it in the deterministic runtime over the simulated network,
//! binaries in the tokio runtime over the authenticated network. See `node/NOTES.md` for what we
//! learned about commonware 2026.10.0 (wiring, timeouts, pitfalls).

pub mod application;
pub mod block;
pub mod engine;
pub mod epochs;
pub mod gossip;
pub mod known;
pub mod l1;
pub mod mempool;
pub mod records;
pub mod rpc;
pub mod rules;
pub mod service;
pub mod signatures;
pub mod succession;
#[cfg(feature = "test-utils")]
pub mod testing;
pub mod timeouts;
pub mod validator;

use block::CodingHasher;
use commonware_consensus::{
    Application,
    marshal::{coding::Coding, core::Mailbox as MarshalMailbox},
};
use commonware_cryptography::ed25519;

/// The consensus certificate scheme: ed25519, attributable, one signature per voter.
pub type Scheme = commonware_consensus::simplex::scheme::ed25519::Scheme;

/// The context simplex gives the application with each proposal (the block embeds it).
pub type ConsensusContext = block::BlockContext;

/// Marshal's variant: erasure-coded dissemination of trestle blocks (DESIGN §3b).
pub type MarshalVariant =
    Coding<block::Block, block::CodingScheme, CodingHasher, ed25519::PublicKey>;

/// A block as marshal holds it: the block, its commitment and (once computed) its shards.
pub type CodedBlock = std::sync::Arc<
    commonware_consensus::marshal::coding::types::CodedBlock<
        block::Block,
        block::CodingScheme,
        CodingHasher,
    >,
>;

/// Marshal's mailbox for trestle blocks (finalized blocks and certificates by height).
pub type Marshal = MarshalMailbox<Scheme, MarshalVariant>;

/// The shard engine's mailbox (erasure-coded proposals and their reconstruction).
pub type Shards = commonware_consensus::marshal::coding::shards::Mailbox<
    block::Block,
    block::CodingScheme,
    CodingHasher,
    ed25519::PublicKey,
>;

/// What consensus proposes and verifies through: the application's [`Mailbox`] or a wrapper
/// of it (fault injection, instrumentation), over trestle's blocks, scheme and context.
pub trait ConsensusApplication<E>:
    Application<E, SigningScheme = Scheme, Context = ConsensusContext, Block = block::Block, Input = ()>
{
}

impl<E, A> ConsensusApplication<E> for A where
    A: Application<
            E,
            SigningScheme = Scheme,
            Context = ConsensusContext,
            Block = block::Block,
            Input = (),
        >
{
}

pub use application::{
    Actor, Config as ApplicationConfig, FinalizeError, Finalized, Mailbox, Status,
};
pub use block::{
    Block, BlockCodec, BlockContext, BlockLimits, BlockTransaction, Commitment, Digest,
};
pub use engine::{Channels, EngineConfig, EngineError, Node, start, start_with};
pub use mempool::{Mempool, MempoolConfig, SubmitError};
pub use rules::{BlockError, ChainParams};
pub use timeouts::{Timeouts, TimeoutsError};
pub use validator::{Validator, ValidatorError};
