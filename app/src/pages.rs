//! Routed pages.

use leptos::prelude::*;

use crate::api::get_collection;
use crate::dto::CollectionView;

/// The collection's artifacts, or an empty state saying where they would come from.
#[component]
pub fn ArtifactsPage() -> impl IntoView {
    let collection = Resource::new(|| (), |_| get_collection(None));
    view! {
        <section class="page">
            <h1>"Artifacts"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading artifacts…"</p> }>
                {move || Suspend::new(async move {
                    match collection.await {
                        Ok(view) => render_collection(view).into_any(),
                        Err(e) => view! {
                            <div class="notice error" role="alert">
                                "Could not read the collection: " {e.to_string()}
                            </div>
                        }
                            .into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn render_collection(view: CollectionView) -> impl IntoView {
    let skipped = view.skipped;
    let skipped_notice = (!skipped.is_empty()).then(|| {
        view! {
            <details class="notice">
                <summary>{format!("{} entries in the collection folder are not artifacts", skipped.len())}</summary>
                <ul>{skipped.into_iter().map(|s| view! { <li><code>{s}</code></li> }).collect_view()}</ul>
            </details>
        }
    });
    let body = if view.artifacts.is_empty() {
        view! {
            <div class="empty-state">
                <h2>"No artifacts yet"</h2>
                <p>
                    "The collection " <strong>{view.collection}</strong> " at "
                    <code>{view.path}</code> " holds no skills, commands or agents."
                </p>
            </div>
        }
        .into_any()
    } else {
        view! {
            <table class="artifacts">
                <thead><tr><th>"Artifact"</th><th>"Type"</th></tr></thead>
                <tbody>
                    {view
                        .artifacts
                        .into_iter()
                        .map(|a| view! {
                            <tr><td><code>{a.name}</code></td><td><span class="badge">{a.kind}</span></td></tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! { {skipped_notice} {body} }
}

/// Sync jobs run by this server.
#[component]
pub fn JobsPage() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Jobs"</h1>
            <div class="empty-state">
                <h2>"No sync jobs yet"</h2>
                <p>"No sync job has run on this server."</p>
            </div>
        </section>
    }
}

/// Shown for any path that is not a page; answers 404 when rendered on the server.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <section class="page">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to artifacts"</a></p>
        </section>
    }
}
