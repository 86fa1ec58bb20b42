//! What the scenarios share beyond `trestle_node::testing`: the seeded runner, transaction
//! helpers and a raw HTTP client (for requests a typed client would never send).

use std::{
    io::{Read as _, Write as _},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

use commonware_runtime::deterministic;
use trestle_light_client::{Namespace, Transaction};
use trestle_node::BlockTransaction;

/// A deterministic runtime for `seed` that gives up after `timeout` of simulated time.
pub(crate) fn runner(seed: u64, timeout: Duration) -> deterministic::Runner {
    // Logs follow RUST_LOG (errors only by default); run with `--nocapture` to see them.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    deterministic::Runner::new(
        deterministic::Config::new().with_seed(seed).with_timeout(Some(timeout)),
    )
}

/// A transaction of an unowned namespace.
pub(crate) fn tx(namespace: u64, payload: &[u8]) -> BlockTransaction {
    BlockTransaction::unowned(Transaction::new(Namespace(namespace), payload.to_vec()))
}

/// Submits `transaction` to `mailbox` as a client that must not lose it does: while the answer
/// is `NotReplicated` (no peer said it holds it in time: a lossy link, a peer reconnecting), it
/// resubmits, at most 10 times; a `Duplicate` after that means it is held now. Other refusals
/// are returned.
pub(crate) async fn submit_held(
    mailbox: &trestle_node::Mailbox,
    transaction: BlockTransaction,
) -> Result<trestle_light_client::B256, trestle_node::mempool::SubmitError> {
    use trestle_node::mempool::SubmitError;
    let mut last = None;
    for attempt in 0..10 {
        match mailbox.submit(transaction.clone()).await {
            Err(SubmitError::NotReplicated { .. }) => last = Some(attempt),
            Err(SubmitError::Duplicate(hash)) if last.is_some() => return Ok(hash),
            answer => return answer,
        }
    }
    Err(SubmitError::NotReplicated { hash: transaction.transaction.hash(), holders: 0, needed: 1 })
}

/// Socket timeout of [`raw_http`].
const HTTP_IO_TIMEOUT: Duration = Duration::from_secs(10);

/// One raw HTTP/1.1 request (`Connection: close`), blocking: `method path` with `content_type`
/// and `body` (its length declared). Returns the status code, the response head and its body.
pub(crate) fn raw_http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, String, String) {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    raw_http_exchange(addr, &head, body)
}

/// Writes `head` and then `body` as they are (a request [`raw_http`] would not form, such as a
/// chunked one), blocking; returns the status code, the response head and its body.
pub(crate) fn raw_http_exchange(
    addr: SocketAddr,
    head: &str,
    body: &[u8],
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(HTTP_IO_TIMEOUT)).expect("timeout");
    stream.write_all(head.as_bytes()).expect("write head");
    // The server may answer (and close) before reading an oversized body.
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_owned(), body.to_owned())
}
