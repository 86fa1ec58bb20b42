//! `trestle confirm`: the pure verification over hand-built evidence (every way it can be
//! wrong gives its typed error), and the real binary against a real devnet.

use std::{path::Path, process::Command, time::Duration};

use alloy_primitives::{B256, Bytes, keccak256};
use commonware_cryptography::Signer as _;
use trestle::confirm::{
    Anchor, AnchorSource, ConfirmError, EXIT_CONFIRMED, EXIT_NOT_CONFIRMED, EXIT_UNANCHORED,
    Evidence, Report, Subject, minimal_quorum, verify_confirmation,
};
use trestle_light_client::{
    ChainId, Committee, Epoch, Header, Height, HistoryTree, LightClientState, Namespace,
    PayloadTree, SecretKey, StateSignature, Transaction, View, abi::BlockRecord,
    history::HistoryError, payload::PayloadError, quorum::QuorumError,
    transaction::DEFAULT_MAX_PAYLOAD,
};
use trestle_node::{
    block::AUTHORIZATION_NAMESPACE,
    rpc::{SubmitRequest, TrestleApiClient as _},
    service::Keys,
};

use crate::devnet::{Net, eventually, reach};

const CHAIN: ChainId = ChainId(7);
const NAMESPACE: Namespace = Namespace(1_000_901);

/// A small chain built with the light-client kernel: 4 signers, 6 headers, a block record and
/// a plain transaction at height 3, the state of height 5 signed by everyone.
struct Fixture {
    keys: Vec<SecretKey>,
    anchor: Anchor,
    record: BlockRecord,
    record_tx: Transaction,
    plain_tx: Transaction,
    evidence: Evidence,
    state: LightClientState,
}

fn record(number: u64) -> BlockRecord {
    BlockRecord {
        chainId: 901,
        number,
        hash: keccak256(format!("rollup block {number}")),
        parentHash: keccak256(format!("rollup block {}", number.wrapping_sub(1))),
    }
}

fn sign(keys: &[SecretKey], slots: &[u32], state: &LightClientState) -> Vec<StateSignature> {
    let message = state.message().unwrap();
    slots
        .iter()
        .map(|&slot| StateSignature { slot, signature: keys[slot as usize].sign(&message) })
        .collect()
}

fn anchor_of(committee: Committee) -> Anchor {
    Anchor {
        chain_id: CHAIN,
        epoch: Epoch(0),
        committee,
        max_payload: DEFAULT_MAX_PAYLOAD,
        source: AnchorSource::Genesis { path: "fixture".into() },
    }
}

impl Fixture {
    fn new() -> Self {
        let keys: Vec<SecretKey> = (1..=4u8).map(|i| SecretKey::from_seed([i; 32])).collect();
        let committee = Committee::equal_weight(keys.iter().map(|k| *k.public_key()), 8).unwrap();
        let record = record(42);
        let record_tx = Transaction::new(NAMESPACE, record.encode());
        let plain_tx = Transaction::new(NAMESPACE, b"not a record".to_vec());
        let other = Transaction::new(Namespace(5), b"another rollup".to_vec());
        let mut history = HistoryTree::new();
        let mut parent = B256::ZERO;
        let mut proof = None;
        let mut header_bytes = Vec::new();
        for height in 0..=5u64 {
            let txs: Vec<Transaction> = if height == 3 {
                vec![other.clone(), plain_tx.clone(), record_tx.clone()]
            } else {
                vec![Transaction::new(Namespace(5), format!("filler {height}").into_bytes())]
            };
            let payload = PayloadTree::new(&txs);
            let header = Header {
                chain_id: CHAIN,
                epoch: Epoch(0),
                height: Height(height),
                view: View(height * 2),
                timestamp_ms: 1_000 + height,
                parent,
                payload_root: payload.root(),
                history_root: history.root(),
                committee: committee.commitment_bytes(),
            };
            if height == 3 {
                proof = payload.transaction_proof_by_hash(&record_tx.hash());
                header_bytes = header.encode();
            }
            parent = header.hash();
            history.append(&parent);
        }
        let state = LightClientState {
            chain_id: CHAIN,
            epoch: Epoch(0),
            height: Height(5),
            history_root: history.root_at(Height(5)).unwrap(),
            next_committee: committee.commitment_bytes(),
        };
        let evidence = Evidence {
            transaction: record_tx.encode().into(),
            header: header_bytes.into(),
            tx_proof: proof.unwrap().encode().into(),
            history_proof: history.prove(Height(3), Height(5)).unwrap().encode().into(),
            state: state.encode().into(),
            signatures: sign(&keys, &[0, 1, 2, 3], &state),
        };
        Self { keys, anchor: anchor_of(committee), record, record_tx, plain_tx, evidence, state }
    }

    fn block_subject(&self) -> Subject {
        Subject::Block { number: self.record.number, hash: self.record.hash }
    }

    fn verify(&self, evidence: &Evidence) -> Result<trestle::confirm::Verdict, ConfirmError> {
        verify_confirmation(evidence, NAMESPACE, &self.block_subject(), &self.anchor)
    }
}

fn flip_last_byte(bytes: &Bytes) -> Bytes {
    let mut tampered = bytes.to_vec();
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    tampered.into()
}

#[test]
fn valid_evidence_confirms_a_block_record_and_a_transaction() {
    let f = Fixture::new();
    let verdict = f.verify(&f.evidence).unwrap();
    assert_eq!(verdict.tx_hash, f.record_tx.hash());
    assert_eq!(verdict.header.height, Height(3));
    assert_eq!(verdict.state, f.state);
    assert_eq!((verdict.signed_weight, verdict.total_weight), (4, 4));
    let record = verdict.block_record.unwrap();
    assert_eq!((record.chain_id, record.number, record.hash), (901, 42, f.record.hash));

    let by_hash = Subject::Transaction { hash: f.record_tx.hash() };
    let verdict = verify_confirmation(&f.evidence, NAMESPACE, &by_hash, &f.anchor).unwrap();
    assert_eq!(verdict.block_record, None);

    // The evidence survives its JSON form (what `trestle confirm --json` prints).
    let json = serde_json::to_string(&f.evidence).unwrap();
    let back: Evidence = serde_json::from_str(&json).unwrap();
    assert!(f.verify(&back).is_ok());
}

#[test]
fn the_wrong_subject_is_not_confirmed() {
    let f = Fixture::new();
    let other_hash = Subject::Transaction { hash: f.plain_tx.hash() };
    assert!(matches!(
        verify_confirmation(&f.evidence, NAMESPACE, &other_hash, &f.anchor),
        Err(ConfirmError::WrongTransaction { .. })
    ));
    let made_up = Subject::Block { number: 42, hash: keccak256("made up") };
    assert!(matches!(
        verify_confirmation(&f.evidence, NAMESPACE, &made_up, &f.anchor),
        Err(ConfirmError::WrongBlock { expected_number: 42, .. })
    ));
    assert!(matches!(
        verify_confirmation(&f.evidence, Namespace(5), &f.block_subject(), &f.anchor),
        Err(ConfirmError::WrongNamespace { expected: 5, found: 1_000_901 })
    ));
    // A transaction of the namespace that is not a block record is not a block.
    let mut plain = f.evidence.clone();
    plain.transaction = f.plain_tx.encode().into();
    assert!(matches!(f.verify(&plain), Err(ConfirmError::NotABlockRecord(_))));
}

#[test]
fn tampered_or_malformed_proofs_give_typed_errors() {
    let f = Fixture::new();
    let mut e = f.evidence.clone();
    e.tx_proof = flip_last_byte(&e.tx_proof);
    assert!(matches!(f.verify(&e), Err(ConfirmError::Inclusion(PayloadError::NamespacePath(_)))));

    let mut e = f.evidence.clone();
    e.history_proof = flip_last_byte(&e.history_proof);
    assert!(matches!(f.verify(&e), Err(ConfirmError::History(HistoryError::Path(_)))));

    // A header with another payload root: the transaction proof no longer leads to it.
    let mut header = Header::decode(&f.evidence.header).unwrap();
    header.payload_root = keccak256("forged");
    let mut e = f.evidence.clone();
    e.header = header.encode().into();
    assert!(matches!(f.verify(&e), Err(ConfirmError::Inclusion(_))));

    // A state over another history: the header is not in it.
    let mut state = f.state.clone();
    state.history_root = keccak256("forged history");
    let mut e = f.evidence.clone();
    e.state = state.encode().into();
    e.signatures = sign(&f.keys, &[0, 1, 2, 3], &state);
    assert!(matches!(f.verify(&e), Err(ConfirmError::History(_))));

    // Non-canonical bytes (a trailing byte) are refused before anything else.
    for field in 0..5 {
        let mut e = f.evidence.clone();
        let target = match field {
            0 => &mut e.transaction,
            1 => &mut e.header,
            2 => &mut e.tx_proof,
            3 => &mut e.history_proof,
            _ => &mut e.state,
        };
        let mut longer = target.to_vec();
        longer.push(0);
        *target = longer.into();
        let result = f.verify(&e);
        let expected = match field {
            0 => matches!(result, Err(ConfirmError::Transaction(_))),
            1 => matches!(result, Err(ConfirmError::Header(_))),
            2 => matches!(result, Err(ConfirmError::TransactionProof(_))),
            3 => matches!(result, Err(ConfirmError::HistoryProofEncoding(_))),
            _ => matches!(result, Err(ConfirmError::State(_))),
        };
        assert!(expected, "field {field}: {result:?}");
    }
}

#[test]
fn signatures_must_be_a_quorum_of_the_anchor() {
    let f = Fixture::new();
    let mut e = f.evidence.clone();
    e.signatures = sign(&f.keys, &[0, 2], &f.state);
    assert!(matches!(
        f.verify(&e),
        Err(ConfirmError::Quorum(QuorumError::InsufficientWeight { signed: 2, total: 4 }))
    ));

    // Three of four is a quorum, and it is what minimal_quorum picks.
    let quorum = minimal_quorum(&f.anchor.committee, &f.evidence.signatures).unwrap();
    assert_eq!(quorum.iter().map(|s| s.slot).collect::<Vec<_>>(), [0, 1, 2]);
    e.signatures = quorum;
    assert_eq!(f.verify(&e).unwrap().signed_weight, 3);
    assert!(minimal_quorum(&f.anchor.committee, &sign(&f.keys, &[1, 3, 3], &f.state)).is_none());

    // A signature on another state is invalid.
    let mut other = f.state.clone();
    other.height = Height(6);
    let mut e = f.evidence.clone();
    e.signatures[1] = sign(&f.keys, &[1], &other)[0];
    assert!(matches!(
        f.verify(&e),
        Err(ConfirmError::Quorum(QuorumError::InvalidSignature { slot: 1, .. }))
    ));
}

#[test]
fn the_anchor_decides_which_committee_and_network_count() {
    let f = Fixture::new();
    // Another committee (another genesis): the header does not commit to it.
    let strangers: Vec<SecretKey> = (11..=14u8).map(|i| SecretKey::from_seed([i; 32])).collect();
    let committee = Committee::equal_weight(strangers.iter().map(|k| *k.public_key()), 8).unwrap();
    assert!(matches!(
        f.verify_with(&anchor_of(committee)),
        Err(ConfirmError::WrongCommittee { .. })
    ));

    let mut anchor = f.anchor.clone();
    anchor.chain_id = ChainId(8);
    assert!(matches!(
        f.verify_with(&anchor),
        Err(ConfirmError::WrongChain { what: "header", expected: 8, found: 7 })
    ));
    let mut anchor = f.anchor.clone();
    anchor.epoch = Epoch(1);
    assert!(matches!(f.verify_with(&anchor), Err(ConfirmError::WrongEpoch { what: "header", .. })));

    // The signers of the state must be the anchor's: a quorum of strangers is no quorum.
    let mut e = f.evidence.clone();
    e.signatures = sign(&strangers, &[0, 1, 2, 3], &f.state);
    assert!(matches!(
        f.verify(&e),
        Err(ConfirmError::Quorum(QuorumError::InvalidSignature { .. }))
    ));
}

impl Fixture {
    fn verify_with(&self, anchor: &Anchor) -> Result<trestle::confirm::Verdict, ConfirmError> {
        verify_confirmation(&self.evidence, NAMESPACE, &self.block_subject(), anchor)
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
    assert_eq!(NAMESPACE.get(), trestle::chains::block_namespace(901));
    let relayer = Keys::load(&trestle::devnet::relayer_key_path(&net.dir)).unwrap();
    let block = record(7);
    let record_tx = Transaction::new(NAMESPACE, block.encode());
    let plain_tx = Transaction::new(Namespace(77), b"a plain transaction".to_vec());
    let authorization =
        relayer.consensus.sign(AUTHORIZATION_NAMESPACE, record_tx.hash().as_slice());
    for (tx, authorization) in
        [(&record_tx, Some(Bytes::copy_from_slice(authorization.as_ref()))), (&plain_tx, None)]
    {
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
    let anchor = Anchor::from_genesis(&net.file.genesis).unwrap();
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
    assert!(!report.confirmed && report.reason.is_some());
    let searched = report.searched.unwrap();
    assert_eq!(searched.from_height, 0, "a young devnet is scanned down to genesis");
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

    // Usage errors exit 2.
    let (code, _, _) = confirm(&cwd, &["--rpc", rpc, "--namespace", "77"]);
    assert_eq!(code, 2);
    std::fs::remove_dir_all(&cwd).ok();
}
