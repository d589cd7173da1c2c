//! Sync on real folders and real git repositories: every direction and artifact type, fast
//! forwards, merges, conflicts through resolution, binary and delete/modify clashes, pairs
//! without a base, rollback and locks.

use std::fs;
use std::path::Path;
use std::time::Duration;

use skillmeat_core::engine::drift::DriftStatus;
use skillmeat_core::engine::merge::{ConflictKind, FileAction};
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::hash;
use skillmeat_core::ops::conflicts::{self, Resolution};
use skillmeat_core::ops::sync::{self, Direction, Outcome, Strategy, SyncReport, SyncRequest};
use skillmeat_core::ops::{self, OpsError, Tier};
use skillmeat_core::storage::records::DeploymentFile;
use skillmeat_testutils::block_on;

use crate::scenarios::{World, deploy, edit, id, world};

fn run(
    w: &World,
    artifact: &str,
    direction: Direction,
    project: Option<&Path>,
    strategy: Strategy,
    dry_run: bool,
) -> Result<SyncReport, OpsError> {
    let artifact = id(artifact);
    block_on(sync::sync(
        &w.ctx,
        &SyncRequest {
            id: &artifact,
            direction,
            project,
            collection: "default",
            strategy,
            dry_run,
            on_phase: None,
            expect: None,
        },
    ))
}

fn to_project(w: &World, artifact: &str, strategy: Strategy) -> Result<SyncReport, OpsError> {
    run(
        w,
        artifact,
        Direction::CollectionToProject,
        Some(&w.p1),
        strategy,
        false,
    )
}

fn from_upstream(w: &World, artifact: &str, strategy: Strategy) -> Result<SyncReport, OpsError> {
    run(
        w,
        artifact,
        Direction::UpstreamToCollection,
        None,
        strategy,
        false,
    )
}

fn deployed_world() -> World {
    let w = world();
    w.add_all();
    deploy(&w.ctx, &w.ids(), &w.p1, "default").unwrap();
    w
}

/// The file of each artifact that tests edit, in the collection and in project 1.
fn main_file(artifact: &str) -> &'static str {
    match artifact {
        "skill:review" => "skills/review/SKILL.md",
        "command:fix" => "commands/fix.md",
        _ => "agents/planner.md",
    }
}

const ALL: [&str; 3] = ["skill:review", "command:fix", "agent:planner"];

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap()
}

fn project_file(w: &World, rel: &str) -> std::path::PathBuf {
    w.p1.join(".claude").join(rel)
}

#[test]
fn a_dry_run_plans_and_writes_nothing_then_a_fast_forward_applies() {
    let w = deployed_world();
    for artifact in ALL {
        let file = main_file(artifact);
        edit(
            &w.collection(file),
            "Line one.\nLine two.\nNew in the collection.\n",
        );
        let before = read(&project_file(&w, file));
        let records = fs::read(DeploymentFile::path_in(&w.p1)).unwrap();
        let plan = run(
            &w,
            artifact,
            Direction::CollectionToProject,
            Some(&w.p1),
            Strategy::Auto,
            true,
        )
        .unwrap();
        assert_eq!(plan.outcome, Outcome::FastForward, "{artifact}");
        assert!(!plan.applied);
        assert!(
            plan.files
                .iter()
                .any(|f| f.action == FileAction::FastForward)
        );
        assert_eq!(read(&project_file(&w, file)), before, "a dry run wrote");
        assert_eq!(fs::read(DeploymentFile::path_in(&w.p1)).unwrap(), records);

        let done = to_project(&w, artifact, Strategy::Auto).unwrap();
        assert!(done.applied, "{artifact}");
        assert_eq!(read(&project_file(&w, file)), read(&w.collection(file)));
    }
    let rows = w.drift();
    assert!(
        rows.iter()
            .filter(|r| r.1 == "collection-project")
            .all(|r| r.3 == DriftStatus::Synced),
        "{rows:?}"
    );
    // Nothing left to do.
    let again = to_project(&w, "skill:review", Strategy::Auto).unwrap();
    assert_eq!(again.outcome, Outcome::UpToDate);
}

#[test]
fn an_up_to_date_sync_clears_what_a_killed_install_left() {
    // A process killed after swapping the new version in, before removing its staging
    // folder: the re-run finds the target up to date and installs nothing.
    let w = deployed_world();
    let commands = w.p1.join(".claude/commands");
    let left = commands.join(".skillmeat-staging-fix.md-a1b2c3d4");
    let other = commands.join(".skillmeat-staging-fix.md-x-a1b2c3d4");
    for dir in [&left, &other] {
        fs::create_dir_all(dir.join("new")).unwrap();
        fs::write(dir.join("new/fix.md"), "half\n").unwrap();
    }
    let plan = run(
        &w,
        "command:fix",
        Direction::CollectionToProject,
        Some(&w.p1),
        Strategy::Auto,
        true,
    )
    .unwrap();
    assert_eq!(plan.outcome, Outcome::UpToDate);
    assert!(left.exists(), "a dry run removed files");
    let done = to_project(&w, "command:fix", Strategy::Auto).unwrap();
    assert_eq!(done.outcome, Outcome::UpToDate);
    assert!(
        !left.exists(),
        "the killed install's staging folder is still there"
    );
    assert!(
        other.exists(),
        "another artifact's staging name was taken for fix.md's"
    );
}

#[test]
fn a_three_way_merge_keeps_both_edits_for_every_type() {
    let w = deployed_world();
    for artifact in ALL {
        let file = main_file(artifact);
        let original = read(&w.collection(file));
        // A shared body of lines so the two edits are far apart.
        let body = "l1\nl2\nl3\nl4\nl5\nl6\n";
        edit(&w.collection(file), body);
        to_project(&w, artifact, Strategy::Auto).unwrap();
        edit(&project_file(&w, file), "l1 project\nl2\nl3\nl4\nl5\nl6\n");
        edit(&w.collection(file), "l1\nl2\nl3\nl4\nl5\nl6 collection\n");
        let report = to_project(&w, artifact, Strategy::Auto).unwrap();
        assert_eq!(report.outcome, Outcome::Merged, "{artifact}: {report:?}");
        assert_eq!(
            read(&project_file(&w, file)),
            "l1 project\nl2\nl3\nl4\nl5\nl6 collection\n",
            "{artifact}"
        );
        assert_ne!(original, body);
        // The project keeps an edit the collection does not have: modified, not synced.
        assert_eq!(
            w.status(artifact, "collection-project", 1),
            Some(DriftStatus::Modified)
        );
        // The merge result is a version with two parents.
        let history = block_on(ops::history(&w.ctx, &id(artifact), "default")).unwrap();
        let merged = history
            .versions
            .iter()
            .find(|v| v.change_origin == skillmeat_core::storage::versions::ChangeOrigin::Merge)
            .expect("a merge version");
        assert_eq!(merged.parent_hashes.len(), 2, "{merged:?}");
        assert_eq!(
            merged.content_hash,
            hash::hash_path(&ops::artifact_path(&w.p1.join(".claude"), &id(artifact))).unwrap()
        );
    }
}

#[test]
fn a_conflict_waits_for_resolution_and_then_applies() {
    let w = deployed_world();
    let skill = "skills/review/SKILL.md";
    let script = "skills/review/scripts/check.sh";
    edit(
        &project_file(&w, skill),
        "# Review\n\nLine one, project.\nLine two.\n",
    );
    edit(
        &w.collection(skill),
        "# Review\n\nLine one, collection.\nLine two.\n",
    );
    edit(&project_file(&w, script), "#!/bin/sh\nexit 1\n");
    edit(&w.collection(script), "#!/bin/sh\nexit 2\n");
    let project_before = hash::hash_path(&w.p1.join(".claude/skills/review")).unwrap();

    let report = to_project(&w, "skill:review", Strategy::Auto).unwrap();
    assert_eq!(report.outcome, Outcome::Conflict);
    assert!(!report.applied);
    let pending = report.pending.clone().unwrap();
    assert_eq!(
        hash::hash_path(&w.p1.join(".claude/skills/review")).unwrap(),
        project_before,
        "a conflicted merge touched the live target"
    );
    let markers = read(&pending.join("files/SKILL.md"));
    assert!(
        markers.contains("<<<<<<< project") && markers.contains("||||||| base"),
        "{markers}"
    );
    let records = DeploymentFile::load(&w.p1).unwrap();
    assert_eq!(
        records.get(&id("skill:review")).unwrap().pending_conflicts,
        ["SKILL.md", "scripts/check.sh"]
    );
    // Another sync of the artifact is refused while the merge is pending.
    assert!(matches!(
        to_project(&w, "skill:review", Strategy::Auto),
        Err(OpsError::PendingMerge { .. })
    ));

    let review = id("skill:review");
    let cont = || {
        block_on(conflicts::continue_merge(
            &w.ctx,
            &review,
            "default",
            Some(&w.p1),
        ))
    };
    match cont() {
        Err(OpsError::MarkersLeft { files, .. }) => {
            assert_eq!(files, "SKILL.md, scripts/check.sh")
        }
        other => panic!("continue must refuse: {other:?}"),
    }
    let resolve = |path: &str, r: Resolution| {
        block_on(conflicts::resolve_file(
            &w.ctx,
            &review,
            "default",
            Some(&w.p1),
            path,
            r,
        ))
    };
    // A custom resolution with markers left in it is refused.
    assert!(matches!(
        resolve("SKILL.md", Resolution::Custom(markers.clone().into_bytes())),
        Err(OpsError::MarkersLeft { .. })
    ));
    assert!(matches!(
        resolve("nope.md", Resolution::Ours),
        Err(OpsError::NotInMerge { .. })
    ));
    resolve(
        "SKILL.md",
        Resolution::Custom(b"# Review\n\nLine one, both.\nLine two.\n".to_vec()),
    )
    .unwrap();
    match cont() {
        Err(OpsError::MarkersLeft { files, .. }) => assert_eq!(files, "scripts/check.sh"),
        other => panic!("continue must refuse: {other:?}"),
    }
    let versions = block_on(skillmeat_core::storage::versions::Versions::open(
        &w.ctx.home,
    ))
    .unwrap();
    let left: String = block_on(
        sqlx::query_scalar("SELECT unresolved_files FROM conflict_records")
            .fetch_one(versions.database().pool()),
    )
    .unwrap();
    assert_eq!(
        left, r#"["scripts/check.sh"]"#,
        "the conflict record follows the resolution"
    );
    block_on(versions.close());
    resolve("scripts/check.sh", Resolution::Theirs).unwrap();
    let finished = cont().unwrap();
    assert_eq!(finished.resolution, "resolved");
    assert_eq!(
        read(&project_file(&w, skill)),
        "# Review\n\nLine one, both.\nLine two.\n"
    );
    assert_eq!(read(&project_file(&w, script)), "#!/bin/sh\nexit 2\n");
    assert!(!pending.exists());
    let record = DeploymentFile::load(&w.p1).unwrap();
    let record = record.get(&review).unwrap();
    assert!(record.pending_conflicts.is_empty());
    assert_eq!(
        record.merge_base_snapshot.as_deref(),
        Some(
            hash::hash_path(&w.collection("skills/review"))
                .unwrap()
                .to_hex()
                .as_str()
        ),
        "the collection's version is the new baseline"
    );
    // The exec bit of the resolved script survived.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(project_file(&w, script))
            .unwrap()
            .permissions()
            .mode();
        assert_ne!(mode & 0o111, 0, "exec bit lost");
    }
    // The conflict record says how it ended.
    let versions = block_on(skillmeat_core::storage::versions::Versions::open(
        &w.ctx.home,
    ))
    .unwrap();
    let row: (Option<String>, Option<String>) = block_on(
        sqlx::query_as("SELECT resolution, resolved_hash FROM conflict_records")
            .fetch_one(versions.database().pool()),
    )
    .unwrap();
    assert_eq!(row.0.as_deref(), Some("resolved"));
    assert_eq!(row.1, finished.result.map(|h| h.to_hex()));
}

#[test]
fn binary_and_delete_modify_clashes_are_never_merged() {
    let w = deployed_world();
    let bin = |s: &str| {
        let mut v = vec![0u8, 1, 2];
        v.extend_from_slice(s.as_bytes());
        v
    };
    fs::write(w.collection("skills/review/logo.png"), bin("base")).unwrap();
    to_project(&w, "skill:review", Strategy::Auto).unwrap();
    fs::write(project_file(&w, "skills/review/logo.png"), bin("project")).unwrap();
    fs::write(w.collection("skills/review/logo.png"), bin("collection")).unwrap();
    fs::remove_file(project_file(&w, "skills/review/scripts/check.sh")).unwrap();
    edit(
        &w.collection("skills/review/scripts/check.sh"),
        "#!/bin/sh\nexit 3\n",
    );

    let report = to_project(&w, "skill:review", Strategy::Auto).unwrap();
    assert_eq!(report.outcome, Outcome::Conflict);
    let kinds: Vec<_> = report
        .files
        .iter()
        .filter_map(|f| f.conflict.map(|c| (f.path.as_str(), f.action, c)))
        .collect();
    assert_eq!(
        kinds,
        [
            ("logo.png", FileAction::Binary, ConflictKind::Binary),
            (
                "scripts/check.sh",
                FileAction::Conflict,
                ConflictKind::DeletedByOurs
            ),
        ]
    );
    let review = id("skill:review");
    // Without markers these still need a decision.
    assert!(matches!(
        block_on(conflicts::continue_merge(
            &w.ctx,
            &review,
            "default",
            Some(&w.p1)
        )),
        Err(OpsError::MarkersLeft { .. })
    ));
    for (path, r) in [
        ("logo.png", Resolution::Theirs),
        ("scripts/check.sh", Resolution::Ours),
    ] {
        block_on(conflicts::resolve_file(
            &w.ctx,
            &review,
            "default",
            Some(&w.p1),
            path,
            r,
        ))
        .unwrap();
    }
    block_on(conflicts::continue_merge(
        &w.ctx,
        &review,
        "default",
        Some(&w.p1),
    ))
    .unwrap();
    assert_eq!(
        fs::read(project_file(&w, "skills/review/logo.png")).unwrap(),
        bin("collection")
    );
    assert!(
        !project_file(&w, "skills/review/scripts/check.sh").exists(),
        "resolving to ours keeps the deletion"
    );
}

#[test]
fn abort_leaves_everything_as_it_was() {
    let w = deployed_world();
    edit(&project_file(&w, "commands/fix.md"), "Mine.\n");
    edit(&w.collection("commands/fix.md"), "Theirs.\n");
    let report = to_project(&w, "command:fix", Strategy::Auto).unwrap();
    assert_eq!(report.outcome, Outcome::Conflict);
    let fix = id("command:fix");
    let done = block_on(conflicts::abort_merge(&w.ctx, &fix, "default", Some(&w.p1))).unwrap();
    assert_eq!(done.resolution, "aborted");
    assert!(!report.pending.unwrap().exists());
    assert_eq!(read(&project_file(&w, "commands/fix.md")), "Mine.\n");
    assert_eq!(
        w.status("command:fix", "collection-project", 1),
        Some(DriftStatus::Conflict)
    );
    assert!(matches!(
        block_on(conflicts::abort_merge(&w.ctx, &fix, "default", Some(&w.p1))),
        Err(OpsError::NoPendingMerge { .. })
    ));
}

#[test]
fn without_a_base_auto_refuses_and_only_a_choice_settles_it() {
    let w = deployed_world();
    // A record that lost its baseline, and copies that differ.
    let path = DeploymentFile::path_in(&w.p1);
    let mut records = DeploymentFile::load(&w.p1).unwrap();
    for r in &mut records.deployed {
        r.content_hash = None;
        r.merge_base_snapshot = None;
    }
    records.save(&w.p1).unwrap();
    edit(&project_file(&w, "agents/planner.md"), "Project plan.\n");
    let before = fs::read(&path).unwrap();
    let report = to_project(&w, "agent:planner", Strategy::Auto).unwrap();
    assert_eq!(report.outcome, Outcome::Diverged);
    assert!(!report.applied);
    assert_eq!(
        read(&project_file(&w, "agents/planner.md")),
        "Project plan.\n"
    );
    assert_eq!(fs::read(&path).unwrap(), before);

    let kept = to_project(&w, "agent:planner", Strategy::Ours).unwrap();
    assert_eq!(kept.outcome, Outcome::KeptTarget);
    assert_eq!(
        read(&project_file(&w, "agents/planner.md")),
        "Project plan.\n"
    );
    assert_eq!(
        w.status("agent:planner", "collection-project", 1),
        Some(DriftStatus::Modified),
        "after `ours` the collection's version is the base and the project is ahead"
    );
    let taken = to_project(&w, "agent:planner", Strategy::Theirs).unwrap();
    assert_eq!(taken.outcome, Outcome::Overwritten);
    assert_eq!(
        read(&project_file(&w, "agents/planner.md")),
        read(&w.collection("agents/planner.md"))
    );
}

#[test]
fn upstream_changes_merge_into_an_edited_collection() {
    let w = deployed_world();
    // The agent follows the default branch.
    w.up.write("agents/planner.md", "Plan the work.\nThen review it.\n");
    let new_commit = w.up.commit("planner v2");
    edit(
        &w.collection("agents/planner.md"),
        "Plan the work carefully.\n",
    );
    assert_eq!(
        w.status("agent:planner", "upstream-collection", 0),
        Some(DriftStatus::Conflict)
    );
    let report = from_upstream(&w, "agent:planner", Strategy::Auto).unwrap();
    assert_eq!(
        report.outcome,
        Outcome::Conflict,
        "same line edited on both sides"
    );
    let planner = id("agent:planner");
    block_on(conflicts::resolve_file(
        &w.ctx,
        &planner,
        "default",
        None,
        "planner.md",
        Resolution::Custom(b"Plan the work carefully.\nThen review it.\n".to_vec()),
    ))
    .unwrap();
    block_on(conflicts::continue_merge(&w.ctx, &planner, "default", None)).unwrap();
    let lock = skillmeat_core::storage::collection::Lock::load(
        &w.ctx.home.collection_dir("default").unwrap(),
    )
    .unwrap();
    let locked = lock.get(&planner).unwrap();
    assert_eq!(locked.commit, new_commit);
    assert_eq!(
        w.status("agent:planner", "upstream-collection", 0),
        Some(DriftStatus::Modified),
        "the upstream's version is the new base; the collection keeps its own line"
    );
    // A clean fast-forward for an untouched artifact.
    w.up.write("commands/fix.md", "Fix the bug.\nAdd a test.\n");
    w.up.commit("fix v2");
    w.up.tag("v2");
    let fix_spec_is_pinned = run(
        &w,
        "command:fix",
        Direction::UpstreamToCollection,
        None,
        Strategy::Auto,
        false,
    )
    .unwrap();
    assert_eq!(
        fix_spec_is_pinned.outcome,
        Outcome::UpToDate,
        "pinned at v1: the upstream's newer commits are not taken"
    );
}

#[test]
fn project_edits_are_captured_into_the_collection() {
    let w = deployed_world();
    edit(
        &project_file(&w, "commands/fix.md"),
        "Fix the bug properly.\n",
    );
    let report = run(
        &w,
        "command:fix",
        Direction::ProjectToCollection,
        Some(&w.p1),
        Strategy::Auto,
        false,
    )
    .unwrap();
    assert_eq!(report.outcome, Outcome::FastForward);
    assert_eq!(
        read(&w.collection("commands/fix.md")),
        "Fix the bug properly.\n"
    );
    assert_eq!(
        w.status("command:fix", "collection-project", 1),
        Some(DriftStatus::Synced)
    );
    assert_eq!(
        w.status("command:fix", "upstream-collection", 0),
        Some(DriftStatus::Modified)
    );
}

#[test]
fn rollback_restores_the_pre_sync_version_and_is_recorded() {
    let w = deployed_world();
    edit(&project_file(&w, "commands/fix.md"), "l1 project\nl2\n");
    edit(&w.collection("commands/fix.md"), "Fix the bug.\nl2\n");
    let report = to_project(&w, "command:fix", Strategy::Theirs).unwrap();
    let before = report.target.unwrap().to_hex();
    assert_eq!(
        read(&project_file(&w, "commands/fix.md")),
        "Fix the bug.\nl2\n"
    );
    let fix = id("command:fix");
    let back = block_on(ops::rollback(
        &w.ctx,
        &fix,
        "default",
        Some(&w.p1),
        &before[..10],
    ))
    .unwrap();
    assert!(back.changed);
    assert_eq!(
        read(&project_file(&w, "commands/fix.md")),
        "l1 project\nl2\n"
    );
    let history = block_on(ops::history(&w.ctx, &fix, "default")).unwrap();
    assert_eq!(history.events.len(), 1);
    assert_eq!(history.events[0].content_hash, before);
    assert_eq!(
        history.events[0].origin,
        skillmeat_core::storage::versions::ChangeOrigin::Rollback
    );
    // Unknown versions and unregistered projects are clear errors that write nothing.
    assert!(matches!(
        block_on(ops::rollback(
            &w.ctx,
            &fix,
            "default",
            Some(&w.p1),
            "deadbeef"
        )),
        Err(OpsError::Versions(_))
    ));
    assert!(matches!(
        block_on(ops::rollback(&w.ctx, &fix, "default", Some(&w.p2), &before)),
        Err(OpsError::NotRegistered { .. })
    ));
    assert!(matches!(
        run(
            &w,
            "command:fix",
            Direction::CollectionToProject,
            Some(&w.p2),
            Strategy::Auto,
            false
        ),
        Err(OpsError::NotRegistered { .. })
    ));
}

#[test]
fn a_locked_artifact_times_out_with_a_clear_message() {
    let mut w = deployed_world();
    edit(&w.collection("commands/fix.md"), "New.\n");
    let _held = ops::lock_tier(&w.ctx, &Tier::Project(w.p1.clone()), &id("command:fix")).unwrap();
    w.ctx.lock_timeout = Duration::from_millis(100);
    let err = to_project(&w, "command:fix", Strategy::Auto).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("is locked") && text.contains("pid"), "{text}");
    assert_ne!(read(&project_file(&w, "commands/fix.md")), "New.\n");
}

#[test]
fn every_artifact_id_must_exist() {
    let w = deployed_world();
    let err = run(
        &w,
        "skill:nope",
        Direction::CollectionToProject,
        Some(&w.p1),
        Strategy::Auto,
        false,
    )
    .unwrap_err();
    assert!(matches!(err, OpsError::NotInCollection { .. }), "{err}");
    let _: ArtifactId = id("skill:review");
}

/// A tier of the test world, for writing and reading an artifact's main file.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Side {
    Upstream,
    Collection,
    Project,
}

fn side_path(w: &World, side: Side, artifact: &str) -> std::path::PathBuf {
    let rel = main_file(artifact);
    match side {
        Side::Upstream => w.up.path().join(rel),
        Side::Collection => w.collection(rel),
        Side::Project => project_file(w, rel),
    }
}

fn write_side(w: &World, side: Side, artifact: &str, text: &str) {
    if side == Side::Upstream {
        w.up.write(main_file(artifact), text);
        w.up.commit(&format!("{artifact}: {text}"));
    } else {
        edit(&side_path(w, side, artifact), text);
    }
}

#[test]
fn every_direction_and_type_fast_forwards_merges_and_settles_conflicts() {
    let w = world();
    for spec in ["#skills/review", "#commands/fix.md", "#agents/planner.md"] {
        crate::scenarios::add(&w.ctx, &w.spec(spec), None, None, "default").unwrap();
    }
    deploy(&w.ctx, &w.ids(), &w.p1, "default").unwrap();
    let directions = [
        (
            Direction::UpstreamToCollection,
            Side::Upstream,
            Side::Collection,
        ),
        (
            Direction::CollectionToProject,
            Side::Collection,
            Side::Project,
        ),
        (
            Direction::ProjectToCollection,
            Side::Project,
            Side::Collection,
        ),
    ];
    for (direction, source, target) in directions {
        for (n, artifact) in ALL.into_iter().enumerate() {
            let ctx = format!("{direction} {artifact}");
            let project = direction.needs_project().then_some(w.p1.as_path());
            let go = |strategy| run(&w, artifact, direction, project, strategy, false).unwrap();
            // Start from agreement: the target takes the source as it is.
            let settle = go(Strategy::Theirs);
            assert!(
                matches!(
                    settle.outcome,
                    Outcome::Overwritten | Outcome::UpToDate | Outcome::FastForward
                ),
                "{ctx}: {settle:?}"
            );

            // 1. Only the source moves: a fast-forward.
            write_side(&w, source, artifact, "l1\nl2\nl3\nl4\nl5\nl6\n");
            assert_eq!(go(Strategy::Auto).outcome, Outcome::FastForward, "{ctx}");
            assert_eq!(
                read(&side_path(&w, target, artifact)),
                "l1\nl2\nl3\nl4\nl5\nl6\n",
                "{ctx}"
            );

            // 2. Both move, apart: a clean merge keeping both edits.
            write_side(&w, target, artifact, "l1 target\nl2\nl3\nl4\nl5\nl6\n");
            write_side(&w, source, artifact, "l1\nl2\nl3\nl4\nl5\nl6 source\n");
            assert_eq!(go(Strategy::Auto).outcome, Outcome::Merged, "{ctx}");
            assert_eq!(
                read(&side_path(&w, target, artifact)),
                "l1 target\nl2\nl3\nl4\nl5\nl6 source\n",
                "{ctx}"
            );

            // 3. Both change the same line: pending, resolved three different ways, applied.
            write_side(
                &w,
                target,
                artifact,
                "l1 target\nl2\nl3 target\nl4\nl5\nl6 source\n",
            );
            write_side(
                &w,
                source,
                artifact,
                "l1\nl2\nl3 source\nl4\nl5\nl6 source\n",
            );
            let report = go(Strategy::Auto);
            assert_eq!(report.outcome, Outcome::Conflict, "{ctx}");
            let file = report
                .files
                .iter()
                .find(|f| f.action == FileAction::Conflict)
                .unwrap()
                .path
                .clone();
            let (resolution, expected) = match n {
                0 => (
                    Resolution::Ours,
                    "l1 target\nl2\nl3 target\nl4\nl5\nl6 source\n",
                ),
                1 => (Resolution::Theirs, "l1\nl2\nl3 source\nl4\nl5\nl6 source\n"),
                _ => (
                    Resolution::Custom(b"l1 target\nl2\nl3 both\nl4\nl5\nl6 source\n".to_vec()),
                    "l1 target\nl2\nl3 both\nl4\nl5\nl6 source\n",
                ),
            };
            let id = id(artifact);
            block_on(conflicts::resolve_file(
                &w.ctx, &id, "default", project, &file, resolution,
            ))
            .unwrap();
            block_on(conflicts::continue_merge(&w.ctx, &id, "default", project)).unwrap();
            assert_eq!(read(&side_path(&w, target, artifact)), expected, "{ctx}");
        }
    }
}

/// A pending merge's `merge.toml` whose direction, strategy or versions this version cannot read
/// (edited by hand, or written by a newer SkillMeat) is a clear error naming the file, for every
/// command that reads pending merges: never guessed at, never skipped (a skipped merge would let
/// a sync overwrite the copy the merge is about), and nothing is written.
#[test]
fn a_pending_merge_that_cannot_be_read_is_an_error_naming_its_file() {
    let w = deployed_world();
    let planner = id("agent:planner");
    let file = main_file("agent:planner");
    edit(&w.collection(file), "Plan the work.\nCollection line.\n");
    edit(
        &w.p1.join(".claude").join(file),
        "Plan the work.\nProject line.\n",
    );
    let r = run(
        &w,
        "agent:planner",
        Direction::CollectionToProject,
        Some(&w.p1),
        Strategy::Auto,
        false,
    )
    .unwrap();
    assert_eq!(r.outcome, Outcome::Conflict);
    let merge = conflicts::find(&w.ctx.home, &planner, "default", Some(&w.p1))
        .unwrap()
        .unwrap();
    let toml_path = merge.dir.join("merge.toml");
    let good = std::fs::read_to_string(&toml_path).unwrap();
    assert!(
        good.contains("direction = \"collection-to-project\""),
        "{good}"
    );
    assert!(
        good.contains(&format!("theirs = \"{}\"", merge.theirs.to_hex())),
        "{good}"
    );
    let project_copy = read(&w.p1.join(".claude").join(file));
    for (what, bad) in [
        (
            "direction",
            good.replace("collection-to-project", "sideways"),
        ),
        (
            "strategy",
            good.replace("strategy = \"auto\"", "strategy = \"prompt\""),
        ),
        ("hash", good.replace(&merge.theirs.to_hex(), "not-a-hash")),
    ] {
        assert_ne!(bad, good, "{what}: the replacement found nothing");
        std::fs::write(&toml_path, &bad).unwrap();
        let err = conflicts::find(&w.ctx.home, &planner, "default", Some(&w.p1)).unwrap_err();
        assert!(err.to_string().contains("merge.toml"), "{what}: {err}");
        let err = run(
            &w,
            "agent:planner",
            Direction::CollectionToProject,
            Some(&w.p1),
            Strategy::Theirs,
            false,
        )
        .unwrap_err();
        assert!(err.to_string().contains("merge.toml"), "{what}: {err}");
        assert_eq!(
            read(&w.p1.join(".claude").join(file)),
            project_copy,
            "{what}"
        );
    }
    std::fs::write(&toml_path, &good).unwrap();
    assert!(
        conflicts::find(&w.ctx.home, &planner, "default", Some(&w.p1))
            .unwrap()
            .is_some()
    );
}

/// A pending merge belongs to one pair of tiers and blocks only that pair: merges kept for two
/// projects block neither the upstream's sync into the collection nor a rollback of the
/// collection, but do block their own project's syncs; an abort puts the project's record back
/// to what its copy says; a later deploy sync brings the record's upstream fields up to date.
#[test]
fn a_pending_merge_blocks_only_its_own_pair() {
    let w = deployed_world();
    let planner = id("agent:planner");
    deploy(&w.ctx, std::slice::from_ref(&planner), &w.p2, "default").unwrap();
    let file = main_file("agent:planner");
    edit(&w.collection(file), "Plan the work.\nCollection line.\n");
    for p in [&w.p1, &w.p2] {
        edit(
            &p.join(".claude").join(file),
            "Plan the work.\nProject line.\n",
        );
        let r = run(
            &w,
            "agent:planner",
            Direction::CollectionToProject,
            Some(p),
            Strategy::Auto,
            false,
        )
        .unwrap();
        assert_eq!(r.outcome, Outcome::Conflict);
        let records = DeploymentFile::load(p).unwrap();
        assert_eq!(
            records.get(&planner).unwrap().sync_status,
            skillmeat_core::storage::records::RecordedStatus::Conflict
        );
    }
    let collection_before = hash::hash_path(&w.collection(file)).unwrap().to_hex();

    // The upstream moves: its sync into the collection is not the projects' business.
    w.up.write(file, "Upstream first.\nPlan the work.\n");
    let v2 = w.up.commit("v2");
    let r = from_upstream(&w, "agent:planner", Strategy::Auto).unwrap();
    assert_eq!(r.outcome, Outcome::Merged, "{r:?}");
    assert_eq!(
        read(&w.collection(file)),
        "Upstream first.\nPlan the work.\nCollection line.\n"
    );
    // Nor is a rollback of the collection.
    let back = block_on(ops::rollback(
        &w.ctx,
        &planner,
        "default",
        None,
        &collection_before,
    ))
    .unwrap();
    assert!(back.changed);
    // Their own pair stays blocked, either way.
    for direction in [
        Direction::CollectionToProject,
        Direction::ProjectToCollection,
    ] {
        assert!(
            matches!(
                run(
                    &w,
                    "agent:planner",
                    direction,
                    Some(&w.p1),
                    Strategy::Auto,
                    false
                ),
                Err(OpsError::PendingMerge { .. })
            ),
            "{direction}"
        );
    }

    // Abort in p1: the record no longer says `conflict`; the copy has edits, so `modified`.
    block_on(conflicts::abort_merge(
        &w.ctx,
        &planner,
        "default",
        Some(&w.p1),
    ))
    .unwrap();
    let record = DeploymentFile::load(&w.p1)
        .unwrap()
        .get(&planner)
        .unwrap()
        .clone();
    assert_eq!(
        record.sync_status,
        skillmeat_core::storage::records::RecordedStatus::Modified
    );
    assert!(record.pending_conflicts.is_empty());
    // p2's merge is still there, and still its own.
    assert!(
        conflicts::find(&w.ctx.home, &planner, "default", Some(&w.p2))
            .unwrap()
            .is_some()
    );

    // Into p1 again, taking the collection's (tagged) version: the record follows the lock.
    let r = from_upstream(&w, "agent:planner", Strategy::Theirs).unwrap();
    assert!(r.applied, "{r:?}");
    block_on(ops::tag(
        &w.ctx, &planner, "default", "golden-2", None, false, false,
    ))
    .unwrap();
    let r = run(
        &w,
        "agent:planner",
        Direction::CollectionToProject,
        Some(&w.p1),
        Strategy::Theirs,
        false,
    )
    .unwrap();
    assert!(r.applied, "{r:?}");
    let lock = skillmeat_core::storage::collection::Lock::load(
        &w.ctx.home.collection_dir("default").unwrap(),
    )
    .unwrap();
    let locked = lock.get(&planner).unwrap();
    assert_eq!(locked.commit, v2);
    let record = DeploymentFile::load(&w.p1)
        .unwrap()
        .get(&planner)
        .unwrap()
        .clone();
    assert_eq!(record.upstream_sha.as_deref(), Some(v2.as_str()));
    assert_eq!(record.upstream_ref.as_deref(), Some("latest"));
    assert_eq!(
        record.last_upstream_check.as_deref(),
        Some(locked.fetched_at.as_str())
    );
    assert_eq!(record.version_tag.as_deref(), Some("golden-2"));
    assert_eq!(
        record.sync_status,
        skillmeat_core::storage::records::RecordedStatus::Synced
    );
}

/// Killed after installing an upstream version but before moving the baseline, the rerun finds
/// the copy already at that version. It must still move the baseline: otherwise the next merge
/// uses the older base, and a change the upstream then reverts comes back.
#[test]
fn a_copy_already_at_the_source_moves_the_baseline_so_a_revert_is_not_undone() {
    let w = deployed_world();
    let planner = id("agent:planner");
    let file = main_file("agent:planner");
    w.up.write(file, "Plan the work.\nStep two.\n");
    let v2 = w.up.commit("v2");
    // What a sync killed between its install and its baseline leaves: the new copy, the old lock.
    edit(&w.collection(file), "Plan the work.\nStep two.\n");
    let r = from_upstream(&w, "agent:planner", Strategy::Auto).unwrap();
    assert_eq!(r.outcome, Outcome::UpToDate);
    let lock = skillmeat_core::storage::collection::Lock::load(
        &w.ctx.home.collection_dir("default").unwrap(),
    )
    .unwrap();
    assert_eq!(
        lock.get(&planner).unwrap().commit,
        v2,
        "the baseline caught up"
    );

    // The upstream reverts step two: the collection follows it.
    w.up.write(file, "Plan the work.\n");
    w.up.commit("v3: revert");
    let r = from_upstream(&w, "agent:planner", Strategy::Auto).unwrap();
    assert_eq!(r.outcome, Outcome::FastForward, "{r:?}");
    assert_eq!(read(&w.collection(file)), "Plan the work.\n");

    // The same into a project: a copy already at the collection's version moves its record.
    edit(&project_file(&w, file), "Plan the work.\n");
    let r = to_project(&w, "agent:planner", Strategy::Auto).unwrap();
    assert_eq!(r.outcome, Outcome::UpToDate);
    let record = DeploymentFile::load(&w.p1)
        .unwrap()
        .get(&planner)
        .unwrap()
        .clone();
    let collection_hash = hash::hash_path(&w.collection(file)).unwrap().to_hex();
    assert_eq!(
        record.content_hash.as_deref(),
        Some(collection_hash.as_str())
    );
}
