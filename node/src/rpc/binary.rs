//! The binary ingress path: `POST` [`BINARY_SUBMIT_PATH`] with a batch in the format of
//! [`trestle_api::binary`], served on the JSON-RPC listener.
//!
//! [`BinaryLayer`] is a tower layer given to jsonrpsee's HTTP middleware: a request for that
//! path is answered here, every other request (JSON-RPC over HTTP, WebSocket upgrades) passes
//! through untouched. The batch goes to the same function as `trestle_submitBatch`
//! ([`Api::submit_many`]), so the checks, the admission and the per-transaction refusals are
//! identical; only the transport differs.
//!
//! Bad input is answered, never fatal: a method other than `POST` gets `405`, a content type
//! other than `application/octet-stream` or a body that is not a batch `400`, a body over the
//! server's request body bound `413` (the body is read with that bound, and a `Content-Length`
//! over it is refused before reading), and more requests in flight than the server's connection
//! limit `429`; each with a JSON `{"code", "message"}`.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use jsonrpsee::{
    core::BoxError,
    server::{HttpBody, HttpRequest, HttpResponse},
};
use tokio::sync::Semaphore;
use tracing::debug;
use trestle_api::{
    SubmitFailure,
    binary::{
        BINARY_CONTENT_TYPE, BINARY_SUBMIT_PATH, BODY_TOO_LARGE, INVALID_BODY, INVALID_REQUEST,
        decode_batch,
    },
    codes,
};

use super::handlers::Api;

/// The layer that serves the binary path in front of jsonrpsee's HTTP service.
#[derive(Clone)]
pub(super) struct BinaryLayer {
    api: Api,
    /// Largest body read (the server's request body bound).
    max_body: usize,
    /// Binary requests in flight (bounded like the server's connections).
    in_flight: Arc<Semaphore>,
}

impl BinaryLayer {
    /// Serves the binary path with `api`, reading bodies of at most `max_body` bytes and at
    /// most `max_in_flight` requests at once.
    pub(super) fn new(api: Api, max_body: usize, max_in_flight: usize) -> Self {
        Self { api, max_body, in_flight: Arc::new(Semaphore::new(max_in_flight.max(1))) }
    }
}

impl<S> tower::Layer<S> for BinaryLayer {
    type Service = BinaryService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BinaryService { inner, layer: self.clone() }
    }
}

/// [`BinaryLayer`]'s service: the binary path here, everything else to `inner`.
#[derive(Clone)]
pub(super) struct BinaryService<S> {
    inner: S,
    layer: BinaryLayer,
}

impl<S> tower::Service<HttpRequest> for BinaryService<S>
where
    S: tower::Service<HttpRequest, Response = HttpResponse, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: HttpRequest) -> Self::Future {
        if request.uri().path() != BINARY_SUBMIT_PATH {
            return Box::pin(self.inner.call(request));
        }
        let layer = self.layer.clone();
        Box::pin(async move { Ok(answer(layer, request).await) })
    }
}

/// The answer to a request for the binary path.
async fn answer(layer: BinaryLayer, request: HttpRequest) -> HttpResponse {
    if request.method() != Method::POST {
        let mut response = refusal(
            StatusCode::METHOD_NOT_ALLOWED,
            INVALID_REQUEST,
            format!("{BINARY_SUBMIT_PATH} takes POST, not {}", request.method()),
        );
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    if !is_binary(request.headers().get(header::CONTENT_TYPE)) {
        return refusal(
            StatusCode::BAD_REQUEST,
            INVALID_REQUEST,
            format!("{BINARY_SUBMIT_PATH} takes Content-Type: {BINARY_CONTENT_TYPE}"),
        );
    }
    let Ok(_permit) = layer.in_flight.clone().try_acquire_owned() else {
        return refusal(
            StatusCode::TOO_MANY_REQUESTS,
            codes::UNAVAILABLE,
            "too many binary submissions in flight",
        );
    };
    let too_large = || {
        refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            BODY_TOO_LARGE,
            format!("the body exceeds this node's limit of {} bytes", layer.max_body),
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > layer.max_body as u64) {
        return too_large();
    }
    let body = match Limited::new(request.into_body(), layer.max_body).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => return too_large(),
        Err(e) => {
            debug!(error = %e, "binary submission: the body could not be read");
            return refusal(
                StatusCode::BAD_REQUEST,
                INVALID_BODY,
                format!("cannot read the body: {e}"),
            );
        }
    };
    // The body bound as the payload bound: an oversized payload decodes and gets the
    // per-transaction OVERSIZED refusal, as over JSON.
    let requests = match decode_batch(&body, layer.max_body) {
        Ok(requests) => requests,
        Err(e) => {
            debug!(error = %e, "binary submission refused");
            return refusal(StatusCode::BAD_REQUEST, INVALID_BODY, e.to_string());
        }
    };
    match layer.api.submit_many(requests).await {
        Ok(outcomes) => match serde_json::to_vec(&outcomes) {
            Ok(json) => json_response(StatusCode::OK, json),
            Err(e) => refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::UNAVAILABLE,
                format!("cannot encode the answer: {e}"),
            ),
        },
        Err(refused) => {
            refusal(StatusCode::BAD_REQUEST, refused.code(), refused.message().to_owned())
        }
    }
}

/// Whether the content type is [`BINARY_CONTENT_TYPE`] (parameters allowed, case ignored).
fn is_binary(content_type: Option<&HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|value| value.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case(BINARY_CONTENT_TYPE)
}

/// A refusal: `status` with the JSON `{"code", "message"}`.
fn refusal(status: StatusCode, code: i32, message: impl Into<String>) -> HttpResponse {
    let failure = SubmitFailure { code, message: message.into() };
    // A struct of an integer and a string always serializes.
    let json = serde_json::to_vec(&failure).unwrap_or_default();
    json_response(status, json)
}

fn json_response(status: StatusCode, json: Vec<u8>) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(json));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use jsonrpsee::types::error::{
        INVALID_PARAMS_CODE, INVALID_REQUEST_CODE, OVERSIZED_REQUEST_CODE,
    };

    use super::*;

    #[test]
    fn the_binary_codes_are_jsonrpsee_s() {
        assert_eq!(INVALID_BODY, INVALID_PARAMS_CODE);
        assert_eq!(INVALID_REQUEST, INVALID_REQUEST_CODE);
        assert_eq!(BODY_TOO_LARGE, OVERSIZED_REQUEST_CODE);
    }

    #[test]
    fn content_types() {
        let is = |value: &'static str| is_binary(Some(&HeaderValue::from_static(value)));
        assert!(is("application/octet-stream"));
        assert!(is("Application/Octet-Stream; charset=binary"));
        assert!(!is("application/json"));
        assert!(!is("application/octet-streamx"));
        assert!(!is_binary(None));
    }
}
