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
//! [`store`] has the job's types and the trait, [`sqlite`] the SQL, [`runner`] the work.

pub mod runner;
pub mod sqlite;
pub mod store;

pub use runner::{Runner, SyncEnded, settled};
pub use sqlite::SqliteJobStore;
pub use store::{
    CancelOutcome, Claim, Job, JobEnd, JobEvent, JobFilter, JobKind, JobState, JobStore, NewJob,
    ResolveParams, UpdateParams,
};
