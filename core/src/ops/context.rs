//! The context every operation runs in: the home, the clock, fetch settings, lock timeout.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::storage::fetch::FetchSettings;
use crate::storage::home::Home;

/// What an operation needs from its caller: the home, a clock and fetch settings.
#[derive(Debug, Clone)]
pub struct Context {
    /// The SkillMeat home.
    pub home: Home,
    /// The time to stamp records with (injected so tests and snapshots are deterministic).
    pub now: SystemTime,
    /// Retry policy and credentials for upstreams.
    pub fetch: FetchSettings,
    /// The folder relative local upstream paths are resolved against.
    pub cwd: PathBuf,
    /// How long to wait for another writer of the same artifact (see [`LOCK_TIMEOUT`]).
    pub lock_timeout: Duration,
}
