//! The real `skillmeat serve` process: jobs survive a SIGKILL mid-run and end after a restart
//! with every artifact consistent.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use skillmeat_testutils::git::GitRepo;

use crate::cli::{skillmeat, text};

/// A running server and its address.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: String,
}

fn start(home: &Path) -> Server {
    start_with_env(home, &[])
}

/// Starts `skillmeat serve` on a free port with extra environment variables.
pub(crate) fn start_with_env(home: &Path, env: &[(&str, &str)]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_skillmeat"))
        .args(["serve", "--port", "0", "--home", home.to_str().unwrap()])
        .args(["--site-root", home.join("no-site").to_str().unwrap()])
        .env("SKILLMEAT_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("serve printed no URL").unwrap();
        if let Some(rest) = line.split("running at http://").nth(1) {
            break rest.trim_end_matches('/').to_owned();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, addr }
}

/// One HTTP/1.1 request over a fresh connection; (status, JSON body).
fn call(addr: &str, token: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    call_with(addr, token, method, path, body, "")
}

/// [`call`] with extra header lines (each ending in `\r\n`).
pub(crate) fn call_with(
    addr: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
    headers: &str,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n{headers}\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[test]
fn jobs_survive_a_sigkill_and_end_consistent_after_a_restart() {
    const N: usize = 30;
    let up = GitRepo::new();
    for i in 0..N {
        up.write(
            &format!("commands/c{i:02}.md"),
            &format!("Command {i}, v1.\n"),
        );
    }
    up.commit("v1");
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    for i in 0..N {
        let spec = format!("{}#commands/c{i:02}.md", up.path().display());
        let o = skillmeat(&home, tmp.path(), &["add", &spec]);
        assert!(o.status.success(), "{}", text(&o));
    }
    for i in 0..N {
        up.write(
            &format!("commands/c{i:02}.md"),
            &format!("Command {i}, v2.\n"),
        );
    }
    up.commit("v2");
    // Applies queued without previews: the restart is the subject here.
    let o = skillmeat(
        &home,
        tmp.path(),
        &["config", "set", "sync.preview_required", "false"],
    );
    assert!(o.status.success(), "{}", text(&o));

    let mut server = start(&home);
    let token = std::fs::read_to_string(home.join("server-token"))
        .unwrap()
        .trim()
        .to_owned();
    let t = token.as_str();
    let body = json!({"direction": "upstream-to-collection", "dry_run": false});
    let (status, first) = call(&server.addr, t, "POST", "/api/v1/sync/jobs", Some(&body));
    assert_eq!(status, 202, "{first}");
    let mut ids = vec![first["id"].as_i64().unwrap()];
    for dry_run in [true, false, true] {
        let body = json!({"direction": "upstream-to-collection", "dry_run": dry_run});
        let (status, job) = call(&server.addr, t, "POST", "/api/v1/sync/jobs", Some(&body));
        assert_eq!(status, 202, "{job}");
        ids.push(job["id"].as_i64().unwrap());
    }
    // Kill it while the first job is part-way through its artifacts.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, job) = call(
            &server.addr,
            t,
            "GET",
            &format!("/api/v1/sync/jobs/{}", ids[0]),
            None,
        );
        if job["state"] == "running" && job["pct"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        assert!(
            job["state"] == "queued" || job["state"] == "running",
            "ended before the kill: {job}"
        );
        assert!(Instant::now() < deadline, "the job never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    let moved = (0..N)
        .filter(|i| {
            std::fs::read_to_string(home.join(format!("collections/default/commands/c{i:02}.md")))
                .unwrap()
                .contains("v2")
        })
        .count();
    assert!(moved < N, "the kill came too late to interrupt anything");

    let mut server = start(&home);
    let deadline = Instant::now() + Duration::from_secs(60);
    let ended: Vec<Value> = ids
        .iter()
        .map(|id| {
            loop {
                let (_, job) = call(
                    &server.addr,
                    t,
                    "GET",
                    &format!("/api/v1/sync/jobs/{id}"),
                    None,
                );
                if !matches!(job["state"].as_str(), Some("queued" | "running")) {
                    break job;
                }
                assert!(Instant::now() < deadline, "job {id} never ended: {job}");
                std::thread::sleep(Duration::from_millis(20));
            }
        })
        .collect();
    for job in &ended {
        assert_eq!(job["state"], "success", "{job}");
    }
    assert_eq!(
        ended[0]["attempts"], 2,
        "the interrupted job ran again: {}",
        ended[0]
    );
    // Every artifact is whole and at v2; no staging folder is left; drift agrees.
    for i in 0..N {
        let content =
            std::fs::read_to_string(home.join(format!("collections/default/commands/c{i:02}.md")))
                .unwrap();
        assert_eq!(content, format!("Command {i}, v2.\n"));
    }
    let leftovers: Vec<_> = std::fs::read_dir(home.join("collections/default/commands"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("staging"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let (_, drift) = call(
        &server.addr,
        t,
        "GET",
        "/api/v1/drift?check_upstream=true",
        None,
    );
    let rows = drift["rows"].as_array().unwrap();
    assert_eq!(rows.len(), N, "{drift}");
    assert!(rows.iter().all(|r| r["status"] == "synced"), "{drift}");
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}
