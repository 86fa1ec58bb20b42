//! Rollup block records (DESIGN §4): the rule that makes "block N of rollup R is H" unique.
//!
//! In hybrid mode a rollup keeps its sequencer and posts every block as a [`BlockRecord`]
//! transaction into its *block namespace*, declared in genesis with the rollup's chain id and
//! owned by the sequencer's key. Validators accept a record only if it extends the namespace's
//! chain of records: the rollup's chain id, the number right after the last record's (for the
//! first one, the number genesis declares), and the last record's hash as its parent. So once
//! finalized, a number has exactly one record, and a settlement contract can trust "block N is H"
//! after one inclusion proof.
//!
//! Genesis pins the first number rather than letting the first record to be finalized choose it:
//! records travel to the proposer by gossip and may arrive out of order, and a namespace that
//! started at whichever record a proposer met first would make every lower number unconfirmable
//! for ever. A record ahead of the next number is *early* ([`RecordError::is_early`]): it waits
//! in the mempool for the ones between.
//!
//! Everything here is pure: the caller supplies the namespace's [`RecordTip`] (the last record
//! accepted on the branch it builds or verifies) and learns the new tip. Two different records
//! signed by the owner for one number are an *equivocation*: the chain keeps at most one of
//! them, and the node keeps both (signatures included) as evidence against the sequencer.

use alloy_primitives::B256;

use crate::abi::{BlockRecord, CodecError};

/// What genesis declares about a block namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BlockNamespace {
    /// The chain id of the rollup whose blocks the namespace records; every record carries it.
    pub chain_id: u64,
    /// The number of the namespace's first record (0: the rollup's genesis block). Lower
    /// numbers are never recorded.
    pub first: u64,
}

/// The last record of a block namespace on some branch of the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecordTip {
    /// Its block number.
    pub number: u64,
    /// Its block hash: the next record's parent.
    pub hash: B256,
}

impl RecordTip {
    /// The tip a record leaves behind once accepted.
    pub fn of(record: &BlockRecord) -> Self {
        Self { number: record.number, hash: record.hash }
    }
}

/// Why a record does not extend its namespace's chain of records.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The payload is not the canonical encoding of a [`BlockRecord`].
    #[error("not a block record: {0}")]
    Malformed(CodecError),
    /// The record names another rollup than the one the namespace records.
    #[error("record of chain {found} in the block namespace of chain {expected}")]
    WrongChain {
        /// The namespace's rollup.
        expected: u64,
        /// The record's chain id.
        found: u64,
    },
    /// The number already has a record on this branch (equal or conflicting).
    #[error("block {number} already has a record (the namespace's last is {tip})")]
    Taken {
        /// The record's number.
        number: u64,
        /// The number of the namespace's last record.
        tip: u64,
    },
    /// The number is below the namespace's first, which genesis declares: it is never recorded.
    #[error("block {found} is before the namespace's first record, block {first}")]
    BeforeFirst {
        /// The namespace's first number.
        first: u64,
        /// The record's number.
        found: u64,
    },
    /// The number skips ahead of the next one.
    #[error("block {found} skips ahead: the next record is block {expected}")]
    Gap {
        /// The next number.
        expected: u64,
        /// The record's number.
        found: u64,
    },
    /// The parent is not the previous record's hash.
    #[error("block {number} names parent {found}, the record of block {} is {expected}", number - 1)]
    WrongParent {
        /// The record's number.
        number: u64,
        /// The previous record's hash.
        expected: B256,
        /// The record's parent hash.
        found: B256,
    },
    /// The number after the previous record does not exist (the previous one is `u64::MAX`).
    #[error("no block follows number {0}")]
    Exhausted(u64),
}

impl RecordError {
    /// Whether the record may become acceptable on a longer branch (it is ahead of the tip);
    /// every other error is final for this branch.
    pub fn is_early(&self) -> bool {
        matches!(self, Self::Gap { .. })
    }
}

/// Decodes a block namespace's transaction payload.
pub fn decode(payload: &[u8]) -> Result<BlockRecord, RecordError> {
    BlockRecord::decode(payload).map_err(RecordError::Malformed)
}

/// Checks that `record` extends the namespace's records, whose last is `tip` (`None`: the
/// namespace has none yet, so the next is the first that genesis declares); returns the new tip.
pub fn check_extends(
    namespace: &BlockNamespace,
    tip: Option<&RecordTip>,
    record: &BlockRecord,
) -> Result<RecordTip, RecordError> {
    if record.chainId != namespace.chain_id {
        return Err(RecordError::WrongChain {
            expected: namespace.chain_id,
            found: record.chainId,
        });
    }
    if record.number < namespace.first {
        return Err(RecordError::BeforeFirst { first: namespace.first, found: record.number });
    }
    let Some(tip) = tip else {
        if record.number > namespace.first {
            return Err(RecordError::Gap { expected: namespace.first, found: record.number });
        }
        // The first record's parent is the rollup block before it, which no record names.
        return Ok(RecordTip::of(record));
    };
    let next = tip.number.checked_add(1).ok_or(RecordError::Exhausted(tip.number))?;
    if record.number < next {
        return Err(RecordError::Taken { number: record.number, tip: tip.number });
    }
    if record.number > next {
        return Err(RecordError::Gap { expected: next, found: record.number });
    }
    if record.parentHash != tip.hash {
        return Err(RecordError::WrongParent {
            number: record.number,
            expected: tip.hash,
            found: record.parentHash,
        });
    }
    Ok(RecordTip::of(record))
}

/// Whether two records, both signed by a namespace's owner, prove that it equivocated: the
/// same rollup and number, different contents.
pub fn conflict(a: &BlockRecord, b: &BlockRecord) -> bool {
    a.chainId == b.chainId && a.number == b.number && a != b
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLLUP: BlockNamespace = BlockNamespace { chain_id: 901, first: 5 };

    fn record(number: u64, parent: u8, hash: u8) -> BlockRecord {
        BlockRecord {
            chainId: 901,
            number,
            hash: B256::repeat_byte(hash),
            parentHash: B256::repeat_byte(parent),
        }
    }

    #[test]
    fn records_chain_from_the_first_one() {
        // The first record names any parent: no record holds the block before it.
        let first = record(5, 0, 5);
        let tip = check_extends(&ROLLUP, None, &first).expect("the declared first number");
        assert_eq!(tip, RecordTip { number: 5, hash: B256::repeat_byte(5) });
        let next = check_extends(&ROLLUP, Some(&tip), &record(6, 5, 6)).expect("extends");
        assert_eq!(next.number, 6);
    }

    #[test]
    fn the_first_record_is_the_number_genesis_declares_whatever_arrives_first() {
        // A later record met before the first waits for it, rather than starting the chain
        // there and leaving the numbers below unconfirmable.
        let early = check_extends(&ROLLUP, None, &record(6, 5, 6));
        assert_eq!(early, Err(RecordError::Gap { expected: 5, found: 6 }));
        assert!(early.expect_err("early").is_early());
        for tip in [None, Some(RecordTip { number: 7, hash: B256::repeat_byte(7) })] {
            let before = check_extends(&ROLLUP, tip.as_ref(), &record(4, 3, 4));
            assert_eq!(before, Err(RecordError::BeforeFirst { first: 5, found: 4 }));
            assert!(!before.expect_err("before the first").is_early());
        }
        let from_zero = BlockNamespace { chain_id: 901, first: 0 };
        assert!(check_extends(&from_zero, None, &record(0, 0, 1)).is_ok());
        assert!(check_extends(&from_zero, None, &record(1, 0, 1)).is_err());
    }

    #[test]
    fn every_break_of_the_chain_is_refused_with_its_reason() {
        let tip = RecordTip { number: 7, hash: B256::repeat_byte(7) };
        let other_chain = BlockRecord { chainId: 902, ..record(8, 7, 8) };
        assert_eq!(
            check_extends(&ROLLUP, Some(&tip), &other_chain),
            Err(RecordError::WrongChain { expected: 901, found: 902 })
        );
        assert_eq!(
            check_extends(&ROLLUP, None, &other_chain),
            Err(RecordError::WrongChain { expected: 901, found: 902 })
        );
        assert_eq!(
            check_extends(&ROLLUP, Some(&tip), &record(7, 6, 9)),
            Err(RecordError::Taken { number: 7, tip: 7 })
        );
        assert_eq!(
            check_extends(&ROLLUP, Some(&tip), &record(6, 5, 6)),
            Err(RecordError::Taken { number: 6, tip: 7 })
        );
        let gap = check_extends(&ROLLUP, Some(&tip), &record(9, 8, 9));
        assert_eq!(gap, Err(RecordError::Gap { expected: 8, found: 9 }));
        assert!(gap.expect_err("a gap").is_early());
        let parent = check_extends(&ROLLUP, Some(&tip), &record(8, 6, 8));
        assert_eq!(
            parent,
            Err(RecordError::WrongParent {
                number: 8,
                expected: B256::repeat_byte(7),
                found: B256::repeat_byte(6)
            })
        );
        assert!(!parent.expect_err("a wrong parent").is_early());
        let last = RecordTip { number: u64::MAX, hash: B256::ZERO };
        assert_eq!(
            check_extends(&ROLLUP, Some(&last), &record(u64::MAX, 0, 1)),
            Err(RecordError::Exhausted(u64::MAX))
        );
    }

    #[test]
    fn conflicts_are_same_number_different_contents() {
        assert!(conflict(&record(5, 4, 5), &record(5, 4, 6)));
        assert!(conflict(&record(5, 4, 5), &record(5, 3, 5)));
        assert!(!conflict(&record(5, 4, 5), &record(5, 4, 5)));
        assert!(!conflict(&record(5, 4, 5), &record(6, 5, 6)));
        let other = BlockRecord { chainId: 902, ..record(5, 4, 6) };
        assert!(!conflict(&record(5, 4, 5), &other));
    }

    #[test]
    fn decode_refuses_anything_but_a_canonical_record() {
        let bytes = record(1, 0, 1).encode();
        assert_eq!(decode(&bytes), Ok(record(1, 0, 1)));
        assert!(matches!(decode(&bytes[..100]), Err(RecordError::Malformed(_))));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(decode(&longer), Err(RecordError::Malformed(_))));
    }
}
