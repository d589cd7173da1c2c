//! From `skillmeat-core`'s types to the DTOs (server side only).

use skillmeat_core::engine::merge::HunkChoice;
use skillmeat_core::jobs::{Job, JobEvent, JobState};
use skillmeat_core::ops::conflicts::FileChoice;
use skillmeat_core::ops::sync::{Direction, Strategy};

use super::{
    DirectionName, EventView, HunkSide, JobView, OpenMergeView, OpenMergesView, Side, StateName,
    StrategyName,
};

impl From<DirectionName> for Direction {
    fn from(d: DirectionName) -> Self {
        match d {
            DirectionName::UpstreamToCollection => Direction::UpstreamToCollection,
            DirectionName::CollectionToProject => Direction::CollectionToProject,
            DirectionName::ProjectToCollection => Direction::ProjectToCollection,
        }
    }
}

impl From<Direction> for DirectionName {
    fn from(d: Direction) -> Self {
        match d {
            Direction::UpstreamToCollection => Self::UpstreamToCollection,
            Direction::CollectionToProject => Self::CollectionToProject,
            Direction::ProjectToCollection => Self::ProjectToCollection,
        }
    }
}

impl From<StrategyName> for Strategy {
    fn from(s: StrategyName) -> Self {
        match s {
            StrategyName::Auto => Strategy::Auto,
            StrategyName::Ours => Strategy::Ours,
            StrategyName::Theirs => Strategy::Theirs,
            StrategyName::Overwrite => Strategy::Overwrite,
            StrategyName::Fork => Strategy::Fork,
        }
    }
}

impl From<Strategy> for StrategyName {
    fn from(s: Strategy) -> Self {
        match s {
            Strategy::Auto => Self::Auto,
            Strategy::Ours => Self::Ours,
            Strategy::Theirs => Self::Theirs,
            Strategy::Overwrite => Self::Overwrite,
            Strategy::Fork => Self::Fork,
        }
    }
}

impl From<JobState> for StateName {
    fn from(s: JobState) -> Self {
        match s {
            JobState::Queued => Self::Queued,
            JobState::Running => Self::Running,
            JobState::Success => Self::Success,
            JobState::Conflict => Self::Conflict,
            JobState::Error => Self::Error,
            JobState::Cancelled => Self::Cancelled,
        }
    }
}

impl From<StateName> for JobState {
    fn from(s: StateName) -> Self {
        match s {
            StateName::Queued => Self::Queued,
            StateName::Running => Self::Running,
            StateName::Success => Self::Success,
            StateName::Conflict => Self::Conflict,
            StateName::Error => Self::Error,
            StateName::Cancelled => Self::Cancelled,
        }
    }
}

impl From<Side> for FileChoice {
    fn from(s: Side) -> Self {
        match s {
            Side::Ours => FileChoice::Ours,
            Side::Theirs => FileChoice::Theirs,
        }
    }
}

impl From<HunkSide> for HunkChoice {
    fn from(s: HunkSide) -> Self {
        match s {
            HunkSide::Ours => Self::Ours,
            HunkSide::Theirs => Self::Theirs,
            HunkSide::Both => Self::Both,
        }
    }
}

impl From<Job> for JobView {
    fn from(j: Job) -> Self {
        Self {
            id: j.id,
            kind: j.kind.as_str().to_owned(),
            state: j.state.into(),
            direction: j.direction.into(),
            artifacts: j.artifact_ids.iter().map(ToString::to_string).collect(),
            project_path: j.project_path.map(|p| p.display().to_string()),
            projects: j
                .update
                .iter()
                .flat_map(|u| &u.projects)
                .map(|p| p.display().to_string())
                .collect(),
            collection: j.collection,
            strategy: j.strategy.into(),
            dry_run: j.dry_run,
            plan_job: j.plan_job,
            pct: j.pct,
            created_at: j.created_at,
            started_at: j.started_at,
            ended_at: j.ended_at,
            trace_id: j.trace_id,
            log_excerpt: j.log_excerpt,
            conflicts: j.conflicts.iter().map(ToString::to_string).collect(),
            result: j.result,
            attempts: j.attempts,
        }
    }
}

impl From<JobEvent> for EventView {
    fn from(e: JobEvent) -> Self {
        Self {
            id: e.id,
            job_id: e.job_id,
            at: e.at,
            state: e.state.into(),
            pct: e.pct,
            message: e.message,
        }
    }
}

impl From<&skillmeat_core::storage::events::Event> for super::LogEvent {
    fn from(e: &skillmeat_core::storage::events::Event) -> Self {
        let hex = |h: Option<skillmeat_core::model::hash::ContentHash>| h.map(|h| h.to_hex());
        Self {
            id: e.id,
            at: e.at.clone(),
            kind: e.kind.as_str().to_owned(),
            artifact: e.artifact_id.to_string(),
            collection: e.collection.clone(),
            project: e.project.as_ref().map(|p| p.display().to_string()),
            direction: e.direction.clone(),
            strategy: e.strategy.clone(),
            status: e.status.clone(),
            outcome: e.outcome.clone(),
            base: hex(e.base),
            source: hex(e.source),
            target: hex(e.target),
            result: hex(e.result),
            merged: e.merged.clone(),
            conflicted: e.conflicted.clone(),
            resolutions: e.resolutions.clone(),
            tag: e.detail["tag"].as_str().map(str::to_owned),
            conflict_record: e.detail["conflict_record"].as_i64(),
            summary: e.summary(),
        }
    }
}

impl From<&skillmeat_core::ops::LogPage> for super::LogPageView {
    fn from(page: &skillmeat_core::ops::LogPage) -> Self {
        Self {
            events: page.events.iter().map(Into::into).collect(),
            next_before: page.next_before,
        }
    }
}

impl From<skillmeat_core::ops::ConflictHistory> for super::ConflictHistoryView {
    fn from(h: skillmeat_core::ops::ConflictHistory) -> Self {
        Self {
            conflicts: h.conflicts,
            resolved: h.resolved,
            aborted: h.aborted,
            files: h
                .files
                .into_iter()
                .map(|f| super::FileConflictsView {
                    path: f.path,
                    times: f.times,
                    settled: f.settled,
                })
                .collect(),
        }
    }
}

impl From<&skillmeat_core::engine::bump::Suggestion> for super::BumpView {
    fn from(s: &skillmeat_core::engine::bump::Suggestion) -> Self {
        Self {
            bump: s.bump.as_str().to_owned(),
            summary: s.summary(),
            reasons: s
                .reasons
                .iter()
                .map(|r| super::BumpReason {
                    bump: r.bump.as_str().to_owned(),
                    text: r.text.clone(),
                })
                .collect(),
        }
    }
}

impl From<&skillmeat_core::ops::NextTag> for super::NextTagView {
    fn from(n: &skillmeat_core::ops::NextTag) -> Self {
        Self {
            id: n.id.to_string(),
            version: n.version.to_hex(),
            last_tag: n.last.as_ref().map(|(t, _)| t.clone()),
            last_version: n.last.as_ref().map(|(_, h)| h.to_hex()),
            proposed: n.proposed.clone(),
            bump: (&n.bump).into(),
            breaking: n.breaking,
        }
    }
}

impl From<&skillmeat_core::ops::Changelog> for super::ChangelogView {
    fn from(c: &skillmeat_core::ops::Changelog) -> Self {
        Self {
            id: c.id.to_string(),
            from: c.from.to_hex(),
            to: c.to.to_hex(),
            in_order: c.in_order,
            bump: (&c.bump).into(),
            steps: c
                .steps
                .iter()
                .map(|s| super::ChangelogStepView {
                    version: s.version.to_hex(),
                    parent: s.parent.map(|p| p.to_hex()),
                    created_at: s.created_at.clone(),
                    origin: s.origin.as_str().to_owned(),
                    tag: s.tag.clone(),
                    breaking: s.breaking,
                    bump: (&s.bump).into(),
                    files: s
                        .files
                        .iter()
                        .map(|f| super::ChangedFileView {
                            path: f.path.clone(),
                            status: f.status.clone(),
                            added: f.added as u64,
                            removed: f.removed as u64,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl From<&skillmeat_core::ops::Timeline> for super::TimelineView {
    fn from(t: &skillmeat_core::ops::Timeline) -> Self {
        Self {
            id: t.id.to_string(),
            project_path: t.project.display().to_string(),
            deployed_at: t.deployed_at.clone(),
            modified_since: t.modified_since.clone(),
            last_checked: t.last_checked.clone(),
            modified_now: t.modified_now,
            baseline: t.baseline.clone(),
            parent: t.parent.clone(),
            versions: t.versions as u64,
        }
    }
}

impl From<skillmeat_core::ops::conflicts::OpenMerge> for OpenMergeView {
    fn from(m: skillmeat_core::ops::conflicts::OpenMerge) -> Self {
        Self {
            artifact: m.id.to_string(),
            collection: m.collection,
            direction: m.direction.to_owned(),
            project_path: m.project.map(|p| p.display().to_string()),
            detected_at: m.detected_at,
            age_seconds: m.age_seconds,
            stale: m.stale,
            files: m.files,
            unresolved: m.unresolved,
        }
    }
}

impl From<skillmeat_core::ops::conflicts::OpenMerges> for OpenMergesView {
    fn from(open: skillmeat_core::ops::conflicts::OpenMerges) -> Self {
        Self {
            stale_after_seconds: open.stale_after_seconds,
            stale: u64::try_from(open.stale).unwrap_or(u64::MAX),
            oldest_age_seconds: open.oldest_age_seconds,
            merges: open.merges.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<skillmeat_core::storage::sync_failures::FailureRun> for super::FailingSyncView {
    fn from(r: skillmeat_core::storage::sync_failures::FailureRun) -> Self {
        Self {
            artifact: r.artifact,
            collection: r.collection,
            failures: r.failures,
            last_error: r.last_error,
            last_at: r.last_at,
            locked_at: r.locked_at,
        }
    }
}
