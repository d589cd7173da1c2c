//! The job queue on a real SQLite file, and the runner on real tiers.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use skillmeat_core::jobs::{
    CancelOutcome, Claim, JobEnd, JobFilter, JobKind, JobState, JobStore, NewJob, Runner,
    SqliteJobStore,
};
use skillmeat_core::ops::sync::{Direction, Strategy};
use skillmeat_core::storage::db::Database;
use skillmeat_testutils::block_on;

use crate::scenarios::{World, deploy, edit, id, world};

fn store(dir: &std::path::Path) -> SqliteJobStore {
    SqliteJobStore::new(block_on(Database::open(&dir.join("skillmeat.db"))).unwrap())
}

fn new_job(artifacts: &[&str], key: Option<&str>) -> NewJob {
    NewJob {
        kind: JobKind::Sync,
        resolve: None,
        update: None,
        direction: Direction::CollectionToProject,
        artifact_ids: artifacts.iter().map(|a| id(a)).collect(),
        project_path: None,
        collection: "default".into(),
        strategy: Strategy::Auto,
        dry_run: true,
        plan_job: None,
        trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
        parent_span_id: None,
        idempotency_key: key.map(str::to_owned),
    }
}

fn now() -> SystemTime {
    SystemTime::now()
}

#[test]
fn jobs_are_created_once_per_key_and_claimed_one_artifact_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let (a, created) = block_on(s.create(new_job(&["skill:a"], Some("k1")), now())).unwrap();
    assert!(created);
    assert_eq!(a.state, JobState::Queued);
    let (again, created) = block_on(s.create(new_job(&["skill:a"], Some("k1")), now())).unwrap();
    assert!(!created, "the same idempotency key returns the first job");
    assert_eq!(again.id, a.id);
    let (b, _) = block_on(s.create(new_job(&["skill:a", "skill:b"], None), now())).unwrap();
    let (c, _) = block_on(s.create(new_job(&["command:c"], None), now())).unwrap();
    assert_eq!(block_on(s.queue_depth()).unwrap(), 3);

    let first = block_on(s.claim(now())).unwrap().unwrap();
    assert_eq!(
        (first.id, first.state, first.attempts),
        (a.id, JobState::Running, 1)
    );
    // b shares skill:a with the running job: it waits; c does not.
    let second = block_on(s.claim(now())).unwrap().unwrap();
    assert_eq!(second.id, c.id);
    assert!(block_on(s.claim(now())).unwrap().is_none());
    let end = |state| JobEnd {
        state,
        result: serde_json::json!([]),
        conflicts: vec![],
        log_excerpt: String::new(),
    };
    block_on(s.finish(a.id, end(JobState::Success), now())).unwrap();
    assert_eq!(block_on(s.claim(now())).unwrap().unwrap().id, b.id);

    let listed = block_on(s.list(&JobFilter {
        artifact_id: Some(id("skill:b")),
        ..JobFilter::default()
    }))
    .unwrap();
    assert_eq!(listed.iter().map(|j| j.id).collect::<Vec<_>>(), [b.id]);
    let events: Vec<_> = block_on(s.events(a.id, 0))
        .unwrap()
        .into_iter()
        .map(|e| e.state)
        .collect();
    assert_eq!(
        events,
        [JobState::Queued, JobState::Running, JobState::Success]
    );
}

#[test]
fn a_claim_after_an_empty_one_skips_the_jobs_it_found_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let (running, _) = block_on(s.create(new_job(&["skill:a"], None), now())).unwrap();
    let blocked: Vec<i64> = (0..3)
        .map(|_| {
            block_on(s.create(new_job(&["skill:a"], None), now()))
                .unwrap()
                .0
                .id
        })
        .collect();
    assert_eq!(block_on(s.claim(now())).unwrap().unwrap().id, running.id);

    let Claim {
        job,
        blocked_through,
    } = block_on(s.claim_after(now(), 0)).unwrap();
    assert!(job.is_none(), "every queued job waits for skill:a");
    assert_eq!(
        blocked_through, blocked[2],
        "the store looked up to the newest job"
    );

    // A new job on another artifact is found above the mark; the blocked ones are not looked at.
    let (free, _) = block_on(s.create(new_job(&["skill:b"], None), now())).unwrap();
    let claim = block_on(s.claim_after(now(), blocked_through)).unwrap();
    assert_eq!(claim.job.map(|j| j.id), Some(free.id));
    assert_eq!(
        claim.blocked_through, blocked_through,
        "a claim keeps the mark"
    );

    // Once the running job ends, a claim from 0 takes the oldest blocked job, in order.
    let end = JobEnd {
        state: JobState::Success,
        result: serde_json::json!([]),
        conflicts: vec![],
        log_excerpt: String::new(),
    };
    block_on(s.finish(running.id, end, now())).unwrap();
    assert!(
        block_on(s.claim_after(now(), blocked_through))
            .unwrap()
            .job
            .is_none()
    );
    assert_eq!(block_on(s.claim(now())).unwrap().unwrap().id, blocked[0]);
}

#[test]
fn the_read_connections_refuse_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = block_on(Database::open(&dir.path().join("skillmeat.db"))).unwrap();
    let write = block_on(sqlx::query("DELETE FROM jobs").execute(db.reads()));
    assert!(
        write.is_err(),
        "a write through reads() must fail: {write:?}"
    );
    block_on(sqlx::query("DELETE FROM jobs").execute(db.pool())).unwrap();
    block_on(db.close());
}

#[test]
fn cancelling_requeueing_and_pruning() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let (queued, _) = block_on(s.create(new_job(&["skill:a"], None), now())).unwrap();
    let (running, _) = block_on(s.create(new_job(&["skill:b"], None), now())).unwrap();
    block_on(s.claim(now())).unwrap();
    block_on(s.claim(now())).unwrap();
    // Both claimed; queue a third to cancel while queued.
    let (third, _) = block_on(s.create(new_job(&["skill:c"], None), now())).unwrap();
    assert_eq!(
        block_on(s.cancel(third.id, now())).unwrap(),
        Some(CancelOutcome::Cancelled)
    );
    assert_eq!(
        block_on(s.cancel(running.id, now())).unwrap(),
        Some(CancelOutcome::Requested)
    );
    assert!(block_on(s.cancel_requested(running.id)).unwrap());
    assert_eq!(
        block_on(s.cancel(third.id, now())).unwrap(),
        Some(CancelOutcome::AlreadyEnded)
    );
    assert_eq!(block_on(s.cancel(9999, now())).unwrap(), None);

    // A runner died with two jobs running: they are queued again.
    assert_eq!(block_on(s.requeue_interrupted(now())).unwrap(), 2);
    assert_eq!(
        block_on(s.get(queued.id)).unwrap().unwrap().state,
        JobState::Queued
    );

    // Ended jobs older than the cut-off go; others stay.
    let later = now() + Duration::from_secs(3600);
    assert_eq!(
        block_on(s.prune(later)).unwrap(),
        1,
        "only the cancelled job had ended"
    );
    assert!(block_on(s.get(third.id)).unwrap().is_none());
    assert!(block_on(s.get(queued.id)).unwrap().is_some());
}

fn runner_for(w: &World) -> Arc<Runner> {
    let db = block_on(Database::open(&w.ctx.home.root().join("skillmeat.db"))).unwrap();
    Runner::new(Arc::new(SqliteJobStore::new(db)), w.ctx.clone(), 4)
}

#[test]
fn the_runner_syncs_and_reports_each_step_in_order() {
    let w = world();
    w.add_all();
    deploy(&w.ctx, &w.ids(), &w.p1, "default").unwrap();
    edit(
        &w.collection("commands/fix.md"),
        "Fixed in the collection.\n",
    );
    let runner = runner_for(&w);
    let mut job = new_job(&["command:fix", "agent:planner"], None);
    job.project_path = Some(w.p1.clone());
    job.dry_run = false;
    let (job, _) = block_on(runner.store().create(job, now())).unwrap();
    let claimed = block_on(runner.store().claim(now())).unwrap().unwrap();
    block_on(runner.execute(claimed));
    let done = block_on(runner.store().get(job.id)).unwrap().unwrap();
    assert_eq!(done.state, JobState::Success, "{done:?}");
    assert_eq!(done.pct, 100);
    assert_eq!(
        std::fs::read_to_string(w.p1.join(".claude/commands/fix.md")).unwrap(),
        "Fixed in the collection.\n"
    );
    let results = done.result.unwrap();
    assert_eq!(results[0]["outcome"], "fast-forward");
    assert_eq!(results[1]["outcome"], "up-to-date");
    let events: Vec<(JobState, u8, String)> = block_on(runner.store().events(job.id, 0))
        .unwrap()
        .into_iter()
        .map(|e| (e.state, e.pct, e.message))
        .collect();
    let running = |pct, m: &str| (JobState::Running, pct, m.to_owned());
    // Each phase of each artifact is a progress step; an up-to-date artifact has no apply.
    assert_eq!(
        events,
        [
            (JobState::Queued, 0, "queued".to_owned()),
            running(0, "started"),
            running(0, "command:fix: fetch"),
            running(16, "command:fix: merge"),
            running(33, "command:fix: apply"),
            running(50, "command:fix done"),
            running(50, "agent:planner: fetch"),
            running(66, "agent:planner: merge"),
            running(99, "agent:planner done"),
            (JobState::Success, 100, "success".to_owned()),
        ]
    );
}

#[test]
fn fifty_concurrent_jobs_on_one_artifact_run_one_at_a_time_and_all_end() {
    let w = world();
    w.add_all();
    deploy(&w.ctx, &w.ids(), &w.p1, "default").unwrap();
    let runner = runner_for(&w);
    let mut ids = Vec::new();
    for i in 0..50 {
        edit(&w.collection("commands/fix.md"), &format!("Version {i}.\n"));
        let mut job = new_job(&["command:fix"], None);
        job.project_path = Some(w.p1.clone());
        job.dry_run = false;
        job.strategy = Strategy::Theirs;
        ids.push(block_on(runner.store().create(job, now())).unwrap().0.id);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let task = tokio::spawn(runner.clone().run());
        runner.wake();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let queued = runner
                .store()
                .list(&JobFilter {
                    limit: 100,
                    ..JobFilter::default()
                })
                .await
                .unwrap();
            if queued.iter().all(|j| j.state.is_final()) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "jobs did not finish");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        task.abort();
    });
    // Never two running at once: replay the events in order.
    let mut events = Vec::new();
    for id in &ids {
        events.extend(block_on(runner.store().events(*id, 0)).unwrap());
    }
    events.sort_by_key(|e| e.id);
    let mut running = 0i32;
    for e in &events {
        match (e.state, e.message.as_str()) {
            (JobState::Running, "started") => running += 1,
            (s, _) if s.is_final() => running -= 1,
            _ => {}
        }
        assert!(running <= 1, "two jobs on one artifact ran at once");
    }
    for id in &ids {
        let job = block_on(runner.store().get(*id)).unwrap().unwrap();
        assert_eq!(job.state, JobState::Success, "{job:?}");
    }
    // No lost update: the project has the collection's last version.
    assert_eq!(
        std::fs::read_to_string(w.p1.join(".claude/commands/fix.md")).unwrap(),
        "Version 49.\n"
    );
}

#[test]
fn a_serving_database_checkpoints_its_wal_beside_the_writer() {
    use skillmeat_core::storage::db::CHECKPOINT_EVERY;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("skillmeat.db");
    let wal = dir.path().join("skillmeat.db-wal");
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    // One runtime for the whole test: the checkpoints run as a task on it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = Database::open_serving(&path).await.unwrap();
        let store = SqliteJobStore::new(db.clone());
        let round = async || {
            for _ in 0..200 {
                store
                    .create(new_job(&["skill:a"], None), now())
                    .await
                    .unwrap();
            }
            tokio::time::sleep(CHECKPOINT_EVERY * 3).await;
        };
        tokio::time::sleep(CHECKPOINT_EVERY * 3).await;
        let before = size(&path);
        round().await;
        // The writer never checkpoints (autocheckpoint is off), so only the background task
        // can have moved the jobs into the database file.
        assert!(
            size(&path) > before,
            "the database file did not grow: {before} bytes"
        );
        let wal_after_one = size(&wal);
        assert!(wal_after_one > 0);
        for _ in 0..4 {
            round().await;
        }
        // A checkpointed WAL is written again from its start, so it does not keep growing
        // (without checkpoints it would hold all five rounds, five times the first).
        assert!(
            size(&wal) < wal_after_one * 3,
            "the WAL grew from {wal_after_one} to {} bytes",
            size(&wal)
        );
        assert_eq!(store.queue_depth().await.unwrap(), 1000);
        db.close().await;
    });
}

/// The runner's one retry: a target locked by another writer past the lock timeout is tried
/// once more (the job logs it) and goes through once the lock is free; locked through both
/// tries, the job ends in error with the reason in its result, and nothing was written.
#[test]
fn the_runner_retries_a_locked_target_once_then_ends_the_job_in_error() {
    use skillmeat_core::ops::{self, Tier};
    let mut w = world();
    w.add_all();
    deploy(&w.ctx, &w.ids(), &w.p1, "default").unwrap();
    edit(
        &w.collection("commands/fix.md"),
        "Fixed in the collection.\n",
    );
    // Each try waits 300 ms for the lock; the runner waits 200 ms before the second.
    w.ctx.lock_timeout = Duration::from_millis(300);
    let runner = runner_for(&w);
    let target = w.p1.join(".claude/commands/fix.md");
    let apply_job = || {
        let mut job = new_job(&["command:fix"], None);
        job.project_path = Some(w.p1.clone());
        job.dry_run = false;
        let (job, _) = block_on(runner.store().create(job, now())).unwrap();
        let claimed = block_on(runner.store().claim(now())).unwrap().unwrap();
        (job.id, claimed)
    };
    let lock = || ops::lock_tier(&w.ctx, &Tier::Project(w.p1.clone()), &id("command:fix")).unwrap();

    // Held for 400 ms: the first try gives up at ~300 ms, the retry at ~500 ms finds it free.
    let (job, claimed) = apply_job();
    let held = lock();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        drop(held);
    });
    block_on(runner.execute(claimed));
    release.join().unwrap();
    let done = block_on(runner.store().get(job)).unwrap().unwrap();
    assert_eq!(done.state, JobState::Success, "{done:?}");
    assert!(
        done.log_excerpt.contains("retrying once"),
        "{}",
        done.log_excerpt
    );
    assert!(
        done.log_excerpt.contains("is locked"),
        "{}",
        done.log_excerpt
    );
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "Fixed in the collection.\n"
    );

    // Held throughout: both tries fail, the job ends in error and says why.
    edit(&w.collection("commands/fix.md"), "Fixed again.\n");
    let (job, claimed) = apply_job();
    let held = lock();
    block_on(runner.execute(claimed));
    drop(held);
    let done = block_on(runner.store().get(job)).unwrap().unwrap();
    assert_eq!(done.state, JobState::Error, "{done:?}");
    assert_eq!(done.log_excerpt.matches("retrying once").count(), 1);
    let result = done.result.unwrap();
    let error = result[0]["error"].as_str().unwrap();
    assert!(
        error.contains("is locked") && error.contains("pid"),
        "{error}"
    );
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "Fixed in the collection.\n",
        "nothing written by the failed job"
    );
}

/// The migration that widened `jobs.kind` (`update`) rebuilt the three job tables: a database
/// made before it keeps every job with its id, artifacts and events, and its triggers still
/// write a new job's artifacts and events.
#[test]
fn widening_the_job_kinds_keeps_every_job_its_events_and_the_triggers() {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
    const REBUILT: &str = "20261207120000";
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old-migrations");
    std::fs::create_dir(&old).unwrap();
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    for entry in std::fs::read_dir(&all).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".sql") && name.as_str() < REBUILT {
            std::fs::copy(entry.path(), old.join(&name)).unwrap();
        }
    }
    let path = dir.path().join("skillmeat.db");
    block_on(async {
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .foreign_keys(true);
        let pool = SqlitePool::connect_with(options).await.unwrap();
        let migrator = sqlx::migrate::Migrator::new(old.as_path()).await.unwrap();
        migrator.run(&pool).await.unwrap();
        for (i, kind) in ["sync", "resolve"].into_iter().enumerate() {
            sqlx::query(
                "INSERT INTO jobs (direction, artifact_ids, collection, strategy, dry_run, state, \
                 created_at, trace_id, kind, params, plan_job) VALUES ('upstream-to-collection', \
                 '[\"skill:a\",\"command:b\"]', 'default', 'auto', 1, 'queued', \
                 '2026-12-01T00:00:00Z', 't', ?, ?, ?)",
            )
            .bind(kind)
            .bind((kind == "resolve").then_some("{}"))
            .bind((i == 1).then_some(1_i64))
            .execute(&pool)
            .await
            .unwrap();
        }
        sqlx::query("UPDATE jobs SET state = 'running', started_at = '2026-12-01T00:00:01Z'")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    let events_before = 4;
    let store = store(dir.path());
    let jobs = block_on(store.list(&JobFilter::default())).unwrap();
    assert_eq!(jobs.len(), 2);
    let (first, second) = (&jobs[1], &jobs[0]);
    assert_eq!((first.id, first.kind), (1, JobKind::Sync));
    assert_eq!((second.id, second.kind), (2, JobKind::Resolve));
    assert_eq!(second.plan_job, Some(1));
    assert_eq!(first.state, JobState::Running);
    assert_eq!(first.artifact_ids, vec![id("skill:a"), id("command:b")]);
    let events = block_on(store.all_events(0, 100)).unwrap();
    assert_eq!(events.len(), events_before, "{events:?}");
    let filter = JobFilter {
        artifact_id: Some(id("command:b")),
        ..JobFilter::default()
    };
    assert_eq!(
        block_on(store.list(&filter)).unwrap().len(),
        2,
        "job_artifacts kept"
    );

    // The triggers: a new job (of the new kind) gets its artifacts and its first event, and a
    // claim its `started` event, after the old events' ids.
    let mut job = new_job(&["skill:c"], None);
    job.kind = JobKind::Update;
    job.update = Some(skillmeat_core::jobs::UpdateParams {
        projects: vec!["/srv/p1".into()],
    });
    let (made, _) = block_on(store.create(job, now())).unwrap();
    assert_eq!(made.id, 3);
    let back = block_on(store.get(3)).unwrap().unwrap();
    assert_eq!(back.kind, JobKind::Update);
    assert_eq!(
        back.update.unwrap().projects,
        vec![std::path::PathBuf::from("/srv/p1")]
    );
    let filter = JobFilter {
        artifact_id: Some(id("skill:c")),
        ..JobFilter::default()
    };
    assert_eq!(block_on(store.list(&filter)).unwrap().len(), 1);
    let events = block_on(store.events(3, 0)).unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0].id > 4, "{events:?}");
}
