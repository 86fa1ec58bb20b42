//! A network endpoint that lies about transaction proofs, for the relayer's failover tests.

/// An endpoint that lies: it forwards every JSON-RPC request to an honest validator and
/// returns its answers, except that every `trestle_txProof` answer has its encoded transaction
/// proof altered (its last byte flipped). Counts the answers it altered. Stops on drop.
pub(crate) struct LyingEndpoint {
    pub(crate) url: String,
    pub(crate) lies: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl LyingEndpoint {
    pub(crate) async fn start(honest: String) -> Self {
        use axum::{body::Bytes as Body, extract::State, routing::post};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let lies = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let state = (honest, alloy::transports::http::reqwest::Client::new(), lies.clone());
        let app = axum::Router::new()
            .route(
                "/",
                post(
                    |State((honest, http, lies)): State<(
                        String,
                        _,
                        std::sync::Arc<std::sync::atomic::AtomicUsize>,
                    )>,
                     body: Body| async move {
                        let http: alloy::transports::http::reqwest::Client = http;
                        let request: serde_json::Value =
                            serde_json::from_slice(&body).unwrap_or_default();
                        let answer = http
                            .post(&honest)
                            .header("content-type", "application/json")
                            .body(body.to_vec())
                            .send()
                            .await
                            .expect("the honest endpoint answers")
                            .text()
                            .await
                            .expect("its answer");
                        let mut answer: serde_json::Value =
                            serde_json::from_str(&answer).expect("JSON answer");
                        if request["method"] == "trestle_txProof"
                            && let Some(encoded) = answer["result"]["proof"]["encoded"].as_str()
                        {
                            let mut bytes =
                                hex::decode(encoded.trim_start_matches("0x")).expect("hex");
                            if let Some(last) = bytes.last_mut() {
                                *last ^= 1;
                            }
                            answer["result"]["proof"]["encoded"] =
                                serde_json::Value::String(format!("0x{}", hex::encode(bytes)));
                            lies.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        ([("content-type", "application/json")], answer.to_string())
                    },
                ),
            )
            // Submissions through the binary ingress path are forwarded as they are (the liar
            // lies about proofs only).
            .route(
                trestle_api::binary::BINARY_SUBMIT_PATH,
                post(
                    |State((honest, http, _)): State<(
                        String,
                        alloy::transports::http::reqwest::Client,
                        std::sync::Arc<std::sync::atomic::AtomicUsize>,
                    )>,
                     body: Body| async move {
                        let url = format!(
                            "{}{}",
                            honest.trim_end_matches('/'),
                            trestle_api::binary::BINARY_SUBMIT_PATH
                        );
                        let answer = http
                            .post(url)
                            .header("content-type", trestle_api::binary::BINARY_CONTENT_TYPE)
                            .body(body.to_vec())
                            .send()
                            .await
                            .expect("the honest endpoint answers");
                        let status = axum::http::StatusCode::from_u16(answer.status().as_u16())
                            .expect("an HTTP status");
                        let text = answer.text().await.expect("its answer");
                        (status, [("content-type", "application/json")], text)
                    },
                ),
            )
            .with_state(state);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, lies, task }
    }

    pub(crate) fn lies(&self) -> usize {
        self.lies.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for LyingEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}
