//! Claude Code plugin marketplaces from the Plugins page.

use leptos::prelude::*;

use crate::dto::{MarketplaceView, PluginChangeView, PluginChangesView, PluginsAddedView};

/// Reads a marketplace (nothing is added), as `GET /api/v1/marketplace?spec=` does.
#[server(prefix = "/_sm", endpoint = "marketplace", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn get_marketplace(spec: String) -> Result<MarketplaceView, ServerFnError> {
    let backend = super::context::backend()?;
    backend
        .marketplace(spec)
        .await
        .map_err(super::context::fail)
}

/// Adds one plugin of a marketplace to the default collection, as `POST /api/v1/plugins` does.
#[server(prefix = "/_sm", endpoint = "add_plugin", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn add_plugin(spec: String, plugin: String) -> Result<PluginsAddedView, ServerFnError> {
    let backend = super::context::backend()?;
    backend
        .add_plugins(crate::dto::AddPlugins {
            spec,
            plugins: vec![plugin],
            all: false,
            collection: None,
        })
        .await
        .map_err(super::context::fail)
}

/// What following the collection's plugins would do (`planned` none), or does: only the plan
/// shown is applied, as `POST /api/v1/plugins/changes` insists.
#[server(prefix = "/_sm", endpoint = "plugin_changes", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn plugin_changes(
    planned: Option<Vec<PluginChangeView>>,
) -> Result<PluginChangesView, ServerFnError> {
    let backend = super::context::backend()?;
    backend
        .plugin_changes(planned)
        .await
        .map_err(super::context::fail)
}
