//! The Artifacts page, at `/`: every artifact of the collection with its statuses, filters, and
//! the "Update all" control.

use leptos::prelude::*;

use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::get_overview;
use crate::components::badge::status_badge;
use crate::dto::{OpenMergeView, Overview, OverviewRow};
use crate::format::encode;

/// The statuses a filter can ask for, in DESIGN §4's order.
pub const STATUSES: [&str; 7] = [
    "synced", "modified", "outdated", "conflict", "diverged", "added", "removed",
];

/// Whether a row passes the page's filters.
fn matches(row: &OverviewRow, text: &str, kind: &str, status: &str) -> bool {
    let text = text.trim().to_lowercase();
    (text.is_empty()
        || row.id.to_lowercase().contains(&text)
        || row.plugin.as_deref().is_some_and(|p| p.contains(&text)))
        && (kind.is_empty() || row.kind == kind)
        && (status.is_empty()
            || row.upstream_status.as_deref() == Some(status)
            || row.projects.iter().any(|p| p.status == status))
}

fn needs_attention(row: &OverviewRow) -> bool {
    let calm = |s: &str| s == "synced";
    !row.upstream_status.as_deref().is_none_or(calm)
        || row.projects.iter().any(|p| !calm(&p.status))
}

/// The collection's artifacts with their statuses, filterable by text, type and status (a plain
/// GET form, so it works without JavaScript too).
#[component]
pub fn ArtifactsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).unwrap_or_default();
    let upstream = move || param("upstream") != "off";
    let live = crate::live::Live::get();
    let overview = crate::codec::resource(
        move || (upstream(), live.refresh.get()),
        |(upstream, _)| get_overview(upstream),
    );
    view! {
        <section class="page">
            <div class="page-head">
                <h1>"Artifacts"</h1>
            </div>
            <Form method="GET" action="" attr:class="filters" attr:role="search">
                <label>
                    <span class="visually-hidden">"Search"</span>
                    <input type="search" name="q" placeholder="Search by name" value=move || param("q") />
                </label>
                <label>
                    "Type "
                    <select name="type">
                        {[("", "All"), ("skill", "Skills"), ("command", "Commands"), ("agent", "Agents"), ("output-style", "Output styles")]
                            .into_iter()
                            .map(|(v, label)| view! { <option value=v selected=move || param("type") == v>{label}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Status "
                    <select name="status">
                        <option value="" selected=move || param("status").is_empty()>"Any"</option>
                        {STATUSES
                            .iter()
                            .map(|s| view! { <option value=*s selected=move || param("status") == *s>{*s}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label class="check">
                    <input type="checkbox" name="upstream" value="off" checked=move || !upstream() />
                    " Skip the upstream check"
                </label>
                <button type="submit">"Filter"</button>
            </Form>
            <div class="bulk-bar">
                <div class="bulk-buttons">
                    <crate::components::update_all::UpdateAll />
                    <crate::components::update_everywhere::UpdateEverywhere />
                </div>
            </div>
            <Transition fallback=|| view! { <p class="muted loading">"Loading artifacts…"</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(o) => render_overview(o, param("q"), param("type"), param("status")).into_any(),
                        Err(e) => view! {
                            <div class="notice error" role="alert">
                                "Could not read the collection: " {e.to_string()}
                            </div>
                        }
                            .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn render_overview(o: Overview, text: String, kind: String, status: String) -> impl IntoView {
    let upstream_note = match (&o.upstream_error, o.upstream_checked) {
        (Some(e), _) => Some(view! {
            <div class="notice error" role="status">
                "The upstreams could not be checked, so upstream statuses are missing: " {e.clone()}
            </div>
        }.into_any()),
        (None, false) => Some(view! {
            <p class="muted">"Upstreams not checked: the Upstream column is empty."</p>
        }.into_any()),
        (None, true) => None,
    };
    let problems_note = (!o.problems.is_empty()).then(|| {
        let items: Vec<_> = o
            .problems
            .iter()
            .map(|p| view! { <li>{p.clone()}</li> })
            .collect();
        view! {
            <div class="notice error" role="status">
                <p>"Some things could not be checked; every other status below is right:"</p>
                <ul class="problems">{items}</ul>
            </div>
        }
    });
    if o.rows.is_empty() {
        return view! {
            {problems_note}
            <div class="empty-state">
                <h2>"No artifacts yet"</h2>
                <p>
                    "The collection " <strong>{o.collection}</strong>
                    " holds no skills, commands or agents. Add one with "
                    <code>"skillmeat add owner/repo/path"</code>
                    ", or try " <code>"skillmeat demo"</code> " on a new home."
                </p>
            </div>
        }
        .into_any();
    }
    let pending = pending_merges(&o.pending_merges);
    let total = o.rows.len();
    let attention = o.rows.iter().filter(|r| needs_attention(r)).count();
    let shown: Vec<OverviewRow> = o
        .rows
        .into_iter()
        .filter(|r| matches(r, &text, &kind, &status))
        .collect();
    let summary = format!(
        "{total} artifacts · {attention} need attention · {} shown",
        shown.len()
    );
    let body = if shown.is_empty() {
        view! {
            <div class="empty-state">
                <h2>"Nothing matches"</h2>
                <p>"No artifact matches these filters. " <a href="/">"Clear the filters"</a></p>
            </div>
        }
        .into_any()
    } else {
        view! {
            <table class="artifacts">
                <thead>
                    <tr>
                        <th scope="col">"Artifact"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Pin"</th>
                        <th scope="col">"Upstream ↔ collection"</th>
                        <th scope="col">"Collection ↔ projects"</th>
                    </tr>
                </thead>
                <tbody>
                    {shown.into_iter().map(overview_row).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! {
        {upstream_note}
        {problems_note}
        {pending}
        <p class="summary muted">{summary}</p>
        {body}
    }
    .into_any()
}

/// The pending merges still open, oldest first, each linking to its artifact page where the
/// conflict dialog resolves or aborts it; a banner when some are older than
/// `conflicts.stale_after`.
fn pending_merges(merges: &[OpenMergeView]) -> Option<impl IntoView + use<>> {
    if merges.is_empty() {
        return None;
    }
    let stale = merges.iter().filter(|m| m.stale).count();
    let banner = (stale > 0).then(|| {
        view! {
            <div class="notice warn stale-merges" role="alert">
                <strong>
                    {if stale == 1 {
                        "1 pending merge looks abandoned".to_owned()
                    } else {
                        format!("{stale} pending merges look abandoned")
                    }}
                </strong>
                " — older than the " <code>"conflicts.stale_after"</code>
                " setting. Until resolved or aborted, each blocks syncs of its copy."
            </div>
        }
    });
    let rows = merges
        .iter()
        .map(|m| {
            let href = match &m.project_path {
                Some(p) => format!(
                    "/artifacts/{}?project={}&pair=cp",
                    encode(&m.artifact),
                    encode(p)
                ),
                None => format!("/artifacts/{}", encode(&m.artifact)),
            };
            let place = m
                .project_path
                .as_deref()
                .map_or_else(|| "collection".to_owned(), crate::format::base_name);
            view! {
                <tr class:stale=m.stale data-merge=m.artifact.clone()>
                    <td><a href=href><code>{m.artifact.clone()}</code></a></td>
                    <td>{place}</td>
                    <td>{m.direction.clone()}</td>
                    <td title=m.detected_at.clone()>
                        {crate::format::age(m.age_seconds)}
                        {m.stale.then(|| view! { " " <span class="badge conflict">"stale"</span> })}
                    </td>
                    <td>{format!("{} of {} undecided", m.unresolved.len(), m.files.len())}</td>
                </tr>
            }
        })
        .collect_view();
    // Open when something there needs a decision.
    let open = stale > 0;
    Some(view! {
        {banner}
        <details class="pending-merges" open=open>
            <summary>{format!("Pending merges ({})", merges.len())}</summary>
            <table class="artifacts">
                <thead>
                    <tr>
                        <th scope="col">"Artifact"</th>
                        <th scope="col">"Where"</th>
                        <th scope="col">"Direction"</th>
                        <th scope="col">"Age"</th>
                        <th scope="col">"Files"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </details>
    })
}

fn overview_row(r: OverviewRow) -> impl IntoView {
    let href = format!("/artifacts/{}", encode(&r.id));
    let projects = if r.projects.is_empty() {
        view! { <span class="muted">"not deployed"</span> }.into_any()
    } else {
        r.projects
            .into_iter()
            .map(|p| {
                let href = format!(
                    "/artifacts/{}?project={}&pair=cp",
                    encode(&r.id),
                    encode(&p.project)
                );
                view! {
                    <a class="project-status" href=href title=p.project.clone()>
                        <span class="project-name">{p.name}</span>
                        {status_badge(&p.status)}
                    </a>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <tr data-id=r.id.clone()>
            <td>
                <a href=href><code>{r.name}</code></a>
                {findings_badge(&r.findings)}
                {r.plugin.map(|p| {
                    let title = format!("From the Claude Code plugin {p}; updates follow the plugin");
                    view! { " " <span class="badge plugin" title=title>{p}</span> }
                })}
            </td>
            <td><span class="badge kind">{r.kind}</span></td>
            <td>{r.reference.map(|p| view! { <code>{p}</code> })}</td>
            <td>
                {r.upstream_status.map(|s| status_badge(&s))}
                {r.upstream_stale.map(|st| view! {
                    " " <span class="badge stale-upstream" title=format!("The upstream did not answer: {}. Showing its state as of {}.", st.reason, st.seen_at)>
                        {format!("as of {} ago", crate::format::age(st.age_seconds))}
                    </span>
                })}
            </td>
            <td class="projects">{projects}</td>
        </tr>
    }
}

/// A badge for what `check` found: the count, red with an error, amber with warnings only;
/// the findings in its title.
pub fn findings_badge(findings: &[crate::dto::FindingView]) -> Option<impl IntoView + use<>> {
    if findings.is_empty() {
        return None;
    }
    let errors = findings.iter().filter(|f| f.severity == "error").count();
    let (class, label) = if errors > 0 {
        (
            "badge check check-error",
            format!("{} to fix", findings.len()),
        )
    } else {
        (
            "badge check check-warning",
            format!("{} warning(s)", findings.len()),
        )
    };
    let title = findings
        .iter()
        .map(|f| format!("{}: {}", f.severity, f.message))
        .collect::<Vec<_>>()
        .join("\n");
    Some(view! { " " <span class=class title=title>{label}</span> })
}
