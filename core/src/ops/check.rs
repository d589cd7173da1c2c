//! `check`: the artifacts of the collection, or the copies in a project or the user scope, the
//! way Claude Code reads them ([`crate::engine::check`] per artifact), and across one scope:
//! two agents with one frontmatter `name` (Claude Code reads `.claude/agents/` recursively and
//! knows an agent by that name, so one hides the other), and shadowing — a user skill hides a
//! project skill of the same name, a project agent hides a user agent, a skill hides a
//! same-named command (Claude Code's skills and subagents pages: skill precedence is
//! enterprise, personal, project; subagent precedence puts project agents over user ones; a
//! skill and a command of one name resolve to the skill). Reads only.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::engine::check::{Finding, agent_name, check as check_artifact};
use crate::model::artifact::{ArtifactId, ArtifactType};
use crate::model::files::ArtifactFiles;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::tier::artifact_path;
use crate::storage::collection::Manifest;
use crate::storage::records::DeploymentFile;

/// How deep `.claude/agents/` is searched.
const AGENT_DEPTH: usize = 8;

/// What `check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// `collection`, or the project checked.
    pub scope: String,
    pub artifacts: Vec<CheckedArtifact>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckedArtifact {
    pub id: ArtifactId,
    /// Where the checked copy is.
    pub path: PathBuf,
    pub findings: Vec<Finding>,
}

impl CheckReport {
    /// Whether anything is an error.
    pub fn has_errors(&self) -> bool {
        self.artifacts.iter().any(|a| {
            a.findings
                .iter()
                .any(|f| f.severity == crate::engine::check::Severity::Error)
        })
    }
}

/// Checks `ids` (every artifact, when empty): the collection's copies, or with `scope` the
/// copies deployed there, plus the scope's own checks. `user_home` is the folder whose
/// `.claude/` is the user scope, for the shadowing checks of a project.
pub fn check(
    ctx: &Context,
    ids: &[ArtifactId],
    collection: &str,
    scope: Option<&Path>,
    user_home: Option<&Path>,
) -> Result<CheckReport, OpsError> {
    let dir = ctx.home.collection_dir(collection)?;
    let manifest = Manifest::load(&dir)?;
    let wanted: Vec<ArtifactId> = if ids.is_empty() {
        match scope {
            Some(p) => DeploymentFile::load(p)?
                .deployed
                .iter()
                .map(crate::storage::records::DeploymentRecord::id)
                .collect(),
            None => manifest.artifacts.iter().map(|e| e.id.clone()).collect(),
        }
    } else {
        ids.to_vec()
    };
    let root = match scope {
        Some(p) => p.join(".claude"),
        None => dir.clone(),
    };
    let mut out = Vec::new();
    for id in &wanted {
        if let (Some(p), true) = (scope, id.kind.is_fragment()) {
            // Its entries as they are in the shared file now.
            let path = p.join(crate::ops::fragments::shared_file_rel(p, id.kind));
            let files = crate::ops::fragments::project_files(p, id, true)?.ok_or_else(|| {
                OpsError::NoCopy {
                    id: id.clone(),
                    path: path.clone(),
                }
            })?;
            out.push(CheckedArtifact {
                id: id.clone(),
                path,
                findings: check_artifact(id, &files),
            });
            continue;
        }
        let path = artifact_path(&root, id);
        if std::fs::symlink_metadata(&path).is_err() {
            return Err(OpsError::NoCopy {
                id: id.clone(),
                path,
            });
        }
        let files = ArtifactFiles::read(&path)?;
        let mut findings = check_artifact(id, &files);
        if let Some(p) = scope {
            findings.extend(scope_findings(id, &files, p, user_home)?);
        }
        out.push(CheckedArtifact {
            id: id.clone(),
            path,
            findings,
        });
    }
    Ok(CheckReport {
        scope: scope.map_or_else(|| "collection".to_owned(), |p| p.display().to_string()),
        artifacts: out,
    })
}

/// The checks of one deployed copy against the rest of its scope.
fn scope_findings(
    id: &ArtifactId,
    files: &ArtifactFiles,
    project: &Path,
    user_home: Option<&Path>,
) -> Result<Vec<Finding>, OpsError> {
    let mut out = Vec::new();
    let claude = project.join(".claude");
    let is_user = user_home.is_some_and(|u| same(u, project));
    let user_claude = user_home.map(|u| u.join(".claude"));
    match id.kind {
        ArtifactType::Agent => {
            let own = artifact_path(&claude, id);
            let name = agent_name_of(files).unwrap_or_else(|| id.name.to_string());
            let others: Vec<PathBuf> = agents_named(&claude, &name)?
                .into_iter()
                .filter(|p| !same(p, &own))
                .collect();
            if let Some(other) = others.first() {
                out.push(Finding::error(
                    "duplicate-agent",
                    format!(
                        "agent name `{name}` is also {} in this scope: Claude Code keeps only one of them",
                        other.display()
                    ),
                ));
            }
            if let (false, Some(user)) = (is_user, &user_claude)
                && let Some(hidden) = agents_named(user, &name)?.first()
            {
                out.push(Finding::warning(
                    "shadowed",
                    format!(
                        "this project agent `{name}` hides the user agent {} in this project",
                        hidden.display()
                    ),
                ));
            }
        }
        ArtifactType::Skill => {
            if let (false, Some(user)) = (is_user, &user_claude) {
                let theirs = user.join("skills").join(id.name.as_str());
                if theirs.join("SKILL.md").is_file() {
                    out.push(Finding::warning(
                        "shadowed",
                        format!(
                            "the user skill {} hides this project skill of the same name",
                            theirs.display()
                        ),
                    ));
                }
            }
            for place in std::iter::once(&claude).chain(user_claude.iter()) {
                let command = place.join("commands").join(format!("{}.md", id.name));
                if command.is_file() {
                    out.push(Finding::warning(
                        "shadowed",
                        format!(
                            "this skill hides the command {} of the same name",
                            command.display()
                        ),
                    ));
                }
            }
        }
        ArtifactType::OutputStyle | ArtifactType::Hook | ArtifactType::Mcp => {}
        ArtifactType::Command => {
            for place in std::iter::once(&claude).chain(user_claude.iter()) {
                let skill = place.join("skills").join(id.name.as_str());
                if skill.join("SKILL.md").is_file() {
                    out.push(Finding::warning(
                        "shadowed",
                        format!(
                            "the skill {} of the same name hides this command",
                            skill.display()
                        ),
                    ));
                }
            }
        }
    }
    Ok(out)
}

fn agent_name_of(files: &ArtifactFiles) -> Option<String> {
    files
        .files
        .values()
        .next()
        .and_then(|f| agent_name(&f.bytes))
}

fn same(a: &Path, b: &Path) -> bool {
    a == b
        || a.canonicalize()
            .ok()
            .zip(b.canonicalize().ok())
            .is_some_and(|(a, b)| a == b)
}

/// The agent files under `claude/agents/` (recursively) whose frontmatter `name` — or, without
/// one, file name — is `name`. Symlinks are not followed.
pub(crate) fn agents_named(claude: &Path, name: &str) -> Result<Vec<PathBuf>, OpsError> {
    let mut out = Vec::new();
    let mut stack = vec![(claude.join("agents"), AGENT_DEPTH)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() && depth > 0 {
                stack.push((path, depth - 1));
            } else if meta.is_file() && path.extension().is_some_and(|e| e == "md") {
                // Agent files are small; a large one is not read here.
                if meta.len() > 1 << 20 {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap_or_default();
                let found = agent_name(&bytes)
                    .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()));
                if found.as_deref() == Some(name) {
                    out.push(path);
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Before a deploy into `project`: the findings of each artifact to deploy (warnings in the
/// report; with `strict`, an error among them refuses the deploy), and a refusal when two
/// agents would share one frontmatter name in that scope.
pub(crate) fn before_deploy(
    ids: &[ArtifactId],
    collection_dir: &Path,
    project: &Path,
    strict: bool,
) -> Result<Vec<String>, OpsError> {
    let claude = project.join(".claude");
    let mut warnings = Vec::new();
    let mut names: Vec<(String, ArtifactId)> = Vec::new();
    let mut refused = Vec::new();
    for id in ids {
        let source = artifact_path(collection_dir, id);
        let Ok(files) = ArtifactFiles::read(&source) else {
            // plan_copies reports a missing or unreadable copy with its own error.
            continue;
        };
        for f in check_artifact(id, &files) {
            if strict && f.severity == crate::engine::check::Severity::Error {
                refused.push(format!("{id}: {}", f.message));
            } else {
                warnings.push(format!("{id}: {}", f.message));
            }
        }
        if id.kind == ArtifactType::Agent {
            let name = agent_name_of(&files).unwrap_or_else(|| id.name.to_string());
            if let Some((_, first)) = names.iter().find(|(n, _)| *n == name) {
                return Err(OpsError::DuplicateAgent {
                    name,
                    first: first.to_string(),
                    second: id.to_string(),
                });
            }
            let own = artifact_path(&claude, id);
            if let Some(other) = agents_named(&claude, &name)?
                .into_iter()
                .find(|p| !same(p, &own))
            {
                return Err(OpsError::DuplicateAgent {
                    name,
                    first: other.display().to_string(),
                    second: id.to_string(),
                });
            }
            names.push((name, id.clone()));
        }
    }
    if !refused.is_empty() {
        return Err(OpsError::CheckFailed {
            problems: refused.join("; "),
        });
    }
    Ok(warnings)
}
