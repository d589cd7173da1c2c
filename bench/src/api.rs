//! `skillmeat-bench api`: the HTTP API under load on loopback, in one run. An open-loop client
//! (requests are sent on a fixed schedule whether or not earlier ones have answered, so a slow
//! server cannot slow the load down) creates jobs, then polls job status, each at a fixed rate;
//! then times small jobs from the POST to their final SSE event. `/api/v1/healthz` at the same
//! rate is the floor to compare against.

use std::fs;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use skillmeat_core::ops::{self};

use crate::ApiBenchArgs;
use crate::{bench_context, commit_all};
use skillmeat::error::CommandError;

/// Latencies of one phase.
struct Phase {
    name: &'static str,
    sent: usize,
    failed: usize,
    took: Duration,
    latencies: Vec<Duration>,
}

impl Phase {
    fn pct(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i.min(self.latencies.len() - 1)]
    }

    fn print(&self, target_p99: Option<&str>) {
        let rate = self.sent as f64 / self.took.as_secs_f64();
        println!(
            "{:<22} {:>6} req {:>6.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  failed {}{}",
            self.name,
            self.sent,
            rate,
            ms(self.pct(0.5)),
            ms(self.pct(0.99)),
            ms(self.latencies.last().copied().unwrap_or_default()),
            self.failed,
            target_p99
                .map(|t| format!("   (target p99 {t})"))
                .unwrap_or_default()
        );
    }
}

fn fail<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> CommandError + '_ {
    move |e| CommandError::failed(format!("{what}: {e}"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A keep-alive HTTP/1.1 connection.
pub(crate) async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, CommandError> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(fail("cannot connect to the server"))?;
    stream.set_nodelay(true).ok();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(fail("HTTP handshake failed"))?;
    tokio::spawn(conn);
    Ok(sender)
}

type MakeRequest = dyn Fn(usize) -> hyper::Request<Full<Bytes>> + Send + Sync;

/// Sends `rate` requests a second for `secs` seconds over `connections` connections, each made
/// by `make(i)`; latency from send to the full response.
async fn load(
    name: &'static str,
    addr: SocketAddr,
    rate: u32,
    secs: u64,
    connections: usize,
    make: Arc<MakeRequest>,
) -> Result<Phase, CommandError> {
    let total = (u64::from(rate) * secs) as usize;
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let (tx, rx) = tokio::sync::mpsc::channel::<usize>(total.max(1));
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let mut workers = Vec::new();
    for _ in 0..connections {
        let mut sender = connect(addr).await?;
        let (rx, make) = (rx.clone(), make.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0;
            loop {
                let next = rx.lock().await.recv().await;
                let Some(i) = next else { break };
                let t = Instant::now();
                let ok = match sender.send_request(make(i)).await {
                    Ok(response) => {
                        let good = response.status().is_success();
                        good && response.into_body().collect().await.is_ok()
                    }
                    Err(_) => false,
                };
                latencies.push(t.elapsed());
                if !ok {
                    failed += 1;
                }
            }
            (latencies, failed)
        }));
    }
    let started = Instant::now();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for i in 0..total {
        ticker.tick().await;
        let _ = tx.send(i).await;
    }
    drop(tx);
    let mut phase = Phase {
        name,
        sent: total,
        failed: 0,
        took: Duration::ZERO,
        latencies: Vec::with_capacity(total),
    };
    for w in workers {
        let (latencies, failed) = w.await.map_err(fail("a load worker failed"))?;
        phase.latencies.extend(latencies);
        phase.failed += failed;
    }
    phase.took = started.elapsed();
    phase.latencies.sort();
    Ok(phase)
}

pub(crate) fn request(
    method: &str,
    uri: &str,
    token: &str,
    body: Option<String>,
) -> hyper::Request<Full<Bytes>> {
    let mut b = hyper::Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "127.0.0.1")
        .header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    b.body(Full::new(Bytes::from(body.unwrap_or_default())))
        .unwrap_or_else(|_| hyper::Request::new(Full::new(Bytes::new())))
}

/// Creates a job and times it to its final SSE event.
async fn job_to_end(addr: SocketAddr, token: &str, body: &str) -> Result<Duration, CommandError> {
    let mut sender = connect(addr).await?;
    let started = Instant::now();
    let response = sender
        .send_request(request(
            "POST",
            "/api/v1/sync/jobs",
            token,
            Some(body.to_owned()),
        ))
        .await
        .map_err(fail("POST failed"))?;
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(fail("POST body failed"))?
        .to_bytes();
    let job: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(fail("the POST answer is not JSON"))?;
    let id = job["id"]
        .as_i64()
        .ok_or_else(|| CommandError::failed(format!("no job id in {job}")))?;
    let mut events = connect(addr).await?;
    let response = events
        .send_request(request(
            "GET",
            &format!("/api/v1/sync/jobs/{id}/events"),
            token,
            None,
        ))
        .await
        .map_err(fail("SSE request failed"))?;
    let mut body = response.into_body();
    let mut text = String::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.map_err(fail("SSE stream failed"))?.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
            if text.contains("event: end") {
                return Ok(started.elapsed());
            }
        }
    }
    Err(CommandError::failed(format!(
        "job {id}: the stream ended without its final event"
    )))
}

pub fn run(args: ApiBenchArgs) -> Result<ExitCode, CommandError> {
    // The server (with its runner) and the load client run on runtimes of their own, as they
    // would in two processes: client tasks never wait behind server tasks for a worker thread,
    // so the figures are the server's, not the client's queueing.
    let server = tokio::runtime::Builder::new_multi_thread()
        .thread_name("bench-server")
        .enable_all()
        .build()
        .map_err(fail("cannot start the server's async runtime"))?;
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(fail("cannot start the client's async runtime"))?;
    let served = server.block_on(start_server())?;
    client.block_on(drive(args, &served))
}

/// A server over a home with one small skill deployed in a project, listening on loopback.
struct Served {
    /// Holds the home and project until the bench ends.
    _tmp: tempfile::TempDir,
    addr: SocketAddr,
    token: String,
    /// A dry-run sync of the skill into the project.
    job_body: String,
}

/// Builds the home and starts the server and its runner (on the current runtime).
async fn start_server() -> Result<Served, CommandError> {
    let tmp = tempfile::tempdir().map_err(fail("cannot create a temp folder"))?;
    let root = tmp.path();
    let (home_dir, project, upstream) = (root.join("home"), root.join("project"), root.join("up"));
    for dir in [&project, &upstream.join("skills/small")] {
        fs::create_dir_all(dir).map_err(fail("cannot create"))?;
    }
    fs::write(
        upstream.join("skills/small/SKILL.md"),
        "# Small\nA small skill.\n",
    )
    .map_err(fail("cannot write"))?;
    fs::write(upstream.join("skills/small/notes.md"), "Notes.\n").map_err(fail("cannot write"))?;
    commit_all(&upstream)?;
    let ctx = bench_context(&home_dir, root);
    let spec = format!("{}#skills/small", upstream.display());
    let added = ops::add(&ctx, &spec, None, None, "default")
        .await
        .map_err(|e| CommandError::failed(e.to_string()))?;
    ops::deploy(&ctx, std::slice::from_ref(&added.id), &project, "default")
        .await
        .map_err(|e| CommandError::failed(e.to_string()))?;
    let project = fs::canonicalize(&project).map_err(fail("cannot resolve the project"))?;

    let (state, runner) = skillmeat::serve::app_state(&home_dir, ctx).await?;
    let token = state.token().to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(fail("cannot listen"))?;
    let addr = listener.local_addr().map_err(fail("no local address"))?;
    let app = skillmeat::serve::router(state, root.join("no-site"), addr);
    tokio::spawn(async move { axum::serve(skillmeat::serve::without_nagle(listener), app).await });
    skillmeat::serve::start_runner(runner, home_dir.clone())?;
    let job_body = serde_json::json!({
        "direction": "collection-to-project",
        "project_path": project,
        "artifacts": [added.id.to_string()],
        "dry_run": true,
    })
    .to_string();
    Ok(Served {
        _tmp: tmp,
        addr,
        token,
        job_body,
    })
}

/// Runs the load phases against `served` and prints the figures.
async fn drive(args: ApiBenchArgs, served: &Served) -> Result<ExitCode, CommandError> {
    let (addr, token, job_body) = (served.addr, served.token.as_str(), &served.job_body);
    println!(
        "API load on loopback: {} req/s for {} s per phase, {} connections, one small skill (2 files)\n",
        args.rate, args.secs, args.connections
    );
    let t = Arc::new(token.to_owned());
    let health = {
        let t = t.clone();
        load(
            "GET /healthz (floor)",
            addr,
            args.rate,
            args.secs,
            args.connections,
            Arc::new(move |_| request("GET", "/api/v1/healthz", &t, None)),
        )
        .await?
    };
    let create = {
        let (t, body) = (t.clone(), job_body.clone());
        load(
            "POST /sync/jobs",
            addr,
            args.rate,
            args.secs,
            args.connections,
            Arc::new(move |_| request("POST", "/api/v1/sync/jobs", &t, Some(body.clone()))),
        )
        .await?
    };
    let created = create.sent;
    let status = {
        let t = t.clone();
        load(
            "GET /sync/jobs/{id}",
            addr,
            args.rate,
            args.secs,
            args.connections,
            Arc::new(move |i| {
                request(
                    "GET",
                    &format!("/api/v1/sync/jobs/{}", i % created + 1),
                    &t,
                    None,
                )
            }),
        )
        .await?
    };
    health.print(None);
    create.print(Some("< 5 ms"));
    status.print(Some("< 2 ms"));

    // Let the runner work through the queue the load made, then time jobs one by one.
    let drained = Instant::now();
    let mut probe = connect(addr).await?;
    loop {
        let response = probe
            .send_request(request("GET", "/api/v1/healthz", token, None))
            .await
            .map_err(fail("health check failed"))?;
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(fail("health body"))?
            .to_bytes();
        let health: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if health["queue_depth"] == 0 || drained.elapsed() > Duration::from_secs(300) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "\nthe runner finished the {created} queued jobs {:.1} s after the load ended",
        drained.elapsed().as_secs_f64()
    );
    let mut ends = Vec::new();
    for _ in 0..args.jobs {
        ends.push(job_to_end(addr, token, job_body).await?);
    }
    ends.sort();
    println!(
        "POST to final SSE event: median {:.1} ms, max {:.1} ms over {} jobs   (target median < 300 ms)",
        ms(ends[ends.len() / 2]),
        ms(ends[ends.len() - 1]),
        ends.len()
    );
    Ok(ExitCode::SUCCESS)
}
