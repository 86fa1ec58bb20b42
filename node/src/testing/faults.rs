//! Fault injection for simulations: a Byzantine proposer, rogue signers and rogue gossipers.

use std::sync::{Arc, Mutex};

use commonware_consensus::{Application, marshal::ancestry::Ancestry};
use commonware_cryptography::{Digested, Digestible as _, ed25519};
use commonware_p2p::simulated;
use commonware_runtime::deterministic;
use trestle_api::authorization::authorize;
use trestle_light_client::{B256, PayloadTree, Transaction, abi::BlockRecord};

use super::{RECORD_CHAIN_ID, RECORD_NAMESPACE, owner_keys};
use crate::{
    ConsensusContext, Scheme,
    application::Mailbox,
    block::{Block, BlockTransaction},
};

/// The history root a [`Proposer`] forges.
pub const FORGED_ROOT: B256 = B256::repeat_byte(0xbd);

/// The L1 block hash a [`Proposer`] claims to have seen.
pub const FORGED_L1_HASH: B256 = B256::repeat_byte(0x1f);

/// What a Byzantine [`Proposer`] lies about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Forgery {
    /// The header's history root ([`FORGED_ROOT`]).
    #[default]
    HistoryRoot,
    /// The block's L1 reference: the number it names, with [`FORGED_L1_HASH`] (a block that
    /// is not on L1).
    L1Reference,
    /// The test rollup's block records ([`RECORD_NAMESPACE`]): the proposer (colluding with
    /// the owner, whose key it signs with) appends a record that breaks the namespace's chain,
    /// in turn a second record for the first confirmed number, one that skips a number, and
    /// the next number with a wrong parent. Before the first record is confirmed it proposes
    /// honestly (a first record may have any number).
    BlockRecords,
}

/// The parent hash a [`Forgery::BlockRecords`] proposer names.
pub const FORGED_PARENT: B256 = B256::repeat_byte(0xee);

/// A proposer wrapper around the application's mailbox (the engine's
/// [`start_with`](crate::engine::start_with) seam): an honest one (`forged: None`) forwards;
/// a Byzantine one corrupts every proposal as its [`Forgery`] says (a block every honest
/// validator must reject) and records the forged blocks' header hashes.
#[derive(Clone)]
pub struct Proposer {
    inner: Mailbox,
    forged: Option<Arc<Mutex<Vec<B256>>>>,
    forgery: Forgery,
    /// Proposals forged so far (picks the next [`Forgery::BlockRecords`] kind).
    count: u64,
}

impl Proposer {
    /// Forwards to `inner`; forges proposals, recording them in `forged`, when given.
    pub fn new(inner: Mailbox, forged: Option<Arc<Mutex<Vec<B256>>>>, forgery: Forgery) -> Self {
        Self { inner, forged, forgery, count: 0 }
    }

    /// The rule-breaking record to append, once the namespace has a confirmed record.
    async fn forged_record(&mut self) -> Option<BlockTransaction> {
        let summary = self.inner.record_namespace(RECORD_NAMESPACE).await?;
        let (first, tip) = summary.confirmed?;
        let (number, parent) = match self.count % 3 {
            0 => (first, FORGED_PARENT),
            1 => (tip.number.checked_add(2)?, tip.hash),
            _ => (tip.number.checked_add(1)?, FORGED_PARENT),
        };
        self.count += 1;
        let record = BlockRecord {
            chainId: RECORD_CHAIN_ID,
            number,
            hash: B256::repeat_byte(0xf0),
            parentHash: parent,
        };
        let transaction = Transaction::new(RECORD_NAMESPACE, record.encode());
        let authorization = authorize(&owner_keys().consensus, &transaction);
        Some(BlockTransaction { transaction, authorization: Some(authorization) })
    }
}

impl<E: commonware_runtime::Clock> Application<E> for Proposer {
    type SigningScheme = Scheme;
    type Context = ConsensusContext;
    type Block = Block;
    type Input = ();

    async fn propose(
        &mut self,
        context: (E, ConsensusContext),
        ancestry: impl Ancestry<Block>,
        input: (),
    ) -> Option<Digested<Block>> {
        let block = Application::<E>::propose(&mut self.inner, context, ancestry, input).await?;
        let Some(forged) = self.forged.clone() else { return Some(block) };
        let mut header = block.inner().header().clone();
        let mut succession = block.inner().succession().clone();
        let mut transactions = block.inner().transactions().to_vec();
        match self.forgery {
            Forgery::HistoryRoot => header.history_root = FORGED_ROOT,
            Forgery::L1Reference => succession.l1.hash = FORGED_L1_HASH,
            Forgery::BlockRecords => {
                let Some(record) = self.forged_record().await else { return Some(block) };
                transactions.push(record);
                header.payload_root =
                    PayloadTree::new(transactions.iter().map(|t| &t.transaction)).root();
            }
        }
        if let Ok(mut list) = forged.lock() {
            list.push(header.hash());
        }
        let forged = Block::from_parts(
            header,
            block.inner().parent_digest(),
            succession,
            block.inner().consensus_context().clone(),
            transactions,
        );
        let digest = forged.digest();
        Some(Digested::precomputed(forged, digest))
    }

    async fn verify(
        &mut self,
        context: (E, ConsensusContext),
        ancestry: impl Ancestry<Block>,
    ) -> bool {
        Application::<E>::verify(&mut self.inner, context, ancestry).await
    }
}

/// A p2p channel of a simulated validator.
pub type SimulatedChannel = (
    simulated::Sender<ed25519::PublicKey, deterministic::Context>,
    simulated::Receiver<ed25519::PublicKey>,
);

/// The signatures channel of a simulated validator.
pub type SignaturesChannel = SimulatedChannel;

/// What a validator without a signatures actor does with its signatures channel: called once
/// per start with the validator's context, application mailbox and channel.
pub type RogueSigner =
    Arc<dyn Fn(deterministic::Context, Mailbox, SignaturesChannel) + Send + Sync>;

/// What a validator does with its mempool gossip channel instead of the honest gossip (whose
/// actor then runs on a channel nobody uses): called once per start with the validator's
/// context, application mailbox and channel.
pub type RogueGossiper =
    Arc<dyn Fn(deterministic::Context, Mailbox, SimulatedChannel) + Send + Sync>;
