//! The version store on a real home: store.git, skillmeat.db, and what operations record in them.

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use git2::{Oid, Repository};
use skillmeat_core::model::hash;
use skillmeat_core::ops::{self, OpsError};
use skillmeat_core::storage::home::Home;
use skillmeat_core::storage::versions::{ChangeOrigin, NewVersion, VersionError, Versions};
use skillmeat_testutils::block_on;

use crate::scenarios::{deploy, edit, id, migrate, world};

fn at(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + seconds)
}

fn record(
    versions: &Versions,
    artifact: &str,
    path: &Path,
    origin: ChangeOrigin,
    parents: &[&str],
) -> (skillmeat_core::storage::versions::Version, bool) {
    let artifact = id(artifact);
    let r = block_on(versions.record(NewVersion {
        artifact: &artifact,
        path,
        origin,
        parents: parents.iter().map(|p| (*p).to_owned()).collect(),
        parents_of: None,
        metadata: serde_json::json!({}),
        now: at(0),
    }))
    .unwrap();
    (r.version, r.created)
}

fn commit_parents(home: &Path, commit: &str) -> Vec<String> {
    let repo = Repository::open_bare(home.join("store.git")).unwrap();
    let c = repo.find_commit(Oid::from_str(commit).unwrap()).unwrap();
    c.parent_ids().map(|p| p.to_string()).collect()
}

#[test]
fn recording_deduplicates_and_builds_lineage_with_commit_parents() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::new(dir.path().join("home"));
    let versions = block_on(Versions::open(&home)).unwrap();
    let file = dir.path().join("fix.md");

    edit(&file, "one\n");
    let (a, created) = record(&versions, "command:fix", &file, ChangeOrigin::Sync, &[]);
    assert!(created);
    assert_eq!(a.content_hash, hash::hash_path(&file).unwrap());
    let (again, created) = record(&versions, "command:fix", &file, ChangeOrigin::Merge, &[]);
    assert!(!created, "the same content is recorded once");
    assert_eq!(again, a);

    let a_hex = a.content_hash.to_hex();
    edit(&file, "two\n");
    let (b, _) = record(
        &versions,
        "command:fix",
        &file,
        ChangeOrigin::LocalModification,
        &[&a_hex],
    );
    let b_hex = b.content_hash.to_hex();
    edit(&file, "three\n");
    let (c, _) = record(
        &versions,
        "command:fix",
        &file,
        ChangeOrigin::Sync,
        &[&b_hex],
    );
    assert_eq!(
        c.version_lineage,
        [c.content_hash.to_hex(), b_hex.clone(), a_hex.clone()]
    );
    assert_eq!(c.parent_hash.as_deref(), Some(b_hex.as_str()));
    let root = home.root();
    assert_eq!(
        commit_parents(root, c.commit_id.as_str()),
        [b.commit_id.as_str()]
    );
    assert!(commit_parents(root, a.commit_id.as_str()).is_empty());

    // A merge has two parents, in the store and in the row.
    edit(&file, "merged\n");
    let c_hex = c.content_hash.to_hex();
    let (m, _) = record(
        &versions,
        "command:fix",
        &file,
        ChangeOrigin::Merge,
        &[&c_hex, &a_hex],
    );
    assert_eq!(m.parent_hashes, [c_hex.clone(), a_hex.clone()]);
    assert_eq!(
        commit_parents(root, m.commit_id.as_str()),
        [c.commit_id.as_str(), a.commit_id.as_str()]
    );

    // History is newest first and the store gives back each version's exact content.
    let history = block_on(versions.history(&id("command:fix"))).unwrap();
    let hashes: Vec<_> = history.iter().map(|v| v.content_hash).collect();
    assert_eq!(
        hashes,
        [
            m.content_hash,
            c.content_hash,
            b.content_hash,
            a.content_hash
        ]
    );
    let out = dir.path().join("out/fix.md");
    fs::create_dir_all(out.parent().unwrap()).unwrap();
    versions.store().export(&b.tree_id, &out, false).unwrap();
    assert_eq!(fs::read_to_string(&out).unwrap(), "two\n");
}

#[test]
fn a_parent_the_table_does_not_know_stays_in_the_lineage() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::new(dir.path().join("home"));
    let versions = block_on(Versions::open(&home)).unwrap();
    let file = dir.path().join("fix.md");
    edit(&file, "one\n");
    let legacy = "ab".repeat(32);
    let (v, created) = record(
        &versions,
        "command:fix",
        &file,
        ChangeOrigin::Deployment,
        &[&legacy],
    );
    assert!(created);
    assert_eq!(v.parent_hash.as_deref(), Some(legacy.as_str()));
    assert_eq!(v.version_lineage, [v.content_hash.to_hex(), legacy]);
    assert!(commit_parents(home.root(), v.commit_id.as_str()).is_empty());
}

#[test]
fn identical_content_in_two_artifacts_is_two_rows_sharing_one_tree() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::new(dir.path().join("home"));
    let versions = block_on(Versions::open(&home)).unwrap();
    let a = dir.path().join("a/x.md");
    let b = dir.path().join("b/x.md");
    fs::create_dir_all(a.parent().unwrap()).unwrap();
    fs::create_dir_all(b.parent().unwrap()).unwrap();
    edit(&a, "same\n");
    edit(&b, "same\n");
    let (va, _) = record(&versions, "command:x", &a, ChangeOrigin::Sync, &[]);
    let (vb, created) = record(&versions, "agent:x", &b, ChangeOrigin::Sync, &[]);
    assert!(created);
    assert_eq!(va.tree_id, vb.tree_id);
    assert_eq!(va.content_hash, vb.content_hash);
}

#[test]
fn the_database_is_wal_and_reopens_with_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::new(dir.path().join("home"));
    let file = dir.path().join("fix.md");
    edit(&file, "one\n");
    {
        let versions = block_on(Versions::open(&home)).unwrap();
        record(&versions, "command:fix", &file, ChangeOrigin::Sync, &[]);
        let mode: String = block_on(
            sqlx::query_scalar("PRAGMA journal_mode").fetch_one(versions.database().pool()),
        )
        .unwrap();
        assert_eq!(mode, "wal");
    }
    // Opening again applies no migration twice and finds the row, also read-only.
    let versions = block_on(Versions::open(&home)).unwrap();
    assert_eq!(
        block_on(versions.history(&id("command:fix")))
            .unwrap()
            .len(),
        1
    );
    let read_only = block_on(Versions::open_read_only(&home)).unwrap().unwrap();
    assert_eq!(
        block_on(read_only.history(&id("command:fix")))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn tags_name_one_version_per_artifact() {
    let w = world();
    w.add_all();
    let fix = id("command:fix");
    let tag = |name: &str, version: Option<&str>, force: bool| {
        block_on(ops::tag(
            &w.ctx, &fix, "default", name, version, false, force,
        ))
    };
    let first = tag("stable", None, false).unwrap();
    assert_eq!(first.version_tag.as_deref(), Some("stable"));
    let first_hex = first.content_hash.to_hex();

    // Editing the collection and tagging again records the edit as a local modification.
    edit(&w.collection("commands/fix.md"), "Fix it properly.\n");
    let second = tag("edited", None, false).unwrap();
    assert_eq!(second.change_origin, ChangeOrigin::LocalModification);
    assert_eq!(second.parent_hash.as_deref(), Some(first_hex.as_str()));

    match tag("stable", None, false) {
        Err(OpsError::Versions(VersionError::TagTaken { other, .. })) => {
            assert_eq!(other, first.content_hash.short());
        }
        other => panic!("expected TagTaken, got {other:?}"),
    }
    let moved = tag("stable", None, true).unwrap();
    assert_eq!(moved.content_hash, second.content_hash);
    let history = block_on(ops::history(&w.ctx, &fix, "default")).unwrap();
    let tags: Vec<_> = history
        .versions
        .iter()
        .map(|v| v.version_tag.clone())
        .collect();
    assert_eq!(tags, [Some("stable".to_owned()), None]);

    // By hash prefix and by tag; bad tags and unknown versions are clear errors.
    let by_prefix = tag("old", Some(&first_hex[..8]), false).unwrap();
    assert_eq!(by_prefix.content_hash, first.content_hash);
    assert!(matches!(
        tag("again", Some("old"), false),
        Ok(v) if v.content_hash == first.content_hash
    ));
    assert!(matches!(
        tag("again", Some("stable"), false),
        Err(OpsError::Versions(VersionError::TagTaken { .. }))
    ));
    for bad in ["", "-x", "a b", "a/b", &"x".repeat(65)] {
        assert!(
            matches!(
                tag(bad, None, false),
                Err(OpsError::Versions(VersionError::BadTag { .. }))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        tag("x", Some("ffff"), false),
        Err(OpsError::Versions(VersionError::NotFound { .. }))
    ));
}

#[test]
fn add_and_deploy_record_versions_and_register_the_project() {
    let w = world();
    w.add_all();
    let review = id("skill:review");
    let history = block_on(ops::history(&w.ctx, &review, "default")).unwrap();
    assert_eq!(history.versions.len(), 1);
    let added = &history.versions[0];
    assert_eq!(added.change_origin, ChangeOrigin::Sync);
    assert_eq!(history.current, Some(added.content_hash));
    assert!(added.metadata["commit"].is_string(), "{:?}", added.metadata);

    // Deploying the same content records nothing new; its commit becomes the snapshot id.
    let report = block_on(ops::deploy(
        &w.ctx,
        std::slice::from_ref(&review),
        &w.p1,
        "default",
    ))
    .unwrap();
    // Recording gave no warning (the world's skill has no frontmatter: that is the deploy's
    // check speaking, not the version store).
    assert!(
        report
            .warnings
            .iter()
            .all(|w| w.starts_with("skill:review: SKILL.md has no frontmatter")),
        "{:?}",
        report.warnings
    );
    assert_eq!(
        report.deployed[0].snapshot_id.as_deref(),
        Some(added.commit_id.as_str())
    );
    let record = skillmeat_core::storage::records::DeploymentFile::load(&w.p1).unwrap();
    assert_eq!(
        record.get(&review).unwrap().snapshot_id.as_deref(),
        Some(added.commit_id.as_str())
    );
    assert_eq!(
        block_on(ops::registered_projects(&w.ctx.home)).unwrap(),
        [w.p1.canonicalize().unwrap()]
    );

    // A hand edit in the collection, deployed, is recorded as a local modification of it.
    edit(&w.collection("skills/review/SKILL.md"), "# Review v2\n");
    deploy(&w.ctx, std::slice::from_ref(&review), &w.p2, "default").unwrap();
    let history = block_on(ops::history(&w.ctx, &review, "default")).unwrap();
    assert_eq!(history.versions.len(), 2);
    assert_eq!(
        history.versions[0].change_origin,
        ChangeOrigin::LocalModification
    );
    assert_eq!(
        history.versions[0].version_lineage,
        [
            history.versions[0].content_hash.to_hex(),
            added.content_hash.to_hex()
        ]
    );
    let mut projects = block_on(ops::registered_projects(&w.ctx.home)).unwrap();
    projects.sort();
    let mut expected = vec![w.p1.canonicalize().unwrap(), w.p2.canonicalize().unwrap()];
    expected.sort();
    assert_eq!(projects, expected);
}

#[test]
fn a_version_store_that_cannot_be_written_is_a_warning_not_a_failure() {
    let w = world();
    // skillmeat.db is a folder: the database cannot open, but the add must still happen.
    fs::create_dir_all(w.ctx.home.root().join("skillmeat.db")).unwrap();
    let added = block_on(ops::add(
        &w.ctx,
        &w.spec("#commands/fix.md@v1"),
        None,
        None,
        "default",
    ))
    .unwrap();
    assert!(w.collection("commands/fix.md").is_file());
    assert_eq!(added.warnings.len(), 1, "{:?}", added.warnings);
    assert!(
        added.warnings[0].contains("versions are not being recorded")
            && added.warnings[0].contains("skillmeat.db"),
        "{:?}",
        added.warnings
    );
    let report = block_on(ops::deploy(&w.ctx, &[id("command:fix")], &w.p1, "default")).unwrap();
    assert!(w.p1.join(".claude/commands/fix.md").is_file());
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert_eq!(report.deployed[0].snapshot_id, None);
}

#[test]
fn migrate_records_the_translated_baseline_as_a_version() {
    let w = world();
    w.add_all();
    let claude = w.p1.join(".claude");
    fs::create_dir_all(claude.join("commands")).unwrap();
    fs::copy(
        w.collection("commands/fix.md"),
        claude.join("commands/fix.md"),
    )
    .unwrap();
    let legacy = hash::legacy_hash_path(&claude.join("commands/fix.md")).unwrap();
    // Edited in the project after the old tool deployed it: only the collection copy still
    // holds the deployed version, and that copy is what gets recorded.
    edit(&claude.join("commands/fix.md"), "Mine.\n");
    fs::write(
        skillmeat_core::storage::records::DeploymentFile::path_in(&w.p1),
        format!(
            "[[deployed]]\nartifact_name = \"fix\"\nartifact_type = \"command\"\ncontent_hash = \"{legacy}\"\n"
        ),
    )
    .unwrap();
    let outcomes = migrate(&w.ctx, &w.p1).unwrap();
    assert_eq!(outcomes[0].outcome, "upgraded");
    let records = skillmeat_core::storage::records::DeploymentFile::load(&w.p1).unwrap();
    let record = records.get(&id("command:fix")).unwrap();
    let versions = block_on(Versions::open(&w.ctx.home)).unwrap();
    let base = block_on(versions.get(
        &id("command:fix"),
        record.merge_base_snapshot.as_deref().unwrap(),
    ))
    .unwrap()
    .expect("the baseline is in the version store");
    assert_eq!(record.snapshot_id.as_deref(), Some(base.commit_id.as_str()));
    assert_eq!(
        base.content_hash,
        hash::hash_path(&w.collection("commands/fix.md")).unwrap()
    );
}

#[test]
fn a_refused_deploy_writes_nothing_at_all() {
    let w = world();
    w.add_all();
    deploy(&w.ctx, &[id("command:fix")], &w.p1, "default").unwrap();
    edit(&w.p1.join(".claude/commands/fix.md"), "Local edit.\n");
    let records = fs::read(skillmeat_core::storage::records::DeploymentFile::path_in(
        &w.p1,
    ))
    .unwrap();
    // The skill comes first and is fine; the command has local edits: neither is written.
    let err = deploy(
        &w.ctx,
        &[id("skill:review"), id("command:fix")],
        &w.p1,
        "default",
    )
    .unwrap_err();
    assert!(matches!(err, OpsError::LocalEdits { .. }), "{err}");
    assert!(!w.p1.join(".claude/skills/review").exists());
    assert_eq!(
        fs::read(skillmeat_core::storage::records::DeploymentFile::path_in(
            &w.p1
        ))
        .unwrap(),
        records
    );
}

#[test]
fn a_home_with_a_shared_database_uses_it_and_leaves_it_open() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("home");
    fs::create_dir_all(&root).unwrap();
    let file = dir.path().join("fix.md");
    edit(&file, "one\n");
    let db = block_on(skillmeat_core::storage::db::Database::open(
        &root.join("skillmeat.db"),
    ))
    .unwrap();
    let home = Home::new(&root).with_database(db.clone());
    let versions = block_on(Versions::open(&home)).unwrap();
    record(&versions, "command:fix", &file, ChangeOrigin::Sync, &[]);
    block_on(versions.close());
    // Closing the operation's handle left the shared database open, and the row is in it.
    assert!(!db.pool().is_closed());
    let rows: i64 = block_on(
        sqlx::query_scalar("SELECT COUNT(*) FROM artifact_versions").fetch_one(db.reads()),
    )
    .unwrap();
    assert_eq!(rows, 1);
    let read_only = block_on(Versions::open_read_only(&home)).unwrap().unwrap();
    assert_eq!(
        block_on(read_only.history(&id("command:fix")))
            .unwrap()
            .len(),
        1
    );
    block_on(read_only.close());
    assert!(!db.reads().is_closed());
}
