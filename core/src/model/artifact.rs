//! Artifact types, names and ids.
//!
//! An artifact id is `<type>:<name>`, e.g. `skill:code-review`. Names are lowercase
//! `[a-z0-9][a-z0-9._-]*`, at most [`MAX_NAME_LEN`] bytes, so a name is always a single safe path
//! component. Where the artifact's files live in each tier is decided by [`crate::storage::home`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model::error::ErrorKind;

/// The longest artifact name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// The kind of an artifact, which decides its on-disk shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactType {
    /// A directory holding `SKILL.md` plus any other files.
    Skill,
    /// One `.md` file: a slash command.
    Command,
    /// One `.md` file: a sub-agent definition.
    Agent,
    /// One `.md` file in `.claude/output-styles/`: an output style, which changes Claude Code's
    /// system prompt (Claude Code's output styles page: user and project scopes, frontmatter
    /// `name`, `description`, `keep-coding-instructions`).
    #[serde(rename = "output-style")]
    OutputStyle,
    /// One named group of hook entries (`event → matcher groups → handlers`, the shape of the
    /// `hooks` key of Claude Code's settings files), kept as `hooks/<name>.json` in a collection
    /// and merged entry by entry into `.claude/settings.json` — never copied as a file (see
    /// [`crate::model::fragment`]).
    Hook,
    /// One MCP server (one entry of `mcpServers`), kept as `mcp/<name>.json` in a collection
    /// and merged by key into the project's `.mcp.json`, or `~/.claude.json` for the user.
    Mcp,
}

impl ArtifactType {
    /// Every type, in display order.
    pub const ALL: [ArtifactType; 6] = [
        Self::Skill,
        Self::Command,
        Self::Agent,
        Self::OutputStyle,
        Self::Hook,
        Self::Mcp,
    ];

    /// The lowercase name used in ids and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Skill => "skill",
            Self::Command => "command",
            Self::Agent => "agent",
            Self::OutputStyle => "output-style",
            Self::Hook => "hook",
            Self::Mcp => "mcp",
        }
    }

    /// The folder holding artifacts of this type, in a collection and in a project's `.claude/`.
    pub fn dir_name(self) -> &'static str {
        match self {
            Self::Skill => "skills",
            Self::Command => "commands",
            Self::Agent => "agents",
            Self::OutputStyle => "output-styles",
            Self::Hook => "hooks",
            Self::Mcp => "mcp",
        }
    }

    /// The extension of a single-file artifact's file (`md`, or `json` for a fragment).
    pub fn file_extension(self) -> &'static str {
        if self.is_fragment() { "json" } else { "md" }
    }

    /// Whether the artifact is a fragment of a file Claude Code and the user share (`hook`,
    /// `mcp`): in a project it is entries inside that file, not a file of its own.
    pub fn is_fragment(self) -> bool {
        matches!(self, Self::Hook | Self::Mcp)
    }

    /// Whether the artifact is a directory (`skill`) rather than a single `.md` file.
    pub fn is_dir(self) -> bool {
        matches!(self, Self::Skill)
    }
}

impl fmt::Display for ArtifactType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ArtifactType {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| IdError::UnknownType {
                given: s.to_owned(),
            })
    }
}

/// Why a type, name or id was refused. Each message says what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The type is not one of [`ArtifactType::ALL`].
    #[error(
        "unknown artifact type `{given}`: expected one of skill, command, agent, output-style, \
         hook, mcp"
    )]
    UnknownType { given: String },
    /// The name is empty.
    #[error("artifact name is empty")]
    EmptyName,
    /// The name is longer than [`MAX_NAME_LEN`].
    #[error("artifact name `{name}` is {len} bytes long; the limit is {MAX_NAME_LEN}")]
    NameTooLong { name: String, len: usize },
    /// The name has a character outside `[a-z0-9._-]`, or does not start with `[a-z0-9]`.
    #[error(
        "artifact name `{name}` is not allowed: use lowercase letters, digits, `.`, `_` and `-`, \
         starting with a letter or digit (offending character {bad:?} at byte {at})"
    )]
    BadName { name: String, bad: char, at: usize },
    /// The id has no `:` between type and name.
    #[error("artifact id `{given}` must look like <type>:<name>, e.g. skill:code-review")]
    MissingColon { given: String },
}

impl IdError {
    /// What kind of failure this is, for the edges to answer it (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::UnknownType { .. }
            | Self::EmptyName
            | Self::NameTooLong { .. }
            | Self::BadName { .. }
            | Self::MissingColon { .. } => ErrorKind::Invalid,
        }
    }
}

/// A validated artifact name: a single, safe path component.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ArtifactName(String);

impl ArtifactName {
    /// Validates `name` against the naming rule.
    pub fn new(name: &str) -> Result<Self, IdError> {
        if name.is_empty() {
            return Err(IdError::EmptyName);
        }
        if name.len() > MAX_NAME_LEN {
            return Err(IdError::NameTooLong {
                name: name.to_owned(),
                len: name.len(),
            });
        }
        for (at, c) in name.char_indices() {
            let ok = match c {
                'a'..='z' | '0'..='9' => true,
                '.' | '_' | '-' => at > 0,
                _ => false,
            };
            if !ok {
                return Err(IdError::BadName {
                    name: name.to_owned(),
                    bad: c,
                    at,
                });
            }
        }
        Ok(Self(name.to_owned()))
    }

    /// As written in ids and paths (`pdf` in `skill:pdf`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ArtifactName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ArtifactName {
    type Error = IdError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<ArtifactName> for String {
    fn from(value: ArtifactName) -> Self {
        value.0
    }
}

/// An artifact id, `<type>:<name>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ArtifactId {
    /// The artifact's type.
    pub kind: ArtifactType,
    /// The artifact's name.
    pub name: ArtifactName,
}

impl ArtifactId {
    /// Builds an id from its parts.
    pub fn new(kind: ArtifactType, name: ArtifactName) -> Self {
        Self { kind, name }
    }
}

impl fmt::Display for ArtifactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.name)
    }
}

impl FromStr for ArtifactId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, name) = s.split_once(':').ok_or_else(|| IdError::MissingColon {
            given: s.to_owned(),
        })?;
        Ok(Self {
            kind: kind.parse()?,
            name: ArtifactName::new(name)?,
        })
    }
}

impl TryFrom<String> for ArtifactId {
    type Error = IdError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<ArtifactId> for String {
    fn from(value: ArtifactId) -> Self {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for text in ["skill:code-review", "command:fix.1", "agent:a_b-c"] {
            let id: ArtifactId = text.parse().unwrap();
            assert_eq!(id.to_string(), text);
        }
        let id: ArtifactId = "skill:pdf".parse().unwrap();
        assert_eq!(id.kind, ArtifactType::Skill);
        assert_eq!(id.name.as_str(), "pdf");
    }

    #[test]
    fn names_that_could_escape_a_folder_are_refused() {
        for bad in [
            "..", ".hidden", "a/b", "a\\b", "../x", "-flag", "Upper", "sp ace", "é",
        ] {
            assert!(
                matches!(ArtifactName::new(bad), Err(IdError::BadName { .. })),
                "{bad:?} was accepted"
            );
        }
        assert_eq!(ArtifactName::new(""), Err(IdError::EmptyName));
    }

    #[test]
    fn name_length_limit_is_inclusive() {
        assert!(ArtifactName::new(&"a".repeat(MAX_NAME_LEN)).is_ok());
        assert!(matches!(
            ArtifactName::new(&"a".repeat(MAX_NAME_LEN + 1)),
            Err(IdError::NameTooLong { len: 65, .. })
        ));
    }

    #[test]
    fn bad_ids_say_what_is_expected() {
        let err = "skill".parse::<ArtifactId>().unwrap_err();
        assert!(err.to_string().contains("<type>:<name>"), "{err}");
        let err = "plugin:x".parse::<ArtifactId>().unwrap_err();
        assert!(err.to_string().contains("skill, command, agent"), "{err}");
    }
}
