//! The REST API through the real `Router` (`oneshot`, no socket), over a real home with a git
//! upstream, a collection and a registered project, and the real job runner.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use skillmeat_core::ops::Context;
use skillmeat_core::storage::home::Home;
use skillmeat_testutils::git::GitRepo;
use tower::ServiceExt;

use crate::cli::{skillmeat, text, upstream};

pub(crate) struct Api {
    pub(crate) tmp: tempfile::TempDir,
    pub(crate) home: PathBuf,
    project: PathBuf,
    up: GitRepo,
    app: axum::Router,
    token: String,
}

/// A home with `command:fix` and `skill:review` added from a git upstream and deployed into a
/// registered project, and the app over it with its runner running.
pub(crate) async fn api() -> Api {
    let up = upstream();
    let tmp = tempfile::tempdir().unwrap();
    let (home, project) = (tmp.path().join("home"), tmp.path().join("proj"));
    std::fs::create_dir_all(&project).unwrap();
    for path in ["commands/fix.md", "skills/review"] {
        let spec = format!("{}#{path}", up.path().display());
        let o = skillmeat(&home, tmp.path(), &["add", &spec]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let o = skillmeat(
        &home,
        tmp.path(),
        &[
            "deploy",
            "command:fix",
            "skill:review",
            "--project",
            project.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    Api::over(tmp, home, project, up).await
}

impl Api {
    /// The app over `home` (set up already, `project` registered), with its runner running.
    pub(crate) async fn over(
        tmp: tempfile::TempDir,
        home: PathBuf,
        project: PathBuf,
        up: GitRepo,
    ) -> Self {
        let project = std::fs::canonicalize(&project).unwrap();
        let ctx = Context {
            home: Home::new(&home),
            now: std::time::SystemTime::now(),
            fetch: Default::default(),
            cwd: tmp.path().to_owned(),
            lock_timeout: Duration::from_secs(10),
        };
        let (state, runner) = skillmeat::serve::app_state(&home, ctx).await.unwrap();
        tokio::spawn(runner.run());
        let token = state.token().to_owned();
        let app =
            skillmeat::serve::router(state, home.join("no-site"), "127.0.0.1:0".parse().unwrap());
        Api {
            tmp,
            home,
            project,
            up,
            app,
            token,
        }
    }
}

impl Api {
    fn request(&self, method: Method, uri: &str, body: Option<Value>) -> http::request::Builder {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "127.0.0.1:3750")
            .header("authorization", format!("Bearer {}", self.token));
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        req
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, body.to_vec())
    }

    /// A JSON call with the token; the body parsed (Null when empty or not JSON).
    async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let req = self.request(method, uri, body.clone());
        let req = req
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let (status, _, bytes) = self.send(req).await;
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub(crate) async fn post(&self, uri: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, uri, Some(body)).await
    }

    pub(crate) async fn get(&self, uri: &str) -> (StatusCode, Value) {
        self.call(Method::GET, uri, None).await
    }

    /// A GET whose answer is text (`/metrics`).
    pub(crate) async fn get_text(&self, uri: &str) -> (StatusCode, String) {
        let req = self
            .request(Method::GET, uri, None)
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = self.send(req).await;
        (status, String::from_utf8(body).unwrap())
    }

    pub(crate) async fn delete(&self, uri: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, uri, None).await
    }

    /// Applies a sync the way `sync.preview_required` (on by default) asks: the same request
    /// as a dry run first, then the apply naming that plan. Answers the apply's response.
    pub(crate) async fn apply(&self, mut body: Value) -> (StatusCode, Value) {
        body["dry_run"] = json!(true);
        let (status, plan) = self.post("/api/v1/sync/jobs", body.clone()).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{plan}");
        let plan = self.wait(plan["id"].as_i64().unwrap()).await;
        body["dry_run"] = json!(false);
        body["plan_job"] = plan["id"].clone();
        self.post("/api/v1/sync/jobs", body).await
    }

    /// Turns `sync.preview_required` off in this home (for tests about something else that
    /// queue applies directly).
    pub(crate) fn preview_off(&self) {
        let o = skillmeat(
            &self.home,
            self.tmp.path(),
            &["config", "set", "sync.preview_required", "false"],
        );
        assert!(o.status.success(), "{}", text(&o));
    }

    /// Polls a job until it ends.
    pub(crate) async fn wait(&self, id: i64) -> Value {
        let started = Instant::now();
        loop {
            let (status, job) = self.get(&format!("/api/v1/sync/jobs/{id}")).await;
            assert_eq!(status, StatusCode::OK, "{job}");
            if ["success", "conflict", "error", "cancelled"]
                .contains(&job["state"].as_str().unwrap())
            {
                return job;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "job {id} never ended: {job}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) fn project_file(&self, rel: &str) -> PathBuf {
        self.project.join(".claude").join(rel)
    }

    pub(crate) fn collection_file(&self, rel: &str) -> PathBuf {
        self.home.join("collections/default").join(rel)
    }

    /// Both sides edit the same line of `command:fix`: the next sync into the project conflicts.
    pub(crate) fn edit_fix_on_both_sides(&self) {
        std::fs::write(
            self.collection_file("commands/fix.md"),
            "Fix, the collection's way.\n",
        )
        .unwrap();
        std::fs::write(
            self.project_file("commands/fix.md"),
            "Fix, the project's way.\n",
        )
        .unwrap();
    }

    /// The upstream commits a new text of `skill:review`'s SKILL.md.
    /// The upstream repository's folder.
    pub(crate) fn upstream_path(&self) -> &Path {
        self.up.path()
    }

    /// The upstream commits these files' new texts.
    pub(crate) fn commit_upstream(&self, files: &[(&str, &str)]) {
        for (path, text) in files {
            self.up.write(path, text);
        }
        self.up.commit("upstream moves");
    }

    pub(crate) fn move_upstream_review(&self, text: &str) {
        self.up.write("skills/review/SKILL.md", text);
        self.up.commit("review moves");
    }

    pub(crate) fn p(&self) -> &str {
        self.project.to_str().unwrap()
    }
}

/// Every file under `dir` with its content, for "nothing was written" checks.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

/// Every route, with a request that would succeed given the token.
fn routes(a: &Api) -> Vec<(Method, String, Option<Value>)> {
    let p = a.p().to_owned();
    vec![
        (
            Method::POST,
            "/api/v1/sync/jobs".into(),
            Some(json!({"direction": "collection-to-project", "project_path": p})),
        ),
        (Method::GET, "/api/v1/sync/jobs".into(), None),
        (Method::GET, "/api/v1/sync/jobs/1".into(), None),
        (Method::DELETE, "/api/v1/sync/jobs/1".into(), None),
        (Method::GET, "/api/v1/sync/jobs/1/events".into(), None),
        (Method::GET, "/api/v1/events".into(), None),
        (
            Method::POST,
            "/api/v1/sync/resolve".into(),
            Some(json!({"artifact": "command:fix", "project_path": p})),
        ),
        (
            Method::GET,
            "/api/v1/artifacts/command:fix/conflicts".into(),
            None,
        ),
        (Method::GET, "/api/v1/debug/requests".into(), None),
        (
            Method::POST,
            "/api/v1/sync/patch".into(),
            Some(json!({"artifact": "command:fix", "project_path": p})),
        ),
        (Method::GET, "/api/v1/sync/patch/x.tar.gz".into(), None),
        (Method::GET, "/api/v1/artifacts".into(), None),
        (
            Method::GET,
            "/api/v1/artifacts/command:fix/versions".into(),
            None,
        ),
        (
            Method::GET,
            "/api/v1/artifacts/command:fix/history".into(),
            None,
        ),
        (
            Method::GET,
            "/api/v1/artifacts/command:fix/diff?lhs=collection&rhs=upstream".into(),
            None,
        ),
        (
            Method::GET,
            "/api/v1/artifacts/command:fix/file?side=collection&path=fix.md".into(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/artifacts/command:fix/rollback".into(),
            Some(json!({"to": "0000"})),
        ),
        (Method::GET, "/api/v1/drift".into(), None),
        (
            Method::GET,
            "/api/v1/artifacts/command:fix/events".into(),
            None,
        ),
        (Method::GET, "/api/v1/events/log".into(), None),
        (Method::GET, "/api/v1/healthz".into(), None),
        (Method::GET, "/api/v1/metrics".into(), None),
        (Method::GET, "/api/v1/openapi.json".into(), None),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_requests_without_the_token_and_from_other_origins() {
    let a = api().await;
    let before = snapshot(&a.project);
    for (method, uri, body) in routes(&a) {
        for auth in [None, Some("Bearer wrong"), Some("Basic abc")] {
            let mut req = Request::builder().method(method.clone()).uri(&uri);
            if let Some(auth) = auth {
                req = req.header("authorization", auth);
            }
            let req = req
                .header("content-type", "application/json")
                .body(
                    body.clone()
                        .map_or_else(Body::empty, |b| Body::from(b.to_string())),
                )
                .unwrap();
            let (status, headers, bytes) = a.send(req).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {uri} with {auth:?}"
            );
            assert_eq!(headers["www-authenticate"], "Bearer");
            let err: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(err["error"], "unauthorized", "{method} {uri}");
        }
        if method != Method::GET {
            let req = a
                .request(method.clone(), &uri, body.clone())
                .header("origin", "http://evil.example")
                .body(
                    body.clone()
                        .map_or_else(Body::empty, |b| Body::from(b.to_string())),
                )
                .unwrap();
            let (status, _, bytes) = a.send(req).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {uri}");
            let err: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(err["error"], "bad_origin");
        }
    }
    // The cookie works as well as the header; the page login sets it.
    let (status, headers, _) = a
        .send(
            Request::get(format!("/login?token={}", a.token))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();
    let (status, _, _) = a
        .send(
            Request::get("/api/v1/healthz")
                .header("cookie", pair.clone())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !cookie.contains(&a.token),
        "the cookie is a session, not the token: {cookie}"
    );
    assert!(cookie.contains("Max-Age="), "{cookie}");
    // Logging out ends that session.
    let (status, headers, _) = a
        .send(
            Request::post("/logout")
                .header("cookie", pair.clone())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _, _) = a
        .send(
            Request::get("/api/v1/healthz")
                .header("cookie", pair.clone())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a closed session is refused"
    );
    let (status, _, page) = a
        .send(
            Request::get("/login?token=nope")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(String::from_utf8_lossy(&page).contains("login URL"));
    // A page without the cookie explains how to log in; no data is rendered.
    let (status, _, page) = a.send(Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(String::from_utf8_lossy(&page).contains("Log in to SkillMeat"));
    // Same-origin browser requests pass the Origin check.
    let req = a
        .request(Method::POST, "/api/v1/sync/jobs", Some(json!({})))
        .header("origin", "http://127.0.0.1:3750")
        .body(Body::from(
            json!({"direction": "upstream-to-collection"}).to_string(),
        ))
        .unwrap();
    assert_eq!(a.send(req).await.0, StatusCode::ACCEPTED);
    assert_eq!(
        snapshot(&a.project),
        before,
        "a refused request wrote into the project"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_4xx_json_and_write_nothing() {
    let a = api().await;
    let outside = a.tmp.path().join("outside");
    std::fs::create_dir_all(outside.join(".claude")).unwrap();
    let link = a.tmp.path().join("link-to-outside");
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    let before = (snapshot(&a.project), snapshot(&a.home.join("collections")));
    let p = a.p();
    let cases: Vec<(Value, &str)> = vec![
        (json!({"direction": "sideways"}), "bad_body"),
        (json!({"direction": "project-to-upstream"}), "bad_body"),
        (
            json!({"direction": "upstream-to-collection", "extra": 1}),
            "bad_body",
        ),
        (
            json!({"direction": "upstream-to-collection", "dry_run": "yes"}),
            "bad_body",
        ),
        (
            json!({"direction": "upstream-to-collection", "strategy": "prompt"}),
            "bad_body",
        ),
        (
            json!({"direction": "upstream-to-collection", "artifacts": ["skill:../../etc"]}),
            "bad_artifact_id",
        ),
        (
            json!({"direction": "upstream-to-collection", "artifacts": ["skill:a/b"]}),
            "bad_artifact_id",
        ),
        (
            json!({"direction": "upstream-to-collection", "artifacts": ["skill:nope"]}),
            "not_in_collection",
        ),
        (
            json!({"direction": "upstream-to-collection", "artifacts": []}),
            "nothing_to_sync",
        ),
        (
            json!({"direction": "upstream-to-collection", "collection": "../x"}),
            "bad_collection",
        ),
        (
            json!({"direction": "upstream-to-collection", "collection": "other"}),
            "unknown_collection",
        ),
        (
            json!({"direction": "upstream-to-collection", "project_path": p}),
            "unexpected_project",
        ),
        (
            json!({"direction": "collection-to-project"}),
            "project_required",
        ),
        (
            json!({"direction": "collection-to-project", "project_path": "proj"}),
            "bad_project_path",
        ),
        (
            json!({"direction": "collection-to-project", "project_path": outside}),
            "unregistered_project",
        ),
        (
            json!({"direction": "collection-to-project", "project_path": link}),
            "unregistered_project",
        ),
        (
            json!({"direction": "collection-to-project", "project_path": format!("{p}/../outside")}),
            "unregistered_project",
        ),
        (
            json!({"direction": "collection-to-project", "project_path": "/no/such/dir"}),
            "unregistered_project",
        ),
    ];
    for (body, code) in cases {
        let (status, err) = a.post("/api/v1/sync/jobs", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {err}");
        assert_eq!(err["error"], code, "{body}: {err}");
        assert!(err["message"].as_str().unwrap().len() > 5, "{err}");
    }
    // Malformed JSON, no content type, a huge body.
    let raw = |body: &str, ct: Option<&str>| {
        let mut r = Request::post("/api/v1/sync/jobs")
            .header("authorization", format!("Bearer {}", a.token));
        if let Some(ct) = ct {
            r = r.header("content-type", ct);
        }
        r.body(Body::from(body.to_owned())).unwrap()
    };
    assert_eq!(
        a.send(raw("{nope", Some("application/json"))).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        a.send(raw("{}", None)).await.0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let huge = format!(
        "{{\"direction\": \"upstream-to-collection\", \"pad\": \"{}\"}}",
        "x".repeat(1 << 20)
    );
    let (status, _, body) = a.send(raw(&huge, Some("application/json"))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["error"],
        "body_too_large"
    );
    // 404s.
    for uri in [
        "/api/v1/sync/jobs/999",
        "/api/v1/sync/jobs/999/events",
        "/api/v1/artifacts/skill:nope/versions",
        "/api/v1/artifacts/skill:nope/diff?lhs=collection&rhs=upstream",
        "/api/v1/artifacts/command:fix/file?side=collection&path=../../server-token",
        "/api/v1/artifacts/command:fix/file?side=collection&path=%2Fetc%2Fpasswd",
        "/api/v1/sync/patch/..%2Fserver-token",
        "/api/v1/sync/patch/nope.tar.gz",
        "/api/v1/nothing-here",
    ] {
        let (status, err) = a.get(uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {err}");
        assert!(err["error"].is_string(), "{uri}: {err}");
    }
    // 422s on reads, each with the code of what was wrong: the extractors' (path, query, id)
    // before any handler runs, then the handlers' own checks.
    for (uri, code) in [
        ("/api/v1/sync/jobs/abc", "bad_path"),
        ("/api/v1/sync/jobs/abc/events", "bad_path"),
        ("/api/v1/sync/jobs?limit=0", "bad_limit"),
        ("/api/v1/sync/jobs?limit=many", "bad_query"),
        ("/api/v1/sync/jobs?state=done", "bad_query"),
        ("/api/v1/sync/jobs?artifact=skill:a/b", "bad_artifact_id"),
        ("/api/v1/artifacts/not-an-id/history", "bad_artifact_id"),
        ("/api/v1/artifacts/skill:a%2Fb/versions", "bad_artifact_id"),
        (
            "/api/v1/artifacts/command:fix/diff?lhs=collection",
            "bad_query",
        ),
        (
            "/api/v1/artifacts/command:fix/diff?lhs=collection&rhs=somewhere",
            "bad_side",
        ),
        (
            "/api/v1/artifacts/command:fix/diff?lhs=collection&rhs=project",
            "project_required",
        ),
        (
            &format!("/api/v1/drift?project_path={}", outside.display()),
            "unregistered_project",
        ),
    ] {
        let (status, err) = a.get(uri).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}: {err}");
        assert_eq!(err["error"], code, "{uri}: {err}");
    }
    let (status, err) = a
        .post(
            "/api/v1/sync/resolve",
            json!({"artifact": "command:fix", "project_path": a.p()}),
        )
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("no_pending_merge"))
    );
    let (status, _) = a
        .post(
            "/api/v1/artifacts/command:fix/rollback",
            json!({"to": "ffff"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        (snapshot(&a.project), snapshot(&a.home.join("collections"))),
        before
    );
    let (_, jobs) = a.get("/api/v1/sync/jobs").await;
    assert_eq!(jobs["jobs"].as_array().unwrap().len(), 0, "{jobs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_plans_by_default_applies_when_asked_and_carries_the_trace() {
    let a = api().await;
    std::fs::write(
        a.collection_file("commands/fix.md"),
        "Fixed in the collection.\n",
    )
    .unwrap();
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let req = a
        .request(Method::POST, "/api/v1/sync/jobs", Some(json!({})))
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .body(Body::from(
            json!({"direction": "collection-to-project", "project_path": a.p(), "artifacts": ["command:fix"]})
                .to_string(),
        ))
        .unwrap();
    let (status, headers, body) = a.send(req).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(headers["x-trace-id"], trace);
    let job: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(job["trace_id"], trace);
    assert_eq!(job["state"], "queued");
    assert_eq!(job["dry_run"], true);
    assert_eq!(
        headers["location"],
        format!("/api/v1/sync/jobs/{}", job["id"])
    );
    let done = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "success", "{done}");
    assert_eq!(done["result"][0]["outcome"], "fast-forward");
    assert_eq!(done["result"][0]["applied"], false);
    assert_eq!(
        std::fs::read_to_string(a.project_file("commands/fix.md")).unwrap(),
        "Fix.\n"
    );

    let (status, job) = a
        .apply(
            json!({"direction": "collection-to-project", "project_path": a.p(), "dry_run": false}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(job["artifacts"], json!(["command:fix", "skill:review"]));
    assert_eq!(job["trace_id"].as_str().unwrap().len(), 32);
    let done = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "success", "{done}");
    assert_eq!(done["pct"], 100);
    assert_eq!(
        std::fs::read_to_string(a.project_file("commands/fix.md")).unwrap(),
        "Fixed in the collection.\n"
    );

    // Listing and filtering.
    let (_, list) = a
        .get("/api/v1/sync/jobs?state=success&artifact=skill:review")
        .await;
    // The apply and the preview it named (both of skill:review).
    assert_eq!(list["jobs"].as_array().unwrap().len(), 2, "{list}");
    // Cancelling a finished job says so.
    let (status, c) = a
        .call(
            Method::DELETE,
            &format!("/api/v1/sync/jobs/{}", job["id"]),
            None,
        )
        .await;
    assert_eq!(
        (status, c["outcome"].as_str()),
        (StatusCode::OK, Some("already-ended"))
    );

    // Metrics saw it all.
    let req = a
        .request(Method::GET, "/api/v1/metrics", None)
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = a.send(req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(body).unwrap();
    // Three jobs: the first dry run, then the apply's preview and the apply.
    for needle in [
        "skillmeat_queue_depth 0",
        "skillmeat_jobs_total{outcome=\"success\"} 3",
        "skillmeat_job_duration_seconds_count{outcome=\"success\"} 3",
        "skillmeat_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/sync/jobs\",status=\"202\"} 3",
        "skillmeat_diff_render_failures_total 0",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_idempotency_key_gives_one_job() {
    let a = api().await;
    // The third request below is an apply without a plan: about keys, not previews.
    a.preview_off();
    let body = json!({"direction": "upstream-to-collection"});
    let post = |key: &'static str, body: Value| {
        a.request(Method::POST, "/api/v1/sync/jobs", Some(json!({})))
            .header("idempotency-key", key)
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let (s1, h1, b1) = a.send(post("k-1", body.clone())).await;
    let (s2, h2, b2) = a.send(post("k-1", body.clone())).await;
    assert_eq!((s1, s2), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
    let (j1, j2): (Value, Value) = (
        serde_json::from_slice(&b1).unwrap(),
        serde_json::from_slice(&b2).unwrap(),
    );
    assert_eq!(j1["id"], j2["id"]);
    assert_eq!(j1["trace_id"], j2["trace_id"]);
    assert!(h1.get("idempotent-replayed").is_none());
    assert_eq!(h2["idempotent-replayed"], "true");
    let (s3, _, b3) = a
        .send(post(
            "k-1",
            json!({"direction": "upstream-to-collection", "dry_run": false}),
        ))
        .await;
    assert_eq!(s3, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        serde_json::from_slice::<Value>(&b3).unwrap()["error"],
        "idempotency_key_reused"
    );
    // Concurrent retries with one key still make one job.
    let sends = (0..10).map(|_| a.send(post("k-2", body.clone())));
    let ids: std::collections::BTreeSet<String> = futures_util::future::join_all(sends)
        .await
        .into_iter()
        .map(|(s, _, b)| {
            assert_eq!(s, StatusCode::ACCEPTED);
            serde_json::from_slice::<Value>(&b).unwrap()["id"].to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    let (_, list) = a.get("/api/v1/sync/jobs").await;
    assert_eq!(list["jobs"].as_array().unwrap().len(), 2, "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_jobs_on_one_artifact_run_one_at_a_time_and_all_end() {
    let a = api().await;
    // Fifty applies racing, each without a preview (the setting's off path).
    a.preview_off();
    let project = a.p().to_owned();
    let sends = (0..50).map(|i| {
        let body = json!({
            "direction": if i % 2 == 0 { "project-to-collection" } else { "collection-to-project" },
            "project_path": project, "artifacts": ["command:fix"], "dry_run": false
        });
        a.post("/api/v1/sync/jobs", body)
    });
    let created = futures_util::future::join_all(sends).await;
    let mut ended = Vec::new();
    for (status, job) in created {
        assert_eq!(status, StatusCode::ACCEPTED, "{job}");
        ended.push(a.wait(job["id"].as_i64().unwrap()).await);
    }
    assert!(ended.iter().all(|j| j["state"] == "success"), "{ended:?}");
    // Never two at once on the artifact: the run intervals do not overlap.
    let mut spans: Vec<(String, String)> = ended
        .iter()
        .map(|j| {
            (
                j["started_at"].as_str().unwrap().to_owned(),
                j["ended_at"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    spans.sort();
    for w in spans.windows(2) {
        assert!(w[0].1 <= w[1].0, "overlapping runs: {w:?}");
    }
    // Consistent: both tiers hold the same content, drift is clean.
    assert_eq!(
        std::fs::read(a.project_file("commands/fix.md")).unwrap(),
        std::fs::read(a.collection_file("commands/fix.md")).unwrap()
    );
    let (_, drift) = a.get("/api/v1/drift").await;
    assert!(
        drift["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "synced"),
        "{drift}"
    );
}

/// Reads an SSE body until `event: end`, returning (event name, data) pairs.
async fn read_sse(a: &Api, uri: &str) -> Vec<(String, Value)> {
    let req = a
        .request(Method::GET, uri, None)
        .body(Body::empty())
        .unwrap();
    let response = a.app.clone().oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    let mut buffer = String::new();
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let frame = tokio::time::timeout(Duration::from_secs(10), body.frame()).await;
        let Ok(Some(Ok(frame))) = frame else { break };
        if let Ok(data) = frame.into_data() {
            buffer.push_str(&String::from_utf8_lossy(&data));
        }
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let (mut name, mut data) = (String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if !name.is_empty() {
                events.push((name.clone(), serde_json::from_str(&data).unwrap()));
            }
            if name == "end" {
                return events;
            }
        }
    }
    panic!("the stream never ended: {events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_delivers_a_jobs_transitions_in_order_and_its_end() {
    let a = api().await;
    std::fs::write(a.collection_file("commands/fix.md"), "Changed.\n").unwrap();
    let (_, job) = a
        .apply(
            json!({"direction": "collection-to-project", "project_path": a.p(), "dry_run": false}),
        )
        .await;
    let id = job["id"].as_i64().unwrap();
    let events = read_sse(&a, &format!("/api/v1/sync/jobs/{id}/events")).await;
    let states: Vec<&str> = events
        .iter()
        .filter(|(n, _)| n == "job")
        .map(|(_, e)| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(states.first(), Some(&"queued"), "{events:?}");
    assert_eq!(states.last(), Some(&"success"), "{events:?}");
    assert!(
        states[1..states.len() - 1].iter().all(|s| *s == "running"),
        "{states:?}"
    );
    let pcts: Vec<u64> = events
        .iter()
        .filter(|(n, _)| n == "job")
        .map(|(_, e)| e["pct"].as_u64().unwrap())
        .collect();
    assert!(pcts.windows(2).all(|w| w[0] <= w[1]), "{pcts:?}");
    let messages: Vec<&str> = events
        .iter()
        .filter_map(|(_, e)| e["message"].as_str())
        .collect();
    for phase in [
        "command:fix: fetch",
        "command:fix: merge",
        "command:fix: apply",
    ] {
        assert!(messages.contains(&phase), "{phase} missing: {messages:?}");
    }
    let ids: Vec<i64> = events
        .iter()
        .filter(|(n, _)| n == "job")
        .map(|(_, e)| e["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let (name, end) = events.last().unwrap();
    assert_eq!(name, "end");
    assert_eq!(end["state"], "success");
    assert_eq!(end["id"], id);
    // Resuming after an event id replays only what came later.
    let last = ids[ids.len() - 2];
    let req = a
        .request(Method::GET, &format!("/api/v1/sync/jobs/{id}/events"), None)
        .header("last-event-id", last.to_string())
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = a.send(req).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    assert_eq!(text.matches("event: job").count(), 1, "{text}");
    assert!(text.contains("event: end"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_conflicts_resolve_patch_and_rollback() {
    let a = api().await;
    // Reads.
    let (status, list) = a.get("/api/v1/artifacts").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["artifacts"][0]["id"], "command:fix");
    assert_eq!(list["artifacts"][0]["type"], "command");
    assert_eq!(list["artifacts"][0]["reference"], "latest");
    a.edit_fix_on_both_sides();
    let uri = format!(
        "/api/v1/artifacts/command:fix/versions?project_path={}",
        a.p()
    );
    let (status, cards) = a.get(&uri).await;
    assert_eq!(status, StatusCode::OK, "{cards}");
    assert_eq!(cards["upstream"]["reference"], "latest");
    assert_eq!(cards["upstream"]["commit"].as_str().unwrap().len(), 40);
    assert_eq!(cards["collection"]["status"], "modified", "{cards}");
    assert_eq!(cards["project"]["status"], "conflict", "{cards}");
    assert_eq!(cards["project"]["source"], a.p());
    let (status, diff) = a
        .get(&format!(
            "/api/v1/artifacts/command:fix/diff?lhs=collection&rhs=project&project_path={}",
            a.p()
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{diff}");
    assert_eq!(diff["files"][0]["path"], "fix.md");
    assert_eq!(
        (diff["added"].as_u64(), diff["removed"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(
        diff["files"][0]["unified"]
            .as_str()
            .unwrap()
            .contains("+Fix, the project's way.")
    );
    let (status, d) = a
        .get("/api/v1/artifacts/command:fix/diff?lhs=upstream&rhs=collection")
        .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let (_, drift) = a
        .get(&format!("/api/v1/drift?project_path={}", a.p()))
        .await;
    assert!(
        drift["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "command:fix" && r["status"] == "conflict"),
        "{drift}"
    );

    let (_, job) = a
        .apply(
            json!({"direction": "collection-to-project", "project_path": a.p(), "artifacts": ["command:fix"], "dry_run": false}),
        )
        .await;
    let done = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "conflict", "{done}");
    assert_eq!(done["conflicts"], json!(["command:fix"]));
    assert_eq!(
        std::fs::read_to_string(a.project_file("commands/fix.md")).unwrap(),
        "Fix, the project's way.\n"
    );
    // A file not in the merge is refused; keeping ours for the one file settles it.
    let (status, err) = a
        .post("/api/v1/sync/resolve", json!({"artifact": "command:fix", "project_path": a.p(), "files": {"other.md": "ours"}}))
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_in_merge"))
    );
    // The conflict modal's read: every version of the file, and its hunks.
    let conflicts_uri = format!(
        "/api/v1/artifacts/command:fix/conflicts?project_path={}",
        a.p()
    );
    let (status, view) = a.get(&conflicts_uri).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(
        (view["ours_tier"].as_str(), view["theirs_tier"].as_str()),
        (Some("project"), Some("collection"))
    );
    assert_eq!(view["unresolved"], json!(["fix.md"]));
    let file = &view["files"][0];
    assert_eq!(
        (
            file["path"].as_str(),
            file["kind"].as_str(),
            file["resolved"].as_bool()
        ),
        (Some("fix.md"), Some("content"), Some(false)),
        "{view}"
    );
    assert_eq!(file["ours"], "Fix, the project's way.\n");
    assert_eq!(file["theirs"], "Fix, the collection's way.\n");
    assert!(file["merged"].as_str().unwrap().contains("<<<<<<< project"));
    let conflicts: Vec<&serde_json::Value> = file["hunks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["kind"] == "conflict")
        .collect();
    assert_eq!(conflicts.len(), 1, "{view}");
    assert_eq!(conflicts[0]["ours"], "Fix, the project's way.\n");
    assert_eq!(conflicts[0]["theirs"], "Fix, the collection's way.\n");
    // Hunk choices must match the file's conflicts, and a file is decided one way only.
    for bad in [
        json!({"artifact": "command:fix", "project_path": a.p(), "hunks": {"fix.md": ["ours", "theirs"]}}),
        json!({"artifact": "command:fix", "project_path": a.p(), "hunks": {"fix.md": []}}),
        json!({"artifact": "command:fix", "project_path": a.p(), "files": {"fix.md": "ours"}, "hunks": {"fix.md": ["ours"]}}),
    ] {
        let (status, err) = a.post("/api/v1/sync/resolve", bad.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad} → {err}");
    }
    // Choices carry the revision they were made on; a merge changed since (here: its merged
    // file edited in place, as a user may) refuses them and keeps the edit.
    let revision = view["revision"].as_str().unwrap().to_owned();
    assert_eq!(revision.len(), 64, "{view}");
    assert_eq!(a.get(&conflicts_uri).await.1["revision"], revision.as_str());
    let pending = std::fs::read_dir(a.home.join("pending"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("merge.toml").is_file())
        .unwrap();
    let merged = pending.join("files/fix.md");
    let edited = format!(
        "{}An edit made outside the dialog.\n",
        std::fs::read_to_string(&merged).unwrap()
    );
    std::fs::write(&merged, &edited).unwrap();
    let (status, err) = a
        .post("/api/v1/sync/resolve", json!({"artifact": "command:fix", "project_path": a.p(), "hunks": {"fix.md": ["theirs"]}, "revision": revision}))
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (StatusCode::CONFLICT, Some("merge_changed")),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&merged).unwrap(), edited);
    let (_, view) = a.get(&conflicts_uri).await;
    assert_ne!(view["revision"], revision.as_str());
    let (status, job) = a
        .post("/api/v1/sync/resolve", json!({"artifact": "command:fix", "project_path": a.p(), "hunks": {"fix.md": ["theirs"]}, "revision": view["revision"]}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["kind"], "resolve");
    let done = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "success", "{done}");
    assert_eq!(done["result"][0]["applied"], true);
    let (status, gone) = a.get(&conflicts_uri).await;
    assert_eq!(
        (status, gone["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("no_pending_merge"))
    );
    // Theirs for the conflict, and the edit made outside the dialog kept.
    assert_eq!(
        std::fs::read_to_string(a.project_file("commands/fix.md")).unwrap(),
        "Fix, the collection's way.\nAn edit made outside the dialog.\n"
    );

    // The project edits again; a patch bundle carries them upstream.
    std::fs::write(a.project_file("commands/fix.md"), "Fix, improved.\n").unwrap();
    let (status, patch) = a
        .post(
            "/api/v1/sync/patch",
            json!({"artifact": "command:fix", "project_path": a.p()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{patch}");
    let req = a
        .request(Method::GET, patch["url"].as_str().unwrap(), None)
        .body(Body::empty())
        .unwrap();
    let (status, headers, bytes) = a.send(req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/gzip");
    assert_eq!(bytes.len() as u64, patch["size"].as_u64().unwrap());
    use sha2::Digest as _;
    assert_eq!(
        hex(&sha2::Sha256::digest(&bytes)),
        patch["sha256"].as_str().unwrap()
    );
    // Rate limited per client.
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let (status, _) = a
            .post(
                "/api/v1/sync/patch",
                json!({"artifact": "command:fix", "project_path": a.p()}),
            )
            .await;
        statuses.push(status);
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        9,
        "{statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
    // The quota is the token's: another address gets no fresh one.
    let body = json!({"artifact": "command:fix", "project_path": a.p()});
    let mut req = a
        .request(Method::POST, "/api/v1/sync/patch", Some(body.clone()))
        .body(Body::from(body.to_string()))
        .unwrap();
    req.extensions_mut().insert(axum::extract::ConnectInfo(
        "127.0.0.2:4242".parse::<std::net::SocketAddr>().unwrap(),
    ));
    let (status, _, _) = a.send(req).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // History, and a rollback of the project to the version it had before the resolve.
    let (status, history) = a.get("/api/v1/artifacts/command:fix/history").await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let first = history["versions"].as_array().unwrap().last().unwrap()["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, rolled) = a
        .post(
            "/api/v1/artifacts/command:fix/rollback",
            json!({"to": &first[..12], "project_path": a.p()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rolled}");
    assert_eq!(rolled["changed"], true);
    assert_eq!(
        std::fs::read_to_string(a.project_file("commands/fix.md")).unwrap(),
        "Fix.\n"
    );
    let _ = &a.up;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_and_large_files_are_linked_not_inlined() {
    let a = api().await;
    let skill = a.collection_file("skills/review");
    std::fs::write(skill.join("logo.png"), [0x89, b'P', b'N', b'G', 0, 1, 2, 3]).unwrap();
    std::fs::write(skill.join("big.md"), "line\n".repeat(300_000)).unwrap();
    let (status, diff) = a
        .get(&format!(
            "/api/v1/artifacts/skill:review/diff?lhs=project&rhs=collection&project_path={}",
            a.p()
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{diff}");
    let files = diff["files"].as_array().unwrap();
    let png = files.iter().find(|f| f["path"] == "logo.png").unwrap();
    assert_eq!(png["binary"], true);
    assert!(png["unified"].is_null() && png["lhs_url"].is_null());
    let big = files.iter().find(|f| f["path"] == "big.md").unwrap();
    assert_eq!(big["too_large"], true);
    let url = png["rhs_url"].as_str().unwrap();
    let req = a
        .request(Method::GET, url, None)
        .body(Body::empty())
        .unwrap();
    let (status, headers, bytes) = a.send(req).await;
    assert_eq!(status, StatusCode::OK, "{url}");
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(bytes, [0x89, b'P', b'N', b'G', 0, 1, 2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_route_with_its_methods() {
    let a = api().await;
    let (status, doc) = a.get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    let paths = doc["paths"].as_object().unwrap();
    for (method, uri, _) in routes(&a) {
        let path = uri.split('?').next().unwrap();
        if path.ends_with("openapi.json") {
            continue;
        }
        let templated = paths.keys().find(|p| {
            let (ps, us): (Vec<&str>, Vec<&str>) =
                (p.split('/').collect(), path.split('/').collect());
            ps.len() == us.len()
                && ps
                    .iter()
                    .zip(&us)
                    .all(|(p, u)| p.starts_with('{') || p == u)
        });
        let Some(templated) = templated else {
            panic!("{path} is not in the document");
        };
        let op = &paths[templated][method.as_str().to_lowercase()];
        assert!(op.is_object(), "{method} {templated} is not documented");
        assert!(
            op["responses"]["401"].is_object(),
            "{method} {templated} lacks its 401"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
    for schema in [
        "JobView",
        "CreateJob",
        "ErrorBody",
        "VersionCards",
        "DiffView",
        "LogPageView",
        "ArtifactLogView",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} missing"
        );
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_debug_log_lists_api_and_ui_requests_with_their_trace_ids() {
    let a = api().await;
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let req = a
        .request(Method::GET, "/api/v1/artifacts", None)
        .header("traceparent", format!("00-{trace}-b7ad6b7169203331-01"))
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = a.send(req).await;
    assert_eq!(
        (status, &headers["x-trace-id"]),
        (StatusCode::OK, &trace.parse::<http::HeaderValue>().unwrap())
    );
    // A server function of the web UI gets a trace id and a line too.
    let req = a
        .request(Method::POST, "/_sm/status", None)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = a.send(req).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let ui_trace = headers["x-trace-id"].to_str().unwrap().to_owned();
    assert_eq!(ui_trace.len(), 32);
    let (status, log) = a.get("/api/v1/debug/requests").await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let requests = log["requests"].as_array().unwrap();
    let line = |i: usize| {
        (
            requests[i]["method"].as_str().unwrap(),
            requests[i]["route"].as_str().unwrap(),
            requests[i]["status"].as_u64().unwrap(),
            requests[i]["trace_id"].as_str().unwrap(),
        )
    };
    // Newest first.
    assert_eq!(
        line(0),
        ("POST", "/_sm/status", 200, ui_trace.as_str()),
        "{log}"
    );
    assert_eq!(line(1), ("GET", "/api/v1/artifacts", 200, trace), "{log}");
    assert!(requests[1]["duration_ms"].as_f64().unwrap() >= 0.0);
}

/// An undecodable or empty body and an unknown id are the client's errors (4xx), not the
/// server's; a 405 says so in JSON like every other error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_answer_bad_bodies_with_4xx_and_405_is_json() {
    let a = api().await;
    let postcard = |body: Vec<u8>| {
        a.request(Method::POST, "/_sm/artifact", None)
            .header("content-type", "application/x-postcard")
            .body(Body::from(body))
            .unwrap()
    };
    for (what, body) in [
        ("empty", Vec::new()),
        ("garbage", vec![0xff; 64]),
        ("cut short", vec![40, b's', b'k']),
    ] {
        let (status, _, bytes) = a.send(postcard(body)).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{what}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    let encode = |id: &str| {
        let mut body = vec![u8::try_from(id.len()).unwrap()];
        body.extend_from_slice(id.as_bytes());
        body.extend_from_slice(&[0, 0, 0]); // project, from, to: None
        body
    };
    // The status the REST API gives the same failure, carried with it (not a second table).
    for (id, want) in [
        ("skill:nope", StatusCode::NOT_FOUND),
        ("skill:../../etc", StatusCode::UNPROCESSABLE_ENTITY),
        ("not-an-id", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, _, bytes) = a.send(postcard(encode(id))).await;
        assert_eq!(status, want, "{id}: {}", String::from_utf8_lossy(&bytes));
    }
    // A known id still works through the same door.
    let (status, _, bytes) = a.send(postcard(encode("command:fix"))).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );

    let (status, headers, bytes) = a
        .send(
            a.request(Method::DELETE, "/api/v1/artifacts", None)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = serde_json::from_slice(&bytes).expect("405 has a JSON body");
    assert_eq!(body["error"], "method_not_allowed", "{body}");
    assert!(headers.contains_key("allow"));
}

/// Resuming a finished job's stream at or past its last event ends at once with `end`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_resumed_past_a_finished_jobs_end_gets_end_at_once() {
    let a = api().await;
    let (_, job) = a
        .post(
            "/api/v1/sync/jobs",
            json!({"direction": "collection-to-project", "project_path": a.p()}),
        )
        .await;
    let id = job["id"].as_i64().unwrap();
    a.wait(id).await;
    let events = read_sse(&a, &format!("/api/v1/sync/jobs/{id}/events")).await;
    let last: i64 = events
        .iter()
        .filter(|(n, _)| n == "job")
        .filter_map(|(_, e)| e["id"].as_i64())
        .max()
        .unwrap();
    for resume in [last, last + 1000] {
        let req = a
            .request(Method::GET, &format!("/api/v1/sync/jobs/{id}/events"), None)
            .header("last-event-id", resume.to_string())
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = tokio::time::timeout(Duration::from_secs(10), a.send(req))
            .await
            .expect("the stream ends instead of polling forever");
        assert_eq!(status, StatusCode::OK);
        let text = String::from_utf8(body).unwrap();
        assert_eq!(text.matches("event: job").count(), 0, "{text}");
        assert!(text.contains("event: end"), "{text}");
    }
}

/// A registered project whose `.claude/skills` leads out of it: a sync job into it is refused
/// with 422 and writes nothing there; after `project allow-links` it is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_linked_out_of_itself_is_refused_with_422() {
    let a = api().await;
    let outside = a.tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let skills = a.project.join(".claude/skills");
    std::fs::rename(&skills, outside.join("skills")).unwrap();
    std::os::unix::fs::symlink(outside.join("skills"), &skills).unwrap();
    let target = outside.join("skills/review/SKILL.md");
    let before = std::fs::read(&target).unwrap();
    std::fs::write(
        a.collection_file("skills/review/SKILL.md"),
        "# Review, changed\n",
    )
    .unwrap();
    let body =
        json!({"direction": "collection-to-project", "project_path": a.p(), "dry_run": false});
    let (status, err) = a.post("/api/v1/sync/jobs", body.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["error"], "link_outside_project", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("allow-links"),
        "{err}"
    );
    let (status, err) = a
        .post(
            "/api/v1/artifacts/skill:review/rollback",
            json!({"project_path": a.p(), "to": "0000"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(
        std::fs::read(&target).unwrap(),
        before,
        "nothing written outside"
    );

    let o = skillmeat(&a.home, a.tmp.path(), &["project", "allow-links", a.p()]);
    assert!(o.status.success(), "{}", text(&o));
    let (status, job) = a.apply(body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let done = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "success", "{done}");
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "# Review, changed\n"
    );
}

/// One bad project copy (a FIFO inside it) and one malformed records file do not fail the
/// drift report of everything else; a hostile upstream is one problem row, not a 502.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_reports_bad_rows_and_keeps_the_rest() {
    let a = api().await;
    // A second registered project, with broken records.
    let p2 = a.tmp.path().join("p2");
    std::fs::create_dir_all(&p2).unwrap();
    let o = skillmeat(
        &a.home,
        a.tmp.path(),
        &["deploy", "command:fix", "--project", p2.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    std::fs::write(
        p2.join(".claude/.skillmeat-deployed.toml"),
        "[[deployed]\nbroken",
    )
    .unwrap();
    // A FIFO inside the first project's copy of the skill.
    let fifo = a.project_file("skills/review/pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // The upstream's next commit makes the review skill hostile.
    a.up.commit_raw_tree(
        "hostile",
        "skills/review",
        &[
            skillmeat_testutils::git::RawEntry::file("SKILL.md", "# Review\n"),
            skillmeat_testutils::git::RawEntry::file("..", "x"),
        ],
    );
    let (status, drift) = a.get("/api/v1/drift?check_upstream=true").await;
    assert_eq!(status, StatusCode::OK, "{drift}");
    let problems = drift["problems"].as_array().unwrap();
    let has = |needle: &str| {
        problems
            .iter()
            .any(|p| p["message"].as_str().unwrap().contains(needle))
    };
    assert!(has("pipe"), "the FIFO is named: {drift:#}");
    assert!(
        has(".skillmeat-deployed.toml"),
        "the records file is named: {drift:#}"
    );
    assert!(
        has("skills/review/.."),
        "the hostile entry is named: {drift:#}"
    );
    let rows = drift["rows"].as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["id"] == "command:fix" && r["pair"] == "collection-project"),
        "the healthy rows stay: {drift:#}"
    );
    assert!(!a.collection_file("skills/x").exists());
    // The copy with the FIFO is a clear 4xx where it is read; its neighbour reads fine.
    for uri in [
        format!(
            "/api/v1/artifacts/skill:review/versions?project_path={}",
            a.p()
        ),
        format!(
            "/api/v1/artifacts/skill:review/diff?lhs=collection&rhs=project&project_path={}",
            a.p()
        ),
    ] {
        let (status, err) = a.get(&uri).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}: {err}");
        assert!(err["message"].as_str().unwrap().contains("pipe"), "{err}");
    }
    let (status, cards) = a
        .get(&format!(
            "/api/v1/artifacts/command:fix/versions?project_path={}",
            a.p()
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{cards}");
    // The page that checks upstreams renders too.
    let (status, _, body) = a
        .send(
            a.request(Method::GET, "/", None)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
}

/// Arbitrary bytes as the body of every POST route: never a 5xx, and nothing in the project
/// or the collection changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arbitrary_request_bodies_never_fail_the_server_or_write() {
    use proptest::strategy::{Strategy, ValueTree};
    let a = api().await;
    let before = (
        std::fs::read(a.project_file("commands/fix.md")).unwrap(),
        std::fs::read(a.collection_file("commands/fix.md")).unwrap(),
        std::fs::read(a.project.join(".claude/.skillmeat-deployed.toml")).unwrap(),
    );
    let strategy = proptest::prop_oneof![
        proptest::collection::vec(proptest::num::u8::ANY, 0..256),
        proptest::collection::vec(
            proptest::prop_oneof![
                proptest::strategy::Just(b"{\"direction\":".to_vec()),
                proptest::strategy::Just(b"\"collection-to-project\"".to_vec()),
                proptest::strategy::Just(b",\"project_path\":\"/..\"".to_vec()),
                proptest::strategy::Just(b",\"artifacts\":[\"skill:../x\"]".to_vec()),
                proptest::strategy::Just(b",\"dry_run\":false".to_vec()),
                proptest::strategy::Just(b"}".to_vec()),
                proptest::strategy::Just(b"\0\xff".to_vec()),
            ],
            0..8,
        )
        .prop_map(|parts| parts.concat()),
    ];
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..48 {
        let body = strategy.new_tree(&mut runner).unwrap().current();
        for uri in [
            "/api/v1/sync/jobs",
            "/api/v1/sync/resolve",
            "/api/v1/sync/patch",
            "/api/v1/artifacts/command:fix/rollback",
        ] {
            let req = a
                .request(Method::POST, uri, Some(Value::Null))
                .body(Body::from(body.clone()))
                .unwrap();
            let (status, _, answer) = a.send(req).await;
            assert!(
                !status.is_server_error(),
                "{uri} {body:?}: {status} {}",
                String::from_utf8_lossy(&answer)
            );
        }
    }
    let started = Instant::now();
    // Jobs a body may have queued (a valid dry run) end before the files are compared.
    loop {
        let (_, jobs) = a.get("/api/v1/sync/jobs").await;
        let busy = jobs["jobs"].as_array().is_some_and(|j| {
            j.iter()
                .any(|j| j["state"] == "queued" || j["state"] == "running")
        });
        if !busy || started.elapsed() > Duration::from_secs(30) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = (
        std::fs::read(a.project_file("commands/fix.md")).unwrap(),
        std::fs::read(a.collection_file("commands/fix.md")).unwrap(),
        std::fs::read(a.project.join(".claude/.skillmeat-deployed.toml")).unwrap(),
    );
    assert_eq!(before, after);
}
