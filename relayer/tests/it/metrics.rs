//! The metrics the relayer exports, in Prometheus' text format.

use trestle_relayer::{config::Role, metrics::Metrics};

#[test]
fn metrics_are_exported_by_chain_and_role() {
    let metrics = Metrics::new();
    metrics.posted_block("a", 2, 8);
    metrics.discovered("a", 3, 1);
    metrics.discovery_cursor(42);
    metrics.proof_submitted("b");
    metrics.proved(1.5);
    metrics.delivered("b");
    metrics.recipient_failed("b");
    metrics.error(Role::Deliver);
    metrics.light_client_height("b", 120);
    metrics.finalized_height(130);
    metrics.pending_messages(3);
    metrics.unfinalized_submissions("a", 4);
    metrics.resubmitted("a");
    let text = metrics.encode();
    for line in [
        r#"relayer_posted_blocks_total{chain="a"} 1"#,
        r#"relayer_posted_messages_total{chain="a"} 2"#,
        r#"relayer_source_cursor{chain="a"} 8"#,
        r#"relayer_discovered_messages_total{chain="a"} 3"#,
        r#"relayer_discovery_skipped_total{chain="a"} 1"#,
        "relayer_discovery_cursor 42",
        r#"relayer_proofs_submitted_total{chain="b"} 1"#,
        r#"relayer_deliveries_total{chain="b"} 1"#,
        r#"relayer_recipient_failures_total{chain="b"} 1"#,
        r#"relayer_errors_total{role="deliver"} 1"#,
        r#"relayer_light_client_height{chain="b"} 120"#,
        "relayer_finalized_height 130",
        "relayer_pending_messages 3",
        r#"relayer_unfinalized_submissions{chain="a"} 4"#,
        r#"relayer_resubmissions_total{chain="a"} 1"#,
        "relayer_proving_seconds_count 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing from:\n{text}");
    }
}

#[tokio::test]
async fn metrics_are_served_over_http() {
    let metrics = Metrics::new();
    metrics.finalized_height(7);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let addr = metrics
        .serve("127.0.0.1:0".parse().expect("addr"), async move {
            let _ = stopped.await;
        })
        .await
        .expect("serves");
    let body = tokio::task::spawn_blocking(move || {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response");
        response
    })
    .await
    .expect("client");
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("relayer_finalized_height 7"), "{body}");
    let _ = stop.send(());
}
