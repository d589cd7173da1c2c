//! Status badges: an artifact's sync status and a job's state, as text with a colour.

use leptos::prelude::*;

/// A status as a badge (`status-<name>` colours it; the text says it, so colour is never the
/// only signal).
pub fn status_badge(status: &str) -> impl IntoView + use<> {
    view! { <span class=format!("badge status status-{status}")>{status.to_owned()}</span> }
}

pub fn status_badge_for_job(state: &str) -> impl IntoView + use<> {
    view! { <span class=format!("badge job-state job-{state}")>{state.to_owned()}</span> }
}
