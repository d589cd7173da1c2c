//! `skillmeat-bench`: the benchmarks behind `make bench`. Each builds a workload, times
//! SkillMeat on it and, in the same run, the standard tool that does the same work (`git status`,
//! `sha256sum`, `git merge-file`, `git diff --no-index`, `git fetch`), and prints both.
//!
//! A developer tool, not part of the `skillmeat` binary users install: it drives the same
//! library (`skillmeat`, `skillmeat-core`) the binary does.
//!
//! `skillmeat-bench drift` measures drift on a generated workload against `sha256sum` and
//! `git status` on the same files; `sync`, `api` and `ui` live in their own modules.

mod api;
mod sync;
mod ui;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime};

use clap::{Args, Parser, Subcommand};
use skillmeat_core::engine::drift::DriftStatus;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops::{self, Context};
use skillmeat_core::storage::collection::{Manifest, ManifestEntry};
use skillmeat_core::storage::fetch::FetchSettings;
use skillmeat_core::storage::home::Home;

use skillmeat::error::CommandError;

/// Benchmarks for SkillMeat's developers: build a workload and time SkillMeat against the
/// standard tools on the same files, in the same run.
#[derive(Debug, Parser)]
#[command(name = "skillmeat-bench", version, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: BenchCommand,
}

fn main() -> ExitCode {
    let cli = match skillmeat::cli::parse_args::<Cli>() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time drift on a generated collection and project (cold and warm) against sha256sum and
    /// git status over the same files.
    Drift(DriftBenchArgs),
    /// Time the line merge and the diff on 10 MB files against `git merge-file` and
    /// `git diff --no-index`, a single-artifact sync, and `update --all` over outdated skills.
    Sync(SyncBenchArgs),
    /// Load the HTTP API on loopback at a fixed rate: job creation and status polling (p50/p99
    /// against /healthz as the floor), then small jobs timed from POST to their final SSE event.
    Api(ApiBenchArgs),
    /// Time the server's rendering of the web UI's pages for a collection of N artifacts
    /// deployed in a project (artifact page target: < 20 ms), against /healthz as the floor.
    Ui(UiBenchArgs),
}

#[derive(Debug, Args)]
pub struct UiBenchArgs {
    /// Artifacts in the collection.
    #[arg(long, default_value_t = 100)]
    pub artifacts: usize,
    /// Timed requests per page.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
}

#[derive(Debug, Args)]
pub struct ApiBenchArgs {
    /// Requests per second in each load phase.
    #[arg(long, default_value_t = 500)]
    pub rate: u32,
    /// Seconds per load phase.
    #[arg(long, default_value_t = 10)]
    pub secs: u64,
    /// Keep-alive connections the load is spread over.
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// Jobs timed from POST to final event.
    #[arg(long, default_value_t = 20)]
    pub jobs: usize,
}

#[derive(Debug, Args)]
pub struct SyncBenchArgs {
    /// Size of the merged and diffed file, in MB.
    #[arg(long, default_value_t = 10)]
    pub mb: usize,
    /// Outdated skills for the `update --all` measurement.
    #[arg(long, default_value_t = 100)]
    pub skills: usize,
    /// Skills of one upstream for the fleet measurement (10 changed, then all).
    #[arg(long, default_value_t = 200)]
    pub fleet: usize,
    /// Registered projects for `update --all --all-projects` (0 skips it).
    #[arg(long, default_value_t = 20)]
    pub fleet_projects: usize,
    /// Skills of one upstream deployed in each of them.
    #[arg(long, default_value_t = 100)]
    pub fleet_artifacts: usize,
}

#[derive(Debug, Args)]
pub struct DriftBenchArgs {
    /// Number of skills.
    #[arg(long, default_value_t = 500)]
    pub skills: usize,
    /// Files per skill.
    #[arg(long, default_value_t = 10)]
    pub files: usize,
    /// Bytes per file.
    #[arg(long, default_value_t = 7000)]
    pub file_size: usize,
    /// Folder to build the workload in (default: a temporary folder, removed afterwards).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Registered projects in the fleet measurement (0 skips it).
    #[arg(long, default_value_t = 100)]
    pub fleet_projects: usize,
    /// Skills deployed in each of them.
    #[arg(long, default_value_t = 100)]
    pub fleet_artifacts: usize,
}

pub fn run(cmd: BenchCommand) -> Result<ExitCode, CommandError> {
    match cmd {
        BenchCommand::Drift(args) => drift(args),
        BenchCommand::Sync(args) => crate::sync::run(args),
        BenchCommand::Api(args) => crate::api::run(args),
        BenchCommand::Ui(args) => crate::ui::run(args),
    }
}

pub(crate) fn fail(what: &str) -> impl Fn(std::io::Error) -> CommandError + '_ {
    move |e| CommandError::failed(format!("{what}: {e}"))
}

fn drift(args: DriftBenchArgs) -> Result<ExitCode, CommandError> {
    let tmp;
    let root = match &args.dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir().map_err(fail("cannot create a temp folder"))?;
            tmp.path().to_owned()
        }
    };
    let home_dir = root.join("home");
    let project = root.join("project");
    fs::create_dir_all(&project).map_err(fail("cannot create the project"))?;
    let ctx = bench_context(&home_dir, &root);

    println!(
        "workload: {} skills × {} files × {} bytes",
        args.skills, args.files, args.file_size
    );
    let t = Instant::now();
    let ids = generate_collection(&ctx, &args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::failed(format!("cannot start the async runtime: {e}")))?;
    runtime
        .block_on(ops::deploy(&ctx, &ids, &project, "default"))
        .map_err(|e| CommandError::failed(e.to_string()))?;
    let collection_dir = ctx
        .home
        .collection_dir("default")
        .map_err(|e| CommandError::failed(e.to_string()))?;
    // 50 edited in the project, 50 in the collection, 10 in both (scaled to the skill count).
    let n = |k: usize| (k * args.skills).div_ceil(500);
    for (i, id) in ids.iter().enumerate() {
        let name = id.name.as_str();
        let proj = project.join(".claude/skills").join(name).join("SKILL.md");
        let coll = collection_dir.join("skills").join(name).join("SKILL.md");
        if i < n(50) {
            append(&proj, "project edit")?;
        } else if i < n(100) {
            append(&coll, "collection edit")?;
        } else if i < n(110) {
            append(&proj, "project side")?;
            append(&coll, "collection side")?;
        }
    }
    let files: Vec<PathBuf> = [
        collection_dir.join("skills"),
        project.join(".claude/skills"),
    ]
    .iter()
    .flat_map(|d| walk(d))
    .collect();
    let bytes: u64 = files
        .iter()
        .filter_map(|f| fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "generated {} files, {:.1} MB, in {:.1} s",
        files.len(),
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let _ = fs::remove_dir_all(home_dir.join(skillmeat_core::storage::statcache::CACHE_DIR));
    let projects = [project.clone()];
    let ctx = Context {
        now: SystemTime::now() + Duration::from_secs(5),
        ..ctx
    };
    let (cold, rows) = time(|| ops::drift(&ctx, "default", &projects, false))?;
    let count = |s: DriftStatus| rows.rows.iter().filter(|r| r.status == s).count();
    println!(
        "statuses: {} synced, {} modified, {} outdated, {} conflict",
        count(DriftStatus::Synced),
        count(DriftStatus::Modified),
        count(DriftStatus::Outdated),
        count(DriftStatus::Conflict)
    );
    let mut warm_runs = Vec::new();
    for _ in 0..5 {
        warm_runs.push(time(|| ops::drift(&ctx, "default", &projects, false))?.0);
    }
    warm_runs.sort();
    let warm = warm_runs[warm_runs.len() / 2];

    // As users run it: a process of its own, `drift --project P`, beside `git status` of that
    // project alone (its 5,000 files, the same 60 of them edited).
    let exe = crate::sync::skillmeat_binary()?;
    let cli = |args: &[&str]| {
        Command::new(&exe)
            .arg("--home")
            .arg(&home_dir)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()
            .map(drop)
    };
    let p = project.to_string_lossy().into_owned();
    cli(&["drift", "--project", &p]);
    let process = crate::sync::median(7, || cli(&["drift", "--project", &p]));
    let git_project = git_status_of_project(&project, n(60));

    let sha = time_command("sha256sum", &files, &root, |c| {
        c.arg("--");
        for f in &files {
            c.arg(f);
        }
    });
    let git = git_status(&root);

    println!();
    println!("{:<34} {:>10}", "measure", "time");
    println!(
        "{:<34} {:>10}",
        "skillmeat drift, cold (no cache)",
        ms(cold)
    );
    println!(
        "{:<34} {:>10}",
        "skillmeat drift, warm (median of 5)",
        ms(warm)
    );
    match sha {
        Some(d) => println!("{:<34} {:>10}", "sha256sum over the same files", ms(d)),
        None => println!("{:<34} {:>10}", "sha256sum over the same files", "n/a"),
    }
    match git {
        Some(d) => println!("{:<34} {:>10}", "git status on the same tree (warm)", ms(d)),
        None => println!("{:<34} {:>10}", "git status on the same tree (warm)", "n/a"),
    }
    let show = |label: &str, d: Option<Duration>| {
        println!("{label:<34} {:>10}", d.map_or_else(|| "n/a".to_owned(), ms));
    };
    show("skillmeat drift --project P (proc)", process);
    show("git status of P alone (warm)", git_project);
    let mut drift_p = Command::new(&exe);
    drift_p
        .arg("--home")
        .arg(&home_dir)
        .args(["drift", "--json", "--project", &p]);
    println!(
        "{:<34} {:>10}  (its {} files walked, {} rows printed)",
        "  its peak memory (RSS, sampled)",
        peak_rss(&mut drift_p).map_or_else(|| "n/a".to_owned(), mb),
        files.len(),
        rows.rows.len()
    );
    println!();
    println!(
        "hash throughput (cold drift): {:.0} MB/s",
        bytes as f64 / 1e6 / cold.as_secs_f64()
    );
    if let Some(d) = sha {
        println!(
            "cold drift / sha256sum:  {:.2}×  (target ≤ 1.5×)",
            cold.as_secs_f64() / d.as_secs_f64()
        );
    }
    if let Some(d) = git {
        println!(
            "warm drift / git status: {:.2}×  (target ≤ 2×)",
            warm.as_secs_f64() / d.as_secs_f64()
        );
    }
    if let (Some(p), Some(g)) = (process, git_project) {
        println!(
            "drift --project P / git status of P: {:.2}×  (target ≤ 1.5×)",
            p.as_secs_f64() / g.as_secs_f64()
        );
    }
    if args.fleet_projects > 0 {
        fleet(&args, &exe)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Warm `drift` over every registered project, as a process: `fleet_projects` projects with
/// `fleet_artifacts` small skills each (two files), a few drifted in each.
fn fleet(args: &DriftBenchArgs, exe: &Path) -> Result<(), CommandError> {
    let tmp = tempfile::tempdir().map_err(fail("cannot create a temp folder"))?;
    let home_dir = tmp.path().join("home");
    let ctx = bench_context(&home_dir, tmp.path());
    let small = DriftBenchArgs {
        skills: args.fleet_artifacts,
        files: 2,
        file_size: 600,
        dir: None,
        fleet_projects: 0,
        fleet_artifacts: 0,
    };
    let t = Instant::now();
    let ids = generate_collection(&ctx, &small)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::failed(format!("cannot start the async runtime: {e}")))?;
    for i in 0..args.fleet_projects {
        let project = tmp.path().join(format!("project-{i:03}"));
        fs::create_dir_all(&project).map_err(fail("cannot create a project"))?;
        runtime
            .block_on(ops::deploy(&ctx, &ids, &project, "default"))
            .map_err(|e| CommandError::failed(e.to_string()))?;
        // Two edited skills per project.
        for id in ids.iter().skip(i % 10).step_by(50).take(2) {
            let f = project
                .join(".claude/skills")
                .join(id.name.as_str())
                .join("SKILL.md");
            append(&f, "local edit")?;
        }
    }
    let files = args.fleet_projects * args.fleet_artifacts * 2;
    println!();
    println!(
        "fleet: {} projects × {} skills ({} project files), generated in {:.1} s",
        args.fleet_projects,
        args.fleet_artifacts,
        files,
        t.elapsed().as_secs_f64()
    );
    let home = home_dir.to_string_lossy().into_owned();
    let run = || {
        Command::new(exe)
            .args(["--home", &home, "drift", "--json"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()
            .map(drop)
    };
    run();
    let warm = crate::sync::median(5, run);
    println!(
        "{:<34} {:>10}  (target ≤ 1 s)",
        "skillmeat drift, every project (proc)",
        warm.map_or_else(|| "n/a".to_owned(), ms)
    );
    let mut drift = Command::new(exe);
    drift.args(["--home", &home, "drift", "--json"]);
    let mut idle = Command::new(exe);
    idle.args(["--home", &home, "drift", "--project", "/nonexistent"]);
    let mb = |kb: Option<u64>| kb.map_or_else(|| "n/a".to_owned(), mb);
    // How many rows it prints: the memory goal is proportional to these, not to the files.
    let rows = Command::new(exe)
        .args(["--home", &home, "drift", "--json"])
        .stderr(Stdio::null())
        .output()
        .ok()
        .and_then(|out| serde_json::from_slice::<serde_json::Value>(&out.stdout).ok())
        .and_then(|doc| doc["rows"].as_array().map(Vec::len));
    println!(
        "{:<34} {:>10}  (the same process over no project: {}; {} rows printed)",
        "  its peak memory (RSS, sampled)",
        mb(peak_rss(&mut drift)),
        mb(peak_rss(&mut idle)),
        rows.map_or_else(|| "n/a".to_owned(), |n| n.to_string())
    );
    Ok(())
}

/// `kb` kilobytes, in MB.
fn mb(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}

/// The peak resident memory of `cmd` in KB, as `/proc/<pid>/status` says it (`VmHWM`) on the
/// last look before it ends; looked at every half millisecond (a sample: the true peak can be
/// a little higher). `None` where `/proc` does not say.
fn peak_rss(cmd: &mut Command) -> Option<u64> {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let status = format!("/proc/{}/status", child.id());
    let mut peak = None;
    loop {
        if let Ok(text) = fs::read_to_string(&status)
            && let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = Some(kb);
        }
        if child.try_wait().ok()?.is_some() {
            return peak;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// git in `dir` with no system or user config, its output dropped; `None` unless it succeeded.
fn quiet_git(dir: &Path, args: &[&str]) -> Option<()> {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()
        .filter(|s| s.success())
        .map(drop)
}

/// `git status` of `project` alone: its tree committed, `edits` files edited again, the index
/// warmed; the median of 5. The repository is removed afterwards.
fn git_status_of_project(project: &Path, edits: usize) -> Option<Duration> {
    let git = |args: &[&str]| quiet_git(project, args);
    let measured = (|| {
        git(&["init", "-q"])?;
        git(&["add", "-A"])?;
        git(&[
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.invalid",
            "commit",
            "-qm",
            "project",
        ])?;
        for f in walk(&project.join(".claude/skills")).iter().take(edits) {
            let mut text = fs::read_to_string(f).ok()?;
            text.push_str("edited again\n");
            fs::write(f, text).ok()?;
        }
        git(&["status", "--porcelain"])?;
        crate::sync::median(5, || git(&["status", "--porcelain"]))
    })();
    let _ = fs::remove_dir_all(project.join(".git"));
    measured
}

/// A context over the benchmark's own home `home`: the clock now, default fetch settings, the
/// usual lock timeout.
pub(crate) fn bench_context(home: &Path, cwd: &Path) -> Context {
    Context {
        home: Home::new(home),
        now: SystemTime::now(),
        fetch: FetchSettings::default(),
        cwd: cwd.to_owned(),
        lock_timeout: ops::LOCK_TIMEOUT,
    }
}

/// Makes `dir` a git repository on `main` with everything in it committed as `v1`.
pub(crate) fn commit_all(dir: &Path) -> Result<(), CommandError> {
    for step in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &["commit", "-qm", "v1"],
    ] {
        sync::git(dir, step)
            .ok_or_else(|| CommandError::failed("git failed (is git installed?)"))?;
    }
    Ok(())
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn time<T>(
    f: impl FnOnce() -> Result<T, skillmeat_core::ops::OpsError>,
) -> Result<(Duration, T), CommandError> {
    let t = Instant::now();
    let out = f().map_err(|e| CommandError::failed(e.to_string()))?;
    Ok((t.elapsed(), out))
}

fn append(path: &Path, line: &str) -> Result<(), CommandError> {
    let mut text = fs::read_to_string(path).map_err(fail("cannot read"))?;
    text.push_str(line);
    text.push('\n');
    fs::write(path, text).map_err(fail("cannot write"))
}

fn generate_collection(
    ctx: &Context,
    args: &DriftBenchArgs,
) -> Result<Vec<ArtifactId>, CommandError> {
    let dir = ctx
        .home
        .collection_dir("default")
        .map_err(|e| CommandError::failed(e.to_string()))?;
    let mut manifest = Manifest::default();
    let mut ids = Vec::new();
    let line = "The quick brown fox checks every file of the skill before it deploys. ";
    for s in 0..args.skills {
        let name = format!("skill-{s:04}");
        let skill = dir.join("skills").join(&name);
        fs::create_dir_all(skill.join("reference")).map_err(fail("cannot create"))?;
        for f in 0..args.files {
            let mut body = format!("# {name} file {f}\n");
            while body.len() < args.file_size {
                body.push_str(line);
                if body.len() % 7 == 0 {
                    body.push('\n');
                }
            }
            body.truncate(args.file_size);
            let path = if f == 0 {
                skill.join("SKILL.md")
            } else {
                skill.join("reference").join(format!("part-{f}.md"))
            };
            fs::write(path, body).map_err(fail("cannot write"))?;
        }
        let id: ArtifactId = format!("skill:{name}").parse().map_err(
            |e: skillmeat_core::model::artifact::IdError| CommandError::failed(e.to_string()),
        )?;
        manifest.artifacts.push(ManifestEntry {
            id: id.clone(),
            upstream: None,
            added_at: None,
            plugin: None,
        });
        ids.push(id);
    }
    manifest
        .save(&dir)
        .map_err(|e| CommandError::failed(e.to_string()))?;
    Ok(ids)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn time_command(
    program: &str,
    _files: &[PathBuf],
    cwd: &Path,
    add_args: impl FnOnce(&mut Command),
) -> Option<Duration> {
    let mut cmd = Command::new(program);
    cmd.current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    add_args(&mut cmd);
    let t = Instant::now();
    let ok = cmd.status().ok()?.success();
    ok.then(|| t.elapsed())
}

/// Commits the workload's tree into a fresh git repository, re-applies the same edits as
/// uncommitted changes, warms the index, and times `git status`.
fn git_status(root: &Path) -> Option<Duration> {
    let git = |args: &[&str]| quiet_git(root, args);
    git(&["init", "-q"])?;
    git(&["add", "-A"])?;
    git(&[
        "-c",
        "user.name=bench",
        "-c",
        "user.email=bench@example.invalid",
        "commit",
        "-qm",
        "workload",
    ])?;
    // The same number of edited files as drift sees.
    for f in walk(&root.join("project/.claude/skills")).iter().take(110) {
        let _ = fs::write(f, "edited\n");
    }
    git(&["status", "--porcelain"])?;
    let mut runs: Vec<Duration> = (0..5)
        .filter_map(|_| {
            let t = Instant::now();
            git(&["status", "--porcelain"]).map(|_| t.elapsed())
        })
        .collect();
    runs.sort();
    runs.get(runs.len() / 2).copied()
}
