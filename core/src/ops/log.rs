//! `log`: the audit trail read back, a page at a time, and an artifact's conflict history drawn
//! from it. Read-only: a home without a database has an empty log.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::artifact::ArtifactId;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::storage::events::{self, Event, EventFilter, EventKind};
use crate::storage::versions::{VersionError, Versions};

/// One page of the log, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct LogPage {
    pub events: Vec<Event>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
}

/// The events `filter` selects, newest first.
pub async fn log(ctx: &Context, filter: &EventFilter) -> Result<LogPage, OpsError> {
    let Some(versions) = Versions::open_read_only(&ctx.home).await? else {
        return Ok(LogPage {
            events: Vec::new(),
            next_before: None,
        });
    };
    let read = events::list(versions.database(), filter).await;
    versions.close().await;
    let events = read.map_err(VersionError::from)?;
    let page = match filter.limit {
        0 => 50,
        n => n.min(events::MAX_PAGE),
    };
    let next_before = (events.len() == page as usize)
        .then(|| events.last().map(|e| e.id))
        .flatten();
    Ok(LogPage {
        events,
        next_before,
    })
}

/// How often an artifact's merges conflicted, on which files, and how each was settled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConflictHistory {
    /// Conflicted merges found.
    pub conflicts: u32,
    /// Of those, applied after every file was decided.
    pub resolved: u32,
    /// Abandoned.
    pub aborted: u32,
    /// Per file, most often conflicted first.
    pub files: Vec<FileConflicts>,
}

/// One file's conflicts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileConflicts {
    pub path: String,
    /// How many conflicted merges it was part of.
    pub times: u32,
    /// How its resolved merges settled it: `ours`, `theirs`, `custom`, `hunks` → count.
    pub settled: BTreeMap<String, u32>,
}

/// The conflict history of `id`, from every conflict, resolve and abort event it has.
pub async fn conflict_history(ctx: &Context, id: &ArtifactId) -> Result<ConflictHistory, OpsError> {
    let mut filter = EventFilter {
        artifact: Some(id.clone()),
        kinds: vec![EventKind::Conflict, EventKind::Resolve, EventKind::Abort],
        limit: events::MAX_PAGE,
        ..EventFilter::default()
    };
    let mut all = Vec::new();
    loop {
        let page = log(ctx, &filter).await?;
        all.extend(page.events);
        match page.next_before {
            Some(before) => filter.before = Some(before),
            None => break,
        }
    }
    Ok(summarise(&all))
}

/// The conflict history told by `events` (any order, other kinds ignored).
pub fn summarise(events: &[Event]) -> ConflictHistory {
    let mut history = ConflictHistory::default();
    let mut files: BTreeMap<&str, FileConflicts> = BTreeMap::new();
    // Conflicts first: a file's settlements are counted against the conflicts it was in,
    // whatever order the events come in.
    for e in events.iter().filter(|e| e.kind == EventKind::Conflict) {
        history.conflicts += 1;
        for path in &e.conflicted {
            files
                .entry(path)
                .or_insert_with(|| FileConflicts {
                    path: path.clone(),
                    times: 0,
                    settled: BTreeMap::new(),
                })
                .times += 1;
        }
    }
    for e in events {
        match e.kind {
            EventKind::Conflict => {}
            EventKind::Resolve => {
                history.resolved += 1;
                for (path, how) in &e.resolutions {
                    if let Some(f) = files.get_mut(path.as_str()) {
                        *f.settled.entry(how.clone()).or_default() += 1;
                    }
                }
            }
            EventKind::Abort => history.aborted += 1,
            EventKind::Deploy
            | EventKind::Sync
            | EventKind::Rollback
            | EventKind::Tag
            | EventKind::Remove
            | EventKind::Undeploy => {}
        }
    }
    history.files = files.into_values().collect();
    history
        .files
        .sort_by(|a, b| b.times.cmp(&a.times).then_with(|| a.path.cmp(&b.path)));
    history
}
