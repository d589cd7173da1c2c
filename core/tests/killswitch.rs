//! The kill-switch on real folders and a real git upstream: applying syncs that fail
//! `sync.lock_after_failures` times in a row lock the artifact (refused, saying why and how to
//! unlock) while dry runs, other artifacts and refusals do not count; unlocking and one
//! successful sync start again from nothing; 0 never locks.

use skillmeat_core::model::error::ErrorKind;
use skillmeat_core::ops::OpsError;
use skillmeat_core::ops::sync::{self, Direction, Strategy, SyncReport, SyncRequest, killswitch};
use skillmeat_core::storage::config::Config;
use skillmeat_testutils::block_on;

use crate::scenarios::{World, id, world};

fn upstream_sync(w: &World, artifact: &str, dry_run: bool) -> Result<SyncReport, OpsError> {
    let artifact = id(artifact);
    block_on(sync::sync(
        &w.ctx,
        &SyncRequest {
            id: &artifact,
            direction: Direction::UpstreamToCollection,
            project: None,
            collection: "default",
            strategy: Strategy::Auto,
            dry_run,
            on_phase: None,
            expect: None,
        },
    ))
}

/// Moves the upstream repository away (unreachable) and back.
struct Gone<'a> {
    w: &'a World,
    away: std::path::PathBuf,
}

impl<'a> Gone<'a> {
    fn new(w: &'a World) -> Self {
        let away = w.up.path().with_extension("away");
        std::fs::rename(w.up.path(), &away).unwrap();
        Self { w, away }
    }
}

impl Drop for Gone<'_> {
    fn drop(&mut self) {
        std::fs::rename(&self.away, self.w.up.path()).unwrap();
    }
}

fn failing(w: &World) -> Vec<(String, u32, bool)> {
    block_on(killswitch::failing(&w.ctx))
        .unwrap()
        .into_iter()
        .map(|r| (r.artifact, r.failures, r.locked_at.is_some()))
        .collect()
}

#[test]
fn three_failed_syncs_in_a_row_lock_an_artifact_until_it_is_unlocked() {
    let w = world();
    w.add_all();
    // A new upstream commit, so the synced agent has something to take.
    w.up.write("agents/planner.md", "Plan the work, v2.\n");
    w.up.commit("v2");
    {
        let _gone = Gone::new(&w);
        // Previews that fail are not counted: they write nothing and lock nothing.
        for _ in 0..4 {
            let e = upstream_sync(&w, "agent:planner", true).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::UpstreamFailed, "{e}");
        }
        assert_eq!(failing(&w), vec![]);
        for n in 1..=3 {
            let e = upstream_sync(&w, "agent:planner", false).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::UpstreamFailed, "{e}");
            assert_eq!(failing(&w), vec![("agent:planner".into(), n, n == 3)]);
        }
        // Locked: refused before the upstream is even asked, naming the last failure and
        // the way out.
        let e = upstream_sync(&w, "agent:planner", false).unwrap_err();
        assert!(matches!(e, OpsError::SyncLocked { failures: 3, .. }), "{e}");
        assert_eq!(e.kind(), ErrorKind::SyncLocked);
        let said = e.to_string();
        assert!(said.contains("its last 3 syncs failed"), "{said}");
        assert!(said.contains("skillmeat unlock agent:planner"), "{said}");
        assert!(said.contains("sync.lock_after_failures"), "{said}");
        // The refusal itself is not one more failure.
        assert_eq!(failing(&w), vec![("agent:planner".into(), 3, true)]);
        // Other artifacts are not locked by it: one failure of their own.
        let e = upstream_sync(&w, "command:fix", false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UpstreamFailed, "{e}");
        assert_eq!(
            failing(&w),
            vec![
                ("agent:planner".into(), 3, true),
                ("command:fix".into(), 1, false)
            ]
        );
        // A dry run of a locked artifact still shows its plan (here: still failing).
        let e = upstream_sync(&w, "agent:planner", true).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UpstreamFailed, "{e}");
    }
    // The upstream is back, but the lock stays until someone lifts it.
    let e = upstream_sync(&w, "agent:planner", false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SyncLocked, "{e}");
    let run = block_on(killswitch::unlock(&w.ctx, "default", &id("agent:planner")))
        .unwrap()
        .unwrap();
    assert_eq!(run.failures, 3);
    assert!(!run.last_error.is_empty());
    let done = upstream_sync(&w, "agent:planner", false).unwrap();
    assert!(done.applied, "{done:?}");
    assert_eq!(
        std::fs::read_to_string(w.collection("agents/planner.md")).unwrap(),
        "Plan the work, v2.\n"
    );
    // One successful sync ends a run that had not locked yet.
    upstream_sync(&w, "command:fix", false).unwrap();
    assert_eq!(failing(&w), vec![]);
    // Unlocking what is not locked is not an error.
    assert!(
        block_on(killswitch::unlock(&w.ctx, "default", &id("command:fix")))
            .unwrap()
            .is_none()
    );
}

#[test]
fn zero_never_locks_and_one_locks_at_the_first_failure() {
    let w = world();
    w.add_all();
    Config::set(&w.ctx.home, "sync.lock_after_failures", "0").unwrap();
    {
        let _gone = Gone::new(&w);
        for _ in 0..5 {
            let e = upstream_sync(&w, "agent:planner", false).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::UpstreamFailed, "{e}");
        }
        assert_eq!(failing(&w), vec![("agent:planner".into(), 5, false)]);
        Config::set(&w.ctx.home, "sync.lock_after_failures", "1").unwrap();
        let e = upstream_sync(&w, "command:fix", false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UpstreamFailed, "{e}");
        let e = upstream_sync(&w, "command:fix", false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::SyncLocked, "{e}");
        // A run already past the new threshold locks at its next failure.
        let e = upstream_sync(&w, "agent:planner", false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UpstreamFailed, "{e}");
        let e = upstream_sync(&w, "agent:planner", false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::SyncLocked, "{e}");
    }
}
