//! `$SKILLMEAT_HOME/config.toml`: the settings a user may change, each overridable by an
//! environment variable (`sync.auto_merge` by `SKILLMEAT_SYNC_AUTO_MERGE`, …), the variable
//! winning over the file and the file over the default.
//!
//! ```toml
//! [sync]
//! auto_merge = true          # false: a change on both sides always waits as a pending merge
//! default_strategy = "auto"  # auto | ours | theirs | overwrite | fork
//! preview_required = true    # an API apply must name the plan (dry-run job) it applies
//! lock_after_failures = 3    # failed syncs in a row that lock an artifact (0: never)
//! [conflicts]
//! stale_after = "7d"         # a pending merge older than this is flagged as abandoned
//! [exports]
//! per_minute = 10            # patch exports the server makes per minute
//! [diff]
//! inline_limit = 1048576     # bytes; a larger file is summarised, not shown line by line
//! [jobs]
//! concurrency = 4            # the server's sync jobs run at once
//! [upstream]
//! checks = true              # false: drift and the pages never ask an upstream
//! check_spacing = "100ms"    # least time between two requests to one host in a bulk check
//! ```
//!
//! A file that is not valid TOML, a key SkillMeat does not know, or a value of the wrong kind is
//! an error naming the file, the line and the key; `config set` rewrites one value and keeps the
//! rest of the file (comments, order) as it was.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::model::error::{ErrorKind, PathError};
use crate::storage::atomic::write_atomic;
use crate::storage::home::Home;
use crate::storage::tomlfile::{TomlFileError, load_toml};

/// The strategies `sync.default_strategy` takes (as `crate::ops::sync::Strategy` spells them).
pub const STRATEGIES: [&str; 5] = ["auto", "ours", "theirs", "overwrite", "fork"];

/// The file's name in the home.
pub const CONFIG_FILE: &str = "config.toml";

/// Everything `config.toml` can set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub sync: SyncConfig,
    pub diff: DiffConfig,
    pub jobs: JobsConfig,
    pub upstream: UpstreamConfig,
    pub conflicts: ConflictsConfig,
    pub exports: ExportsConfig,
}

/// `[sync]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    /// Merge changes made on both sides when they do not clash; off, every such merge waits as
    /// a pending merge to be reviewed and applied with `resolve --continue`.
    pub auto_merge: bool,
    /// The strategy a sync or update uses when none is asked for.
    pub default_strategy: String,
    /// Every apply needs its plan first: a sync job that writes must name the dry-run job whose
    /// plan it applies (`plan_job`), and is refused if what it would do differs from that plan.
    /// The CLI always prints its plan before it applies.
    pub preview_required: bool,
    /// How many syncs of one artifact may fail in a row before it is locked against syncs
    /// (`skillmeat unlock ID`); 0 never locks.
    pub lock_after_failures: u32,
}

/// `[conflicts]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConflictsConfig {
    /// How old a pending merge gets before it is flagged as abandoned (`7d`, `36h`, …).
    pub stale_after: String,
}

/// `[exports]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExportsConfig {
    /// How many patch bundles the server exports per minute (for all clients together).
    pub per_minute: u32,
}

/// `[diff]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiffConfig {
    /// Files larger than this (bytes) on either side are summarised, not diffed line by line.
    pub inline_limit: u64,
}

/// `[jobs]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// How many of the server's jobs run at once.
    pub concurrency: u32,
}

/// `[upstream]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    /// Whether drift and the pages ask upstreams for their state (off: they say it was not
    /// checked; `sync` and `update` still fetch, as they must).
    pub checks: bool,
    /// The least time between two requests to one host in a bulk upstream check (`0s`: none).
    pub check_spacing: String,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            auto_merge: true,
            default_strategy: "auto".to_owned(),
            preview_required: true,
            lock_after_failures: 3,
        }
    }
}

impl Default for ConflictsConfig {
    fn default() -> Self {
        Self {
            stale_after: "7d".to_owned(),
        }
    }
}

impl Default for ExportsConfig {
    fn default() -> Self {
        Self { per_minute: 10 }
    }
}

impl ConflictsConfig {
    /// [`ConflictsConfig::stale_after`] as a duration (checked when the config was loaded).
    pub fn stale_after(&self) -> std::time::Duration {
        humantime::parse_duration(self.stale_after.trim())
            .unwrap_or(std::time::Duration::from_secs(7 * 86_400))
    }
}

impl Default for DiffConfig {
    fn default() -> Self {
        Self {
            inline_limit: 1 << 20,
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self { concurrency: 4 }
    }
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            checks: true,
            check_spacing: "100ms".to_owned(),
        }
    }
}

impl UpstreamConfig {
    /// [`UpstreamConfig::check_spacing`] as a duration (checked when the config was loaded).
    pub fn check_spacing(&self) -> std::time::Duration {
        humantime::parse_duration(self.check_spacing.trim())
            .unwrap_or(std::time::Duration::from_millis(100))
    }
}

/// One setting: its key, what it does, and the environment variable that overrides it.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    pub help: &'static str,
}

impl Key {
    /// `SKILLMEAT_` and the key in capitals, `.` as `_`.
    pub fn env(&self) -> String {
        format!(
            "SKILLMEAT_{}",
            self.name.replace('.', "_").to_ascii_uppercase()
        )
    }
}

/// Every key, in the order `config list` shows them.
pub const KEYS: [Key; 10] = [
    Key {
        name: "sync.auto_merge",
        help: "merge changes made on both sides when they do not clash (false: they wait as a pending merge)",
    },
    Key {
        name: "sync.default_strategy",
        help: "the strategy when none is given: auto, ours, theirs, overwrite or fork",
    },
    Key {
        name: "sync.preview_required",
        help: "an API apply must name the dry-run job whose plan it applies (false: apply directly)",
    },
    Key {
        name: "sync.lock_after_failures",
        help: "failed syncs in a row that lock an artifact until `skillmeat unlock` (0: never)",
    },
    Key {
        name: "diff.inline_limit",
        help: "bytes; a larger file is summarised instead of diffed line by line",
    },
    Key {
        name: "jobs.concurrency",
        help: "how many of the server's jobs run at once (1-64)",
    },
    Key {
        name: "upstream.checks",
        help: "whether drift and the pages ask upstreams for their state",
    },
    Key {
        name: "upstream.check_spacing",
        help: "least time between two requests to one host in a bulk upstream check (100ms; 0s: none)",
    },
    Key {
        name: "conflicts.stale_after",
        help: "age at which a pending merge is flagged as abandoned (7d, 36h, 90m)",
    },
    Key {
        name: "exports.per_minute",
        help: "patch bundles the server exports per minute (1-10000)",
    },
];

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Default,
    File,
    Env,
}

/// A setting as `config list` and `config get` show it.
#[derive(Debug, Clone, Serialize)]
pub struct Setting {
    pub key: &'static str,
    pub value: String,
    pub source: Source,
    pub env: String,
    pub help: &'static str,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is not valid TOML, or a key or value in it is not one SkillMeat knows.
    #[error("{0}")]
    File(#[from] TomlFileError),
    /// A value (from the file, an override or `config set`) that the key does not take.
    #[error("{origin}: `{key}` {problem}")]
    BadValue {
        origin: String,
        key: String,
        problem: String,
    },
    /// No such key.
    #[error("unknown setting `{key}`; the settings are: {known}")]
    UnknownKey { key: String, known: String },
    /// Writing the file failed.
    #[error(transparent)]
    Io(#[from] PathError),
}

impl ConfigError {
    /// What kind of failure this is, for the edges to answer it (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::File(e) => match e.kind() {
                ErrorKind::BadRecords => ErrorKind::BadConfig,
                other => other,
            },
            Self::BadValue { .. } => ErrorKind::BadConfig,
            Self::UnknownKey { .. } => ErrorKind::Invalid,
            Self::Io(_) => ErrorKind::Internal,
        }
    }
}

impl Config {
    /// The file's path in `home`.
    pub fn path(home: &Home) -> PathBuf {
        home.root().join(CONFIG_FILE)
    }

    /// The settings in force: the defaults, then the file, then the environment.
    pub fn load(home: &Home) -> Result<Self, ConfigError> {
        Ok(Self::load_with_sources(home)?.0)
    }

    /// [`Config::load`], and where each key's value came from.
    pub fn load_with_sources(home: &Home) -> Result<(Self, Vec<Source>), ConfigError> {
        let path = Self::path(home);
        let from_file = match load_toml::<Config>(&path) {
            Ok(c) => c,
            Err(TomlFileError::Parse {
                path,
                line,
                column,
                message,
            }) => {
                // Name the key the line sets, which toml's message alone does not.
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let message = match key_at(&text, line) {
                    Some(k) if !message.contains(&k) => format!("`{k}`: {message}"),
                    _ => message,
                };
                return Err(TomlFileError::Parse {
                    path,
                    line,
                    column,
                    message,
                }
                .into());
            }
            Err(e) => return Err(e.into()),
        };
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let in_file = text.parse::<toml_edit::DocumentMut>().ok();
        let mut config = from_file.unwrap_or_default();
        let origin = path.display().to_string();
        config.check(&origin)?;
        let mut sources = Vec::new();
        for k in KEYS {
            let mut source = match &in_file {
                Some(doc) if lookup(doc, k.name).is_some() => Source::File,
                _ => Source::Default,
            };
            if let Some(value) = std::env::var_os(k.env()) {
                let value = value.to_string_lossy().into_owned();
                config.set_value(k.name, &value, &k.env())?;
                source = Source::Env;
            }
            sources.push(source);
        }
        Ok((config, sources))
    }

    /// Refuses values a key does not take.
    fn check(&self, origin: &str) -> Result<(), ConfigError> {
        let bad = |key: &str, problem: String| ConfigError::BadValue {
            origin: origin.to_owned(),
            key: key.to_owned(),
            problem,
        };
        if !STRATEGIES.contains(&self.sync.default_strategy.as_str()) {
            return Err(bad(
                "sync.default_strategy",
                format!(
                    "is `{}`: use auto, ours, theirs, overwrite or fork",
                    self.sync.default_strategy
                ),
            ));
        }
        if !(1..=64).contains(&self.jobs.concurrency) {
            return Err(bad(
                "jobs.concurrency",
                format!("is {}: use 1 to 64", self.jobs.concurrency),
            ));
        }
        if humantime::parse_duration(self.conflicts.stale_after.trim())
            .map_or(true, |d| d.is_zero())
        {
            return Err(bad(
                "conflicts.stale_after",
                format!(
                    "is `{}`: use a duration such as 7d, 36h or 90m",
                    self.conflicts.stale_after
                ),
            ));
        }
        if !(1..=10_000).contains(&self.exports.per_minute) {
            return Err(bad(
                "exports.per_minute",
                format!("is {}: use 1 to 10000", self.exports.per_minute),
            ));
        }
        if humantime::parse_duration(self.upstream.check_spacing.trim())
            .map_or(true, |d| d > std::time::Duration::from_secs(60))
        {
            return Err(bad(
                "upstream.check_spacing",
                format!(
                    "is `{}`: use a duration up to 60s, such as 100ms, 1s or 0s",
                    self.upstream.check_spacing
                ),
            ));
        }
        if self.sync.lock_after_failures > 1000 {
            return Err(bad(
                "sync.lock_after_failures",
                format!("is {}: use 0 to 1000", self.sync.lock_after_failures),
            ));
        }
        if self.diff.inline_limit == 0 || self.diff.inline_limit > 64 << 20 {
            return Err(bad(
                "diff.inline_limit",
                format!(
                    "is {}: use 1 to 67108864 (64 MB) bytes",
                    self.diff.inline_limit
                ),
            ));
        }
        Ok(())
    }

    /// Sets `name` from its text (as `config set` and the environment give it); `origin` names
    /// where the text came from in an error.
    fn set_value(&mut self, name: &str, text: &str, origin: &str) -> Result<(), ConfigError> {
        let bad = |problem: String| ConfigError::BadValue {
            origin: origin.to_owned(),
            key: name.to_owned(),
            problem,
        };
        let boolean = |t: &str| match t.trim() {
            "true" | "1" | "on" | "yes" => Ok(true),
            "false" | "0" | "off" | "no" => Ok(false),
            other => Err(bad(format!("is `{other}`: use true or false"))),
        };
        let number = |t: &str| {
            t.trim()
                .parse::<u64>()
                .map_err(|_| bad(format!("is `{}`: use a whole number", t.trim())))
        };
        match name {
            "sync.auto_merge" => self.sync.auto_merge = boolean(text)?,
            "sync.default_strategy" => self.sync.default_strategy = text.trim().to_owned(),
            "diff.inline_limit" => self.diff.inline_limit = number(text)?,
            "jobs.concurrency" => {
                self.jobs.concurrency = u32::try_from(number(text)?).unwrap_or(u32::MAX)
            }
            "upstream.checks" => self.upstream.checks = boolean(text)?,
            "upstream.check_spacing" => self.upstream.check_spacing = text.trim().to_owned(),
            "sync.preview_required" => self.sync.preview_required = boolean(text)?,
            "sync.lock_after_failures" => {
                self.sync.lock_after_failures = u32::try_from(number(text)?).unwrap_or(u32::MAX)
            }
            "conflicts.stale_after" => self.conflicts.stale_after = text.trim().to_owned(),
            "exports.per_minute" => {
                self.exports.per_minute = u32::try_from(number(text)?).unwrap_or(u32::MAX)
            }
            other => return Err(unknown(other)),
        }
        self.check(origin)
    }

    /// The value of `name`, as text.
    pub fn get(&self, name: &str) -> Result<String, ConfigError> {
        Ok(match name {
            "sync.auto_merge" => self.sync.auto_merge.to_string(),
            "sync.default_strategy" => self.sync.default_strategy.clone(),
            "diff.inline_limit" => self.diff.inline_limit.to_string(),
            "jobs.concurrency" => self.jobs.concurrency.to_string(),
            "upstream.checks" => self.upstream.checks.to_string(),
            "upstream.check_spacing" => self.upstream.check_spacing.clone(),
            "sync.preview_required" => self.sync.preview_required.to_string(),
            "sync.lock_after_failures" => self.sync.lock_after_failures.to_string(),
            "conflicts.stale_after" => self.conflicts.stale_after.clone(),
            "exports.per_minute" => self.exports.per_minute.to_string(),
            other => return Err(unknown(other)),
        })
    }

    /// Every setting with its value and where it came from.
    pub fn list(home: &Home) -> Result<Vec<Setting>, ConfigError> {
        let (config, sources) = Self::load_with_sources(home)?;
        KEYS.iter()
            .zip(sources)
            .map(|(k, source)| {
                Ok(Setting {
                    key: k.name,
                    value: config.get(k.name)?,
                    source,
                    env: k.env(),
                    help: k.help,
                })
            })
            .collect()
    }

    /// Writes `name = text` into the home's `config.toml` (created if missing), keeping every
    /// other line, comment and the order as they were; refused, with nothing written, when the
    /// value does not fit the key or the file is malformed.
    pub fn set(home: &Home, name: &str, text: &str) -> Result<Self, ConfigError> {
        let path = Self::path(home);
        let current = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(PathError::new("read", &path, source).into()),
        };
        // The file as it is must be valid first: a set never papers over a broken file.
        let mut config = crate::storage::tomlfile::parse_toml::<Config>(&path, &current)?;
        config.check(&path.display().to_string())?;
        config.set_value(name, text, &format!("config set {name}"))?;
        let mut doc: toml_edit::DocumentMut =
            current.parse().map_err(|e: toml_edit::TomlError| {
                ConfigError::from(TomlFileError::Parse {
                    path: path.clone(),
                    line: 1,
                    column: 1,
                    message: e.to_string(),
                })
            })?;
        let (table, field) = name.split_once('.').unwrap_or(("", name));
        let value: toml_edit::Value = match name {
            "sync.auto_merge" => config.sync.auto_merge.into(),
            "upstream.checks" => config.upstream.checks.into(),
            "upstream.check_spacing" => config.upstream.check_spacing.as_str().into(),
            "sync.default_strategy" => config.sync.default_strategy.as_str().into(),
            "diff.inline_limit" => i64::try_from(config.diff.inline_limit)
                .unwrap_or(i64::MAX)
                .into(),
            "jobs.concurrency" => i64::from(config.jobs.concurrency).into(),
            "sync.preview_required" => config.sync.preview_required.into(),
            "sync.lock_after_failures" => i64::from(config.sync.lock_after_failures).into(),
            "conflicts.stale_after" => config.conflicts.stale_after.as_str().into(),
            "exports.per_minute" => i64::from(config.exports.per_minute).into(),
            other => return Err(unknown(other)),
        };
        if !doc.contains_table(table) {
            doc.insert(table, toml_edit::table());
        }
        match doc[table][field].as_value_mut() {
            // The value changes; the comment after it and the spacing around it stay.
            Some(existing) => {
                let decor = existing.decor().clone();
                *existing = value;
                *existing.decor_mut() = decor;
            }
            None => doc[table][field] = toml_edit::value(value),
        }
        write_atomic(&path, doc.to_string().as_bytes())?;
        Ok(config)
    }
}

/// The error for a key that is not a setting.
fn unknown(name: &str) -> ConfigError {
    ConfigError::UnknownKey {
        key: name.to_owned(),
        known: KEYS.map(|k| k.name).join(", "),
    }
}

/// The value at `name` (`table.key`) in `doc`, if set there.
fn lookup<'a>(doc: &'a toml_edit::DocumentMut, name: &str) -> Option<&'a toml_edit::Item> {
    let (table, field) = name.split_once('.')?;
    doc.get(table)?.get(field)
}

/// The `table.key` the line `line` (1-based) of `text` sets, from the `[table]` above it.
fn key_at(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let this = lines.get(line.checked_sub(1)?)?;
    let (field, _) = this.split_once('=')?;
    let table = lines[..line - 1]
        .iter()
        .rev()
        .find_map(|l| {
            let l = l.trim();
            l.strip_prefix('[')
                .and_then(|l| l.strip_suffix(']'))
                .map(str::trim)
        })
        .unwrap_or("");
    let field = field.trim();
    Some(if table.is_empty() {
        field.to_owned()
    } else {
        format!("{table}.{field}")
    })
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Default => "default",
            Self::File => "config.toml",
            Self::Env => "environment",
        })
    }
}
