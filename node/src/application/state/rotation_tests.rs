//! Committee rotation in the chain state: the epoch's last block names the committee the stake
//! table at its L1 reference yields, verifiers recompute it from their own L1 view (waiting
//! while it lags), lies about L1 are refused, and an L1 nobody could read carries the committee
//! forward.

use std::sync::Arc;

use commonware_codec::Encode as _;
use commonware_cryptography::Signer as _;
use trestle_api::ValidatorKeys;
use trestle_light_client::{
    ChainId, Epoch,
    rotation::{CommitteeRecord, CommitteeSeat, L1Reference},
};

use super::*;
use crate::{
    block::BlockLimits,
    l1::{
        L1Source as _,
        scripted::{ScriptedL1, TEST_STAKE_TABLE, registered, test_account},
    },
};

/// Validator `i`'s keys: the same labelled test seeds as `testing::test_keys` (which this
/// module cannot import: `testing` builds on `application`).
fn test_keys(i: usize) -> ValidatorKeys {
    ValidatorKeys {
        consensus: commonware_cryptography::ed25519::PrivateKey::from_seed(i as u64),
        light_client: trestle_light_client::SecretKey::from_seed([(i as u8).wrapping_add(1); 32]),
    }
}

const EPOCH: u64 = 4;

fn member(keys: &ValidatorKeys) -> CommitteeSeat {
    CommitteeSeat {
        consensus_key: B256::from_slice(&keys.consensus.public_key().encode()),
        light_client_key: *keys.light_client.public_key(),
        p2p_address: None,
    }
}

fn params() -> ChainParams {
    let genesis = (0..4).map(|i| member(&test_keys(i))).collect();
    ChainParams {
        chain_id: ChainId(1),
        epoch_length: std::num::NonZeroU64::new(EPOCH).expect("non-zero"),
        genesis_committee: Arc::new(CommitteeRecord::new(genesis, 8).expect("valid")),
        genesis_l1: L1Reference::NONE,
        stake_table: Some(TEST_STAKE_TABLE),
        limits: BlockLimits { max_transactions: 8, max_payload: 64, max_block_payload: 256 },
        owners: std::collections::BTreeMap::new(),
        block_namespaces: std::collections::BTreeMap::new(),
        genesis_timestamp_ms: 0,
        min_block_interval_ms: 0,
    }
}

/// A validator whose L1 view is `view`.
fn validator(view: &L1View) -> State {
    let mut config = Config::new(params());
    config.l1 = view.clone();
    State::new(config)
}

/// Extends `view` with every block of `l1` it lacks.
fn feed(view: &L1View, l1: &ScriptedL1) {
    let mut source = l1.clone();
    let blocks = futures::executor::block_on(source.blocks(view.next_number(), 1_000))
        .expect("the scripted L1 answers");
    for block in blocks {
        view.extend(block).expect("a scripted block extends the view");
    }
}

/// An L1 where validators 0..6 registered at block 1, validator `i` with stake 100 + i.
fn l1_with_six() -> ScriptedL1 {
    let l1 = ScriptedL1::new();
    l1.push(Vec::new());
    l1.push(
        (0..6)
            .map(|i| {
                let address = format!("10.0.0.{i}:3000");
                registered(
                    &TEST_STAKE_TABLE,
                    &test_keys(i),
                    test_account(i),
                    &address,
                    100 + i as u128,
                )
            })
            .collect(),
    );
    l1.advance(2);
    l1
}

/// `block` with another succession (everything else as it was).
fn with_succession(block: &Block, succession: Succession) -> Digested<Block> {
    let block = Block::from_parts(
        block.header().clone(),
        block.parent_digest(),
        succession,
        block.consensus_context().clone(),
        block.transactions().to_vec(),
    );
    let digest = block.digest();
    Digested::precomputed(block, digest)
}

fn verdict(state: &mut State, view: u64, block: &Digested<Block>) -> Verification {
    state.verify(View(view), block, &[])
}

/// Builds heights 1..=`up_to` on `proposer`, each verified by `verifier` and finalized on both.
fn build(proposer: &mut State, verifier: &mut State, up_to: u64) -> Vec<Digested<Block>> {
    let mut blocks = Vec::new();
    for height in proposer.finalized_height().get() + 1..=up_to {
        let block = proposer.propose(View(height), proposer.tip, &[], height * 10).expect("built");
        assert_eq!(verdict(verifier, height, &block), Verification::Valid, "height {height}");
        proposer.apply_finalized(block.inner()).expect("extends");
        verifier.apply_finalized(block.inner()).expect("extends");
        blocks.push(block);
    }
    blocks
}

#[test]
fn the_last_block_names_the_stake_tables_committee_and_it_signs_two_epochs_on() {
    let l1 = l1_with_six();
    let (view_a, view_b) = (L1View::new(0, 64), L1View::new(0, 64));
    feed(&view_a, &l1);
    feed(&view_b, &l1);
    let (mut a, mut b) = (validator(&view_a), validator(&view_b));
    let genesis = a.params.genesis_committee.clone();

    let blocks = build(&mut a, &mut b, EPOCH - 1);
    let last = blocks.last().expect("built").inner();
    assert_eq!(last.succession().l1, l1.head().expect("head"), "the newest L1 block is named");
    let next = last.succession().next_committee.clone().expect("the last block names one");
    // Six eligible, ranked by stake: validators 5, 4, …, 0.
    let expected: Vec<_> = (0..6).rev().map(|i| member(&test_keys(i)).consensus_key).collect();
    let got: Vec<_> = next.members().iter().map(|m| m.consensus_key).collect();
    assert_eq!(got, expected);
    assert_eq!(next.members()[0].p2p_address, Some("10.0.0.5:3000".parse().expect("addr")));
    assert!(
        blocks[..blocks.len() - 1].iter().all(|b| b.inner().succession().next_committee.is_none())
    );

    // Epochs 0 and 1 stay the genesis committee's; epoch 2 is the table's.
    assert_eq!(b.committees.get(Epoch(1)), Some(&genesis));
    assert_eq!(b.committees.get(Epoch(2)).map(|c| c.commitment()), Some(next.commitment()));
    let state = b.light_client_state(Height(EPOCH - 1)).expect("finalized");
    assert_eq!(state.next_committee, genesis.commitment(), "epoch 0 hands over to epoch 1");

    // Through epoch 1: its blocks carry the genesis committee, its last state names epoch 2's.
    let blocks = build(&mut a, &mut b, 2 * EPOCH);
    assert_eq!(blocks[0].inner().header().epoch, Epoch(1));
    assert_eq!(blocks[0].inner().header().committee, genesis.commitment());
    let handover = b.light_client_state(Height(2 * EPOCH - 1)).expect("finalized");
    assert_eq!(handover.next_committee, next.commitment());
    let first_of_two = blocks.last().expect("built").inner();
    assert_eq!(first_of_two.header().epoch, Epoch(2));
    assert_eq!(first_of_two.header().committee, next.commitment());
}

#[test]
fn a_lagging_view_waits_and_a_lie_about_l1_is_refused() {
    let l1 = l1_with_six();
    let (view_a, lagging) = (L1View::new(0, 64), L1View::new(0, 64));
    feed(&view_a, &l1);
    let mut a = validator(&view_a);
    let mut b = validator(&lagging);
    let block = a.propose(View(1), a.tip, &[], 10).expect("built");
    assert_eq!(verdict(&mut b, 1, &block), Verification::Later, "a lagging view waits");
    feed(&lagging, &l1);
    assert_eq!(verdict(&mut b, 1, &block), Verification::Valid);

    // The same block naming an L1 hash that is not on L1 at that number.
    let mut fork = block.inner().succession().clone();
    fork.l1.hash = B256::repeat_byte(0x66);
    let forged = with_succession(block.inner(), fork);
    let mut c = validator(&lagging);
    assert_eq!(verdict(&mut c, 1, &forged), Verification::Invalid);
    // A reference beyond L1's head is only early: it waits, it is not voted for.
    let mut ahead = block.inner().succession().clone();
    ahead.l1 = L1Reference { number: 99, hash: ScriptedL1::hash_of(99) };
    let early = with_succession(block.inner(), ahead);
    assert_eq!(verdict(&mut c, 1, &early), Verification::Later);
}

/// The last block of epoch 0 from `proposer`, rebuilt with `succession`.
fn last_with(
    proposer: &mut State,
    verifier: &mut State,
    succession: Succession,
) -> Digested<Block> {
    build(proposer, verifier, EPOCH - 2);
    let honest = proposer.propose(View(EPOCH - 1), proposer.tip, &[], 100).expect("built");
    with_succession(honest.inner(), succession)
}

#[test]
fn a_wrong_or_missing_next_committee_is_refused() {
    let l1 = l1_with_six();
    let (view_a, view_b) = (L1View::new(0, 64), L1View::new(0, 64));
    feed(&view_a, &l1);
    feed(&view_b, &l1);
    let head = l1.head().expect("head");
    let genesis = params().genesis_committee;
    // Carrying the genesis committee forward although the reference moved.
    let (mut a, mut b) = (validator(&view_a), validator(&view_b));
    let stale = last_with(&mut a, &mut b, Succession { l1: head, next_committee: Some(genesis) });
    assert_eq!(verdict(&mut b, EPOCH - 1, &stale), Verification::Invalid);
    // No committee at all.
    let (mut a, mut b) = (validator(&view_a), validator(&view_b));
    let missing = last_with(&mut a, &mut b, Succession::at(head));
    assert_eq!(verdict(&mut b, EPOCH - 1, &missing), Verification::Invalid);
    // A committee in a block that does not end its epoch.
    let (mut a, mut b) = (validator(&view_a), validator(&view_b));
    build(&mut a, &mut b, 1);
    let honest = a.propose(View(2), a.tip, &[], 20).expect("built");
    let named = Succession { l1: head, next_committee: Some(params().genesis_committee) };
    let early = with_succession(honest.inner(), named);
    assert_eq!(verdict(&mut b, 2, &early), Verification::Invalid);
}

#[test]
fn an_l1_nobody_could_read_carries_the_committee_forward() {
    let l1 = l1_with_six();
    // The proposer's L1 was down for the whole epoch: its view is empty.
    let (down, up) = (L1View::new(0, 64), L1View::new(0, 64));
    feed(&up, &l1);
    let (mut a, mut b) = (validator(&down), validator(&up));
    let blocks = build(&mut a, &mut b, EPOCH - 1);
    let last = blocks.last().expect("built").inner();
    assert_eq!(last.succession().l1, L1Reference::NONE);
    let next = last.succession().next_committee.clone().expect("named");
    assert_eq!(next, params().genesis_committee, "carried forward, and accepted by a live view");
    assert_eq!(b.committees.get(Epoch(2)), Some(&next));
}

/// The index a verifier kept (`start_indexing`) restores a fresh state to the same chain,
/// committees included; the next block verifies on it, and only epoch ends and the tail
/// reach the sinks.
#[test]
fn a_state_restored_from_the_index_is_the_state_that_applied_the_blocks() {
    let l1 = l1_with_six();
    let views = [L1View::new(0, 64), L1View::new(0, 64), L1View::new(0, 64)];
    for view in &views {
        feed(view, &l1);
    }
    let (mut a, mut b) = (validator(&views[0]), validator(&views[1]));
    b.start_indexing();
    let mut submitted = Vec::new();
    for i in 0..6u8 {
        let tx = BlockTransaction::unowned(trestle_light_client::Transaction::new(
            Namespace(1),
            vec![i],
        ));
        submitted.push((a.submit(tx.clone()).expect("admitted"), tx));
    }
    build(&mut a, &mut b, 2 * EPOCH + 1);
    let entries = b.take_unindexed();
    assert_eq!(entries.len() as u64, 2 * EPOCH + 1);
    assert!(b.take_unindexed().is_empty(), "taken once");

    let (sink, mut sent) = mpsc::unbounded_channel();
    let mut config = Config::new(params());
    config.l1 = views[2].clone();
    config.finalized = vec![sink];
    let mut c = State::new(config);
    assert_eq!(sent.try_recv().expect("genesis").header.height, Height(0));

    // Entries that do not chain end the usable prefix.
    let mut relinked = entries.clone();
    relinked[3].parent_digest = relinked[1].digest;
    assert_eq!(c.chaining_prefix(&relinked), 3);
    let mut unnamed = entries.clone();
    // entries[i] is height i + 1: the epoch's last block is entries[EPOCH - 2].
    unnamed[EPOCH as usize - 2].succession.next_committee = None;
    assert_eq!(c.chaining_prefix(&unnamed), EPOCH as usize - 2);
    let mut reheaded = entries.clone();
    reheaded[5].header.parent = B256::repeat_byte(0xee);
    assert_eq!(c.chaining_prefix(&reheaded), 5);
    assert_eq!(c.chaining_prefix(&entries[1..]), 0, "does not start at height 1");
    assert_eq!(c.chaining_prefix(&entries), entries.len());

    c.restore(&entries, 2);
    assert_eq!(c.headers, b.headers);
    assert_eq!(c.history, b.history);
    assert_eq!(c.frontier.root(), b.frontier.root());
    assert_eq!(c.finalized, b.finalized);
    assert_eq!(c.finalized_txs, b.finalized_txs);
    assert_eq!(c.header_heights, b.header_heights);
    assert_eq!(c.header_heights.len(), c.finalized.len());
    assert_eq!(c.tip, b.tip);
    for epoch in 0..=4 {
        assert_eq!(c.committees.get(Epoch(epoch)), b.committees.get(Epoch(epoch)), "{epoch}");
    }
    for height in 0..=2 * EPOCH + 1 {
        assert_eq!(c.light_client_state(Height(height)), b.light_client_state(Height(height)));
    }
    assert_eq!(c.chaining_prefix(&entries), 0, "applied already");
    for (hash, tx) in submitted {
        assert_eq!(c.submit(tx), Err(SubmitError::AlreadyFinalized(hash)));
    }

    // Epoch ends (3, 7) and the tail of 2 (8, 9), without their blocks.
    let announced: Vec<u64> = std::iter::from_fn(|| sent.try_recv().ok())
        .map(|finalized| {
            assert!(finalized.block.is_none());
            finalized.state.height.get()
        })
        .collect();
    assert_eq!(announced, [EPOCH - 1, 2 * EPOCH - 1, 2 * EPOCH, 2 * EPOCH + 1]);

    // The chain goes on from the restored tip.
    let next = a.propose(View(2 * EPOCH + 2), a.tip, &[], 1_000).expect("built");
    assert_eq!(verdict(&mut c, 2 * EPOCH + 2, &next), Verification::Valid);
    c.apply_finalized(next.inner()).expect("extends the restored tip");
    assert_eq!(c.finalized_height(), Height(2 * EPOCH + 2));
}
