//! OTLP export: the real server, pointed at a collector on loopback, sends the spans of a
//! request and of the job it queued, in the caller's trace, parented as they ran.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use serde_json::json;
use skillmeat_testutils::git::GitRepo;

use crate::cli::{skillmeat, text};
use crate::restart::{call_with, start_with_env};

/// Every request the collector received: (path, body).
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A minimal OTLP/HTTP collector: records (path, body) of every POST and answers 200.
fn collector() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let sink = sink.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                // Keep-alive: several requests per connection.
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = request_line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or("")
                        .to_owned();
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let line = line.trim_end();
                        if line.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = line.split_once(':')
                            && k.eq_ignore_ascii_case("content-length")
                        {
                            length = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    sink.lock().unwrap().push((path, body));
                    let _ = stream.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n\
                          Content-Length: 0\r\n\r\n",
                    );
                }
            });
        }
    });
    (addr, got)
}

fn spans(got: &Mutex<Vec<(String, Vec<u8>)>>) -> Vec<Span> {
    got.lock()
        .unwrap()
        .iter()
        .flat_map(|(path, body)| {
            assert_eq!(path, "/v1/traces");
            ExportTraceServiceRequest::decode(body.as_slice())
                .expect("a valid OTLP body")
                .resource_spans
        })
        .flat_map(|r| r.scope_spans)
        .flat_map(|s| s.spans)
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn spans_of_a_request_and_its_job_are_exported_in_the_callers_trace() {
    let up = GitRepo::new();
    up.write("commands/fix.md", "Fix things, v1.\n");
    up.commit("v1");
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let spec = format!("{}#commands/fix.md", up.path().display());
    let o = skillmeat(&home, tmp.path(), &["add", &spec]);
    assert!(o.status.success(), "{}", text(&o));
    up.write("commands/fix.md", "Fix things, v2.\n");
    up.commit("v2");

    let (collector_addr, got) = collector();
    let endpoint = format!("http://{collector_addr}");
    let mut server = start_with_env(
        &home,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            // One apply without its preview: the trace is the subject here.
            ("SKILLMEAT_SYNC_PREVIEW_REQUIRED", "false"),
        ],
    );
    let token = std::fs::read_to_string(home.join("server-token")).unwrap();
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller = "00f067aa0ba902b7";
    let (status, job) = call_with(
        &server.addr,
        token.trim(),
        "POST",
        "/api/v1/sync/jobs",
        Some(&json!({"direction": "upstream-to-collection", "dry_run": false})),
        &format!("traceparent: 00-{trace}-{caller}-01\r\n"),
    );
    assert_eq!(status, 202, "{job}");
    assert_eq!(job["trace_id"], trace);

    // Wait until the job's spans, down to its apply phase, have reached the collector.
    let deadline = Instant::now() + Duration::from_secs(30);
    let all = loop {
        let all = spans(&got);
        if all.iter().any(|s| s.name == "apply") && all.iter().any(|s| s.name == "job") {
            break all;
        }
        assert!(
            Instant::now() < deadline,
            "spans never arrived; got {:?}",
            all.iter().map(|s| &s.name).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let named = |name: &str| {
        all.iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no `{name}` span"))
    };
    let http = all
        .iter()
        .find(|s| s.name == "http" && hex(&s.parent_span_id) == caller)
        .expect("the request's span, under the caller's");
    let job_span = named("job");
    for s in [
        http,
        job_span,
        named("fetch"),
        named("merge"),
        named("apply"),
    ] {
        assert_eq!(
            hex(&s.trace_id),
            trace,
            "span {} is in the caller's trace",
            s.name
        );
    }
    assert_eq!(
        job_span.parent_span_id, http.span_id,
        "the job runs under the request that queued it"
    );
    for phase in ["fetch", "merge", "apply"] {
        let span = named(phase);
        assert_eq!(
            span.parent_span_id, job_span.span_id,
            "{phase} is under the job"
        );
        let keys: Vec<&str> = span.attributes.iter().map(|a| a.key.as_str()).collect();
        for key in ["artifact_id", "direction", "duration_ms"] {
            assert!(keys.contains(&key), "{phase} has {key}: {keys:?}");
        }
    }
}
