//! The wasm entry point: hydrates the page the server rendered. Nothing else lives here; the UI
//! is in `skillmeat-app`.

/// Called by the bundle's JS loader once the wasm is instantiated.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(skillmeat_app::App);
}
