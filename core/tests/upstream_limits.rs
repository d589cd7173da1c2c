//! An upstream that does not answer — rate-limited (HTTP 429, or 403 with GitHub's rate-limit
//! headers) by a real local HTTP server, or unreachable — does not fail `drift --check-all`:
//! its row shows the last known state (the last check that reached it, else the last sync)
//! with its age and why, and every other upstream is checked as usual.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use skillmeat_core::engine::drift::DriftStatus;
use skillmeat_core::ops;
use skillmeat_core::storage::upstream_state::UpstreamStates;

use crate::scenarios::world;

/// A server answering every request with `status` and rate-limit headers; counts requests.
fn limited(status: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/up.git", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counted.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let body = "API rate limit exceeded";
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nRetry-After: 60\r\nX-RateLimit-Limit: 60\r\n\
                 X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 1900000000\r\n\
                 Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, hits)
}

#[test]
fn a_rate_limited_or_unreachable_upstream_shows_its_last_known_state_with_its_age() {
    let w = world();
    w.add_all();
    let manifest_path = w.collection("collection.toml");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    let local = format!("{}#skills/review@v1", w.up.path().display());
    assert!(manifest.contains(&local), "{manifest}");
    let upstream_row = |report: &ops::DriftReport| {
        report
            .rows
            .iter()
            .find(|r| r.id.to_string() == "skill:review" && r.pair == "upstream-collection")
            .cloned()
            .unwrap_or_else(|| panic!("no upstream row of skill:review: {report:?}"))
    };

    for status in ["429 Too Many Requests", "403 Forbidden"] {
        let (url, hits) = limited(status);
        let spec = format!("{url}#skills/review@v1");
        std::fs::write(&manifest_path, manifest.replace(&local, &spec)).unwrap();
        let report = ops::drift(&w.ctx, "default", &[], true).unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert!(hits.load(Ordering::SeqCst) >= 1, "the server was asked");
        let row = upstream_row(&report);
        // Never checked before: the state the last sync locked, as of then.
        assert_eq!(row.status, DriftStatus::Synced);
        let stale = row.stale.expect("a stale row");
        let code = &status[..3];
        assert!(stale.reason.contains(code), "{}", stale.reason);
        let meaning = if code == "429" {
            "is rate-limiting requests"
        } else {
            "refused the request (a rate limit, or no access)"
        };
        assert!(stale.reason.contains(meaning), "{}", stale.reason);
        assert!(!stale.seen_at.is_empty());
        // The others were asked and answered.
        assert!(
            report
                .rows
                .iter()
                .filter(|r| r.id.to_string() != "skill:review")
                .all(|r| r.stale.is_none()),
            "{:?}",
            report.rows
        );

        // Seen moved three hours ago by a check that reached it: that state, that age.
        let then = w.ctx.now - std::time::Duration::from_secs(3 * 3600);
        let key = UpstreamStates::key("skill:review", &spec);
        let state = serde_json::json!({ key: {
            "hash": "ab".repeat(32),
            "at": humantime::format_rfc3339_seconds(then).to_string(),
        }});
        let file = w.ctx.home.root().join("cache/upstream-state.json");
        std::fs::write(&file, state.to_string()).unwrap();
        let report = ops::drift(&w.ctx, "default", &[], true).unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        let row = upstream_row(&report);
        assert_eq!(row.status, DriftStatus::Outdated, "{row:?}");
        assert_eq!(row.stale.unwrap().age_seconds, 3 * 3600);
        std::fs::remove_file(&file).unwrap();
    }

    // Unreachable (nothing listens): the same.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spec = format!("http://127.0.0.1:{port}/up.git#skills/review@v1");
    std::fs::write(&manifest_path, manifest.replace(&local, &spec)).unwrap();
    let report = ops::drift(&w.ctx, "default", &[], true).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(upstream_row(&report).stale.is_some());

    // A check that reaches the upstream records what it saw, for the next time it does not.
    std::fs::write(&manifest_path, &manifest).unwrap();
    let report = ops::drift(&w.ctx, "default", &[], true).unwrap();
    assert!(upstream_row(&report).stale.is_none());
    let kept =
        std::fs::read_to_string(w.ctx.home.root().join("cache/upstream-state.json")).unwrap();
    assert!(
        kept.contains(&UpstreamStates::key("skill:review", &local)),
        "{kept}"
    );
}
