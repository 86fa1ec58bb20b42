//! The store keeps its cursors and queue across restarts, and every mark is idempotent.

use alloy_primitives::{B256, Bytes};
use trestle_relayer::store::{PendingMessage, Store, Submission};

fn message(seed: u8, dest: u64) -> PendingMessage {
    PendingMessage {
        hash: B256::repeat_byte(seed),
        src_chain_id: 1,
        dest_chain_id: dest,
        namespace: 1_001,
        tx_hash: B256::repeat_byte(seed.wrapping_add(100)),
        included_height: None,
        message: Bytes::from(vec![seed; 40]),
    }
}

#[test]
fn restart_keeps_cursors_and_queue() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nested").join("relayer.redb");
    {
        let store = Store::open(&path).expect("open");
        assert_eq!(store.source_cursor("a").expect("read"), None);
        assert_eq!(store.discovery_cursor().expect("read"), None);
        store.record_source_block("a", 7, B256::repeat_byte(7)).expect("record");
        let queued =
            store.record_discovered(13, &[message(1, 2), message(2, 3)]).expect("discovered");
        assert_eq!(queued, 2);
        store.set_proven_height("b", 40).expect("proven");
        store.set_included_height(B256::repeat_byte(1), 12).expect("included");
    }
    let store = Store::open(&path).expect("reopen");
    assert_eq!(store.source_cursor("a").expect("read"), Some(8));
    assert_eq!(store.source_head("a").expect("read"), Some((7, B256::repeat_byte(7))));
    assert_eq!(store.source_cursor("b").expect("read"), None);
    assert_eq!(store.source_head("b").expect("read"), None);
    assert_eq!(store.discovery_cursor().expect("read"), Some(13));
    assert_eq!(store.proven_height("b").expect("read"), Some(40));
    let pending = store.pending().expect("pending");
    assert_eq!(pending.len(), 2);
    let mut expected = message(1, 2);
    expected.included_height = Some(12);
    assert_eq!(pending[0], expected);
    assert_eq!(pending[1], message(2, 3));
    assert_eq!(store.pending_to(3).expect("pending to 3"), vec![message(2, 3)]);
}

#[test]
fn marks_are_idempotent_and_cursors_never_go_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("relayer.redb")).expect("open");
    let m = message(5, 2);

    // Posting the same block twice (a crash between submitting and recording) is harmless.
    store.record_source_block("a", 3, B256::repeat_byte(3)).expect("record");
    store.record_source_block("a", 3, B256::repeat_byte(3)).expect("record again");
    assert_eq!(store.source_cursor("a").expect("cursor"), Some(4));

    // An older block does not move the cursor back.
    store.record_source_block("a", 1, B256::repeat_byte(1)).expect("old block");
    assert_eq!(store.source_cursor("a").expect("cursor"), Some(4));
    assert_eq!(store.source_head("a").expect("head"), Some((3, B256::repeat_byte(3))));

    // Reading the same heights twice (a crash between reading and recording) queues once.
    assert_eq!(store.record_discovered(8, std::slice::from_ref(&m)).expect("discovered"), 1);
    assert_eq!(store.record_discovered(8, std::slice::from_ref(&m)).expect("again"), 0);
    assert_eq!(store.pending().expect("pending").len(), 1);
    assert_eq!(store.discovery_cursor().expect("cursor"), Some(8));

    // The discovery cursor does not move back either.
    assert_eq!(store.record_discovered(5, &[]).expect("older heights"), 0);
    assert_eq!(store.discovery_cursor().expect("cursor"), Some(8));

    // Delivered once, counted once; finding the same message again does not requeue it.
    assert!(store.mark_delivered(m.hash, 9).expect("deliver"));
    assert!(!store.mark_delivered(m.hash, 9).expect("deliver again"));
    assert!(store.is_delivered(m.hash).expect("delivered?"));
    assert_eq!(store.delivered_count().expect("count"), 1);
    assert_eq!(store.record_discovered(9, std::slice::from_ref(&m)).expect("found again"), 0);
    assert!(store.pending().expect("pending").is_empty());
    assert_eq!(store.discovery_cursor().expect("cursor"), Some(9));

    // Heights only rise; an inclusion height for a message no longer pending is a no-op.
    store.set_proven_height("b", 10).expect("proven");
    store.set_proven_height("b", 4).expect("lower");
    assert_eq!(store.proven_height("b").expect("proven"), Some(10));
    store.set_included_height(m.hash, 3).expect("no-op");
    assert!(store.pending().expect("pending").is_empty());
}

#[test]
fn a_store_file_is_used_by_one_process_at_a_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("relayer.redb");
    let _first = Store::open(&path).expect("open");
    assert!(Store::open(&path).is_err(), "a second relayer on the same store is refused");
}

fn submission(seed: u8, chain: &str, last_sent_ms: u64) -> Submission {
    Submission {
        tx_hash: B256::repeat_byte(seed),
        chain: chain.to_owned(),
        namespace: 1_001,
        payload: Bytes::from(vec![seed; 12]),
        authorization: Bytes::from(vec![seed.wrapping_add(1); 64]),
        last_sent_ms,
    }
}

#[test]
fn unfinalized_submissions_survive_a_restart_until_finalized() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("relayer.redb");
    {
        let store = Store::open(&path).expect("open");
        let block = [submission(1, "a", 100), submission(2, "a", 100)];
        store.record_posted_block("a", 5, B256::repeat_byte(5), &block).expect("record");
        store
            .record_posted_block("b", 9, B256::repeat_byte(9), &[submission(3, "b", 100)])
            .expect("b");
        // Recording a block the cursor is already past adds nothing (a crash between submitting
        // and recording is redone before the cursor moves, never after).
        store
            .record_posted_block("a", 5, B256::repeat_byte(5), &[submission(4, "a", 1)])
            .expect("again");
    }
    let store = Store::open(&path).expect("reopen");
    assert_eq!(store.source_cursor("a").expect("cursor"), Some(6));
    assert_eq!(
        store.unfinalized("a").expect("unfinalized"),
        vec![submission(1, "a", 100), submission(2, "a", 100)]
    );
    assert_eq!(store.unfinalized("b").expect("unfinalized"), vec![submission(3, "b", 100)]);

    // Finalized ones leave, for good; marking twice is harmless.
    assert!(store.mark_finalized(B256::repeat_byte(1)).expect("finalized"));
    assert!(!store.mark_finalized(B256::repeat_byte(1)).expect("finalized again"));
    drop(store);
    let store = Store::open(&path).expect("reopen again");
    assert_eq!(store.unfinalized("a").expect("unfinalized"), vec![submission(2, "a", 100)]);
    // A resend of something no longer tracked does not bring it back.
    store.mark_resent(B256::repeat_byte(1), 500).expect("resent");
    assert_eq!(store.unfinalized("a").expect("unfinalized").len(), 1);
}

#[test]
fn the_resend_schedule_takes_the_oldest_due_submissions_first_and_bounded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("relayer.redb")).expect("open");
    let sent = [
        submission(1, "a", 1_000),
        submission(2, "a", 400),
        submission(3, "a", 4_500),
        submission(4, "a", 200),
        submission(5, "b", 0),
    ];
    store.record_posted_block("a", 1, B256::repeat_byte(1), &sent[..4]).expect("a");
    store.record_posted_block("b", 1, B256::repeat_byte(1), &sent[4..]).expect("b");

    // At 5 000 ms with a 4 000 ms interval, those sent at or before 1 000 ms are due, oldest
    // first; b's are not a's business; the total counts every one of a's.
    let (due, total) = store.due_submissions("a", 5_000, 4_000, 10).expect("due");
    let hashes: Vec<_> = due.iter().map(|s| s.tx_hash).collect();
    assert_eq!(hashes, [4, 2, 1].map(B256::repeat_byte));
    assert_eq!(total, 4);

    // One step's work is bounded.
    let (due, _) = store.due_submissions("a", 5_000, 4_000, 2).expect("due");
    assert_eq!(due.iter().map(|s| s.tx_hash).collect::<Vec<_>>(), [4, 2].map(B256::repeat_byte));

    // Sent again now: no longer due until another interval has passed.
    store.mark_resent(B256::repeat_byte(4), 5_000).expect("resent");
    let (due, _) = store.due_submissions("a", 5_000, 4_000, 10).expect("due");
    assert_eq!(due.iter().map(|s| s.tx_hash).collect::<Vec<_>>(), [2, 1].map(B256::repeat_byte));
    let (due, _) = store.due_submissions("a", 9_000, 4_000, 10).expect("due");
    assert_eq!(due.len(), 4, "every one of a's is due once the interval has passed again");
}
