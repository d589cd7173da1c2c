//! Upstream specs: where an artifact comes from.
//!
//! Accepted forms (`REF` is a tag, a branch, a full or short commit sha, or `latest`, the
//! default, meaning the remote's default branch):
//!
//! - GitHub shorthand: `owner/repo[/path/in/repo][@REF]`
//! - a git URL: `https://…`, `http://…`, `ssh://…`, `git://…`, `file://…` or scp-like
//!   `user@host:repo.git`, followed by `[#path/in/repo][@REF]`
//! - a local repository: a path starting with `/`, `./` or `../`, followed by
//!   `[#path/in/repo][@REF]` (relative paths are made absolute with [`UpstreamSpec::absolutize`]
//!   before they are recorded)
//!
//! A relative path must start with `./` so that it is never mistaken for GitHub shorthand.
//! Parsing is pure: nothing is fetched here.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::error::ErrorKind;

/// Which ref of the upstream to follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "value")]
pub enum RefSpec {
    /// The remote's default branch, followed as it moves.
    Latest,
    /// A tag, branch or commit sha as the user wrote it; resolved at fetch time.
    Named(String),
}

impl fmt::Display for RefSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Latest => f.write_str("latest"),
            Self::Named(r) => f.write_str(r),
        }
    }
}

/// Where the repository is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Source {
    /// A GitHub repository.
    GitHub { owner: String, repo: String },
    /// Any git URL.
    Url { url: String },
    /// A repository on this machine (as written; `~/` is expanded by the caller).
    Local { path: String },
}

/// A parsed upstream spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamSpec {
    /// Where the repository is: a GitHub `owner/repo`, a URL or a local path.
    pub source: Source,
    /// The artifact's path inside the repository (`/`-separated, no leading `/`), or empty for
    /// the repository root.
    pub path: String,
    /// The ref to follow.
    pub reference: RefSpec,
}

/// A spec that cannot be parsed, with what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// Empty input.
    #[error("upstream spec is empty")]
    Empty,
    /// Shorthand with a bad owner or repo.
    #[error(
        "`{spec}` is not an upstream spec: expected owner/repo[/path][@ref], a git URL, or a local \
         path starting with / or ./ (each optionally followed by #path and @ref)"
    )]
    Unrecognised { spec: String },
    /// The path inside the repository climbs out of it or has empty parts.
    #[error("path `{path}` inside the repository is not allowed: no `..`, `.` or empty parts")]
    BadPath { path: String },
    /// `@` with nothing after it.
    #[error("`{spec}` ends with `@` but names no ref")]
    EmptyRef { spec: String },
}

impl SpecError {
    /// What kind of failure this is, for the edges to answer it (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Empty
            | Self::Unrecognised { .. }
            | Self::BadPath { .. }
            | Self::EmptyRef { .. } => ErrorKind::BadSpec,
        }
    }
}

impl UpstreamSpec {
    /// Parses a spec in any accepted form.
    pub fn parse(spec: &str) -> Result<Self, SpecError> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(SpecError::Empty);
        }
        if is_url(spec) || is_local(spec) {
            return parse_located(spec);
        }
        parse_shorthand(spec)
    }

    /// Makes a relative local path absolute against `cwd`, so the spec means the same thing
    /// wherever it is used later. URLs and GitHub specs are unchanged.
    pub fn absolutize(&mut self, cwd: &std::path::Path) {
        if let Source::Local { path } = &mut self.source
            && !path.starts_with('/')
        {
            let joined = cwd.join(path.as_str());
            // Lexical clean-up of `.` and `..`; the path need not exist yet.
            let mut clean = std::path::PathBuf::new();
            for part in joined.components() {
                match part {
                    std::path::Component::CurDir => {}
                    std::path::Component::ParentDir => {
                        clean.pop();
                    }
                    other => clean.push(other),
                }
            }
            *path = clean.to_string_lossy().into_owned();
        }
    }

    /// The URL or path that git fetches from.
    pub fn fetch_location(&self) -> String {
        match &self.source {
            Source::GitHub { owner, repo } => format!("https://github.com/{owner}/{repo}.git"),
            Source::Url { url } => url.clone(),
            Source::Local { path } => path.clone(),
        }
    }

    /// A web page for the artifact on GitHub, when it is there.
    pub fn github_url(&self) -> Option<String> {
        match &self.source {
            Source::GitHub { owner, repo } => Some(format!("https://github.com/{owner}/{repo}")),
            _ => None,
        }
    }
}

impl fmt::Display for UpstreamSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::GitHub { owner, repo } => {
                write!(f, "{owner}/{repo}")?;
                if !self.path.is_empty() {
                    write!(f, "/{}", self.path)?;
                }
            }
            Source::Url { url: location } | Source::Local { path: location } => {
                f.write_str(location)?;
                if !self.path.is_empty() {
                    write!(f, "#{}", self.path)?;
                }
            }
        }
        if let RefSpec::Named(r) = &self.reference {
            write!(f, "@{r}")?;
        }
        Ok(())
    }
}

fn is_url(s: &str) -> bool {
    ["https://", "http://", "ssh://", "git://", "file://"]
        .iter()
        .any(|p| s.starts_with(p))
        || is_scp_like(s)
}

// user@host:path — an `@` before the first `:`, and no `/` before that `:`.
fn is_scp_like(s: &str) -> bool {
    match (s.find('@'), s.find(':')) {
        (Some(at), Some(colon)) => at < colon && !s[..colon].contains('/'),
        _ => false,
    }
}

fn is_local(s: &str) -> bool {
    s.starts_with('/') || s.starts_with("./") || s.starts_with("../")
}

/// Splits a trailing `@REF` off `s`, considering only `@`s at or after `min_index`.
fn split_ref(s: &str, min_index: usize, whole: &str) -> Result<(String, RefSpec), SpecError> {
    match s.rfind('@').filter(|&at| at >= min_index) {
        Some(at) => {
            let r = &s[at + 1..];
            if r.is_empty() {
                return Err(SpecError::EmptyRef {
                    spec: whole.to_owned(),
                });
            }
            let reference = if r == "latest" {
                RefSpec::Latest
            } else {
                RefSpec::Named(r.to_owned())
            };
            Ok((s[..at].to_owned(), reference))
        }
        None => Ok((s.to_owned(), RefSpec::Latest)),
    }
}

fn parse_located(spec: &str) -> Result<UpstreamSpec, SpecError> {
    // Where a ref's `@` may start: after the URL's authority (or the scp-like `:`), so that
    // `git@host:` and `https://user@host/` are never read as refs.
    let path_start = if let Some(scheme_end) = spec.find("://") {
        spec[scheme_end + 3..]
            .find('/')
            .map_or(spec.len(), |i| scheme_end + 3 + i)
    } else if is_scp_like(spec) {
        spec.find(':').map_or(0, |i| i + 1)
    } else {
        0
    };
    let (location, path, reference) = match spec.find('#').filter(|&h| h >= path_start) {
        Some(hash) => {
            let (path, reference) = split_ref(&spec[hash + 1..], 0, spec)?;
            let (location, ref_before) = split_ref(&spec[..hash], path_start, spec)?;
            // Accept both `repo@v1#path` and `repo#path@v1`; the latter wins if both are given.
            let reference = if reference == RefSpec::Latest {
                ref_before
            } else {
                reference
            };
            (location, path, reference)
        }
        None => {
            let (location, reference) = split_ref(spec, path_start, spec)?;
            (location, String::new(), reference)
        }
    };
    let path = clean_path(&path)?;
    let source = if is_local(&location) {
        Source::Local { path: location }
    } else {
        Source::Url { url: location }
    };
    Ok(UpstreamSpec {
        source,
        path,
        reference,
    })
}

fn parse_shorthand(spec: &str) -> Result<UpstreamSpec, SpecError> {
    let unrecognised = || SpecError::Unrecognised {
        spec: spec.to_owned(),
    };
    let (rest, reference) = split_ref(spec, 0, spec)?;
    let mut parts = rest.splitn(3, '/');
    let owner = parts
        .next()
        .filter(|s| is_github_name(s))
        .ok_or_else(unrecognised)?;
    let repo = parts
        .next()
        .filter(|s| is_github_name(s))
        .ok_or_else(unrecognised)?;
    let repo = repo.strip_suffix(".git").unwrap_or(repo);
    let path = clean_path(parts.next().unwrap_or(""))?;
    Ok(UpstreamSpec {
        source: Source::GitHub {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
        },
        path,
        reference,
    })
}

fn is_github_name(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Normalises a path inside the repository: strips surrounding `/`, refuses `..`, `.`, `//`.
fn clean_path(path: &str) -> Result<String, SpecError> {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    if trimmed
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == ".." || part.contains('\\'))
    {
        return Err(SpecError::BadPath {
            path: path.to_owned(),
        });
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(r: &str) -> RefSpec {
        RefSpec::Named(r.to_owned())
    }

    fn gh(owner: &str, repo: &str) -> Source {
        Source::GitHub {
            owner: owner.into(),
            repo: repo.into(),
        }
    }

    #[test]
    fn github_shorthand() {
        let s = UpstreamSpec::parse("anthropics/skills/skills/pdf@v1.2.0").unwrap();
        assert_eq!(s.source, gh("anthropics", "skills"));
        assert_eq!(s.path, "skills/pdf");
        assert_eq!(s.reference, named("v1.2.0"));
        assert_eq!(
            s.fetch_location(),
            "https://github.com/anthropics/skills.git"
        );
        assert_eq!(s.to_string(), "anthropics/skills/skills/pdf@v1.2.0");

        let s = UpstreamSpec::parse("owner/repo").unwrap();
        assert_eq!((s.path.as_str(), &s.reference), ("", &RefSpec::Latest));
        assert_eq!(
            UpstreamSpec::parse("owner/repo@latest").unwrap().reference,
            RefSpec::Latest
        );
        assert_eq!(
            UpstreamSpec::parse("o/r@feature/x").unwrap().reference,
            named("feature/x")
        );
    }

    #[test]
    fn urls_with_path_and_ref_in_either_order() {
        for spec in [
            "https://git.example/team/skills.git#skills/pdf@abc1234",
            "https://git.example/team/skills.git@abc1234#skills/pdf",
        ] {
            let s = UpstreamSpec::parse(spec).unwrap();
            assert_eq!(
                s.source,
                Source::Url {
                    url: "https://git.example/team/skills.git".into()
                },
                "{spec}"
            );
            assert_eq!(s.path, "skills/pdf");
            assert_eq!(s.reference, named("abc1234"));
        }
    }

    #[test]
    fn user_parts_of_urls_are_not_refs() {
        let s = UpstreamSpec::parse("git@github.com:team/skills.git").unwrap();
        assert_eq!(
            s.source,
            Source::Url {
                url: "git@github.com:team/skills.git".into()
            }
        );
        assert_eq!(s.reference, RefSpec::Latest);
        let s = UpstreamSpec::parse("git@github.com:team/skills.git@v2").unwrap();
        assert_eq!(s.reference, named("v2"));
        let s = UpstreamSpec::parse("https://me@host.example/r.git").unwrap();
        assert_eq!(
            s.source,
            Source::Url {
                url: "https://me@host.example/r.git".into()
            }
        );
        assert_eq!(s.reference, RefSpec::Latest);
    }

    #[test]
    fn local_paths() {
        let s = UpstreamSpec::parse("/srv/git/skills#skills/pdf@v3").unwrap();
        assert_eq!(
            s.source,
            Source::Local {
                path: "/srv/git/skills".into()
            }
        );
        assert_eq!(
            (s.path.as_str(), s.reference.clone()),
            ("skills/pdf", named("v3"))
        );
        assert_eq!(s.to_string(), "/srv/git/skills#skills/pdf@v3");
        let s = UpstreamSpec::parse("./repo").unwrap();
        assert_eq!(
            s.source,
            Source::Local {
                path: "./repo".into()
            }
        );
    }

    #[test]
    fn bad_specs_are_clear_errors() {
        assert_eq!(UpstreamSpec::parse("  "), Err(SpecError::Empty));
        assert!(matches!(
            UpstreamSpec::parse("justaname"),
            Err(SpecError::Unrecognised { .. })
        ));
        assert!(matches!(
            UpstreamSpec::parse("o/r/../../etc"),
            Err(SpecError::BadPath { .. })
        ));
        assert!(matches!(
            UpstreamSpec::parse("/repo#a//b"),
            Err(SpecError::BadPath { .. })
        ));
        assert!(matches!(
            UpstreamSpec::parse("o/r@"),
            Err(SpecError::EmptyRef { .. })
        ));
        assert!(matches!(
            UpstreamSpec::parse("own er/repo"),
            Err(SpecError::Unrecognised { .. })
        ));
    }
}
