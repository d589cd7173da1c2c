//! "Update everywhere": artifacts from their upstreams into the collection, then into every
//! registered project where they are deployed, as one update job (`POST /api/v1/sync/update`).
//! On the artifacts page it covers every artifact; on an artifact's page, that artifact only.
//!
//! Plan first, then apply, as "Update all" does: the preview job plans every step — each
//! project's against the collection the upstream step would leave, without writing it — and
//! shows them grouped by project; Apply runs exactly that plan (a project whose copy moved since
//! is refused and reported, not written blind), then shows what each step did. The strategy is
//! auto: fast-forwards and clean merges apply, conflicts wait as pending merges, nothing is
//! overwritten.

use leptos::prelude::*;

use crate::api::start_update;
use crate::components::update_all::{Step, drive, needs_attention, tally_of};
use crate::dto::{JobView, StateName, StrategyName, UpdateJob};
use crate::format::{base_name, encode};

/// One step of one artifact in a group.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StepLine {
    id: String,
    /// `planned`, `updated`, `auto-merged`, `conflict`, `diverged`, `error`, …
    result: String,
    /// `patch`, `minor`, `major`; empty when nothing changes.
    bump: String,
    detail: String,
}

/// The steps of one place: the collection (from the upstreams), or a project.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    project: Option<String>,
    lines: Vec<StepLine>,
}

/// An update job's result, grouped as the CLI's fleet table is: the collection's upstream
/// steps first, then each project in the job's order; only steps that do something.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Fleet {
    groups: Vec<Group>,
    /// What could not be read at all (a project gone, the plan itself): place and why.
    problems: Vec<(String, String)>,
}

impl Fleet {
    fn lines(&self) -> impl Iterator<Item = &StepLine> {
        self.groups.iter().flat_map(|g| &g.lines)
    }
}

fn text(v: &serde_json::Value, key: &str) -> String {
    v.get(key)
        .and_then(|x| x.as_str())
        .unwrap_or_default()
        .to_owned()
}

fn fleet(job: &JobView) -> Fleet {
    let mut groups = vec![Group {
        project: None,
        lines: Vec::new(),
    }];
    groups.extend(job.projects.iter().map(|p| Group {
        project: Some(p.clone()),
        lines: Vec::new(),
    }));
    let mut problems = Vec::new();
    let rows = job.result.as_ref().and_then(|r| r.as_array());
    for row in rows.into_iter().flatten() {
        let id = text(row, "id");
        let steps = row.get("steps").and_then(|s| s.as_array());
        match (id.is_empty(), steps) {
            (false, Some(steps)) => {
                for step in steps {
                    let result = text(step, "result");
                    if result == "up to date" {
                        continue;
                    }
                    let project = step
                        .get("project")
                        .and_then(|p| p.as_str())
                        .map(str::to_owned);
                    let bump = Some(text(step, "bump")).filter(|b| b != "none");
                    let line = StepLine {
                        id: id.clone(),
                        result,
                        bump: bump.unwrap_or_default(),
                        detail: text(step, "detail"),
                    };
                    match groups.iter_mut().find(|g| g.project == project) {
                        Some(g) => g.lines.push(line),
                        None => groups.push(Group {
                            project,
                            lines: vec![line],
                        }),
                    }
                }
            }
            // An artifact that failed before any step (gone from the collection, not planned).
            (false, None) => groups[0].lines.push(StepLine {
                id,
                result: "error".to_owned(),
                bump: String::new(),
                detail: text(row, "error"),
            }),
            (true, _) => {
                let place = row
                    .get("project")
                    .and_then(|p| p.as_str())
                    .unwrap_or("the update")
                    .to_owned();
                problems.push((place, text(row, "error")));
            }
        }
    }
    groups.retain(|g| !g.lines.is_empty());
    Fleet { groups, problems }
}

fn group_view(g: Group) -> impl IntoView {
    let heading = match &g.project {
        None => view! { <h3>"Collection, from upstreams"</h3> }.into_any(),
        Some(p) => {
            view! { <h3 title=p.clone()>"Project " <code>{base_name(p)}</code></h3> }.into_any()
        }
    };
    let project = g.project.clone();
    let lines = g
        .lines
        .into_iter()
        .map(|l| {
            let href = match &project {
                None => format!("/artifacts/{}?pair=uc", encode(&l.id)),
                Some(p) => format!("/artifacts/{}?pair=cp&project={}", encode(&l.id), encode(p)),
            };
            let badge = format!("badge action action-{}", l.result.replace(' ', "-"));
            view! {
                <li data-id=l.id.clone()>
                    <a href=href><code>{l.id.clone()}</code></a>
                    " " <span class=badge>{l.result.clone()}</span>
                    {(!l.bump.is_empty()).then(|| view! { " " <span class=format!("badge bump-{}", l.bump)>{l.bump.clone()}</span> })}
                    {(!l.detail.is_empty()).then(|| view! { <span class="muted step-detail">{l.detail.clone()}</span> })}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="fleet-group" data-project=g.project.clone().unwrap_or_default()>
            {heading}
            <ul class="fleet-lines">{lines}</ul>
        </section>
    }
}

fn problems_view(problems: Vec<(String, String)>) -> impl IntoView {
    (!problems.is_empty()).then(|| {
        let items = problems
            .into_iter()
            .map(|(place, why)| view! { <li><code>{place}</code> ": " {why}</li> })
            .collect_view();
        view! {
            <div class="notice error fleet-problems" role="alert">
                <p>"Not updated:"</p>
                <ul>{items}</ul>
            </div>
        }
    })
}

/// Where an "Update everywhere" panel is, kept by the page outside the part it re-renders (a
/// job's end refreshes an artifact page's detail, which would otherwise start the panel over
/// and lose the job it waits for); with the artifact it is for, so another artifact's page
/// starts idle.
#[derive(Debug, Clone, Copy)]
pub struct Kept(RwSignal<(Option<String>, Step)>);

impl Kept {
    pub fn new() -> Self {
        Self(RwSignal::new((None, Step::Idle)))
    }

    /// The panel of `artifact` is now at `step`.
    fn put(self, artifact: &Option<String>, step: Step) {
        self.0.set((artifact.clone(), step));
    }
}

impl Default for Kept {
    fn default() -> Self {
        Self::new()
    }
}

/// The button, the plan grouped by project, and once the applying job ends, what each step did.
/// With `artifact`, that artifact only. Its state is the page's [`Kept`] when there is one.
#[component]
pub fn UpdateEverywhere(#[prop(optional, into)] artifact: Option<String>) -> impl IntoView {
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let ready = move || hydrated.is_some_and(|h| h.get());
    let only = StoredValue::new(artifact);
    let kept = use_context::<Kept>().unwrap_or_default();
    let step = Signal::derive(move || {
        let (of, step) = kept.0.get();
        if of == only.get_value() {
            step
        } else {
            Step::Idle
        }
    });
    // Read while the component is alive: a job's end may re-render the part of the page it is
    // in, and what a running job's task holds must outlive that.
    let set = move |s: Step| kept.put(&only.get_value(), s);
    let busy = move || matches!(step.get(), Step::Planning(_) | Step::Applying(_));
    let request = move |dry_run: bool, plan_job: Option<i64>| UpdateJob {
        artifacts: only.get_value().map(|a| vec![a]),
        projects: None,
        collection: None,
        strategy: Some(StrategyName::Auto),
        dry_run: Some(dry_run),
        plan_job,
    };
    let preview = move |_| {
        let key = only.get_value();
        let start = start_update(request(true, None));
        kept.put(&key, Step::Planning(None));
        let running = |id| Step::Planning(Some(id));
        leptos::task::spawn_local(drive(start, running, Step::Planned, move |s| {
            kept.put(&key, s)
        }));
    };
    let apply = move |plan: i64| {
        let key = only.get_value();
        let start = start_update(request(false, Some(plan)));
        kept.put(&key, Step::Applying(plan));
        leptos::task::spawn_local(drive(start, Step::Applying, Step::Done, move |s| {
            kept.put(&key, s)
        }));
    };
    let panel = move || match step.get() {
        Step::Idle | Step::Planning(_) | Step::Applying(_) => None,
        Step::Failed(e) => Some(
            view! { <div class="notice error" role="alert">"Update everywhere failed: " {e}</div> }
                .into_any(),
        ),
        Step::Planned(job) => {
            let fleet = fleet(&job);
            let projects = job.projects.len();
            let attention = fleet.lines().filter(|l| needs_attention(&l.result)).count();
            let changes = fleet.lines().count() - attention;
            let tally = tally_of(fleet.lines().map(|l| l.result.as_str()));
            let id = job.id;
            let nothing = changes + attention == 0;
            let summary = if nothing {
                format!(
                    "Plan (job #{id}): nothing to do — up to date in the collection and in {projects} project(s)."
                )
            } else {
                format!(
                    "Plan (job #{id}): {changes} step(s) would change things, in the collection and {projects} project(s) — {tally}."
                )
            };
            Some(
                view! {
                    <div class="notice bulk-plan fleet-plan" role="status">
                        <p><strong>{summary}</strong></p>
                        {(attention > 0).then(|| view! {
                            <p class="muted">{format!(
                                "{attention} step(s) would need you afterwards: a conflict waits as a pending merge in its project, nothing is overwritten."
                            )}</p>
                        })}
                        {problems_view(fleet.problems.clone())}
                        {fleet.groups.into_iter().map(group_view).collect_view()}
                        <div class="actions">
                            <button type="button" on:click=move |_| set(Step::Idle)>"Cancel"</button>
                            <button type="button" class="primary fleet-apply" disabled=nothing
                                title="Apply exactly this plan; a project whose copy changed since is left alone and reported"
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
            let fleet = fleet(&job);
            let attention =
                fleet.lines().filter(|l| needs_attention(&l.result)).count() + fleet.problems.len();
            let class = match job.state {
                StateName::Success => "notice ok bulk-summary fleet-summary",
                _ => "notice warn bulk-summary fleet-summary",
            };
            let steps = fleet.lines().count();
            Some(
                view! {
                    <div class=class role="status">
                        <p>
                            <strong>{format!("Update everywhere (job #{}): {}", job.id, job.state.as_str())}</strong>
                            {format!(" — {steps} step(s) in the collection and {} project(s), {attention} need attention.", job.projects.len())}
                        </p>
                        {problems_view(fleet.problems.clone())}
                        {fleet.groups.into_iter().map(group_view).collect_view()}
                    </div>
                }
                .into_any(),
            )
        }
    };
    let title = if only.get_value().is_some() {
        "Plan taking this artifact's upstream changes into the collection and into every project it is deployed in; nothing is written until you apply the plan"
    } else {
        "Plan taking every artifact's upstream changes into the collection and into every registered project; nothing is written until you apply the plan"
    };
    view! {
        <button type="button" class="update-everywhere" disabled=move || !ready() || busy()
            title=title on:click=preview>
            {move || match step.get() {
                Step::Planning(Some(id)) => format!("Planning… (job #{id})"),
                Step::Planning(None) => "Planning…".to_owned(),
                Step::Applying(id) => format!("Updating… (job #{id})"),
                _ => "Update everywhere…".to_owned(),
            }}
        </button>
        {panel}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(result: serde_json::Value) -> JobView {
        serde_json::from_value(serde_json::json!({
            "id": 9, "kind": "update", "state": "conflict", "direction": "upstream-to-collection",
            "artifacts": ["skill:a", "skill:b"], "project_path": null,
            "projects": ["/w/p1", "/w/p2"], "collection": "default", "strategy": "auto",
            "dry_run": true, "plan_job": null, "pct": 100, "created_at": "t", "started_at": null,
            "ended_at": null, "trace_id": "x", "log_excerpt": "", "conflicts": ["skill:a"],
            "attempts": 1, "result": result
        }))
        .unwrap()
    }

    #[test]
    fn steps_are_grouped_by_place_collection_first_and_up_to_date_ones_left_out() {
        let step = |project: Option<&str>, result: &str, bump: &str| serde_json::json!({"project": project, "result": result, "bump": bump, "detail": "d"});
        let f = fleet(&job(serde_json::json!([
            {"id": "skill:a", "result": "conflict", "steps": [
                step(None, "planned", "minor"),
                step(Some("/w/p2"), "conflict", "minor"),
                step(Some("/w/p1"), "planned", "none"),
            ]},
            {"id": "skill:b", "result": "up to date", "steps": [step(Some("/w/p1"), "up to date", "none")]},
            {"id": "skill:c", "error": "skill:c is not in collection `default`"},
            {"project": "/w/gone", "error": "no such folder"},
        ])));
        let places: Vec<Option<&str>> = f.groups.iter().map(|g| g.project.as_deref()).collect();
        assert_eq!(places, vec![None, Some("/w/p1"), Some("/w/p2")]);
        let collection: Vec<(&str, &str, &str)> = f.groups[0]
            .lines
            .iter()
            .map(|l| (l.id.as_str(), l.result.as_str(), l.bump.as_str()))
            .collect();
        assert_eq!(
            collection,
            vec![("skill:a", "planned", "minor"), ("skill:c", "error", "")]
        );
        assert_eq!(
            f.groups[1].lines.len(),
            1,
            "b's up-to-date step is left out"
        );
        assert_eq!(f.groups[2].lines[0].result, "conflict");
        assert_eq!(
            f.problems,
            vec![("/w/gone".to_owned(), "no such folder".to_owned())]
        );
    }
}
