//! Block records in blocks (DESIGN §4), as pure functions: the kernel's rule
//! ([`trestle_light_client::records`]) applied to a block's transactions in order, and to a
//! proposer's selection.
//!
//! A block namespace's *tip on a branch* is its last record in the finalized chain or in the
//! unfinalized blocks up to the branch's head; the caller supplies it (`tip_of`). Records
//! within one block chain from each other in block order, so a block may carry many records of
//! one rollup.

use std::collections::{BTreeMap, HashMap};

use trestle_light_client::{
    Namespace,
    records::{self, BlockNamespace, RecordError, RecordTip},
};

use crate::block::BlockTransaction;

/// The block namespaces of a network, with the rollup each records.
pub type BlockNamespaces = BTreeMap<Namespace, BlockNamespace>;

/// The tips a block leaves behind, for the block namespaces it touches.
pub type TipChanges = Vec<(Namespace, RecordTip)>;

/// Checks every record of `transactions` (in block order) against the tips of the branch they
/// extend; returns the first offending transaction's index and reason, or the tips the block
/// leaves.
pub fn check_records(
    namespaces: &BlockNamespaces,
    transactions: &[BlockTransaction],
    tip_of: impl Fn(Namespace) -> Option<RecordTip>,
) -> Result<TipChanges, (usize, RecordError)> {
    let mut tracker = Tracker::new(namespaces, tip_of);
    for (index, tx) in transactions.iter().enumerate() {
        tracker.extend(tx).map_err(|reason| (index, reason))?;
    }
    Ok(tracker.changes())
}

/// Follows the tips of block namespaces through a sequence of transactions: what a verifier
/// runs over a block and a proposer over its candidates.
pub struct Tracker<'a, F> {
    namespaces: &'a BlockNamespaces,
    tip_of: F,
    /// Tips moved so far (`None` inside: the namespace has no record on the branch yet).
    tips: HashMap<Namespace, Option<RecordTip>>,
    /// Records met ahead of their namespace's next number ([`Tracker::extend_or_defer`]), with
    /// their numbers.
    deferred: Vec<(u64, BlockTransaction)>,
}

impl<'a, F: Fn(Namespace) -> Option<RecordTip>> Tracker<'a, F> {
    /// A tracker over the branch whose tips `tip_of` gives.
    pub fn new(namespaces: &'a BlockNamespaces, tip_of: F) -> Self {
        Self { namespaces, tip_of, tips: HashMap::new(), deferred: Vec::new() }
    }

    /// [`Tracker::extend`] for a proposer: whether `tx` goes in now. A record ahead of its
    /// namespace's next number is kept for [`Tracker::deferred_that_fit`], since the records
    /// between may come later in the selection (gossip delivers them in any order).
    pub fn extend_or_defer(&mut self, tx: &BlockTransaction) -> bool {
        match self.extend(tx) {
            Ok(()) => true,
            Err(RecordError::Gap { found, .. }) => {
                self.deferred.push((found, tx.clone()));
                false
            }
            Err(_) => false,
        }
    }

    /// The deferred records that extend their namespaces once the selection is done, in number
    /// order, as far as the block's limits allow beside `selected`; the tips move past them.
    pub fn deferred_that_fit(
        &mut self,
        selected: &[BlockTransaction],
        max_transactions: usize,
        max_bytes: usize,
    ) -> Vec<BlockTransaction> {
        let mut deferred = std::mem::take(&mut self.deferred);
        if deferred.is_empty() {
            // The usual proposal: nothing met early, so the selection's size is not needed.
            return Vec::new();
        }
        deferred.sort_by_key(|(number, _)| *number);
        let mut count = selected.len();
        let mut bytes: usize = selected.iter().map(|tx| tx.transaction.payload.len()).sum();
        let mut taken = Vec::new();
        for (_, tx) in deferred {
            let len = tx.transaction.payload.len();
            if count >= max_transactions || bytes.saturating_add(len) > max_bytes {
                break;
            }
            if self.extend(&tx).is_ok() {
                count += 1;
                bytes += len;
                taken.push(tx);
            }
        }
        taken
    }

    /// Whether `tx` is in a block namespace.
    pub fn is_record(&self, tx: &BlockTransaction) -> bool {
        self.namespaces.contains_key(&tx.transaction.namespace)
    }

    /// Checks `tx` and, if it is a record that extends its namespace, moves the tip. A
    /// transaction outside block namespaces passes unchanged.
    pub fn extend(&mut self, tx: &BlockTransaction) -> Result<(), RecordError> {
        let namespace = tx.transaction.namespace;
        let Some(spec) = self.namespaces.get(&namespace) else { return Ok(()) };
        let record = records::decode(&tx.transaction.payload)?;
        let tip_of = &self.tip_of;
        let tip = self.tips.entry(namespace).or_insert_with(|| tip_of(namespace));
        *tip = Some(records::check_extends(spec, tip.as_ref(), &record)?);
        Ok(())
    }

    /// The tips moved, by namespace.
    pub fn changes(self) -> TipChanges {
        let mut changes: TipChanges =
            self.tips.into_iter().filter_map(|(ns, tip)| tip.map(|tip| (ns, tip))).collect();
        changes.sort_by_key(|(ns, _)| *ns);
        changes
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::B256;
    use trestle_light_client::{Transaction, abi::BlockRecord};

    use super::*;

    const NS: Namespace = Namespace(7);

    fn namespaces() -> BlockNamespaces {
        BTreeMap::from([(NS, BlockNamespace { chain_id: 901, first: 0 })])
    }

    fn record_tx(number: u64, parent: u8, hash: u8) -> BlockTransaction {
        let record = BlockRecord {
            chainId: 901,
            number,
            hash: B256::repeat_byte(hash),
            parentHash: B256::repeat_byte(parent),
        };
        BlockTransaction::unowned(Transaction::new(NS, record.encode()))
    }

    #[test]
    fn records_chain_within_a_block_and_from_the_branch_tip() {
        let tip = RecordTip { number: 4, hash: B256::repeat_byte(4) };
        let other = BlockTransaction::unowned(Transaction::new(Namespace(1), b"x".to_vec()));
        let txs = [record_tx(5, 4, 5), other, record_tx(6, 5, 6)];
        let changes = check_records(&namespaces(), &txs, |_| Some(tip)).expect("valid");
        assert_eq!(changes, vec![(NS, RecordTip { number: 6, hash: B256::repeat_byte(6) })]);
        // Out of order inside the block, a repeat, a gap: refused at the offending index.
        let swapped = [record_tx(6, 5, 6), record_tx(5, 4, 5)];
        assert!(matches!(
            check_records(&namespaces(), &swapped, |_| Some(tip)),
            Err((0, RecordError::Gap { expected: 5, found: 6 }))
        ));
        let twice = [record_tx(5, 4, 5), record_tx(5, 4, 9)];
        assert!(matches!(
            check_records(&namespaces(), &twice, |_| Some(tip)),
            Err((1, RecordError::Taken { number: 5, tip: 5 }))
        ));
        let junk = BlockTransaction::unowned(Transaction::new(NS, b"not a record".to_vec()));
        assert!(matches!(
            check_records(&namespaces(), &[junk], |_| Some(tip)),
            Err((0, RecordError::Malformed(_)))
        ));
        // A proposer defers a record met ahead of its turn and takes it after the selection,
        // in number order and within the block's limits.
        let (five, six, seven) = (record_tx(5, 4, 5), record_tx(6, 5, 6), record_tx(7, 6, 7));
        let specs = namespaces();
        let proposing = |max_transactions: usize, max_bytes: usize| {
            let mut tracker = Tracker::new(&specs, |_| Some(tip));
            assert!(!tracker.extend_or_defer(&seven) && !tracker.extend_or_defer(&six));
            assert!(tracker.extend_or_defer(&five));
            let selected = [five.clone()];
            let taken = tracker.deferred_that_fit(&selected, max_transactions, max_bytes);
            (taken, tracker.changes())
        };
        let (taken, changes) = proposing(8, usize::MAX);
        assert_eq!(taken, vec![six.clone(), seven.clone()]);
        assert_eq!(changes[0].1.number, 7);
        let (taken, changes) = proposing(2, usize::MAX);
        assert_eq!((taken, changes[0].1.number), (vec![six.clone()], 6));
        let (taken, _) = proposing(8, 2 * five.transaction.payload.len() - 1);
        assert!(taken.is_empty(), "no room for another record");
        // The first record of a namespace is the number genesis declares (0 here).
        let changes = check_records(&namespaces(), &[record_tx(0, 1, 2)], |_| None).expect("ok");
        assert_eq!(changes[0].1.number, 0);
        assert!(matches!(
            check_records(&namespaces(), &[record_tx(100, 1, 2)], |_| None),
            Err((0, RecordError::Gap { expected: 0, found: 100 }))
        ));
    }
}
