//! Restoring the finalized chain from the application's index ([`super::super::index`])
//! instead of re-applying every block: the state a restart rebuilds is the one
//! [`State::apply_finalized`] built, entry by entry, without reading or hashing transactions.

use trestle_light_client::{Header, Height};

use super::{Known, State};
use crate::{
    application::{Finalized, index::IndexedBlock, records::IndexedRecord},
    rules::Parent,
};

impl State {
    /// Starts keeping an [`IndexedBlock`] of every block finalized from now on, for the actor
    /// to write ([`State::take_unindexed`]).
    pub(in crate::application) fn start_indexing(&mut self) {
        self.unindexed.get_or_insert_with(Vec::new);
    }

    /// Stops keeping index entries (the index could not be written).
    pub(in crate::application) fn stop_indexing(&mut self) {
        self.unindexed = None;
    }

    /// The entries finalized since the last call.
    pub(in crate::application) fn take_unindexed(&mut self) -> Vec<IndexedBlock> {
        self.unindexed.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// How many of `entries` (from the first) extend our finalized chain: each at the next
    /// height, naming the previous block's digest and header hash, on our network, and naming
    /// the committee after next exactly at an epoch's last height.
    pub(in crate::application) fn chaining_prefix(&self, entries: &[IndexedBlock]) -> usize {
        let Some(mut previous) = self.headers.last().map(Header::hash) else { return 0 };
        let mut digest = self.tip;
        let first = self.finalized_height().get() + 1;
        for (count, entry) in entries.iter().enumerate() {
            let header = &entry.header;
            let chains = header.height.get() == first + count as u64
                && entry.parent_digest == digest
                && header.parent == previous
                && header.chain_id == self.params.chain_id
                && header.epoch == self.params.epoch_of(header.height)
                && entry.succession.next_committee.is_some() == self.params.is_last(header.height);
            if !chains {
                return count;
            }
            previous = entry.header_hash;
            digest = entry.digest;
        }
        entries.len()
    }

    /// Applies `entries`, which must be a [chaining prefix](State::chaining_prefix), as
    /// [`State::apply_finalized`] applied their blocks. The sinks get the heights whose
    /// consumers keep something per height: every epoch's last height (committees, floors,
    /// epoch-end signatures) and the last `tail` heights (recent signatures); the others were
    /// handed to them in the run that finalized them.
    pub(in crate::application) fn restore(&mut self, entries: &[IndexedBlock], tail: u64) {
        let Some(last) = entries.last() else { return };
        let announce_from = last.header.height.get().saturating_sub(tail.saturating_sub(1));
        for entry in entries {
            let header = &entry.header;
            let height = header.height;
            if let Some(next) = &entry.succession.next_committee {
                self.committees.decide(header.epoch, entry.succession.l1, next.clone());
            }
            for record in &entry.records {
                let indexed = IndexedRecord { height, tx_hash: record.tx_hash, hash: record.hash };
                // The same check apply_finalized's indexing made: an out-of-order record was
                // not indexed then either.
                let _ = self.records.append_entry(record.namespace, record.number, indexed);
            }
            self.history.append(&entry.header_hash);
            self.headers.push(header.clone());
            self.finalized.insert(entry.digest, height);
            self.header_heights.insert(entry.header_hash, height);
            self.finalized_txs.extend(entry.tx_hashes.iter().map(|hash| (*hash, height)));
            if self.params.is_last(height) || height.get() >= announce_from {
                self.announce(entry);
            }
        }
        self.frontier = self.history.frontier();
        let header = &last.header;
        let tip = Parent {
            digest: last.digest,
            header_hash: last.header_hash,
            height: header.height,
            epoch: header.epoch,
            view: header.view,
            l1: last.succession.l1,
            timestamp_ms: header.timestamp_ms,
            history: self.frontier.clone(),
        };
        let known = Known {
            parent: tip,
            parent_digest: last.parent_digest,
            // Only blocks above the finalized tip use these (unfinalized ancestry).
            tx_hashes: Vec::new(),
            record_tips: Vec::new(),
        };
        self.known.clear();
        self.known.insert(last.digest, known);
        self.tip = last.digest;
    }

    /// Hands a restored height to the sinks (without its block).
    fn announce(&mut self, entry: &IndexedBlock) {
        let height: Height = entry.header.height;
        let committee = self.committees.get(entry.header.epoch).cloned();
        let (Some(state), Some(committee)) = (self.light_client_state(height), committee) else {
            return;
        };
        let finalized = Finalized {
            digest: entry.digest,
            header: entry.header.clone(),
            succession: entry.succession.clone(),
            block: None,
            state,
            committee,
        };
        self.sinks.retain(|sink| sink.send(finalized.clone()).is_ok());
    }
}
