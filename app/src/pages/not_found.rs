//! The page for any path that is not one.

use leptos::prelude::*;

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
