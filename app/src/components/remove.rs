//! The artifact page's "Undeploy" and "Remove" controls: each asks first, says what it will do,
//! and goes to where the artifact still is once done.

use leptos::prelude::*;

use crate::api::take_out;
use crate::format::{base_name, encode};

/// Undeploy from the shown project and remove from the collection, at the foot of the page.
#[component]
pub fn RemoveControl(
    id: String,
    project: Option<String>,
    deployed_in: Vec<String>,
) -> impl IntoView {
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let ready = move || hydrated.is_some_and(|h| h.get());
    let asking = RwSignal::new(None::<&'static str>);
    let force = RwSignal::new(false);
    let also_undeploy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let run = move |undeploy_from: Option<String>, id: String| {
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let (next, flag) = match &undeploy_from {
                Some(_) => (format!("/artifacts/{}", encode(&id)), force.get_untracked()),
                None => ("/".to_owned(), also_undeploy.get_untracked()),
            };
            let done = take_out(id, undeploy_from, flag).await.map(|()| next);
            match done {
                // A full load: every list and status on the next page is read anew.
                Ok(next) => go_to(&next),
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let project_name = project.as_deref().map(base_name);
    let elsewhere = deployed_in.len();
    let undeploy_question = project_name.clone().map(|name| {
        let id = id.clone();
        view! {
            <Show when=move || asking.get() == Some("undeploy")>
                <div class="notice warn remove-confirm" role="group" aria-label="Confirm undeploy">
                    <p>{format!("Take {id} out of {name}'s .claude/ folder? The collection keeps it.", id = id.clone())}</p>
                    <label class="choice">
                        <input type="checkbox" name="force" prop:checked=move || force.get()
                            on:change=move |e| force.set(event_target_checked(&e)) />
                        " Even if the copy has local edits (they are recorded in the history first)"
                    </label>
                    <div class="actions">
                        <button type="button" class="danger" disabled=move || busy.get() on:click={
                            let (id, project) = (id.clone(), project.clone());
                            move |_| run(project.clone(), id.clone())
                        }>"Undeploy"</button>
                        <button type="button" on:click=move |_| asking.set(None)>"Cancel"</button>
                    </div>
                </div>
            </Show>
        }
    });
    view! {
        <section class="manage">
            <h2 class="section">"Manage"</h2>
            <div class="actions">
                {project_name.clone().map(|name| view! {
                    <button type="button" class="undeploy-button" disabled=move || !ready() || busy.get()
                        on:click=move |_| asking.set(Some("undeploy"))>{format!("Undeploy from {name}…")}</button>
                })}
                <button type="button" class="remove-button" disabled=move || !ready() || busy.get()
                    on:click=move |_| asking.set(Some("remove"))>"Remove from the collection…"</button>
            </div>
            {undeploy_question}
            <Show when=move || asking.get() == Some("remove")>
                <div class="notice warn remove-confirm" role="group" aria-label="Confirm remove">
                    <p>"Remove it from the collection? Its versions stay in the history; a project that has it keeps nothing of SkillMeat's once undeployed."</p>
                    {(elsewhere > 0).then(|| view! {
                        <label class="choice">
                            <input type="checkbox" name="undeploy" prop:checked=move || also_undeploy.get()
                                on:change=move |e| also_undeploy.set(event_target_checked(&e)) />
                            {format!(" Also undeploy it from the {elsewhere} project(s) that have it (refused for a copy with local edits)")}
                        </label>
                    })}
                    <div class="actions">
                        <button type="button" class="danger" disabled=move || busy.get() on:click={
                            let id = id.clone();
                            move |_| run(None, id.clone())
                        }>"Remove"</button>
                        <button type="button" on:click=move |_| asking.set(None)>"Cancel"</button>
                    </div>
                </div>
            </Show>
            {move || error.get().map(|e| view! { <div class="notice error remove-error" role="alert">{e}</div> })}
        </section>
    }
}

/// Loads `path` in the browser.
fn go_to(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}
