//! OpenTelemetry: OTLP trace export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and the links
//! that put a request's spans and the spans of the jobs it queued into one trace.
//!
//! Export is HTTP with protobuf bodies (`http/protobuf`, the collector's port 4318) over plain
//! http, which is what a local collector or agent listens on. The standard variables
//! (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `…_HEADERS`,
//! `…_TIMEOUT`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_BSP_*`) are read by the
//! SDK itself.

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The exporter, kept alive for the life of the process and flushed at its end.
#[derive(Debug)]
pub struct Exporter {
    provider: SdkTracerProvider,
}

/// Whether the environment asks for export.
pub fn requested() -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

impl Exporter {
    /// Builds the exporter from the environment. Must run outside an async runtime (the HTTP
    /// client is a blocking one, on the batch processor's own thread).
    pub fn from_env() -> Result<Self, String> {
        if let Ok(p) = std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL")
            && !p.is_empty()
            && p != "http/protobuf"
        {
            return Err(format!(
                "OTEL_EXPORTER_OTLP_PROTOCOL={p} is not supported: skillmeat exports \
                 http/protobuf only (unset it, or set it to http/protobuf)"
            ));
        }
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
            .map_err(|e| format!("cannot set up OTLP export: {e}"))?;
        let mut resource = Resource::builder();
        if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
            resource = resource.with_service_name("skillmeat");
        }
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build();
        Ok(Self { provider })
    }

    /// The tracing layer that turns spans into OpenTelemetry spans.
    pub fn layer<S>(
        &self,
    ) -> tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::SdkTracer>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        tracing_opentelemetry::layer().with_tracer(self.provider.tracer("skillmeat"))
    }

    /// Sends what is buffered and stops the exporter.
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!("OTLP export did not finish: {e}");
        }
    }
}

/// A remote parent: the caller's trace and span.
fn remote(trace_id: &str, span_id: &str) -> Option<opentelemetry::Context> {
    let trace = TraceId::from_hex(trace_id).ok()?;
    let span = SpanId::from_hex(span_id).ok()?;
    let cx = SpanContext::new(trace, span, TraceFlags::SAMPLED, true, TraceState::NONE);
    cx.is_valid()
        .then(|| opentelemetry::Context::new().with_remote_span_context(cx))
}

/// Puts `span` under the caller's span (from `traceparent`), and returns the trace and span
/// ids it ends up with when spans are exported. Without export it returns `None`.
pub fn link(span: &tracing::Span, parent: Option<(&str, &str)>) -> Option<(String, String)> {
    if let Some(cx) = parent.and_then(|(t, s)| remote(t, s)) {
        let _ = span.set_parent(cx);
    }
    let cx = span.context();
    let sc = cx.span().span_context().clone();
    sc.is_valid()
        .then(|| (sc.trace_id().to_string(), sc.span_id().to_string()))
}

/// Links a job's span to the request that queued it (or, for a job without one, to its trace).
pub fn link_job(span: &tracing::Span, job: &skillmeat_core::jobs::Job) {
    if let Some(parent) = &job.parent_span_id {
        let _ = link(span, Some((&job.trace_id, parent)));
    }
}
