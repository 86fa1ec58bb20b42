//! Block records through the chain state: admission, proposals, verification of Byzantine
//! blocks, the finalized index and equivocations.

use std::collections::BTreeMap;

use commonware_cryptography::{Signer as _, ed25519};
use trestle_api::authorization::authorize;
use trestle_light_client::{
    Namespace, PayloadTree, Transaction, abi::BlockRecord, records::BlockNamespace,
};

use super::{tests::params, *};
use crate::block::HeaderFields;

const NS: Namespace = Namespace(1_901);

fn owner() -> ed25519::PrivateKey {
    ed25519::PrivateKey::from_seed(77)
}

fn validator() -> State {
    let mut params = params();
    params.owners = BTreeMap::from([(NS, owner().public_key())]);
    params.block_namespaces = BTreeMap::from([(NS, BlockNamespace { chain_id: 901, first: 1 })]);
    params.limits = crate::block::BlockLimits {
        max_transactions: 8,
        max_payload: 256,
        max_block_payload: 2_048,
    };
    State::new(Config::new(params))
}

/// Block `number` of the test rollup: hash `number`, parent `number - 1` (`fork` changes the
/// hash, making a conflicting record).
fn record(number: u64, fork: u8) -> BlockRecord {
    let hash = |n: u64, fork: u8| {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&n.to_be_bytes());
        bytes[31] = fork;
        B256::from(bytes)
    };
    BlockRecord {
        chainId: 901,
        number,
        hash: hash(number, fork),
        parentHash: hash(number.saturating_sub(1), 0),
    }
}

fn signed(record: &BlockRecord) -> BlockTransaction {
    let transaction = Transaction::new(NS, record.encode());
    let authorization = authorize(&owner(), &transaction);
    BlockTransaction { transaction, authorization: Some(authorization) }
}

fn numbers(block: &Digested<Block>) -> Vec<u64> {
    block
        .inner()
        .transactions()
        .iter()
        .filter(|t| t.transaction.namespace == NS)
        .map(|t| BlockRecord::decode(&t.transaction.payload).expect("record").number)
        .collect()
}

/// A block on `parent` carrying `transactions`, with honest header fields.
fn block_with(
    state: &State,
    parent: Digest,
    view: u64,
    txs: Vec<BlockTransaction>,
) -> Digested<Block> {
    let parent_entry = &state.known[&parent].parent;
    let mut fields: HeaderFields = rules::next_fields(
        &state.params,
        parent_entry,
        crate::block::context_at(0, view),
        view * 100,
        state.params.genesis_committee.commitment(),
        Succession::at(parent_entry.l1),
    );
    fields.chain_id = state.params.chain_id;
    let block = Block::new(fields, parent, txs);
    let digest = block.digest();
    Digested::precomputed(block, digest)
}

#[test]
fn records_are_proposed_in_order_and_indexed_when_finalized() {
    let mut a = validator();
    let mut b = validator();
    // Arrival order 1, 3, 2: the proposer defers 3 (it skips ahead) until 2 is in: one block.
    for n in [1, 3, 2] {
        a.submit(signed(&record(n, 0))).expect("admitted");
    }
    let one = a.propose(View(1), a.tip, &[], 10).expect("built");
    assert_eq!(numbers(&one), vec![1, 2, 3]);
    assert_eq!(b.verify(View(1), &one, &[]), Verification::Valid);
    a.submit(signed(&record(4, 0))).expect("admitted");
    let two = a.propose(View(2), one.digest(), &[], 20).expect("built");
    assert_eq!(numbers(&two), vec![4]);
    assert_eq!(b.verify(View(2), &two, &[]), Verification::Valid);
    for block in [&one, &two] {
        b.apply_finalized(block.inner()).expect("extends");
    }
    assert_eq!(b.records.range(NS).map(|(first, tip)| (first, tip.number)), Some((1, 4)));
    let third = b.records.get(NS, 3).expect("indexed");
    assert_eq!((third.height, third.hash), (Height(1), record(3, 0).hash));
    let fourth = b.records.get(NS, 4).expect("indexed");
    assert_eq!((fourth.height, fourth.hash), (Height(2), record(4, 0).hash));
    // A sequencer re-posting a confirmed record after a restart: harmless.
    let again = signed(&record(2, 0));
    assert_eq!(
        b.submit(again.clone()),
        Err(SubmitError::AlreadyFinalized(again.transaction.hash()))
    );
    assert!(b.records.equivocations(NS).is_empty());
}

/// The race that made a relayer resend records 0 and 1 for ever: gossip brought a later record
/// to the proposer first, and the namespace started there. The first number is genesis', so a
/// record met early waits, and a block starting anywhere else is invalid.
#[test]
fn a_record_met_before_the_first_waits_for_it() {
    let mut a = validator();
    let mut b = validator();
    a.submit(signed(&record(2, 0))).expect("admitted: it may extend the records later");
    let empty = a.propose(View(1), a.tip, &[], 10).expect("built");
    assert_eq!(numbers(&empty), Vec::<u64>::new(), "2 cannot start the namespace");
    let starting_at_two = block_with(&b, b.tip, 1, vec![signed(&record(2, 0))]);
    assert_eq!(b.verify(View(1), &starting_at_two, &[]), Verification::Invalid);
    a.submit(signed(&record(1, 0))).expect("admitted");
    // Met in the order 2, 1: 2 is deferred until 1 is in, then follows it in the same block.
    let both = a.propose(View(2), empty.digest(), &[], 20).expect("built");
    assert_eq!(numbers(&both), vec![1, 2]);
    let mut c = validator();
    c.submit(signed(&record(3, 0))).expect("admitted");
    c.submit(signed(&record(2, 0))).expect("admitted");
    c.submit(signed(&record(1, 0))).expect("admitted");
    let all = c.propose(View(1), c.tip, &[], 10).expect("built");
    assert_eq!(numbers(&all), vec![1, 2, 3], "deferred ones in number order");
    assert_eq!(b.verify(View(1), &all, &[]), Verification::Valid);
    // Below the first: never recorded, refused for good.
    assert!(matches!(
        a.submit(signed(&BlockRecord { parentHash: B256::ZERO, ..record(0, 0) })),
        Err(SubmitError::Record { reason: RecordError::BeforeFirst { first: 1, found: 0 }, .. })
    ));
}

#[test]
fn a_conflicting_record_is_refused_and_kept_as_evidence() {
    let mut a = validator();
    a.submit(signed(&record(1, 0))).expect("admitted");
    let one = a.propose(View(1), a.tip, &[], 10).expect("built");
    a.apply_finalized(one.inner()).expect("extends");
    // Against the confirmed record.
    let fork = signed(&record(1, 9));
    assert!(matches!(
        a.submit(fork.clone()),
        Err(SubmitError::ConflictingRecord { number: 1, .. })
    ));
    let kept = a.records.equivocations(NS);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].second, fork);
    assert!(matches!(kept[0].first, FirstRecord::Confirmed { height: Height(1), .. }));
    // Against a pending record.
    let pending = signed(&record(2, 0));
    a.submit(pending.clone()).expect("admitted");
    assert!(matches!(
        a.submit(signed(&record(2, 5))),
        Err(SubmitError::ConflictingRecord { number: 2, .. })
    ));
    assert_eq!(a.records.equivocations(NS)[1].first, FirstRecord::Pending(pending));
    // Unsigned, another rollup's, and the next number on a wrong parent: refused, no evidence.
    let unsigned = BlockTransaction::unowned(Transaction::new(NS, record(3, 0).encode()));
    assert_eq!(a.submit(unsigned), Err(SubmitError::MissingAuthorization(NS.get())));
    let other_chain = BlockRecord { chainId: 902, ..record(2, 0) };
    assert!(matches!(
        a.submit(signed(&other_chain)),
        Err(SubmitError::Record { reason: RecordError::WrongChain { .. }, .. })
    ));
    let orphan = BlockRecord { parentHash: B256::repeat_byte(1), ..record(2, 7) };
    assert!(matches!(
        a.submit(signed(&orphan)),
        Err(SubmitError::Record { reason: RecordError::WrongParent { .. }, .. })
    ));
    assert_eq!(a.records.equivocations(NS).len(), 2);
}

#[test]
fn a_pending_record_that_lost_to_a_finalized_one_becomes_evidence() {
    let mut a = validator();
    let mut b = validator();
    a.submit(signed(&record(1, 0))).expect("admitted");
    let loser = signed(&record(1, 4));
    b.submit(loser.clone()).expect("admitted (b has not seen the other)");
    let one = a.propose(View(1), a.tip, &[], 10).expect("built");
    assert_eq!(b.verify(View(1), &one, &[]), Verification::Valid);
    b.apply_finalized(one.inner()).expect("extends");
    assert!(!b.mempool.contains(&loser.transaction.hash()), "stale record still pending");
    let kept = b.records.equivocations(NS);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].second, loser);
}

#[test]
fn blocks_breaking_the_record_chain_are_rejected() {
    let mut a = validator();
    let mut b = validator();
    for n in 1..=2 {
        a.submit(signed(&record(n, 0))).expect("admitted");
    }
    let one = a.propose(View(1), a.tip, &[], 10).expect("built");
    assert_eq!(b.verify(View(1), &one, &[]), Verification::Valid);
    b.apply_finalized(one.inner()).expect("extends");
    let bad = [
        ("a second record for a confirmed number", vec![signed(&record(2, 3))]),
        ("a gap", vec![signed(&record(4, 0))]),
        ("a wrong parent", vec![signed(&BlockRecord { parentHash: B256::ZERO, ..record(3, 0) })]),
        ("another rollup", vec![signed(&BlockRecord { chainId: 5, ..record(3, 0) })]),
        ("two records for one number", vec![signed(&record(3, 0)), signed(&record(3, 1))]),
        ("out of order", vec![signed(&record(4, 0)), signed(&record(3, 0))]),
    ];
    for (view, (what, txs)) in (2u64..).zip(bad) {
        let block = block_with(&b, one.digest(), view, txs);
        assert_eq!(block.inner().header().payload_root, {
            PayloadTree::new(block.inner().transactions().iter().map(|t| &t.transaction)).root()
        });
        assert_eq!(b.verify(View(view), &block, &[]), Verification::Invalid, "{what} accepted");
    }
    // Across unfinalized blocks: 3 in one child, then 3 again in its child.
    let three = block_with(&b, one.digest(), 20, vec![signed(&record(3, 0))]);
    assert_eq!(b.verify(View(20), &three, &[]), Verification::Valid);
    let again = block_with(&b, three.digest(), 21, vec![signed(&record(3, 1))]);
    assert_eq!(b.verify(View(21), &again, &[]), Verification::Invalid);
    let four = block_with(&b, three.digest(), 22, vec![signed(&record(4, 0))]);
    assert_eq!(b.verify(View(22), &four, &[]), Verification::Valid);
    // A sibling branch does not see the other branch's record.
    let sibling = block_with(&b, one.digest(), 23, vec![signed(&record(3, 2))]);
    assert_eq!(b.verify(View(23), &sibling, &[]), Verification::Valid);
}
