//! Failover between network endpoints: a transport failure moves to the next endpoint, which
//! the client then sticks to; an error answer (a refusal) is returned, not failed over.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{Json, Router, routing::post};
use trestle_relayer::network::{Network, NetworkError};

/// A JSON-RPC endpoint answering every request with `answer` (a `result` or an `error` object),
/// counting the requests it gets.
async fn stub(answer: serde_json::Value) -> (SocketAddr, Arc<AtomicUsize>) {
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    let app = Router::new().route(
        "/",
        post(move |Json(request): Json<serde_json::Value>| {
            let answer = answer.clone();
            counted.fetch_add(1, Ordering::SeqCst);
            async move {
                let mut response = serde_json::json!({ "jsonrpc": "2.0", "id": request["id"] });
                for key in ["result", "error"] {
                    if let Some(value) = answer.get(key) {
                        response[key] = value.clone();
                    }
                }
                Json(response)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, requests)
}

/// An endpoint that accepts connections and closes them at once (a validator going down),
/// counting them.
async fn hangs_up() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (addr, accepted)
}

/// A closed local port (bound, then released).
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    format!("http://{}", listener.local_addr().expect("addr"))
}

#[tokio::test]
async fn a_dead_endpoint_is_skipped_and_the_live_one_kept() {
    let (dying, hung_up) = hangs_up().await;
    let (live, answered) = stub(serde_json::json!({ "result": 7 })).await;
    let network =
        Network::connect(&[closed_port(), format!("http://{dying}"), format!("http://{live}")])
            .expect("clients");
    assert_eq!(network.finalized_height().await.expect("failed over"), 7);
    assert_eq!((hung_up.load(Ordering::SeqCst), answered.load(Ordering::SeqCst)), (1, 1));
    // Sticky: the next request goes straight to the endpoint that answered.
    assert_eq!(network.finalized_height().await.expect("sticks"), 7);
    assert_eq!((hung_up.load(Ordering::SeqCst), answered.load(Ordering::SeqCst)), (1, 2));
}

#[tokio::test]
async fn a_refusal_is_an_answer_not_a_reason_to_fail_over() {
    let (refusing, refused) =
        stub(serde_json::json!({ "error": { "code": -32602, "message": "malformed" } })).await;
    let (live, answered) = stub(serde_json::json!({ "result": 7 })).await;
    let network = Network::connect(&[format!("http://{refusing}"), format!("http://{live}")])
        .expect("clients");
    let error = network.finalized_height().await.expect_err("the refusal comes back");
    assert!(matches!(error, NetworkError::Rpc(_)), "{error}");
    assert_eq!((refused.load(Ordering::SeqCst), answered.load(Ordering::SeqCst)), (1, 0));
}

#[tokio::test]
async fn when_every_endpoint_is_dead_the_transport_failure_comes_back() {
    let network = Network::connect(&[closed_port(), closed_port()]).expect("clients");
    let error = network.finalized_height().await.expect_err("no endpoint answers");
    assert!(matches!(error, NetworkError::Rpc(_)), "{error}");
    assert!(matches!(Network::connect::<String>(&[]), Err(NetworkError::NoEndpoint)));
}
