//! The shell's pieces: header with navigation and theme toggle, and the footer with server status.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::Theme;
use crate::api::{get_debug, get_server_status};
use crate::dto::DebugView;

/// The top bar: brand, main navigation, the theme toggle and log out.
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
                <A href="/plugins">"Plugins"</A>
                <A href="/jobs">"Jobs"</A>
            </nav>
            <crate::components::toasts::NotificationsPanel />
            <DebugDrawer />
            <button
                type="button"
                class="theme-toggle"
                title="Switch between system, dark and light themes"
                on:click=move |_| theme.update(|t| *t = t.next())
            >
                {label}
            </button>
            // A plain form: logging out works without JavaScript too.
            <form class="logout" method="post" action="/logout">
                <button type="submit" class="logout-button" title="End this browser's session; the login URL opens a new one">
                    "Log out"
                </button>
            </form>
        </header>
    }
}

/// The footer: the server's version and home (rendered on the server), and a button that asks
/// the server again from the browser (a server-function round trip, so it needs the wasm).
#[component]
pub fn Footer() -> impl IntoView {
    let status = crate::codec::resource(|| (), |_| get_server_status());
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

/// The debug drawer: the server's last requests (API and this UI's server functions) and jobs,
/// each with its trace id, to find them in logs or an OpenTelemetry backend.
#[component]
pub fn DebugDrawer() -> impl IntoView {
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let ready = move || hydrated.is_some_and(|h| h.get());
    let open = RwSignal::new(false);
    let data: RwSignal<Option<Result<DebugView, String>>> = RwSignal::new(None);
    let load = move || {
        data.set(None);
        leptos::task::spawn_local(async move {
            data.set(Some(get_debug().await.map_err(|e| e.to_string())));
        });
    };
    let body = move || match data.get() {
        None => view! { <p class="muted loading">"Asking the server…"</p> }.into_any(),
        Some(Err(e)) => view! { <div class="notice error" role="alert">{e}</div> }.into_any(),
        Some(Ok(d)) => {
            let requests = if d.requests.is_empty() {
                view! { <p class="muted">"No requests yet."</p> }.into_any()
            } else {
                view! {
                    <table class="debug-requests">
                        <thead><tr><th>"Request"</th><th>"Status"</th><th>"ms"</th><th>"Trace id"</th></tr></thead>
                        <tbody>
                            {d.requests.into_iter().map(|r| view! {
                                <tr title=r.at.clone()>
                                    <td><code>{format!("{} {}", r.method, r.route)}</code></td>
                                    <td>{r.status}</td>
                                    <td class="num">{crate::format::millis(r.duration_ms)}</td>
                                    <td><code class="trace">{r.trace_id}</code></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            };
            let jobs = if d.jobs.is_empty() {
                view! { <p class="muted">"No jobs yet."</p> }.into_any()
            } else {
                view! {
                    <table class="debug-jobs">
                        <thead><tr><th>"Job"</th><th>"State"</th><th>"Trace id"</th></tr></thead>
                        <tbody>
                            {d.jobs.into_iter().map(|j| view! {
                                <tr>
                                    <td>{format!("#{} {}", j.id, j.kind)}</td>
                                    <td>{j.state.as_str()}</td>
                                    <td><code class="trace">{j.trace_id}</code></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            };
            view! {
                <h3>"Recent requests"</h3>
                {requests}
                <h3>"Recent jobs"</h3>
                {jobs}
            }
            .into_any()
        }
    };
    view! {
        <button type="button" class="debug-button" disabled=move || !ready()
            aria-expanded=move || open.get().to_string()
            title="Recent requests and jobs with their trace ids"
            on:click=move |_| {
                let now = !open.get_untracked();
                open.set(now);
                if now {
                    load();
                }
            }>
            "Debug"
        </button>
        <Show when=move || open.get()>
            <aside class="debug-drawer" aria-label="Debug">
                <div class="drawer-head">
                    <h2>"Debug"</h2>
                    <button type="button" on:click=move |_| load()>"Refresh"</button>
                    <button type="button" aria-label="Close" on:click=move |_| open.set(false)>"×"</button>
                </div>
                {body}
            </aside>
        </Show>
    }
}
