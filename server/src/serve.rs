//! `skillmeat serve`: the axum server hosting the Leptos UI (SSR + hydration) and the HTTP API.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use serde::Serialize;
use skillmeat_app::api::ServerContext;
use skillmeat_app::{App, shell};
use skillmeat_core::jobs::{JobStore, Runner, SqliteJobStore};
use skillmeat_core::ops::Context;
use skillmeat_core::storage::db::Database;
use skillmeat_core::storage::home::Home;

use crate::api::{self, ApiState};
use tower_http::services::{ServeDir, ServeFile};

use crate::error::CommandError;

/// Everything `serve` needs, resolved by the CLI.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The SkillMeat home to serve.
    pub home: PathBuf,
    /// Address to bind.
    pub host: IpAddr,
    /// Port to bind; 0 for any free port.
    pub port: u16,
    /// Folder with the built web bundle.
    pub site_root: PathBuf,
    /// How often registered projects are checked for local edits; zero for never.
    pub check_every: Duration,
}

/// Checks every registered project's deployed copies every `every` (see
/// [`skillmeat_core::ops::check_projects`]) on a thread of its own at the jobs' lower priority.
/// Checks run one after another, so two never overlap; one that overruns delays the next.
pub fn start_checks(home: PathBuf, every: Duration) -> Result<(), CommandError> {
    if every.is_zero() {
        return Ok(());
    }
    std::thread::Builder::new()
        .name("skillmeat-checks".into())
        .spawn(move || {
            lower_priority(JOB_NICENESS);
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!("cannot start the project checks: {e}");
                    return;
                }
            };
            loop {
                std::thread::sleep(every);
                let ctx = match crate::cli::common::context(&home) {
                    Ok(ctx) => ctx,
                    Err(e) => {
                        tracing::error!("project check skipped: {e}");
                        continue;
                    }
                };
                let started = std::time::Instant::now();
                match runtime.block_on(skillmeat_core::ops::check_projects(&ctx)) {
                    Ok(done) => {
                        for problem in &done.problems {
                            tracing::warn!("project check: {problem}");
                        }
                        tracing::info!(
                            projects = done.projects,
                            copies = done.copies,
                            newly_modified = done.newly_modified.len(),
                            duration_ms = started.elapsed().as_millis() as u64,
                            "checked the registered projects"
                        );
                    }
                    Err(e) => tracing::warn!("project check failed: {e}"),
                }
            }
        })
        .map(drop)
        .map_err(|e| CommandError::failed(format!("cannot start the project checks: {e}")))
}

/// The name `cargo xtask build` gives the bundle files (`pkg/skillmeat.{js,wasm,css}`).
const OUTPUT_NAME: &str = "skillmeat";

/// How much lower than the request threads' the job threads' CPU priority is (a nice value).
const JOB_NICENESS: i32 = 10;

/// Starts `runner` on threads of its own (its own async runtime) whose CPU priority is lowered
/// by [`JOB_NICENESS`]: while a bulk update or a burst of queued jobs keeps the cores busy, the
/// kernel still runs the threads answering requests first, so the API and the pages stay quick
/// and the jobs take what is left. The threads end with the process; jobs they were running are
/// queued again on the next start.
/// How often the server prunes finished jobs and old patch bundles while it serves.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Prunes once: finished jobs past their keep time, and patch bundles past theirs. What went.
pub async fn prune_once(runner: &Runner, home: &Path, now: std::time::SystemTime) -> (u64, usize) {
    let jobs = match runner.prune(now).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!("cannot prune finished jobs: {e}");
            0
        }
    };
    let bundles = crate::api::patch::prune_exports(home, now);
    if jobs > 0 || bundles > 0 {
        tracing::info!(jobs, bundles, "pruned finished jobs and old patch bundles");
    }
    (jobs, bundles)
}

pub fn start_runner(runner: Arc<Runner>, home: PathBuf) -> Result<(), CommandError> {
    std::thread::Builder::new()
        .name("skillmeat-jobs".into())
        .spawn(move || {
            // Threads inherit their creator's priority: lower it before the runtime starts its
            // workers.
            lower_priority(JOB_NICENESS);
            match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("skillmeat-job")
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(async move {
                    // Jobs are pruned at start too (`recover`); bundles only here, the first
                    // time at once.
                    let pruner = runner.clone();
                    tokio::spawn(async move {
                        loop {
                            prune_once(&pruner, &home, std::time::SystemTime::now()).await;
                            tokio::time::sleep(PRUNE_EVERY).await;
                        }
                    });
                    runner.run().await;
                }),
                Err(e) => tracing::error!("cannot start the job runtime, no job will run: {e}"),
            }
        })
        .map(drop)
        .map_err(|e| CommandError::failed(format!("cannot start the job runner: {e}")))
}

/// Lowers the calling thread's CPU priority by `by` (raising its nice value), which any
/// process may do. Where it cannot, jobs simply run at the same priority as requests.
fn lower_priority(by: i32) {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        // On Linux the nice value is per thread, and PRIO_PROCESS with a thread id sets it.
        let me = Some(rustix::thread::gettid());
        let now = getpriority_process(me).unwrap_or(0);
        if let Err(e) = setpriority_process(me, (now + by).min(19)) {
            tracing::debug!("cannot lower the job threads' priority: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = by;
}

/// Opens the home's database and job queue, recovers jobs a previous run left, and returns the
/// API state with its runner (not yet started: see [`start_runner`]).
pub async fn app_state(home: &Path, ctx: Context) -> Result<(ApiState, Arc<Runner>), CommandError> {
    std::fs::create_dir_all(home)
        .map_err(|e| CommandError::failed(format!("cannot create {}: {e}", home.display())))?;
    let (token, _) = api::auth::load_or_create_token(home).map_err(|e| {
        CommandError::failed(format!(
            "cannot read or create {}: {e}",
            api::auth::token_path(home).display()
        ))
    })?;
    let db = Database::open_serving(&home.join("skillmeat.db"))
        .await
        .map_err(|e| CommandError::failed(format!("cannot open the database: {e}")))?;
    // Every operation the server runs (requests and jobs) shares this one database.
    let ctx = Context {
        home: ctx.home.with_database(db.clone()),
        ..ctx
    };
    let store: Arc<dyn JobStore> = Arc::new(SqliteJobStore::new(db.clone()));
    // How many jobs run at once: the `jobs.concurrency` setting.
    let concurrency = skillmeat_core::storage::config::Config::load(&ctx.home)
        .map_err(|e| CommandError::failed(e.to_string()))?
        .jobs
        .concurrency;
    let runner = Runner::new(
        store.clone(),
        ctx.clone(),
        usize::try_from(concurrency).unwrap_or(4),
    );
    runner.parent_spans(Box::new(crate::otel::link_job));
    let requeued = runner
        .recover()
        .await
        .map_err(|e| CommandError::failed(format!("cannot recover jobs: {e}")))?;
    if requeued > 0 {
        tracing::info!("{requeued} interrupted jobs queued again");
    }
    Ok((ApiState::new(ctx, db, store, runner.clone(), token), runner))
}

/// Builds the whole HTTP application over `api`'s home, serving static files from `site_root`.
pub fn router(api: ApiState, site_root: PathBuf, addr: SocketAddr) -> Router {
    let home = api_home(&api);
    let leptos_options = LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(Env::PROD)
        .build();
    let context = ServerContext {
        home,
        started: Instant::now(),
        backend: Arc::new(api.clone()),
    };
    let routes = generate_route_list(App);
    let auth = api::auth::Auth::new(api.token());
    // The bundle and public files are routed explicitly: the app's catch-all page route (which
    // renders the 404 page) would otherwise shadow them.
    Router::new()
        .route("/healthz", get(healthz))
        .nest_service("/pkg", ServeDir::new(site_root.join("pkg")))
        .route_service(
            "/favicon.svg",
            ServeFile::new(site_root.join("favicon.svg")),
        )
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            move || provide_context(context.clone()),
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options)
        .nest("/api/v1", api::routes(api.clone()))
        .route("/login", get(api::auth::login).with_state(auth.clone()))
        .route(
            "/logout",
            axum::routing::post(api::auth::logout).with_state(auth.clone()),
        )
        .layer(axum::middleware::from_fn_with_state(
            api.clone(),
            api::server_fn_layer,
        ))
        .layer(axum::middleware::from_fn(api::method_not_allowed_as_json))
        .layer(axum::middleware::from_fn_with_state(auth, api::auth::guard))
        .layer(axum::middleware::from_fn(api::log_failures))
}

fn api_home(api: &ApiState) -> Home {
    api.home().clone()
}

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
}

async fn healthz() -> impl IntoResponse {
    axum::Json(Health {
        status: "ok",
        version: skillmeat_core::VERSION,
    })
}

/// Binds, prints the URL, and serves until Ctrl-C or SIGTERM.
pub fn run(options: ServeOptions) -> Result<(), CommandError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::failed(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve(options))
}

async fn serve(options: ServeOptions) -> Result<(), CommandError> {
    let wasm = options
        .site_root
        .join("pkg")
        .join(format!("{OUTPUT_NAME}.wasm"));
    if !wasm.is_file() {
        tracing::warn!(
            "no web bundle at {}: pages render but stay non-interactive and unstyled. \
             Build it with `make build`, or pass --site-root",
            wasm.display()
        );
    }
    let requested = SocketAddr::new(options.host, options.port);
    let listener = tokio::net::TcpListener::bind(requested)
        .await
        .map_err(|e| {
            CommandError::failed(format!("cannot listen on {requested}: {e}"))
                .with_hint("pick another port with --port, or --port 0 for any free one")
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| CommandError::failed(format!("cannot read the bound address: {e}")))?;
    if !addr.ip().is_loopback() {
        tracing::warn!("listening on {addr}, which is reachable from other machines");
    }
    let ctx = crate::cli::common::context(&options.home)?;
    let (state, runner) = app_state(&options.home, ctx).await?;
    let token = state.token().to_owned();
    let app = router(state, options.site_root.clone(), addr);
    start_runner(runner, options.home.clone())?;
    start_checks(options.home.clone(), options.check_every)?;

    // Printed on stdout, flushed: scripts and tests read the URLs from here.
    println!(
        "SkillMeat {} is running at http://{addr}/",
        skillmeat_core::VERSION
    );
    println!("Log in once in your browser: http://{addr}/login?token={token}");
    println!(
        "API: http://{addr}/api/v1/ (Authorization: Bearer <the token in {}>)",
        api::auth::token_path(&options.home).display()
    );
    println!("Home: {}", options.home.display());
    use std::io::Write;
    let _ = std::io::stdout().flush();

    serve_connections(
        listener,
        app,
        ConnectionLimits::default(),
        shutdown_signal(),
    )
    .await;
    Ok(())
}

/// How long a client may take to send its request.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// From the connection (or the previous response) to the end of the request's headers.
    pub header_read: Duration,
    /// To read a request's whole body.
    pub body_read: Duration,
}

impl Default for ConnectionLimits {
    /// 10 s for headers, 30 s for a body (bodies are at most 256 KB, see the API's limit).
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(30),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests finish for up
/// to 10 s. Unlike `axum::serve`, a client that sends its headers or its body too slowly (or not
/// at all) is disconnected after `limits` instead of holding a connection forever. Every
/// connection has Nagle's algorithm off (see [`without_nagle`]) and its peer address as
/// `ConnectInfo`.
pub async fn serve_connections(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY on a connection: {e}");
        }
        let service = tower::ServiceBuilder::new()
            .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
                limits.body_read,
            ))
            .service(app.clone())
            .map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req.map(axum::body::Body::new)
            });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read)
            .serve_connection(
                TokioIo::new(stream),
                hyper_util::service::TowerToHyperService::new(service),
            );
        // No upgrades: the server speaks no WebSocket (events are SSE).
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection from {peer} ended: {e}");
            }
        });
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {
            tracing::info!("stopped with connections still open (event streams)");
        }
    }
}

/// `listener` with Nagle's algorithm off on every connection it accepts. A page rendered as a
/// stream is written in several pieces; with Nagle on, a piece sent while the previous one is
/// unacknowledged waits for the client's delayed ACK, about 40 ms on Linux.
pub fn without_nagle(
    listener: tokio::net::TcpListener,
) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt as _;
    fn no_delay(stream: &mut tokio::net::TcpStream) {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY on a connection: {e}");
        }
    }
    listener.tap_io(no_delay as fn(&mut tokio::net::TcpStream))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
