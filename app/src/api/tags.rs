//! Tagging a version from the artifact page.

use leptos::prelude::*;

use crate::dto::{TagRequest, TaggedView};

/// Tags a version (the same as `POST /api/v1/artifacts/{id}/tags`).
#[server(prefix = "/_sm", endpoint = "tag", input = crate::codec::Postcard, output = crate::codec::Postcard)]
pub async fn tag_version(id: String, req: TagRequest) -> Result<TaggedView, ServerFnError> {
    super::context::backend()?
        .tag(id, req)
        .await
        .map_err(super::context::fail)
}
