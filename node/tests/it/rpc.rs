//! The JSON-RPC server over a real single-validator network (authenticated TCP p2p on
//! loopback, started as the validator process starts it): submissions, queries whose proofs
//! verify with the light client, subscriptions over WebSocket, and malformed requests that get
//! errors while the server keeps serving.

use std::{
    io::{Read as _, Write as _},
    net::{SocketAddr, TcpStream},
    time::{Duration, Instant},
};

use alloy_primitives::keccak256;
use commonware_cryptography::Signer as _;
use serde_json::{Value, json};
use trestle_api::client::{FetchOptions, Fetched, connect, fetch_evidence};
use trestle_api::{
    BlockResponse, CommitteeInfo, EpochProofResponse, FinalityResponse, HeaderResponse,
    HistoryProofResponse, LightClientStateResponse, MAX_SUBMIT_BATCH, NamespaceResponse,
    StateSignaturesResponse, SubmitOutcome, TxInclusionResponse, codes,
    records::{BlockRecordResponse, EquivocationResponse, RecordNamespaceResponse},
};
use trestle_light_client::{
    Anchor, B256, Epoch, Height, Namespace, StateSignature, Subject, Transaction, abi::BlockRecord,
    history::verify_history_proof, verify_confirmation,
};
use trestle_node::{
    block::BLOCK_TAG,
    rpc::RpcConfig,
    testing::{TestGenesis, local::LocalNetwork},
};

/// How long any wait in this test may take before it fails.
const DEADLINE: Duration = Duration::from_secs(60);
/// Socket timeout of the test's HTTP and WebSocket clients.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// One raw HTTP/1.1 POST of a JSON `body` to `/`; returns the status code and the body.
fn http_post(addr: SocketAddr, body: &[u8]) -> (u16, String) {
    let (status, _, body) = crate::common::raw_http(addr, "POST", "/", "application/json", body);
    (status, body)
}

/// A JSON-RPC call over HTTP (in a blocking thread); returns the whole response object.
async fn call_raw(addr: SocketAddr, body: String) -> (u16, Value) {
    tokio::task::spawn_blocking(move || {
        let (status, body) = http_post(addr, body.as_bytes());
        let value = serde_json::from_str(&body).unwrap_or(Value::Null);
        (status, value)
    })
    .await
    .expect("client thread")
}

/// `method(params)`; panics on a JSON-RPC error.
pub(crate) async fn call(addr: SocketAddr, method: &str, params: Value) -> Value {
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let (status, response) = call_raw(addr, request.to_string()).await;
    assert_eq!(status, 200, "{method}: {response}");
    assert!(response.get("error").is_none(), "{method} failed: {response}");
    response["result"].clone()
}

/// `method(params)` must fail with JSON-RPC error `code`; returns the message.
async fn call_error(addr: SocketAddr, method: &str, params: Value, code: i64) -> String {
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let (_, response) = call_raw(addr, request.to_string()).await;
    let error = &response["error"];
    assert_eq!(error["code"].as_i64(), Some(code), "{method}({params}): {response}");
    let message = format!("{} {}", error["message"], error["data"]);
    assert!(!message.trim().is_empty());
    message
}

pub(crate) fn typed<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("response has the documented shape")
}

/// Polls `method(params)` until its result is not `null`.
async fn wait_for(addr: SocketAddr, method: &str, params: Value) -> Value {
    let start = Instant::now();
    loop {
        let result = call(addr, method, params.clone()).await;
        if !result.is_null() {
            return result;
        }
        assert!(start.elapsed() < DEADLINE, "{method}({params}) still null after {DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A minimal WebSocket client (text frames, client-masked, no extensions).
struct Ws(TcpStream);

impl Ws {
    fn connect(addr: SocketAddr) -> Self {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
        let request = format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).expect("handshake");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).expect("handshake response");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "no upgrade: {head}");
        Self(stream)
    }

    fn send(&mut self, value: &Value) {
        let payload = value.to_string().into_bytes();
        let mut frame = vec![0x81u8];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        frame.extend_from_slice(&[0, 0, 0, 0]); // a zero mask leaves the payload as is
        frame.extend_from_slice(&payload);
        self.0.write_all(&frame).expect("send frame");
    }

    fn recv(&mut self) -> Value {
        loop {
            let mut head = [0u8; 2];
            self.0.read_exact(&mut head).expect("frame head");
            let len = match head[1] & 0x7f {
                126 => {
                    let mut b = [0u8; 2];
                    self.0.read_exact(&mut b).expect("len");
                    u64::from(u16::from_be_bytes(b))
                }
                127 => {
                    let mut b = [0u8; 8];
                    self.0.read_exact(&mut b).expect("len");
                    u64::from_be_bytes(b)
                }
                n => u64::from(n),
            };
            let mut payload = vec![0u8; len as usize];
            self.0.read_exact(&mut payload).expect("frame payload");
            match head[0] & 0x0f {
                0x1 => return serde_json::from_slice(&payload).expect("JSON frame"),
                0x8 => panic!("server closed the WebSocket"),
                _ => continue, // ping / pong
            }
        }
    }
}

/// Runs `f` on a blocking thread with a WebSocket client.
async fn with_ws<T: Send + 'static>(
    addr: SocketAddr,
    f: impl FnOnce(&mut Ws) -> T + Send + 'static,
) -> T {
    tokio::task::spawn_blocking(move || f(&mut Ws::connect(addr))).await.expect("ws thread")
}

#[tokio::test]
async fn rpc_serves_verifiable_data_and_survives_bad_requests() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let storage = tempfile::tempdir().expect("temp dir");
    // The smallest committee (4: blocks travel erasure-coded, which needs f ≥ 1), on loopback,
    // started as the process does; the test talks to the first validator.
    let network = TestGenesis { epoch_length: Some(4), ..TestGenesis::new(4) }.build();
    let validator = network.validator(0, "rpc");
    let others: Vec<_> = (1..4).map(|i| network.validator(i, format!("rpc{i}"))).collect();
    let committee_info = validator.committee_info();
    let rpc_config = RpcConfig::new(validator.params().limits);
    let params = validator.params();
    let committee = network.genesis.committee.clone();
    let local = LocalNetwork::start(
        storage.path().to_path_buf(),
        std::iter::once(validator).chain(others).collect(),
    );
    let addr = local.rpc(0);
    let limits = || params.limits;

    // Headers stream over WebSocket: consecutive heights.
    let headers = with_ws(addr, |ws| {
        ws.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "trestle_subscribeHeaders"}));
        let ack = ws.recv();
        assert!(ack["result"].is_string() || ack["result"].is_number(), "{ack}");
        (0..3)
            .map(|_| {
                let note = ws.recv();
                assert_eq!(note["method"], "trestle_subscribeHeaders", "{note}");
                typed::<HeaderResponse>(note["params"]["result"].clone())
            })
            .collect::<Vec<_>>()
    })
    .await;
    for pair in headers.windows(2) {
        assert_eq!(pair[1].header.height.get(), pair[0].header.height.get() + 1);
        assert_eq!(pair[1].header.parent, pair[0].hash);
    }
    for h in &headers {
        assert_eq!(h.decode().expect("strict header"), h.header);
        assert_eq!(keccak256(&h.encoded), h.hash);
    }

    // Submissions in three namespaces.
    let mut submitted = Vec::new();
    for k in 0..6u64 {
        let namespace = 1 + k % 3;
        let payload = vec![k as u8; 10 + k as usize];
        let tx = Transaction::new(Namespace(namespace), payload.clone());
        let params = json!([{
            "namespace": namespace,
            "payload": format!("0x{}", alloy_primitives::hex::encode(&payload)),
            "authorization": null,
        }]);
        let hash: B256 = typed(call(addr, "trestle_submit", params.clone()).await);
        assert_eq!(hash, tx.hash());
        submitted.push(tx);
    }

    // Each transaction gets finalized with a proof that verifies against its header.
    let mut heights = Vec::new();
    for tx in &submitted {
        let included: TxInclusionResponse =
            typed(wait_for(addr, "trestle_txProof", json!([tx.hash()])).await);
        let header = included.header.decode().expect("strict header");
        assert_eq!(header.height.get(), included.height);
        let decoded = included.transaction.decode(limits().max_payload).expect("strict tx");
        assert_eq!(&decoded, tx);
        let proof = included.proof.decode().expect("strict transaction proof");
        proof.verify(tx, &header.payload_root).expect("transaction proof verifies");
        heights.push(included.height);
    }
    let tip: u64 = typed(call(addr, "trestle_blockHeight", json!([])).await);
    assert!(tip >= *heights.iter().max().expect("heights"));

    // Namespace proofs: complete for each namespace, absence for another.
    for &height in &heights {
        for namespace in 1..=3u64 {
            let response: NamespaceResponse =
                typed(call(addr, "trestle_namespaceProof", json!([height, namespace])).await);
            let header = response.header.decode().expect("strict header");
            match (&response.proof, &response.absence_proof) {
                (Some(proof), None) => {
                    let txs: Vec<Transaction> = response
                        .transactions
                        .iter()
                        .map(|t| t.decode(limits().max_payload).expect("strict tx"))
                        .collect();
                    proof
                        .decode()
                        .expect("strict namespace proof")
                        .verify_complete(&txs, &header.payload_root)
                        .expect("namespace proof verifies");
                }
                (None, Some(absence)) => {
                    absence
                        .decode()
                        .expect("strict absence proof")
                        .verify(Namespace(namespace), &header.payload_root)
                        .expect("absence proof verifies");
                }
                other => panic!("exactly one proof expected: {other:?}"),
            }
        }
        let absent: NamespaceResponse =
            typed(call(addr, "trestle_namespaceProof", json!([height, 99])).await);
        let header = absent.header.decode().expect("strict header");
        absent
            .absence_proof
            .expect("absence proof")
            .decode()
            .expect("strict absence proof")
            .verify(Namespace(99), &header.payload_root)
            .expect("absence proof verifies");
    }

    // History proofs against the light-client state of the tip.
    let state: LightClientStateResponse =
        typed(call(addr, "trestle_lightClientState", json!([tip])).await);
    let decoded_state = state.decode().expect("strict state");
    assert_eq!(decoded_state, state.state);
    assert_eq!(decoded_state.height, Height(tip));
    assert_eq!(decoded_state.next_committee, params.genesis_committee.commitment());
    for &height in heights.iter().chain([0, tip].iter()) {
        let response: HistoryProofResponse =
            typed(call(addr, "trestle_historyProof", json!([height, tip])).await);
        assert_eq!(response.root, decoded_state.history_root);
        let header: HeaderResponse = typed(call(addr, "trestle_header", json!([height])).await);
        assert_eq!(response.header_hash, header.hash);
        let proof = response.proof.decode().expect("strict Merkle proof");
        verify_history_proof(
            &proof,
            &header.hash,
            Height(height),
            &decoded_state.history_root,
            Height(tip),
        )
        .expect("history proof verifies");
    }

    // Blocks and certificates link to headers.
    for &height in &heights {
        let block: BlockResponse = typed(call(addr, "trestle_block", json!([height])).await);
        let finality: FinalityResponse =
            typed(call(addr, "trestle_finality", json!([height])).await);
        // A block that names no next committee: the succession is its L1 reference alone.
        assert!(block.next_committee.is_none());
        let mut succession = block.l1_block.to_be_bytes().to_vec();
        succession.extend_from_slice(block.l1_hash.as_slice());
        succession.push(0);
        assert_eq!(keccak256(&succession), block.succession_hash);
        let mut preimage = BLOCK_TAG.to_vec();
        preimage.extend_from_slice(block.header.hash.as_slice());
        preimage.extend_from_slice(block.parent_digest.as_slice());
        preimage.extend_from_slice(block.succession_hash.as_slice());
        preimage.extend_from_slice(block.authorizations_hash.as_slice());
        preimage.extend_from_slice(block.context_hash.as_slice());
        assert_eq!(keccak256(&preimage), block.digest);
        assert_eq!(finality.digest, block.digest);
        // The certificate signs the coding commitment, which starts with the digest.
        assert_eq!(finality.commitment.len(), 100);
        assert_eq!(&finality.commitment[..32], block.digest.as_slice());
        assert_eq!(finality.context_hash, block.context_hash);
        assert_eq!(finality.header_hash, block.header.hash);
        // The summary is the block without payloads.
        let summary: trestle_api::BlockSummaryResponse =
            typed(call(addr, "trestle_blockSummary", json!([height])).await);
        assert_eq!((summary.header.clone(), summary.digest), (block.header.clone(), block.digest));
        assert_eq!(summary.transactions, block.transactions.len() as u64);
        assert_eq!(summary.encoded_bytes, block.encoded.len() as u64);
        let bytes = |ns: Option<u64>| -> u64 {
            let txs = block.transactions.iter().filter(|t| ns.is_none_or(|n| t.namespace == n));
            txs.map(|t| t.payload.len() as u64).sum()
        };
        assert_eq!(summary.payload_bytes, bytes(None));
        assert!(summary.namespaces.windows(2).all(|w| w[0].namespace < w[1].namespace));
        for entry in &summary.namespaces {
            assert_eq!(entry.payload_bytes, bytes(Some(entry.namespace)));
        }
        let counted: u64 = summary.namespaces.iter().map(|n| n.transactions).sum();
        assert_eq!(counted, summary.transactions);
        // Either hash names the block's height.
        for hash in [block.header.hash, block.digest] {
            let found: Option<u64> =
                typed(call(addr, "trestle_blockHeightByHash", json!([hash])).await);
            assert_eq!(found, Some(height), "{hash}");
        }
        // At least a quorum (3 of 4) of distinct signers, in ascending order.
        assert!(finality.signers.len() >= 3, "{:?}", finality.signers);
        assert!(finality.signers.windows(2).all(|w| w[0] < w[1]));
        assert!(finality.signers.iter().all(|&s| s < 4));
        assert_eq!(finality.view, block.header.header.view.get());
        assert!(!finality.encoded.is_empty());
    }

    // Signatures on the state form a quorum of the committee (once the validator has
    // collected its peers' signatures).
    let start = Instant::now();
    loop {
        let signed: StateSignaturesResponse =
            typed(wait_for(addr, "trestle_stateSignatures", json!([tip])).await);
        let signatures: Vec<StateSignature> = signed
            .signatures
            .iter()
            .map(|s| StateSignature { slot: s.slot, signature: s.signature })
            .collect();
        match trestle_light_client::verify_quorum(&committee, &decoded_state, &signatures) {
            Ok(_) => break,
            Err(e) => assert!(start.elapsed() < Duration::from_secs(30), "no quorum: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let committee: CommitteeInfo = typed(call(addr, "trestle_committee", json!([0])).await);
    assert_eq!(committee, committee_info);
    assert!(call(addr, "trestle_committee", json!([u64::MAX])).await.is_null());

    // The hand-off at the end of epoch 0: its last state, a quorum of epoch 0's committee on
    // it, and epoch 1's committee, which that state commits to.
    let start = Instant::now();
    let proof: EpochProofResponse = loop {
        let proof: EpochProofResponse =
            typed(wait_for(addr, "trestle_epochProof", json!([0])).await);
        if !proof.last.signatures.is_empty() {
            break proof;
        }
        assert!(start.elapsed() < DEADLINE, "epoch 0's last state is still unsigned");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let last = proof.last.state.decode().expect("the state decodes");
    assert_eq!((proof.epoch, last.height, last.epoch), (0, Height(3), Epoch(0)));
    trestle_light_client::verify_quorum(
        &network.genesis.committee,
        &last,
        &proof.last.state_signatures(),
    )
    .expect("epoch 0's committee signed its last state");
    let next = proof.next_committee.to_committee().expect("the next committee is consistent");
    assert_eq!(proof.next_committee.epoch, 1);
    assert_eq!(last.next_committee, next.commitment_bytes(), "the state commits to it");
    assert!(call(addr, "trestle_epochProof", json!([1_000_000])).await.is_null());

    // A transaction of a later epoch is confirmed under the genesis committee through the
    // hand-offs since epoch 0, gathered as `trestle confirm` gathers them.
    let _ = wait_for(addr, "trestle_epochProof", json!([1])).await;
    let late = Transaction::new(Namespace(2), b"after two hand-offs".to_vec());
    let params = json!([{ "namespace": 2, "payload": format!("0x{}",
        alloy_primitives::hex::encode(&late.payload)), "authorization": null }]);
    let _: B256 = typed(call(addr, "trestle_submit", params).await);
    let _ = wait_for(addr, "trestle_txProof", json!([late.hash()])).await;
    let anchor = Anchor {
        chain_id: network.genesis.chain_id,
        epoch: Epoch(0),
        committee: network.genesis.committee.clone(),
        max_payload: limits().max_payload,
        epoch_length: network.genesis.epoch_length,
    };
    let client = connect(&format!("http://{addr}"), Duration::from_secs(10)).expect("client");
    let subject = Subject::Transaction { hash: late.hash() };
    let options = FetchOptions { quorum_wait: DEADLINE };
    let Fetched::Found(found) =
        fetch_evidence(&client, Namespace(2), &subject, Some(&anchor), &options)
            .await
            .expect("evidence")
    else {
        panic!("the transaction is finalized")
    };
    let verdict = verify_confirmation(&found.evidence, Namespace(2), &subject, &anchor)
        .expect("confirmed under the genesis anchor");
    assert!(verdict.header.epoch >= Epoch(2), "{:?}", verdict.header);
    assert_eq!(found.evidence.handoffs.len() as u64, verdict.header.epoch.get());
    assert_eq!(verdict.state.epoch, verdict.header.epoch);

    // Block records (the test rollup's block namespace): found by index with proofs that
    // verify; a second record for a number is refused with its own code and kept as evidence.
    let owner = trestle_node::testing::owner_keys();
    let record_ns = trestle_node::testing::RECORD_NAMESPACE;
    let record = |number: u64, fork: u8| BlockRecord {
        chainId: trestle_node::testing::RECORD_CHAIN_ID,
        number,
        hash: keccak256([number.to_be_bytes().as_slice(), &[fork]].concat()),
        parentHash: keccak256([number.wrapping_sub(1).to_be_bytes().as_slice(), &[0]].concat()),
    };
    let submit_record = |record: BlockRecord| {
        let tx = Transaction::new(record_ns, record.encode());
        let signature = trestle_api::authorization::authorize(&owner.consensus, &tx);
        json!([{
            "namespace": record_ns.get(),
            "payload": format!("0x{}", alloy_primitives::hex::encode(&tx.payload)),
            "authorization": format!("0x{}", alloy_primitives::hex::encode(signature.as_ref())),
        }])
    };
    for number in 1..=3 {
        let _: B256 = typed(call(addr, "trestle_submit", submit_record(record(number, 0))).await);
    }
    let third: BlockRecordResponse =
        typed(wait_for(addr, "trestle_blockRecord", json!([record_ns.get(), 3])).await);
    let (decoded, proof) = third.record_proof().expect("strict record proof");
    assert_eq!(decoded, record(3, 0));
    let tx = third.transaction.decode(limits().max_payload).expect("strict tx");
    let header = third.header.decode().expect("strict header");
    third.proof.decode().expect("tx proof").verify(&tx, &header.payload_root).expect("in block");
    let root_state: LightClientStateResponse =
        typed(call(addr, "trestle_lightClientState", json!([third.history.root_height])).await);
    assert_eq!(proof.historyRoot, root_state.state.history_root);
    verify_history_proof(
        &proof.historyProof,
        &header.hash(),
        header.height,
        &proof.historyRoot,
        Height(third.history.root_height),
    )
    .expect("header under the root");
    let pinned: BlockRecordResponse =
        typed(call(addr, "trestle_blockRecord", json!([record_ns.get(), 3, third.height])).await);
    assert_eq!(pinned.history.root_height, third.height);
    let summary: RecordNamespaceResponse =
        typed(call(addr, "trestle_recordNamespace", json!([record_ns.get()])).await);
    assert_eq!(summary.confirmed.map(|c| (c.first, c.last)), Some((1, 3)));
    assert_eq!(summary.first_record, trestle_node::testing::RECORD_FIRST);
    // Before genesis' first number: refused for good, with the records code.
    let message = call_error(
        addr,
        "trestle_submit",
        submit_record(record(0, 0)),
        i64::from(codes::RECORD_REFUSED),
    )
    .await;
    assert!(message.contains("before the namespace's first record, block 1"), "{message}");
    assert!(call(addr, "trestle_blockRecord", json!([record_ns.get(), 99])).await.is_null());
    let message = call_error(
        addr,
        "trestle_submit",
        submit_record(record(2, 7)),
        i64::from(codes::RECORD_CONFLICT),
    )
    .await;
    assert!(message.contains("equivocation"), "{message}");
    let kept: Vec<EquivocationResponse> =
        typed(call(addr, "trestle_recordEquivocations", json!([record_ns.get()])).await);
    assert_eq!((kept.len(), kept[0].number, kept[0].confirmed_at.is_some()), (1, 2, true));
    let (first, second) = trestle_api::records::verify_equivocation(
        &owner.consensus.public_key(),
        record_ns,
        &kept[0].first,
        &kept[0].second,
    )
    .expect("verifiable evidence");
    assert_eq!((first, second), (record(2, 0), record(2, 7)));
    let not_records = i64::from(codes::NOT_A_BLOCK_NAMESPACE);
    call_error(addr, "trestle_blockRecord", json!([2, 1]), not_records).await;
    call_error(addr, "trestle_recordNamespace", json!([2]), not_records).await;
    call_error(addr, "trestle_recordEquivocations", json!([2]), not_records).await;
    call_error(addr, "trestle_blockRecord", json!([record_ns.get(), 3, 0]), INVALID_PARAMS).await;
    call_error(addr, "trestle_blockRecord", json!([record_ns.get(), 3, u64::MAX]), INVALID_PARAMS)
        .await;
    call_error(
        addr,
        "trestle_recordEquivocations",
        json!([record_ns.get(), 0, 101]),
        INVALID_PARAMS,
    )
    .await;

    // Not (yet) finalized: null.
    for method in ["trestle_header", "trestle_block", "trestle_blockSummary", "trestle_finality"] {
        assert!(call(addr, method, json!([1_000_000_000u64])).await.is_null());
    }
    assert!(call(addr, "trestle_txProof", json!([B256::repeat_byte(1)])).await.is_null());
    assert!(call(addr, "trestle_blockHeightByHash", json!([B256::repeat_byte(1)])).await.is_null());
    call_error(addr, "trestle_blockHeightByHash", json!(["0x12"]), INVALID_PARAMS).await;
    assert!(call(addr, "trestle_historyProof", json!([0, 1_000_000_000u64])).await.is_null());

    // Namespace subscription: a new transaction in namespace 2 arrives with its proof.
    let payload = b"subscribed".to_vec();
    let expected = Transaction::new(Namespace(2), payload.clone());
    let note = with_ws(addr, move |ws| {
        ws.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "trestle_subscribeNamespace",
                "params": [2]}));
        let ack = ws.recv();
        assert!(ack.get("result").is_some(), "{ack}");
        let submit = json!({"jsonrpc": "2.0", "id": 2, "method": "trestle_submit",
                "params": [{"namespace": 2,
                    "payload": format!("0x{}", alloy_primitives::hex::encode(&payload))}]});
        let (status, _) = http_post(addr, submit.to_string().as_bytes());
        assert_eq!(status, 200);
        let note = ws.recv();
        assert_eq!(note["method"], "trestle_subscribeNamespace", "{note}");
        typed::<NamespaceResponse>(note["params"]["result"].clone())
    })
    .await;
    let header = note.header.decode().expect("strict header");
    let txs: Vec<Transaction> = note
        .transactions
        .iter()
        .map(|t| t.decode(limits().max_payload).expect("strict tx"))
        .collect();
    assert!(txs.contains(&expected));
    note.proof
        .expect("namespace proof")
        .decode()
        .expect("strict namespace proof")
        .verify_complete(&txs, &header.payload_root)
        .expect("notified namespace proof verifies");

    // Malformed requests: errors, never a crash.
    const INVALID_PARAMS: i64 = -32602;
    let bad_params = [
        ("trestle_header", json!(["12"])),
        ("trestle_header", json!([-1])),
        ("trestle_header", json!([1.5])),
        ("trestle_header", json!([])),
        ("trestle_namespaceProof", json!([1])),
        ("trestle_txProof", json!(["0x1234"])),
        ("trestle_txProof", json!(["0xzz"])),
        ("trestle_historyProof", json!([5, 2])),
        ("trestle_submit", json!([{"namespace": 1, "payload": "0xabc"}])),
        ("trestle_submit", json!([{"namespace": 1, "payload": "nothex"}])),
        ("trestle_submit", json!([{"namespace": -1, "payload": "0x00"}])),
        ("trestle_submit", json!([{"payload": "0x00"}])),
        ("trestle_submit", json!([{"namespace": 1, "payload": "0x00", "extra": 1}])),
        (
            "trestle_submit",
            json!([{"namespace": 1, "payload": "0x00",
                "authorization": "0x0102"}]),
        ),
    ];
    for (method, params) in bad_params {
        call_error(addr, method, params, INVALID_PARAMS).await;
    }
    call_error(addr, "trestle_nope", json!([]), -32601).await;
    let too_big =
        r#"{"jsonrpc":"2.0","id":1,"method":"trestle_header","params":[18446744073709551616]}"#;
    let (_, response) = call_raw(addr, too_big.into()).await;
    assert_eq!(response["error"]["code"].as_i64(), Some(INVALID_PARAMS), "{response}");
    let oversized = format!("0x{}", "00".repeat(limits().max_payload + 1));
    call_error(
        addr,
        "trestle_submit",
        json!([{"namespace": 1, "payload": oversized}]),
        i64::from(codes::OVERSIZED),
    )
    .await;
    call_error(
        addr,
        "trestle_submit",
        json!([{"namespace": trestle_node::testing::OWNED_NAMESPACE.get(), "payload": "0x01"}]),
        i64::from(codes::MISSING_AUTHORIZATION),
    )
    .await;
    let again = format!("0x{}", alloy_primitives::hex::encode(&submitted[0].payload));
    call_error(
        addr,
        "trestle_submit",
        json!([{"namespace": submitted[0].namespace.get(), "payload": again}]),
        i64::from(codes::ALREADY_FINALIZED),
    )
    .await;
    // A batch: each answered in order, with the code trestle_submit would give it.
    let fresh = |k: u8| json!({"namespace": 2, "payload": format!("0x{}", alloy_primitives::hex::encode([0xb0, k]))});
    let batch = json!([[
        fresh(1),
        fresh(2),
        {"namespace": submitted[0].namespace.get(), "payload": again},
        {"namespace": 1, "payload": oversized},
        {"namespace": 1, "payload": "0x01", "authorization": "0x0102"},
        fresh(1),
    ]]);
    let outcomes: Vec<SubmitOutcome> = typed(call(addr, "trestle_submitBatch", batch).await);
    let codes_of: Vec<Option<i32>> =
        outcomes.iter().map(|o| o.error.as_ref().map(|e| e.code)).collect();
    assert_eq!(
        codes_of,
        [
            None,
            None,
            Some(codes::ALREADY_FINALIZED),
            Some(codes::OVERSIZED),
            Some(INVALID_PARAMS as i32),
            Some(codes::DUPLICATE)
        ],
        "{outcomes:?}"
    );
    assert_eq!(outcomes[0].hash, Transaction::new(Namespace(2), vec![0xb0, 1]).hash());
    assert_eq!(outcomes[5].hash, outcomes[0].hash);
    assert_eq!(outcomes[2].hash, submitted[0].hash());
    assert!(outcomes[0].is_known() && outcomes[2].is_known() && outcomes[5].is_known());
    assert!(!outcomes[3].is_known() && !outcomes[4].is_known());
    for admitted in &outcomes[..2] {
        let _ = wait_for(addr, "trestle_txProof", json!([admitted.hash])).await;
    }
    // A batch over the limit is refused whole.
    let many: Vec<Value> = (0..=MAX_SUBMIT_BATCH)
        .map(|k| json!({"namespace": 3, "payload": format!("0x{k:08x}")}))
        .collect();
    call_error(addr, "trestle_submitBatch", json!([many]), INVALID_PARAMS).await;

    // Not JSON, and a body beyond the limit.
    let (_, garbage) = call_raw(addr, "{not json".into()).await;
    assert_eq!(garbage["error"]["code"].as_i64(), Some(-32700), "{garbage}");
    let huge = "x".repeat(rpc_config.max_request_body_size() as usize + 1);
    let (status, _) = tokio::task::spawn_blocking(move || http_post(addr, huge.as_bytes()))
        .await
        .expect("client thread");
    assert_eq!(status, 413, "oversized body accepted");

    // Still serving.
    let after: u64 = typed(call(addr, "trestle_blockHeight", json!([])).await);
    assert!(after >= tip);
    drop(local);
}
