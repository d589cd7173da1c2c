//! `skillmeat-bench sync`: the merge and diff engines against git on the same large files, and
//! the end-to-end cost of a sync and of `update --all`, in one run.

use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime};

use skillmeat_core::engine::diff;
use skillmeat_core::engine::merge::{self, Labels};
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::ops::sync::{self, Direction, Strategy, SyncRequest};
use skillmeat_core::ops::{self, Context};
use skillmeat_core::storage::fetch::FetchSettings;
use skillmeat_core::storage::home::Home;

use crate::{SyncBenchArgs, bench_context, fail, ms};
use skillmeat::error::CommandError;

/// Median of `n` timed runs.
pub(crate) fn median(n: usize, mut f: impl FnMut() -> Option<()>) -> Option<Duration> {
    let mut runs = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        f()?;
        runs.push(t.elapsed());
    }
    runs.sort();
    runs.get(runs.len() / 2).copied()
}

/// The `skillmeat` binary users run, beside this one in the same target folder: `update --all`
/// is measured as users run it, a process of its own.
pub(crate) fn skillmeat_binary() -> Result<std::path::PathBuf, CommandError> {
    let me = std::env::current_exe().map_err(fail("cannot find this benchmark's binary"))?;
    let exe = me.with_file_name("skillmeat");
    if !exe.is_file() {
        return Err(CommandError::failed(format!(
            "{} is not built: run `cargo build --release -p skillmeat` (make bench does)",
            exe.display()
        )));
    }
    Ok(exe)
}

/// A deterministic pseudo-random sequence (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

pub(crate) fn git(cwd: &Path, args: &[&str]) -> Option<()> {
    Command::new("git")
        .current_dir(cwd)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.invalid")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.invalid")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()
        // merge-file exits with the number of conflicts, diff with 1 when files differ.
        .filter(|s| s.code().is_some_and(|c| c < 128))
        .map(|_| ())
}

pub fn run(args: SyncBenchArgs) -> Result<ExitCode, CommandError> {
    let tmp = tempfile::tempdir().map_err(fail("cannot create a temp folder"))?;
    let root = tmp.path();

    // 1. Line merge and diff on large files: 1% of lines changed on each side, apart.
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut lines = Vec::new();
    let mut size = 0;
    while size < args.mb * 1_000_000 {
        let line = format!(
            "line {:>7} {:016x} the skill checks every file before it deploys\n",
            lines.len(),
            rng.next()
        );
        size += line.len();
        lines.push(line);
    }
    let n = lines.len();
    let mut ours = lines.clone();
    let mut theirs = lines.clone();
    for _ in 0..n / 100 {
        // Ours edits at multiples of 200, theirs 100 lines later: no change is near another.
        let at = (rng.next() as usize % (n / 200)) * 200;
        ours[at] = format!("ours {}\n", rng.next());
        theirs[(at + 100).min(n - 1)] = format!("theirs {}\n", rng.next());
    }
    let (base, ours, theirs) = (lines.concat(), ours.concat(), theirs.concat());
    for (name, text) in [("base", &base), ("ours", &ours), ("theirs", &theirs)] {
        fs::write(root.join(name), text).map_err(fail("cannot write"))?;
    }
    println!(
        "workload: {:.1} MB, {} lines, 1% changed per side",
        base.len() as f64 / 1e6,
        n
    );
    let ours_merge = median(3, || {
        let m = merge::merge_text(
            "f",
            base.as_bytes(),
            ours.as_bytes(),
            theirs.as_bytes(),
            Labels::default(),
        )
        .ok()?;
        m.clean.then_some(())
    });
    let git_merge = median(3, || {
        git(root, &["merge-file", "-p", "ours", "base", "theirs"])
    });
    // The engine behind every inline diff, with its unified output (files over 1 MB are only
    // summarised in the product; this times the engine on the large file itself).
    let diff_with = |engine: diff::DiffEngine| {
        median(3, || {
            let d = diff::diff_text_with(&base, &ours, engine);
            (d.added > 0 && !d.unified.is_empty()).then_some(())
        })
    };
    let ours_diff = diff_with(diff::DiffEngine::Histogram);
    let myers_diff = diff_with(diff::DiffEngine::Myers);
    let patience_diff = diff_with(diff::DiffEngine::Patience);
    let git_diff = median(3, || git(root, &["diff", "--no-index", "base", "ours"]));

    // 2. Skills of 10 files of 7 KB in a local upstream, added and deployed.
    let home_dir = root.join("home");
    let project = root.join("project");
    fs::create_dir_all(&project).map_err(fail("cannot create"))?;
    let ctx = bench_context(&home_dir, root);
    let upstream = root.join("upstream");
    fs::create_dir_all(&upstream).map_err(fail("cannot create"))?;
    git(&upstream, &["init", "-q", "-b", "main"])
        .ok_or_else(|| CommandError::failed("git init failed"))?;
    let write_skill = |i: usize, version: usize| -> Result<(), CommandError> {
        let dir = upstream.join(format!("skills/skill-{i:03}"));
        fs::create_dir_all(dir.join("reference")).map_err(fail("cannot create"))?;
        for f in 0..10 {
            let body = format!(
                "# skill {i} file {f} version {version}\n{}",
                "The skill reads every file.\n".repeat(250)
            );
            let path = if f == 0 {
                dir.join("SKILL.md")
            } else {
                dir.join(format!("reference/part-{f}.md"))
            };
            fs::write(path, body).map_err(fail("cannot write"))?;
        }
        Ok(())
    };
    for i in 0..args.skills {
        write_skill(i, 1)?;
    }
    git(&upstream, &["add", "-A"]).ok_or_else(|| CommandError::failed("git add failed"))?;
    git(&upstream, &["commit", "-qm", "v1"])
        .ok_or_else(|| CommandError::failed("git commit failed"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::failed(e.to_string()))?;
    let mut ids = Vec::new();
    let t = Instant::now();
    for i in 0..args.skills {
        let spec = format!("{}#skills/skill-{i:03}", upstream.display());
        let added = runtime
            .block_on(ops::add(&ctx, &spec, None, None, "default"))
            .map_err(|e| CommandError::failed(e.to_string()))?;
        ids.push(added.id);
    }
    let add_time = t.elapsed();
    runtime
        .block_on(ops::deploy(&ctx, &ids, &project, "default"))
        .map_err(|e| CommandError::failed(e.to_string()))?;
    // 3. `update --all` over outdated skills: the upstream moves every one of them.
    for i in 0..args.skills {
        write_skill(i, 2)?;
    }
    git(&upstream, &["add", "-A"]).ok_or_else(|| CommandError::failed("git add failed"))?;
    git(&upstream, &["commit", "-qm", "v2"])
        .ok_or_else(|| CommandError::failed("git commit failed"))?;
    let exe = skillmeat_binary()?;
    let t = Instant::now();
    let update = Command::new(exe)
        .args([
            "--home",
            &home_dir.to_string_lossy(),
            "update",
            "--all",
            "--yes",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(fail("cannot run skillmeat update"))?;
    let update_time = t.elapsed();

    // 4. One sync of one of those skills, collection → project, applied, after an edit.
    let first: &ArtifactId = &ids[0];
    let skill_file = home_dir.join("collections/default/skills/skill-000/SKILL.md");
    let mut round = 0;
    let one_sync = median(5, || {
        round += 1;
        fs::write(&skill_file, format!("edited {round}\n")).ok()?;
        let req = SyncRequest {
            id: first,
            direction: Direction::CollectionToProject,
            project: Some(&project),
            collection: "default",
            strategy: Strategy::Auto,
            dry_run: false,
            on_phase: None,
            expect: None,
        };
        let report = runtime.block_on(sync::sync(&ctx, &req)).ok()?;
        report.applied.then_some(())
    });

    let rows: serde_json::Value = serde_json::from_slice(&update.stdout).unwrap_or_default();
    let updated = rows
        .as_array()
        .map(|r| r.iter().filter(|r| r["result"] == "updated").count())
        .unwrap_or(0);

    let show = |d: Option<Duration>| d.map(ms).unwrap_or_else(|| "n/a".to_owned());
    let ratio = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64()),
        _ => "n/a".to_owned(),
    };
    println!();
    println!("{:<46} {:>10}", "measure", "time");
    println!(
        "{:<46} {:>10}",
        "skillmeat line merge (median of 3)",
        show(ours_merge)
    );
    println!(
        "{:<46} {:>10}",
        "git merge-file, same files",
        show(git_merge)
    );
    println!(
        "{:<46} {:>10}",
        "skillmeat line diff, histogram (median of 3)",
        show(ours_diff)
    );
    println!(
        "{:<46} {:>10}",
        "  the same with imara-diff's Myers",
        show(myers_diff)
    );
    println!(
        "{:<46} {:>10}",
        "  the same with similar's patience (before)",
        show(patience_diff)
    );
    println!(
        "{:<46} {:>10}",
        "git diff --no-index, same files",
        show(git_diff)
    );
    println!(
        "{:<46} {:>10}",
        "sync of one 10-file skill, applied (median)",
        show(one_sync)
    );
    println!(
        "{:<46} {:>10}",
        format!("add {} skills from a local upstream", args.skills),
        ms(add_time)
    );
    println!(
        "{:<46} {:>10}",
        format!(
            "update --all, {} outdated skills ({updated} updated)",
            args.skills
        ),
        ms(update_time)
    );
    println!();
    println!(
        "merge / git merge-file:    {}  (target ≤ 1.2×)",
        ratio(ours_merge, git_merge)
    );
    println!(
        "diff / git diff --no-index: {}  (target ≤ 0.8×)",
        ratio(ours_diff, git_diff)
    );
    if !update.status.success() {
        return Err(CommandError::failed(format!(
            "update --all failed ({}): {}",
            update.status,
            String::from_utf8_lossy(&update.stdout)
        )));
    }
    fleet(&root.join("fleet"), args.fleet)?;
    if args.fleet_projects > 0 {
        every_project(
            &root.join("every"),
            args.fleet_projects,
            args.fleet_artifacts,
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A local upstream of small skills (`skills/sNNN`: a SKILL.md and a notes file), for the
/// update measurements.
struct SmallUpstream {
    dir: std::path::PathBuf,
}

impl SmallUpstream {
    fn new(root: &Path) -> Result<Self, CommandError> {
        let dir = root.join("upstream");
        fs::create_dir_all(&dir).map_err(fail("cannot create"))?;
        git(&dir, &["init", "-q", "-b", "main"])
            .ok_or_else(|| CommandError::failed("git init failed"))?;
        Ok(Self { dir })
    }

    /// Writes skill `i` at `version`.
    fn write(&self, i: usize, version: &str) -> Result<(), CommandError> {
        let dir = self.dir.join(format!("skills/s{i:03}"));
        fs::create_dir_all(&dir).map_err(fail("cannot create"))?;
        fs::write(
            dir.join("SKILL.md"),
            format!("---\nname: s{i:03}\ndescription: skill {i}\n---\n# s{i}\n\n{version}\n"),
        )
        .map_err(fail("cannot write"))?;
        fs::write(dir.join("notes.md"), "Notes.\n".repeat(40)).map_err(fail("cannot write"))
    }

    /// Commits everything written.
    fn commit(&self, message: &str) -> Result<(), CommandError> {
        git(&self.dir, &["add", "-A"]).ok_or_else(|| CommandError::failed("git add failed"))?;
        git(&self.dir, &["commit", "-qm", message])
            .ok_or_else(|| CommandError::failed("git commit failed"))
    }
}

/// `update --all --all-projects --yes` as a process, over `projects` registered projects with
/// the same `artifacts` skills of one upstream deployed in each: with nothing changed (median
/// of 3), then with 10 skills changed upstream. Beside them, in the same run, `git ls-remote`
/// and `git fetch` of that upstream (what a check of it costs at the least).
fn every_project(root: &Path, projects: usize, artifacts: usize) -> Result<(), CommandError> {
    let exe = skillmeat_binary()?;
    let up = SmallUpstream::new(root)?;
    let upstream = up.dir.clone();
    let failed = |what: &str| CommandError::failed(format!("{what} failed"));
    let write = |i: usize, version: &str| up.write(i, version);
    let commit = |message: &str| up.commit(message);
    for i in 0..artifacts {
        write(i, "v1")?;
    }
    commit("v1")?;
    let home = root.join("home").to_string_lossy().into_owned();
    let skillmeat = |args: &[&str]| {
        Command::new(&exe)
            .arg("--home")
            .arg(&home)
            .args(args)
            .current_dir(root)
            .stderr(Stdio::null())
            .output()
            .map_err(fail("cannot run skillmeat"))
    };
    let t = Instant::now();
    let ids: Vec<String> = (0..artifacts).map(|i| format!("skill:s{i:03}")).collect();
    for i in 0..artifacts {
        let spec = format!("{}#skills/s{i:03}@main", upstream.display());
        skillmeat(&["add", &spec])?;
    }
    for p in 0..projects {
        let project = root.join(format!("project-{p:02}"));
        fs::create_dir_all(&project).map_err(fail("cannot create a project"))?;
        let mut args = vec!["deploy"];
        args.extend(ids.iter().map(String::as_str));
        let project = project.to_string_lossy().into_owned();
        args.extend(["--project", &project]);
        let o = skillmeat(&args)?;
        if !o.status.success() {
            return Err(failed("deploy"));
        }
    }
    println!();
    println!(
        "every project: {projects} projects × {artifacts} skills of one upstream, generated in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let update = ["update", "--all", "--all-projects", "--yes", "--json"];
    // The steps each result counts, over every row.
    let steps = |o: &std::process::Output, what: &str| -> usize {
        let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
        rows.as_array()
            .map(|rows| {
                rows.iter()
                    .flat_map(|r| r["steps"].as_array().cloned().unwrap_or_default())
                    .filter(|s| s["result"] == what)
                    .count()
            })
            .unwrap_or(0)
    };
    skillmeat(&update)?;
    let mut idle_steps = 0;
    let idle = median(3, || {
        let o = skillmeat(&update).ok()?;
        idle_steps = steps(&o, "updated") + steps(&o, "up to date");
        o.status.success().then_some(())
    });
    for i in 0..10.min(artifacts) {
        write(i, "v2")?;
    }
    commit("v2")?;
    let t = Instant::now();
    let o = skillmeat(&update)?;
    let changed = t.elapsed();
    let updated = steps(&o, "updated");
    let location = upstream.to_string_lossy().into_owned();
    let ls_remote = median(3, || git(root, &["ls-remote", &location]));
    let clone = root.join("clone");
    git(
        root,
        &["clone", "-q", "--bare", &location, &clone.to_string_lossy()],
    )
    .ok_or_else(|| failed("git clone"))?;
    let fetch = median(3, || {
        git(
            &clone,
            &["fetch", "-q", "origin", "+refs/heads/*:refs/heads/*"],
        )
    });
    let show = |d: Option<Duration>| d.map(ms).unwrap_or_else(|| "n/a".to_owned());
    println!(
        "{:<56} {:>10}  (target ≤ 500 ms; {idle_steps} steps ran)",
        "update --all --all-projects, nothing changed (proc)",
        show(idle)
    );
    println!(
        "{:<56} {:>10}  (target ≤ 3 s; {updated} steps updated)",
        "update --all --all-projects, 10 changed (proc)",
        ms(changed)
    );
    println!(
        "{:<56} {:>10}",
        "git ls-remote of that upstream",
        show(ls_remote)
    );
    println!(
        "{:<56} {:>10}",
        "git fetch of that upstream, up to date",
        show(fetch)
    );
    let expected = 10.min(artifacts) * (projects + 1);
    if !o.status.success() || updated != expected || idle_steps != 0 {
        return Err(CommandError::failed(format!(
            "update --all --all-projects: {updated} steps updated (expected {expected}), {idle_steps} ran with nothing to do ({})",
            o.status
        )));
    }
    Ok(())
}

/// `update --all` (plan, then apply, as the command runs it) over `n` skills of one upstream:
/// with 10 changed, its time and how many fetches it made; with all changed, 8 workers against
/// 1, whose results must agree. Beside it, one `git fetch` of that upstream, in the same run.
fn fleet(root: &Path, n: usize) -> Result<(), CommandError> {
    use skillmeat_core::storage::fetch::FetchRun;

    use skillmeat::cli::update::plan_and_apply;
    use skillmeat_core::ops::update::Scope;
    let up = SmallUpstream::new(root)?;
    let upstream = up.dir.clone();
    let failed = |what: &str| CommandError::failed(format!("{what} failed"));
    let write = |i: usize, version: &str| up.write(i, version);
    let commit = |message: &str| up.commit(message);
    for i in 0..n {
        write(i, "v1")?;
    }
    commit("v1")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::failed(e.to_string()))?;
    let home = |name: &str| -> Result<(Context, Vec<(ArtifactId, bool)>), CommandError> {
        let ctx = Context {
            home: Home::new(root.join(name)),
            now: SystemTime::now(),
            fetch: FetchSettings {
                run: Some(FetchRun::default()),
                ..FetchSettings::default()
            },
            cwd: root.to_owned(),
            lock_timeout: ops::LOCK_TIMEOUT,
        };
        let mut ids = Vec::new();
        for i in 0..n {
            let spec = format!("{}#skills/s{i:03}", upstream.display());
            let added = runtime
                .block_on(ops::add(&ctx, &spec, None, None, "default"))
                .map_err(|e| CommandError::failed(e.to_string()))?;
            ids.push((added.id, true));
        }
        Ok((ctx, ids))
    };
    let update = |ctx: &Context, ids: &[(ArtifactId, bool)], jobs: usize| {
        let run = FetchRun::default();
        let ctx = Context {
            fetch: FetchSettings {
                run: Some(run.clone()),
                ..ctx.fetch.clone()
            },
            now: SystemTime::now(),
            ..ctx.clone()
        };
        let scope = Scope {
            collection: "default",
            strategy: Strategy::Auto,
        };
        let t = Instant::now();
        let rows = plan_and_apply(&ctx, scope, ids, &[], jobs).unwrap_or_else(|e| {
            eprintln!("update --all failed: {e}");
            Vec::new()
        });
        let results: Vec<String> = rows.iter().map(|r| r.result.clone()).collect();
        (t.elapsed(), run.fetches(), results)
    };
    let (a, ids) = home("a")?;
    let (b, _) = home("b")?;
    for i in 0..10.min(n) {
        write(i, "v2")?;
    }
    commit("v2")?;
    let (few_time, few_fetches, few) = update(&a, &ids, 4);
    let few_updated = few.iter().filter(|r| *r == "updated").count();
    let clone = root.join("clone");
    git(
        root,
        &[
            "clone",
            "-q",
            "--bare",
            &upstream.to_string_lossy(),
            &clone.to_string_lossy(),
        ],
    )
    .ok_or_else(|| failed("git clone"))?;
    for i in 0..n {
        write(i, "v3")?;
    }
    commit("v3")?;
    let git_fetch = median(3, || {
        git(
            &clone,
            &["fetch", "-q", "origin", "+refs/heads/*:refs/heads/*"],
        )
    });
    let (all8_time, all8_fetches, all8) = update(&a, &ids, 8);
    // `b` is behind by two commits for every skill: the same work for one worker.
    let (all1_time, _, all1) = update(&b, &ids, 1);
    let agree = all8 == all1;
    let show = |d: Option<Duration>| d.map(ms).unwrap_or_else(|| "n/a".to_owned());
    println!();
    println!(
        "{:<56} {:>10} {:>8}",
        "update --all (plan + apply)", "time", "fetches"
    );
    println!(
        "{:<56} {:>10} {:>8}",
        format!("{n} skills, 10 changed ({few_updated} updated), 4 workers"),
        ms(few_time),
        few_fetches
    );
    println!(
        "{:<56} {:>10} {:>8}",
        format!("{n} skills, all changed, 8 workers"),
        ms(all8_time),
        all8_fetches
    );
    println!(
        "{:<56} {:>10}",
        format!("{n} skills, all changed, 1 worker"),
        ms(all1_time)
    );
    println!(
        "{:<56} {:>10}",
        "git fetch of that upstream (median of 3)",
        show(git_fetch)
    );
    println!(
        "8 workers vs 1: {:.2}× faster; results {}  (target: 10 changed in < 400 ms, 1 fetch)",
        all1_time.as_secs_f64() / all8_time.as_secs_f64(),
        if agree { "agree" } else { "DIFFER" }
    );
    if !agree || few_updated != 10.min(n) {
        return Err(CommandError::failed(format!(
            "update --all gave different results: 8 workers {all8:?}, 1 worker {all1:?}, 10 changed {few:?}"
        )));
    }
    Ok(())
}
