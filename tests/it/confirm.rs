//! `trestle confirm`: the real binary against a real devnet (the verification itself is the
//! kernel's, tested in `light-client/tests/it/confirmation.rs`).

use std::{path::Path, process::Command, time::Duration};

use alloy_primitives::{Bytes, keccak256};
use trestle::confirm::{
    EXIT_CONFIRMED, EXIT_NOT_CONFIRMED, EXIT_UNANCHORED, Report, anchor_from_genesis,
};
use trestle_api::{SubmitRequest, TrestleApiClient as _, ValidatorKeys, authorization::authorize};
use trestle_light_client::{
    Namespace, Subject, Transaction, abi::BlockRecord, verify_confirmation,
};

use crate::devnet::{Net, eventually, reach};

const NAMESPACE: Namespace = Namespace(1_000_901);

fn record(number: u64) -> BlockRecord {
    BlockRecord {
        chainId: 901,
        number,
        hash: keccak256(format!("rollup block {number}")),
        parentHash: keccak256(format!("rollup block {}", number.wrapping_sub(1))),
    }
}

/// Runs `trestle confirm ARGS --json` in `cwd`; returns its exit status and parsed report.
fn confirm(cwd: &Path, args: &[&str]) -> (i32, Option<Report>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_trestle"))
        .current_dir(cwd)
        .arg("confirm")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_slice(&output.stdout).ok();
    (output.status.code().unwrap_or(-1), report, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirm_command_against_a_devnet() {
    let net = Net::start("confirm", 4);
    reach(&net, 0, 2, Duration::from_secs(90)).await;
    let rpc = net.file.validators[0].rpc_url.as_str();
    let genesis_path = net.file.genesis.display().to_string();
    let genesis = genesis_path.as_str();

    // A rollup block record in chain 901's block namespace (owned by the devnet's relayer key,
    // so signed with it, as the relayer's post role does) and a plain unowned transaction.
    assert_eq!(NAMESPACE.get(), trestle::devnet::chains::block_namespace(901));
    // The devnet's block namespaces record from block 0 (genesis' `firstRecord`), so the
    // rollup posts blocks 0 to 7; block 7 is the one confirmed below.
    let relayer = ValidatorKeys::load(&trestle::devnet::relayer_key_path(&net.dir)).unwrap();
    let block = record(7);
    let signed = |record: &BlockRecord| {
        let tx = Transaction::new(NAMESPACE, record.encode());
        let authorization = authorize(&relayer.consensus, &tx);
        (tx, Some(Bytes::copy_from_slice(authorization.as_ref())))
    };
    let (record_tx, _) = signed(&block);
    let plain_tx = Transaction::new(Namespace(77), b"a plain transaction".to_vec());
    let mut submissions: Vec<_> = (0..=7).map(|number| signed(&record(number))).collect();
    submissions.push((plain_tx.clone(), None));
    for (tx, authorization) in &submissions {
        let authorization = authorization.clone();
        let request = SubmitRequest {
            namespace: tx.namespace.get(),
            payload: tx.payload.clone(),
            authorization,
        };
        assert_eq!(net.clients[1].submit(request).await.unwrap(), tx.hash());
    }
    for tx in [&record_tx, &plain_tx] {
        eventually(Duration::from_secs(60), "the transaction to be finalized", || async {
            net.clients[0].tx_proof(tx.hash()).await.ok().flatten()
        })
        .await;
    }

    let cwd = crate::cli::tempdir("confirm-cwd");
    let anchor = anchor_from_genesis(&net.file.genesis).unwrap();
    let ns = NAMESPACE.get().to_string();
    let number = block.number.to_string();
    let hash = block.hash.to_string();
    let mut block_args = vec![
        "--rpc",
        rpc,
        "--namespace",
        ns.as_str(),
        "--block",
        number.as_str(),
        "--hash",
        hash.as_str(),
    ];
    block_args.extend(["--genesis", genesis]);
    let (code, report, stderr) = confirm(&cwd, &block_args);
    let report = report.unwrap_or_else(|| panic!("no JSON report: {stderr}"));
    assert_eq!(code, EXIT_CONFIRMED, "{report:?} {stderr}");
    assert!(report.confirmed && report.anchor.as_ref().unwrap().verified);
    assert_eq!(report.tx_hash, Some(record_tx.hash()));
    assert_eq!(report.block_record.unwrap().hash, block.hash);
    let subject = Subject::Block { number: block.number, hash: block.hash };
    let verdict = verify_confirmation(report.proof.as_ref().unwrap(), NAMESPACE, &subject, &anchor)
        .expect("the printed proof verifies");
    assert_eq!(Some(verdict.header.height.get()), report.height);
    eprintln!("native verification of a block confirmation: {:?} ms", report.verify_ms);

    let tx_hash = plain_tx.hash().to_string();
    let tx_args =
        ["--rpc", rpc, "--namespace", "77", "--tx", tx_hash.as_str(), "--genesis", genesis];
    let (code, report, stderr) = confirm(&cwd, &tx_args);
    let report = report.unwrap_or_else(|| panic!("no JSON report: {stderr}"));
    assert_eq!(code, EXIT_CONFIRMED, "{report:?} {stderr}");
    let subject = Subject::Transaction { hash: plain_tx.hash() };
    verify_confirmation(report.proof.as_ref().unwrap(), Namespace(77), &subject, &anchor)
        .expect("the printed proof verifies");

    // A made-up block hash, a made-up transaction, the right transaction in the wrong namespace.
    let made_up = keccak256("no such block").to_string();
    let args = [
        "--rpc",
        rpc,
        "--namespace",
        ns.as_str(),
        "--block",
        number.as_str(),
        "--hash",
        made_up.as_str(),
        "--genesis",
        genesis,
    ];
    let (code, report, stderr) = confirm(&cwd, &args);
    let report = report.unwrap_or_else(|| panic!("no JSON report: {stderr}"));
    assert_eq!(code, EXIT_NOT_CONFIRMED);
    assert!(!report.confirmed);
    let conflict = report.conflict.expect("block 7 has another confirmed record");
    assert_eq!((conflict.confirmed_hash, conflict.verified), (block.hash, true));
    assert!(report.reason.unwrap().contains("conflicts with the confirmed"));
    let made_up = keccak256("no such transaction").to_string();
    let args = ["--rpc", rpc, "--namespace", "77", "--tx", made_up.as_str(), "--genesis", genesis];
    assert_eq!(confirm(&cwd, &args).0, EXIT_NOT_CONFIRMED);
    let args = ["--rpc", rpc, "--namespace", "78", "--tx", tx_hash.as_str(), "--genesis", genesis];
    let (code, report, _) = confirm(&cwd, &args);
    assert_eq!(code, EXIT_NOT_CONFIRMED);
    assert!(report.unwrap().reason.unwrap().contains("namespace 77"));

    // Without a genesis the node's own committee is used, and the exit status says so; the
    // devnet's default location is picked up when it exists.
    let (code, report, _) = confirm(&cwd, &tx_args[..6]);
    assert_eq!(code, EXIT_UNANCHORED);
    assert!(report.as_ref().is_some_and(|r| r.confirmed && !r.anchor.as_ref().unwrap().verified));
    let mut lenient = tx_args[..6].to_vec();
    lenient.push("--allow-unanchored");
    assert_eq!(confirm(&cwd, &lenient).0, EXIT_CONFIRMED);
    std::os::unix::fs::symlink(&net.dir, cwd.join(".devnet")).unwrap();
    let (code, report, _) = confirm(&cwd, &tx_args[..6]);
    assert_eq!(code, EXIT_CONFIRMED);
    assert!(report.unwrap().anchor.unwrap().verified);

    equivocating_sequencer(&net, &cwd, genesis, &relayer, &block).await;

    // Usage errors exit 2.
    let (code, _, _) = confirm(&cwd, &["--rpc", rpc, "--namespace", "77"]);
    assert_eq!(code, 2);
    std::fs::remove_dir_all(&cwd).ok();
}

/// A sequencer that restarts and posts other records for numbers it already posted (a second
/// poster with the same key): the network keeps one record per number; the other is refused
/// and kept as an equivocation anyone can verify with the genesis; `trestle confirm` on the
/// loser's hash says which record is confirmed; a number not posted yet is "not confirmed yet".
async fn equivocating_sequencer(
    net: &Net,
    cwd: &Path,
    genesis: &str,
    relayer: &ValidatorKeys,
    confirmed: &BlockRecord,
) {
    let rpc = net.file.validators[0].rpc_url.as_str();
    let ns = NAMESPACE.get().to_string();
    let submit = |client: usize, record: &BlockRecord| {
        let tx = Transaction::new(NAMESPACE, record.encode());
        let authorization = authorize(&relayer.consensus, &tx);
        let request = SubmitRequest {
            namespace: NAMESPACE.get(),
            payload: tx.payload.clone(),
            authorization: Some(Bytes::copy_from_slice(authorization.as_ref())),
        };
        let client = net.clients[client].clone();
        async move { client.submit(request).await }
    };
    // Against the confirmed block 7: refused with the conflict code.
    let loser = BlockRecord { hash: keccak256("another block 7"), ..confirmed.clone() };
    let refused = submit(2, &loser).await.expect_err("a second record for block 7");
    let code = match refused {
        jsonrpsee::core::ClientError::Call(call) => call.code(),
        other => panic!("{other}"),
    };
    assert_eq!(code, trestle_api::codes::RECORD_CONFLICT);
    // Two posters race for block 8 on different validators: one wins.
    let eight = |label: &str| BlockRecord {
        chainId: 901,
        number: 8,
        hash: keccak256(label),
        parentHash: confirmed.hash,
    };
    let (a, b) = (eight("block 8 from poster a"), eight("block 8 from poster b"));
    let (first, second) = tokio::join!(submit(0, &a), submit(3, &b));
    assert!(first.is_ok() || second.is_ok(), "{first:?} {second:?}");
    let winner = eventually(Duration::from_secs(60), "block 8 to be confirmed", || async {
        net.clients[1].block_record(NAMESPACE.get(), 8, None).await.ok().flatten()
    })
    .await;
    assert!(winner.record.hash == a.hash || winner.record.hash == b.hash);
    let loser_8 = if winner.record.hash == a.hash { &b } else { &a };

    // Every validator keeps the evidence of block 7; someone saw both records for block 8.
    let owner =
        trestle_api::Genesis::load(Path::new(genesis)).unwrap().1.owners[&NAMESPACE].clone();
    let kept = net.clients[2].record_equivocations(NAMESPACE.get(), None, None).await.unwrap();
    let seven = kept.iter().find(|e| e.number == 7).expect("the block 7 equivocation is kept");
    assert!(seven.confirmed_at.is_some());
    let (first, second) =
        trestle_api::records::verify_equivocation(&owner, NAMESPACE, &seven.first, &seven.second)
            .expect("the evidence proves the equivocation");
    assert_eq!((first.hash, second.hash), (confirmed.hash, loser.hash));
    eventually(Duration::from_secs(30), "the block 8 equivocation to be seen", || async {
        for client in &net.clients {
            let kept = client.record_equivocations(NAMESPACE.get(), None, None).await.ok()?;
            if kept.iter().any(|e| e.number == 8) {
                return Some(());
            }
        }
        None
    })
    .await;
    let summary = net.clients[0].record_namespace(NAMESPACE.get()).await.unwrap();
    assert_eq!(summary.confirmed.map(|c| (c.first, c.last)), Some((0, 8)));

    // The loser's hash: not confirmed, with the confirmed one named (and proven).
    let loser_hash = loser_8.hash.to_string();
    let args = [
        "--rpc",
        rpc,
        "--namespace",
        &ns,
        "--block",
        "8",
        "--hash",
        &loser_hash,
        "--genesis",
        genesis,
    ];
    let (code, report, stderr) = confirm(cwd, &args);
    let report = report.unwrap_or_else(|| panic!("no JSON report: {stderr}"));
    assert_eq!(code, EXIT_NOT_CONFIRMED, "{report:?}");
    let conflict = report.conflict.expect("the winner is named");
    assert_eq!((conflict.confirmed_hash, conflict.verified), (winner.record.hash, true));
    // By number alone: the winner, proven.
    let args = ["--rpc", rpc, "--namespace", &ns, "--block", "8", "--genesis", genesis];
    let (code, report, stderr) = confirm(cwd, &args);
    let report = report.unwrap_or_else(|| panic!("no JSON report: {stderr}"));
    assert_eq!(code, EXIT_CONFIRMED, "{report:?} {stderr}");
    assert_eq!(report.block_record.map(|r| r.hash), Some(winner.record.hash));
    // A number not posted yet.
    let args = ["--rpc", rpc, "--namespace", &ns, "--block", "9", "--genesis", genesis];
    let (code, report, _) = confirm(cwd, &args);
    let report = report.expect("a report");
    assert_eq!(code, EXIT_NOT_CONFIRMED);
    assert!(report.reason.unwrap().contains("not confirmed yet"));
    assert_eq!(report.records.and_then(|r| r.confirmed).map(|c| c.last), Some(8));
    // (The devnet records from block 0, so no number here is "never confirmed": see the unit
    // test of `unrecorded` in src/confirm.rs.)
}
