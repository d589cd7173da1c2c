//! Reading and writing SkillMeat's TOML files: errors name the file, line and column; writes
//! are atomic ([`crate::storage::atomic`]).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::error::{ErrorKind, PathError};
use crate::storage::atomic::write_atomic;

/// A TOML file that could not be read, parsed or written.
#[derive(Debug, thiserror::Error)]
pub enum TomlFileError {
    /// Reading or writing failed; a file being written is intact.
    #[error(transparent)]
    Io(#[from] PathError),
    /// The file is not valid TOML, or does not have the expected shape.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// The file parses but says something impossible (two entries for one artifact, a hash
    /// that is not a hash); read as it is, it would be silently taken for something else.
    #[error(
        "{path}: {message}; fix or remove that entry (SkillMeat writes this file: restore it from a backup, or deploy/add the artifact again)"
    )]
    Invalid { path: PathBuf, message: String },
    /// Serialising failed (a bug: the types always serialise).
    #[error("cannot serialise {path}: {message}")]
    Serialize { path: PathBuf, message: String },
}

impl TomlFileError {
    /// What kind of failure this is, for the edges to answer it (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Parse { .. } | Self::Invalid { .. } => ErrorKind::BadRecords,
            Self::Io(_) | Self::Serialize { .. } => ErrorKind::Internal,
        }
    }
}

/// Parses TOML text into `T`, reporting errors with the file, line and column.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, TomlFileError> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |span| line_col(text, span.start));
        TomlFileError::Parse {
            path: path.to_owned(),
            line,
            column,
            message: e.message().trim_end().to_owned(),
        }
    })
}

/// Serialises `value` and writes it to `path` atomically.
pub fn save_toml<T: Serialize>(path: &Path, header: &str, value: &T) -> Result<(), TomlFileError> {
    let body = toml::to_string_pretty(value).map_err(|e| TomlFileError::Serialize {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    write_atomic(path, format!("{header}{body}").as_bytes())?;
    Ok(())
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Loads and parses `path`; `None` when the file does not exist.
pub fn load_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, TomlFileError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_toml(path, &text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PathError::new("read", path, source).into()),
    }
}

/// The first id that occurs twice in `ids`, if any.
pub(crate) fn first_duplicate<T: Ord + Clone>(ids: impl IntoIterator<Item = T>) -> Option<T> {
    let mut seen = std::collections::BTreeSet::new();
    ids.into_iter().find(|id| !seen.insert(id.clone()))
}

/// Whether `text` is a full lowercase or uppercase hex digest of `len` characters.
pub(crate) fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit())
}
