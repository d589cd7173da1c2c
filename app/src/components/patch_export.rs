//! "Push upstream": the patch bundle export of a project's edits.

use leptos::prelude::*;

use crate::api::export_patch;
use crate::dto::PatchRequest;
use crate::format::human_size;

/// "Push upstream": packs the project's edits into a patch bundle for the upstream's
/// maintainers, with its size, sha256, a download link, a copyable URL and, for GitHub
/// upstreams, a compare link.
#[component]
pub fn PatchExport(id: String, project: String) -> impl IntoView {
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let ready = move || hydrated.is_some_and(|h| h.get());
    let export = Action::new(move |(id, project): &(String, String)| {
        let req = PatchRequest {
            artifact: id.clone(),
            project_path: project.clone(),
            collection: None,
        };
        async move { export_patch(req).await.map_err(|e| e.to_string()) }
    });
    let copied = RwSignal::new(false);
    let result = move || {
        export.value().get().map(|r| match r {
            Err(e) => view! { <div class="notice error" role="alert">"Could not export a patch: " {e}</div> }.into_any(),
            Ok(p) => {
                let absolute = absolute_url(&p.url);
                let copy_text = absolute.clone();
                view! {
                    <dl class="patch-result">
                        <div class="row"><dt>"Bundle"</dt><dd><a class="patch-download" href=p.url.clone() download>"Download the .tar.gz"</a>
                            {format!(" ({})", human_size(p.size))}</dd></div>
                        <div class="row"><dt>"SHA-256"</dt><dd><code class="patch-sha">{p.sha256.clone()}</code></dd></div>
                        <div class="row"><dt>"Link"</dt><dd class="copy-row">
                            <input class="patch-url" readonly value=absolute.clone() aria-label="Bundle URL" />
                            <button type="button" on:click=move |_| { copy(&copy_text); copied.set(true); }>
                                {move || if copied.get() { "Copied" } else { "Copy" }}
                            </button>
                        </dd></div>
                        <div class="row"><dt>"Files"</dt><dd>{format!(
                            "{} as patches, {} whole",
                            p.patched.len(),
                            p.whole_files.len()
                        )}</dd></div>
                        {p.github_url.map(|g| view! {
                            <div class="row"><dt>"GitHub"</dt><dd><a href=g target="_blank" rel="noopener">"Open a compare view"</a></dd></div>
                        })}
                    </dl>
                }
                .into_any()
            }
        })
    };
    view! {
        <section class="push-upstream">
            <div class="section-head">
                <h2 class="section">"Push upstream"</h2>
                <button type="button" class="export-button" disabled=move || !ready() || export.pending().get()
                    on:click=move |_| { copied.set(false); export.dispatch((id.clone(), project.clone())); }>
                    {move || if export.pending().get() { "Exporting…" } else { "Export a patch" }}
                </button>
            </div>
            <p class="muted">"Packs this project's edits as a patch bundle for the upstream's maintainers. SkillMeat never writes to an upstream."</p>
            {result}
        </section>
    }
}

/// `path` as an absolute URL of this page's origin (the browser knows it; the server
/// renders the path).
fn absolute_url(path: &str) -> String {
    #[cfg(feature = "hydrate")]
    if let Some(origin) = web_sys::window().and_then(|w| w.location().origin().ok()) {
        return format!("{origin}{path}");
    }
    path.to_owned()
}

/// Copies `text` to the clipboard (browser only).
fn copy(text: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}
