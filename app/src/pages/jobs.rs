//! The Jobs page, at `/jobs`.

use leptos::prelude::*;

use crate::api::get_jobs;
use crate::components::badge::status_badge_for_job;
use crate::dto::JobView;

/// The jobs this server ran or is running, newest first.
#[component]
pub fn JobsPage() -> impl IntoView {
    let live = crate::live::Live::get();
    let jobs = crate::codec::resource(move || live.refresh.get(), |_| get_jobs());
    view! {
        <section class="page">
            <h1>"Jobs"</h1>
            <Transition fallback=|| view! { <p class="muted loading">"Loading jobs…"</p> }>
                {move || Suspend::new(async move {
                    match jobs.await {
                        Ok(list) if list.jobs.is_empty() => view! {
                            <div class="empty-state">
                                <h2>"No sync jobs yet"</h2>
                                <p>"Jobs started here or through the REST API are listed with their outcome."</p>
                            </div>
                        }
                            .into_any(),
                        Ok(list) => view! {
                            <table class="artifacts jobs">
                                <thead>
                                    <tr>
                                        <th scope="col">"Job"</th>
                                        <th scope="col">"State"</th>
                                        <th scope="col">"What"</th>
                                        <th scope="col">"Artifacts"</th>
                                        <th scope="col">"Created"</th>
                                        <th scope="col">"Trace"</th>
                                    </tr>
                                </thead>
                                <tbody>{list.jobs.into_iter().map(job_row).collect_view()}</tbody>
                            </table>
                        }
                            .into_any(),
                        Err(e) => view! {
                            <div class="notice error" role="alert">"Could not list jobs: " {e.to_string()}</div>
                        }
                            .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn job_row(j: JobView) -> impl IntoView {
    let state = j.state.as_str();
    let direction = j.direction.as_str();
    let what = format!(
        "{} {}{}",
        j.kind,
        direction,
        if j.dry_run { " (dry run)" } else { "" }
    );
    let artifacts = if j.artifacts.len() > 3 {
        format!(
            "{}, … ({} in all)",
            j.artifacts[..3].join(", "),
            j.artifacts.len()
        )
    } else {
        j.artifacts.join(", ")
    };
    view! {
        <tr>
            <td>{format!("#{}", j.id)}</td>
            <td>{status_badge_for_job(state)}</td>
            <td>{what}</td>
            <td><code>{artifacts}</code></td>
            <td><time datetime=j.created_at.clone()>{j.created_at.clone()}</time></td>
            <td><code class="trace">{j.trace_id.chars().take(12).collect::<String>()}</code></td>
        </tr>
    }
}
