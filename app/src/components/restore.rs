//! A history row's Restore control (rollback to a recorded version).

use leptos::prelude::*;

use crate::api::rollback_version;
use crate::dto::RollbackRequest;
use crate::format::{base_name, short};
use crate::live::Live;

/// A history row's "Restore" control: asks once, then rolls the collection (or the shown
/// project) back to that version; the history and statuses refresh when it is done.
#[component]
pub fn RestoreControl(id: String, hash: String, project: Option<String>) -> impl IntoView {
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let ready = move || hydrated.is_some_and(|h| h.get());
    let asking = RwSignal::new(false);
    let target = RwSignal::new("collection".to_owned());
    let live = Live::get();
    let restore = Action::new(
        move |(id, hash, project): &(String, String, Option<String>)| {
            let req = RollbackRequest {
                to: hash.clone(),
                project_path: project.clone(),
                collection: None,
            };
            let id = id.clone();
            async move {
                let r = rollback_version(id, req).await.map_err(|e| e.to_string());
                if r.is_ok() {
                    live.refresh.update(|n| *n += 1);
                }
                r
            }
        },
    );
    let short_hash = short(&hash);
    let project_name = project.as_deref().map(base_name);
    let go = {
        let (id, hash, project) = (id.clone(), hash.clone(), project.clone());
        move |_| {
            let into = (target.get_untracked() == "project")
                .then(|| project.clone())
                .flatten();
            restore.dispatch((id.clone(), hash.clone(), into));
            asking.set(false);
        }
    };
    view! {
        <Show when=move || asking.get()
            fallback=move || view! {
                <button type="button" class="link-button restore-button" disabled=move || !ready()
                    on:click=move |_| asking.set(true)>"Restore…"</button>
            }>
            <span class="restore-confirm">
                "Restore " <code>{short_hash.clone()}</code> " into "
                <select name="target" on:change=move |e| target.set(event_target_value(&e))>
                    <option value="collection">"the collection"</option>
                    {project_name.clone().map(|n| view! { <option value="project">{n}</option> })}
                </select>
                " ? "
                <button type="button" class="primary" on:click=go.clone()>"Restore"</button>
                <button type="button" on:click=move |_| asking.set(false)>"Cancel"</button>
            </span>
        </Show>
        {move || restore.value().get().map(|r| match r {
            Ok(v) => view! { <span class="muted restored">{if v.changed { "Restored." } else { "Already at that version." }}</span> }.into_any(),
            Err(e) => view! { <span class="error">{e}</span> }.into_any(),
        })}
    }
}
