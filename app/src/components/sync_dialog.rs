//! The artifact page's Sync button and dialog.

use leptos::prelude::*;

use crate::api::start_sync;
use crate::dto::{CreateJob, DirectionName, JobView, StateName, StrategyName};
use crate::live::wait_for;
use crate::pair::Pair;

/// The directions a pair can sync in, with labels.
fn directions(pair: Pair) -> &'static [(DirectionName, &'static str)] {
    match pair {
        Pair::Uc => &[(
            DirectionName::UpstreamToCollection,
            "Update the collection from upstream",
        )],
        Pair::Cp => &[
            (
                DirectionName::CollectionToProject,
                "Update the project from the collection",
            ),
            (
                DirectionName::ProjectToCollection,
                "Capture the project's edits into the collection",
            ),
        ],
        Pair::Up => &[],
    }
}

fn strategy_of(s: &str) -> StrategyName {
    match s {
        "ours" => StrategyName::Ours,
        "theirs" => StrategyName::Theirs,
        "fork" => StrategyName::Fork,
        _ => StrategyName::Auto,
    }
}

/// One file of a plan: its path and what happens to it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PlannedFile {
    path: String,
    action: String,
    conflict: Option<String>,
}

/// A plan's suggested version bump (`minor`) and its reasons, when anything changes.
type PlannedBump = Option<(String, String)>;

/// The plan of a dry-run job: the outcome for the artifact, per-file actions and the suggested
/// version bump.
fn plan_of(job: &JobView) -> Option<(String, Vec<PlannedFile>, PlannedBump)> {
    let report = job.result.as_ref()?.as_array()?.first()?;
    let words = |v: &serde_json::Value| v.as_str().map(|s| s.replace(['-', '_'], " "));
    let mut outcome = words(report.get("outcome")?)?;
    if let Some(fork) = report.get("fork").and_then(|f| f.as_str()) {
        outcome = format!("{outcome}: the source's version becomes {fork}");
    }
    let files = report
        .get("files")
        .and_then(|f| f.as_array())
        .map(|files| {
            files
                .iter()
                .filter_map(|f| {
                    Some(PlannedFile {
                        path: f.get("path")?.as_str()?.to_owned(),
                        action: f.get("action").and_then(words).unwrap_or_default(),
                        conflict: f.get("conflict").and_then(words),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let bump = report.get("bump").and_then(|b| {
        let level = b.get("bump")?.as_str()?;
        let reasons: Vec<&str> = b
            .get("reasons")?
            .as_array()?
            .iter()
            .filter_map(|r| r.get("text")?.as_str())
            .collect();
        (level != "none").then(|| (level.to_owned(), reasons.join("; ")))
    });
    Some((outcome, files, bump))
}

/// The Sync button and its dialog: choose direction and strategy, preview the plan (a dry-run
/// job), then apply (ours/theirs ask twice). The applied job runs in the background; its
/// result arrives as a toast wherever the user is by then.
#[component]
pub fn SyncControl(id: String, pair: Pair, project: Option<String>) -> impl IntoView {
    let choices = directions(pair);
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let ready = move || hydrated.is_some_and(|h| h.get());
    let open = RwSignal::new(false);
    let direction = RwSignal::new(choices.first().map(|c| c.0));
    let strategy = RwSignal::new("auto".to_owned());
    let confirmed = RwSignal::new(false);
    let plan: RwSignal<Option<Result<JobView, String>>> = RwSignal::new(None);
    let started: RwSignal<Option<Result<JobView, String>>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let request = {
        let (id, project) = (id.clone(), project.clone());
        move |dry_run: bool, plan_job: Option<i64>| {
            let d = direction.get_untracked()?;
            Some(CreateJob {
                direction: d,
                artifacts: Some(vec![id.clone()]),
                project_path: if d == DirectionName::UpstreamToCollection {
                    None
                } else {
                    project.clone()
                },
                collection: None,
                strategy: Some(strategy_of(&strategy.get_untracked())),
                dry_run: Some(dry_run),
                plan_job,
            })
        }
    };
    let preview = {
        let request = request.clone();
        move |_| {
            let Some(req) = request(true, None) else {
                return;
            };
            busy.set(true);
            plan.set(None);
            confirmed.set(false);
            leptos::task::spawn_local(async move {
                let result = match start_sync(req).await {
                    Ok(job) => wait_for(job.id).await,
                    Err(e) => Err(e.to_string()),
                };
                plan.set(Some(result));
                busy.set(false);
            });
        }
    };
    let apply = move |_| {
        // The apply is the plan shown: the server writes nothing if a side moved since.
        let plan_job = plan.get_untracked().and_then(|p| p.ok()).map(|j| j.id);
        let Some(req) = request(false, plan_job) else {
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = start_sync(req).await.map_err(|e| e.to_string());
            started.set(Some(result));
            busy.set(false);
            open.set(false);
        });
    };
    // Fork keeps both sides: nothing is overwritten, nothing to confirm.
    let overwrites = move || !matches!(strategy.get().as_str(), "auto" | "fork");
    let can_apply = move || {
        !busy.get()
            && matches!(plan.get(), Some(Ok(ref j)) if j.state == StateName::Success || j.state == StateName::Conflict)
            && (!overwrites() || confirmed.get())
    };
    if choices.is_empty() {
        return view! {
            <p class="muted sync-note">"Upstream ↔ project is for reading: sync through the collection."</p>
        }
        .into_any();
    }
    let plan_view = move || {
        plan.get().map(|p| match p {
            Err(e) => view! { <div class="notice error" role="alert">{e}</div> }.into_any(),
            Ok(job) if job.state == StateName::Error => view! {
                <div class="notice error" role="alert">"The preview failed: " {job.log_excerpt.clone()}</div>
            }
            .into_any(),
            Ok(job) => match plan_of(&job) {
                None => view! { <p class="muted">"No plan came back."</p> }.into_any(),
                Some((outcome, files, bump)) => view! {
                    <div class="plan">
                        <p>"Plan: " <strong class="plan-outcome">{outcome}</strong></p>
                        {bump.map(|(level, reasons)| view! {
                            <p class="plan-bump">"Suggested version bump "
                                <span class=format!("badge bump bump-{level}")>{level.clone()}</span>
                                " " <span class="muted">{reasons}</span></p>
                        })}
                        <ul class="plan-files">
                            {files.into_iter().map(|f| {
                                let class = format!("badge action action-{}", f.action.replace(' ', "-"));
                                view! {
                                <li>
                                    <code>{f.path}</code> " "
                                    <span class=class>{f.action}</span>
                                    {f.conflict.map(|c| view! { " " <span class="muted">{c}</span> })}
                                </li>
                            }}).collect_view()}
                        </ul>
                    </div>
                }
                .into_any(),
            },
        })
    };
    let started_view = move || {
        started.get().map(|s| match s {
            Ok(job) => view! {
                <p class="muted sync-started" role="status">
                    {format!("Job #{} started: you can leave this page, a notification follows.", job.id)}
                </p>
            }
            .into_any(),
            Err(e) => view! { <div class="notice error" role="alert">"Could not start the sync: " {e}</div> }.into_any(),
        })
    };
    view! {
        <button type="button" class="primary sync-button" disabled=move || !ready()
            title="Preview, then apply a sync of this pair"
            on:click=move |_| { plan.set(None); started.set(None); open.set(true); }>
            "Sync…"
        </button>
        {started_view}
        <Show when=move || open.get()>
            <div class="modal-backdrop">
                <div class="modal" role="dialog" aria-modal="true" aria-labelledby="sync-title">
                    <h2 id="sync-title">"Sync " <code>{id.clone()}</code></h2>
                    <label class="field">
                        "Direction"
                        <select name="direction" on:change=move |e| {
                            let v = event_target_value(&e);
                            direction.set(choices.iter().find(|c| c.0.as_str() == v).map(|c| c.0));
                            plan.set(None);
                        }>
                            {choices.iter().map(|(d, label)| view! {
                                <option value=d.as_str() selected=move || direction.get() == Some(*d)>{*label}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label class="field">
                        "Strategy"
                        <select name="strategy" on:change=move |e| {
                            strategy.set(event_target_value(&e));
                            plan.set(None);
                            confirmed.set(false);
                        }>
                            <option value="auto">"Auto: fast-forward or three-way merge"</option>
                            <option value="ours">"Ours: keep the target as it is"</option>
                            <option value="theirs">"Theirs: overwrite the target with the source"</option>
                            <option value="fork">"Fork: keep both, the source's version as a new artifact"</option>
                        </select>
                    </label>
                    <div class="actions">
                        <button type="button" on:click=preview.clone() disabled=move || busy.get()>"Preview"</button>
                    </div>
                    {plan_view}
                    <Show when=overwrites>
                        <label class="confirm">
                            <input type="checkbox" name="confirm"
                                prop:checked=move || confirmed.get()
                                on:change=move |e| confirmed.set(event_target_checked(&e)) />
                            " I understand this overwrites one side's changes for the whole artifact"
                        </label>
                    </Show>
                    <div class="actions">
                        <button type="button" on:click=move |_| open.set(false)>"Cancel"</button>
                        <button type="button" class="primary" disabled=move || !can_apply() on:click=apply.clone()>"Apply"</button>
                    </div>
                </div>
            </div>
        </Show>
    }
    .into_any()
}
