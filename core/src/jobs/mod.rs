//! Sync jobs (DESIGN §6): the queue the server's runner works through.
//!
//! A job is one sync request (a direction, artifacts, a strategy) persisted before the request
//! that made it returns. [`JobStore`] is the storage, an object-safe trait so another database
//! is an added implementation; [`SqliteJobStore`] keeps it in `skillmeat.db`. [`Runner`] claims
//! queued jobs (one `UPDATE … RETURNING` each, never two jobs on one artifact at once), runs
//! them through [`sync`](crate::ops::sync) with bounded concurrency, records progress as events, and
//! moves them through `queued → running → success | conflict | error` (or `cancelled`).
//! On start, jobs a dead runner left `running` are queued again: applying is atomic, and a job
//! that already applied finds its artifact up to date.
//!
//! In SQLite, a job's events are written by triggers on its row (see the migrations), so that
//! each step the runner records is one statement and one short turn at the write lock.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::engine::merge::{Hunk, HunkChoice, settle_hunks};
use crate::model::artifact::ArtifactId;
use crate::model::time::rfc3339;
use crate::ops::conflicts::{self, FileChoice, Resolution};
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::sync;
use crate::ops::sync::request::Direction;
use crate::ops::sync::request::Outcome;
use crate::ops::sync::request::Strategy;
use crate::ops::sync::request::SyncReport;
use crate::ops::sync::request::SyncRequest;
use crate::storage::db::{Database, DbError, query_err};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for the runner.
    Queued,
    /// Being run.
    Running,
    /// Every artifact synced (or was up to date).
    Success,
    /// Some artifact's merge is pending resolution.
    Conflict,
    /// Some artifact failed.
    Error,
    /// Cancelled before it finished.
    Cancelled,
}

impl JobState {
    /// As stored in the `jobs.state` column and sent in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Success => "success",
            Self::Conflict => "conflict",
            Self::Error => "error",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether the job has ended.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }
}

impl FromStr for JobState {
    type Err = DbError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::Queued,
            Self::Running,
            Self::Success,
            Self::Conflict,
            Self::Error,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
        .ok_or_else(|| corrupt(format!("unknown job state `{s}`")))
    }
}

fn corrupt(what: String) -> DbError {
    DbError::Query {
        what: "read a job",
        source: sqlx::Error::Decode(what.into()),
    }
}

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// A sync in one direction.
    #[default]
    Sync,
    /// Settles and applies the pending merge of each artifact.
    Resolve,
}

impl JobKind {
    /// As stored in the `jobs.kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Resolve => "resolve",
        }
    }
}

/// What a resolve job decides.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResolveParams {
    /// Per conflicted file (its path in the artifact), applied first.
    #[serde(default)]
    pub files: BTreeMap<String, FileChoice>,
    /// Per conflicted text file, applied after `files`: ours, theirs or both for each of its
    /// conflicting hunks in order; the settled text becomes the file's custom resolution.
    #[serde(default)]
    pub hunks: BTreeMap<String, Vec<HunkChoice>>,
    /// For every file still undecided after `files` and `hunks`.
    #[serde(default)]
    pub strategy: Option<FileChoice>,
    /// Apply the merge once nothing is left undecided.
    #[serde(default = "yes")]
    pub apply: bool,
    /// The pending merge's revision these choices were made on
    /// ([`PendingMerge::revision`](crate::ops::conflicts::PendingMerge::revision)); a merge at
    /// another revision is left alone and the job fails with
    /// [`OpsError::MergeChanged`].
    #[serde(default)]
    pub expected_revision: Option<String>,
}

fn yes() -> bool {
    true
}

/// A job to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// What it does.
    pub kind: JobKind,
    /// A resolve job's choices.
    pub resolve: Option<ResolveParams>,
    /// Which way the job syncs (for a resolve job, the pending merge's direction).
    pub direction: Direction,
    /// The artifacts, in order.
    pub artifact_ids: Vec<ArtifactId>,
    /// The project, for the project directions.
    pub project_path: Option<PathBuf>,
    /// The collection the artifacts belong to (`default` unless asked otherwise).
    pub collection: String,
    /// How differences are settled; `auto` keeps conflicts as pending merges.
    pub strategy: Strategy,
    /// Plan only.
    pub dry_run: bool,
    /// The trace the job belongs to (32 hex).
    pub trace_id: String,
    /// The span that created it (16 hex), the parent of the job's span in an exported trace.
    pub parent_span_id: Option<String>,
    /// A client's key: the same key returns the same job.
    pub idempotency_key: Option<String>,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    /// The row id: what the API's `/sync/jobs/{id}` and events name.
    pub id: i64,
    /// What it does.
    pub kind: JobKind,
    /// A resolve job's choices.
    pub resolve: Option<ResolveParams>,
    /// Which way the job syncs (for a resolve job, the pending merge's direction).
    pub direction: Direction,
    /// What the job works on, in the order they run.
    pub artifact_ids: Vec<ArtifactId>,
    /// The project, for the project directions.
    pub project_path: Option<PathBuf>,
    /// The collection the artifacts belong to.
    pub collection: String,
    /// How differences are settled.
    pub strategy: Strategy,
    /// Plan only.
    pub dry_run: bool,
    /// Where it is.
    pub state: JobState,
    /// Progress, 0–100.
    pub pct: u8,
    /// When it was created, started and ended (RFC 3339).
    pub created_at: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// The trace the job's spans join (the request's, when it came over HTTP).
    pub trace_id: String,
    /// The span that created it, if known.
    #[serde(skip)]
    pub parent_span_id: Option<String>,
    /// The last lines of its log.
    pub log_excerpt: String,
    /// Artifacts left with a pending merge.
    pub conflicts: Vec<ArtifactId>,
    /// One sync report per artifact, once run.
    pub result: Option<serde_json::Value>,
    /// The client's idempotency key.
    pub idempotency_key: Option<String>,
    /// How many times it was started.
    pub attempts: u32,
}

/// One step of a job's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobEvent {
    /// Increasing over all events (an SSE id).
    pub id: i64,
    /// Which job moved.
    pub job_id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// The job's state then.
    pub state: JobState,
    /// Its progress then.
    pub pct: u8,
    /// What happened.
    pub message: String,
}

/// Which jobs to list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only in this state.
    pub state: Option<JobState>,
    /// Only touching this artifact.
    pub artifact_id: Option<ArtifactId>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// What cancelling did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CancelOutcome {
    /// It was queued and is now cancelled.
    Cancelled,
    /// It is running: it stops between artifacts.
    Requested,
    /// It had already ended.
    AlreadyEnded,
}

/// How a job ended.
#[derive(Debug, Clone)]
pub struct JobEnd {
    /// How the job ended: success, conflict, error or cancelled.
    pub state: JobState,
    /// Sync reports, per artifact.
    pub result: serde_json::Value,
    /// Artifacts left pending.
    pub conflicts: Vec<ArtifactId>,
    /// The last lines of the log.
    pub log_excerpt: String,
}

/// What [`JobStore::claim_after`] found.
#[derive(Debug)]
pub struct Claim {
    /// The job claimed, now running.
    pub job: Option<Job>,
    /// When no job was claimed: every queued job with an id up to this one was blocked by a
    /// running job when the store looked. Blocked jobs stay blocked until a running job ends.
    pub blocked_through: i64,
}

/// Storage of jobs. Object-safe: the runner holds an `Arc<dyn JobStore>`.
#[async_trait::async_trait]
pub trait JobStore: Send + Sync {
    /// Persists a new queued job; with an idempotency key already used, returns that job and
    /// `false` instead.
    async fn create(&self, job: NewJob, now: SystemTime) -> Result<(Job, bool), DbError>;
    /// One job.
    async fn get(&self, id: i64) -> Result<Option<Job>, DbError>;
    /// Jobs matching `filter`, newest first.
    async fn list(&self, filter: &JobFilter) -> Result<Vec<Job>, DbError>;
    /// Takes the oldest queued job none of whose artifacts a running job touches, marking it
    /// running; the check and the marking are one statement.
    async fn claim(&self, now: SystemTime) -> Result<Option<Job>, DbError> {
        Ok(self.claim_after(now, 0).await?.job)
    }
    /// [`JobStore::claim`] looking only at jobs with an id above `after`: the runner passes the
    /// [`Claim::blocked_through`] of its last empty claim until a job ends, so that a deep queue
    /// of blocked jobs is not looked through again on every new job.
    async fn claim_after(&self, now: SystemTime, after: i64) -> Result<Claim, DbError>;
    /// Records progress.
    async fn progress(
        &self,
        id: i64,
        pct: u8,
        message: &str,
        now: SystemTime,
    ) -> Result<(), DbError>;
    /// Ends a running job.
    async fn finish(&self, id: i64, end: JobEnd, now: SystemTime) -> Result<(), DbError>;
    /// Cancels a queued job, or asks a running one to stop.
    async fn cancel(&self, id: i64, now: SystemTime) -> Result<Option<CancelOutcome>, DbError>;
    /// Whether a running job was asked to stop.
    async fn cancel_requested(&self, id: i64) -> Result<bool, DbError>;
    /// Queues again the jobs left running by a runner that died; how many.
    async fn requeue_interrupted(&self, now: SystemTime) -> Result<u64, DbError>;
    /// Deletes jobs that ended before `before`; how many.
    async fn prune(&self, before: SystemTime) -> Result<u64, DbError>;
    /// A job's events after event `after` (0 for all), in order.
    async fn events(&self, job_id: i64, after: i64) -> Result<Vec<JobEvent>, DbError>;
    /// How many jobs are queued.
    async fn queue_depth(&self) -> Result<u64, DbError>;
    /// Events of every job after event `after`, in order, at most `limit`.
    async fn all_events(&self, after: i64, limit: u32) -> Result<Vec<JobEvent>, DbError>;
    /// The id of the newest event (0 when there is none).
    async fn latest_event(&self) -> Result<i64, DbError>;
    /// How many jobs ended in each final state.
    async fn outcome_counts(&self) -> Result<Vec<(JobState, u64)>, DbError>;
}

/// [`JobStore`] in the SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteJobStore {
    db: Database,
}

impl SqliteJobStore {
    /// A store in `db` (migrated by [`Database::open`]).
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// A subquery with a row when a running job shares an artifact with job `$job`. The join order
/// is fixed (`CROSS JOIN`) to start from the few running jobs, so a check costs a few index
/// lookups however long the queue and the history are.
macro_rules! blocked {
    ($job:literal) => {
        concat!(
            "SELECT 1 FROM jobs r CROSS JOIN job_artifacts theirs CROSS JOIN job_artifacts mine ",
            "WHERE r.state = 'running' AND theirs.job_id = r.id AND mine.job_id = ",
            $job,
            " AND mine.artifact_id = theirs.artifact_id"
        )
    };
}

macro_rules! select_jobs {
    ($rest:literal) => {
        concat!(
            "SELECT id, direction, artifact_ids, project_path, collection, strategy, dry_run, \
             state, pct, created_at, started_at, ended_at, trace_id, log_excerpt, conflicts, \
             result, idempotency_key, attempts, kind, params, parent_span_id FROM jobs ",
            $rest
        )
    };
}

fn job_from_row(row: &SqliteRow) -> Result<Job, DbError> {
    let text = |c: &str| -> Result<String, DbError> {
        row.try_get::<String, _>(c)
            .map_err(|e| corrupt(format!("jobs.{c}: {e}")))
    };
    let opt = |c: &str| -> Result<Option<String>, DbError> {
        row.try_get::<Option<String>, _>(c)
            .map_err(|e| corrupt(format!("jobs.{c}: {e}")))
    };
    let int = |c: &str| -> Result<i64, DbError> {
        row.try_get::<i64, _>(c)
            .map_err(|e| corrupt(format!("jobs.{c}: {e}")))
    };
    let ids = |c: &str| -> Result<Vec<ArtifactId>, DbError> {
        serde_json::from_str(&text(c)?).map_err(|e| corrupt(format!("jobs.{c}: {e}")))
    };
    let kind = match text("kind")?.as_str() {
        "resolve" => JobKind::Resolve,
        _ => JobKind::Sync,
    };
    let resolve = opt("params")?
        .map(|p| serde_json::from_str(&p).map_err(|e| corrupt(format!("jobs.params: {e}"))))
        .transpose()?;
    Ok(Job {
        id: int("id")?,
        kind,
        resolve,
        direction: text("direction")?.parse().map_err(corrupt)?,
        artifact_ids: ids("artifact_ids")?,
        project_path: opt("project_path")?.map(PathBuf::from),
        collection: text("collection")?,
        strategy: text("strategy")?.parse().map_err(corrupt)?,
        dry_run: int("dry_run")? != 0,
        state: text("state")?.parse()?,
        pct: u8::try_from(int("pct")?.clamp(0, 100)).unwrap_or(100),
        created_at: text("created_at")?,
        started_at: opt("started_at")?,
        ended_at: opt("ended_at")?,
        trace_id: text("trace_id")?,
        parent_span_id: opt("parent_span_id")?,
        log_excerpt: text("log_excerpt")?,
        conflicts: ids("conflicts")?,
        result: opt("result")?.and_then(|r| serde_json::from_str(&r).ok()),
        idempotency_key: opt("idempotency_key")?,
        attempts: u32::try_from(int("attempts")?).unwrap_or(0),
    })
}

fn json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

#[async_trait::async_trait]
impl JobStore for SqliteJobStore {
    async fn create(&self, job: NewJob, now: SystemTime) -> Result<(Job, bool), DbError> {
        if let Some(key) = &job.idempotency_key {
            let row = sqlx::query(select_jobs!("WHERE idempotency_key = ?"))
                .bind(key.clone())
                .fetch_optional(self.db.reads())
                .await
                .map_err(query_err("look up an idempotency key"))?;
            if let Some(row) = row {
                return Ok((job_from_row(&row)?, false));
            }
        }
        // One statement: the migration's trigger writes the job's artifacts and first event.
        let inserted = sqlx::query(concat!(
            "INSERT INTO jobs (direction, artifact_ids, project_path, collection, strategy, ",
            "dry_run, state, created_at, trace_id, idempotency_key, kind, params, parent_span_id) ",
            "VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?) ",
            "ON CONFLICT (idempotency_key) DO NOTHING ",
            "RETURNING id, direction, artifact_ids, project_path, collection, strategy, dry_run, ",
            "state, pct, created_at, started_at, ended_at, trace_id, log_excerpt, conflicts, ",
            "result, idempotency_key, attempts, kind, params, parent_span_id"
        ))
        .bind(job.direction.as_str())
        .bind(json(&job.artifact_ids))
        .bind(
            job.project_path
                .as_ref()
                .map(|p| p.to_string_lossy().into_owned()),
        )
        .bind(job.collection.clone())
        .bind(job.strategy.as_str())
        .bind(i64::from(job.dry_run))
        .bind(rfc3339(now))
        .bind(job.trace_id.clone())
        .bind(job.idempotency_key.clone())
        .bind(job.kind.as_str())
        .bind(job.resolve.as_ref().map(json))
        .bind(job.parent_span_id.clone())
        .fetch_optional(self.db.pool())
        .await
        .map_err(query_err("create a job"))?;
        if let Some(row) = inserted {
            return Ok((job_from_row(&row)?, true));
        }
        // Another request with the same key won the race.
        let key = job.idempotency_key.clone().unwrap_or_default();
        let row = sqlx::query(select_jobs!("WHERE idempotency_key = ?"))
            .bind(key)
            .fetch_one(self.db.reads())
            .await
            .map_err(query_err("look up an idempotency key"))?;
        Ok((job_from_row(&row)?, false))
    }

    async fn get(&self, id: i64) -> Result<Option<Job>, DbError> {
        let row = sqlx::query(select_jobs!("WHERE id = ?"))
            .bind(id)
            .fetch_optional(self.db.reads())
            .await
            .map_err(query_err("read a job"))?;
        row.map(|r| job_from_row(&r)).transpose()
    }

    async fn list(&self, filter: &JobFilter) -> Result<Vec<Job>, DbError> {
        let limit = if filter.limit == 0 { 100 } else { filter.limit };
        let rows = sqlx::query(select_jobs!(
            "WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR id IN \
             (SELECT job_id FROM job_artifacts WHERE artifact_id = ?2)) ORDER BY id DESC LIMIT ?3"
        ))
        .bind(filter.state.map(JobState::as_str))
        .bind(filter.artifact_id.as_ref().map(ToString::to_string))
        .bind(i64::from(limit))
        .fetch_all(self.db.reads())
        .await
        .map_err(query_err("list jobs"))?;
        rows.iter().map(job_from_row).collect()
    }

    async fn claim_after(&self, now: SystemTime, after: i64) -> Result<Claim, DbError> {
        // Look first, on a reading connection, so that a queue full of blocked jobs costs the
        // writer nothing; then claim the one found, checking again in the same statement. A
        // miss means another runner took it or it was cancelled: look again.
        for _ in 0..3 {
            let newest: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM jobs")
                .fetch_one(self.db.reads())
                .await
                .map_err(query_err("look for a job to run"))?;
            let candidate: Option<i64> = sqlx::query_scalar(concat!(
                "SELECT q.id FROM jobs q WHERE q.state = 'queued' AND q.id > ?1 AND NOT EXISTS (",
                blocked!("q.id"),
                ") ORDER BY q.id LIMIT 1"
            ))
            .bind(after)
            .fetch_optional(self.db.reads())
            .await
            .map_err(query_err("look for a job to run"))?;
            let Some(id) = candidate else {
                return Ok(Claim {
                    job: None,
                    blocked_through: newest.max(after),
                });
            };
            if let Some(row) = self.claim_row(id, now).await? {
                // The `started` event is the claim's own (a trigger).
                return Ok(Claim {
                    job: Some(job_from_row(&row)?),
                    blocked_through: after,
                });
            }
        }
        Ok(Claim {
            job: None,
            blocked_through: after,
        })
    }

    async fn progress(
        &self,
        id: i64,
        pct: u8,
        message: &str,
        now: SystemTime,
    ) -> Result<(), DbError> {
        // The progress event is the update's own (a trigger).
        sqlx::query(
            "UPDATE jobs SET pct = ?, progress = ?, progress_at = ? \
             WHERE id = ? AND state = 'running'",
        )
        .bind(i64::from(pct))
        .bind(message.to_owned())
        .bind(rfc3339(now))
        .bind(id)
        .execute(self.db.pool())
        .await
        .map_err(query_err("record job progress"))?;
        Ok(())
    }

    async fn finish(&self, id: i64, end: JobEnd, now: SystemTime) -> Result<(), DbError> {
        let pct = if end.state == JobState::Cancelled {
            None
        } else {
            Some(100)
        };
        // The final event is the update's own (a trigger).
        sqlx::query(
            "UPDATE jobs SET state = ?, pct = COALESCE(?, pct), ended_at = ?, result = ?, \
             conflicts = ?, log_excerpt = ? WHERE id = ?",
        )
        .bind(end.state.as_str())
        .bind(pct)
        .bind(rfc3339(now))
        .bind(json(&end.result))
        .bind(json(&end.conflicts))
        .bind(end.log_excerpt.clone())
        .bind(id)
        .execute(self.db.pool())
        .await
        .map_err(query_err("finish a job"))?;
        Ok(())
    }

    async fn cancel(&self, id: i64, now: SystemTime) -> Result<Option<CancelOutcome>, DbError> {
        let Some(job) = self.get(id).await? else {
            return Ok(None);
        };
        if job.state.is_final() {
            return Ok(Some(CancelOutcome::AlreadyEnded));
        }
        let cancelled = sqlx::query(
            "UPDATE jobs SET state = 'cancelled', ended_at = ? WHERE id = ? AND state = 'queued'",
        )
        .bind(rfc3339(now))
        .bind(id)
        .execute(self.db.pool())
        .await
        .map_err(query_err("cancel a job"))?
        .rows_affected();
        if cancelled > 0 {
            // Its `cancelled` event is the update's own (a trigger).
            return Ok(Some(CancelOutcome::Cancelled));
        }
        sqlx::query("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND state = 'running'")
            .bind(id)
            .execute(self.db.pool())
            .await
            .map_err(query_err("cancel a job"))?;
        Ok(Some(CancelOutcome::Requested))
    }

    async fn cancel_requested(&self, id: i64) -> Result<bool, DbError> {
        let flag: Option<i64> =
            sqlx::query_scalar("SELECT cancel_requested FROM jobs WHERE id = ?")
                .bind(id)
                .fetch_optional(self.db.reads())
                .await
                .map_err(query_err("read a job"))?;
        Ok(flag.unwrap_or(0) != 0)
    }

    async fn requeue_interrupted(&self, _now: SystemTime) -> Result<u64, DbError> {
        // Each requeued job's event is the update's own (a trigger); it starts again from 0%.
        let requeued =
            sqlx::query("UPDATE jobs SET state = 'queued', pct = 0 WHERE state = 'running'")
                .execute(self.db.pool())
                .await
                .map_err(query_err("requeue jobs"))?;
        Ok(requeued.rows_affected())
    }

    async fn prune(&self, before: SystemTime) -> Result<u64, DbError> {
        let done = sqlx::query(
            "DELETE FROM jobs WHERE state IN ('success', 'conflict', 'error', 'cancelled') \
             AND ended_at < ?",
        )
        .bind(rfc3339(before))
        .execute(self.db.pool())
        .await
        .map_err(query_err("prune jobs"))?;
        Ok(done.rows_affected())
    }

    async fn events(&self, job_id: i64, after: i64) -> Result<Vec<JobEvent>, DbError> {
        let rows = sqlx::query(
            "SELECT id, job_id, at, state, pct, message FROM job_events \
             WHERE job_id = ? AND id > ? ORDER BY id",
        )
        .bind(job_id)
        .bind(after)
        .fetch_all(self.db.reads())
        .await
        .map_err(query_err("read job events"))?;
        rows.iter().map(event_from_row).collect()
    }

    async fn all_events(&self, after: i64, limit: u32) -> Result<Vec<JobEvent>, DbError> {
        let rows = sqlx::query(
            "SELECT id, job_id, at, state, pct, message FROM job_events \
             WHERE id > ? ORDER BY id LIMIT ?",
        )
        .bind(after)
        .bind(i64::from(limit.max(1)))
        .fetch_all(self.db.reads())
        .await
        .map_err(query_err("read job events"))?;
        rows.iter().map(event_from_row).collect()
    }

    async fn latest_event(&self) -> Result<i64, DbError> {
        let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM job_events")
            .fetch_one(self.db.reads())
            .await
            .map_err(query_err("read job events"))?;
        Ok(id.unwrap_or(0))
    }

    async fn outcome_counts(&self) -> Result<Vec<(JobState, u64)>, DbError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT state, COUNT(*) FROM jobs \
             WHERE state IN ('success', 'conflict', 'error', 'cancelled') GROUP BY state",
        )
        .fetch_all(self.db.reads())
        .await
        .map_err(query_err("count jobs"))?;
        rows.into_iter()
            .map(|(state, n)| Ok((state.parse()?, u64::try_from(n).unwrap_or(0))))
            .collect()
    }

    async fn queue_depth(&self) -> Result<u64, DbError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state = 'queued'")
            .fetch_one(self.db.reads())
            .await
            .map_err(query_err("count queued jobs"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

fn event_from_row(r: &SqliteRow) -> Result<JobEvent, DbError> {
    let get = |c: &str| {
        r.try_get::<String, _>(c)
            .map_err(|e| corrupt(format!("job_events.{c}: {e}")))
    };
    let int = |c: &str| {
        r.try_get::<i64, _>(c)
            .map_err(|e| corrupt(format!("job_events.{c}: {e}")))
    };
    Ok(JobEvent {
        id: int("id")?,
        job_id: int("job_id")?,
        at: get("at")?,
        state: get("state")?.parse()?,
        pct: u8::try_from(int("pct")?.clamp(0, 100)).unwrap_or(100),
        message: get("message")?,
    })
}

impl SqliteJobStore {
    /// The claim itself: one `UPDATE … RETURNING` that takes job `id` only if it is still
    /// queued and unblocked, so two runners never take one job.
    async fn claim_row(&self, id: i64, now: SystemTime) -> Result<Option<SqliteRow>, DbError> {
        let row = sqlx::query(concat!(
            "UPDATE jobs SET state = 'running', started_at = ?1, attempts = attempts + 1 ",
            "WHERE id = ?2 AND state = 'queued' AND NOT EXISTS (",
            blocked!("?2"),
            ") RETURNING id, direction, artifact_ids, project_path, collection, strategy, ",
            "dry_run, state, pct, created_at, started_at, ended_at, trace_id, log_excerpt, ",
            "conflicts, result, idempotency_key, attempts, kind, params, parent_span_id"
        ))
        .bind(rfc3339(now))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await
        .map_err(query_err("claim a job"))?;
        Ok(row)
    }
}

/// Runs queued jobs with bounded concurrency.
pub struct Runner {
    store: Arc<dyn JobStore>,
    ctx: Context,
    concurrency: usize,
    wake: tokio::sync::Notify,
    on_end: std::sync::OnceLock<EndObserver>,
    span_parent: std::sync::OnceLock<SpanParent>,
}

/// Links a job's span to the trace it belongs to (the server sets the OpenTelemetry parent
/// from the job's trace and parent span ids; core knows nothing of OpenTelemetry).
pub type SpanParent = Box<dyn Fn(&tracing::Span, &Job) + Send + Sync>;

/// Told of every job that ends: its final state and how long it ran (for metrics).
pub type EndObserver = Box<dyn Fn(JobState, Duration) + Send + Sync>;

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

/// How long finished jobs are kept.
pub const KEEP_FINISHED: Duration = Duration::from_secs(30 * 24 * 3600);

impl Runner {
    /// A runner over `store`, running syncs with `ctx` (its clock is refreshed per job).
    pub fn new(store: Arc<dyn JobStore>, ctx: Context, concurrency: usize) -> Arc<Self> {
        Arc::new(Self {
            store,
            ctx,
            concurrency: concurrency.max(1),
            wake: tokio::sync::Notify::new(),
            on_end: std::sync::OnceLock::new(),
            span_parent: std::sync::OnceLock::new(),
        })
    }

    /// Sets the observer told of every job's end; only the first call counts.
    pub fn observe_ends(&self, observer: EndObserver) {
        let _ = self.on_end.set(observer);
    }

    /// Sets what links each job's span to its trace; only the first call counts.
    pub fn parent_spans(&self, link: SpanParent) {
        let _ = self.span_parent.set(link);
    }

    /// Where jobs are kept, for reading them while the runner works.
    pub fn store(&self) -> &Arc<dyn JobStore> {
        &self.store
    }

    /// Tells the runner a job was queued, so it does not wait for its next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Requeues interrupted jobs and prunes old ones; call once before [`Runner::run`].
    pub async fn recover(&self) -> Result<u64, DbError> {
        let now = SystemTime::now();
        self.store
            .prune(now.checked_sub(KEEP_FINISHED).unwrap_or(now))
            .await?;
        self.store.requeue_interrupted(now).await
    }

    /// Claims and runs jobs until the task is dropped.
    pub async fn run(self: Arc<Self>) {
        let slots = Arc::new(tokio::sync::Semaphore::new(self.concurrency));
        // Queued jobs up to this id were blocked at the last empty claim. A job ending may
        // unblock them (`ended` is then set); a new job or a claim never does.
        let mut blocked_through = 0;
        let ended = Arc::new(std::sync::atomic::AtomicBool::new(false));
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            if ended.swap(false, std::sync::atomic::Ordering::AcqRel) {
                blocked_through = 0;
            }
            match self
                .store
                .claim_after(SystemTime::now(), blocked_through)
                .await
            {
                Ok(Claim { job: Some(job), .. }) => {
                    let me = self.clone();
                    let ended = ended.clone();
                    tokio::spawn(async move {
                        me.execute(job).await;
                        drop(permit);
                        ended.store(true, std::sync::atomic::Ordering::Release);
                        me.wake.notify_one();
                    });
                }
                Ok(Claim {
                    job: None,
                    blocked_through: through,
                }) => {
                    drop(permit);
                    blocked_through = through;
                    let woken =
                        tokio::time::timeout(Duration::from_millis(500), self.wake.notified())
                            .await;
                    if woken.is_err() {
                        // Quiet for a while: look through the whole queue again, in case a
                        // job ended elsewhere (another process sharing the database).
                        blocked_through = 0;
                    }
                }
                Err(e) => {
                    drop(permit);
                    tracing::warn!("cannot claim a job: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Runs one claimed job to its end, in a `job` span.
    pub async fn execute(&self, job: Job) {
        use tracing::Instrument as _;
        let span = tracing::info_span!(
            "job",
            job_id = job.id,
            direction = %job.direction,
            trace_id = %job.trace_id
        );
        if let Some(link) = self.span_parent.get() {
            link(&span, &job);
        }
        self.execute_in_span(job).instrument(span).await;
    }

    async fn execute_in_span(&self, job: Job) {
        let started = std::time::Instant::now();
        let mut reports: Vec<serde_json::Value> = Vec::new();
        let mut conflicts = Vec::new();
        let mut log = Vec::new();
        let mut state = JobState::Success;
        let n = job.artifact_ids.len().max(1);
        // One fetch of each upstream for the whole job.
        let run = crate::storage::fetch::FetchRun::default();
        for (i, id) in job.artifact_ids.iter().enumerate() {
            if self.store.cancel_requested(job.id).await.unwrap_or(false) {
                state = JobState::Cancelled;
                log.push(format!("cancelled before {id}"));
                break;
            }
            let ctx = Context {
                now: SystemTime::now(),
                fetch: crate::storage::fetch::FetchSettings {
                    run: Some(run.clone()),
                    ..self.ctx.fetch.clone()
                },
                ..self.ctx.clone()
            };
            let outcome = match job.kind {
                JobKind::Sync => self.sync_one(&ctx, &job, id, i, n, &mut log).await,
                JobKind::Resolve => resolve_one(&ctx, &job, id).await,
            };
            match outcome {
                Ok(Done {
                    report,
                    conflict,
                    failed,
                    line,
                }) => {
                    log.push(format!("{id}: {line}"));
                    if conflict {
                        conflicts.push(id.clone());
                        if state == JobState::Success {
                            state = JobState::Conflict;
                        }
                    }
                    if failed {
                        state = JobState::Error;
                    }
                    reports.push(report);
                }
                Err(e) => {
                    log.push(format!("{id}: error: {e}"));
                    reports.push(serde_json::json!({ "id": id, "error": e.to_string() }));
                    state = JobState::Error;
                }
            }
            let pct = u8::try_from((i + 1) * 100 / n).unwrap_or(100);
            let _ = self
                .store
                .progress(
                    job.id,
                    pct.min(99),
                    &format!("{id} done"),
                    SystemTime::now(),
                )
                .await;
        }
        let excerpt = log
            .iter()
            .rev()
            .take(20)
            .rev()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n");
        let end = JobEnd {
            state,
            result: serde_json::Value::Array(reports),
            conflicts,
            log_excerpt: excerpt,
        };
        if let Err(e) = self.store.finish(job.id, end, SystemTime::now()).await {
            tracing::error!("cannot record the end of job {}: {e}", job.id);
        }
        if let Some(observe) = self.on_end.get() {
            observe(state, started.elapsed());
        }
        tracing::info!(
            duration_ms = started.elapsed().as_millis() as u64,
            state = state.as_str(),
            "job ended"
        );
    }
}

/// What one artifact of a job came to.
struct Done {
    report: serde_json::Value,
    conflict: bool,
    failed: bool,
    line: String,
}

impl Runner {
    /// Syncs one artifact of a sync job, turning its phases into progress events and retrying
    /// once on a transient failure.
    async fn sync_one(
        &self,
        ctx: &Context,
        job: &Job,
        id: &ArtifactId,
        index: usize,
        count: usize,
        log: &mut Vec<String>,
    ) -> Result<Done, OpsError> {
        let (tx, mut rx) =
            tokio::sync::mpsc::unbounded_channel::<crate::ops::sync::request::Phase>();
        let cancelled = std::sync::atomic::AtomicBool::new(false);
        // The sender is dropped when the sync ends, which ends the forwarding loop below.
        let tx = std::sync::Mutex::new(Some(tx));
        let hook = |phase: crate::ops::sync::request::Phase| {
            if let Ok(guard) = tx.lock()
                && let Some(tx) = guard.as_ref()
            {
                let _ = tx.send(phase);
            }
            !cancelled.load(std::sync::atomic::Ordering::SeqCst)
        };
        let req = SyncRequest {
            id,
            direction: job.direction,
            project: job.project_path.as_deref(),
            collection: &job.collection,
            strategy: job.strategy,
            dry_run: job.dry_run,
            on_phase: Some(crate::ops::sync::request::PhaseHook(&hook)),
        };
        let store = &self.store;
        let forward = async {
            // Phase k of 3 of artifact `index` of `count`: progress within the whole job.
            while let Some(phase) = rx.recv().await {
                let step = match phase {
                    crate::ops::sync::request::Phase::Fetch => 0,
                    crate::ops::sync::request::Phase::Merge => 1,
                    crate::ops::sync::request::Phase::Apply => 2,
                };
                if self.store.cancel_requested(job.id).await.unwrap_or(false) {
                    cancelled.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                let pct = (index * 3 + step) * 100 / (count * 3);
                let _ = store
                    .progress(
                        job.id,
                        u8::try_from(pct).unwrap_or(99).min(99),
                        &format!("{id}: {}", phase.as_str()),
                        SystemTime::now(),
                    )
                    .await;
            }
        };
        let run = async {
            let mut outcome = sync::sync(ctx, &req).await;
            if let Err(e) = &outcome
                && is_transient(e)
            {
                log.push(format!("{id}: {e}; retrying once"));
                tokio::time::sleep(Duration::from_millis(200)).await;
                outcome = sync::sync(ctx, &req).await;
            }
            if let Ok(mut guard) = tx.lock() {
                guard.take();
            }
            outcome
        };
        let (outcome, ()) = tokio::join!(run, forward);
        let report = outcome?;
        Ok(Done {
            conflict: report.outcome == Outcome::Conflict,
            failed: report.outcome == Outcome::Diverged && !job.dry_run,
            line: report.outcome.as_str().to_owned(),
            report: report_json(&report),
        })
    }
}

/// Settles the pending merge of one artifact as a resolve job asks, and applies it when
/// nothing is left undecided.
async fn resolve_one(ctx: &Context, job: &Job, id: &ArtifactId) -> Result<Done, OpsError> {
    let params = job.resolve.clone().unwrap_or_default();
    let project = job.project_path.as_deref();
    let collection = job.collection.as_str();
    let Some(merge) = conflicts::find(&ctx.home, id, collection, project)? else {
        return Err(OpsError::NoPendingMerge { id: id.clone() });
    };
    // Checked before the first write: choices made on another merge are not applied.
    merge.expect_revision(params.expected_revision.as_deref())?;
    let mut decided = Vec::new();
    for (path, choice) in &params.files {
        conflicts::resolve_file(ctx, id, collection, project, path, (*choice).into()).await?;
        decided.push(path.clone());
    }
    for (path, sides) in &params.hunks {
        let text = settled(&merge, id, path, sides)?;
        let custom = Resolution::Custom(text.into_bytes());
        conflicts::resolve_file(ctx, id, collection, project, path, custom).await?;
        decided.push(path.clone());
    }
    if let Some(choice) = params.strategy {
        for path in merge.unresolved()? {
            if params.files.contains_key(&path) || params.hunks.contains_key(&path) {
                continue;
            }
            conflicts::resolve_file(ctx, id, collection, project, &path, choice.into()).await?;
            decided.push(path);
        }
    }
    let left = match conflicts::find(&ctx.home, id, collection, project)? {
        Some(m) => m.unresolved()?,
        None => Vec::new(),
    };
    if !left.is_empty() || !params.apply {
        let line = if left.is_empty() {
            "every file decided; not applied".to_owned()
        } else {
            format!("still undecided: {}", left.join(", "))
        };
        return Ok(Done {
            report: serde_json::json!({
                "id": id, "resolved": decided, "unresolved": left, "applied": false
            }),
            conflict: !left.is_empty(),
            failed: false,
            line,
        });
    }
    let done = conflicts::continue_merge(ctx, id, collection, project).await?;
    Ok(Done {
        report: serde_json::json!({
            "id": id, "resolved": decided, "unresolved": [], "applied": true,
            "result": done.result, "warnings": done.warnings
        }),
        conflict: false,
        failed: false,
        line: "resolved and applied".to_owned(),
    })
}

/// The text of a conflicted file of `merge` with its hunks settled by `choices`.
pub fn settled(
    merge: &conflicts::PendingMerge,
    id: &ArtifactId,
    path: &str,
    choices: &[HunkChoice],
) -> Result<String, OpsError> {
    let Some(hunks) = merge.hunks(path)? else {
        return Err(OpsError::NotInMerge {
            id: id.clone(),
            path: path.to_owned(),
            files: "it has no text to choose hunks in".to_owned(),
        });
    };
    let conflicts = hunks
        .iter()
        .filter(|h| matches!(h, Hunk::Conflict { .. }))
        .count();
    match settle_hunks(&hunks, choices) {
        Some(text) if choices.len() == conflicts => Ok(text),
        _ => Err(OpsError::HunkChoices {
            id: id.clone(),
            path: path.to_owned(),
            conflicts,
            given: choices.len(),
        }),
    }
}

fn report_json(report: &SyncReport) -> serde_json::Value {
    serde_json::to_value(report).unwrap_or(serde_json::Value::Null)
}

/// Failures worth one more try: I/O and fetch hiccups, a lock held by another writer.
fn is_transient(e: &OpsError) -> bool {
    matches!(
        e,
        OpsError::Io { .. }
            | OpsError::Apply(crate::storage::apply::ApplyError::Locked { .. })
            | OpsError::Apply(crate::storage::apply::ApplyError::Io { .. })
            | OpsError::TargetChanged { .. }
    )
}
