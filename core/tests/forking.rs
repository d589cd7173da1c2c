//! The `fork` strategy on real folders and a real git upstream: in every direction and for every
//! artifact type, the target keeps its version and the source's lands beside it as
//! `<name>-fork`, recorded in the collection with the original's upstream; a pending merge can
//! be settled by a fork; a fork can be updated from the upstream later, and a rerun reuses the
//! fork it already made.

use std::fs;
use std::path::{Path, PathBuf};

use skillmeat_core::engine::drift::DriftStatus;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::hash;
use skillmeat_core::ops::conflicts;
use skillmeat_core::ops::sync::{self, Direction, Outcome, Strategy, SyncReport, SyncRequest};
use skillmeat_core::ops::{self, OpsError};
use skillmeat_core::storage::collection::{Lock, Manifest};
use skillmeat_core::storage::events::{EventFilter, EventKind};
use skillmeat_core::storage::records::DeploymentFile;
use skillmeat_testutils::block_on;

use crate::scenarios::{World, add, deploy, edit, id, world};

/// Each artifact with its main file (relative to a tier's root) and its first text. The skill and
/// the agent have the frontmatter Claude Code reads their names from.
const KINDS: [(&str, &str, &str); 3] = [
    (
        "skill:pdf",
        "skills/pdf/SKILL.md",
        "---\nname: pdf\ndescription: Reads PDFs.\n---\n# PDF\n\nLine one.\nLine two.\nLine three.\n",
    ),
    (
        "command:fix",
        "commands/fix.md",
        "Fix the bug.\n\nLine one.\nLine two.\nLine three.\n",
    ),
    (
        "agent:planner",
        "agents/planner.md",
        "---\nname: planner\ndescription: Plans work.\nmodel: sonnet\n---\nLine one.\nLine two.\nLine three.\n",
    ),
];

/// A world whose upstream holds the three artifacts above, each added following the default
/// branch (so upstream commits reach them).
fn fork_world() -> World {
    let w = world();
    for (_, rel, text) in KINDS {
        w.up.write(rel, text);
    }
    w.up.commit("frontmatter");
    for (artifact, rel, _) in KINDS {
        let path = rel.strip_suffix("/SKILL.md").unwrap_or(rel);
        let name = id(artifact).name.to_string();
        add(
            &w.ctx,
            &w.spec(&format!("#{path}")),
            None,
            Some(name.as_str()),
            "forks",
        )
        .unwrap();
    }
    w
}

fn ids() -> Vec<ArtifactId> {
    KINDS.iter().map(|(a, _, _)| id(a)).collect()
}

fn collection(w: &World, rel: &str) -> PathBuf {
    w.ctx.home.collection_dir("forks").unwrap().join(rel)
}

fn run(
    w: &World,
    artifact: &ArtifactId,
    direction: Direction,
    project: Option<&Path>,
    strategy: Strategy,
    dry_run: bool,
) -> Result<SyncReport, OpsError> {
    block_on(sync::sync(
        &w.ctx,
        &SyncRequest {
            id: artifact,
            direction,
            project,
            collection: "forks",
            strategy,
            dry_run,
            on_phase: None,
            expect: None,
        },
    ))
}

/// `rel` (a main file) as the fork `name` has it: a command's or agent's file renamed.
fn fork_rel(rel: &str, original: &str, fork: &str) -> String {
    if rel.ends_with("/SKILL.md") {
        rel.replacen(&format!("/{original}/"), &format!("/{fork}/"), 1)
    } else {
        rel.replacen(&format!("/{original}.md"), &format!("/{fork}.md"), 1)
    }
}

/// What a fork of `text` holds: its frontmatter `name` (when it has one) is the fork's.
fn renamed(text: &str, original: &str, fork: &str) -> String {
    text.replacen(
        &format!("name: {original}\n"),
        &format!("name: {fork}\n"),
        1,
    )
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap()
}

fn drift_status(w: &World, artifact: &str, pair: &str, project: Option<&Path>) -> DriftStatus {
    let projects: Vec<PathBuf> = project.map(Path::to_owned).into_iter().collect();
    let rows = ops::drift(&w.ctx, "forks", &projects, true).unwrap();
    rows.rows
        .into_iter()
        .find(|r| r.id.to_string() == artifact && r.pair == pair)
        .unwrap_or_else(|| panic!("no {pair} row for {artifact}"))
        .status
}

#[test]
fn an_upstream_fork_keeps_the_collection_and_adds_the_upstream_version_beside_it() {
    let w = fork_world();
    for (_, rel, text) in KINDS {
        edit(
            &collection(&w, rel),
            &text.replace("Line one.", "Line one, ours."),
        );
        w.up.write(rel, &text.replace("Line one.", "Line one, upstream's."));
    }
    w.up.commit("upstream edits line one");

    for (artifact, rel, text) in KINDS {
        let original = id(artifact);
        let name = original.name.to_string();
        let fork_name = format!("{name}-fork");
        let fork_id = id(&format!("{}:{fork_name}", original.kind));
        let ours = text.replace("Line one.", "Line one, ours.");
        let theirs = text.replace("Line one.", "Line one, upstream's.");

        // The plan names the fork and writes nothing.
        let plan = run(
            &w,
            &original,
            Direction::UpstreamToCollection,
            None,
            Strategy::Fork,
            true,
        )
        .unwrap();
        assert_eq!(plan.outcome, Outcome::Forked, "{artifact}");
        assert_eq!(plan.fork.as_ref(), Some(&fork_id), "{artifact}");
        let fork_file = collection(&w, &fork_rel(rel, &name, &fork_name));
        assert!(!fork_file.exists(), "{artifact}: a dry run wrote the fork");

        let done = run(
            &w,
            &original,
            Direction::UpstreamToCollection,
            None,
            Strategy::Fork,
            false,
        )
        .unwrap();
        assert!(done.applied, "{artifact}");
        assert_eq!(done.fork.as_ref(), Some(&fork_id));
        assert_eq!(
            read(&collection(&w, rel)),
            ours,
            "{artifact}: the target changed"
        );
        assert_eq!(
            read(&fork_file),
            renamed(&theirs, &name, &fork_name),
            "{artifact}: the fork is not the upstream's version under its own name"
        );

        // In the collection with the original's upstream, and a lock entry of its own.
        let dir = w.ctx.home.collection_dir("forks").unwrap();
        let manifest = Manifest::load(&dir).unwrap();
        assert_eq!(
            manifest.get(&fork_id).unwrap().upstream,
            manifest.get(&original).unwrap().upstream
        );
        let lock = Lock::load(&dir).unwrap();
        let (o, f) = (lock.get(&original).unwrap(), lock.get(&fork_id).unwrap());
        assert_eq!((&o.path, &o.commit), (&f.path, &f.commit), "{artifact}");
        // The original's baseline moved to the upstream's version, as with `ours`.
        assert_eq!(o.content_hash, done.source.to_hex());
    }

    // Drift: the originals keep their edits against the new upstream; the forks of the skill and
    // the agent differ from the upstream by their rename only, the command's not at all.
    for (artifact, _, _) in KINDS {
        assert_eq!(
            drift_status(&w, artifact, "upstream-collection", None),
            DriftStatus::Modified,
            "{artifact}"
        );
    }
    assert_eq!(
        drift_status(&w, "command:fix-fork", "upstream-collection", None),
        DriftStatus::Synced
    );
    assert_eq!(
        drift_status(&w, "skill:pdf-fork", "upstream-collection", None),
        DriftStatus::Modified
    );

    // The fork follows the upstream like any artifact: the next upstream change merges with
    // its rename (it has a base), or fast-forwards the command.
    for (_, rel, text) in KINDS {
        let next = text
            .replace("Line one.", "Line one, upstream's.")
            .replace("Line three.", "Line three, later.");
        w.up.write(rel, &next);
    }
    w.up.commit("upstream edits line three");
    for (artifact, rel, text) in KINDS {
        let original = id(artifact);
        let name = original.name.to_string();
        let fork_name = format!("{name}-fork");
        let fork_id = id(&format!("{}:{fork_name}", original.kind));
        let report = run(
            &w,
            &fork_id,
            Direction::UpstreamToCollection,
            None,
            Strategy::Auto,
            false,
        )
        .unwrap();
        let expected = if artifact == "command:fix" {
            Outcome::FastForward
        } else {
            Outcome::Merged
        };
        assert_eq!(report.outcome, expected, "{artifact}: {report:?}");
        let next = text
            .replace("Line one.", "Line one, upstream's.")
            .replace("Line three.", "Line three, later.");
        assert_eq!(
            read(&collection(&w, &fork_rel(rel, &name, &fork_name))),
            renamed(&next, &name, &fork_name),
            "{artifact}"
        );
    }

    // Recorded: the fork's first version descends from the original's source version, and
    // both the original's sync and the fork's making are in the log.
    let hist = block_on(ops::history(&w.ctx, &id("agent:planner-fork"), "forks")).unwrap();
    assert!(
        hist.versions
            .iter()
            .any(|v| v.metadata["forked_from"] == "agent:planner"),
        "{:?}",
        hist.versions
    );
    let log = block_on(ops::log(
        &w.ctx,
        &EventFilter {
            artifact: Some(id("skill:pdf")),
            kinds: vec![EventKind::Sync],
            limit: 10,
            ..EventFilter::default()
        },
    ))
    .unwrap();
    let forked = log
        .events
        .iter()
        .find(|e| e.strategy.as_deref() == Some("fork"))
        .expect("no fork sync logged");
    assert_eq!(forked.outcome.as_deref(), Some("forked"));
    assert_eq!(forked.detail["fork"], "skill:pdf-fork");
    let made = block_on(ops::log(
        &w.ctx,
        &EventFilter {
            artifact: Some(id("skill:pdf-fork")),
            limit: 10,
            ..EventFilter::default()
        },
    ))
    .unwrap();
    assert!(
        made.events
            .iter()
            .any(|e| e.detail["forked_from"] == "skill:pdf"),
        "{:?}",
        made.events
    );
}

#[test]
fn fork_takes_the_source_where_only_the_source_moved_and_the_next_free_name_when_taken() {
    let w = fork_world();
    deploy(&w.ctx, &ids(), &w.p1, "forks").unwrap();
    // Only the collection moved: nothing of the project's to keep, so it fast-forwards.
    for (_, rel, text) in KINDS {
        edit(
            &collection(&w, rel),
            &text.replace("Line two.", "Line two, v2."),
        );
    }
    for artifact in ids() {
        let r = run(
            &w,
            &artifact,
            Direction::CollectionToProject,
            Some(&w.p1),
            Strategy::Fork,
            false,
        )
        .unwrap();
        assert_eq!(r.outcome, Outcome::FastForward, "{artifact}");
        assert_eq!(r.fork, None);
    }
    // Both moved, twice: the second fork is `-fork-2`, the first left as it was.
    for round in 1..=2 {
        for (_, rel, text) in KINDS {
            edit(
                &w.p1.join(".claude").join(rel),
                &text.replace("Line three.", &format!("Line three, project {round}.")),
            );
            edit(
                &collection(&w, rel),
                &text.replace("Line one.", &format!("Line one, collection {round}.")),
            );
        }
        for (artifact, rel, text) in KINDS {
            let original = id(artifact);
            let name = original.name.to_string();
            let fork_name = match round {
                1 => format!("{name}-fork"),
                n => format!("{name}-fork-{n}"),
            };
            let r = run(
                &w,
                &original,
                Direction::CollectionToProject,
                Some(&w.p1),
                Strategy::Fork,
                false,
            )
            .unwrap();
            assert_eq!(r.outcome, Outcome::Forked, "{artifact} round {round}");
            let fork_id = id(&format!("{}:{fork_name}", original.kind));
            assert_eq!(r.fork.as_ref(), Some(&fork_id), "{artifact} round {round}");
            // The project keeps its edit; the collection's version is deployed beside it.
            let project_copy = w.p1.join(".claude").join(rel);
            assert_eq!(
                read(&project_copy),
                text.replace("Line three.", &format!("Line three, project {round}."))
            );
            let collection_text =
                text.replace("Line one.", &format!("Line one, collection {round}."));
            let in_project = w.p1.join(".claude").join(fork_rel(rel, &name, &fork_name));
            assert_eq!(
                read(&in_project),
                renamed(&collection_text, &name, &fork_name),
                "{artifact} round {round}"
            );
            let in_collection = collection(&w, &fork_rel(rel, &name, &fork_name));
            assert_eq!(
                hash::hash_path(&in_project).unwrap(),
                hash::hash_path(&in_collection).unwrap()
            );
            let records = DeploymentFile::load(&w.p1).unwrap();
            assert!(
                records.get(&fork_id).is_some(),
                "{artifact}: fork not recorded"
            );
            assert_eq!(
                drift_status(&w, &fork_id.to_string(), "collection-project", Some(&w.p1)),
                DriftStatus::Synced
            );
        }
    }
    // The first round's forks are untouched by the second.
    let first = w.p1.join(".claude/skills/pdf-fork/SKILL.md");
    assert!(read(&first).contains("Line one, collection 1."));
}

#[test]
fn a_project_fork_into_the_collection_keeps_the_collection_and_a_rerun_reuses_the_fork() {
    let w = fork_world();
    deploy(&w.ctx, &ids(), &w.p1, "forks").unwrap();
    for (_, rel, text) in KINDS {
        edit(
            &w.p1.join(".claude").join(rel),
            &text.replace("Line three.", "Line three, project."),
        );
        edit(
            &collection(&w, rel),
            &text.replace("Line one.", "Line one, collection."),
        );
    }
    let dir = w.ctx.home.collection_dir("forks").unwrap();
    let records_before = fs::read(DeploymentFile::path_in(&w.p1)).unwrap();
    for (artifact, rel, text) in KINDS {
        let original = id(artifact);
        let name = original.name.to_string();
        let fork_name = format!("{name}-fork");
        let r = run(
            &w,
            &original,
            Direction::ProjectToCollection,
            Some(&w.p1),
            Strategy::Fork,
            false,
        )
        .unwrap();
        assert_eq!(r.outcome, Outcome::Forked);
        assert_eq!(
            read(&collection(&w, rel)),
            text.replace("Line one.", "Line one, collection.")
        );
        assert_eq!(
            read(&collection(&w, &fork_rel(rel, &name, &fork_name))),
            renamed(
                &text.replace("Line three.", "Line three, project."),
                &name,
                &fork_name
            )
        );
        // Into the collection only: the project is not given a copy.
        assert!(
            !w.p1
                .join(".claude")
                .join(fork_rel(rel, &name, &fork_name))
                .exists()
        );
    }
    // As if killed after the forks were made but before the baselines moved: the rerun finds
    // each fork already there and takes it again, instead of making `-fork-2`.
    fs::write(DeploymentFile::path_in(&w.p1), records_before).unwrap();
    for artifact in ids() {
        let r = run(
            &w,
            &artifact,
            Direction::ProjectToCollection,
            Some(&w.p1),
            Strategy::Fork,
            false,
        )
        .unwrap();
        let expected = id(&format!("{}:{}-fork", artifact.kind, artifact.name));
        assert_eq!(r.fork, Some(expected), "{artifact}");
    }
    let manifest = Manifest::load(&dir).unwrap();
    assert_eq!(manifest.artifacts.len(), 6, "{:?}", manifest.artifacts);
}

#[test]
fn a_pending_merge_is_settled_by_a_fork_and_logged_as_such() {
    let w = fork_world();
    for (_, rel, text) in KINDS {
        edit(
            &collection(&w, rel),
            &text.replace("Line two.", "Line two, ours."),
        );
        w.up.write(rel, &text.replace("Line two.", "Line two, theirs."));
    }
    w.up.commit("upstream edits line two");
    for (artifact, rel, text) in KINDS {
        let original = id(artifact);
        let r = run(
            &w,
            &original,
            Direction::UpstreamToCollection,
            None,
            Strategy::Auto,
            false,
        )
        .unwrap();
        assert_eq!(r.outcome, Outcome::Conflict, "{artifact}");
        let done = block_on(conflicts::fork_merge(&w.ctx, &original, "forks", None)).unwrap();
        let name = original.name.to_string();
        let fork_name = format!("{name}-fork");
        assert_eq!(
            done.fork,
            Some(id(&format!("{}:{fork_name}", original.kind)))
        );
        assert!(
            conflicts::find(&w.ctx.home, &original, "forks", None)
                .unwrap()
                .is_none(),
            "{artifact}: the pending merge is still there"
        );
        assert_eq!(
            read(&collection(&w, rel)),
            text.replace("Line two.", "Line two, ours.")
        );
        assert_eq!(
            read(&collection(&w, &fork_rel(rel, &name, &fork_name))),
            renamed(
                &text.replace("Line two.", "Line two, theirs."),
                &name,
                &fork_name
            )
        );
        // Settled: the next sync has nothing to take.
        let again = run(
            &w,
            &original,
            Direction::UpstreamToCollection,
            None,
            Strategy::Auto,
            false,
        )
        .unwrap();
        assert_eq!(again.outcome, Outcome::UpToDate, "{artifact}");

        let history = block_on(ops::conflict_history(&w.ctx, &original)).unwrap();
        let log = block_on(ops::log(
            &w.ctx,
            &EventFilter {
                artifact: Some(original.clone()),
                kinds: vec![EventKind::Resolve],
                limit: 10,
                ..EventFilter::default()
            },
        ))
        .unwrap();
        let resolved = log.events.first().expect("no resolve event");
        let main = rel.rsplit('/').next().unwrap();
        let main = if main == "SKILL.md" { "SKILL.md" } else { main };
        assert_eq!(
            resolved.resolutions.get(main).map(String::as_str),
            Some("fork"),
            "{artifact}: {:?}",
            resolved.resolutions
        );
        assert_eq!(
            resolved.detail["fork"],
            format!("{}:{fork_name}", original.kind)
        );
        assert!(
            format!("{history:?}").contains("fork"),
            "{artifact}: {history:?}"
        );
    }
}

#[test]
fn a_fork_whose_name_is_held_by_something_else_takes_the_next_and_a_target_edited_meanwhile_is_refused()
 {
    let w = fork_world();
    // Something SkillMeat does not manage holds `pdf-fork`.
    fs::create_dir_all(collection(&w, "skills/pdf-fork")).unwrap();
    fs::write(collection(&w, "skills/pdf-fork/notes.txt"), "mine\n").unwrap();
    let (_, rel, text) = KINDS[0];
    edit(
        &collection(&w, rel),
        &text.replace("Line one.", "Line one, ours."),
    );
    w.up.write(rel, &text.replace("Line one.", "Line one, theirs."));
    w.up.commit("theirs");
    let r = run(
        &w,
        &id("skill:pdf"),
        Direction::UpstreamToCollection,
        None,
        Strategy::Fork,
        false,
    )
    .unwrap();
    assert_eq!(r.fork, Some(id("skill:pdf-fork-2")));
    assert_eq!(read(&collection(&w, "skills/pdf-fork/notes.txt")), "mine\n");

    // A pending merge whose target was edited after it was made is not forked.
    let (_, rel, text) = KINDS[2];
    edit(
        &collection(&w, rel),
        &text.replace("Line two.", "Line two, ours."),
    );
    w.up.write(rel, &text.replace("Line two.", "Line two, theirs."));
    w.up.commit("theirs again");
    let r = run(
        &w,
        &id("agent:planner"),
        Direction::UpstreamToCollection,
        None,
        Strategy::Auto,
        false,
    )
    .unwrap();
    assert_eq!(r.outcome, Outcome::Conflict);
    edit(&collection(&w, rel), "edited while the merge waited\n");
    let err = block_on(conflicts::fork_merge(
        &w.ctx,
        &id("agent:planner"),
        "forks",
        None,
    ))
    .unwrap_err();
    assert!(matches!(err, OpsError::TargetChanged { .. }), "{err}");
    assert!(!collection(&w, "agents/planner-fork.md").exists());
    assert_eq!(
        read(&collection(&w, rel)),
        "edited while the merge waited\n"
    );
}
