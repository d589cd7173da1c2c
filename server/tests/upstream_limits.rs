//! A rate-limited upstream from the outside: `GET /drift?check_upstream=true` and `skillmeat
//! drift --check-all` answer with the last known state of that upstream, its age and why, and
//! do not fail (200; exit 0 or 4, never 1) — the other rows are checked as usual.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use axum::http::StatusCode;

use crate::api::api;
use crate::cli::{skillmeat, text};

/// A server answering every request 429 with GitHub's rate-limit headers.
fn rate_limited() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/up.git", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = stream.write_all(
                b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 60\r\nX-RateLimit-Remaining: 0\r\n\
                  X-RateLimit-Reset: 1900000000\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_upstream_is_shown_as_last_seen_by_the_api_and_the_cli() {
    let a = api().await;
    let manifest = a.collection_file("collection.toml");
    let text_before = std::fs::read_to_string(&manifest).unwrap();
    let local = format!("{}#skills/review", a.upstream_path().display());
    assert!(text_before.contains(&local), "{text_before}");
    std::fs::write(
        &manifest,
        text_before.replace(&local, &format!("{}#skills/review", rate_limited())),
    )
    .unwrap();

    let (status, drift) = a.get("/api/v1/drift?check_upstream=true").await;
    assert_eq!(status, StatusCode::OK, "{drift}");
    assert_eq!(drift["problems"], serde_json::json!([]), "{drift}");
    let rows = drift["rows"].as_array().unwrap();
    let review = rows
        .iter()
        .find(|r| r["id"] == "skill:review" && r["pair"] == "upstream-collection")
        .unwrap_or_else(|| panic!("{drift}"));
    assert_eq!(review["status"], "synced", "{review}");
    let stale = &review["stale"];
    assert!(stale["reason"].as_str().unwrap().contains("429"), "{stale}");
    assert!(
        stale["reason"].as_str().unwrap().contains("rate-limiting"),
        "{stale}"
    );
    assert!(stale["age_seconds"].is_u64(), "{stale}");
    let fix = rows
        .iter()
        .find(|r| r["id"] == "command:fix" && r["pair"] == "upstream-collection")
        .unwrap_or_else(|| panic!("{drift}"));
    assert_eq!(fix["stale"], serde_json::Value::Null, "{fix}");

    let o = skillmeat(&a.home, a.tmp.path(), &["drift", "--check-all"]);
    assert_ne!(o.status.code(), Some(1), "{}", text(&o));
    let shown = text(&o);
    assert!(shown.contains("synced (as of"), "{shown}");
    assert!(shown.contains("1 upstream did not answer"), "{shown}");
    assert!(shown.contains("429"), "{shown}");
}

/// The artifact page's cards and the diff below them see the same upstream: the one there is
/// now. Stale when it does not answer; the lock when upstream checks are off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_version_cards_compare_with_the_live_upstream_like_the_diff() {
    let a = api().await;
    let cards = async || {
        let (status, cards) = a.get("/api/v1/artifacts/skill:review/versions").await;
        assert_eq!(status, StatusCode::OK, "{cards}");
        cards
    };
    let before = cards().await;
    let locked = before["upstream"]["hash"].clone();
    assert_eq!(before["upstream"]["live"], true, "{before}");
    assert_eq!(before["collection"]["status"], "synced", "{before}");
    assert_eq!(before["upstream"]["hash"], before["collection"]["hash"]);

    // The upstream moves: the cards say so before any sync, and so does the diff.
    a.move_upstream_review("# Review, moved upstream\n");
    let moved = cards().await;
    assert_eq!(moved["upstream"]["live"], true, "{moved}");
    assert_ne!(moved["upstream"]["hash"], locked, "{moved}");
    assert_eq!(moved["collection"]["status"], "outdated", "{moved}");
    let (status, diff) = a
        .get("/api/v1/artifacts/skill:review/diff?lhs=collection&rhs=upstream")
        .await;
    assert_eq!(status, StatusCode::OK, "{diff}");
    assert!(
        diff.to_string().contains("moved upstream"),
        "the diff shows the same upstream: {diff}"
    );
    // The collection copy is edited too: both moved from the lock's version.
    std::fs::write(
        a.collection_file("skills/review/SKILL.md"),
        "# Review, edited here\n",
    )
    .unwrap();
    assert_eq!(cards().await["collection"]["status"], "conflict");

    // The upstream stops answering: its state as last seen, with why and how old.
    let manifest = a.collection_file("collection.toml");
    let text_before = std::fs::read_to_string(&manifest).unwrap();
    let local = format!("{}#skills/review", a.upstream_path().display());
    std::fs::write(
        &manifest,
        text_before.replace(&local, &format!("{}#skills/review", rate_limited())),
    )
    .unwrap();
    let limited = cards().await;
    assert_eq!(limited["upstream"]["live"], false, "{limited}");
    assert!(
        limited["upstream"]["stale"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("429")),
        "{limited}"
    );
    assert_eq!(limited["upstream"]["hash"], locked, "{limited}");

    // Upstream checks off: the lock, said plainly, and nothing is asked.
    std::fs::write(&manifest, text_before).unwrap();
    let o = skillmeat(
        &a.home,
        a.tmp.path(),
        &["config", "set", "upstream.checks", "false"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let off = cards().await;
    assert_eq!(off["upstream"]["live"], false, "{off}");
    assert_eq!(off["upstream"]["stale"], serde_json::Value::Null, "{off}");
    assert_eq!(off["upstream"]["hash"], locked, "{off}");
}
