//! HTTP tests: the real `Router`, driven with `oneshot`, no socket.

use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use skillmeat_testutils::TempHome;
use tower::ServiceExt;

pub(crate) async fn app(home: &TempHome) -> axum::Router {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let ctx = skillmeat_core::ops::Context {
        home: home.home(),
        now: std::time::SystemTime::now(),
        fetch: Default::default(),
        cwd: home.path().to_owned(),
        lock_timeout: skillmeat_core::ops::LOCK_TIMEOUT,
    };
    let (state, _runner) = skillmeat::serve::app_state(home.path(), ctx).await.unwrap();
    skillmeat::serve::router(state, home.path().join("no-site"), addr)
}

/// GETs `uri` from the app over `home`, logged in with the cookie.
async fn get(home: &TempHome, uri: &str) -> (StatusCode, String) {
    let app = app(home).await;
    let token = std::fs::read_to_string(home.path().join("server-token")).unwrap();
    let response = app
        .oneshot(
            Request::get(uri)
                .header("authorization", format!("Bearer {}", token.trim()))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn healthz_reports_ok_and_version() {
    let home = TempHome::new().unwrap();
    let (status, body) = get(&home, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn home_page_is_rendered_on_the_server_with_the_empty_state() {
    let home = TempHome::new().unwrap();
    let (status, body) = get(&home, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("No artifacts yet"), "{body}");
    assert!(
        body.contains(r#"href="/jobs""#),
        "navigation missing: {body}"
    );
    assert!(
        body.contains("/pkg/skillmeat.js"),
        "hydration script missing: {body}"
    );
}

#[tokio::test]
async fn home_page_lists_the_collections_artifacts_with_their_status() {
    let home = TempHome::new().unwrap();
    let up = skillmeat_testutils::git::GitRepo::new();
    up.write("skills/code-review/SKILL.md", "# Code review\n");
    up.commit("v1");
    let spec = format!("{}#skills/code-review", up.path().display());
    let o = crate::cli::skillmeat(home.path(), home.path(), &["add", &spec]);
    assert!(o.status.success(), "{}", crate::cli::text(&o));
    let (status, body) = get(&home, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(r#"<tr data-id="skill:code-review">"#),
        "{body}"
    );
    assert!(body.contains("status-synced"), "upstream checked: {body}");
    assert!(!body.contains("No artifacts yet"), "{body}");
    // A folder in the collection that collection.toml does not list is not an artifact.
    home.write_skill("default", "stray", "# Stray").unwrap();
    let (_, body) = get(&home, "/").await;
    assert!(!body.contains("skill:stray"), "{body}");
}

#[tokio::test]
async fn unknown_pages_are_404() {
    let home = TempHome::new().unwrap();
    let (status, body) = get(&home, "/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Page not found"), "{body}");
}

#[tokio::test]
async fn every_page_arrives_complete_without_streamed_fragments() {
    // Without JavaScript nothing would move a streamed <template> into place.
    let home = TempHome::new().unwrap();
    for uri in ["/", "/jobs", "/missing"] {
        let (_, body) = get(&home, uri).await;
        assert!(
            body.contains(r#"class="server-version""#),
            "{uri}: footer data missing: {body}"
        );
        assert!(
            !body.contains("<template"),
            "{uri}: streamed fragment: {body}"
        );
    }
}

#[tokio::test]
async fn the_bundle_is_served_from_the_site_root() {
    let home = TempHome::new().unwrap();
    let site = home.path().join("no-site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/skillmeat.css"), "body{}").unwrap();
    let (status, body) = get(&home, "/pkg/skillmeat.css").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "body{}"));
    let (status, _) = get(&home, "/pkg/missing.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A client that sends its headers or its body too slowly is disconnected (or answered) after
/// the limit, over a real socket; a normal request on the same server is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_do_not_hold_connections() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let home = TempHome::new().unwrap();
    let app = app(&home).await;
    let token = std::fs::read_to_string(home.path().join("server-token")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = skillmeat::serve::ConnectionLimits {
        header_read: Duration::from_millis(400),
        body_read: Duration::from_millis(400),
    };
    tokio::spawn(skillmeat::serve::serve_connections(
        listener,
        app,
        limits,
        std::future::pending(),
    ));
    // Reads until the server answers and closes, or gives up after `within`.
    async fn read_all(stream: &mut tokio::net::TcpStream, within: Duration) -> Option<String> {
        let mut out = Vec::new();
        tokio::time::timeout(within, stream.read_to_end(&mut out))
            .await
            .ok()
            .map(|_| String::from_utf8_lossy(&out).into_owned())
    }

    // Headers that never end.
    let started = Instant::now();
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let answer = read_all(&mut slow, Duration::from_secs(10)).await;
    assert!(answer.is_some(), "the connection is closed, not held");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // A body that never arrives.
    let started = Instant::now();
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/sync/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"dir",
        token.trim()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let answer = read_all(&mut slow, Duration::from_secs(10)).await;
    let answer = answer.expect("the request ends instead of waiting for the body forever");
    assert!(!answer.starts_with("HTTP/1.1 2"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // A normal client is served.
    let mut ok = tokio::net::TcpStream::connect(addr).await.unwrap();
    ok.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_all(&mut ok, Duration::from_secs(5)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
