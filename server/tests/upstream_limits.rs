//! A rate-limited upstream from the outside: `GET /drift?check_upstream=true` and `skillmeat
//! drift --check-all` answer with the last known state of that upstream, its age and why, and
//! do not fail (200; exit 0 or 4, never 1) — the other rows are checked as usual.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use axum::http::StatusCode;

use crate::api::api;
use crate::cli::{skillmeat, skillmeat_with_env, text};

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

/// What a fake upstream host was asked: when, which path, and the `Authorization` header.
type Asked = std::sync::Arc<std::sync::Mutex<Vec<(std::time::Instant, String, Option<String>)>>>;

/// A host answering every request 429 (GitHub's rate-limit answer), noting each request.
fn recording_rate_limited() -> (String, Asked) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let asked: Asked = Default::default();
    let seen = asked.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let at = std::time::Instant::now();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
            let mut auth = None;
            loop {
                line.clear();
                if reader.read_line(&mut line).map_or(true, |n| n <= 2) {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("authorization")
                {
                    auth = Some(value.trim().to_owned());
                }
            }
            seen.lock().unwrap().push((at, path, auth));
            let _ = stream.write_all(
                b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 60\r\nX-RateLimit-Remaining: 0\r\n\
                  Content-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (base, asked)
}

/// Bulk checks ask each upstream once however many artifacts share it, space their requests
/// to one host, and send `GITHUB_TOKEN` to GitHub (here `$GITHUB_SERVER_URL`) and nowhere else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_checks_ask_once_per_upstream_space_requests_and_send_the_token_only_to_github() {
    use base64::Engine as _;
    let a = api().await;
    let (base, asked) = recording_rate_limited();
    let manifest = a.collection_file("collection.toml");
    let original = std::fs::read_to_string(&manifest).unwrap();
    let up = a.upstream_path().display().to_string();
    let point = |fix: &str, review: &str| {
        let text = original
            .replace(
                &format!("{up}#commands/fix.md"),
                &format!("{fix}#commands/fix.md"),
            )
            .replace(
                &format!("{up}#skills/review"),
                &format!("{review}#skills/review"),
            );
        std::fs::write(&manifest, text).unwrap();
    };
    let drift = |env: &[(&str, &str)]| {
        let o = skillmeat_with_env(
            &a.home,
            a.tmp.path(),
            &["drift", "--check-all", "--json"],
            env,
        );
        assert_ne!(o.status.code(), Some(1), "{}", text(&o));
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let stale = report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["stale"].is_object())
            .count();
        assert_eq!(stale, 2, "{report}");
        std::mem::take(&mut *asked.lock().unwrap())
    };
    let repo = format!("{base}/team/skills.git");

    // Two artifacts from one upstream: one request, no token sent to a host that is not GitHub.
    point(&repo, &repo);
    let seen = drift(&[("GITHUB_TOKEN", "ghs_secret")]);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        seen[0].2, None,
        "the token went to a host that is not GitHub"
    );

    // The same host named as the GitHub server: the token goes, as HTTP Basic.
    let seen = drift(&[("GITHUB_TOKEN", "ghs_secret"), ("GITHUB_SERVER_URL", &base)]);
    assert_eq!(seen.len(), 1, "{seen:?}");
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("x-access-token:ghs_secret")
    );
    assert_eq!(seen[0].2.as_deref(), Some(expected.as_str()), "{seen:?}");

    // Two upstreams on one host: two requests, spaced by upstream.check_spacing.
    let o = skillmeat(
        &a.home,
        a.tmp.path(),
        &["config", "set", "upstream.check_spacing", "800ms"],
    );
    assert!(o.status.success(), "{}", text(&o));
    point(&repo, &format!("{base}/team/other.git"));
    let mut seen = drift(&[]);
    seen.sort_by_key(|s| s.0);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_ne!(seen[0].1, seen[1].1, "{seen:?}");
    // Seen where they arrive: the first request can be slower to get there than the second
    // (a loaded machine, a first connection), so the gap allows 300 ms of that.
    let gap = seen[1].0 - seen[0].0;
    assert!(
        gap >= std::time::Duration::from_millis(500),
        "requests to one host {gap:?} apart (spacing 800 ms)"
    );
}
