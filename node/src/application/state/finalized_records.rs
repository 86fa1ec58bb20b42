//! Indexing the block records of a finalized block, and dropping the pending records it made
//! stale.

use tracing::{debug, warn};
use trestle_light_client::{Namespace, records as record_rules};

use super::State;
use crate::{
    application::{index::IndexedRecordEntry, records::FirstRecord},
    block::Block,
    records::TipChanges,
};

impl State {
    /// Indexes the records of a finalized block and drops the pending records it made stale:
    /// those of numbers now confirmed (a different one is an equivocation) and one for the next
    /// number whose parent is not the new tip (it can never extend the records). Returns the
    /// tips the block moved and the records indexed.
    pub(super) fn index_records(&mut self, block: &Block) -> (TipChanges, Vec<IndexedRecordEntry>) {
        let height = block.header().height;
        let mut moved: Vec<Namespace> = Vec::new();
        let mut entries = Vec::new();
        for (tx, &tx_hash) in block.transactions().iter().zip(block.tx_hashes()) {
            let namespace = tx.transaction.namespace;
            if self.records.spec(namespace).is_none() {
                continue;
            }
            let indexed = record_rules::decode(&tx.transaction.payload).is_ok_and(|record| {
                let appended = self.records.append(namespace, &record, height, tx_hash);
                if appended {
                    let number = record.number;
                    entries.push(IndexedRecordEntry {
                        namespace,
                        number,
                        hash: record.hash,
                        tx_hash,
                    });
                }
                appended
            });
            if !indexed {
                // The rules refuse such a block: a quorum finalized what no honest validator
                // verifies. Nothing to index; the chain goes on.
                warn!(
                    height = height.get(),
                    namespace = namespace.get(),
                    "finalized block record out of order"
                );
                continue;
            }
            if !moved.contains(&namespace) {
                moved.push(namespace);
            }
        }
        let mut tips = TipChanges::new();
        for namespace in moved {
            let Some(tip) = self.records.tip(namespace) else { continue };
            tips.push((namespace, tip));
            for (number, stale) in self.mempool.take_records_through(namespace, tip.number) {
                let Some(confirmed) = self.records.get(namespace, number) else { continue };
                if confirmed.tx_hash != stale.transaction.hash() {
                    let first = FirstRecord::Confirmed {
                        height: confirmed.height,
                        tx_hash: confirmed.tx_hash,
                    };
                    self.equivocation(namespace, number, first, stale);
                }
            }
            let orphan = tip.number.checked_add(1).and_then(|next| {
                let pending = self.mempool.pending_record(namespace, next)?;
                let record = record_rules::decode(&pending.transaction.payload).ok()?;
                (record.parentHash != tip.hash).then(|| pending.transaction.hash())
            });
            if let Some(hash) = orphan {
                debug!(
                    namespace = namespace.get(),
                    "dropping a pending record with the wrong parent"
                );
                self.mempool.remove(&hash);
            }
        }
        tips.sort_by_key(|(ns, _)| *ns);
        (tips, entries)
    }
}
