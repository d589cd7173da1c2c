//! "Update all": plan first, then apply. A dry-run job over every artifact with an upstream
//! shows what would happen to each (auto strategy: fast-forwards and clean merges apply,
//! conflicts are kept as pending merges, nothing is overwritten); Apply runs exactly that plan
//! as one bulk job (an artifact whose sides moved since is refused, not applied blind), then
//! its summary, artifact by artifact.

use leptos::prelude::*;

use crate::api::start_sync;
use crate::dto::{CreateJob, DirectionName, JobView, StateName, StrategyName};
use crate::format::encode;
use crate::live::wait_for_within;

/// One artifact's line of a bulk job's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    id: String,
    outcome: String,
}

fn lines(job: &JobView) -> Vec<Line> {
    let Some(reports) = job.result.as_ref().and_then(|r| r.as_array()) else {
        return Vec::new();
    };
    reports
        .iter()
        .filter_map(|r| {
            let id = r.get("id")?.as_str()?.to_owned();
            let outcome = r
                .get("outcome")
                .and_then(|o| o.as_str())
                .or_else(|| r.get("error").map(|_| "error"))
                .unwrap_or("done")
                .replace(['-', '_'], " ");
            Some(Line { id, outcome })
        })
        .collect()
}

/// Whether an outcome leaves something for the user: a conflict (a pending merge), a
/// divergence (no base: only ours or theirs settles it) or an error. The sync outcomes'
/// names are `crate::ops::sync::Outcome::as_str` with the hyphens as spaces.
pub(crate) fn needs_attention(outcome: &str) -> bool {
    matches!(outcome, "conflict" | "diverged" | "error")
}

/// The request of both steps: every artifact with an upstream, into the collection.
fn request(dry_run: bool, plan_job: Option<i64>) -> CreateJob {
    CreateJob {
        direction: DirectionName::UpstreamToCollection,
        artifacts: None,
        project_path: None,
        collection: None,
        strategy: Some(StrategyName::Auto),
        dry_run: Some(dry_run),
        plan_job,
    }
}

/// Where the two steps (plan, then apply) are.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    Idle,
    Planning(Option<i64>),
    Planned(JobView),
    Applying(i64),
    Done(JobView),
    Failed(String),
}

/// Runs the job `start` queues and waits for its end (bulk jobs get 10 minutes), telling
/// `on_start` its id once queued.
pub(crate) async fn run(
    start: impl std::future::Future<Output = Result<JobView, ServerFnError>>,
    on_start: impl Fn(i64),
) -> Result<JobView, String> {
    match start.await {
        Ok(job) => {
            on_start(job.id);
            wait_for_within(job.id, 600).await
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Runs the job `start` queues to its end, telling `set` where it is: `running` once queued,
/// then `ended` with the job, or why it failed.
pub(crate) async fn drive(
    start: impl std::future::Future<Output = Result<JobView, ServerFnError>>,
    running: impl Fn(i64) -> Step,
    ended: impl FnOnce(JobView) -> Step,
    set: impl Fn(Step),
) {
    let result = run(start, |id| set(running(id))).await;
    set(match result {
        Ok(job) => ended(job),
        Err(e) => Step::Failed(e),
    });
}

/// The list of lines with their outcome badges.
fn line_list(lines: Vec<Line>, class: &'static str) -> impl IntoView {
    view! {
        <ul class=class>
            {lines.into_iter().map(|l| {
                let badge = format!("badge action action-{}", l.outcome.replace(' ', "-"));
                view! {
                    <li data-id=l.id.clone()>
                        <a href=format!("/artifacts/{}?pair=uc", encode(&l.id))><code>{l.id.clone()}</code></a>
                        " " <span class=badge>{l.outcome}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// "3 fast forward, 1 conflict, 6 up to date": the outcomes counted, most frequent first.
fn tally(lines: &[Line]) -> String {
    tally_of(lines.iter().map(|l| l.outcome.as_str()))
}

/// [`tally`] of any outcomes.
pub(crate) fn tally_of<'a>(outcomes: impl Iterator<Item = &'a str>) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for outcome in outcomes {
        match counts.iter_mut().find(|(o, _)| o == outcome) {
            Some((_, n)) => *n += 1,
            None => counts.push((outcome.to_owned(), 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
        .into_iter()
        .map(|(o, n)| format!("{n} {o}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The button, the plan it shows first, and once the applying job ends, its summary.
#[component]
pub fn UpdateAll() -> impl IntoView {
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let ready = move || hydrated.is_some_and(|h| h.get());
    let step = RwSignal::new(Step::Idle);
    let busy = move || matches!(step.get(), Step::Planning(_) | Step::Applying(_));
    let preview = move |_| {
        step.set(Step::Planning(None));
        let start = start_sync(request(true, None));
        let running = |id| Step::Planning(Some(id));
        leptos::task::spawn_local(drive(start, running, Step::Planned, move |s| step.set(s)));
    };
    let apply = move |plan: i64| {
        step.set(Step::Applying(plan));
        let start = start_sync(request(false, Some(plan)));
        leptos::task::spawn_local(drive(start, Step::Applying, Step::Done, move |s| {
            step.set(s)
        }));
    };
    let panel = move || match step.get() {
        Step::Idle | Step::Planning(_) | Step::Applying(_) => None,
        Step::Failed(e) => Some(
            view! { <div class="notice error" role="alert">"Update all failed: " {e}</div> }
                .into_any(),
        ),
        Step::Planned(job) => {
            let lines = lines(&job);
            // What would be written: everything but the up-to-date and those needing the user
            // (a conflict only opens a pending merge; the collection's copy stays).
            let attention = lines.iter().filter(|l| needs_attention(&l.outcome)).count();
            let changes = lines
                .iter()
                .filter(|l| l.outcome != "up to date" && !needs_attention(&l.outcome))
                .count();
            let nothing = changes == 0 && attention == 0;
            let tally = tally(&lines);
            let id = job.id;
            Some(
                view! {
                    <div class="notice bulk-plan" role="status">
                        <p>
                            <strong>{format!("Plan (job #{id}): {changes} of {} artifact(s) would change", lines.len())}</strong>
                            {format!(" — {tally}.")}
                        </p>
                        {(attention > 0).then(|| view! {
                            <p class="muted">{format!(
                                "{attention} would need you afterwards: a conflict waits as a pending merge, nothing is overwritten."
                            )}</p>
                        })}
                        {line_list(lines, "bulk-lines")}
                        <div class="actions">
                            <button type="button" on:click=move |_| step.set(Step::Idle)>"Cancel"</button>
                            <button type="button" class="primary bulk-apply" disabled=nothing
                                title="Apply exactly this plan; an artifact that changed since is left alone and reported"
                                on:click=move |_| apply(id)>
                                "Apply this plan"
                            </button>
                        </div>
                    </div>
                }
                .into_any(),
            )
        }
        Step::Done(job) => {
            let lines = lines(&job);
            let attention = lines.iter().filter(|l| needs_attention(&l.outcome)).count();
            let class = match job.state {
                StateName::Success => "notice ok bulk-summary",
                _ => "notice warn bulk-summary",
            };
            Some(
                view! {
                    <div class=class role="status">
                        <p>
                            <strong>{format!("Update all (job #{}): {}", job.id, job.state.as_str())}</strong>
                            {format!(" — {} artifact(s), {attention} need attention.", lines.len())}
                        </p>
                        {line_list(lines, "bulk-lines")}
                    </div>
                }
                .into_any(),
            )
        }
    };
    view! {
        <button type="button" class="primary update-all" disabled=move || !ready() || busy()
            title="Plan taking every artifact's upstream changes into the collection; nothing is written until you apply the plan"
            on:click=preview>
            {move || match step.get() {
                Step::Planning(Some(id)) => format!("Planning… (job #{id})"),
                Step::Planning(None) => "Planning…".to_owned(),
                Step::Applying(id) => format!("Updating… (job #{id})"),
                _ => "Update all…".to_owned(),
            }}
        </button>
        {panel}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_artifacts_do_not_need_attention_conflicts_and_errors_do() {
        for ok in [
            "up to date",
            "fast forward",
            "merged",
            "overwritten",
            "kept target",
            "forked",
        ] {
            assert!(!needs_attention(ok), "{ok}");
        }
        for bad in ["conflict", "diverged", "error"] {
            assert!(needs_attention(bad), "{bad}");
        }
    }

    #[test]
    fn the_tally_counts_outcomes_most_frequent_first() {
        let l = |o: &str| Line {
            id: "x".into(),
            outcome: o.into(),
        };
        let lines = [
            l("up to date"),
            l("conflict"),
            l("up to date"),
            l("fast forward"),
        ];
        assert_eq!(tally(&lines), "2 up to date, 1 conflict, 1 fast forward");
    }
}
