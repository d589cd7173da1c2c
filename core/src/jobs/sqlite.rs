//! [`SqliteJobStore`]: jobs in `skillmeat.db`. A job's events are written by triggers on its
//! row (see the migrations), so each step the runner records is one statement and one short turn
//! at the write lock; a claim is one `UPDATE … RETURNING`.

use std::path::PathBuf;
use std::time::SystemTime;

use serde::Serialize;
use sqlx::FromRow as _;
use sqlx::sqlite::SqliteRow;

use crate::jobs::store::{
    CancelOutcome, Claim, Job, JobEnd, JobEvent, JobFilter, JobKind, JobState, JobStore, NewJob,
    corrupt,
};
use crate::model::artifact::ArtifactId;
use crate::model::time::rfc3339;
use crate::storage::db::{Database, DbError, query_err};

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

/// The columns [`job_from_row`] reads, in one place for every statement that returns a job
/// (the selects, the insert's and the claim's `RETURNING`).
macro_rules! job_columns {
    () => {
        "id, direction, artifact_ids, project_path, collection, strategy, dry_run, state, pct, \
         created_at, started_at, ended_at, trace_id, log_excerpt, conflicts, result, \
         idempotency_key, attempts, kind, params, parent_span_id, plan_job"
    };
}

macro_rules! select_jobs {
    ($rest:literal) => {
        concat!("SELECT ", job_columns!(), " FROM jobs ", $rest)
    };
}

/// A `jobs` row as SQLite holds it (the columns of [`job_columns!`]); [`Job::try_from`] checks
/// what the column types cannot (names, JSON, ranges).
#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    direction: String,
    artifact_ids: String,
    project_path: Option<String>,
    collection: String,
    strategy: String,
    dry_run: i64,
    state: String,
    pct: i64,
    created_at: String,
    started_at: Option<String>,
    ended_at: Option<String>,
    trace_id: String,
    log_excerpt: String,
    conflicts: String,
    result: Option<String>,
    idempotency_key: Option<String>,
    attempts: i64,
    kind: String,
    params: Option<String>,
    parent_span_id: Option<String>,
    plan_job: Option<i64>,
}

impl TryFrom<JobRow> for Job {
    type Error = DbError;

    fn try_from(row: JobRow) -> Result<Self, DbError> {
        let ids = |c: &str, text: &str| -> Result<Vec<ArtifactId>, DbError> {
            serde_json::from_str(text).map_err(|e| corrupt(format!("jobs.{c}: {e}")))
        };
        let kind = JobKind::parse(&row.kind)?;
        fn params<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, DbError> {
            serde_json::from_str(text).map_err(|e| corrupt(format!("jobs.params: {e}")))
        }
        let (resolve, update) = match (kind, row.params.as_deref()) {
            (_, None) | (JobKind::Sync, _) => (None, None),
            (JobKind::Resolve, Some(p)) => (Some(params(p)?), None),
            (JobKind::Update, Some(p)) => (None, Some(params(p)?)),
        };
        Ok(Job {
            id: row.id,
            kind,
            resolve,
            update,
            direction: row.direction.parse().map_err(corrupt)?,
            artifact_ids: ids("artifact_ids", &row.artifact_ids)?,
            project_path: row.project_path.map(PathBuf::from),
            collection: row.collection,
            strategy: row.strategy.parse().map_err(corrupt)?,
            dry_run: row.dry_run != 0,
            plan_job: row.plan_job,
            state: row.state.parse()?,
            pct: u8::try_from(row.pct.clamp(0, 100)).unwrap_or(100),
            created_at: row.created_at,
            started_at: row.started_at,
            ended_at: row.ended_at,
            trace_id: row.trace_id,
            parent_span_id: row.parent_span_id,
            log_excerpt: row.log_excerpt,
            conflicts: ids("conflicts", &row.conflicts)?,
            result: row.result.and_then(|r| serde_json::from_str(&r).ok()),
            idempotency_key: row.idempotency_key,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
        })
    }
}

fn job_from_row(row: &SqliteRow) -> Result<Job, DbError> {
    let row = JobRow::from_row(row).map_err(|e| corrupt(format!("jobs: {e}")))?;
    Job::try_from(row)
}

/// A `job_events` row as SQLite holds it.
#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    job_id: i64,
    at: String,
    state: String,
    pct: i64,
    message: String,
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
            "dry_run, state, created_at, trace_id, idempotency_key, kind, params, parent_span_id, ",
            "plan_job) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?) ",
            "ON CONFLICT (idempotency_key) DO NOTHING ",
            "RETURNING ",
            job_columns!()
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
        .bind(match job.kind {
            JobKind::Sync => None,
            JobKind::Resolve => job.resolve.as_ref().map(json),
            JobKind::Update => job.update.as_ref().map(json),
        })
        .bind(job.parent_span_id.clone())
        .bind(job.plan_job)
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
    let row = EventRow::from_row(r).map_err(|e| corrupt(format!("job_events: {e}")))?;
    Ok(JobEvent {
        id: row.id,
        job_id: row.job_id,
        at: row.at,
        state: row.state.parse()?,
        pct: u8::try_from(row.pct.clamp(0, 100)).unwrap_or(100),
        message: row.message,
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
            ") RETURNING ",
            job_columns!()
        ))
        .bind(rfc3339(now))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await
        .map_err(query_err("claim a job"))?;
        Ok(row)
    }
}
