//! A changelog between two recorded versions: per step the version, its tag and breaking
//! marker, the files changed and what the change means (major / minor / patch, with reasons).

use leptos::prelude::*;

use crate::dto::{BumpView, ChangelogView};
use crate::format::short;

/// A bump as a badge whose title lists the reasons.
pub fn bump_badge(b: &BumpView) -> impl IntoView + use<> {
    let title = b
        .reasons
        .iter()
        .map(|r| r.text.clone())
        .collect::<Vec<_>>()
        .join("\n");
    view! { <span class=format!("badge bump bump-{}", b.bump) title=title>{b.bump.clone()}</span> }
}

/// The changelog section's body.
pub fn changelog(log: ChangelogView) -> impl IntoView {
    let steps = log
        .steps
        .into_iter()
        .map(|s| {
            let files = s
                .files
                .iter()
                .map(|f| {
                    view! {
                        <li><span class=format!("file-status {}", f.status)>{f.status.clone()}</span> " "
                            <code>{f.path.clone()}</code>
                            <span class="stat">{format!(" +{} −{}", f.added, f.removed)}</span></li>
                    }
                })
                .collect_view();
            view! {
                <li class="changelog-step" data-version=s.version.clone()>
                    <div class="step-head">
                        <code title=s.version.clone()>{short(&s.version)}</code> " "
                        {s.tag.clone().map(|t| view! { <span class="badge">{t}</span> " " })}
                        {s.breaking.then(|| view! { <span class="badge breaking">"breaking"</span> " " })}
                        {bump_badge(&s.bump)} " "
                        <span class="muted">{format!("{} · {}", s.origin, s.created_at)}</span>
                    </div>
                    <p class="muted step-summary">{s.bump.summary.clone()}</p>
                    <ul class="files">{files}</ul>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="changelog" aria-label="Changelog">
            <h3>"Changelog " <code>{short(&log.from)}</code> " → " <code>{short(&log.to)}</code>
                " " {bump_badge(&log.bump)}</h3>
            <p class="muted">{log.bump.summary.clone()}</p>
            {(!log.in_order).then(|| view! {
                <p class="notice">"The first version was recorded after the second: there are no releases in between to list."</p>
            })}
            <ol class="changelog-steps">{steps}</ol>
        </section>
    }
}
