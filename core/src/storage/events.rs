//! The audit trail: the `events` table, one row per deploy, sync, conflict found, resolution,
//! abort, rollback and tag.
//!
//! A row is written by the storage call that writes the change's own database rows, inside the
//! same transaction ([`Versions::record_logged`](crate::storage::versions::Versions::record_logged),
//! [`conflict_records::insert`](crate::storage::conflict_records::insert), …): a version or a
//! conflict record never exists without the event that explains it, nor the event without them.
//! Files on disk cannot join a SQLite transaction; the operations write the event after the
//! atomic install and before the baseline moves, so a run killed in between and run again records
//! it then (once more at worst, never not at all).
//! Rows are only ever inserted.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sqlx::FromRow as _;
use sqlx::SqliteConnection;

use crate::model::artifact::ArtifactId;
use crate::model::hash::ContentHash;
use crate::storage::db::{Database, DbError, query_err};

/// What an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// Copies written into a project by `deploy`.
    Deploy,
    /// A sync that changed a target or moved a baseline.
    Sync,
    /// A merge that could not apply cleanly: a pending merge was opened.
    Conflict,
    /// A pending merge applied once every file was decided.
    Resolve,
    /// A pending merge abandoned.
    Abort,
    /// An earlier version restored.
    Rollback,
    /// A version named (or renamed) with a tag.
    Tag,
    /// An artifact taken out of a collection (its versions stay in the store).
    Remove,
    /// A copy taken out of a project.
    Undeploy,
}

impl EventKind {
    /// Every kind, in the order they are documented.
    pub const ALL: [Self; 9] = [
        Self::Deploy,
        Self::Sync,
        Self::Conflict,
        Self::Resolve,
        Self::Abort,
        Self::Rollback,
        Self::Tag,
        Self::Remove,
        Self::Undeploy,
    ];

    /// The name stored, printed and accepted by filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deploy => "deploy",
            Self::Sync => "sync",
            Self::Conflict => "conflict",
            Self::Resolve => "resolve",
            Self::Abort => "abort",
            Self::Rollback => "rollback",
            Self::Tag => "tag",
            Self::Remove => "remove",
            Self::Undeploy => "undeploy",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown event kind `{s}`: use {}", names.join(", "))
            })
    }
}

/// One event: what happened to which artifact where, with the versions involved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Its row id (0 until written); ids grow with time, so they page the log.
    pub id: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    pub kind: EventKind,
    pub artifact_id: ArtifactId,
    pub collection: String,
    /// The project (canonical path); `None` for the collection tier.
    pub project: Option<PathBuf>,
    /// A sync's or a merge's full direction name.
    pub direction: Option<String>,
    /// The strategy asked for.
    pub strategy: Option<String>,
    /// The pair's drift status before the change (`outdated`, `conflict`, …).
    pub status: Option<String>,
    /// What a sync did (`fast-forward`, `merged`, …).
    pub outcome: Option<String>,
    /// The merge base, the source ("theirs"), the target before ("ours") and the result.
    pub base: Option<ContentHash>,
    pub source: Option<ContentHash>,
    pub target: Option<ContentHash>,
    pub result: Option<ContentHash>,
    /// Files merged from changes on both sides.
    pub merged: Vec<String>,
    /// Files that conflicted.
    pub conflicted: Vec<String>,
    /// How each conflicted file was settled: `ours`, `theirs`, `custom` or `hunks`.
    pub resolutions: BTreeMap<String, String>,
    /// What else the kind carries (a tag's name, the conflict record's id, …).
    pub detail: serde_json::Value,
}

impl Event {
    /// A new event of `kind` for `artifact` in `collection`, at `at`, with nothing else known.
    pub fn new(kind: EventKind, artifact: &ArtifactId, collection: &str, at: String) -> Self {
        Self {
            id: 0,
            at,
            kind,
            artifact_id: artifact.clone(),
            collection: collection.to_owned(),
            project: None,
            direction: None,
            strategy: None,
            status: None,
            outcome: None,
            base: None,
            source: None,
            target: None,
            result: None,
            merged: Vec::new(),
            conflicted: Vec::new(),
            resolutions: BTreeMap::new(),
            detail: serde_json::json!({}),
        }
    }
}

impl Event {
    /// What happened, in one line for people: `fast-forward (was outdated) 1a2b… → 3c4d…`,
    /// `conflict on SKILL.md, run.sh`, `resolved: SKILL.md hunks → 5e6f…`.
    pub fn summary(&self) -> String {
        let short = |h: Option<ContentHash>| h.map_or_else(|| "-".to_owned(), |h| h.short());
        let arrow = format!("{} → {}", short(self.target), short(self.result));
        match self.kind {
            EventKind::Deploy => match self.base {
                Some(_) => format!("deployed {} over {}", short(self.result), short(self.base)),
                None => format!("deployed {}", short(self.result)),
            },
            EventKind::Sync => {
                let mut line = format!(
                    "{} (was {}) {arrow}",
                    self.outcome.as_deref().unwrap_or("sync"),
                    self.status.as_deref().unwrap_or("-"),
                );
                if !self.merged.is_empty() {
                    line.push_str(&format!("; merged {}", self.merged.join(", ")));
                }
                if let Some(fork) = self.detail["fork"].as_str() {
                    line.push_str(&format!("; the source's version is now {fork}"));
                }
                if let Some(from) = self.detail["forked_from"].as_str() {
                    line.push_str(&format!("; a fork of {from}"));
                }
                line
            }
            EventKind::Conflict => format!("conflict on {}", self.conflicted.join(", ")),
            EventKind::Resolve => {
                let how: Vec<String> = self
                    .resolutions
                    .iter()
                    .map(|(path, how)| format!("{path} {how}"))
                    .collect();
                let mut line = format!("resolved: {} → {}", how.join(", "), short(self.result));
                if let Some(fork) = self.detail["fork"].as_str() {
                    line.push_str(&format!("; the source's version is now {fork}"));
                }
                line
            }
            EventKind::Abort => format!("merge abandoned ({})", self.conflicted.join(", ")),
            EventKind::Rollback => format!("rolled back {arrow}"),
            EventKind::Tag => format!(
                "tagged {} {}",
                short(self.result),
                self.detail["tag"].as_str().unwrap_or("?")
            ),
            EventKind::Remove => {
                format!("removed from the collection (was {})", short(self.target))
            }
            EventKind::Undeploy => {
                let mut line = format!("undeployed {}", short(self.target));
                if self.detail["local_edits"] == true {
                    line.push_str(", its local edits recorded first");
                }
                line
            }
        }
    }

    /// Where it happened: the project's path, or `collection`.
    pub fn place(&self) -> String {
        match &self.project {
            Some(p) => p.display().to_string(),
            None => "collection".to_owned(),
        }
    }
}

/// Which events to read: every filter given must hold. Newest first, `limit` at a time,
/// `before` an id to page back from.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub artifact: Option<ArtifactId>,
    /// Any of these kinds (all when empty).
    pub kinds: Vec<EventKind>,
    /// Only this project (canonical path).
    pub project: Option<PathBuf>,
    /// Only events at or after this time (RFC 3339).
    pub since: Option<String>,
    /// Only events with a smaller id (the next page).
    pub before: Option<i64>,
    /// At most this many (at least 1, at most [`MAX_PAGE`]; 50 when 0).
    pub limit: u32,
}

/// The largest page [`list`] returns.
pub const MAX_PAGE: u32 = 500;

fn json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// Writes `event` on `conn` (the caller's transaction); its id.
pub async fn insert(conn: &mut SqliteConnection, event: &Event) -> Result<i64, DbError> {
    let hex = |h: Option<ContentHash>| h.map(|h| h.to_hex());
    let row = sqlx::query(
        "INSERT INTO events (at, kind, artifact_id, collection, project_path, direction, \
         strategy, status, outcome, base_hash, source_hash, target_hash, result_hash, merged, \
         conflicted, resolutions, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(event.at.clone())
    .bind(event.kind.as_str())
    .bind(event.artifact_id.to_string())
    .bind(event.collection.clone())
    .bind(
        event
            .project
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned()),
    )
    .bind(event.direction.clone())
    .bind(event.strategy.clone())
    .bind(event.status.clone())
    .bind(event.outcome.clone())
    .bind(hex(event.base))
    .bind(hex(event.source))
    .bind(hex(event.target))
    .bind(hex(event.result))
    .bind(json(&event.merged))
    .bind(json(&event.conflicted))
    .bind(json(&event.resolutions))
    .bind(json(&event.detail))
    .execute(&mut *conn)
    .await
    .map_err(query_err("record an event"))?;
    Ok(row.last_insert_rowid())
}

/// Writes `events` in one transaction of their own (for changes with no other database row).
pub async fn insert_all(db: &Database, events: &[Event]) -> Result<(), DbError> {
    let mut tx = db
        .pool()
        .begin()
        .await
        .map_err(query_err("begin recording events"))?;
    for e in events {
        insert(&mut tx, e).await?;
    }
    tx.commit().await.map_err(query_err("commit events"))?;
    Ok(())
}

/// The events `filter` selects, newest first.
pub async fn list(db: &Database, filter: &EventFilter) -> Result<Vec<Event>, DbError> {
    let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
        "SELECT id, at, kind, artifact_id, collection, project_path, direction, strategy, status, \
         outcome, base_hash, source_hash, target_hash, result_hash, merged, conflicted, \
         resolutions, detail FROM events WHERE 1 = 1",
    );
    if let Some(a) = &filter.artifact {
        q.push(" AND artifact_id = ").push_bind(a.to_string());
    }
    if !filter.kinds.is_empty() {
        q.push(" AND kind IN (");
        let mut sep = q.separated(", ");
        for k in &filter.kinds {
            sep.push_bind(k.as_str());
        }
        q.push(")");
    }
    if let Some(p) = &filter.project {
        q.push(" AND project_path = ")
            .push_bind(p.to_string_lossy().into_owned());
    }
    if let Some(s) = &filter.since {
        q.push(" AND at >= ").push_bind(s.clone());
    }
    if let Some(b) = filter.before {
        q.push(" AND id < ").push_bind(b);
    }
    let limit = match filter.limit {
        0 => 50,
        n => n.min(MAX_PAGE),
    };
    q.push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(limit));
    let rows = q
        .build()
        .fetch_all(db.reads())
        .await
        .map_err(query_err("read events"))?;
    rows.iter()
        .map(|r| {
            let row = EventRow::from_row(r).map_err(query_err("decode an event"))?;
            Event::try_from(row)
        })
        .collect()
}

/// An `events` row as SQLite holds it; [`Event::try_from`] checks what the types cannot.
#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    at: String,
    kind: String,
    artifact_id: String,
    collection: String,
    project_path: Option<String>,
    direction: Option<String>,
    strategy: Option<String>,
    status: Option<String>,
    outcome: Option<String>,
    base_hash: Option<String>,
    source_hash: Option<String>,
    target_hash: Option<String>,
    result_hash: Option<String>,
    merged: String,
    conflicted: String,
    resolutions: String,
    detail: String,
}

impl TryFrom<EventRow> for Event {
    type Error = DbError;

    fn try_from(row: EventRow) -> Result<Self, DbError> {
        let damaged = |what: String| DbError::Damaged {
            what: format!("events row {}: {what}", row.id),
        };
        let hash = |col: &str, v: &Option<String>| -> Result<Option<ContentHash>, DbError> {
            v.as_deref()
                .map(|h| h.parse().map_err(|e| damaged(format!("{col}: {e}"))))
                .transpose()
        };
        let parse_json = |col: &str, text: &str| -> Result<serde_json::Value, DbError> {
            serde_json::from_str(text).map_err(|e| damaged(format!("{col}: {e}")))
        };
        let strings = |col: &str, text: &str| -> Result<Vec<String>, DbError> {
            serde_json::from_value(parse_json(col, text)?)
                .map_err(|e| damaged(format!("{col}: {e}")))
        };
        Ok(Event {
            id: row.id,
            kind: row.kind.parse().map_err(damaged)?,
            artifact_id: row
                .artifact_id
                .parse()
                .map_err(|e| damaged(format!("artifact_id: {e}")))?,
            base: hash("base_hash", &row.base_hash)?,
            source: hash("source_hash", &row.source_hash)?,
            target: hash("target_hash", &row.target_hash)?,
            result: hash("result_hash", &row.result_hash)?,
            merged: strings("merged", &row.merged)?,
            conflicted: strings("conflicted", &row.conflicted)?,
            resolutions: serde_json::from_value(parse_json("resolutions", &row.resolutions)?)
                .map_err(|e| damaged(format!("resolutions: {e}")))?,
            detail: parse_json("detail", &row.detail)?,
            at: row.at,
            collection: row.collection,
            project: row.project_path.map(PathBuf::from),
            direction: row.direction,
            strategy: row.strategy,
            status: row.status,
            outcome: row.outcome,
        })
    }
}
