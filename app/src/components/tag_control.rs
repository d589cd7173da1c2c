//! Tagging the collection's version from the artifact page: the next semver proposed from what
//! changed since the last semver tag (with the reasons), a breaking-change box, and **Tag**.

use leptos::prelude::*;

use crate::api::tag_version;
use crate::dto::{NextTagView, TagRequest};
use crate::format::short;
use crate::live::Live;

/// The "Tag this version" form, prefilled with the proposal.
#[component]
pub fn TagControl(id: String, next: NextTagView) -> impl IntoView {
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let ready = move || hydrated.is_some_and(|h| h.get());
    let tag = RwSignal::new(next.proposed.clone());
    let breaking = RwSignal::new(next.breaking);
    let live = Live::get();
    let version = next.version.clone();
    let submit = Action::new(move |(id, req): &(String, TagRequest)| {
        let (id, req) = (id.clone(), req.clone());
        async move {
            let r = tag_version(id, req).await.map_err(|e| e.to_string());
            if r.is_ok() {
                live.refresh.update(|n| *n += 1);
            }
            r
        }
    });
    let go = {
        let (id, version) = (id.clone(), version.clone());
        move |_| {
            submit.dispatch((
                id.clone(),
                TagRequest {
                    tag: tag.get_untracked(),
                    version: Some(version.clone()),
                    breaking: breaking.get_untracked(),
                    force: false,
                    collection: None,
                },
            ));
        }
    };
    if next.last_version.as_deref() == Some(next.version.as_str()) {
        return view! {
            <div class="tag-control" aria-label="Tag this version">
                <p>"The collection's version " <code title=next.version.clone()>{short(&next.version)}</code>
                    " is tagged " <span class="badge">{next.proposed.clone()}</span>
                    {next.breaking.then_some(" (breaking)")}
                    ": nothing changed since. Edits from here on get the next tag proposed."</p>
            </div>
        }
        .into_any();
    }
    let since = match (&next.last_tag, &next.last_version) {
        (Some(t), Some(v)) => format!("since {t} ({})", short(v)),
        _ => "no semver tag yet: this starts the line".to_owned(),
    };
    let badge = next.last_tag.is_some().then(|| {
        view! { <span class=format!("badge bump bump-{}", next.bump.bump)>{next.bump.bump.clone()}</span> " " }
    });
    let reasons = next
        .bump
        .reasons
        .iter()
        .map(|r| {
            view! { <li><span class=format!("badge bump bump-{}", r.bump)>{r.bump.clone()}</span> " " {r.text.clone()}</li> }
        })
        .collect_view();
    view! {
        <div class="tag-control" aria-label="Tag this version">
            <p>
                "The collection's version " <code title=next.version.clone()>{short(&next.version)}</code>
                ": " {badge} {since}
            </p>
            <ul class="bump-reasons">{reasons}</ul>
            <div class="tag-form">
                <label>"Tag " <input type="text" name="tag" prop:value=move || tag.get()
                    on:input=move |e| tag.set(event_target_value(&e)) /></label>
                <label><input type="checkbox" name="breaking" prop:checked=move || breaking.get()
                    on:change=move |e| breaking.set(event_target_checked(&e)) /> " Breaking change"</label>
                <button type="button" class="primary" disabled=move || !ready() on:click=go>"Tag"</button>
                {move || submit.value().get().map(|r| match r {
                    Ok(v) => view! {
                        <span class="muted tagged">"Tagged " <code>{short(&v.hash)}</code> " as " {v.tag}
                            {v.breaking.then_some(" (breaking)")}</span>
                    }.into_any(),
                    Err(e) => view! { <span class="error" role="alert">{e}</span> }.into_any(),
                })}
            </div>
        </div>
    }
    .into_any()
}
