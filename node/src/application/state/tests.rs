//! Unit tests of the chain state: proposing, verifying and finalizing without an actor.

use std::collections::BTreeMap;

use trestle_light_client::{ChainId, Namespace, PayloadTree, Transaction, epoch::ENDLESS};

use super::*;
use crate::{block::BlockLimits, block::HeaderFields, rules::test_committee};

pub(in crate::application) fn params() -> ChainParams {
    ChainParams {
        chain_id: ChainId(1),
        epoch_length: ENDLESS,
        genesis_committee: test_committee(4, 4),
        genesis_l1: trestle_light_client::rotation::L1Reference::NONE,
        stake_table: None,
        limits: BlockLimits { max_transactions: 8, max_payload: 64, max_block_payload: 256 },
        owners: BTreeMap::new(),
        block_namespaces: BTreeMap::new(),
        genesis_timestamp_ms: 0,
        min_block_interval_ms: 0,
    }
}

pub(in crate::application) fn validator() -> State {
    State::new(Config::new(params()))
}

pub(in crate::application) fn tx(payload: &[u8]) -> BlockTransaction {
    BlockTransaction::unowned(Transaction::new(Namespace(1), payload.to_vec()))
}

fn ok(verification: Verification) -> bool {
    verification == Verification::Valid
}

/// The fields an honest proposer of `view` would choose on `parent` (a block `state` knows).
fn fields_on(state: &State, parent: &Digest, view: View, now_ms: u64) -> HeaderFields {
    let parent = &state.known[parent].parent;
    rules::next_fields(
        &state.params,
        parent,
        crate::block::context_at(0, view.get()),
        now_ms,
        state.params.genesis_committee.commitment(),
        Succession::at(parent.l1),
    )
}

fn digested(block: Block) -> Digested<Block> {
    let digest = block.digest();
    Digested::precomputed(block, digest)
}

#[test]
fn proposals_verify_elsewhere_and_transactions_appear_once() {
    let mut a = validator();
    let mut b = validator();
    let genesis = a.tip;
    assert_eq!(genesis, b.tip);
    let hash = a.submit(tx(b"one")).expect("admitted");

    let one = a.propose(View(1), genesis, &[], 10).expect("built");
    assert_eq!(one.inner().transactions().len(), 1);
    assert!(ok(b.verify(View(1), &one, &[])));
    assert!(!ok(b.verify(View(2), &one, &[])), "wrong view accepted");

    // The transaction is still pending (not finalized) but is not proposed twice.
    let two = a.propose(View(2), one.digest(), &[], 20).expect("built");
    assert!(two.inner().transactions().is_empty());
    assert!(ok(b.verify(View(2), &two, &[])));

    // A block repeating it is rejected.
    let fields = fields_on(&a, &one.digest(), View(3), 30);
    let repeat = digested(Block::new(fields, one.digest(), vec![tx(b"one")]));
    assert!(!ok(b.verify(View(3), &repeat, &[])));

    // A validator that missed block one learns it from the ancestry.
    let mut c = validator();
    assert!(!ok(c.verify(View(2), &two, &[])), "unknown parent accepted");
    assert!(ok(c.verify(View(2), &two, std::slice::from_ref(&one))));

    // Finalization: resubmission refused, conflicting blocks rejected, the finalized one
    // still verifies.
    b.apply_finalized(one.inner()).expect("extends");
    assert_eq!(b.submit(tx(b"one")), Err(SubmitError::AlreadyFinalized(hash)));
    let other = a.propose(View(4), genesis, &[], 40).expect("built");
    assert!(!ok(b.verify(View(4), &other, &[])), "block conflicting with finalization accepted");
    assert!(ok(b.verify(View(1), &one, &[])));
    let fields = fields_on(&b, &one.digest(), View(5), 50);
    let repeat = digested(Block::new(fields, one.digest(), vec![tx(b"one")]));
    assert!(!ok(b.verify(View(5), &repeat, &[])), "finalized transaction included again");
}

#[test]
fn finalization_extends_history_and_emits_blocks_with_their_states() {
    let mut a = validator();
    let (sink, mut emitted) = mpsc::unbounded_channel();
    let mut config = Config::new(params());
    config.finalized = vec![sink];
    let mut b = State::new(config);
    assert_eq!(emitted.try_recv().expect("genesis emitted").state.height, Height(0));
    let mut parent = a.tip;
    let mut tree = HistoryTree::new();
    tree.append(&rules::genesis(&a.params).header_hash());
    for view in 1..=5u64 {
        let block = a.propose(View(view), parent, &[], view * 100).expect("built");
        assert!(ok(b.verify(View(view), &block, &[])));
        assert_eq!(b.apply_finalized(block.inner()), Ok(Applied::Extended));
        // Duplicates are neither applied nor emitted.
        assert_eq!(b.apply_finalized(block.inner()), Ok(Applied::Duplicate));
        tree.append(&block.inner().header_hash());
        let finalized = emitted.try_recv().expect("emitted");
        assert_eq!(finalized.block.as_ref(), Some(block.inner()));
        assert_eq!(finalized.state.height, Height(view));
        assert_eq!(finalized.state.history_root, tree.root());
        assert_eq!(finalized.state.next_committee, b.params.genesis_committee.commitment());
        parent = block.digest();
    }
    assert!(emitted.try_recv().is_err(), "duplicates were emitted");
    assert_eq!(b.finalized_height(), Height(5));
    assert_eq!(b.history.root(), tree.root());
    // Another block at a finalized height is a conflict, refused.
    let stray = a.propose(View(9), a.tip, &[], 900).expect("built");
    assert_eq!(b.apply_finalized(stray.inner()), Err(FinalizeError::Conflicting { height: 1 }));
    assert_eq!(b.finalized_height(), Height(5));
}

#[test]
fn a_finalized_block_with_a_wrong_history_root_is_refused_and_never_emitted() {
    let mut a = validator();
    let (sink, mut emitted) = mpsc::unbounded_channel();
    let mut config = Config::new(params());
    config.finalized = vec![sink];
    let mut b = State::new(config);
    let _ = emitted.try_recv();
    let honest = a.propose(View(1), a.tip, &[], 100).expect("built");
    let mut header = honest.inner().header().clone();
    header.history_root = B256::repeat_byte(0xbd);
    let forged = Block::from_parts(
        header,
        honest.inner().parent_digest(),
        honest.inner().succession().clone(),
        honest.inner().consensus_context().clone(),
        honest.inner().transactions().to_vec(),
    );
    assert_eq!(
        b.apply_finalized(&forged),
        Err(FinalizeError::WrongHistoryRoot {
            height: 1,
            expected: b.history.root(),
            found: B256::repeat_byte(0xbd),
        })
    );
    assert_eq!(b.finalized_height(), Height(0));
    assert!(emitted.try_recv().is_err(), "a state on a refused block was emitted");
    assert!(b.light_client_state(Height(1)).is_none());
    // A block on another parent is refused too.
    let other = a.propose(View(2), a.tip, &[], 200).expect("built");
    let mut header = other.inner().header().clone();
    header.height = Height(1);
    let orphan = Block::from_parts(
        header,
        Digest::from([7u8; 32]),
        Succession::default(),
        other.inner().consensus_context().clone(),
        Vec::new(),
    );
    assert_eq!(b.apply_finalized(&orphan), Err(FinalizeError::NotOnTip { height: 1 }));
    // The honest block still applies.
    assert_eq!(b.apply_finalized(honest.inner()), Ok(Applied::Extended));
}

#[test]
fn namespace_contents_prove_presence_and_absence() {
    let mut a = validator();
    for (ns, payload) in [(1u64, b"a"), (3, b"b"), (1, b"c")] {
        a.submit(BlockTransaction::unowned(Transaction::new(Namespace(ns), payload.to_vec())))
            .expect("admitted");
    }
    let block = a.propose(View(1), a.tip, &[], 10).expect("built");
    let root = block.inner().header().payload_root;
    match crate::application::namespace_contents(block.inner(), Namespace(1)) {
        Some(crate::application::NamespaceContents::Present { proof, transactions }) => {
            assert_eq!(transactions.len(), 2);
            let txs: Vec<_> = transactions.iter().map(|t| t.transaction.clone()).collect();
            proof.verify_complete(&txs, &root).expect("complete namespace proof");
        }
        other => panic!("namespace 1 not present: {other:?}"),
    }
    for absent in [0u64, 2, 4, u64::MAX] {
        match crate::application::namespace_contents(block.inner(), Namespace(absent)) {
            Some(crate::application::NamespaceContents::Absent(proof)) => {
                proof.verify(Namespace(absent), &root).expect("absence proof");
            }
            other => panic!("namespace {absent} not absent: {other:?}"),
        }
    }
    // A transaction proof by hash, as the mailbox builds it.
    let wanted = block.inner().transactions()[1].transaction.clone();
    let proof = PayloadTree::new(block.inner().transactions().iter().map(|t| &t.transaction))
        .transaction_proof_by_hash(&wanted.hash())
        .expect("proof");
    proof.verify(&wanted, &root).expect("transaction proof");
}
