//! Claude Code plugin marketplaces, as files: `.claude-plugin/marketplace.json` (a catalogue of
//! plugins and where each one's files are) and a plugin's optional `.claude-plugin/plugin.json`.
//! Parsing and path rules only; reading them from an upstream is `crate::ops::marketplace`.
//!
//! Built on Claude Code's plugin documentation — the marketplace reference
//! (<https://code.claude.com/docs/en/plugins/marketplace-reference>: top-level `name`, `owner`,
//! `metadata.pluginRoot`, `plugins[]` with `name`, `source`, `description`, `version`, component
//! paths, `strict`, and the top-level `renames` map of old plugin names to new ones) and the
//! plugins reference (<https://code.claude.com/docs/en/plugins-reference>: the default
//! component folders `skills/`, `commands/`, `agents/` at the plugin root, and the manifest's
//! `skills` / `commands` / `agents` paths, which add to the defaults).
//!
//! Plugin sources: a relative path (`"./plugins/x"`, resolved from the marketplace root; a bare
//! name from `metadata.pluginRoot`), `{"source": "github", "repo": "owner/repo"}`,
//! `{"source": "url", "url": "…git"}` and `{"source": "git-subdir", "url": …, "path": …}`, each
//! with optional `ref` and `sha` (a full commit sha pins exactly and wins over `ref`). Other
//! kinds (`npm`, `pip`, archives, commands) are read as [`PluginSource::Unsupported`], so one
//! such plugin never stops the others.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Where a marketplace file lives in its repository (below the marketplace root).
pub const MARKETPLACE_FILE: &str = ".claude-plugin/marketplace.json";
/// Where a plugin's manifest lives in the plugin's folder.
pub const PLUGIN_FILE: &str = ".claude-plugin/plugin.json";
/// Larger catalogues or manifests are refused before they are parsed.
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;

/// A parsed `marketplace.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Marketplace {
    /// The marketplace's id (`plugin@<name>`).
    pub name: String,
    #[serde(default)]
    pub owner: Option<Owner>,
    #[serde(default)]
    pub metadata: Metadata,
    /// Description at the top level (older files; `metadata.description` in the reference).
    #[serde(default)]
    pub description: Option<String>,
    pub plugins: Vec<PluginEntry>,
    /// Old plugin name → new one: a plugin installed under the old name follows to the new.
    #[serde(default)]
    pub renames: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Owner {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    /// The folder bare-name plugin sources are relative to.
    #[serde(default, rename = "pluginRoot")]
    pub plugin_root: Option<String>,
}

/// One plugin of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PluginEntry {
    pub name: String,
    /// Where the plugin's files are; read with [`PluginEntry::source`].
    #[serde(rename = "source")]
    pub raw_source: serde_json::Value,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub skills: Option<Paths>,
    #[serde(default)]
    pub commands: Option<Paths>,
    #[serde(default)]
    pub agents: Option<Paths>,
}

/// A component path or a list of them, as the manifests allow.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Paths {
    One(String),
    Many(Vec<String>),
}

impl Paths {
    pub fn as_slice(&self) -> Vec<&str> {
        match self {
            Self::One(p) => vec![p.as_str()],
            Self::Many(ps) => ps.iter().map(String::as_str).collect(),
        }
    }
}

/// A parsed `plugin.json` (only what SkillMeat uses; the rest is Claude Code's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct PluginManifest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub skills: Option<Paths>,
    #[serde(default)]
    pub commands: Option<Paths>,
    #[serde(default)]
    pub agents: Option<Paths>,
}

/// Where a plugin's files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginSource {
    /// A folder of the marketplace's own repository (`/`-separated, no leading `/`).
    InRepo { path: String },
    /// Another git repository (`owner/repo` shorthand made a GitHub URL), a folder of it, and
    /// the commit or ref to take (a sha wins over a ref; neither: the default branch).
    Git {
        url: String,
        path: String,
        reference: Option<String>,
    },
    /// A kind SkillMeat does not read (npm, pip, an archive, a command…): named in the error.
    Unsupported { kind: String },
}

/// Why a catalogue or a plugin entry cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarketplaceError {
    #[error("{file} is not valid: {message} (line {line}, column {column})")]
    Parse {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file} is {bytes} bytes: larger than the {max} bytes a manifest may be")]
    TooLarge {
        file: String,
        bytes: usize,
        max: usize,
    },
    #[error("plugin `{plugin}`: {problem}")]
    BadSource { plugin: String, problem: String },
}

impl Marketplace {
    /// Parses `text`, the content of `file` (named in errors).
    pub fn parse(file: &str, text: &[u8]) -> Result<Self, MarketplaceError> {
        parse_json(file, text)
    }

    /// The plugin named `name`, following `renames` (a chain of them, without loops); the name
    /// it is found under.
    pub fn find(&self, name: &str) -> Option<(&PluginEntry, String)> {
        let named = |n: &str| self.plugins.iter().find(|p| p.name == n);
        if let Some(p) = named(name) {
            return Some((p, name.to_owned()));
        }
        let to = renamed(&self.renames, name)?;
        named(&to).map(|p| (p, to))
    }

    /// The catalogue's description, wherever the file keeps it.
    pub fn description(&self) -> Option<&str> {
        self.metadata
            .description
            .as_deref()
            .or(self.description.as_deref())
    }
}

impl PluginManifest {
    pub fn parse(file: &str, text: &[u8]) -> Result<Self, MarketplaceError> {
        parse_json(file, text)
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &[u8],
) -> Result<T, MarketplaceError> {
    if text.len() > MAX_MANIFEST_BYTES {
        return Err(MarketplaceError::TooLarge {
            file: file.to_owned(),
            bytes: text.len(),
            max: MAX_MANIFEST_BYTES,
        });
    }
    serde_json::from_slice(text).map_err(|e| MarketplaceError::Parse {
        file: file.to_owned(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

impl PluginEntry {
    /// Where this plugin's files are. `root` is the marketplace root's path in its repository
    /// (`""` for the repository root), `plugin_root` the catalogue's `metadata.pluginRoot`.
    pub fn source(
        &self,
        root: &str,
        plugin_root: Option<&str>,
    ) -> Result<PluginSource, MarketplaceError> {
        let bad = |problem: String| MarketplaceError::BadSource {
            plugin: self.name.clone(),
            problem,
        };
        let text = |v: &serde_json::Value, key: &str| -> Result<Option<String>, MarketplaceError> {
            match v.get(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {
                    Ok(Some(s.trim().to_owned()))
                }
                Some(other) => Err(bad(format!(
                    "`{key}` must be a non-empty string, not {other}"
                ))),
            }
        };
        match &self.raw_source {
            serde_json::Value::String(rel) => {
                // `./x` is relative to the marketplace root; a bare name to `pluginRoot`.
                let base = if rel.starts_with("./") || rel.starts_with("../") {
                    root.to_owned()
                } else {
                    join(root, plugin_root.unwrap_or(""))
                        .map_err(|e| bad(format!("metadata.pluginRoot {e}")))?
                };
                let path = join(&base, rel).map_err(|e| bad(format!("source {e}")))?;
                Ok(PluginSource::InRepo { path })
            }
            serde_json::Value::Object(_) => {
                let v = &self.raw_source;
                let kind = text(v, "source")?.ok_or_else(|| {
                    bad("the source object has no `source` kind (github, url, git-subdir)".into())
                })?;
                let reference = match text(v, "sha")? {
                    Some(sha) if is_full_sha(&sha) => Some(sha),
                    Some(sha) => {
                        return Err(bad(format!(
                            "`sha` must be a full 40-character commit sha, not `{sha}`"
                        )));
                    }
                    None => text(v, "ref")?,
                };
                match kind.as_str() {
                    "github" => {
                        let repo = text(v, "repo")?.ok_or_else(|| {
                            bad("a github source needs `repo` (owner/repo)".into())
                        })?;
                        let valid = repo.split('/').count() == 2
                            && repo.split('/').all(|part| {
                                !part.is_empty()
                                    && part != "."
                                    && part != ".."
                                    && part.bytes().all(|b| {
                                        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
                                    })
                            });
                        if !valid {
                            return Err(bad(format!("`repo` must be owner/repo, not `{repo}`")));
                        }
                        Ok(PluginSource::Git {
                            url: format!("https://github.com/{repo}.git"),
                            path: String::new(),
                            reference,
                        })
                    }
                    "url" | "git-subdir" => {
                        let url = text(v, "url")?
                            .ok_or_else(|| bad(format!("a {kind} source needs `url`")))?;
                        if url.starts_with('-') || url.chars().any(char::is_control) {
                            return Err(bad(format!("`url` `{url}` is not a git URL")));
                        }
                        let path = if kind == "git-subdir" {
                            let sub = text(v, "path")?.ok_or_else(|| {
                                bad("a git-subdir source needs `path` (the plugin's folder)".into())
                            })?;
                            join("", &sub).map_err(|e| bad(format!("path {e}")))?
                        } else {
                            String::new()
                        };
                        Ok(PluginSource::Git {
                            url,
                            path,
                            reference,
                        })
                    }
                    other => Ok(PluginSource::Unsupported {
                        kind: other.to_owned(),
                    }),
                }
            }
            other => Err(bad(format!(
                "`source` must be a path or an object, not {other}"
            ))),
        }
    }
}

/// Where a chain of `renames` leads `name`, if it is renamed at all (a loop leads nowhere).
pub fn renamed(renames: &BTreeMap<String, String>, name: &str) -> Option<String> {
    let mut current = renames.get(name)?.clone();
    for _ in 0..renames.len() {
        match renames.get(&current) {
            Some(next) => current = next.clone(),
            None => return Some(current),
        }
    }
    None
}

fn is_full_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `rel` below `base` (both `/`-separated repository paths), normalised; refused if it leaves
/// the repository, is absolute, or holds a name git would refuse.
pub fn join(base: &str, rel: &str) -> Result<String, String> {
    if rel.starts_with('/') || rel.contains('\\') || rel.chars().any(char::is_control) {
        return Err(format!(
            "`{rel}` must be a relative path inside the repository"
        ));
    }
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!("`{rel}` leaves the repository"));
                }
            }
            p if p.eq_ignore_ascii_case(".git") => {
                return Err(format!("`{rel}` names git's own folder"));
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(source: serde_json::Value) -> PluginEntry {
        PluginEntry {
            name: "p".into(),
            raw_source: source,
            description: None,
            version: None,
            skills: None,
            commands: None,
            agents: None,
        }
    }

    #[test]
    fn sources_resolve_and_hostile_ones_are_refused() {
        let s = |v| entry(v).source("", Some("plugins"));
        assert_eq!(
            s(serde_json::json!("./plugins/a")),
            Ok(PluginSource::InRepo {
                path: "plugins/a".into()
            })
        );
        assert_eq!(
            s(serde_json::json!("a")),
            Ok(PluginSource::InRepo {
                path: "plugins/a".into()
            })
        );
        assert!(s(serde_json::json!("../../etc")).is_err());
        assert!(s(serde_json::json!("/etc")).is_err());
        assert!(s(serde_json::json!("./x/.git/hooks")).is_err());
        let sha = "a".repeat(40);
        assert_eq!(
            s(serde_json::json!({"source": "github", "repo": "o/r", "ref": "v1", "sha": sha})),
            Ok(PluginSource::Git {
                url: "https://github.com/o/r.git".into(),
                path: String::new(),
                reference: Some(sha),
            })
        );
        assert!(s(serde_json::json!({"source": "github", "repo": "o/../r"})).is_err());
        assert!(s(serde_json::json!({"source": "github", "repo": "o/r", "sha": "abc"})).is_err());
        assert_eq!(
            s(
                serde_json::json!({"source": "git-subdir", "url": "https://x/y.git", "path": "a/b", "ref": "main"})
            ),
            Ok(PluginSource::Git {
                url: "https://x/y.git".into(),
                path: "a/b".into(),
                reference: Some("main".into()),
            })
        );
        assert!(
            s(serde_json::json!({"source": "git-subdir", "url": "https://x/y.git", "path": "../a"}))
                .is_err()
        );
        assert!(s(serde_json::json!({"source": "url", "url": "--upload-pack=x"})).is_err());
        assert_eq!(
            s(serde_json::json!({"source": "npm", "package": "x"})),
            Ok(PluginSource::Unsupported { kind: "npm".into() })
        );
        assert!(s(serde_json::json!(3)).is_err());
    }

    #[test]
    fn renames_are_followed_without_looping() {
        let m = Marketplace::parse(
            "m.json",
            br#"{"name": "m", "plugins": [{"name": "new", "source": "./new"}],
                 "renames": {"old": "mid", "mid": "new", "x": "y", "y": "x"}}"#,
        )
        .unwrap();
        assert_eq!(m.find("old").map(|(_, n)| n), Some("new".to_owned()));
        assert_eq!(m.find("new").map(|(_, n)| n), Some("new".to_owned()));
        assert!(m.find("x").is_none());
        let err = Marketplace::parse("m.json", b"{\"name\": \"m\",\n \"plugins\": [}").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
