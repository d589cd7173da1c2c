//! "Update all": one bulk job that takes every artifact's upstream changes into the collection
//! (auto strategy: fast-forwards and clean merges apply, conflicts are kept as pending merges,
//! nothing is overwritten), then its summary, artifact by artifact.

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

/// The button and, once the job ends, its summary.
#[component]
pub fn UpdateAll() -> impl IntoView {
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let ready = move || hydrated.is_some_and(|h| h.get());
    let busy = RwSignal::new(false);
    let running: RwSignal<Option<i64>> = RwSignal::new(None);
    let done: RwSignal<Option<Result<JobView, String>>> = RwSignal::new(None);
    let start = move |_| {
        busy.set(true);
        done.set(None);
        leptos::task::spawn_local(async move {
            let req = CreateJob {
                direction: DirectionName::UpstreamToCollection,
                artifacts: None,
                project_path: None,
                collection: None,
                strategy: Some(StrategyName::Auto),
                dry_run: Some(false),
            };
            let result = match start_sync(req).await {
                Ok(job) => {
                    running.set(Some(job.id));
                    wait_for_within(job.id, 600).await
                }
                Err(e) => Err(e.to_string()),
            };
            running.set(None);
            done.set(Some(result));
            busy.set(false);
        });
    };
    let summary = move || {
        done.get().map(|r| match r {
            Err(e) => view! { <div class="notice error" role="alert">"Update all failed: " {e}</div> }.into_any(),
            Ok(job) => {
                let lines = lines(&job);
                let attention = lines.iter().filter(|l| l.outcome != "up to date" && l.outcome != "fast forward" && l.outcome != "clean merge").count();
                let class = match job.state {
                    StateName::Success => "notice ok bulk-summary",
                    _ => "notice warn bulk-summary",
                };
                view! {
                    <div class=class role="status">
                        <p>
                            <strong>{format!("Update all (job #{}): {}", job.id, job.state.as_str())}</strong>
                            {format!(" — {} artifact(s), {attention} need attention.", lines.len())}
                        </p>
                        <ul class="bulk-lines">
                            {lines.into_iter().map(|l| {
                                let class = format!("badge action action-{}", l.outcome.replace(' ', "-"));
                                view! {
                                    <li data-id=l.id.clone()>
                                        <a href=format!("/artifacts/{}?pair=uc", encode(&l.id))><code>{l.id.clone()}</code></a>
                                        " " <span class=class>{l.outcome}</span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </div>
                }
                .into_any()
            }
        })
    };
    view! {
        <button type="button" class="primary update-all" disabled=move || !ready() || busy.get()
            title="Take every artifact's upstream changes into the collection: fast-forwards and clean merges apply; conflicts wait for you; nothing is overwritten"
            on:click=start>
            {move || match running.get() {
                Some(id) => format!("Updating… (job #{id})"),
                None => "Update all".to_owned(),
            }}
        </button>
        {summary}
    }
}
