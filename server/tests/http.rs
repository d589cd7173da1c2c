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
                .header("cookie", format!("skillmeat_token={}", token.trim()))
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
