//! Checks of one artifact the way Claude Code and the Agent Skills format read it, before it is
//! deployed (as warnings) and by `skillmeat check`. Pure: the artifact's files in, findings out.
//!
//! The rules, and where they come from:
//! - A skill's `SKILL.md` opens with YAML frontmatter holding `name` and `description`. `name`:
//!   1–64 characters, lowercase letters, digits and hyphens, not starting or ending with a
//!   hyphen, no two hyphens in a row, equal to the skill's folder name; `description`: not
//!   empty, at most 1024 characters; `compatibility` at most 500 (the Agent Skills
//!   specification, <https://agentskills.io/specification>, which Claude Code's skills page
//!   follows). Keys outside that specification (`name`, `description`, `license`,
//!   `compatibility`, `metadata`, `allowed-tools`) are Claude Code's own (`model`,
//!   `disable-model-invocation`, …): they work in Claude Code but make an upload of the skill
//!   to claude.ai or the Skills API fail its validation — a warning.
//! - A subagent file needs `name` and `description` in its frontmatter; Claude Code skips one
//!   without them, silently (the subagents page, <https://code.claude.com/docs/en/sub-agents>:
//!   "name" and "description" are the required fields). Its identity is that `name`, not the
//!   file name.
//! - A command's frontmatter is optional; if there is a block, it must be valid YAML.
//! - An output style's too (Claude Code's output styles page: `name` defaults to the file
//!   name); `keep-coding-instructions`, when given, is a boolean.

use serde::Serialize;
use yaml_rust2::Yaml;

use crate::model::artifact::{ArtifactId, ArtifactType};
use crate::model::files::ArtifactFiles;

/// Keys the Agent Skills specification defines for SKILL.md.
pub const SPEC_KEYS: [&str; 6] = [
    "name",
    "description",
    "license",
    "compatibility",
    "metadata",
    "allowed-tools",
];

/// How bad a finding is: an `error` is something Claude Code or the format refuses (or skips
/// silently); a `warning` works in Claude Code but not everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One thing a check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// A stable name for scripts: `no-frontmatter`, `bad-yaml`, `bad-name`, `name-mismatch`,
    /// `no-description`, `long-description`, `long-compatibility`, `upload-key`,
    /// `agent-skipped`, `duplicate-agent`, `shadowed`.
    pub code: &'static str,
    pub message: String,
}

impl Finding {
    pub fn error(code: &'static str, message: String) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message,
        }
    }

    pub fn warning(code: &'static str, message: String) -> Self {
        Self {
            severity: Severity::Warning,
            code,
            message,
        }
    }
}

/// Why `name` breaks the Agent Skills naming rules, if it does.
pub fn skill_name_problem(name: &str) -> Option<String> {
    let len = name.chars().count();
    if !(1..=64).contains(&len) {
        return Some(format!("is {len} characters long (1 to 64 allowed)"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!(
            "holds `{c}` (only lowercase letters, digits and hyphens)"
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some("starts or ends with a hyphen".to_owned());
    }
    if name.contains("--") {
        return Some("has two hyphens in a row".to_owned());
    }
    None
}

fn text_of(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Real(r) => Some(r.clone()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The frontmatter `name` of an agent file, if it has one (its identity for Claude Code).
pub fn agent_name(bytes: &[u8]) -> Option<String> {
    let keys = crate::engine::frontmatter::parse(bytes).ok()??;
    keys.iter()
        .find(|(k, _)| k == "name")
        .and_then(|(_, v)| text_of(v))
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
}

/// The findings for a hook or mcp artifact: its file must be the shape Claude Code reads, and
/// an `env` or `headers` literal that looks like a credential is a warning (Claude Code's MCP
/// page: `${VAR}` expands in `command`, `args`, `env`, `url` and `headers`, so a shared file
/// names the variable instead).
fn check_fragment(id: &ArtifactId, files: &ArtifactFiles) -> Vec<Finding> {
    let Some((path, file)) = files.files.iter().next() else {
        return vec![Finding::error("bad-json", format!("{id} has no file"))];
    };
    let entries =
        match crate::model::fragment::entries(id.kind, id.name.as_str(), path, &file.bytes) {
            Ok(e) => e,
            Err(e) => return vec![Finding::error("bad-json", e.to_string())],
        };
    let mut out = Vec::new();
    for value in entries.values() {
        for place in crate::model::fragment::token_literals(value) {
            out.push(Finding::warning(
                "literal-secret",
                format!(
                    "{path}: `{place}` holds a literal that looks like a credential; \
                     write `${{VARIABLE}}` and let each user set it"
                ),
            ));
        }
    }
    out
}

/// The findings for artifact `id` with these files.
pub fn check(id: &ArtifactId, files: &ArtifactFiles) -> Vec<Finding> {
    if id.kind.is_fragment() {
        return check_fragment(id, files);
    }
    let mut out = Vec::new();
    let main = match id.kind {
        ArtifactType::Skill => "SKILL.md".to_owned(),
        ArtifactType::Command
        | ArtifactType::Agent
        | ArtifactType::OutputStyle
        | ArtifactType::Hook
        | ArtifactType::Mcp => files
            .files
            .keys()
            .next()
            .cloned()
            .unwrap_or_else(|| format!("{}.md", id.name)),
    };
    let Some(file) = files.files.get(&main) else {
        out.push(Finding::error(
            "no-frontmatter",
            format!("{id} has no {main}"),
        ));
        return out;
    };
    let keys = match crate::engine::frontmatter::parse(&file.bytes) {
        Ok(keys) => keys,
        Err(e) => {
            out.push(Finding::error(
                "bad-yaml",
                format!("{main}: the frontmatter is not valid YAML: {e}"),
            ));
            return out;
        }
    };
    let get = |key: &str| {
        keys.as_ref()
            .and_then(|k| k.iter().find(|(name, _)| name == key))
            .map(|(_, v)| v)
    };
    match id.kind {
        ArtifactType::Skill => {
            if keys.is_none() {
                out.push(Finding::error(
                    "no-frontmatter",
                    "SKILL.md has no frontmatter (a `---` block with `name` and `description` first)"
                        .to_owned(),
                ));
                return out;
            }
            match get("name").and_then(text_of) {
                None => out.push(Finding::error(
                    "bad-name",
                    "SKILL.md: frontmatter `name` is missing".to_owned(),
                )),
                Some(name) => {
                    if let Some(problem) = skill_name_problem(&name) {
                        out.push(Finding::error(
                            "bad-name",
                            format!("SKILL.md: `name: {name}` {problem}"),
                        ));
                    } else if name != id.name.as_str() {
                        out.push(Finding::error(
                            "name-mismatch",
                            format!(
                                "SKILL.md: `name: {name}` is not the folder's name `{}`",
                                id.name
                            ),
                        ));
                    }
                }
            }
            description(get("description"), "SKILL.md", &mut out);
            if let Some(c) = get("compatibility").and_then(text_of)
                && c.chars().count() > 500
            {
                out.push(Finding::error(
                    "long-compatibility",
                    format!(
                        "SKILL.md: `compatibility` is {} characters (500 at most)",
                        c.chars().count()
                    ),
                ));
            }
            let extra: Vec<&str> = keys
                .iter()
                .flatten()
                .map(|(k, _)| k.as_str())
                .filter(|k| !SPEC_KEYS.contains(k))
                .collect();
            if !extra.is_empty() {
                out.push(Finding::warning(
                    "upload-key",
                    format!(
                        "SKILL.md: {} not in the Agent Skills format: fine in Claude Code, but an upload to claude.ai or the Skills API refuses the skill",
                        extra
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                            + if extra.len() == 1 { " is" } else { " are" }
                    ),
                ));
            }
        }
        ArtifactType::Agent => {
            let missing: Vec<&str> = ["name", "description"]
                .into_iter()
                .filter(|k| get(k).and_then(text_of).is_none_or(|v| v.trim().is_empty()))
                .collect();
            if !missing.is_empty() {
                out.push(Finding::error(
                    "agent-skipped",
                    format!(
                        "{main}: frontmatter {} missing: Claude Code skips this agent without saying so",
                        missing
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(" and ")
                            + if missing.len() == 1 { " is" } else { " are" }
                    ),
                ));
            }
        }
        ArtifactType::Command | ArtifactType::Hook | ArtifactType::Mcp => {}
        ArtifactType::OutputStyle => {
            if let Some(v) = get("keep-coding-instructions")
                && !matches!(v, Yaml::Boolean(_))
            {
                out.push(Finding::warning(
                    "bad-value",
                    format!(
                        "{main}: `keep-coding-instructions` should be true or false; Claude Code treats anything else as false (the coding instructions are dropped)"
                    ),
                ));
            }
        }
    }
    out
}

fn description(value: Option<&Yaml>, file: &str, out: &mut Vec<Finding>) {
    match value.and_then(text_of) {
        None => out.push(Finding::error(
            "no-description",
            format!("{file}: frontmatter `description` is missing"),
        )),
        Some(d) if d.trim().is_empty() => out.push(Finding::error(
            "no-description",
            format!("{file}: frontmatter `description` is empty"),
        )),
        Some(d) if d.chars().count() > 1024 => out.push(Finding::error(
            "long-description",
            format!(
                "{file}: `description` is {} characters (1024 at most)",
                d.chars().count()
            ),
        )),
        Some(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(path: &str, text: &str) -> ArtifactFiles {
        let mut f = ArtifactFiles::default();
        f.files.insert(
            path.to_owned(),
            crate::model::files::FileContent {
                bytes: text.as_bytes().to_vec(),
                executable: false,
            },
        );
        f
    }

    fn codes(id: &str, path: &str, text: &str) -> Vec<&'static str> {
        check(&id.parse().unwrap(), &files(path, text))
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn skills_follow_the_agent_skills_rules() {
        let ok = "---\nname: pdf\ndescription: Read PDFs.\n---\nBody\n";
        assert!(codes("skill:pdf", "SKILL.md", ok).is_empty());
        assert_eq!(
            codes("skill:pdf", "SKILL.md", "Body only\n"),
            ["no-frontmatter"]
        );
        assert_eq!(
            codes("skill:pdf", "SKILL.md", "---\nname: [\n---\n"),
            ["bad-yaml"]
        );
        for bad in ["-pdf", "pdf-", "p--df", "PDF", "pd_f", &"a".repeat(65)] {
            let text = format!("---\nname: {bad}\ndescription: d\n---\n");
            assert_eq!(codes("skill:pdf", "SKILL.md", &text), ["bad-name"], "{bad}");
        }
        assert_eq!(
            codes(
                "skill:pdf",
                "SKILL.md",
                "---\nname: other\ndescription: d\n---\n"
            ),
            ["name-mismatch"]
        );
        assert_eq!(
            codes("skill:pdf", "SKILL.md", "---\nname: pdf\n---\n"),
            ["no-description"]
        );
        let long = format!("---\nname: pdf\ndescription: {}\n---\n", "x".repeat(1025));
        assert_eq!(codes("skill:pdf", "SKILL.md", &long), ["long-description"]);
        let model = "---\nname: pdf\ndescription: d\nmodel: opus\nlicense: MIT\n---\n";
        let found = check(&"skill:pdf".parse().unwrap(), &files("SKILL.md", model));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.contains("`model` is not"), "{found:?}");
    }

    #[test]
    fn agents_without_name_or_description_are_skipped_by_claude_code() {
        assert!(codes("agent:a", "a.md", "---\nname: a\ndescription: d\n---\n").is_empty());
        let found = check(
            &"agent:a".parse().unwrap(),
            &files("a.md", "---\nname: a\n---\n"),
        );
        assert_eq!(found[0].code, "agent-skipped");
        assert!(found[0].message.contains("skips this agent"), "{found:?}");
        assert_eq!(
            codes("agent:a", "a.md", "no frontmatter\n"),
            ["agent-skipped"]
        );
        assert_eq!(
            agent_name(b"---\nname: Planner Bot\n---\n").as_deref(),
            Some("Planner Bot")
        );
        assert!(codes("command:c", "c.md", "Just text.\n").is_empty());
        assert_eq!(codes("command:c", "c.md", "---\n: [\n---\n"), ["bad-yaml"]);
    }
}
