//! Per-request tracing: W3C `traceparent` in, a trace id out (`x-trace-id`), a span per
//! request, and latency by route for the metrics.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;

use super::ApiState;
use super::error::FailureDetail;
use super::types::RequestView;

/// The trace a request belongs to (32 lowercase hex), and the request's own span (16 hex) when
/// spans are exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceId {
    pub id: String,
    pub span: Option<String>,
}

/// The trace id and parent span id of a W3C `traceparent` header
/// (`00-<32 hex>-<16 hex>-<2 hex>`), if valid.
pub fn parse_traceparent(value: &str) -> Option<(String, String)> {
    let mut parts = value.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let valid = hex(version, 2)
        && version != "ff"
        && hex(trace, 32)
        && trace.bytes().any(|b| b != b'0')
        && hex(parent, 16)
        && parent.bytes().any(|b| b != b'0')
        && hex(flags, 2)
        && (version != "00" || parts.next().is_none());
    valid.then(|| (trace.to_owned(), parent.to_owned()))
}

/// A new random trace id.
pub fn new_trace_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: still unique enough to tell requests apart.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(1);
        bytes = nanos.to_be_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The middleware: runs the request in a span with its trace id, returns the id, and records
/// the latency by route.
pub async fn layer(State(state): State<ApiState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let incoming = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_traceparent);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let span = tracing::info_span!(
        "http",
        method = %method,
        route = %route,
        trace_id = tracing::field::Empty
    );
    let exported = crate::otel::link(&span, incoming.as_ref().map(|(t, s)| (&**t, &**s)));
    let (trace, span_id) = match (exported, incoming) {
        (Some((t, s)), _) => (t, Some(s)),
        (None, Some((t, _))) => (t, None),
        (None, None) => (new_trace_id(), None),
    };
    span.record("trace_id", trace.as_str());
    req.extensions_mut().insert(TraceId {
        id: trace.clone(),
        span: span_id,
    });
    let mut response = next.run(req).instrument(span.clone()).await;
    if let Some(FailureDetail(detail)) = response.extensions_mut().remove::<FailureDetail>() {
        span.in_scope(|| tracing::error!("request failed: {detail}"));
    }
    if let Ok(v) = HeaderValue::from_str(&trace) {
        response.headers_mut().insert("x-trace-id", v);
    }
    let took = started.elapsed();
    state
        .metrics()
        .request(&method, &route, response.status().as_u16(), took);
    state.record_request(RequestView {
        at: skillmeat_core::model::time::rfc3339(std::time::SystemTime::now()),
        method,
        route,
        status: response.status().as_u16(),
        duration_ms: (took.as_secs_f64() * 1e5).round() / 100.0,
        trace_id: trace,
    });
    response
}

/// [`layer`] for the web UI's server functions (the rest of the UI passes through): they get a
/// trace id, a span, metrics and a line in the debug log like API requests do.
pub async fn server_fn_layer(state: State<ApiState>, req: Request, next: Next) -> Response {
    let prefix = skillmeat_app::api::SERVER_FN_PREFIX;
    if req
        .uri()
        .path()
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.starts_with('/'))
    {
        client_errors_as_4xx(layer(state, req, next).await).await
    } else {
        next.run(req).await
    }
}

/// server_fn answers every failure with 500, also a body it could not decode (empty, garbage,
/// a missing argument): those are the client's errors, 400, with the same body (the client
/// still decodes the error from it).
async fn client_errors_as_4xx(response: Response) -> Response {
    if response.status() != axum::http::StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Error bodies are one line of text; anything larger is not one of these.
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let client_error = ["Args|", "Deserialization|", "MissingArg|"]
        .iter()
        .any(|p| bytes.starts_with(p.as_bytes()));
    if client_error {
        parts.status = axum::http::StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_parsed_strictly() {
        let id = "4bf92f3577b34da6a3ce929d0e0e4736";
        assert_eq!(
            parse_traceparent(&format!("00-{id}-00f067aa0ba902b7-01")),
            Some((id.to_owned(), "00f067aa0ba902b7".to_owned()))
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad}");
        }
        assert_eq!(new_trace_id().len(), 32);
        assert_ne!(new_trace_id(), new_trace_id());
    }
}
