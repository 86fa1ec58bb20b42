//! The binary ingress path (`POST /v1/submitBatch`, `trestle_api::binary`) on validators over
//! loopback: batches are admitted and finalized with the hashes `trestle_submitBatch` gives,
//! per-transaction refusals are the JSON path's, malformed requests get typed HTTP errors, and
//! the node keeps serving and finalizing after all of them.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use alloy_primitives::Bytes;
use trestle_api::{
    MAX_SUBMIT_BATCH, SubmitFailure, SubmitOutcome, SubmitRequest, TrestleApiClient as _,
    binary::{
        BINARY_SUBMIT_PATH, BODY_TOO_LARGE, BinaryClient, BinaryClientError, BinaryError,
        INVALID_BODY, INVALID_REQUEST, encode_batch,
    },
    client::{HttpClient, connect},
    codes,
};
use trestle_light_client::{B256, Namespace, Transaction};
use trestle_node::{
    rpc::RpcConfig,
    testing::{OWNED_NAMESPACE, TestGenesis, local::LocalNetwork, owner_keys},
};

/// How long any wait in this test may take before it fails.
const DEADLINE: Duration = Duration::from_secs(45);
/// Timeout of the typed clients' requests.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// JSON-RPC's invalid params.
const INVALID_PARAMS: i32 = jsonrpsee::types::error::INVALID_PARAMS_CODE;

/// `method BINARY_SUBMIT_PATH` with `content_type` and `body` (with its length).
async fn request(
    addr: SocketAddr,
    method: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, String, String) {
    let (method, content_type) = (method.to_owned(), content_type.to_owned());
    tokio::task::spawn_blocking(move || {
        crate::common::raw_http(addr, &method, BINARY_SUBMIT_PATH, &content_type, &body)
    })
    .await
    .expect("client thread")
}

/// Posts `body` as a binary batch; it must be refused with `status` and `code`. Returns the
/// message.
async fn refused(addr: SocketAddr, body: Vec<u8>, status: u16, code: i32) -> String {
    let (got, head, answer) = request(addr, "POST", "application/octet-stream", body).await;
    typed_refusal(got, &head, &answer, status, code)
}

fn typed_refusal(got: u16, head: &str, answer: &str, status: u16, code: i32) -> String {
    assert_eq!(got, status, "{head}\n{answer}");
    assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
    let failure: SubmitFailure = serde_json::from_str(answer).expect("a typed JSON error");
    assert_eq!(failure.code, code, "{failure:?}");
    assert!(!failure.message.is_empty());
    failure.message
}

fn unowned(namespace: u64, payload: &[u8]) -> SubmitRequest {
    SubmitRequest { namespace, payload: Bytes::copy_from_slice(payload), authorization: None }
}

fn hash_of(request: &SubmitRequest) -> B256 {
    Transaction::new(Namespace(request.namespace), request.payload.to_vec()).hash()
}

/// Waits until every hash has a transaction proof (finalized) on `client`.
async fn wait_finalized(client: &HttpClient, hashes: &[B256]) {
    let start = Instant::now();
    for hash in hashes {
        loop {
            if let Some(inclusion) = client.tx_proof(*hash).await.expect("trestle_txProof") {
                assert_eq!(inclusion.transaction.hash, *hash);
                break;
            }
            assert!(start.elapsed() < DEADLINE, "{hash} not finalized within {DEADLINE:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The failures of `outcomes`, with each message's own transaction hash replaced by `H` (a
/// duplicate's message names it), for comparing two paths' answers.
fn failures(outcomes: &[SubmitOutcome]) -> Vec<Option<(i32, String)>> {
    outcomes
        .iter()
        .map(|o| o.error.as_ref().map(|e| (e.code, e.message.replace(&o.hash.to_string(), "H"))))
        .collect()
}

#[tokio::test]
async fn binary_ingress_admits_refuses_and_survives_bad_requests() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let storage = tempfile::tempdir().expect("temp dir");
    // The smallest committee (4), on loopback; the test talks to the first validator.
    let network = TestGenesis::new(4).build();
    let validators: Vec<_> = (0..4).map(|i| network.validator(i, format!("ingress{i}"))).collect();
    let limits = validators[0].params().limits;
    let max_body = RpcConfig::new(limits).max_request_body_size() as usize;
    let local = LocalNetwork::start(storage.path().to_path_buf(), validators);
    let addr = local.rpc(0);
    let json = connect(&local.url(0), IO_TIMEOUT).expect("JSON-RPC client");
    let binary = BinaryClient::new(&local.url(0), IO_TIMEOUT).expect("binary client");
    assert_eq!(binary.url(), format!("http://{addr}{BINARY_SUBMIT_PATH}"));

    // A batch is admitted with the hashes trestle_submitBatch gives, and finalized.
    let owner = owner_keys();
    let owned_tx = Transaction::new(OWNED_NAMESPACE, b"owned, binary".to_vec());
    let signature = trestle_api::authorization::authorize(&owner.consensus, &owned_tx);
    let batch = vec![
        unowned(2, b"binary one"),
        unowned(2, &[0u8; 300]),
        unowned(3, b""),
        SubmitRequest {
            namespace: OWNED_NAMESPACE.get(),
            payload: owned_tx.payload.clone(),
            authorization: Some(Bytes::copy_from_slice(signature.as_ref())),
        },
    ];
    let outcomes = binary.submit_batch(&batch).await.expect("binary batch");
    let hashes: Vec<B256> = batch.iter().map(hash_of).collect();
    assert_eq!(outcomes.iter().map(|o| o.hash).collect::<Vec<_>>(), hashes);
    assert!(outcomes.iter().all(|o| o.error.is_none()), "{outcomes:?}");
    // The JSON path names the same transactions: they are known now.
    let again = json.submit_batch(batch.clone()).await.expect("trestle_submitBatch");
    assert_eq!(again.iter().map(|o| o.hash).collect::<Vec<_>>(), hashes);
    assert!(again.iter().all(|o| o.is_known() && o.error.is_some()), "{again:?}");
    wait_finalized(&json, &hashes).await;

    // Per-transaction refusals: the JSON path's codes and messages, item by item.
    let refusals = |tag: &[u8]| {
        let fresh = unowned(2, &[b"fresh ".as_slice(), tag].concat());
        vec![
            fresh.clone(),
            unowned(2, &vec![7u8; limits.max_payload + 1]),
            unowned(OWNED_NAMESPACE.get(), b"no authorization"),
            SubmitRequest { authorization: Some(Bytes::from(vec![1u8; 10])), ..unowned(2, b"m") },
            fresh,
        ]
    };
    let over_binary = binary.submit_batch(&refusals(b"binary")).await.expect("binary refusals");
    let over_json = json.submit_batch(refusals(b"json")).await.expect("JSON refusals");
    let codes_of: Vec<Option<i32>> =
        over_binary.iter().map(|o| o.error.as_ref().map(|e| e.code)).collect();
    assert_eq!(
        codes_of,
        [
            None,
            Some(codes::OVERSIZED),
            Some(codes::MISSING_AUTHORIZATION),
            Some(INVALID_PARAMS),
            Some(codes::DUPLICATE)
        ],
        "{over_binary:?}"
    );
    assert_eq!(failures(&over_binary), failures(&over_json));
    let expected: Vec<B256> = refusals(b"binary").iter().map(hash_of).collect();
    assert_eq!(over_binary.iter().map(|o| o.hash).collect::<Vec<_>>(), expected);
    // An already finalized transaction, as over JSON.
    let finalized = binary.submit(batch[0].clone()).await.expect("resubmission");
    assert_eq!(finalized.error.map(|e| e.code), Some(codes::ALREADY_FINALIZED));

    // The client refuses what the format cannot carry, before sending.
    let many = vec![unowned(2, b"x"); MAX_SUBMIT_BATCH + 1];
    let error = binary.submit_batch(&many).await.expect_err("too many");
    assert!(
        matches!(error, BinaryClientError::Encode(BinaryError::TooManyTransactions { .. })),
        "{error}"
    );

    // Malformed requests: typed HTTP errors.
    let valid = encode_batch(&[unowned(4, b"never admitted")]).expect("encodes");
    let message = refused(addr, b"hello, node".to_vec(), 400, INVALID_BODY).await;
    assert!(message.contains("TRSB"), "{message}");
    refused(addr, Vec::new(), 400, INVALID_BODY).await;
    let message = refused(addr, valid[..valid.len() - 1].to_vec(), 400, INVALID_BODY).await;
    assert!(message.contains("truncated"), "{message}");
    let mut trailing = valid.clone();
    trailing.push(0);
    let message = refused(addr, trailing, 400, INVALID_BODY).await;
    assert!(message.contains("trailing"), "{message}");
    let mut over = valid[..5].to_vec();
    over.extend_from_slice(&(MAX_SUBMIT_BATCH as u32 + 1).to_be_bytes());
    let message = refused(addr, over, 400, INVALID_BODY).await;
    assert!(message.contains("at most 1024"), "{message}");
    let mut version = valid.clone();
    version[4] = 9;
    refused(addr, version, 400, INVALID_BODY).await;
    let mut flag = valid.clone();
    let last = flag.len() - 1;
    flag[last] = 5;
    refused(addr, flag, 400, INVALID_BODY).await;

    let (status, head, answer) = request(addr, "GET", "application/octet-stream", vec![]).await;
    typed_refusal(status, &head, &answer, 405, INVALID_REQUEST);
    assert!(head.to_ascii_lowercase().contains("allow: post"), "{head}");
    let (status, head, answer) =
        request(addr, "PUT", "application/octet-stream", valid.clone()).await;
    typed_refusal(status, &head, &answer, 405, INVALID_REQUEST);
    let (status, head, answer) = request(addr, "POST", "application/json", valid.clone()).await;
    typed_refusal(status, &head, &answer, 400, INVALID_REQUEST);

    // Oversized: a body over the bound, declared; and one streamed without a length.
    refused(addr, vec![0u8; max_body + 1], 413, BODY_TOO_LARGE).await;
    let chunk = vec![b'x'; max_body + 1];
    let head = format!(
        "POST {BINARY_SUBMIT_PATH} HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n"
    );
    let body = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n0\r\n\r\n"].concat();
    let (status, head, answer) =
        tokio::task::spawn_blocking(move || crate::common::raw_http_exchange(addr, &head, &body))
            .await
            .expect("client thread");
    typed_refusal(status, &head, &answer, 413, BODY_TOO_LARGE);

    // The content type's parameters and case do not matter.
    let typed_body = encode_batch(&[unowned(4, b"with parameters")]).expect("encodes");
    let (status, _, answer) =
        request(addr, "POST", "Application/Octet-Stream; charset=binary", typed_body).await;
    assert_eq!(status, 200, "{answer}");
    let accepted: Vec<SubmitOutcome> = serde_json::from_str(&answer).expect("outcomes");
    assert!(accepted.len() == 1 && accepted[0].error.is_none(), "{accepted:?}");

    // Nothing of the refused requests got in; the node still serves and finalizes.
    let never = Transaction::new(Namespace(4), b"never admitted".to_vec()).hash();
    assert!(json.tx_proof(never).await.expect("trestle_txProof").is_none());
    let height = json.block_height().await.expect("trestle_blockHeight");
    let last = unowned(2, b"after the bad requests");
    let outcome = binary.submit(last.clone()).await.expect("binary submission");
    assert_eq!((outcome.hash, outcome.error), (hash_of(&last), None));
    wait_finalized(&json, &[outcome.hash]).await;
    assert!(json.block_height().await.expect("trestle_blockHeight") > height);
    drop(local);
}
