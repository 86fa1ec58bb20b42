//! A scripted L1 for tests (feature `test-utils`): the test appends blocks (with StakeTable
//! events) and can make the source fail, deterministically; the node follows it through the
//! same [`follow`](super::follow) loop as a real L1. [`registered`] makes the registrations,
//! with real proofs of possession.

use std::sync::{Arc, Mutex, PoisonError};

use alloy_primitives::{Address, B256};
use trestle_api::ValidatorKeys;
use trestle_light_client::{
    rotation::L1Reference,
    stake::{LogPosition, Registration, StakeTableEvent, StakeTableId},
};

use super::{L1Block, L1Source, L1SourceError};

#[derive(Default)]
struct Chain {
    blocks: Vec<L1Block>,
    failing: bool,
}

/// A scripted L1 chain starting at block 0; clones share it, and each clone is a source.
#[derive(Clone, Default)]
pub struct ScriptedL1 {
    chain: Arc<Mutex<Chain>>,
}

impl ScriptedL1 {
    /// An empty chain.
    pub fn new() -> Self {
        Self::default()
    }

    fn chain(&self) -> std::sync::MutexGuard<'_, Chain> {
        self.chain.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hash of block `number` of the scripted chain (deterministic, never zero).
    pub fn hash_of(number: u64) -> B256 {
        let mut bytes = [0x11u8; 32];
        bytes[24..].copy_from_slice(&number.to_be_bytes());
        B256::from(bytes)
    }

    /// Appends a block holding `events` (their positions are assigned: this block, in order,
    /// and a registration's `registered_at` with them); returns its reference.
    pub fn push(&self, events: Vec<StakeTableEvent>) -> L1Reference {
        let mut chain = self.chain();
        let number = chain.blocks.len() as u64;
        let parent = if number == 0 { B256::ZERO } else { Self::hash_of(number - 1) };
        let reference = L1Reference { number, hash: Self::hash_of(number) };
        let events = events
            .into_iter()
            .enumerate()
            .map(|(index, mut event)| {
                let position = LogPosition { block: number, index: index as u64 };
                if let StakeTableEvent::Registered(registration) = &mut event {
                    registration.registered_at = position;
                }
                (position, event)
            })
            .collect();
        chain.blocks.push(L1Block { reference, parent, events });
        reference
    }

    /// Appends `count` empty blocks; returns the last one's reference.
    pub fn advance(&self, count: usize) -> Option<L1Reference> {
        let mut last = None;
        for _ in 0..count {
            last = Some(self.push(Vec::new()));
        }
        last
    }

    /// The latest block.
    pub fn head(&self) -> Option<L1Reference> {
        self.chain().blocks.last().map(|b| b.reference)
    }

    /// Makes every source of this chain fail (`true`) or answer again (`false`).
    pub fn set_failing(&self, failing: bool) {
        self.chain().failing = failing;
    }
}

impl L1Source for ScriptedL1 {
    async fn blocks(&mut self, from: u64, max: usize) -> Result<Vec<L1Block>, L1SourceError> {
        let chain = self.chain();
        if chain.failing {
            return Err(L1SourceError::Unavailable("scripted outage".into()));
        }
        let start = usize::try_from(from).unwrap_or(usize::MAX).min(chain.blocks.len());
        let end = start.saturating_add(max).min(chain.blocks.len());
        Ok(chain.blocks[start..end].to_vec())
    }
}

/// The test networks' StakeTable: L1 chain 900, a fixed address.
pub const TEST_STAKE_TABLE: StakeTableId =
    StakeTableId { chain_id: 900, address: Address::new([0x57; 20]) };

/// The account test validator `i` registers from.
pub fn test_account(i: usize) -> Address {
    Address::left_padding_from(&(0x1000 + i as u64).to_be_bytes())
}

/// `ValidatorRegistered` for `keys` from `account`, reachable at `p2p_address`, with `stake`
/// wei and valid proofs of possession for `table`.
pub fn registered(
    table: &StakeTableId,
    keys: &ValidatorKeys,
    account: Address,
    p2p_address: &str,
    stake: u128,
) -> StakeTableEvent {
    let proofs = keys.proofs_of_possession(table, &account);
    StakeTableEvent::Registered(Box::new(Registration {
        account,
        consensus_key: proofs.consensus_key,
        light_client_key: proofs.light_client_key,
        p2p_address: p2p_address.into(),
        consensus_pop: proofs.consensus_pop,
        light_client_pop: proofs.light_client_pop,
        stake,
        // Set to the log's position by the scripted chain it is pushed to.
        registered_at: LogPosition { block: 0, index: 0 },
    }))
}
