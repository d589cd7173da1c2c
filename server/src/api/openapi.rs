//! The OpenAPI document (`GET /api/v1/openapi.json`), generated from the handlers' annotations
//! and the types in [`super::types`].

use std::sync::OnceLock;

use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    artifacts, check, conflicts, jobs, locks, log, metrics, patch, plugins, remove, tags, update,
};

struct TokenScheme;

impl Modify for TokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The document's source.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "SkillMeat API",
        description = "Sync Claude Code skills, commands and agents across upstream, collection and projects. \
                       Every route needs the server token (`Authorization: Bearer`, or the login cookie).",
        license(name = "Apache-2.0")
    ),
    paths(
        jobs::create, jobs::list, jobs::get, jobs::cancel, jobs::job_events, jobs::all_events,
        jobs::resolve, update::create, patch::create, patch::download,
        artifacts::list, artifacts::versions, artifacts::history, artifacts::diff, artifacts::file,
        artifacts::rollback, artifacts::drift, conflicts::get, conflicts::list, conflicts::abort, log::list, log::of_artifact, log::timeline,
        tags::changelog, tags::next, tags::create, remove::remove, remove::undeploy,
        locks::list, locks::unlock,
        plugins::read, plugins::add, plugins::changes, plugins::apply, check::check,
        metrics::healthz, metrics::metrics, metrics::requests,
    ),
    modifiers(&TokenScheme),
    tags(
        (name = "jobs", description = "Sync, resolve and update jobs, and their event streams"),
        (name = "artifacts", description = "Artifacts, versions, history, diffs, drift, rollback"),
        (name = "sync", description = "Patch export"),
        (name = "plugins", description = "Claude Code plugin marketplaces: read, add plugins, follow them"),
        (name = "server", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

/// The document, built once.
pub fn spec() -> &'static utoipa::openapi::OpenApi {
    static SPEC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    SPEC.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        doc.info.version = skillmeat_core::VERSION.to_owned();
        doc
    })
}

/// Serves the document.
pub async fn document() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(spec())
}
