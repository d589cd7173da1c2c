//! The modification timeline: the scheduled check stamps every deployed copy of every
//! registered project — first local edit seen, last checked — keeps the first sighting, clears
//! it when the copy is back, reports a broken project without stopping, and never loses a
//! record another writer adds; the timeline reads it back with deploy time and versions.

use std::time::Duration;

use skillmeat_core::model::time::rfc3339;
use skillmeat_core::ops::{self, Context};
use skillmeat_core::storage::records::DeploymentFile;
use skillmeat_testutils::block_on;

use crate::scenarios::{deploy, edit, id, world};

fn at(ctx: &Context, secs: u64) -> Context {
    Context {
        now: ctx.now + Duration::from_secs(secs),
        ..ctx.clone()
    }
}

#[test]
fn scheduled_checks_stamp_every_copy_keep_the_first_sighting_and_clear_it_when_reverted() {
    let w = world();
    w.add_all();
    let ids = w.ids();
    deploy(&w.ctx, &ids, &w.p1, "default").unwrap();
    deploy(&w.ctx, &ids[..1], &w.p2, "default").unwrap();
    let fix = id("command:fix");

    let first = at(&w.ctx, 60);
    let records_before = std::fs::read(DeploymentFile::path_in(&w.p1)).unwrap();
    let done = block_on(ops::check_projects(&first)).unwrap();
    // Nothing new: nothing is written into the project.
    assert_eq!(
        std::fs::read(DeploymentFile::path_in(&w.p1)).unwrap(),
        records_before
    );
    assert_eq!((done.projects, done.copies), (2, 4));
    assert!(done.newly_modified.is_empty() && done.problems.is_empty());
    let t = block_on(ops::timeline(&first, &fix, &w.p1)).unwrap();
    assert_eq!(t.last_checked, Some(rfc3339(first.now)));
    assert_eq!((t.modified_since.as_deref(), t.modified_now), (None, false));
    assert_eq!(t.deployed_at, Some(rfc3339(w.ctx.now)));
    assert!(t.versions >= 1);

    // An edit in p1 is seen by the next check, and only the first sighting is kept.
    let copy = w.p1.join(".claude/commands/fix.md");
    edit(&copy, "Fix the bug, carefully.\n");
    let second = at(&w.ctx, 120);
    let done = block_on(ops::check_projects(&second)).unwrap();
    assert_eq!(
        done.newly_modified,
        [(w.p1.canonicalize().unwrap(), fix.clone())]
    );
    let third = at(&w.ctx, 180);
    assert!(
        block_on(ops::check_projects(&third))
            .unwrap()
            .newly_modified
            .is_empty()
    );
    let t = block_on(ops::timeline(&third, &fix, &w.p1)).unwrap();
    assert_eq!(t.modified_since, Some(rfc3339(second.now)));
    assert_eq!(t.last_checked, Some(rfc3339(third.now)));
    assert!(t.modified_now);
    // The same copy in p2 was never edited.
    let other = block_on(ops::timeline(&third, &ids[0], &w.p2)).unwrap();
    assert_eq!(other.modified_since, None);

    // Back to the baseline: the sighting is cleared.
    edit(&copy, "Fix the bug.\n");
    block_on(ops::check_projects(&at(&w.ctx, 240))).unwrap();
    let t = block_on(ops::timeline(&w.ctx, &fix, &w.p1)).unwrap();
    assert_eq!((t.modified_since, t.modified_now), (None, false));

    // A project whose records do not parse is a problem; the others are still checked.
    std::fs::write(DeploymentFile::path_in(&w.p2), "[[deployed]\nbroken").unwrap();
    let done = block_on(ops::check_projects(&at(&w.ctx, 300))).unwrap();
    assert_eq!(done.projects, 1);
    assert_eq!(done.problems.len(), 1, "{:?}", done.problems);
    assert!(done.problems[0].contains(&w.p2.canonicalize().unwrap().display().to_string()));
    // Not deployed there: a clear error.
    assert!(block_on(ops::timeline(&w.ctx, &fix, &w.p2)).is_err());
    assert!(matches!(
        block_on(ops::timeline(&w.ctx, &ids[2], &w.p1.join("nowhere"))),
        Err(ops::OpsError::NotDeployed { .. })
    ));
}

#[test]
fn a_check_beside_deploys_never_loses_a_record() {
    let w = world();
    w.add_all();
    let ids = w.ids();
    deploy(&w.ctx, &ids[..1], &w.p1, "default").unwrap();
    // Checks and deploys of the other artifacts at once: every record survives.
    std::thread::scope(|s| {
        let checker = s.spawn(|| {
            for i in 0..20 {
                block_on(ops::check_projects(&at(&w.ctx, i))).unwrap();
            }
        });
        for artifact in &ids[1..] {
            deploy(&w.ctx, std::slice::from_ref(artifact), &w.p1, "default").unwrap();
        }
        checker.join().unwrap();
    });
    let records = DeploymentFile::load(&w.p1).unwrap();
    for artifact in &ids {
        assert!(records.get(artifact).is_some(), "{artifact} lost");
    }
}
