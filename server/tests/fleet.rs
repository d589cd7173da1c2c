//! `update` across several projects at once: one plan that covers each project's step
//! (planned against the collection the upstream step would leave), one apply that does what
//! the plan showed, and a run with nothing to do that settles everything without a sync.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use skillmeat_testutils::git::GitRepo;

use crate::cli::{skillmeat, text};

fn skill(title: &str, step: &str) -> String {
    format!(
        "---\nname: {title}\ndescription: {title} things\n---\n# {title}\n\nIntro.\n\n1. {step}\n2. Check.\n3. Ship.\n"
    )
}

/// Every file under `dirs`, by path, for "nothing was written".
fn snapshot(dirs: &[&Path]) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    for d in dirs {
        walk(d, &mut out);
    }
    out
}

fn json(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

/// The row of `id`.
fn row<'a>(rows: &'a Value, id: &str) -> &'a Value {
    let found = rows.as_array().unwrap().iter().find(|r| r["id"] == id);
    found.unwrap_or_else(|| panic!("no row of {id}: {rows}"))
}

/// (artifact, project or "upstream") → (result, the step's report's result hash).
fn steps(rows: &Value) -> BTreeMap<(String, String), (String, Option<String>)> {
    let mut out = BTreeMap::new();
    for row in rows.as_array().unwrap() {
        let id = row["id"].as_str().unwrap().to_owned();
        for (i, step) in row["steps"].as_array().unwrap().iter().enumerate() {
            let project = step["project"].as_str().map_or("upstream".to_owned(), |p| {
                Path::new(p).file_name().unwrap().to_string_lossy().into()
            });
            let report = row["reports"].get(i);
            let hash = report.and_then(|r| r["result"].as_str()).map(str::to_owned);
            out.insert(
                (id.clone(), project),
                (step["result"].as_str().unwrap().to_owned(), hash),
            );
        }
    }
    out
}

struct Fleet {
    up: GitRepo,
    tmp: tempfile::TempDir,
    home: PathBuf,
    projects: Vec<PathBuf>,
}

impl Fleet {
    /// Three skills from one upstream (tracking `main`), deployed into three projects.
    fn new() -> Self {
        let up = GitRepo::new();
        for name in ["alpha", "beta", "gamma"] {
            up.write(&format!("skills/{name}/SKILL.md"), &skill(name, "Plan."));
        }
        up.commit("v1");
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let projects: Vec<PathBuf> = ["p1", "p2", "p3"]
            .iter()
            .map(|p| tmp.path().join(p))
            .collect();
        let fleet = Self {
            up,
            tmp,
            home,
            projects,
        };
        for name in ["alpha", "beta", "gamma"] {
            let spec = format!("{}#skills/{name}@main", fleet.up.path().display());
            fleet.ok(&["add", &spec]);
        }
        for p in &fleet.projects {
            std::fs::create_dir_all(p).unwrap();
            fleet.ok(&[
                "deploy",
                "skill:alpha",
                "skill:beta",
                "skill:gamma",
                "--project",
                p.to_str().unwrap(),
            ]);
        }
        fleet
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        skillmeat(&self.home, self.tmp.path(), args)
    }

    fn ok(&self, args: &[&str]) -> std::process::Output {
        let o = self.run(args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        o
    }

    fn skill_md(&self, project: usize, name: &str) -> PathBuf {
        self.projects[project].join(format!(".claude/skills/{name}/SKILL.md"))
    }

    fn p(&self, i: usize) -> &str {
        self.projects[i].to_str().unwrap()
    }

    /// Settles the pending merge of `id` in project `i` by keeping the project's `file`.
    fn keep_ours(&self, id: &str, i: usize, file: &str) {
        let p = self.p(i);
        self.ok(&["resolve", id, "--project", p, "--file", file, "--ours"]);
        self.ok(&["resolve", id, "--project", p, "--continue", "--yes"]);
    }
}

#[test]
fn one_plan_covers_every_project_and_the_apply_does_what_it_showed() {
    let f = Fleet::new();
    // p2 edits alpha's title (a region the upstream leaves alone), p3 the step it changes.
    let alpha_p2 = skill("alpha", "Plan.").replace("# alpha", "# alpha (team p2)");
    std::fs::write(f.skill_md(1, "alpha"), &alpha_p2).unwrap();
    std::fs::write(f.skill_md(2, "alpha"), skill("alpha", "Plan with p3.")).unwrap();
    f.up.write(
        "skills/alpha/SKILL.md",
        &skill("alpha", "Plan, then write it down."),
    )
    .write("skills/beta/SKILL.md", &skill("beta", "Plan twice."));
    f.up.commit("v2");

    // The dry run: every project's step, planned against the collection not yet written.
    let claude: Vec<PathBuf> = f.projects.iter().map(|p| p.join(".claude")).collect();
    let mut dirs: Vec<&Path> = claude.iter().map(PathBuf::as_path).collect();
    let collection = f.home.join("collections");
    dirs.push(&collection);
    let before = snapshot(&dirs);
    let o = f.run(&["update", "--all", "--all-projects", "--dry-run", "--json"]);
    assert_eq!(o.status.code(), Some(3), "a planned conflict: {}", text(&o));
    let plan = json(&o);
    let planned = steps(&plan);
    let result = |id: &str, at: &str| planned[&(id.to_owned(), at.to_owned())].0.clone();
    assert_eq!(result("skill:alpha", "upstream"), "planned");
    assert_eq!(result("skill:alpha", "p1"), "planned");
    assert_eq!(result("skill:alpha", "p2"), "planned");
    assert_eq!(result("skill:alpha", "p3"), "conflict");
    for p in ["upstream", "p1", "p2", "p3"] {
        assert_eq!(result("skill:beta", p), "planned", "{p}");
    }
    // Nothing changed for gamma: the drift check settled it, no step ran.
    let gamma = row(&plan, "skill:gamma");
    assert_eq!(gamma["result"], "up to date");
    assert_eq!(gamma["steps"].as_array().unwrap().len(), 0, "{gamma}");
    let after = snapshot(&dirs);
    let changed: Vec<&PathBuf> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert!(changed.is_empty(), "a dry run writes nothing: {changed:?}");

    // The text plan is grouped by project, the collection's upstream steps first.
    let o = f.run(&["update", "--all", "--all-projects", "--dry-run"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let at = |needle: &str| {
        out.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing: {out}"))
    };
    assert!(at("(collection, from upstreams)") < at(f.p(0)));
    assert!(at(f.p(0)) < at(f.p(1)) && at(f.p(1)) < at(f.p(2)), "{out}");
    assert!(
        out.contains("3 artifacts, 3 projects — steps:"),
        "one summary: {out}"
    );

    // The apply, projects named one by one: it does what the plan showed.
    let o = f.run(&[
        "update",
        "--all",
        "--project",
        f.p(0),
        "--project",
        f.p(1),
        "--project",
        f.p(2),
        "--yes",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let applied = steps(&json(&o));
    for (key, (result, hash)) in &planned {
        let (now, now_hash) = &applied[key];
        if result == "conflict" {
            assert_eq!(now, "conflict", "{key:?}");
            continue;
        }
        assert!(
            matches!(now.as_str(), "updated" | "auto-merged"),
            "{key:?}: {now}"
        );
        assert_eq!(
            hash, now_hash,
            "{key:?}: the plan's result is what was written"
        );
    }
    let new_alpha = skill("alpha", "Plan, then write it down.");
    assert_eq!(
        std::fs::read_to_string(f.skill_md(0, "alpha")).unwrap(),
        new_alpha
    );
    assert_eq!(
        std::fs::read_to_string(f.skill_md(1, "alpha")).unwrap(),
        new_alpha.replace("# alpha", "# alpha (team p2)"),
        "p2's edit is kept and the upstream's change merged in"
    );
    assert_eq!(
        std::fs::read_to_string(f.skill_md(2, "alpha")).unwrap(),
        skill("alpha", "Plan with p3."),
        "p3's conflict waits as a pending merge; its file is untouched"
    );
    for i in 0..3 {
        assert_eq!(
            std::fs::read_to_string(f.skill_md(i, "beta")).unwrap(),
            skill("beta", "Plan twice.")
        );
    }

    // p3 keeps its version; then a fleet run has nothing to do and runs no sync.
    f.keep_ours("skill:alpha", 2, "SKILL.md");
    let o = f.ok(&["update", "--all", "--all-projects", "--json"]);
    for row in json(&o).as_array().unwrap() {
        assert_eq!(row["result"], "up to date", "{row}");
        assert_eq!(row["steps"].as_array().unwrap().len(), 0, "{row}");
    }
    let o = f.ok(&["update", "--all", "--all-projects"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("Nothing to do"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_project_that_is_gone_is_reported_and_the_others_are_updated() {
    let f = Fleet::new();
    f.up.write("skills/beta/SKILL.md", &skill("beta", "Plan twice."));
    f.up.commit("v2");
    std::fs::remove_dir_all(&f.projects[1]).unwrap();
    let o = f.run(&["update", "skill:beta", "--all-projects", "--yes", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("no longer exists"),
        "the gone project is named: {}",
        text(&o)
    );
    for i in [0, 2] {
        assert_eq!(
            std::fs::read_to_string(f.skill_md(i, "beta")).unwrap(),
            skill("beta", "Plan twice.")
        );
    }
    // A project named on the command line that does not exist is a usage error.
    let gone = f.projects[1].to_str().unwrap();
    let o = f.run(&["update", "--all", "--project", f.p(0), "--project", gone]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn reuse_settles_the_same_conflict_in_other_projects_and_only_that_one() {
    let f = Fleet::new();
    // p1 and p2 made the same edit; p3 a different one, on the line the upstream changes.
    let same = skill("alpha", "Plan with the team.");
    std::fs::write(f.skill_md(0, "alpha"), &same).unwrap();
    std::fs::write(f.skill_md(1, "alpha"), &same).unwrap();
    std::fs::write(f.skill_md(2, "alpha"), skill("alpha", "Plan alone.")).unwrap();
    f.up.write(
        "skills/alpha/SKILL.md",
        &skill("alpha", "Plan, then write it down."),
    );
    f.up.commit("v2");

    // Resolved once, in p1.
    let o = f.run(&["update", "skill:alpha", "--project", f.p(0), "--yes"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    f.keep_ours("skill:alpha", 0, "SKILL.md");

    let o = f.run(&[
        "update",
        "--all",
        "--all-projects",
        "--reuse",
        "--yes",
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "p3 is left in conflict: {}",
        text(&o)
    );
    let rows = json(&o);
    let alpha = row(&rows, "skill:alpha");
    let detail = alpha["detail"].as_str().unwrap();
    assert!(
        detail.contains("resolved the same way as in") && detail.contains(f.p(0)),
        "{alpha}"
    );
    assert_eq!(
        std::fs::read_to_string(f.skill_md(1, "alpha")).unwrap(),
        same
    );
    assert_eq!(
        std::fs::read_to_string(f.skill_md(2, "alpha")).unwrap(),
        skill("alpha", "Plan alone."),
        "a conflict that is not byte-identical is never settled by reuse"
    );
    let o = f.run(&["drift", "--project", f.p(1), "--json"]);
    let drift = json(&o);
    assert!(
        drift["pending_merges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["project"] != f.p(1)),
        "p2's merge was applied: {drift}"
    );
}

/// "Update everywhere" over the REST API (`POST /sync/update`, what the web UI's button
/// queues): one job whose preview has a step per project, planned against the collection not
/// yet written; an apply naming it that does exactly that plan, refusing (alone) a project
/// whose copy moved since; and requests that name a wrong plan or an unregistered project.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_everywhere_is_one_job_with_a_step_per_project() {
    use axum::http::StatusCode;
    use serde_json::json;
    const UPDATE: &str = "/api/v1/sync/update";

    let Fleet {
        up,
        tmp,
        home,
        projects,
    } = Fleet::new();
    let canonical: Vec<PathBuf> = projects
        .iter()
        .map(|p| std::fs::canonicalize(p).unwrap())
        .collect();
    let name = |p: &Value| -> String {
        p.as_str().map_or("upstream".to_owned(), |p| {
            Path::new(p).file_name().unwrap().to_string_lossy().into()
        })
    };
    let md = |i: usize, skill: &str| canonical[i].join(format!(".claude/skills/{skill}/SKILL.md"));
    // p3 edits the step the upstream changes: its step conflicts.
    std::fs::write(md(2, "alpha"), skill("alpha", "Plan with p3.")).unwrap();
    up.write(
        "skills/alpha/SKILL.md",
        &skill("alpha", "Plan, then write it down."),
    );
    up.commit("v2");
    let a = crate::api::Api::over(tmp, home.clone(), projects[0].clone(), up).await;

    // The preview: every registered project, fixed in the job.
    let claude: Vec<PathBuf> = canonical.iter().map(|p| p.join(".claude")).collect();
    let mut dirs: Vec<&Path> = claude.iter().map(PathBuf::as_path).collect();
    let collection = home.join("collections");
    dirs.push(&collection);
    let before = snapshot(&dirs);
    let body = json!({"artifacts": ["skill:alpha", "skill:beta"]});
    let (status, job) = a.post(UPDATE, body.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["kind"], "update");
    let listed: Vec<String> = job["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = canonical.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(listed, expected, "every registered project, in order");
    let plan = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(plan["state"], "conflict", "{plan}");
    assert_eq!(plan["conflicts"], json!(["skill:alpha"]));
    let rows = &plan["result"];
    let alpha = row(rows, "skill:alpha");
    let planned: Vec<(String, String)> = alpha["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                name(&s["project"]),
                s["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let pair = |p: &str, r: &str| (p.to_owned(), r.to_owned());
    assert_eq!(
        planned,
        vec![
            pair("upstream", "planned"),
            pair("p1", "planned"),
            pair("p2", "planned"),
            pair("p3", "conflict"),
        ],
        "{alpha}"
    );
    // beta did not move: settled by the drift check, no step.
    assert_eq!(row(rows, "skill:beta")["result"], "up to date");
    assert_eq!(row(rows, "skill:beta")["steps"], json!([]));
    assert!(
        before == snapshot(&dirs),
        "a preview writes nothing, in any project"
    );
    let planned_hash = |p: &str| -> Value {
        let reports = alpha["reports"].as_array().unwrap();
        let r = reports.iter().find(|r| name(&r["project"]) == p).unwrap();
        r["result"].clone()
    };

    // Refused before anything is queued: a plan of another request, an unregistered project.
    let mut other = json!({"artifacts": ["skill:alpha", "skill:beta"], "projects": [canonical[0]]});
    let (status, narrow) = a.post(UPDATE, other.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{narrow}");
    let narrow = a.wait(narrow["id"].as_i64().unwrap()).await;
    let mut apply = body.clone();
    apply["dry_run"] = json!(false);
    apply["plan_job"] = narrow["id"].clone();
    let (status, err) = a.post(UPDATE, apply.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["error"], "plan_mismatch", "{err}");
    other["projects"] = json!([a.tmp.path().join("nowhere")]);
    let (status, err) = a.post(UPDATE, other).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["error"], "unregistered_project", "{err}");
    let (status, err) = a.post(UPDATE, json!({"artifacts": ["skill:nope"]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["error"], "not_in_collection", "{err}");

    // Between the preview and the apply, the user edits p2's copy (elsewhere in the file).
    let edited = skill("alpha", "Plan.").replace("Intro.", "Intro, p2's way.");
    std::fs::write(md(1, "alpha"), &edited).unwrap();
    apply["plan_job"] = plan["id"].clone();
    let (status, job) = a.post(UPDATE, apply).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let done = a.wait(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "error", "p2's step is refused: {done}");
    let alpha = row(&done["result"], "skill:alpha");
    let by_project: BTreeMap<String, Value> = alpha["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (name(&s["project"]), s.clone()))
        .collect();
    assert_eq!(by_project["upstream"]["result"], "updated", "{alpha}");
    assert_eq!(by_project["p1"]["result"], "updated", "{alpha}");
    assert_eq!(by_project["p3"]["result"], "conflict", "{alpha}");
    assert_eq!(by_project["p2"]["result"], "error", "{alpha}");
    let why = by_project["p2"]["detail"].as_str().unwrap();
    assert!(why.contains("changed since its preview"), "{why}");
    // What was applied is what the preview showed, byte for byte.
    let applied = |p: &str| -> Value {
        let reports = alpha["reports"].as_array().unwrap();
        let r = reports.iter().find(|r| name(&r["project"]) == p).unwrap();
        r["result"].clone()
    };
    assert_eq!(applied("upstream"), planned_hash("upstream"));
    assert_eq!(applied("p1"), planned_hash("p1"));
    let v2 = skill("alpha", "Plan, then write it down.");
    assert_eq!(std::fs::read_to_string(md(0, "alpha")).unwrap(), v2);
    assert_eq!(
        std::fs::read_to_string(md(1, "alpha")).unwrap(),
        edited,
        "the refused project's copy is untouched"
    );
    assert_eq!(
        std::fs::read_to_string(md(2, "alpha")).unwrap(),
        skill("alpha", "Plan with p3."),
        "a conflict waits as a pending merge"
    );
}
