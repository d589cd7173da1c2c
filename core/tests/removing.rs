//! `remove` and `undeploy` on real folders: refused while deployed, with local edits or with a
//! merge pending (nothing written then), forced with the edits recorded first, logged, and
//! finished by a rerun after a kill between the files and the records.

use std::fs;

use skillmeat_core::model::hash;
use skillmeat_core::ops::{self, OpsError};
use skillmeat_core::storage::collection::{Lock, Manifest};
use skillmeat_core::storage::events::{EventFilter, EventKind};
use skillmeat_core::storage::records::DeploymentFile;
use skillmeat_testutils::block_on;

use crate::scenarios::{deploy, edit, id, world};

const ALL: [(&str, &str); 3] = [
    ("skill:review", "skills/review"),
    ("command:fix", "commands/fix.md"),
    ("agent:planner", "agents/planner.md"),
];

fn remove(
    w: &crate::scenarios::World,
    artifact: &str,
    undeploy: bool,
    force: bool,
) -> Result<ops::Removed, OpsError> {
    block_on(ops::remove(
        &w.ctx,
        &id(artifact),
        "default",
        undeploy,
        force,
    ))
}

fn undeploy(
    w: &crate::scenarios::World,
    artifact: &str,
    project: &std::path::Path,
    force: bool,
) -> Result<ops::UndeployReport, OpsError> {
    block_on(ops::undeploy(
        &w.ctx,
        &[id(artifact)],
        project,
        "default",
        force,
    ))
}

fn events(w: &crate::scenarios::World, kind: EventKind) -> Vec<String> {
    block_on(ops::log(
        &w.ctx,
        &EventFilter {
            kinds: vec![kind],
            limit: 100,
            ..EventFilter::default()
        },
    ))
    .unwrap()
    .events
    .into_iter()
    .map(|e| format!("{} {}", e.artifact_id, e.place()))
    .collect()
}

#[test]
fn remove_is_refused_while_deployed_and_takes_every_copy_out_with_undeploy() {
    let w = world();
    w.add_all();
    for p in [&w.p1, &w.p2] {
        deploy(&w.ctx, &w.ids(), p, "default").unwrap();
    }
    let dir = w.ctx.home.collection_dir("default").unwrap();
    let manifest_before = fs::read(dir.join("collection.toml")).unwrap();
    for (artifact, rel) in ALL {
        let err = remove(&w, artifact, false, false).unwrap_err();
        assert!(matches!(err, OpsError::StillDeployed { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("p1") && text.contains("p2"), "{text}");
        assert!(w.collection(rel).exists());
    }
    assert_eq!(
        fs::read(dir.join("collection.toml")).unwrap(),
        manifest_before
    );

    for (artifact, rel) in ALL {
        let held = hash::hash_path(&w.collection(rel)).unwrap();
        let done = remove(&w, artifact, true, false).unwrap();
        assert_eq!(done.undeployed.len(), 2, "{artifact}");
        assert_eq!(done.content_hash, Some(held));
        assert!(!w.collection(rel).exists(), "{artifact}");
        for p in [&w.p1, &w.p2] {
            assert!(!p.join(".claude").join(rel).exists(), "{artifact}");
            assert!(
                DeploymentFile::load(p)
                    .unwrap()
                    .get(&id(artifact))
                    .is_none()
            );
        }
        assert!(Manifest::load(&dir).unwrap().get(&id(artifact)).is_none());
        assert!(Lock::load(&dir).unwrap().get(&id(artifact)).is_none());
        // Its versions stay: the one it held is in the history.
        let history = block_on(ops::history(&w.ctx, &id(artifact), "default")).unwrap();
        assert!(
            history.versions.iter().any(|v| v.content_hash == held),
            "{artifact}"
        );
        assert_eq!(history.current, None);
        // No staging folder is left behind.
        let parent = w.collection(rel).parent().unwrap().to_owned();
        let leftovers: Vec<_> = fs::read_dir(&parent)
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".skillmeat-staging")
            })
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
    assert_eq!(events(&w, EventKind::Remove).len(), 3);
    assert_eq!(events(&w, EventKind::Undeploy).len(), 6);
    // Gone means gone: a second remove says so, and the id can be added again.
    let err = remove(&w, "skill:review", false, false).unwrap_err();
    assert!(matches!(err, OpsError::NotInCollection { .. }), "{err}");
    w.add_all();
    deploy(&w.ctx, &w.ids(), &w.p1, "default").unwrap();
}

#[test]
fn undeploy_refuses_local_edits_unless_forced_and_then_records_them_first() {
    let w = world();
    w.add_all();
    deploy(&w.ctx, &w.ids(), &w.p1, "default").unwrap();
    let main = |artifact: &str| match artifact {
        "skill:review" => "skills/review/SKILL.md",
        "command:fix" => "commands/fix.md",
        _ => "agents/planner.md",
    };
    for (artifact, rel) in ALL {
        let copy = w.p1.join(".claude").join(main(artifact));
        edit(&copy, "My own edit.\n");
        let records_before = fs::read(DeploymentFile::path_in(&w.p1)).unwrap();
        let err = undeploy(&w, artifact, &w.p1, false).unwrap_err();
        assert!(matches!(err, OpsError::UndeployEdits { .. }), "{err}");
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(fs::read_to_string(&copy).unwrap(), "My own edit.\n");
        assert_eq!(
            fs::read(DeploymentFile::path_in(&w.p1)).unwrap(),
            records_before
        );
        // `remove --undeploy` is refused the same way, and removes nothing.
        let err = remove(&w, artifact, true, false).unwrap_err();
        assert!(matches!(err, OpsError::UndeployEdits { .. }), "{err}");
        assert!(w.collection(rel).exists());

        let edited = hash::hash_path(&w.p1.join(".claude").join(rel)).unwrap();
        let done = undeploy(&w, artifact, &w.p1, true).unwrap();
        assert!(done.undeployed[0].local_edits);
        assert!(!w.p1.join(".claude").join(rel).exists());
        // The edits are in the version store, so nothing is lost.
        let history = block_on(ops::history(&w.ctx, &id(artifact), "default")).unwrap();
        assert!(
            history.versions.iter().any(|v| v.content_hash == edited),
            "{artifact}: the edits were not recorded"
        );
        // The collection keeps it, and it can be deployed again.
        assert!(w.collection(rel).exists());
    }
    let log = block_on(ops::log(
        &w.ctx,
        &EventFilter {
            kinds: vec![EventKind::Undeploy],
            limit: 10,
            ..EventFilter::default()
        },
    ))
    .unwrap();
    assert!(log.events[0].summary().contains("local edits recorded"));
    deploy(&w.ctx, &w.ids(), &w.p1, "default").unwrap();
    // Not deployed: a clear refusal.
    let err = undeploy(&w, "skill:review", &w.p2, false).unwrap_err();
    assert!(matches!(err, OpsError::NotDeployed { .. }), "{err}");
}

#[test]
fn a_pending_merge_blocks_both_and_a_rerun_finishes_a_killed_remove() {
    let w = world();
    w.add_all();
    deploy(&w.ctx, &w.ids(), &w.p1, "default").unwrap();
    edit(
        &w.collection("commands/fix.md"),
        "Fix the bug, collection.\n",
    );
    edit(
        &w.p1.join(".claude/commands/fix.md"),
        "Fix the bug, project.\n",
    );
    let fix = id("command:fix");
    let r = block_on(ops::sync::sync(
        &w.ctx,
        &ops::sync::SyncRequest {
            id: &fix,
            direction: ops::sync::Direction::CollectionToProject,
            project: Some(&w.p1),
            collection: "default",
            strategy: ops::sync::Strategy::Auto,
            dry_run: false,
            on_phase: None,
            expect: None,
        },
    ))
    .unwrap();
    assert!(r.has_conflict());
    let err = undeploy(&w, "command:fix", &w.p1, true).unwrap_err();
    assert!(matches!(err, OpsError::PendingMerge { .. }), "{err}");
    let err = remove(&w, "command:fix", true, true).unwrap_err();
    assert!(matches!(err, OpsError::PendingMerge { .. }), "{err}");
    assert!(w.p1.join(".claude/commands/fix.md").exists());

    // As if killed after the files went but before the records: the rerun finishes it.
    block_on(ops::undeploy(
        &w.ctx,
        &[id("agent:planner")],
        &w.p1,
        "default",
        false,
    ))
    .unwrap();
    fs::remove_file(w.collection("agents/planner.md")).unwrap();
    let done = remove(&w, "agent:planner", false, false).unwrap();
    assert_eq!(done.content_hash, None);
    let dir = w.ctx.home.collection_dir("default").unwrap();
    assert!(
        Manifest::load(&dir)
            .unwrap()
            .get(&id("agent:planner"))
            .is_none()
    );
}
