//! A long history replayed as users run it: 42 artifacts (skills, commands, agents) from one
//! upstream, all deployed into one project, edited in both tiers, then 20 upstream commits that
//! each change many of them, each taken with `update --all --project P --yes --jobs 8`. After
//! every step every file is checked against `git merge-file` on the same three versions, every
//! lock entry and deployment record against the versions the model says are the baselines, and
//! `drift` against the statuses those imply. Conflicts are aborted and come back the next step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::hash;
use skillmeat_core::storage::collection::Lock;
use skillmeat_core::storage::records::DeploymentFile;
use skillmeat_testutils::git::GitRepo;

use crate::cli::{skillmeat, text};

const PER_KIND: usize = 14;
const STEPS: usize = 20;
const LINES: usize = 12;

/// A small deterministic generator (the same history on every run).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from((self.0 >> 33) % n as u64).unwrap()
    }
}

struct Art {
    id: ArtifactId,
    /// The file inside the upstream (and inside a tier's `.claude/` or collection folder).
    rel: String,
    up: String,
    /// The upstream version last taken into the collection: the next upstream merge's base.
    base_c: String,
    coll: String,
    /// The collection version last deployed: the next project merge's base.
    base_p: String,
    proj: String,
}

/// `git merge-file -p ours base theirs`: the result, and whether it conflicted.
fn merge_file(ours: &str, base: &str, theirs: &str) -> (String, bool) {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let (o, b, t) = (write("o", ours), write("b", base), write("t", theirs));
    let out = Command::new("git")
        .args(["merge-file", "-p"])
        .args([&o, &b, &t])
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    assert!(code >= 0, "git merge-file failed");
    (String::from_utf8(out.stdout).unwrap(), code > 0)
}

fn set_line(text: &str, line: usize, to: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[line] = to.to_owned();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// The content hash SkillMeat gives an artifact holding `content` in its main file.
fn hash_of(art: &Art, content: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = if art.rel.ends_with("/SKILL.md") {
        let skill = dir.path().join(art.id.name.to_string());
        std::fs::create_dir(&skill).unwrap();
        std::fs::write(skill.join("SKILL.md"), content).unwrap();
        skill
    } else {
        let file = dir.path().join(Path::new(&art.rel).file_name().unwrap());
        std::fs::write(&file, content).unwrap();
        file
    };
    hash::hash_path(&path).unwrap().to_hex()
}

fn artifact_dir(rel: &str) -> &str {
    rel.strip_suffix("/SKILL.md").unwrap_or(rel)
}

#[test]
fn a_long_history_at_eight_workers_matches_git_merge_file_at_every_step() {
    // The second run kills an `update` with kill -9 at a different moment of every step, then
    // runs it again: the rerun must finish the work as if nothing had happened.
    replay(0x5eed_0000, false);
    replay(0x5eed_0001, true);
}

/// How many three-way merges (both sides edited) and conflicts the history made git do.
#[derive(Default, Debug)]
struct Seen {
    merges: usize,
    conflicts: usize,
}

fn replay(seed: u64, kill: bool) {
    let mut seen = Seen::default();
    let mut rng = Rng(seed);
    let up = GitRepo::new();
    let mut arts = Vec::new();
    for kind in ["skill", "command", "agent"] {
        for i in 0..PER_KIND {
            let name = format!("{kind}{i:02}");
            let rel = match kind {
                "skill" => format!("skills/{name}/SKILL.md"),
                "command" => format!("commands/{name}.md"),
                _ => format!("agents/{name}.md"),
            };
            let text: String = (0..LINES).map(|l| format!("{name} line {l}\n")).collect();
            up.write(&rel, &text);
            arts.push(Art {
                id: format!("{kind}:{name}").parse().unwrap(),
                rel,
                up: text.clone(),
                base_c: text.clone(),
                coll: text.clone(),
                base_p: text.clone(),
                proj: text,
            });
        }
    }
    up.commit("v0");
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let project = tmp.path().join("proj");
    std::fs::create_dir_all(&project).unwrap();
    let p = project.to_str().unwrap();
    for a in &arts {
        let spec = format!("{}#{}", up.path().display(), artifact_dir(&a.rel));
        let o = skillmeat(&home, tmp.path(), &["add", &spec]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let ids: Vec<String> = arts.iter().map(|a| a.id.to_string()).collect();
    let mut deploy = vec!["deploy"];
    deploy.extend(ids.iter().map(String::as_str));
    deploy.extend(["--project", p]);
    let o = skillmeat(&home, tmp.path(), &deploy);
    assert!(o.status.success(), "{}", text(&o));

    let collection = home.join("collections/default");
    let coll_path = |a: &Art| collection.join(&a.rel);
    let proj_path = |a: &Art| project.join(".claude").join(&a.rel);
    let edit = |path: PathBuf, text: &str| std::fs::write(path, text).unwrap();
    // Local edits in both tiers: the collection's at the top, the project's at the bottom.
    for (i, a) in arts.iter_mut().enumerate() {
        if i % 3 == 0 {
            a.coll = set_line(&a.coll, 1, "edited in the collection");
            edit(coll_path(a), &a.coll);
        }
        if i % 4 == 0 {
            a.proj = set_line(&a.proj, LINES - 1, "edited in the project");
            edit(proj_path(a), &a.proj);
        }
    }

    for step in 1..=STEPS {
        // Upstream: about a third of the artifacts change a middle line; now and then one
        // changes a line a local edit holds (a conflict to come) or a neighbour of it.
        for a in arts.iter_mut() {
            if rng.below(3) != 0 {
                continue;
            }
            let line = match rng.below(12) {
                0 => 1,
                1 => LINES - 1,
                _ => 3 + rng.below(LINES - 6),
            };
            a.up = set_line(&a.up, line, &format!("upstream step {step}"));
            up.write(&a.rel, &a.up);
        }
        if step == STEPS / 2 {
            // Mid-way, more project edits.
            for (i, a) in arts.iter_mut().enumerate() {
                if i % 5 == 1 {
                    a.proj = set_line(&a.proj, LINES - 2, "edited later in the project");
                    edit(proj_path(a), &a.proj);
                }
            }
        }
        up.commit(&format!("step {step}"));

        // What git says each artifact becomes.
        let mut expected: BTreeMap<String, &'static str> = BTreeMap::new();
        for a in arts.iter_mut() {
            let mut result = "ok";
            if a.up != a.base_c {
                let (merged, conflict) = merge_file(&a.coll, &a.base_c, &a.up);
                seen.merges += usize::from(a.coll != a.base_c);
                seen.conflicts += usize::from(conflict);
                if conflict {
                    expected.insert(a.id.to_string(), "conflict-upstream");
                    continue;
                }
                a.coll = merged;
                a.base_c = a.up.clone();
            }
            if a.coll != a.base_p {
                let (merged, conflict) = merge_file(&a.proj, &a.base_p, &a.coll);
                seen.merges += usize::from(a.proj != a.base_p);
                seen.conflicts += usize::from(conflict);
                if conflict {
                    result = "conflict-project";
                } else {
                    a.proj = merged;
                    a.base_p = a.coll.clone();
                }
            }
            expected.insert(a.id.to_string(), result);
        }

        let update = [
            "update",
            "--all",
            "--project",
            p,
            "--yes",
            "--jobs",
            "8",
            "--json",
        ];
        if kill {
            let mut child = Command::new(env!("CARGO_BIN_EXE_skillmeat"))
                .args(["--home", home.to_str().unwrap()])
                .args(update)
                .current_dir(tmp.path())
                .env_clear()
                .env("HOME", &home)
                .env("PATH", "/usr/bin:/bin")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            let delay = 20 + rng.below(600);
            std::thread::sleep(std::time::Duration::from_millis(delay as u64));
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
        }
        let o = skillmeat(&home, tmp.path(), &update);
        let rows: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("step {step}: {e}: {}", text(&o)));
        let any_conflict = expected.values().any(|r| r.starts_with("conflict"));
        assert_eq!(
            o.status.code(),
            if kill && any_conflict {
                o.status.code()
            } else {
                Some(if any_conflict { 3 } else { 0 })
            },
            "step {step}: {}",
            text(&o)
        );
        for row in rows.as_array().unwrap() {
            let id = row["id"].as_str().unwrap();
            let got = row["result"].as_str().unwrap();
            let want = expected[id];
            // A killed run may already have kept the conflict aside: the rerun then says the
            // merge is pending.
            let pending = got == "error"
                && row["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains("pending merge");
            if kill && pending && want.starts_with("conflict") {
                continue;
            }
            assert_eq!(
                got == "conflict",
                want.starts_with("conflict"),
                "step {step} (seed {seed:x}), {id}: SkillMeat says {got}, git says {want}: {row}"
            );
            assert_ne!(got, "error", "step {step}, {id}: {row}");
        }

        // Every file as git merged it, every baseline where the model has it.
        let lock = Lock::load(&collection).unwrap();
        let records = DeploymentFile::load(&project).unwrap();
        for a in &arts {
            let on_disk = std::fs::read_to_string(coll_path(a)).unwrap();
            assert_eq!(on_disk, a.coll, "step {step}: collection copy of {}", a.id);
            let on_disk = std::fs::read_to_string(proj_path(a)).unwrap();
            assert_eq!(on_disk, a.proj, "step {step}: project copy of {}", a.id);
            let entry = lock.get(&a.id).unwrap();
            assert_eq!(
                entry.content_hash,
                hash_of(a, &a.base_c),
                "step {step}: lock entry of {} is not the upstream version last taken",
                a.id
            );
            let record = records.get(&a.id).unwrap();
            assert_eq!(
                record.content_hash.as_deref(),
                Some(hash_of(a, &a.base_p).as_str()),
                "step {step}: record of {} is not the version last deployed",
                a.id
            );
        }
        // Drift agrees with the model.
        let o = skillmeat(&home, tmp.path(), &["drift", "--project", p, "--json"]);
        let drift: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(drift["problems"], serde_json::json!([]), "step {step}");
        for row in drift["rows"].as_array().unwrap() {
            if row["pair"] != "collection-project" {
                continue;
            }
            let id = row["id"].as_str().unwrap();
            let a = arts.iter().find(|a| a.id.to_string() == id).unwrap();
            let (source, target) = (a.coll != a.base_p, a.proj != a.base_p);
            let want = match (source, target) {
                (false, false) => "synced",
                (false, true) => "modified",
                (true, false) => "outdated",
                (true, true) => "conflict",
            };
            assert_eq!(row["status"], want, "step {step}: drift of {id}: {row}");
        }

        // Conflicts are left pending; abort them, as a user who decides later would.
        for (id, result) in &expected {
            let args: Vec<&str> = match *result {
                "conflict-upstream" => vec!["resolve", id, "--abort"],
                "conflict-project" => vec!["resolve", id, "--abort", "--project", p],
                _ => continue,
            };
            let o = skillmeat(&home, tmp.path(), &args);
            assert!(o.status.success(), "step {step}: {}", text(&o));
        }
    }
    eprintln!("seed {seed:x}: {seen:?}");
    // The history must keep exercising both: a change that makes it all fast-forwards would
    // leave this test checking nothing hard.
    assert!(seen.merges >= 50 && seen.conflicts >= 5, "{seen:?}");
}

/// One JSON call to the app with its token.
async fn call(
    app: &axum::Router,
    token: &str,
    method: axum::http::Method,
    uri: &str,
    body: Option<serde_json::Value>,
) -> (axum::http::StatusCode, serde_json::Value) {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let mut req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "127.0.0.1:3750")
        .header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(body.map_or_else(axum::body::Body::empty, |b| {
            axum::body::Body::from(b.to_string())
        }))
        .unwrap();
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// Thirty server jobs on thirty artifacts of one collection and project, queued at once, while
/// the CLI adds, deploys and updates in the same collection and project: every job ends in
/// success, and every entry each of them wrote is still there at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn server_jobs_and_the_cli_at_once_lose_nothing() {
    const JOBS: usize = 30;
    const BY_CLI: usize = 10;
    let up = GitRepo::new();
    let name = |i: usize| format!("c{i:02}");
    for i in 0..JOBS + 2 * BY_CLI {
        up.write(
            &format!("commands/{}.md", name(i)),
            &format!("{} v1\n", name(i)),
        );
    }
    up.commit("v1");
    let tmp = tempfile::tempdir().unwrap();
    let (home, project) = (tmp.path().join("home"), tmp.path().join("proj"));
    std::fs::create_dir_all(&project).unwrap();
    let p = project.to_str().unwrap().to_owned();
    let cli = |args: Vec<String>| {
        let (home, cwd) = (home.clone(), tmp.path().to_owned());
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = skillmeat(&home, &cwd, &args);
            assert!(o.status.success(), "{args:?}: {}", text(&o));
        })
    };
    let spec = |i: usize| format!("{}#commands/{}.md", up.path().display(), name(i));
    // The jobs' artifacts and the CLI's deploys, added and (the jobs') deployed beforehand.
    for i in 0..JOBS + BY_CLI {
        cli(vec!["add".into(), spec(i)]).await.unwrap();
    }
    let mut deploy: Vec<String> = vec!["deploy".into()];
    deploy.extend((0..JOBS).map(|i| format!("command:{}", name(i))));
    deploy.extend(["--project".into(), p.clone()]);
    cli(deploy).await.unwrap();
    // The jobs apply without previews: many writers at once are the subject here.
    cli(["config", "set", "sync.preview_required", "false"]
        .map(String::from)
        .to_vec())
    .await
    .unwrap();

    let ctx = skillmeat_core::ops::Context {
        home: skillmeat_core::storage::home::Home::new(&home),
        now: std::time::SystemTime::now(),
        fetch: Default::default(),
        cwd: tmp.path().to_owned(),
        lock_timeout: std::time::Duration::from_secs(60),
    };
    let (state, runner) = skillmeat::serve::app_state(&home, ctx).await.unwrap();
    tokio::spawn(runner.run());
    let token = state.token().to_owned();
    let app = skillmeat::serve::router(state, home.join("no-site"), "127.0.0.1:0".parse().unwrap());

    for i in 0..JOBS + 2 * BY_CLI {
        up.write(
            &format!("commands/{}.md", name(i)),
            &format!("{} v2\n", name(i)),
        );
    }
    let v2 = up.commit("v2");

    // Round 1: the upstream into the collection by jobs; meanwhile the CLI adds more
    // artifacts and deploys others, one at a time (each its own process).
    let queue = |direction: &'static str| {
        let (app, token, p) = (&app, &token, &p);
        futures_util::future::join_all((0..JOBS).map(move |i| async move {
            let mut body = serde_json::json!({
                "direction": direction,
                "artifacts": [format!("command:{}", name(i))], "dry_run": false
            });
            if direction != "upstream-to-collection" {
                body["project_path"] = serde_json::json!(p);
            }
            let (status, job) = call(
                app,
                token,
                axum::http::Method::POST,
                "/api/v1/sync/jobs",
                Some(body),
            )
            .await;
            assert_eq!(status, axum::http::StatusCode::ACCEPTED, "{job}");
            job["id"].as_i64().unwrap()
        }))
    };
    let wait_all = |ids: Vec<i64>| {
        let (app, token) = (&app, &token);
        async move {
            for id in ids {
                let started = std::time::Instant::now();
                loop {
                    let (_, job) = call(
                        app,
                        token,
                        axum::http::Method::GET,
                        &format!("/api/v1/sync/jobs/{id}"),
                        None,
                    )
                    .await;
                    let state = job["state"].as_str().unwrap().to_owned();
                    if ["success", "conflict", "error", "cancelled"].contains(&state.as_str()) {
                        assert_eq!(state, "success", "{job}");
                        break;
                    }
                    assert!(
                        started.elapsed().as_secs() < 120,
                        "job {id} never ended: {job}"
                    );
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            }
        }
    };
    let cli_round_1 = async {
        for i in JOBS + BY_CLI..JOBS + 2 * BY_CLI {
            cli(vec!["add".into(), spec(i)]).await.unwrap();
        }
        for i in JOBS..JOBS + BY_CLI {
            cli(vec![
                "deploy".into(),
                format!("command:{}", name(i)),
                "--project".into(),
                p.clone(),
            ])
            .await
            .unwrap();
        }
    };
    let (ids, ()) = tokio::join!(queue("upstream-to-collection"), cli_round_1);
    wait_all(ids).await;

    let dir = home.join("collections/default");
    let manifest = skillmeat_core::storage::collection::Manifest::load(&dir).unwrap();
    assert_eq!(
        manifest.artifacts.len(),
        JOBS + 2 * BY_CLI,
        "every add is in collection.toml"
    );
    let lock = Lock::load(&dir).unwrap();
    assert_eq!(
        lock.artifacts.len(),
        JOBS + 2 * BY_CLI,
        "and in collection.lock"
    );
    for i in 0..JOBS {
        let id: ArtifactId = format!("command:{}", name(i)).parse().unwrap();
        assert_eq!(
            lock.get(&id).unwrap().commit,
            v2,
            "{id}: the job's update is in the lock"
        );
    }
    let records = DeploymentFile::load(&project).unwrap();
    assert_eq!(
        records.deployed.len(),
        JOBS + BY_CLI,
        "every deploy is in the records"
    );

    // Round 2: into the project by jobs, and by a CLI `update --all` over the same
    // artifacts at the same time: two writers of each artifact take turns.
    let cli_round_2 = cli(vec![
        "update".into(),
        "--all".into(),
        "--project".into(),
        p.clone(),
        "--yes".into(),
        "--jobs".into(),
        "4".into(),
    ]);
    let (ids, done) = tokio::join!(queue("collection-to-project"), cli_round_2);
    done.unwrap();
    wait_all(ids).await;

    let records = DeploymentFile::load(&project).unwrap();
    assert_eq!(records.deployed.len(), JOBS + BY_CLI);
    for i in 0..JOBS + BY_CLI {
        let id: ArtifactId = format!("command:{}", name(i)).parse().unwrap();
        let copy = project.join(format!(".claude/commands/{}.md", name(i)));
        assert_eq!(
            std::fs::read_to_string(&copy).unwrap(),
            format!("{} v2\n", name(i)),
            "{id}"
        );
        let deployed = hash::hash_path(&copy).unwrap().to_hex();
        assert_eq!(
            records.get(&id).unwrap().content_hash.as_deref(),
            Some(deployed.as_str()),
            "{id}: the record's baseline is what is deployed"
        );
    }
    let (_, drift) = call(
        &app,
        &token,
        axum::http::Method::GET,
        "/api/v1/drift?check_upstream=true",
        None,
    )
    .await;
    assert_eq!(drift["problems"], serde_json::json!([]), "{drift}");
    let drifted: Vec<_> = drift["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "synced")
        .collect();
    assert!(drifted.is_empty(), "{drifted:?}");
}

/// Two processes at the same moment, each adding and then deploying its own artifacts into one
/// collection and one project: both keep every entry.
#[test]
fn two_processes_adding_and_deploying_keep_both_sets_of_entries() {
    const EACH: usize = 12;
    let up = GitRepo::new();
    for i in 0..2 * EACH {
        up.write(&format!("agents/a{i:02}.md"), &format!("agent {i}\n"));
    }
    up.commit("v1");
    let tmp = tempfile::tempdir().unwrap();
    let (home, project) = (tmp.path().join("home"), tmp.path().join("proj"));
    std::fs::create_dir_all(&project).unwrap();
    // One shell per process: its adds one after another, then one deploy of them all.
    let script = |from: usize| {
        let mut lines = Vec::new();
        let bin = env!("CARGO_BIN_EXE_skillmeat");
        let h = home.display();
        for i in from..from + EACH {
            lines.push(format!(
                "{bin} --home {h} add '{}#agents/a{i:02}.md' >/dev/null || exit 1",
                up.path().display()
            ));
        }
        let ids: Vec<String> = (from..from + EACH)
            .map(|i| format!("agent:a{i:02}"))
            .collect();
        lines.push(format!(
            "{bin} --home {h} deploy {} --project {} >/dev/null || exit 1",
            ids.join(" "),
            project.display()
        ));
        lines.join("\n")
    };
    let spawn = |from: usize| {
        Command::new("/bin/sh")
            .args(["-c", &script(from)])
            .env_clear()
            .env("HOME", &home)
            .env("PATH", "/usr/bin:/bin")
            .current_dir(tmp.path())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn(0), spawn(EACH));
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());

    let dir = home.join("collections/default");
    let manifest = skillmeat_core::storage::collection::Manifest::load(&dir).unwrap();
    assert_eq!(manifest.artifacts.len(), 2 * EACH, "collection.toml");
    assert_eq!(
        Lock::load(&dir).unwrap().artifacts.len(),
        2 * EACH,
        "collection.lock"
    );
    let records = DeploymentFile::load(&project).unwrap();
    assert_eq!(records.deployed.len(), 2 * EACH, "the project's records");
    for i in 0..2 * EACH {
        let id: ArtifactId = format!("agent:a{i:02}").parse().unwrap();
        let copy = project.join(format!(".claude/agents/a{i:02}.md"));
        let on_disk = hash::hash_path(&copy).unwrap().to_hex();
        assert_eq!(
            records.get(&id).unwrap().content_hash.as_deref(),
            Some(on_disk.as_str())
        );
    }
}
