//! `skillmeat-bench ui`: how long the server takes to render the web UI's pages for a
//! 100-artifact collection deployed in a project, timed over loopback one request at a time
//! (after a warm-up), with `/healthz` as the floor of the same path.

use std::fs;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use http_body_util::BodyExt as _;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops::{self};

use crate::UiBenchArgs;
use crate::api::{connect, request};
use crate::{bench_context, commit_all};
use skillmeat::error::CommandError;

fn fail<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> CommandError + '_ {
    move |e| CommandError::failed(format!("{what}: {e}"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn run(args: UiBenchArgs) -> Result<ExitCode, CommandError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(fail("cannot start the async runtime"))?;
    runtime.block_on(bench(args))
}

/// Times `n` sequential GETs of `path` (after 20 unmeasured ones), checking each is a 200.
async fn time_get(
    addr: SocketAddr,
    token: &str,
    path: &str,
    n: usize,
) -> Result<Vec<Duration>, CommandError> {
    let mut sender = connect(addr).await?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n + 20 {
        sender
            .ready()
            .await
            .map_err(|e| CommandError::failed(format!("the connection closed: {e}")))?;
        let started = Instant::now();
        let response = sender
            .send_request(request("GET", path, token, None))
            .await
            .map_err(|e| CommandError::failed(format!("GET {path} failed: {e:?}")))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(fail("reading the page failed"))?
            .to_bytes();
        let took = started.elapsed();
        if !status.is_success() {
            return Err(CommandError::failed(format!(
                "GET {path} answered {status}: {}",
                String::from_utf8_lossy(&body)
            )));
        }
        if i >= 20 {
            out.push(took);
        }
    }
    out.sort();
    Ok(out)
}

fn report(name: &str, lat: &[Duration], target: &str) {
    let pct = |p: f64| {
        let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
        lat.get(i).copied().unwrap_or_default()
    };
    let mean = lat.iter().sum::<Duration>() / u32::try_from(lat.len().max(1)).unwrap_or(1);
    println!(
        "{name:<44} p50 {:>7.2} ms  mean {:>7.2} ms  p99 {:>7.2} ms{}",
        ms(pct(0.5)),
        ms(mean),
        ms(pct(0.99)),
        if target.is_empty() {
            String::new()
        } else {
            format!("   (target {target})")
        }
    );
}

async fn bench(args: UiBenchArgs) -> Result<ExitCode, CommandError> {
    let tmp = tempfile::tempdir().map_err(fail("cannot create a temp folder"))?;
    let root = tmp.path();
    let (home_dir, project, upstream) = (root.join("home"), root.join("project"), root.join("up"));
    fs::create_dir_all(upstream.join("commands")).map_err(fail("cannot create"))?;
    fs::create_dir_all(&project).map_err(fail("cannot create"))?;
    let n = args.artifacts;
    for i in 0..n {
        let text = format!(
            "---\ndescription: Command {i}\n---\n\n{}",
            "Do the thing carefully, then check it.\n".repeat(20)
        );
        fs::write(upstream.join(format!("commands/c{i:03}.md")), text)
            .map_err(fail("cannot write"))?;
    }
    commit_all(&upstream)?;
    let ctx = bench_context(&home_dir, root);
    let mut ids: Vec<ArtifactId> = Vec::with_capacity(n);
    for i in 0..n {
        let spec = format!("{}#commands/c{i:03}.md", upstream.display());
        let added = ops::add(&ctx, &spec, None, None, "default")
            .await
            .map_err(|e| CommandError::failed(e.to_string()))?;
        ids.push(added.id);
    }
    ops::deploy(&ctx, &ids, &project, "default")
        .await
        .map_err(|e| CommandError::failed(e.to_string()))?;
    // A tenth of the project's copies carry local edits, so the pages have diffs to show.
    for i in (0..n).step_by(10) {
        let file = project.join(format!(".claude/commands/c{i:03}.md"));
        let mut text = fs::read_to_string(&file).map_err(fail("cannot read"))?;
        text.push_str("Project-specific note.\n");
        fs::write(&file, text).map_err(fail("cannot write"))?;
    }
    let project = fs::canonicalize(&project).map_err(fail("cannot resolve the project"))?;

    let (state, _runner) = skillmeat::serve::app_state(&home_dir, ctx).await?;
    let token = state.token().to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(fail("cannot listen"))?;
    let addr = listener.local_addr().map_err(fail("no local address"))?;
    let app = skillmeat::serve::router(state, root.join("no-site"), addr);
    tokio::spawn(async move {
        axum::serve(
            skillmeat::serve::without_nagle(listener),
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });

    let project_q = skillmeat_app::format::encode(&project.display().to_string());
    let edited = format!("/artifacts/command%3Ac050?project={project_q}");
    let same = format!("/artifacts/command%3Ac051?project={project_q}");
    println!(
        "Server render time, {n} artifacts deployed in one project, {} sequential requests each on loopback\n",
        args.requests
    );
    let floor = time_get(addr, &token, "/healthz", args.requests).await?;
    report("GET /healthz (floor)", &floor, "");
    let page = time_get(addr, &token, &edited, args.requests).await?;
    report("artifact page, project copy edited", &page, "< 20 ms");
    let page = time_get(addr, &token, &same, args.requests).await?;
    report("artifact page, in sync", &page, "< 20 ms");
    let list = time_get(addr, &token, "/?upstream=off", args.requests).await?;
    report("artifacts page, upstreams not asked", &list, "");
    let list = time_get(addr, &token, "/", args.requests.min(50)).await?;
    report("artifacts page, upstreams asked (local)", &list, "");
    Ok(ExitCode::SUCCESS)
}
