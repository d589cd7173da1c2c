use leptos::prelude::*;

use crate::dto::CollectionView;

/// The artifacts of a collection (`default` when `collection` is `None`).
#[server(prefix = "/_sm", endpoint = "collection")]
pub async fn get_collection(collection: Option<String>) -> Result<CollectionView, ServerFnError> {
    use crate::dto::ArtifactSummary;
    use skillmeat_core::home::DEFAULT_COLLECTION;

    let ctx = super::server_context()?;
    let collection = collection.unwrap_or_else(|| DEFAULT_COLLECTION.to_owned());
    let path = ctx
        .home
        .collection_dir(&collection)
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    let listing = ctx.home.list_collection(&collection).map_err(|e| {
        leptos::logging::error!("listing collection {collection}: {e}");
        ServerFnError::new(format!("cannot read collection `{collection}`"))
    })?;
    Ok(CollectionView {
        collection,
        path: path.display().to_string(),
        artifacts: listing
            .artifacts
            .into_iter()
            .map(|a| ArtifactSummary {
                id: a.id.to_string(),
                kind: a.id.kind.to_string(),
                name: a.id.name.to_string(),
            })
            .collect(),
        skipped: listing
            .skipped
            .into_iter()
            .map(|s| format!("{}: {}", s.path.display(), s.reason))
            .collect(),
    })
}
