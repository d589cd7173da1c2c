//! `add`: an artifact from its upstream into the collection, with its lock entry and first
//! recorded version.

use std::fs;
use std::path::PathBuf;

use serde::Serialize;

use crate::model::artifact::{ArtifactId, ArtifactName, ArtifactType};
use crate::model::error::IoResultExt as _;
use crate::model::hash::{self, ContentHash, HashAlgorithm};
use crate::model::time::rfc3339;
use crate::model::upstream::UpstreamSpec;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::record::Recorder;
use crate::ops::tier::{artifact_path, final_name, shared_file_guard, staging_dir};
use crate::storage::atomic;
use crate::storage::collection::{Lock, LockEntry, Manifest, ManifestEntry};
use crate::storage::fetch::UpstreamCache;
use crate::storage::versions::{ChangeOrigin, NewVersion};

/// What `add` did.
#[derive(Debug, Clone, Serialize)]
pub struct Added {
    /// The artifact's id.
    pub id: ArtifactId,
    /// Where it now lives in the collection.
    pub path: PathBuf,
    /// The upstream commit it came from.
    pub commit: String,
    /// Its content hash.
    pub content_hash: ContentHash,
    /// Problems that did not stop the operation (e.g. the version could not be recorded).
    pub warnings: Vec<String>,
}

/// Adds the artifact at `spec_text` to `collection`: fetches the upstream, resolves the ref,
/// and places the files atomically; then records the spec in `collection.toml` and what it
/// resolved to in `collection.lock`.
pub async fn add(
    ctx: &Context,
    spec_text: &str,
    kind: Option<ArtifactType>,
    name: Option<&str>,
    collection: &str,
) -> Result<Added, OpsError> {
    add_to(ctx, spec_text, kind, name, collection, None).await
}

/// [`add`], noting in the manifest the plugin (`name@marketplace`) the artifact comes with.
pub(crate) async fn add_to(
    ctx: &Context,
    spec_text: &str,
    kind: Option<ArtifactType>,
    name: Option<&str>,
    collection: &str,
    plugin: Option<&str>,
) -> Result<Added, OpsError> {
    let mut spec = UpstreamSpec::parse(spec_text)?;
    let as_given = spec.clone();
    spec.absolutize(&ctx.cwd);
    let recorded_spec = if spec == as_given {
        spec_text.trim().to_owned()
    } else {
        spec.to_string()
    };
    let collection_dir = ctx.home.collection_dir(collection)?;
    let repo =
        UpstreamCache::new(ctx.home.root().join("cache/upstream")).fetch(&spec, &ctx.fetch)?;
    let commit = repo.resolve(&spec.reference)?;
    let info = repo.path_info(&commit, &spec.path)?;
    let kind = match kind {
        Some(k) => k,
        None => infer_type(&spec.path, info.is_dir)?,
    };
    if kind.is_dir() != info.is_dir {
        let why = if kind.is_dir() {
            "a skill is a folder"
        } else if kind.is_fragment() {
            "it must be one .json file"
        } else {
            "it must be one .md file"
        };
        return Err(OpsError::WrongShape {
            path: spec.path.clone(),
            kind,
            why,
        });
    }
    let name = ArtifactName::new(match name {
        Some(n) => n,
        None => default_name(&spec.path, kind),
    })?;
    let id = ArtifactId::new(kind, name);
    let manifest = Manifest::load(&collection_dir)?;
    if manifest.get(&id).is_some() {
        return Err(OpsError::AlreadyAdded {
            id,
            collection: collection.to_owned(),
        });
    }
    let dest = artifact_path(&collection_dir, &id);
    if fs::symlink_metadata(&dest).is_ok() {
        return Err(OpsError::Unmanaged { path: dest });
    }

    let parent = dest.parent().unwrap_or(&collection_dir).to_owned();
    fs::create_dir_all(&parent).context("create", &parent)?;
    let staging = staging_dir(&parent)?;
    // Staged under its final name: a single-file artifact's hash includes its file name.
    let staged = staging.path().join(final_name(&id));
    repo.export(&commit, &spec.path, &staged, &ctx.fetch.limits)?;
    if kind.is_dir() && !staged.join("SKILL.md").is_file() {
        return Err(OpsError::WrongShape {
            path: spec.path,
            kind,
            why: "it has no SKILL.md",
        });
    }
    let mut warnings = Vec::new();
    if kind.is_fragment() {
        // Hostile until checked: the file must be the shape Claude Code reads, and a literal
        // credential in `env` / `headers` is worth a warning before anyone shares it.
        let bytes = fs::read(&staged).context("read", &staged)?;
        let entries = crate::model::fragment::entries(kind, id.name.as_str(), &spec.path, &bytes)?;
        for value in entries.values() {
            for place in crate::model::fragment::token_literals(value) {
                warnings.push(format!(
                    "{}: `{place}` holds a literal that looks like a credential; an upstream \
                     should write `${{VARIABLE}}` and let each user set it",
                    spec.path
                ));
            }
        }
    }
    let content_hash = hash::hash_path(&staged)?;
    fs::rename(&staged, &dest).context("move into place", &dest)?;
    atomic::sync_dir(&parent).context("sync", &parent)?;

    let stamp = rfc3339(ctx.now);
    // Both files as they are now (another add may have changed them since the checks above),
    // the manifest's lock taken before the lock file's, as everywhere.
    let _manifest_guard = shared_file_guard(
        ctx,
        &collection_dir.join(crate::storage::collection::MANIFEST_FILE),
    )?;
    let mut manifest = Manifest::load(&collection_dir)?;
    // Recorded as given, except that a relative local path is made absolute.
    manifest.artifacts.retain(|e| e.id != id);
    manifest.artifacts.push(ManifestEntry {
        id: id.clone(),
        upstream: Some(recorded_spec),
        added_at: Some(stamp.clone()),
        plugin: plugin.map(str::to_owned),
    });
    let _lock_guard = shared_file_guard(
        ctx,
        &collection_dir.join(crate::storage::collection::LOCK_FILE),
    )?;
    let mut lock = Lock::load(&collection_dir)?;
    lock.upsert(LockEntry {
        id: id.clone(),
        location: repo.location().to_owned(),
        path: spec.path.clone(),
        reference: spec.reference.to_string(),
        commit: commit.clone(),
        tree: info.id,
        content_hash: content_hash.to_hex(),
        hash_algorithm: HashAlgorithm::V1,
        fetched_at: stamp,
    });
    lock.save(&collection_dir)?;
    manifest.save(&collection_dir)?;

    let mut recorder = Recorder::open(&ctx.home).await;
    recorder
        .record(NewVersion {
            artifact: &id,
            path: &dest,
            origin: ChangeOrigin::Sync,
            parents: Vec::new(),
            parents_of: None,
            metadata: serde_json::json!({
                "source": "upstream",
                "upstream": spec_text.trim(),
                "reference": spec.reference.to_string(),
                "commit": commit,
            }),
            now: ctx.now,
        })
        .await;
    warnings.extend(recorder.finish().await);
    Ok(Added {
        id,
        path: dest,
        commit,
        content_hash,
        warnings,
    })
}

fn infer_type(path: &str, is_dir: bool) -> Result<ArtifactType, OpsError> {
    // A folder is a skill, unless it is named like a file of another type (`hooks/x.json/`):
    // that one is typed by its place and then refused for its shape, saying so.
    if is_dir && !(path.ends_with(".json") || path.ends_with(".md")) {
        return Ok(ArtifactType::Skill);
    }
    let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    let last = parent.rsplit('/').next().unwrap_or("");
    match last {
        "commands" => Ok(ArtifactType::Command),
        "agents" => Ok(ArtifactType::Agent),
        "output-styles" => Ok(ArtifactType::OutputStyle),
        "hooks" if path.ends_with(".json") => Ok(ArtifactType::Hook),
        "mcp" | "mcp-servers" | "mcpServers" if path.ends_with(".json") => Ok(ArtifactType::Mcp),
        _ => Err(OpsError::UnknownType {
            path: path.to_owned(),
        }),
    }
}

fn default_name(path: &str, kind: ArtifactType) -> &str {
    let last = path.rsplit('/').next().unwrap_or(path);
    if kind.is_dir() {
        last
    } else {
        last.strip_suffix(&format!(".{}", kind.file_extension()))
            .unwrap_or(last)
    }
}
