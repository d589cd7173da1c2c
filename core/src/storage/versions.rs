//! Versions and lineage (DESIGN §3): every version SkillMeat writes or sees, recorded once per
//! artifact in `artifact_versions`, with its content in the [`store`](crate::storage::store).
//!
//! A version is identified by its content hash. Recording the same content for the same
//! artifact twice returns the first record (nothing is rewritten), so callers record freely.
//! Parents name the versions a version came from, by content hash; a parent the table does not
//! know (a hash from an old tool's records) is kept in `parent_hash` and in the lineage but cannot
//! be a commit parent. `version_lineage` is the first-parent chain, newest first, starting with
//! the version itself and capped at [`MAX_LINEAGE`] entries; the full graph is in `store.git`.
//!
//! Callers treat recording as secondary to the user's operation: [`ops`](crate::ops) turns a
//! failure here into a warning in its result, never into a failed operation.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sqlx::FromRow as _;
use sqlx::sqlite::SqliteRow;

use crate::model::artifact::ArtifactId;
use crate::model::error::ErrorKind;
use crate::model::hash::ContentHash;
use crate::storage::db::{self, DB_FILE, Database, DbError, query_err};
use crate::storage::events::Event;
use crate::storage::home::Home;
use crate::storage::store::{CommitId, Store, StoreError, TreeId};

/// How many hashes `version_lineage` keeps (the newest ones).
pub const MAX_LINEAGE: usize = 64;

/// The store's folder name inside the home.
pub const STORE_DIR: &str = "store.git";

/// How a version came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOrigin {
    /// First seen when deployed (content placed in the collection by hand).
    Deployment,
    /// Came from another tier: an upstream fetch, an update, a capture.
    Sync,
    /// An edit made outside SkillMeat, seen when SkillMeat next wrote the artifact.
    LocalModification,
    /// The result of a three-way merge (two parents).
    Merge,
    /// Restored from an earlier version.
    Rollback,
}

impl ChangeOrigin {
    /// The name stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deployment => "deployment",
            Self::Sync => "sync",
            Self::LocalModification => "local_modification",
            Self::Merge => "merge",
            Self::Rollback => "rollback",
        }
    }
}

impl fmt::Display for ChangeOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChangeOrigin {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::Deployment,
            Self::Sync,
            Self::LocalModification,
            Self::Merge,
            Self::Rollback,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
        .ok_or_else(|| VersionError::Corrupt {
            what: format!("unknown change origin `{s}`"),
        })
    }
}

/// One recorded version of an artifact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Version {
    /// Which artifact this is a version of.
    pub artifact_id: ArtifactId,
    /// The version's content hash (`v1`).
    pub content_hash: ContentHash,
    /// Its files in the store.
    pub tree_id: TreeId,
    /// Its place in the lineage graph.
    pub commit_id: CommitId,
    /// The version it came from (the first parent), when known.
    pub parent_hash: Option<String>,
    /// Every version it came from; two for a merge.
    pub parent_hashes: Vec<String>,
    /// Hashes along the first-parent chain, newest first, starting with this version.
    pub version_lineage: Vec<String>,
    /// How it came to be.
    pub change_origin: ChangeOrigin,
    /// When it was first recorded (RFC 3339, UTC).
    pub created_at: String,
    /// A name the user gave it (`skillmeat tag`).
    pub version_tag: Option<String>,
    /// Whether its tag marks a breaking change (`skillmeat tag … --major`).
    pub breaking: bool,
    /// Where it came from in detail (upstream commit, project, …).
    pub metadata: serde_json::Value,
}

/// A version to record.
#[derive(Debug, Clone)]
pub struct NewVersion<'a> {
    /// Which artifact this is a version of.
    pub artifact: &'a ArtifactId,
    /// Its content on disk: a skill's folder or a command's or agent's file.
    pub path: &'a Path,
    /// How it came to be.
    pub origin: ChangeOrigin,
    /// Content hashes of the versions it came from, first parent first.
    pub parents: Vec<String>,
    /// Whose versions `parents` are, when not this artifact's own: a fork's first version
    /// descends from its original's (`None`: the artifact's own).
    pub parents_of: Option<&'a ArtifactId>,
    /// Details worth keeping (a JSON object).
    pub metadata: serde_json::Value,
    /// The time to stamp it with.
    pub now: SystemTime,
}

/// The outcome of [`Versions::record`].
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The version as recorded (the earlier record when it already existed).
    pub version: Version,
    /// False when this content was already recorded for the artifact.
    pub created: bool,
}

/// Why a version could not be recorded or found.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No version of the artifact matches.
    #[error("{artifact} has no recorded version `{given}`")]
    NotFound { artifact: ArtifactId, given: String },
    /// The artifact has no recorded version at all.
    #[error("{artifact} has no recorded versions yet (add, deploy, sync and tag record them)")]
    NoVersions { artifact: ArtifactId },
    /// A hash prefix matches several versions.
    #[error("`{given}` matches {count} versions of {artifact}; give more characters")]
    Ambiguous {
        artifact: ArtifactId,
        given: String,
        count: usize,
    },
    /// A tag breaks the naming rule.
    #[error("invalid tag `{tag}`: {why}")]
    BadTag { tag: String, why: &'static str },
    /// The tag already names another version of the artifact.
    #[error("tag `{tag}` already names version {other} of {artifact}")]
    TagTaken {
        artifact: ArtifactId,
        tag: String,
        other: String,
    },
    /// A row that does not parse: the database was edited or damaged.
    #[error("the version database holds a damaged row: {what}")]
    Corrupt { what: String },
}

impl VersionError {
    /// What kind of failure this is, for the edges to answer it (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Db(e) => e.kind(),
            Self::Store(e) => e.kind(),
            Self::NotFound { .. } | Self::NoVersions { .. } => ErrorKind::UnknownVersion,
            Self::Ambiguous { .. } => ErrorKind::AmbiguousVersion,
            Self::BadTag { .. } => ErrorKind::Invalid,
            Self::TagTaken { .. } => ErrorKind::TagTaken,
            Self::Corrupt { .. } => ErrorKind::Internal,
        }
    }
}

/// The version store: `store.git` for content, `artifact_versions` for the index. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Versions {
    db: Database,
    store: Store,
    /// Whether this opened `db` itself (and so closes it), rather than using the home's shared
    /// one.
    owns_db: bool,
}

/// The columns [`version_from_row`] reads, as a macro so queries stay string literals.
macro_rules! select_versions {
    ($where:literal) => {
        concat!(
            "SELECT artifact_id, content_hash, tree_id, commit_id, parent_hash, parent_hashes, \
             version_lineage, change_origin, created_at, version_tag, breaking, metadata \
             FROM artifact_versions ",
            $where
        )
    };
}

impl Versions {
    /// Opens the home's version store, creating `store.git` and `skillmeat.db` when missing.
    pub async fn open(home: &Home) -> Result<Self, VersionError> {
        let store = Store::open_or_init(home.root().join(STORE_DIR))?;
        if let Some(db) = home.shared_database() {
            return Ok(Self {
                db: db.clone(),
                store,
                owns_db: false,
            });
        }
        let db = Database::open(&home.root().join(DB_FILE)).await?;
        Ok(Self {
            db,
            store,
            owns_db: true,
        })
    }

    /// Opens the home's version store without creating or migrating anything; `None` when the
    /// home has none yet. For read-only commands.
    pub async fn open_read_only(home: &Home) -> Result<Option<Self>, VersionError> {
        let store_path = home.root().join(STORE_DIR);
        let Some((db, owns_db)) = database_read_only(home).await? else {
            return Ok(None);
        };
        if !store_path.exists() {
            return Ok(None);
        }
        Ok(Some(Self {
            db,
            store: Store::open_or_init(store_path)?,
            owns_db,
        }))
    }

    /// Closes the database cleanly, waiting for its connections to finish (and SQLite to
    /// checkpoint the WAL), unless it is the home's shared one, which stays open for its owner.
    /// Dropping without closing is safe but finishes in the background.
    pub async fn close(self) {
        if self.owns_db {
            self.db.close().await;
        }
    }

    /// The git object store behind the versions (`store.git`).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The database, shared with the other tables' owners.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Records the artifact's content at `new.path` as a version, unless this content is
    /// already recorded for the artifact, in which case the existing record is returned.
    pub async fn record(&self, new: NewVersion<'_>) -> Result<Recorded, VersionError> {
        self.record_logged(new, &[]).await
    }

    /// Like [`Versions::record`], and writes `events` (the change the version is part of) in
    /// the same transaction as the version's row: both are there, or neither.
    pub async fn record_logged(
        &self,
        new: NewVersion<'_>,
        events: &[Event],
    ) -> Result<Recorded, VersionError> {
        let stored = self.store.write_tree(new.path)?;
        let hex = stored.content_hash.to_hex();
        if let Some(existing) = self.get(new.artifact, &hex).await? {
            if !events.is_empty() {
                crate::storage::events::insert_all(&self.db, events).await?;
            }
            return Ok(Recorded {
                version: existing,
                created: false,
            });
        }
        // A version is never its own parent; another artifact's version of the same content
        // can be (a fork of a skill starts as its original's content).
        let lineage_of = new.parents_of.unwrap_or(new.artifact);
        let mut parents: Vec<String> = Vec::new();
        for p in new.parents {
            if (p != hex || lineage_of != new.artifact) && !parents.contains(&p) {
                parents.push(p);
            }
        }
        let mut parent_commits = Vec::new();
        let mut lineage = vec![hex.clone()];
        for (i, p) in parents.iter().enumerate() {
            let known = self.get(lineage_of, p).await?;
            if i == 0 {
                match &known {
                    Some(v) => lineage.extend(v.version_lineage.iter().cloned()),
                    None => lineage.push(p.clone()),
                }
            }
            if let Some(v) = known {
                parent_commits.push(v.commit_id);
            }
        }
        lineage.truncate(MAX_LINEAGE);
        let message = format!(
            "{} {} {}\n\nparents: {}\n",
            new.artifact,
            new.origin,
            stored.content_hash.short(),
            match (parents.is_empty(), new.parents_of) {
                (true, _) => "none".to_owned(),
                (false, Some(of)) if of != new.artifact =>
                    format!("{} (of {of})", parents.join(", ")),
                (false, _) => parents.join(", "),
            }
        );
        let commit = self
            .store
            .commit(&stored.tree, &parent_commits, &message, new.now)?;
        let mut tx = self
            .db
            .pool()
            .begin()
            .await
            .map_err(query_err("begin recording a version"))?;
        sqlx::query(
            "INSERT INTO artifact_versions (artifact_id, content_hash, tree_id, commit_id, \
             parent_hash, parent_hashes, version_lineage, change_origin, created_at, metadata) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (artifact_id, content_hash) DO NOTHING",
        )
        .bind(new.artifact.to_string())
        .bind(hex.clone())
        .bind(stored.tree.as_str().to_owned())
        .bind(commit.as_str().to_owned())
        .bind(parents.first().cloned())
        .bind(to_json(&parents))
        .bind(to_json(&lineage))
        .bind(new.origin.as_str())
        .bind(crate::model::time::rfc3339(new.now))
        .bind(to_json(&new.metadata))
        .execute(&mut *tx)
        .await
        .map_err(query_err("insert a version"))?;
        for e in events {
            crate::storage::events::insert(&mut tx, e).await?;
        }
        tx.commit().await.map_err(query_err("commit a version"))?;
        let version = self
            .get(new.artifact, &hex)
            .await?
            .ok_or_else(|| VersionError::Corrupt {
                what: format!("{} {} vanished after it was inserted", new.artifact, hex),
            })?;
        // Under a race the other writer's row won; either way the content is the same.
        let created = version.commit_id == commit;
        Ok(Recorded { version, created })
    }

    /// The version of `artifact` with exactly this content hash (64 hex), if recorded.
    pub async fn get(
        &self,
        artifact: &ArtifactId,
        content_hash: &str,
    ) -> Result<Option<Version>, VersionError> {
        let row = sqlx::query(select_versions!(
            "WHERE artifact_id = ? AND content_hash = ?"
        ))
        .bind(artifact.to_string())
        .bind(content_hash.to_owned())
        .fetch_optional(self.db.reads())
        .await
        .map_err(query_err("read a version"))?;
        row.map(|r| version_from_row(&r)).transpose()
    }

    /// Finds one version of `artifact` by tag or by a prefix of its hash (at least 4 hex).
    pub async fn resolve(
        &self,
        artifact: &ArtifactId,
        given: &str,
    ) -> Result<Version, VersionError> {
        let all = self.history(artifact).await?;
        if let Some(v) = all.iter().find(|v| v.version_tag.as_deref() == Some(given)) {
            return Ok(v.clone());
        }
        let prefix = given.to_ascii_lowercase();
        let matches: Vec<&Version> =
            if prefix.len() >= 4 && prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
                all.iter()
                    .filter(|v| v.content_hash.to_hex().starts_with(&prefix))
                    .collect()
            } else {
                Vec::new()
            };
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(VersionError::NotFound {
                artifact: artifact.clone(),
                given: given.to_owned(),
            }),
            many => Err(VersionError::Ambiguous {
                artifact: artifact.clone(),
                given: given.to_owned(),
                count: many.len(),
            }),
        }
    }

    /// The newest version of `artifact` recorded with `tier` in its metadata (`collection`).
    pub async fn latest_in_tier(
        &self,
        artifact: &ArtifactId,
        tier: &str,
    ) -> Result<Option<Version>, VersionError> {
        let row = sqlx::query(select_versions!(
            "WHERE artifact_id = ? AND json_extract(metadata, '$.tier') = ? ORDER BY id DESC LIMIT 1"
        ))
        .bind(artifact.to_string())
        .bind(tier.to_owned())
        .fetch_optional(self.db.reads())
        .await
        .map_err(query_err("read the latest version of a tier"))?;
        row.map(|r| version_from_row(&r)).transpose()
    }

    /// Every recorded version of `artifact`, newest first.
    pub async fn history(&self, artifact: &ArtifactId) -> Result<Vec<Version>, VersionError> {
        let rows = sqlx::query(select_versions!("WHERE artifact_id = ? ORDER BY id DESC"))
            .bind(artifact.to_string())
            .fetch_all(self.db.reads())
            .await
            .map_err(query_err("read the history"))?;
        rows.iter().map(version_from_row).collect()
    }

    /// Names the version `content_hash` of `artifact` with `tag`. A tag names one version per
    /// artifact: moving it from another version needs `force`.
    pub async fn tag(
        &self,
        artifact: &ArtifactId,
        content_hash: &ContentHash,
        tag: &str,
        breaking: bool,
        force: bool,
        event: &Event,
    ) -> Result<Version, VersionError> {
        check_tag(tag)?;
        let hex = content_hash.to_hex();
        let mut tx = self
            .db
            .pool()
            .begin()
            .await
            .map_err(query_err("begin tagging"))?;
        let holder: Option<String> = sqlx::query_scalar(
            "SELECT content_hash FROM artifact_versions WHERE artifact_id = ? AND version_tag = ?",
        )
        .bind(artifact.to_string())
        .bind(tag.to_owned())
        .fetch_optional(&mut *tx)
        .await
        .map_err(query_err("look up a tag"))?;
        if let Some(other) = holder.filter(|h| h != &hex) {
            if !force {
                return Err(VersionError::TagTaken {
                    artifact: artifact.clone(),
                    tag: tag.to_owned(),
                    other: crate::model::hash::short(&other).to_owned(),
                });
            }
            sqlx::query(
                "UPDATE artifact_versions SET version_tag = NULL, breaking = 0 \
                 WHERE artifact_id = ? AND version_tag = ?",
            )
            .bind(artifact.to_string())
            .bind(tag.to_owned())
            .execute(&mut *tx)
            .await
            .map_err(query_err("move a tag"))?;
        }
        let changed = sqlx::query(
            "UPDATE artifact_versions SET version_tag = ?, breaking = ? \
             WHERE artifact_id = ? AND content_hash = ?",
        )
        .bind(tag.to_owned())
        .bind(breaking)
        .bind(artifact.to_string())
        .bind(hex.clone())
        .execute(&mut *tx)
        .await
        .map_err(query_err("set a tag"))?
        .rows_affected();
        if changed == 0 {
            return Err(VersionError::NotFound {
                artifact: artifact.clone(),
                given: hex,
            });
        }
        let mut event = event.clone();
        event.result = Some(*content_hash);
        crate::storage::events::insert(&mut tx, &event).await?;
        tx.commit().await.map_err(query_err("commit a tag"))?;
        self.get(artifact, &hex)
            .await?
            .ok_or_else(|| VersionError::NotFound {
                artifact: artifact.clone(),
                given: hex,
            })
    }
}

/// A version (re)instated without being new content, e.g. by a rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionEvent {
    /// The version made current again (64 hex).
    pub content_hash: String,
    /// How (`rollback`).
    pub origin: ChangeOrigin,
    /// `collection`, or the project's path.
    pub tier: String,
    /// The store commit recording it (parents: the version replaced, the version instated).
    pub commit_id: Option<String>,
    /// When (RFC 3339).
    pub created_at: String,
}

impl Versions {
    /// Records that `version` was instated in `tier` in place of `replaced`: a store commit
    /// with both as parents, and a `version_events` row.
    pub async fn record_event(
        &self,
        version: &Version,
        replaced: Option<&Version>,
        origin: ChangeOrigin,
        tier: &str,
        now: SystemTime,
        logged: &[Event],
    ) -> Result<VersionEvent, VersionError> {
        let mut parents: Vec<CommitId> = replaced.iter().map(|v| v.commit_id.clone()).collect();
        parents.push(version.commit_id.clone());
        let message = format!(
            "{} {} {} in {tier}\n",
            version.artifact_id,
            origin,
            version.content_hash.short()
        );
        let commit = self
            .store
            .commit(&version.tree_id, &parents, &message, now)?;
        let event = VersionEvent {
            content_hash: version.content_hash.to_hex(),
            origin,
            tier: tier.to_owned(),
            commit_id: Some(commit.to_string()),
            created_at: crate::model::time::rfc3339(now),
        };
        let mut tx = self
            .db
            .pool()
            .begin()
            .await
            .map_err(query_err("begin recording a version event"))?;
        sqlx::query(
            "INSERT INTO version_events (artifact_id, content_hash, origin, tier, commit_id, \
             created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(version.artifact_id.to_string())
        .bind(event.content_hash.clone())
        .bind(origin.as_str())
        .bind(event.tier.clone())
        .bind(event.commit_id.clone())
        .bind(event.created_at.clone())
        .execute(&mut *tx)
        .await
        .map_err(query_err("record a version event"))?;
        for e in logged {
            crate::storage::events::insert(&mut tx, e).await?;
        }
        tx.commit()
            .await
            .map_err(query_err("commit a version event"))?;
        Ok(event)
    }

    /// The events of `artifact`, newest first.
    pub async fn events(&self, artifact: &ArtifactId) -> Result<Vec<VersionEvent>, VersionError> {
        let rows = sqlx::query(
            "SELECT content_hash, origin, tier, commit_id, created_at FROM version_events \
             WHERE artifact_id = ? ORDER BY id DESC",
        )
        .bind(artifact.to_string())
        .fetch_all(self.db.reads())
        .await
        .map_err(query_err("read version events"))?;
        rows.iter()
            .map(|r| {
                let row = EventRow::from_row(r).map_err(|e| VersionError::Corrupt {
                    what: format!("version_events: {e}"),
                })?;
                Ok(VersionEvent {
                    content_hash: row.content_hash,
                    origin: row.origin.parse()?,
                    tier: row.tier,
                    commit_id: row.commit_id,
                    created_at: row.created_at,
                })
            })
            .collect()
    }
}

/// A `version_events` row as SQLite holds it.
#[derive(sqlx::FromRow)]
struct EventRow {
    content_hash: String,
    origin: String,
    tier: String,
    commit_id: Option<String>,
    created_at: String,
}

/// Checks a tag name: 1–64 characters of `[A-Za-z0-9._-]`, starting with a letter or digit.
pub fn check_tag(tag: &str) -> Result<(), VersionError> {
    let bad = |why| {
        Err(VersionError::BadTag {
            tag: tag.to_owned(),
            why,
        })
    };
    if tag.is_empty() || tag.len() > 64 {
        return bad("a tag has 1 to 64 characters");
    }
    if !tag.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return bad("a tag starts with a letter or digit");
    }
    if !tag
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return bad("a tag uses only letters, digits, `.`, `_` and `-`");
    }
    Ok(())
}

/// A value as JSON for a TEXT column; plain data never fails to serialise.
fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// An `artifact_versions` row as SQLite holds it (the columns of `select_versions!`);
/// [`Version::try_from`] checks what the column types cannot.
#[derive(sqlx::FromRow)]
struct VersionRow {
    artifact_id: String,
    content_hash: String,
    tree_id: String,
    commit_id: String,
    parent_hash: Option<String>,
    parent_hashes: String,
    version_lineage: String,
    change_origin: String,
    created_at: String,
    version_tag: Option<String>,
    breaking: bool,
    metadata: String,
}

impl TryFrom<VersionRow> for Version {
    type Error = VersionError;

    fn try_from(row: VersionRow) -> Result<Self, VersionError> {
        let corrupt = |col: &str, e: &dyn std::fmt::Display| VersionError::Corrupt {
            what: format!("column {col}: {e}"),
        };
        let strings = |col: &str, text: &str| -> Result<Vec<String>, VersionError> {
            serde_json::from_str(text).map_err(|e| corrupt(col, &e))
        };
        Ok(Version {
            artifact_id: row
                .artifact_id
                .parse()
                .map_err(|e| corrupt("artifact_id", &e))?,
            content_hash: row
                .content_hash
                .parse()
                .map_err(|e| corrupt("content_hash", &e))?,
            tree_id: TreeId::parse(&row.tree_id)?,
            commit_id: CommitId::parse(&row.commit_id)?,
            parent_hash: row.parent_hash,
            parent_hashes: strings("parent_hashes", &row.parent_hashes)?,
            version_lineage: strings("version_lineage", &row.version_lineage)?,
            change_origin: row.change_origin.parse()?,
            created_at: row.created_at,
            version_tag: row.version_tag,
            breaking: row.breaking,
            metadata: serde_json::from_str(&row.metadata).map_err(|e| corrupt("metadata", &e))?,
        })
    }
}

fn version_from_row(row: &SqliteRow) -> Result<Version, VersionError> {
    let row = VersionRow::from_row(row).map_err(|e| VersionError::Corrupt {
        what: format!("artifact_versions: {e}"),
    })?;
    Version::try_from(row)
}

/// The home's database without writing anything: its shared one (`false`: not ours to close),
/// or the file opened for this call (`true`: close it after); `None` when there is none yet.
pub async fn database_read_only(home: &Home) -> Result<Option<(Database, bool)>, DbError> {
    Ok(match home.shared_database() {
        Some(db) => Some((db.clone(), false)),
        None => db::Database::open_read_only(&home.root().join(DB_FILE))
            .await?
            .map(|db| (db, true)),
    })
}
