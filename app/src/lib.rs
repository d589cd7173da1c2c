//! SkillMeat's web UI: the Leptos shell, pages, server functions and the DTOs they exchange.
//!
//! Built twice: with `ssr` into the `skillmeat` binary (server-side rendering and the server
//! function bodies, which call `skillmeat-core`), and with `hydrate` into the wasm bundle
//! (`frontend/`). The two features are never enabled together.

// Leptos views are nested types; the artifact page's are deep enough to need more than the
// default limit when hydrating.
#![recursion_limit = "256"]

pub mod api;
pub mod codec;
pub mod components;
pub mod dto;
pub mod format;
pub mod live;
pub mod pages;
pub mod pair;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::chrome::{Footer, Header};
use crate::components::toasts::Toasts;
use crate::pages::artifact::ArtifactPage;
use crate::pages::artifacts::ArtifactsPage;
use crate::pages::jobs::JobsPage;
use crate::pages::not_found::NotFound;
use crate::pages::plugins::PluginsPage;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: header, routed pages and footer.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // "system" follows the OS; the header's toggle overrides it for this visit.
    let theme = RwSignal::new(Theme::System);
    provide_context(theme);
    // Effects run only in the browser, after hydration: the marker tells tests (and curious
    // users in devtools) that the page is interactive.
    let hydrated = RwSignal::new(false);
    provide_context(Hydrated(hydrated));
    let live = live::Live::new();
    provide_context(live);
    Effect::new(move |_| {
        hydrated.set(true);
        #[cfg(feature = "hydrate")]
        live::connect(live);
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/skillmeat.css" />
        <Title text="SkillMeat" />
        <Router>
            <div
                class="app"
                data-theme=move || theme.get().as_str()
                data-hydrated=move || hydrated.get().to_string()
            >
                <Header />
                <main id="main">
                    // Async: the server waits for every resource and sends complete HTML, so
                    // pages read right without JavaScript (out-of-order streaming would leave
                    // data in <template>s that only a script can place).
                    <Routes fallback=|| view! { <NotFound /> }>
                        <Route path=path!("/") view=ArtifactsPage ssr=SsrMode::Async />
                        <Route path=path!("/artifacts/:id") view=ArtifactPage ssr=SsrMode::Async />
                        <Route path=path!("/jobs") view=JobsPage ssr=SsrMode::Async />
                        <Route path=path!("/plugins") view=PluginsPage ssr=SsrMode::Async />
                        <Route path=path!("/*any") view=NotFound ssr=SsrMode::Async />
                    </Routes>
                </main>
                <Footer />
                <Toasts />
            </div>
        </Router>
    }
}

/// Whether the page is hydrated (interactive), for controls that need the wasm.
#[derive(Debug, Clone, Copy)]
pub struct Hydrated(pub RwSignal<bool>);

/// The colour theme chosen in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    /// Follow the operating system's preference.
    System,
    /// Light, whatever the system says.
    Light,
    /// Dark, whatever the system says.
    Dark,
}

impl Theme {
    /// The value of the `data-theme` attribute that the stylesheet keys on.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    /// The next theme in the toggle's cycle.
    pub fn next(self) -> Self {
        match self {
            Self::System => Self::Dark,
            Self::Dark => Self::Light,
            Self::Light => Self::System,
        }
    }
}
