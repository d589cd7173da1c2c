//! The shell's pieces: header with navigation and theme toggle, and the footer with server status.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::Theme;
use crate::api::get_server_status;

/// The top bar: brand, main navigation and the theme toggle.
#[component]
pub fn Header() -> impl IntoView {
    let theme = use_context::<RwSignal<Theme>>().unwrap_or_else(|| RwSignal::new(Theme::System));
    let label = move || match theme.get() {
        Theme::System => "Theme: system",
        Theme::Dark => "Theme: dark",
        Theme::Light => "Theme: light",
    };
    view! {
        <header class="topbar">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                "SkillMeat"
            </a>
            <nav class="mainnav" aria-label="Main">
                <A href="/" exact=true>"Artifacts"</A>
                <A href="/jobs">"Jobs"</A>
            </nav>
            <crate::live::NotificationsPanel />
            <button
                type="button"
                class="theme-toggle"
                title="Switch between system, dark and light themes"
                on:click=move |_| theme.update(|t| *t = t.next())
            >
                {label}
            </button>
        </header>
    }
}

/// The footer: the server's version and home (rendered on the server), and a button that asks
/// the server again from the browser (a server-function round trip, so it needs the wasm).
#[component]
pub fn Footer() -> impl IntoView {
    let status = Resource::new(|| (), |_| get_server_status());
    let check = Action::new(|_: &()| get_server_status());
    let check_result = move || {
        check.value().get().map(|result| match result {
            Ok(s) => format!("Server OK · up {} s", s.uptime_secs),
            Err(e) => format!("Server check failed: {e}"),
        })
    };
    view! {
        <footer class="footer">
            <Suspense fallback=|| view! { <span class="muted">"Asking the server…"</span> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(s) => view! {
                            <span class="server-version">"SkillMeat " {s.version}</span>
                            <span class="muted">" · home " <code>{s.home}</code></span>
                        }
                            .into_any(),
                        Err(e) => view! {
                            <span class="error">"Server status unavailable: " {e.to_string()}</span>
                        }
                            .into_any(),
                    }
                })}
            </Suspense>
            <span class="spacer"></span>
            <button
                type="button"
                class="link-button"
                on:click=move |_| {
                    check.dispatch(());
                }
                disabled=move || check.pending().get()
            >
                "Check server"
            </button>
            <output class="server-check" aria-live="polite">{check_result}</output>
        </footer>
    }
}
