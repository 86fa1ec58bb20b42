//! The L1 source of a validator process: an Ethereum JSON-RPC endpoint (alloy), read at a safe
//! depth below its head.
//!
//! Each poll asks for the head (`eth_blockNumber`), the StakeTable's logs over the blocks now
//! deep enough (`eth_getLogs`, one range) and each of those blocks' hash and parent hash
//! (`eth_getBlockByNumber`). Logs are decoded strictly ([`decode_stake_log`]); a log of another
//! block hash than the block read (L1 reorganized between the two calls), a removed log, a log
//! of another address or without a position is refused and the poll is retried, so the view
//! only ever takes blocks whose events came with them.

use std::collections::BTreeMap;

use alloy::{
    eips::BlockNumberOrTag,
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::Filter,
};
use alloy_primitives::Address;
use trestle_light_client::{
    rotation::L1Reference, stake::LogPosition, stake_log::decode_stake_log,
};

use super::{L1Block, L1Source, L1SourceError};

/// A StakeTable on an L1 reached over JSON-RPC.
#[derive(Clone, Debug)]
pub struct JsonRpcL1 {
    provider: DynProvider,
    stake_table: Address,
    safe_depth: u64,
}

impl JsonRpcL1 {
    /// The StakeTable at `stake_table` on the L1 at `url`, read `safe_depth` blocks below the
    /// head (0: the head itself, for a devnet L1 that never reorganizes).
    pub fn connect(
        url: &str,
        stake_table: Address,
        safe_depth: u64,
    ) -> Result<Self, L1SourceError> {
        let url = url.parse().map_err(|e| L1SourceError::Invalid(format!("L1 url {url}: {e}")))?;
        let provider = ProviderBuilder::new().connect_http(url).erased();
        Ok(Self { provider, stake_table, safe_depth })
    }

    fn unavailable(e: impl std::fmt::Display) -> L1SourceError {
        L1SourceError::Unavailable(e.to_string())
    }
}

impl L1Source for JsonRpcL1 {
    async fn blocks(&mut self, from: u64, max: usize) -> Result<Vec<L1Block>, L1SourceError> {
        let head = self.provider.get_block_number().await.map_err(Self::unavailable)?;
        let Some(safe) = head.checked_sub(self.safe_depth) else { return Ok(Vec::new()) };
        if from > safe || max == 0 {
            return Ok(Vec::new());
        }
        let last = safe.min(from.saturating_add(max as u64 - 1));
        let filter = Filter::new().address(self.stake_table).from_block(from).to_block(last);
        let logs = self.provider.get_logs(&filter).await.map_err(Self::unavailable)?;
        let mut by_block: BTreeMap<u64, Vec<_>> = BTreeMap::new();
        for log in logs {
            let (Some(number), Some(index)) = (log.block_number, log.log_index) else {
                return Err(L1SourceError::Invalid("a log without a position".into()));
            };
            if log.removed || log.address() != self.stake_table || !(from..=last).contains(&number)
            {
                return Err(L1SourceError::Unavailable(format!(
                    "log {number}/{index} is removed, foreign or out of range: L1 moved; retrying"
                )));
            }
            by_block.entry(number).or_default().push((index, log));
        }
        let mut blocks = Vec::new();
        for number in from..=last {
            let block = self
                .provider
                .get_block_by_number(BlockNumberOrTag::Number(number))
                .await
                .map_err(Self::unavailable)?
                .ok_or_else(|| Self::unavailable(format!("L1 has no block {number} yet")))?;
            let hash = block.header.hash;
            let mut events = Vec::new();
            for (index, log) in by_block.remove(&number).unwrap_or_default() {
                if log.block_hash != Some(hash) {
                    return Err(Self::unavailable(format!(
                        "a log of block {number} names another hash: L1 reorganized; retrying"
                    )));
                }
                let position = LogPosition { block: number, index };
                let decoded = decode_stake_log(position, log.topics(), &log.data().data)
                    .map_err(|e| L1SourceError::Invalid(format!("log {number}/{index}: {e}")))?;
                if let Some(event) = decoded {
                    events.push((position, event));
                }
            }
            events.sort_by_key(|(position, _)| *position);
            let reference = L1Reference { number, hash };
            blocks.push(L1Block { reference, parent: block.header.parent_hash, events });
        }
        Ok(blocks)
    }
}
