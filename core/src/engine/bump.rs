//! Version bump suggestions: what a change between two versions of an artifact means, in semver
//! terms, with the reasons.
//!
//! - **major**: a file removed; the `name` in a skill's or agent's frontmatter changed (it is the
//!   identity Claude Code knows it by); a required frontmatter key (`name`, `description` for
//!   skills and agents) changed or removed; any frontmatter key removed.
//! - **minor**: a file added; a frontmatter key added; an optional key's value changed (a
//!   `model:` or `allowed-tools:` change alters behaviour beyond the text).
//! - **patch**: content edits only (the body, a script, a mode bit).
//!
//! Required keys are from the Agent Skills specification (agentskills.io/specification:
//! `name` and `description` are required in SKILL.md) and Claude Code's subagents reference
//! (code.claude.com/docs/en/sub-agents: `name` and `description` are required in an agent's
//! frontmatter). Slash commands have no required frontmatter (code.claude.com/docs/en/slash-commands),
//! so for them every key is optional and `name` is not an identity.

use std::fmt;

use serde::{Deserialize, Serialize};
use yaml_rust2::Yaml;

use crate::model::artifact::ArtifactType;
use crate::model::files::ArtifactFiles;

/// How big a change is, smallest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    /// Nothing changed.
    #[default]
    None,
    /// Content edits only.
    Patch,
    /// Something added (a file, a frontmatter key) or an optional setting changed.
    Minor,
    /// Something removed, or what identifies the artifact changed.
    Major,
}

impl Bump {
    /// The name printed and serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Patch => "patch",
            Self::Minor => "minor",
            Self::Major => "major",
        }
    }
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason for a suggestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The bump this reason alone calls for.
    pub bump: Bump,
    /// What changed, for people (`SKILL.md: frontmatter \`description\` changed`).
    pub text: String,
}

/// The suggested bump for a change and every reason for it, the weightiest first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Suggestion {
    pub bump: Bump,
    pub reasons: Vec<Reason>,
}

impl Suggestion {
    /// `major: SKILL.md: frontmatter \`name\` changed; …` (or `none`).
    pub fn summary(&self) -> String {
        let top: Vec<&str> = self
            .reasons
            .iter()
            .filter(|r| r.bump == self.bump)
            .map(|r| r.text.as_str())
            .collect();
        if top.is_empty() {
            self.bump.to_string()
        } else {
            format!("{}: {}", self.bump, top.join("; "))
        }
    }
}

/// The frontmatter keys every artifact of `kind` must have.
fn required_keys(kind: ArtifactType) -> &'static [&'static str] {
    match kind {
        ArtifactType::Skill | ArtifactType::Agent => &["name", "description"],
        ArtifactType::Command
        | ArtifactType::OutputStyle
        | ArtifactType::Hook
        | ArtifactType::Mcp => &[],
    }
}

/// The file whose frontmatter describes the artifact: `SKILL.md` for a skill, the one file of a
/// command or agent.
fn main_file(kind: ArtifactType, files: &ArtifactFiles) -> Option<&str> {
    match kind {
        ArtifactType::Skill => files.files.keys().find(|p| *p == "SKILL.md"),
        ArtifactType::Command | ArtifactType::Agent | ArtifactType::OutputStyle => {
            files.files.keys().next()
        }
        // A fragment has no frontmatter: its bump comes from its entries' changes alone.
        ArtifactType::Hook | ArtifactType::Mcp => None,
    }
    .map(String::as_str)
}

/// A Markdown file's frontmatter (see [`crate::engine::frontmatter::parse`]).
type Frontmatter = crate::engine::frontmatter::Keys;

fn frontmatter(bytes: &[u8]) -> Result<Option<Frontmatter>, ()> {
    crate::engine::frontmatter::parse(bytes).map_err(drop)
}

/// What the change from `old` to `new` (two versions of one artifact of `kind`) calls for.
pub fn suggest(kind: ArtifactType, old: &ArtifactFiles, new: &ArtifactFiles) -> Suggestion {
    let mut reasons = Vec::new();
    let mut add = |bump, text: String| reasons.push(Reason { bump, text });
    for path in old.files.keys().filter(|p| !new.files.contains_key(*p)) {
        add(Bump::Major, format!("{path} removed"));
    }
    for path in new.files.keys().filter(|p| !old.files.contains_key(*p)) {
        add(Bump::Minor, format!("{path} added"));
    }
    let main_old = main_file(kind, old);
    let main_new = main_file(kind, new);
    for (path, before) in &old.files {
        let Some(after) = new.files.get(path) else {
            continue;
        };
        if before == after {
            continue;
        }
        let is_main = Some(path.as_str()) == main_old && main_old == main_new;
        if is_main && before.bytes != after.bytes {
            frontmatter_reasons(kind, path, &before.bytes, &after.bytes, &mut add);
        }
        if before.executable != after.executable {
            add(Bump::Patch, format!("{path}: mode changed"));
        }
    }
    // In path order (the map's).
    let edited: Vec<&str> = old
        .files
        .iter()
        .filter(|(p, before)| {
            new.files
                .get(*p)
                .is_some_and(|after| after.bytes != before.bytes)
        })
        .map(|(p, _)| p)
        .filter(|p| {
            let before = &old.files[*p].bytes;
            let after = &new.files[*p].bytes;
            body(before) != body(after)
        })
        .map(String::as_str)
        .collect();
    if !edited.is_empty() {
        add(
            Bump::Patch,
            format!("content of {} edited", edited.join(", ")),
        );
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.bump));
    Suggestion {
        bump: reasons.first().map_or(Bump::None, |r| r.bump),
        reasons,
    }
}

/// A Markdown file without its frontmatter block (the whole file when it has none).
fn body(bytes: &[u8]) -> &[u8] {
    match std::str::from_utf8(bytes)
        .ok()
        .and_then(crate::engine::frontmatter::split)
    {
        Some(at) => &bytes[at.body..],
        None => bytes,
    }
}

fn frontmatter_reasons(
    kind: ArtifactType,
    path: &str,
    before: &[u8],
    after: &[u8],
    add: &mut impl FnMut(Bump, String),
) {
    let (old, new) = match (frontmatter(before), frontmatter(after)) {
        (Ok(old), Ok(new)) => (old.unwrap_or_default(), new.unwrap_or_default()),
        (_, Err(())) => {
            add(
                Bump::Major,
                format!("{path}: frontmatter is no longer valid YAML"),
            );
            return;
        }
        (Err(()), Ok(_)) => {
            add(
                Bump::Minor,
                format!("{path}: frontmatter is valid YAML again"),
            );
            return;
        }
    };
    let required = required_keys(kind);
    let get =
        |fm: &Frontmatter, key: &str| fm.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    for (key, value) in &old {
        match get(&new, key) {
            None => add(Bump::Major, format!("{path}: frontmatter `{key}` removed")),
            Some(v) if &v != value => {
                let bump = if required.contains(&key.as_str()) {
                    Bump::Major
                } else {
                    Bump::Minor
                };
                // A rename says from what to what: for an agent, the name is its identity.
                match (key.as_str(), value, &v) {
                    ("name", Yaml::String(from), Yaml::String(to)) => add(
                        bump,
                        format!("{path}: frontmatter `name` changed from `{from}` to `{to}`"),
                    ),
                    _ => add(bump, format!("{path}: frontmatter `{key}` changed")),
                }
            }
            Some(_) => {}
        }
    }
    for (key, _) in new.iter().filter(|(k, _)| get(&old, k).is_none()) {
        add(Bump::Minor, format!("{path}: frontmatter `{key}` added"));
    }
}

/// The next semver after `last` for a change of size `bump` (`None` and `Patch` both give a
/// patch release: a new tag names a new version). Pre-release and build parts are dropped.
pub fn next_version(last: &semver::Version, bump: Bump) -> semver::Version {
    let mut next = semver::Version::new(last.major, last.minor, last.patch);
    match bump {
        Bump::Major => {
            next.major += 1;
            next.minor = 0;
            next.patch = 0;
        }
        Bump::Minor => {
            next.minor += 1;
            next.patch = 0;
        }
        Bump::Patch | Bump::None => {
            if last.pre.is_empty() {
                next.patch += 1;
            }
        }
    }
    next
}

/// A tag read as a semver (`v1.2.3` or `1.2.3`), if it is one.
pub fn parse_semver_tag(tag: &str) -> Option<semver::Version> {
    semver::Version::parse(tag.strip_prefix('v').unwrap_or(tag)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::files::FileContent;

    fn files(pairs: &[(&str, &str)]) -> ArtifactFiles {
        ArtifactFiles {
            files: pairs
                .iter()
                .map(|(p, t)| ((*p).to_owned(), FileContent::text(t.as_bytes())))
                .collect(),
        }
    }

    const SKILL: &str = "---\nname: pdf\ndescription: Read PDFs.\n---\n# PDF\n\nBody.\n";

    fn bump(kind: ArtifactType, old: &[(&str, &str)], new: &[(&str, &str)]) -> Suggestion {
        suggest(kind, &files(old), &files(new))
    }

    #[test]
    fn each_kind_of_change_gets_its_bump_and_reason() {
        let skill = ArtifactType::Skill;
        let same = bump(skill, &[("SKILL.md", SKILL)], &[("SKILL.md", SKILL)]);
        assert_eq!((same.bump, same.reasons.len()), (Bump::None, 0));

        let body = bump(
            skill,
            &[("SKILL.md", SKILL)],
            &[("SKILL.md", &SKILL.replace("Body.", "Body, edited."))],
        );
        assert_eq!(body.summary(), "patch: content of SKILL.md edited");

        let added = bump(
            skill,
            &[("SKILL.md", SKILL)],
            &[("SKILL.md", SKILL), ("forms.md", "x")],
        );
        assert_eq!(added.summary(), "minor: forms.md added");

        let removed = bump(
            skill,
            &[("SKILL.md", SKILL), ("forms.md", "x")],
            &[("SKILL.md", SKILL)],
        );
        assert_eq!(removed.summary(), "major: forms.md removed");

        let renamed = bump(
            skill,
            &[("SKILL.md", SKILL)],
            &[("SKILL.md", &SKILL.replace("name: pdf", "name: pdf-reader"))],
        );
        assert_eq!(
            renamed.summary(),
            "major: SKILL.md: frontmatter `name` changed from `pdf` to `pdf-reader`"
        );
        // Only the frontmatter changed: no "content edited" reason.
        assert_eq!(renamed.reasons.len(), 1);

        let key_added = bump(
            skill,
            &[("SKILL.md", SKILL)],
            &[("SKILL.md", &SKILL.replace("---\n#", "license: MIT\n---\n#"))],
        );
        assert_eq!(
            key_added.summary(),
            "minor: SKILL.md: frontmatter `license` added"
        );

        let optional = "---\nname: fix\nmodel: sonnet\n---\nFix it.\n";
        let command = bump(
            ArtifactType::Command,
            &[("fix.md", optional)],
            &[("fix.md", &optional.replace("name: fix", "name: mend"))],
        );
        assert_eq!(
            command.bump,
            Bump::Minor,
            "a command's name is not its identity"
        );
        let agent = bump(
            ArtifactType::Agent,
            &[("planner.md", optional)],
            &[(
                "planner.md",
                &optional
                    .replace("sonnet", "opus")
                    .replace("Fix it.", "Plan."),
            )],
        );
        assert_eq!(agent.bump, Bump::Minor);
        assert_eq!(
            agent
                .reasons
                .iter()
                .map(|r| r.text.as_str())
                .collect::<Vec<_>>(),
            [
                "planner.md: frontmatter `model` changed",
                "content of planner.md edited"
            ]
        );

        let broken = bump(
            skill,
            &[("SKILL.md", SKILL)],
            &[("SKILL.md", "---\nname: [unclosed\n---\nBody.\n")],
        );
        assert_eq!(broken.bump, Bump::Major);
    }

    #[test]
    fn next_versions_follow_semver() {
        let v = |s: &str| semver::Version::parse(s).unwrap();
        assert_eq!(next_version(&v("1.2.3"), Bump::Major), v("2.0.0"));
        assert_eq!(next_version(&v("1.2.3"), Bump::Minor), v("1.3.0"));
        assert_eq!(next_version(&v("1.2.3"), Bump::Patch), v("1.2.4"));
        assert_eq!(next_version(&v("1.2.3"), Bump::None), v("1.2.4"));
        assert_eq!(next_version(&v("1.3.0-rc.1"), Bump::Patch), v("1.3.0"));
        assert_eq!(parse_semver_tag("v1.2.3"), Some(v("1.2.3")));
        assert_eq!(parse_semver_tag("1.2.3"), Some(v("1.2.3")));
        assert_eq!(parse_semver_tag("reviewed"), None);
    }
}
