//! What a job is (its states, kinds, parameters, events) and [`JobStore`], the object-safe
//! storage trait the runner and the API work through; another database is an added
//! implementation of it. No SQL here: [`sqlite`](crate::jobs::sqlite) has it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::engine::merge::HunkChoice;
use crate::model::artifact::ArtifactId;
use crate::ops::conflicts::FileChoice;
use crate::ops::sync::request::Direction;
use crate::ops::sync::request::Strategy;
use crate::storage::db::DbError;

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

pub(crate) fn corrupt(what: String) -> DbError {
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
    /// Updates each artifact from its upstream into the collection, then into every project of
    /// its [`UpdateParams`] where it is deployed ([`ops::update`](crate::ops::update)): one job,
    /// one result per artifact with a step per project.
    Update,
}

impl JobKind {
    /// As stored in the `jobs.kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Resolve => "resolve",
            Self::Update => "update",
        }
    }

    /// As read from the `jobs.kind` column.
    pub fn parse(s: &str) -> Result<Self, DbError> {
        [Self::Sync, Self::Resolve, Self::Update]
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| corrupt(format!("unknown job kind `{s}`")))
    }
}

/// What an update job covers beyond its artifacts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UpdateParams {
    /// The projects each artifact is brought into where it is deployed, in order (registered,
    /// canonical paths, fixed when the job is queued so that its plan and its apply cover the
    /// same ones). None: the collection only.
    #[serde(default)]
    pub projects: Vec<PathBuf>,
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
    /// Settle the whole merge by keeping both versions: the target keeps its own, the
    /// source's becomes `<name>-fork` ([`fork_merge`](crate::ops::conflicts::fork_merge)).
    /// Excludes `files`, `hunks` and `strategy`.
    #[serde(default)]
    pub fork: bool,
    /// First take the resolutions recorded for byte-identical conflicts
    /// ([`reuse_recorded`](crate::ops::conflicts::reuse_recorded)).
    #[serde(default)]
    pub reuse: bool,
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
    /// An update job's projects.
    pub update: Option<UpdateParams>,
    /// Which way the job syncs (for a resolve job, the pending merge's direction; for an update
    /// job, its first step's: upstream to collection).
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
    /// The dry-run job whose plan this one applies: each artifact is written only if its sides
    /// and outcome are still what that plan showed.
    pub plan_job: Option<i64>,
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
    /// An update job's projects.
    pub update: Option<UpdateParams>,
    /// Which way the job syncs (for a resolve job, the pending merge's direction; for an update
    /// job, its first step's: upstream to collection).
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
    /// The dry-run job whose plan this one applies.
    pub plan_job: Option<i64>,
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
