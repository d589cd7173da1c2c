//! The SQLite database `$SKILLMEAT_HOME/skillmeat.db`: opening it (WAL, busy timeout) and
//! bringing its schema up to date with the migrations in `migrations/`.
//!
//! The tables are owned by the modules that use them: [`versions`](crate::storage::versions) for
//! `artifact_versions`, [`projects`](crate::storage::projects) for `projects`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::model::error::ErrorKind;

/// The migrations, embedded at build time (`build.rs` reruns the build when one is added).
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// The database file's name inside the home.
pub const DB_FILE: &str = "skillmeat.db";

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The file could not be opened or created.
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("cannot update the database schema of {path}: {source}")]
    Migrate {
        path: PathBuf,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A query failed.
    #[error("database query failed ({what}): {source}")]
    Query {
        what: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// A row that does not parse: the database was edited or damaged.
    #[error("the database holds a damaged row: {what}")]
    Damaged { what: String },
}

impl DbError {
    /// What kind of failure this is, for the edges to answer it (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Open { .. }
            | Self::Migrate { .. }
            | Self::Query { .. }
            | Self::Damaged { .. } => ErrorKind::Internal,
        }
    }
}

/// A `map_err` adapter naming the query that failed.
pub(crate) fn query_err(what: &'static str) -> impl FnOnce(sqlx::Error) -> DbError {
    move |source| DbError::Query { what, source }
}

/// An open database. Cheap to clone: clones share its connection pools.
///
/// Writes go through one connection ([`Database::pool`]), so writers in this process queue in
/// order instead of meeting SQLite's busy handler, which sleeps in steps of up to 100 ms while
/// another connection holds the write lock. Reads that need not follow a write of their own use
/// [`Database::reads`], several connections that WAL lets run beside the writer.
#[derive(Debug, Clone)]
pub struct Database {
    pool: SqlitePool,
    reads: SqlitePool,
    /// The connection that checkpoints the WAL for [`Database::open_serving`].
    checkpoints: Option<SqlitePool>,
}

impl Database {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, DbError> {
        Self::open_with(path, true).await
    }

    /// [`Database::open`] for a long-running process that writes often (the server): WAL
    /// checkpoints move off the writing connection to one of their own, which a task on the
    /// current tokio runtime runs every [`CHECKPOINT_EVERY`]. With SQLite's default, the
    /// commit that grows the WAL past 1000 pages copies them into the database itself, and every
    /// write queued behind it (a `POST /sync/jobs`, say) waits those milliseconds; a passive
    /// checkpoint on another connection runs beside the writer instead.
    pub async fn open_serving(path: &Path) -> Result<Self, DbError> {
        let mut db = Self::open_with(path, false).await?;
        let checkpoints = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(base_options(path))
            .await
            .map_err(|source| DbError::Open {
                path: path.to_owned(),
                source,
            })?;
        db.checkpoints = Some(checkpoints.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !checkpoints.is_closed() {
                tick.tick().await;
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&checkpoints)
                    .await
                    && !checkpoints.is_closed()
                {
                    tracing::warn!("cannot checkpoint the database's WAL: {e}");
                }
            }
        });
        Ok(db)
    }

    async fn open_with(path: &Path, auto_checkpoint: bool) -> Result<Self, DbError> {
        let options = base_options(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL loses no committed data on an application crash, only possibly the
            // last transactions on power loss; the records on disk (TOML) are the source of truth.
            .synchronous(SqliteSynchronous::Normal);
        let options = if auto_checkpoint {
            options
        } else {
            options.pragma("wal_autocheckpoint", "0")
        };
        let open_err = |source| DbError::Open {
            path: path.to_owned(),
            source,
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(open_err)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|source| DbError::Migrate {
                path: path.to_owned(),
                source,
            })?;
        // `query_only` makes a write through the read pool an error instead of a second writer.
        let reads = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(base_options(path).pragma("query_only", "ON"))
            .await
            .map_err(open_err)?;
        Ok(Self {
            pool,
            reads,
            checkpoints: None,
        })
    }

    /// Opens an existing database for reading, for read-only commands; `None` when there is no
    /// database yet. Nothing is created or migrated, and callers only run queries that read.
    ///
    /// The connection itself is read-write on purpose: a read-only SQLite connection to a WAL
    /// database leaves `-wal` and `-shm` files behind, while a read-write one removes them when
    /// closed (see [`Database::close`]), so a read-only command leaves the home as it found it.
    pub async fn open_read_only(path: &Path) -> Result<Option<Self>, DbError> {
        if !path.exists() {
            return Ok(None);
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(base_options(path).create_if_missing(false))
            .await
            .map_err(|source| DbError::Open {
                path: path.to_owned(),
                source,
            })?;
        Ok(Some(Self {
            reads: pool.clone(),
            pool,
            checkpoints: None,
        }))
    }

    /// Closes every connection, waiting for SQLite to checkpoint and remove its WAL files.
    pub async fn close(&self) {
        // Readers first: the writer, closing last, is the one that checkpoints.
        if let Some(checkpoints) = &self.checkpoints {
            checkpoints.close().await;
        }
        self.reads.close().await;
        self.pool.close().await;
    }

    /// The writing connection, for the modules that own tables: every write, and reads that
    /// must see the caller's own writes in order.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The reading connections: `SELECT`s only (a write here fails with "attempt to write a
    /// readonly database"). They see every committed write.
    pub fn reads(&self) -> &SqlitePool {
        &self.reads
    }
}

/// How often [`Database::open_serving`] checkpoints the WAL.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

fn base_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
}
