//! An artifact's timeline: its audit trail (deploys, syncs, conflicts, resolutions, aborts,
//! rollbacks, tags), newest first, and how often its merges conflicted and how each file was
//! settled. Plain markup: it reads the same without JavaScript.

use leptos::prelude::*;

use crate::dto::{ArtifactLogView, ConflictHistoryView, LogEvent};
use crate::format::{base_name, short};

/// The timeline section's body.
pub fn timeline(log: ArtifactLogView) -> impl IntoView {
    if log.events.is_empty() {
        return view! {
            <div class="empty-state"><h2>"Nothing logged yet"</h2>
            <p>"Deploys, syncs, conflicts, resolutions, rollbacks and tags of this artifact appear here."</p></div>
        }
        .into_any();
    }
    let more = log.next_before.map(|before| {
        view! {
            <p class="muted">"Older events: " <code>{format!("skillmeat log {} --before {before}", log.id)}</code></p>
        }
    });
    let items = log.events.into_iter().map(event).collect_view();
    view! {
        {conflict_summary(log.conflicts)}
        <ol class="timeline" aria-label="Timeline">{items}</ol>
        {more}
    }
    .into_any()
}

fn event(e: LogEvent) -> impl IntoView {
    let place = e
        .project
        .as_deref()
        .map_or_else(|| "collection".to_owned(), base_name);
    let title = e.project.clone().unwrap_or_else(|| "collection".to_owned());
    let hashes = [
        ("base", e.base.as_deref()),
        ("source", e.source.as_deref()),
        ("target", e.target.as_deref()),
        ("result", e.result.as_deref()),
    ]
    .into_iter()
    .filter_map(|(label, h)| {
        h.map(|h| view! { <span class="hash">{label} " " <code title=h.to_owned()>{short(h)}</code></span> })
    })
    .collect_view();
    let files = (!e.conflicted.is_empty() || !e.merged.is_empty()).then(|| {
        let conflicted = e
            .conflicted
            .iter()
            .map(|path| {
                let how = e.resolutions.get(path).cloned();
                view! {
                    <li class="conflicted"><code>{path.clone()}</code>
                        {how.map(|h| view! { " " <span class="badge settled">{h}</span> })}</li>
                }
            })
            .collect_view();
        let merged = e
            .merged
            .iter()
            .map(|path| view! { <li class="merged"><code>{path.clone()}</code> " merged"</li> })
            .collect_view();
        view! { <ul class="files">{conflicted}{merged}</ul> }
    });
    let strategy = e
        .strategy
        .as_ref()
        .map(|s| view! { <span class="muted">{format!("{} · {s}", e.direction.clone().unwrap_or_default())}</span> });
    view! {
        <li class=format!("event kind-{}", e.kind) data-event=e.id>
            <div class="event-head">
                <span class=format!("badge event-kind {}", e.kind)>{e.kind.clone()}</span>
                <span class="summary">{e.summary.clone()}</span>
            </div>
            <div class="event-meta">
                <time datetime=e.at.clone()>{e.at.clone()}</time>
                " · " <span title=title>{place}</span>
                " " {strategy}
            </div>
            <div class="event-hashes">{hashes}</div>
            {files}
        </li>
    }
}

fn conflict_summary(h: ConflictHistoryView) -> Option<impl IntoView> {
    if h.conflicts == 0 {
        return None;
    }
    let pending = h.conflicts.saturating_sub(h.resolved + h.aborted);
    let rows = h
        .files
        .into_iter()
        .map(|f| {
            let settled = f
                .settled
                .iter()
                .map(|(how, n)| format!("{how} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ");
            view! {
                <tr>
                    <td><code>{f.path}</code></td>
                    <td class="num">{f.times}</td>
                    <td>{if settled.is_empty() { "—".to_owned() } else { settled }}</td>
                </tr>
            }
        })
        .collect_view();
    Some(view! {
        <div class="conflict-history" aria-label="Conflict history">
            <p><strong>{format!("{} conflicted merge{}", h.conflicts, if h.conflicts == 1 { "" } else { "s" })}</strong>
                {format!(" — {} resolved, {} aborted, {pending} pending", h.resolved, h.aborted)}</p>
            <table class="artifacts conflicts-by-file">
                <thead><tr>
                    <th scope="col">"File"</th>
                    <th scope="col">"Conflicts"</th>
                    <th scope="col">"Settled with"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    })
}
