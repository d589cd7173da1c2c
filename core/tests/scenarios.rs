//! Tiers end to end on real folders and a real git upstream: add, deploy, edit, move, drift.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use skillmeat_core::engine::drift::DriftStatus::{self, *};
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::hash;
use skillmeat_core::ops::{self, Context, OpsError};
use skillmeat_core::storage::fetch::{FetchSettings, RetryPolicy};
use skillmeat_core::storage::home::Home;
use skillmeat_core::storage::records::DeploymentFile;
use skillmeat_testutils::block_on;
use skillmeat_testutils::git::GitRepo;

pub(crate) struct World {
    _home_dir: tempfile::TempDir,
    _projects: tempfile::TempDir,
    pub(crate) ctx: Context,
    pub(crate) up: GitRepo,
    pub(crate) p1: PathBuf,
    pub(crate) p2: PathBuf,
}

pub(crate) fn add(
    ctx: &Context,
    spec: &str,
    kind: Option<skillmeat_core::model::artifact::ArtifactType>,
    name: Option<&str>,
    collection: &str,
) -> Result<ops::Added, OpsError> {
    block_on(ops::add(ctx, spec, kind, name, collection))
}

pub(crate) fn deploy(
    ctx: &Context,
    ids: &[ArtifactId],
    project: &Path,
    collection: &str,
) -> Result<Vec<ops::Deployed>, OpsError> {
    block_on(ops::deploy(ctx, ids, project, collection)).map(|r| r.deployed)
}

pub(crate) fn migrate(ctx: &Context, project: &Path) -> Result<Vec<ops::Migrated>, OpsError> {
    block_on(ops::migrate(ctx, project)).map(|r| r.records)
}

pub(crate) fn id(s: &str) -> ArtifactId {
    s.parse().unwrap()
}

pub(crate) fn world() -> World {
    let up = GitRepo::new();
    up.write(
        "skills/review/SKILL.md",
        "# Review\n\nLine one.\nLine two.\n",
    );
    up.write_exec("skills/review/scripts/check.sh", "#!/bin/sh\nexit 0\n");
    up.write("commands/fix.md", "Fix the bug.\n");
    up.write("agents/planner.md", "Plan the work.\n");
    up.commit("v1");
    up.tag("v1");
    let home_dir = tempfile::tempdir().unwrap();
    let projects = tempfile::tempdir().unwrap();
    let (p1, p2) = (projects.path().join("p1"), projects.path().join("p2"));
    fs::create_dir_all(&p1).unwrap();
    fs::create_dir_all(&p2).unwrap();
    let ctx = Context {
        home: Home::new(home_dir.path()),
        now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        fetch: FetchSettings {
            retry: RetryPolicy {
                attempts: 1,
                first_delay: Duration::ZERO,
            },
            github_token: None,
            ..FetchSettings::default()
        },
        cwd: projects.path().to_owned(),
        lock_timeout: ops::LOCK_TIMEOUT,
    };
    World {
        _home_dir: home_dir,
        _projects: projects,
        ctx,
        up,
        p1,
        p2,
    }
}

impl World {
    pub(crate) fn spec(&self, rest: &str) -> String {
        format!("{}{rest}", self.up.path().display())
    }

    pub(crate) fn add_all(&self) {
        add(
            &self.ctx,
            &self.spec("#skills/review@v1"),
            None,
            None,
            "default",
        )
        .unwrap();
        add(
            &self.ctx,
            &self.spec("#commands/fix.md@v1"),
            None,
            None,
            "default",
        )
        .unwrap();
        // The agent follows the default branch, so upstream moves reach it.
        add(
            &self.ctx,
            &self.spec("#agents/planner.md"),
            None,
            None,
            "default",
        )
        .unwrap();
    }

    pub(crate) fn ids(&self) -> Vec<ArtifactId> {
        vec![id("skill:review"), id("command:fix"), id("agent:planner")]
    }

    pub(crate) fn collection(&self, rel: &str) -> PathBuf {
        self.ctx.home.collection_dir("default").unwrap().join(rel)
    }

    /// (id, pair, project index or 0) → status, for every row.
    pub(crate) fn drift(&self) -> Vec<(String, &'static str, usize, DriftStatus)> {
        let rows = ops::drift(
            &self.ctx,
            "default",
            &[self.p1.clone(), self.p2.clone()],
            true,
        )
        .unwrap();
        assert!(report_ok(&rows.problems), "{:?}", rows.problems);
        rows.rows
            .into_iter()
            .map(|r| {
                let p = match &r.project {
                    Some(p) if p == &self.p1 => 1,
                    Some(_) => 2,
                    None => 0,
                };
                (r.id.to_string(), r.pair, p, r.status)
            })
            .collect()
    }

    pub(crate) fn status(&self, artifact: &str, pair: &str, project: usize) -> Option<DriftStatus> {
        self.drift()
            .into_iter()
            .find(|(a, p, n, _)| a == artifact && *p == pair && *n == project)
            .map(|r| r.3)
    }
}

pub(crate) fn edit(path: &Path, content: &str) {
    fs::write(path, content).unwrap();
}

#[test]
fn every_drift_status_appears_where_expected() {
    let w = world();
    w.add_all();
    for p in [&w.p1, &w.p2] {
        deploy(&w.ctx, &w.ids(), p, "default").unwrap();
    }
    let all = w.drift();
    assert_eq!(all.len(), 9, "{all:?}");
    assert!(all.iter().all(|r| r.3 == Synced), "{all:?}");

    // Project 1 edits the skill: modified there only.
    edit(
        &w.p1.join(".claude/skills/review/SKILL.md"),
        "# Review\n\nLine one, mine.\nLine two.\n",
    );
    assert_eq!(
        w.status("skill:review", "collection-project", 1),
        Some(Modified)
    );
    assert_eq!(
        w.status("skill:review", "collection-project", 2),
        Some(Synced)
    );

    // The collection edits the command: both projects are outdated, upstream sees a local edit.
    edit(
        &w.collection("commands/fix.md"),
        "Fix the bug, with a test.\n",
    );
    assert_eq!(
        w.status("command:fix", "collection-project", 1),
        Some(Outdated)
    );
    assert_eq!(
        w.status("command:fix", "collection-project", 2),
        Some(Outdated)
    );
    assert_eq!(
        w.status("command:fix", "upstream-collection", 0),
        Some(Modified)
    );

    // The collection also edits the skill, differently from project 1: conflict there.
    edit(
        &w.collection("skills/review/SKILL.md"),
        "# Review\n\nLine one.\nLine two, theirs.\n",
    );
    assert_eq!(
        w.status("skill:review", "collection-project", 1),
        Some(Conflict)
    );
    assert_eq!(
        w.status("skill:review", "collection-project", 2),
        Some(Outdated)
    );

    // Upstream moves: a commit elsewhere changes nothing; a change to the agent makes it outdated;
    // the pinned skill stays synced with its tag.
    w.up.write("README.md", "docs\n");
    w.up.commit("elsewhere");
    assert_eq!(
        w.status("agent:planner", "upstream-collection", 0),
        Some(Synced)
    );
    w.up.write("agents/planner.md", "Plan the work, in steps.\n");
    w.up.write("skills/review/SKILL.md", "# Review v2\n");
    w.up.commit("v2");
    assert_eq!(
        w.status("agent:planner", "upstream-collection", 0),
        Some(Outdated)
    );
    assert_eq!(
        w.status("skill:review", "upstream-collection", 0),
        Some(Modified),
        "pinned to v1; collection edited"
    );

    // A project copy deleted: added (deploy it). The collection copy deleted: removed (forget it).
    fs::remove_file(w.p2.join(".claude/agents/planner.md")).unwrap();
    assert_eq!(
        w.status("agent:planner", "collection-project", 2),
        Some(Added)
    );
    fs::remove_file(w.collection("agents/planner.md")).unwrap();
    assert_eq!(
        w.status("agent:planner", "collection-project", 1),
        Some(Removed)
    );

    // No base known and different content: diverged.
    let mut records = DeploymentFile::load(&w.p2).unwrap();
    for r in &mut records.deployed {
        r.content_hash = None;
        r.merge_base_snapshot = None;
    }
    records.save(&w.p2).unwrap();
    assert_eq!(
        w.status("skill:review", "collection-project", 2),
        Some(Diverged)
    );
}

#[test]
fn drift_writes_nothing_but_its_cache() {
    let w = world();
    w.add_all();
    deploy(&w.ctx, &w.ids(), &w.p1, "default").unwrap();
    let records = fs::read(DeploymentFile::path_in(&w.p1)).unwrap();
    let lock = fs::read(w.collection("collection.lock")).unwrap();
    let home = snapshot(w.ctx.home.root());
    w.drift();
    w.drift();
    block_on(ops::registered_projects(&w.ctx.home)).unwrap();
    assert_eq!(fs::read(DeploymentFile::path_in(&w.p1)).unwrap(), records);
    assert_eq!(fs::read(w.collection("collection.lock")).unwrap(), lock);
    let after = snapshot(w.ctx.home.root());
    let changed: Vec<_> = after.iter().filter(|f| !home.contains(f)).collect();
    let gone: Vec<_> = home.iter().filter(|f| !after.contains(f)).collect();
    assert!(
        changed.is_empty() && gone.is_empty(),
        "drift wrote into the home: {changed:?}, removed {gone:?}"
    );
}

/// Every file below `root` but `cache/`, with its size and modification time.
fn snapshot(root: &Path) -> Vec<(PathBuf, u64, SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            if path == root.join("cache") {
                continue;
            } else if meta.is_dir() {
                stack.push(path);
            } else {
                out.push((path, meta.len(), meta.modified().unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_legacy_record_reports_correct_drift() {
    let w = world();
    w.add_all();
    // A project deployed by the Python original: same content, old-shape record, legacy hash.
    let dest = w.p1.join(".claude/commands");
    fs::create_dir_all(&dest).unwrap();
    fs::copy(w.collection("commands/fix.md"), dest.join("fix.md")).unwrap();
    let legacy = hash::legacy_hash_path(&dest.join("fix.md")).unwrap();
    fs::write(
        DeploymentFile::path_in(&w.p1),
        format!(
            "[[deployed]]\nartifact_name = \"fix\"\nartifact_type = \"command\"\nfrom_collection = \"default\"\n\
             deployed_at = \"2025-11-02T10:00:00Z\"\nartifact_path = \".claude/commands/fix.md\"\ncontent_hash = \"{legacy}\"\n"
        ),
    )
    .unwrap();
    assert_eq!(
        w.status("command:fix", "collection-project", 1),
        Some(Synced)
    );
    edit(&w.collection("commands/fix.md"), "Fix it differently.\n");
    assert_eq!(
        w.status("command:fix", "collection-project", 1),
        Some(Outdated)
    );
    edit(&dest.join("fix.md"), "My own fix.\n");
    // The legacy baseline no longer matches anything: no base can be trusted.
    assert_eq!(
        w.status("command:fix", "collection-project", 1),
        Some(Diverged)
    );
}

#[test]
fn deploy_never_overwrites_unmanaged_files_or_local_edits() {
    let w = world();
    w.add_all();
    let mine = w.p1.join(".claude/commands/fix.md");
    fs::create_dir_all(mine.parent().unwrap()).unwrap();
    edit(&mine, "My hand-written command.\n");
    let err = deploy(&w.ctx, &[id("command:fix")], &w.p1, "default").unwrap_err();
    assert!(matches!(err, OpsError::Unmanaged { .. }), "{err}");
    assert_eq!(
        fs::read_to_string(&mine).unwrap(),
        "My hand-written command.\n"
    );
    assert!(
        !DeploymentFile::path_in(&w.p1).exists(),
        "a record was written"
    );

    deploy(&w.ctx, &[id("skill:review")], &w.p2, "default").unwrap();
    let skill = w.p2.join(".claude/skills/review/SKILL.md");
    edit(&skill, "# Mine\n");
    edit(&w.collection("skills/review/SKILL.md"), "# Theirs\n");
    let err = deploy(&w.ctx, &[id("skill:review")], &w.p2, "default").unwrap_err();
    assert!(matches!(err, OpsError::LocalEdits { .. }), "{err}");
    assert_eq!(fs::read_to_string(&skill).unwrap(), "# Mine\n");
}

#[test]
fn deploy_keeps_exec_bits_and_records_the_baseline() {
    use std::os::unix::fs::PermissionsExt;
    let w = world();
    w.add_all();
    let out = deploy(&w.ctx, &[id("skill:review")], &w.p1, "default").unwrap();
    let script = w.p1.join(".claude/skills/review/scripts/check.sh");
    assert_eq!(
        fs::metadata(&script).unwrap().permissions().mode() & 0o111,
        0o111
    );
    let records = DeploymentFile::load(&w.p1).unwrap();
    let r = records.get(&id("skill:review")).unwrap();
    assert_eq!(
        r.content_hash.as_deref(),
        Some(out[0].content_hash.to_hex().as_str())
    );
    assert_eq!(r.merge_base_snapshot, r.content_hash);
    assert_eq!(r.version_lineage, vec![out[0].content_hash.to_hex()]);
    assert_eq!(r.upstream_ref.as_deref(), Some("v1"));
    assert_eq!(r.deployed_at.as_deref(), Some("2027-01-15T08:00:00Z"));
    // Deploying the same version again changes nothing.
    let again = deploy(&w.ctx, &[id("skill:review")], &w.p1, "default").unwrap();
    assert!(!again[0].changed);
}

#[test]
fn bad_adds_are_clear_errors_and_write_nothing() {
    let w = world();
    let collection = w.collection("");
    let cases: Vec<(String, Option<&str>)> = vec![
        (w.spec("#skills/review@v1"), Some("Bad/Name")),
        (w.spec("#skills/nothing@v1"), None),
        (w.spec("#skills/review@v9"), None),
        ("/nonexistent/upstream#skills/x".to_owned(), None),
        (w.spec("#README.md@v1"), None),
    ];
    for (spec, name) in cases {
        let err = add(&w.ctx, &spec, None, name, "default").unwrap_err();
        assert!(!err.to_string().is_empty());
        assert!(
            !collection.join("collection.toml").exists(),
            "{spec}: manifest written after: {err}"
        );
        assert!(
            !collection.join("skills/review").exists(),
            "{spec}: content written after: {err}"
        );
    }
    add(&w.ctx, &w.spec("#skills/review@v1"), None, None, "default").unwrap();
    let err = add(&w.ctx, &w.spec("#skills/review@v1"), None, None, "default").unwrap_err();
    assert!(matches!(err, OpsError::AlreadyAdded { .. }), "{err}");
}

#[test]
fn migrate_upgrades_legacy_records_without_changing_drift() {
    let w = world();
    w.add_all();
    let claude = w.p1.join(".claude");
    fs::create_dir_all(claude.join("commands")).unwrap();
    fs::create_dir_all(claude.join("agents")).unwrap();
    fs::copy(
        w.collection("commands/fix.md"),
        claude.join("commands/fix.md"),
    )
    .unwrap();
    fs::copy(
        w.collection("agents/planner.md"),
        claude.join("agents/planner.md"),
    )
    .unwrap();
    let legacy_fix = hash::legacy_hash_path(&claude.join("commands/fix.md")).unwrap();
    let legacy_planner = hash::legacy_hash_path(&claude.join("agents/planner.md")).unwrap();
    // The agent was edited in the project after the Python tool deployed it.
    edit(&claude.join("agents/planner.md"), "Plan it my way.\n");
    fs::write(
        DeploymentFile::path_in(&w.p1),
        format!(
            "[[deployed]]\nartifact_name = \"fix\"\nartifact_type = \"command\"\ncontent_hash = \"{legacy_fix}\"\n\n\
             [[deployed]]\nartifact_name = \"planner\"\nartifact_type = \"agent\"\ncontent_hash = \"{legacy_planner}\"\n"
        ),
    )
    .unwrap();
    let before = w.drift();

    // The planner's deployed version survives in the collection: drift knows the base.
    assert!(
        before.contains(&(
            "agent:planner".to_owned(),
            "collection-project",
            1,
            Modified
        )),
        "{before:?}"
    );
    // A third record whose version no copy has any more stays legacy.
    let mut text = fs::read_to_string(DeploymentFile::path_in(&w.p1)).unwrap();
    text.push_str(&format!("\n[[deployed]]\nartifact_name = \"review\"\nartifact_type = \"skill\"\ncontent_hash = \"{}\"\n", "0".repeat(64)));
    fs::write(DeploymentFile::path_in(&w.p1), text).unwrap();
    fs::create_dir_all(claude.join("skills/review")).unwrap();
    edit(&claude.join("skills/review/SKILL.md"), "# Local review\n");
    let before = w.drift();
    assert!(
        before.contains(&("skill:review".to_owned(), "collection-project", 1, Diverged)),
        "{before:?}"
    );

    let outcomes = migrate(&w.ctx, &w.p1).unwrap();
    let by_id: Vec<(String, &str)> = outcomes
        .iter()
        .map(|m| (m.id.to_string(), m.outcome))
        .collect();
    assert_eq!(
        by_id,
        [
            ("command:fix".to_owned(), "upgraded"),
            ("agent:planner".to_owned(), "upgraded"),
            ("skill:review".to_owned(), "kept-legacy")
        ]
    );
    assert_eq!(w.drift(), before, "migrate changed what drift reports");

    let records = DeploymentFile::load(&w.p1).unwrap();
    let fix = records.get(&id("command:fix")).unwrap();
    let v1 = hash::hash_path(&claude.join("commands/fix.md"))
        .unwrap()
        .to_hex();
    assert_eq!(fix.content_hash.as_deref(), Some(v1.as_str()));
    assert_eq!(fix.version_lineage, vec![v1.clone()]);
    assert_eq!(
        records.format,
        Some(skillmeat_core::storage::records::RECORDS_FORMAT)
    );

    // Idempotent: the second run reports nothing new and does not touch the file.
    let bytes = fs::read(DeploymentFile::path_in(&w.p1)).unwrap();
    let again = migrate(&w.ctx, &w.p1).unwrap();
    assert_eq!(again.iter().filter(|m| m.outcome == "upgraded").count(), 0);
    assert_eq!(fs::read(DeploymentFile::path_in(&w.p1)).unwrap(), bytes);
}

#[test]
fn an_unmoved_upstream_is_checked_without_fetching() {
    let w = world();
    w.add_all();
    let cache = w.ctx.home.root().join("cache/upstream");
    fs::remove_dir_all(&cache).unwrap();
    // A commit elsewhere moves `latest` (the agent's ref), but not the tag the others pin.
    assert_eq!(
        w.status("skill:review", "upstream-collection", 0),
        Some(Synced)
    );
    assert_eq!(
        w.status("command:fix", "upstream-collection", 0),
        Some(Synced)
    );
    assert_eq!(
        w.status("agent:planner", "upstream-collection", 0),
        Some(Synced)
    );
    assert!(!cache.exists(), "an unchanged upstream was fetched");
    w.up.write("README.md", "moved\n");
    w.up.commit("elsewhere");
    assert_eq!(
        w.status("agent:planner", "upstream-collection", 0),
        Some(Synced)
    );
    assert!(
        cache.exists(),
        "a moved ref is fetched to compare its subtree"
    );
}

fn report_ok(problems: &[ops::DriftProblem]) -> bool {
    problems.is_empty()
}
