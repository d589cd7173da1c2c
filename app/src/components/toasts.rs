//! The toasts for jobs that just ended and the header's notifications panel, both fed by
//! [`Live`](crate::live::Live).

use leptos::prelude::*;

use crate::live::{Feed, Live};

/// The toasts (bottom right) for jobs that just ended.
#[component]
pub fn Toasts() -> impl IntoView {
    let live = Live::get();
    let shown = move || {
        live.notes
            .get()
            .into_iter()
            .filter(|n| n.toast)
            .collect::<Vec<_>>()
    };
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=shown key=|n| n.job_id let:n>
                <div class=format!("toast toast-{}", n.state) data-job=n.job_id.to_string()>
                    <div class="toast-body">
                        <strong>{n.title.clone()}</strong>
                        <span>{n.detail.clone()}</span>
                        {n.link.clone().map(|l| view! { <a href=l>"Open"</a> })}
                    </div>
                    <button type="button" class="toast-close" aria-label="Dismiss"
                        on:click=move |_| live.dismiss(n.job_id)>"×"</button>
                </div>
            </For>
        </div>
    }
}

/// The header's notifications button and panel: recent job results with their trace ids.
#[component]
pub fn NotificationsPanel() -> impl IntoView {
    let live = Live::get();
    let open = RwSignal::new(false);
    let count = move || live.notes.with(Vec::len);
    let has_notes = move || count() > 0;
    let feed = move || match live.feed.get() {
        Feed::Streaming => "live",
        Feed::Polling => "polling",
        Feed::Off => "off",
    };
    view! {
        <div class="notifications">
            <button type="button" class="notifications-button" aria-expanded=move || open.get().to_string()
                aria-controls="notifications-panel" on:click=move |_| open.update(|o| *o = !*o)>
                "Notifications"
                <span class="count" class:zero=move || count() == 0>{count}</span>
            </button>
            <div id="notifications-panel" class="notifications-panel" hidden=move || !open.get()>
                <p class="muted feed">"Job updates: " <span class="feed-state">{feed}</span></p>
                <Show when=has_notes
                    fallback=|| view! { <p class="muted">"Finished jobs show up here."</p> }>
                    <ul>
                        <For each=move || live.notes.get() key=|n| n.job_id let:n>
                            <li class=format!("note note-{}", n.state)>
                                <span class=format!("badge job-state job-{}", n.state)>{n.state.clone()}</span>
                                " "
                                {match n.link.clone() {
                                    Some(l) => view! { <a href=l>{n.title.clone()}</a> }.into_any(),
                                    None => view! { <span>{n.title.clone()}</span> }.into_any(),
                                }}
                                <div class="muted small">{format!("job #{} · trace ", n.job_id)}<code>{n.trace_id.clone()}</code></div>
                            </li>
                        </For>
                    </ul>
                </Show>
            </div>
        </div>
    }
}
