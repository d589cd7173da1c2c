//! The layout of `$SKILLMEAT_HOME` and what a collection holds.
//!
//! ```text
//! $SKILLMEAT_HOME/
//!   collections/<collection>/{skills/<name>/, commands/<name>.md, agents/<name>.md}
//!   store.git/        content-addressed version store
//!   skillmeat.db      SQLite: versions, jobs, conflicts, audit log, projects
//!   cache/upstream/   fetched upstream repositories
//! ```
//!
//! [`Home`] only knows paths and reads directories; it is handed its root by the caller (the CLI
//! resolves `--home`, `$SKILLMEAT_HOME` and `~/.skillmeat`), so a server can host several homes.

use std::io;
use std::path::{Path, PathBuf};

use crate::model::artifact::{ArtifactId, ArtifactName, ArtifactType, IdError};
use crate::model::error::{ErrorKind, PathError};

/// The collection used when none is named.
pub const DEFAULT_COLLECTION: &str = "default";

/// A SkillMeat home directory.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
    /// The home's database, opened once by a long-running process (the server) and shared by
    /// every operation it runs; `None` where each operation opens its own (the CLI).
    database: Option<crate::storage::db::Database>,
}

/// An artifact found in a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedArtifact {
    /// The artifact's id.
    pub id: ArtifactId,
    /// Its file (command, agent) or directory (skill) inside the collection.
    pub path: PathBuf,
}

/// An entry in a collection folder that is not a valid artifact, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedEntry {
    /// The entry's path.
    pub path: PathBuf,
    /// Why it is not listed, in words for the user.
    pub reason: String,
}

/// What a collection holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectionListing {
    /// Valid artifacts, ordered by type then name.
    pub artifacts: Vec<ListedArtifact>,
    /// Entries that look out of place (bad names, a skill without `SKILL.md`, …).
    pub skipped: Vec<SkippedEntry>,
}

/// Errors reading a home.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// The collection name breaks the naming rule.
    #[error("invalid collection name: {0}")]
    BadCollectionName(#[source] IdError),
    /// A folder of the home could not be read.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl HomeError {
    /// What kind of failure this is, for the edges to answer it (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::BadCollectionName(_) => ErrorKind::Invalid,
            Self::Io(_) => ErrorKind::Internal,
        }
    }
}

impl Home {
    /// A home rooted at `root`. Nothing is created or read until asked.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            database: None,
        }
    }

    /// This home with its database already open: operations use `db` (which must be this
    /// home's `skillmeat.db`, opened with [`Database::open`](crate::storage::db::Database::open)) instead
    /// of opening and closing a connection pool each, which costs more than most of them.
    pub fn with_database(mut self, db: crate::storage::db::Database) -> Self {
        self.database = Some(db);
        self
    }

    /// The database a long-running process shared through [`Home::with_database`].
    pub fn shared_database(&self) -> Option<&crate::storage::db::Database> {
        self.database.as_ref()
    }

    /// The home's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of the named collection.
    pub fn collection_dir(&self, collection: &str) -> Result<PathBuf, HomeError> {
        let name = ArtifactName::new(collection).map_err(HomeError::BadCollectionName)?;
        Ok(self.root.join("collections").join(name.as_str()))
    }

    /// Lists the artifacts of a collection. A collection that does not exist yet is empty.
    pub fn list_collection(&self, collection: &str) -> Result<CollectionListing, HomeError> {
        let dir = self.collection_dir(collection)?;
        let mut listing = CollectionListing::default();
        for kind in ArtifactType::ALL {
            list_type_dir(&dir.join(kind.dir_name()), kind, &mut listing)?;
        }
        listing.artifacts.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(listing)
    }
}

fn list_type_dir(
    dir: &Path,
    kind: ArtifactType,
    listing: &mut CollectionListing,
) -> Result<(), HomeError> {
    let read_err = |source| HomeError::Io(PathError::new("read", dir, source));
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(read_err(e)),
    };
    for entry in entries {
        let entry = entry.map_err(read_err)?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(read_err)?;
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            listing.skipped.push(SkippedEntry {
                path,
                reason: "name is not UTF-8".into(),
            });
            continue;
        };
        let name = if kind.is_dir() {
            if !file_type.is_dir() {
                let reason = "a skill must be a folder holding SKILL.md".into();
                listing.skipped.push(SkippedEntry { path, reason });
                continue;
            }
            if !path.join("SKILL.md").is_file() {
                listing.skipped.push(SkippedEntry {
                    path,
                    reason: "no SKILL.md".into(),
                });
                continue;
            }
            file_name
        } else {
            match file_name.strip_suffix(".md") {
                Some(stem) if file_type.is_file() => stem,
                _ => {
                    let reason = format!("a {kind} must be one .md file");
                    listing.skipped.push(SkippedEntry { path, reason });
                    continue;
                }
            }
        };
        match ArtifactName::new(name) {
            Ok(name) => listing.artifacts.push(ListedArtifact {
                id: ArtifactId::new(kind, name),
                path,
            }),
            Err(e) => listing.skipped.push(SkippedEntry {
                path,
                reason: e.to_string(),
            }),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn a_fresh_home_has_an_empty_default_collection() {
        let tmp = tempfile::tempdir().unwrap();
        let listing = Home::new(tmp.path())
            .list_collection(DEFAULT_COLLECTION)
            .unwrap();
        assert_eq!(listing, CollectionListing::default());
    }

    #[test]
    fn lists_each_type_and_skips_what_is_not_an_artifact() {
        let tmp = tempfile::tempdir().unwrap();
        let home = Home::new(tmp.path());
        let c = home.collection_dir("default").unwrap();
        fs::create_dir_all(c.join("skills/code-review")).unwrap();
        fs::write(c.join("skills/code-review/SKILL.md"), "# review").unwrap();
        fs::create_dir_all(c.join("skills/no-manifest")).unwrap();
        fs::create_dir_all(c.join("commands")).unwrap();
        fs::write(c.join("commands/fix.md"), "fix").unwrap();
        fs::write(c.join("commands/notes.txt"), "x").unwrap();
        fs::create_dir_all(c.join("agents")).unwrap();
        fs::write(c.join("agents/Bad Name.md"), "x").unwrap();

        let listing = home.list_collection("default").unwrap();
        let ids: Vec<String> = listing.artifacts.iter().map(|a| a.id.to_string()).collect();
        assert_eq!(ids, ["skill:code-review", "command:fix"]);
        assert_eq!(listing.skipped.len(), 3, "{:?}", listing.skipped);
    }

    #[test]
    fn collection_names_cannot_escape_the_home() {
        let home = Home::new("/h");
        assert!(matches!(
            home.collection_dir("../etc"),
            Err(HomeError::BadCollectionName(_))
        ));
    }
}
