//! The explorer's HTTP server: the page, its files, and the proxy routes.
//!
//! - `GET /`: the page; `GET /assets/<file>`: its scripts and styles (embedded);
//!   `GET /vendor/<file>`: the chart library (from `explorer/node_modules`);
//! - `GET /api/config`: the endpoints and chains the explorer was given;
//! - `POST /api/rpc/<i>`: JSON-RPC to validator `i` (reads only);
//! - `GET /api/relayer/status`, `GET /api/relayer/messages[?failed]`: the relayer's status
//!   endpoints;
//! - `POST /api/evm/<chainId>`: JSON-RPC to that EVM chain (reads only).
//!
//! Every `/api` failure is `{"error": {"kind", "message", "upstream"}}` with a 4xx/5xx status.

use std::{path::PathBuf, sync::Arc};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Path, RawQuery, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};

use super::{
    assets,
    config::Endpoints,
    proxy::{Allowed, MAX_REQUEST_BYTES, ProxyError, Upstream, check_methods},
};

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) endpoints: Endpoints,
    pub(crate) upstream: Upstream,
    /// The explorer directory (`explorer/`, with `node_modules` once installed).
    pub(crate) dir: PathBuf,
}

type AppState = State<Arc<Shared>>;

/// The explorer's routes over `shared`.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/assets/{file}", get(asset))
        .route("/vendor/{file}", get(vendor))
        .route("/api/config", get(config))
        .route("/api/rpc/{index}", post(rpc))
        .route("/api/relayer/{what}", get(relayer))
        .route("/api/evm/{chain}", post(evm))
        .fallback(not_found)
        .with_state(shared)
}

/// A response with `content_type` and headers that keep the page to its own origin.
fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Body>) -> Response {
    let mut response = (status, body.into()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Scripts and data from this origin only; uPlot sizes its elements with inline styles.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
        ),
    );
    response
}

const JSON: &str = "application/json";

impl IntoResponse for ProxyError {
    fn into_response(self) -> Response {
        respond(self.status(), JSON, self.to_json())
    }
}

async fn index() -> Response {
    respond(StatusCode::OK, "text/html; charset=utf-8", assets::INDEX_HTML)
}

async fn asset(Path(file): Path<String>) -> Response {
    match assets::embedded(&file) {
        Some((kind, body)) => respond(StatusCode::OK, kind, body),
        None => not_found().await,
    }
}

async fn vendor(State(shared): AppState, Path(file): Path<String>) -> Response {
    let Some((kind, path)) = assets::vendored(&shared.dir, &file) else {
        return not_found().await;
    };
    match tokio::fs::read(&path).await {
        Ok(body) => respond(StatusCode::OK, kind, body),
        // The page works without its chart and says why.
        Err(e) => respond(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain; charset=utf-8",
            format!("{}: {e} (run `npm ci` in {})", path.display(), shared.dir.display()),
        ),
    }
}

async fn not_found() -> Response {
    ProxyError::UnknownEndpoint("no such page".into()).into_response()
}

async fn config(State(shared): AppState) -> Response {
    let mut page = serde_json::to_value(shared.endpoints.page()).unwrap_or_default();
    if let Some(object) = page.as_object_mut() {
        object.insert("chartLibrary".into(), assets::installed(&shared.dir).into());
    }
    respond(StatusCode::OK, JSON, serde_json::to_vec(&page).unwrap_or_default())
}

/// The request body, refused past [`MAX_REQUEST_BYTES`] (read that far at most).
async fn bounded(body: Body) -> Result<Bytes, ProxyError> {
    axum::body::to_bytes(body, MAX_REQUEST_BYTES)
        .await
        .map_err(|_| ProxyError::RequestTooLarge { limit: MAX_REQUEST_BYTES })
}

async fn rpc(State(shared): AppState, Path(index): Path<String>, body: Body) -> Response {
    let forwarded = async {
        let url = index
            .parse::<usize>()
            .ok()
            .and_then(|i| shared.endpoints.validator(i))
            .ok_or_else(|| ProxyError::UnknownEndpoint(format!("no validator {index:?}")))?;
        let body = bounded(body).await?;
        check_methods(&body, Allowed::TrestleReads)?;
        shared.upstream.post_json(url, body).await
    };
    answer(forwarded.await)
}

async fn relayer(
    State(shared): AppState,
    Path(what): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let forwarded = async {
        let status = shared.endpoints.relayer_status().ok_or_else(|| {
            ProxyError::NotConfigured("no relayer configured (--relayer-status URL)".into())
        })?;
        let base = status.trim_end_matches("/status");
        let url = match (what.as_str(), query.as_deref()) {
            ("status", None) => status.clone(),
            ("messages", None) => format!("{base}/messages"),
            ("messages", Some("failed")) => format!("{base}/messages?failed"),
            _ => return Err(ProxyError::UnknownEndpoint(format!("no relayer endpoint {what:?}"))),
        };
        shared.upstream.get(&url).await
    };
    answer(forwarded.await)
}

async fn evm(State(shared): AppState, Path(chain): Path<String>, body: Body) -> Response {
    let forwarded = async {
        let url = chain
            .parse::<u64>()
            .ok()
            .and_then(|id| shared.endpoints.evm(id))
            .ok_or_else(|| ProxyError::UnknownEndpoint(format!("no EVM chain {chain:?}")))?;
        let body = bounded(body).await?;
        check_methods(&body, Allowed::EvmReads)?;
        shared.upstream.post_json(&url, body).await
    };
    answer(forwarded.await)
}

fn answer(result: Result<Bytes, ProxyError>) -> Response {
    match result {
        Ok(body) => respond(StatusCode::OK, JSON, body),
        Err(error) => error.into_response(),
    }
}
