//! What the commands share: the collection flag, the operation context built from the
//! environment, exit codes, and core errors turned into command errors with a hint.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clap::Args;
use skillmeat_core::model::error::ErrorKind;
use skillmeat_core::ops::{self, Context, OpsError};
use skillmeat_core::storage::fetch::FetchSettings;
use skillmeat_core::storage::home::{DEFAULT_COLLECTION, Home};
use skillmeat_core::storage::upstream_tree::Limits;

use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct CollectionArg {
    /// Collection to use.
    #[arg(long, default_value = DEFAULT_COLLECTION, value_name = "NAME")]
    pub collection: String,
}

/// `--user`: the user scope, `~/.claude`. SkillMeat keeps it the way it keeps a project's
/// `.claude/` — the "project" is the user's home folder — so records, drift, sync, conflicts
/// and rollback are the same; only the artifact folders and the records file in it are read or
/// written.
pub(crate) fn user_home() -> Result<PathBuf, CommandError> {
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) if Path::new(&home).is_dir() => Ok(PathBuf::from(home)),
        _ => Err(CommandError::usage(
            "--user needs $HOME to name your home folder (the one holding ~/.claude)",
        )),
    }
}

/// The project a command works on: `project`, or with `user` the user scope.
pub(crate) fn or_user(
    project: Option<PathBuf>,
    user: bool,
) -> Result<Option<PathBuf>, CommandError> {
    if user {
        user_home().map(Some)
    } else {
        Ok(project)
    }
}

pub(crate) fn context(home: &Path) -> Result<Context, CommandError> {
    let cwd = std::env::current_dir()
        .map_err(|e| CommandError::failed(format!("cannot read the current folder: {e}")))?;
    Ok(Context {
        cwd,
        home: Home::new(home),
        now: SystemTime::now(),
        // The token goes to GitHub only (github.com, or $GITHUB_SERVER_URL's host).
        fetch: FetchSettings {
            github_token: std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty()),
            github_server: std::env::var("GITHUB_SERVER_URL")
                .ok()
                .filter(|t| !t.is_empty()),
            limits: upstream_limits()?,
            ..FetchSettings::default()
        },
        lock_timeout: ops::LOCK_TIMEOUT,
    })
}

/// The upstream size limits, from `SKILLMEAT_MAX_FILE_BYTES`, `SKILLMEAT_MAX_ARTIFACT_BYTES` and
/// `SKILLMEAT_MAX_FILES` where set (a number, optionally with a K, M or G suffix of 1024s).
fn upstream_limits() -> Result<Limits, CommandError> {
    let defaults = Limits::default();
    let read = |name: &str, default: u64| -> Result<u64, CommandError> {
        match std::env::var(name) {
            Ok(text) if !text.trim().is_empty() => parse_size(&text).ok_or_else(|| {
                CommandError::usage(format!(
                    "{name}={text:?} is not a size: give a number of bytes, e.g. 33554432 or 32M"
                ))
            }),
            _ => Ok(default),
        }
    };
    Ok(Limits {
        max_file_bytes: read("SKILLMEAT_MAX_FILE_BYTES", defaults.max_file_bytes)?,
        max_artifact_bytes: read("SKILLMEAT_MAX_ARTIFACT_BYTES", defaults.max_artifact_bytes)?,
        max_files: usize::try_from(read("SKILLMEAT_MAX_FILES", defaults.max_files as u64)?)
            .unwrap_or(usize::MAX),
    })
}

/// `123`, `64K`, `16M`, `1G` (powers of 1024) as a byte count.
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, shift) = match text.char_indices().last()? {
        (i, 'k' | 'K') => (&text[..i], 10),
        (i, 'm' | 'M') => (&text[..i], 20),
        (i, 'g' | 'G') => (&text[..i], 30),
        _ => (text, 0),
    };
    digits.parse::<u64>().ok()?.checked_mul(1u64 << shift)
}

pub(crate) fn ops_error(e: OpsError) -> CommandError {
    let kind = e.kind();
    let err = match kind {
        ErrorKind::Usage => CommandError::usage(e.to_string()),
        _ => CommandError::failed(e.to_string()),
    };
    match hint(kind) {
        Some(h) => err.with_hint(h),
        None => err,
    }
}

/// What to do next about a failure of this kind, where there is one thing to suggest. Matched
/// without a fallback: a new kind has to be thought about here.
fn hint(kind: ErrorKind) -> Option<&'static str> {
    match kind {
        ErrorKind::UnknownType => Some(
            "add --type skill, command, agent, output-style, hook or mcp (a skill is a folder, \
             the others one file)",
        ),
        ErrorKind::AlreadyAdded => Some("see it with `skillmeat show`"),
        ErrorKind::NotInCollection => Some("list the collection with `skillmeat list`"),
        ErrorKind::LocalEdits => Some("see the edits with `skillmeat drift --project DIR`"),
        ErrorKind::BadSpec => Some("run `skillmeat add --help` for the accepted forms"),
        ErrorKind::UnknownVersion | ErrorKind::AmbiguousVersion => {
            Some("list the versions with `skillmeat history ID`")
        }
        ErrorKind::TagTaken => Some("pass --force to move the tag"),
        ErrorKind::BadConfig => Some(
            "fix that line of config.toml (or the variable); `skillmeat config list` shows every setting",
        ),
        ErrorKind::StillDeployed => Some(
            "`skillmeat undeploy ID --project DIR` for each, or `skillmeat remove ID --undeploy`",
        ),
        ErrorKind::NotRegistered => {
            Some("deploy into it first: `skillmeat deploy ID --project DIR`")
        }
        ErrorKind::NotDeployed => Some("deploy it first: `skillmeat deploy ID --project DIR`"),
        ErrorKind::PendingMerge => {
            Some("`skillmeat resolve ID --continue` applies it once resolved; --abort drops it")
        }
        ErrorKind::NoPendingMerge => Some("start one with `skillmeat sync`"),
        ErrorKind::AmbiguousPending => Some("name the project with --project DIR"),
        ErrorKind::Locked => {
            Some("another SkillMeat command or server is writing it; try again when it is done")
        }
        ErrorKind::Changed | ErrorKind::MergeChanged => Some("run the same command again"),
        ErrorKind::PlanChanged => Some("run it again to see the new plan before it is applied"),
        ErrorKind::SyncLocked => Some(
            "fix what made it fail, then `skillmeat unlock ID`; `skillmeat log ID` shows the tries",
        ),
        ErrorKind::NothingToExport => {
            Some("edit the project copy first, or check `skillmeat diff`")
        }
        ErrorKind::Unresolved => Some("edit the files until no conflict markers are left"),
        ErrorKind::UpstreamFailed => Some("check the spec and the network, then run it again"),
        ErrorKind::Usage
        | ErrorKind::Invalid
        | ErrorKind::NotFound
        | ErrorKind::Unmanaged
        | ErrorKind::BadRecords
        | ErrorKind::LinkOutside
        | ErrorKind::UnreadableCopy
        | ErrorKind::UpstreamRefused
        | ErrorKind::Cancelled
        | ErrorKind::Internal => None,
    }
}

/// `drift`'s exit status when everything was checked and something drifted. Distinct from 1,
/// the status of every error (also of a drift that could not check everything), so a script
/// can tell "act on the drift" from "the check itself failed".
pub(crate) const EXIT_DRIFTED: u8 = 4;

pub(crate) const EXIT_ERROR: u8 = 1;

/// Exit status when a merge is left pending.
pub(crate) const EXIT_CONFLICT: u8 = 3;
