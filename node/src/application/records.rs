//! The finalized block records, indexed by (namespace, number), and the equivocations seen.
//!
//! Records of a block namespace are contiguous from the first number genesis declares, so each
//! namespace keeps a vector indexed by `number - first`: a lookup is one array access at any
//! chain length. In memory (like the transaction index), rebuilt from marshal's archive when the
//! node restarts.
//!
//! An equivocation is two records the namespace's owner signed for one number. The node meets
//! the second one when it is submitted (or gossiped) while the first is confirmed or pending,
//! or when the first is finalized while the second is pending. It keeps both, signatures
//! included, at most [`MAX_EQUIVOCATIONS`] per namespace (only the owner can produce them, so
//! the bound is against a misbehaving owner, not strangers), and the actor writes each one to
//! its journal ([`super::evidence`]) so they survive restarts.

use std::collections::HashMap;

use alloy_primitives::B256;
use trestle_light_client::{
    Height, Namespace,
    abi::BlockRecord,
    records::{BlockNamespace, RecordTip},
};

use crate::block::BlockTransaction;

/// Most equivocations kept per namespace.
pub const MAX_EQUIVOCATIONS: usize = 1_000;

/// A finalized record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexedRecord {
    /// Height of the block that confirmed it.
    pub height: Height,
    /// Its transaction hash.
    pub tx_hash: B256,
    /// The rollup block's hash.
    pub hash: B256,
}

/// The record an equivocation's second record conflicts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FirstRecord {
    /// Finalized at `height` (its signature is in that block).
    Confirmed {
        /// Height of the block that confirmed it.
        height: Height,
        /// Its transaction hash.
        tx_hash: B256,
    },
    /// Pending (or pending when the conflict was seen).
    Pending(BlockTransaction),
}

/// Two records signed for one block number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Equivocation {
    /// The block number.
    pub number: u64,
    /// The record met first.
    pub first: FirstRecord,
    /// The record refused because of it.
    pub second: BlockTransaction,
}

/// One block namespace's finalized records and equivocations.
#[derive(Clone, Debug)]
struct NamespaceRecords {
    spec: BlockNamespace,
    first: u64,
    records: Vec<IndexedRecord>,
    equivocations: Vec<Equivocation>,
}

/// The index of every block namespace.
#[derive(Clone, Debug, Default)]
pub struct RecordIndex {
    namespaces: HashMap<Namespace, NamespaceRecords>,
}

impl RecordIndex {
    /// An empty index of `namespaces`.
    pub fn new<'a>(
        namespaces: impl IntoIterator<Item = (&'a Namespace, &'a BlockNamespace)>,
    ) -> Self {
        Self {
            namespaces: namespaces
                .into_iter()
                .map(|(ns, spec)| {
                    let records = NamespaceRecords {
                        spec: *spec,
                        first: spec.first,
                        records: Vec::new(),
                        equivocations: Vec::new(),
                    };
                    (*ns, records)
                })
                .collect(),
        }
    }

    /// What genesis declares of `namespace`, if it is a block namespace.
    pub fn spec(&self, namespace: Namespace) -> Option<BlockNamespace> {
        self.namespaces.get(&namespace).map(|n| n.spec)
    }

    /// The last finalized record of `namespace`.
    pub fn tip(&self, namespace: Namespace) -> Option<RecordTip> {
        let entry = self.namespaces.get(&namespace)?;
        let last = entry.records.last()?;
        let number = entry.first + (entry.records.len() as u64 - 1);
        Some(RecordTip { number, hash: last.hash })
    }

    /// Numbers of the first and last finalized records of `namespace`.
    pub fn range(&self, namespace: Namespace) -> Option<(u64, RecordTip)> {
        let entry = self.namespaces.get(&namespace)?;
        self.tip(namespace).map(|tip| (entry.first, tip))
    }

    /// The finalized record of block `number` in `namespace`.
    pub fn get(&self, namespace: Namespace, number: u64) -> Option<IndexedRecord> {
        let entry = self.namespaces.get(&namespace)?;
        let offset = usize::try_from(number.checked_sub(entry.first)?).ok()?;
        entry.records.get(offset).copied()
    }

    /// Appends a finalized record. The chain's rules made it the namespace's next; one that is
    /// not (a quorum finalized an invalid block) is refused with `false` and not indexed.
    pub fn append(
        &mut self,
        namespace: Namespace,
        record: &BlockRecord,
        height: Height,
        tx_hash: B256,
    ) -> bool {
        self.append_entry(
            namespace,
            record.number,
            IndexedRecord { height, tx_hash, hash: record.hash },
        )
    }

    /// [`RecordIndex::append`] of the record of block `number`, as indexed.
    pub fn append_entry(
        &mut self,
        namespace: Namespace,
        number: u64,
        record: IndexedRecord,
    ) -> bool {
        let next = self.tip(namespace).map(|tip| tip.number.checked_add(1));
        let Some(entry) = self.namespaces.get_mut(&namespace) else { return false };
        match next {
            None if number == entry.first => {}
            Some(Some(next)) if next == number => {}
            None | Some(_) => return false,
        }
        entry.records.push(record);
        true
    }

    /// Keeps an equivocation; `false` if it is known already or the namespace holds its
    /// maximum.
    pub fn add_equivocation(&mut self, namespace: Namespace, equivocation: Equivocation) -> bool {
        let Some(entry) = self.namespaces.get_mut(&namespace) else { return false };
        let second = equivocation.second.transaction.hash();
        let known = entry
            .equivocations
            .iter()
            .any(|e| e.number == equivocation.number && e.second.transaction.hash() == second);
        if known || entry.equivocations.len() >= MAX_EQUIVOCATIONS {
            return false;
        }
        entry.equivocations.push(equivocation);
        true
    }

    /// The equivocations kept for `namespace`, oldest first.
    pub fn equivocations(&self, namespace: Namespace) -> &[Equivocation] {
        self.namespaces.get(&namespace).map_or(&[], |n| &n.equivocations)
    }
}

#[cfg(test)]
mod tests {
    use trestle_light_client::Transaction;

    use super::*;

    const NS: Namespace = Namespace(9);

    fn record(number: u64) -> BlockRecord {
        BlockRecord {
            chainId: 901,
            number,
            hash: B256::with_last_byte(number as u8),
            parentHash: B256::with_last_byte(number as u8 - 1),
        }
    }

    #[test]
    fn indexes_contiguous_records_from_the_first() {
        let specs = [(NS, BlockNamespace { chain_id: 901, first: 5 })];
        let mut index = RecordIndex::new(specs.iter().map(|(n, s)| (n, s)));
        assert_eq!(index.tip(NS), None);
        assert!(!index.append(NS, &record(6), Height(1), B256::repeat_byte(1)), "not the first");
        assert!(index.append(NS, &record(5), Height(1), B256::repeat_byte(1)));
        assert!(index.append(NS, &record(6), Height(3), B256::repeat_byte(2)));
        assert!(!index.append(NS, &record(8), Height(4), B256::repeat_byte(3)), "a gap");
        assert!(!index.append(Namespace(1), &record(1), Height(4), B256::ZERO), "not a block ns");
        assert_eq!(index.tip(NS), Some(RecordTip { number: 6, hash: record(6).hash }));
        assert_eq!(index.get(NS, 6).map(|r| r.height), Some(Height(3)));
        assert_eq!(index.get(NS, 4), None);
        assert_eq!(index.get(NS, 7), None);
        assert_eq!(index.range(NS).map(|(first, _)| first), Some(5));

        let second = BlockTransaction::unowned(Transaction::new(NS, record(6).encode()));
        let equivocation = Equivocation {
            number: 6,
            first: FirstRecord::Confirmed { height: Height(3), tx_hash: B256::repeat_byte(2) },
            second,
        };
        assert!(index.add_equivocation(NS, equivocation.clone()));
        assert!(!index.add_equivocation(NS, equivocation), "kept once");
        assert_eq!(index.equivocations(NS).len(), 1);
    }
}
