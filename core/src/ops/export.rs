//! Patch bundles (`project-to-upstream`): SkillMeat never writes to an upstream; it packs a
//! project's edits as a `.tar.gz` a maintainer can apply.
//!
//! The bundle holds:
//!
//! ```text
//! <name>.patch     a git patch from the upstream's version at the locked commit to the project
//!                  copy, with repository-relative paths: `git apply` it at the repository root
//! files/<path>     binary or over-1-MB files changed in the project, whole (a text patch
//!                  cannot carry them); listed in the manifest
//! manifest.json    artifact, upstream, base commit and path, both content hashes, file lists
//! ```

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::engine::diff;
use crate::model::artifact::ArtifactId;
use crate::model::error::{IoResultExt as _, PathError};
use crate::model::files::ArtifactFiles;
use crate::model::hash::ContentHash;
use crate::model::time::rfc3339;
use crate::model::upstream::UpstreamSpec;
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::ops::tier::artifact_path;
use crate::storage::collection::{Lock, Manifest};
use crate::storage::fetch::UpstreamCache;
use crate::storage::records::DeploymentFile;

/// The `manifest.json` of a patch bundle.
#[derive(Debug, Clone, Serialize)]
pub struct PatchManifest {
    /// Always 1 for this layout.
    pub format: u32,
    /// Which artifact the patch is of.
    pub artifact: ArtifactId,
    /// The upstream spec as recorded in the collection.
    pub upstream: String,
    /// Where it was fetched from.
    pub location: String,
    /// The artifact's path in the upstream repository.
    pub path: String,
    /// The upstream commit the patch applies to.
    pub base_commit: String,
    /// The upstream's version of the artifact.
    pub base_hash: ContentHash,
    /// The project copy's version.
    pub project_hash: ContentHash,
    /// Files the patch changes, repository-relative.
    pub patched: Vec<String>,
    /// Binary or large files included whole under `files/`, repository-relative.
    pub whole_files: Vec<String>,
    /// When the bundle was made (RFC 3339).
    pub created_at: String,
    /// The SkillMeat version that made it.
    pub skillmeat_version: String,
}

/// What `patch` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct PatchBundle {
    /// Where the `.tar.gz` bundle was written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, 64 hex.
    pub sha256: String,
    /// A GitHub compare link for the base commit, when the upstream is on GitHub.
    pub github_url: Option<String>,
    /// What it holds.
    pub manifest: PatchManifest,
}

/// Packs the edits of `project`'s copy of `id` against the upstream's version at the locked
/// commit into `output` (written atomically). Fails when there are no edits to export.
pub fn patch_bundle(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: &Path,
    output: &Path,
) -> Result<PatchBundle, OpsError> {
    let collection_dir = ctx.home.collection_dir(collection)?;
    let manifest = Manifest::load(&collection_dir)?;
    let entry = manifest.get(id).ok_or_else(|| OpsError::NotInCollection {
        id: id.clone(),
        collection: collection.to_owned(),
    })?;
    let spec_text = entry
        .upstream
        .clone()
        .ok_or_else(|| OpsError::NoUpstream { id: id.clone() })?;
    let lock = Lock::load(&collection_dir)?;
    let locked = lock
        .get(id)
        .ok_or_else(|| OpsError::NoUpstream { id: id.clone() })?;
    if DeploymentFile::load(project)?.get(id).is_none() {
        return Err(OpsError::NotDeployed {
            id: id.clone(),
            project: project.to_owned(),
        });
    }
    let in_project = artifact_path(&project.join(".claude"), id);
    let ours = ArtifactFiles::read(&in_project)?;

    let spec = UpstreamSpec::parse(&spec_text)?;
    let repo =
        UpstreamCache::new(ctx.home.root().join("cache/upstream")).fetch(&spec, &ctx.fetch)?;
    let scratch = tempfile::tempdir().context("create a temp folder", std::env::temp_dir())?;
    let base_path = scratch
        .path()
        .join(in_project.file_name().unwrap_or_default());
    repo.export(&locked.commit, &locked.path, &base_path, &ctx.fetch.limits)?;
    let base = ArtifactFiles::read(&base_path)?;

    // Tree paths are relative to the artifact; the patch needs them relative to the repository.
    let prefix = if id.kind.is_dir() {
        format!("{}/", locked.path.trim_end_matches('/'))
    } else {
        locked
            .path
            .rsplit_once('/')
            .map(|(dir, _)| format!("{dir}/"))
            .unwrap_or_default()
    };
    let changes = diff::diff(&base, &ours);
    if changes.is_empty() {
        return Err(OpsError::NothingToExport { id: id.clone() });
    }
    let (patch, whole) = diff::git_patch(&base, &ours, &prefix);
    let patched = changes
        .files
        .iter()
        .filter(|f| !whole.contains(&f.path))
        .map(|f| format!("{prefix}{}", f.path))
        .collect();
    let manifest = PatchManifest {
        format: 1,
        artifact: id.clone(),
        upstream: spec_text,
        location: locked.location.clone(),
        path: locked.path.clone(),
        base_commit: locked.commit.clone(),
        base_hash: base.content_hash(),
        project_hash: ours.content_hash(),
        patched,
        whole_files: whole.iter().map(|p| format!("{prefix}{p}")).collect(),
        created_at: rfc3339(ctx.now),
        skillmeat_version: crate::VERSION.to_owned(),
    };

    let parent = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut staged = tempfile::Builder::new()
        .prefix(".skillmeat-patch-")
        .tempfile_in(parent)
        .context("create a file in", parent)?;
    {
        let gz =
            flate2::write::GzEncoder::new(staged.as_file_mut(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        let mut add = |name: &str, bytes: &[u8], mode: u32| -> std::io::Result<()> {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(mode);
            header.set_mtime(
                ctx.now
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0),
            );
            header.set_cksum();
            tar.append_data(&mut header, name, bytes)
        };
        let manifest_json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
        add("manifest.json", &manifest_json, 0o644).context("write", output)?;
        add(&format!("{}.patch", id.name), patch.as_bytes(), 0o644).context("write", output)?;
        for path in &whole {
            if let Some(file) = ours.files.get(path) {
                let mode = if file.executable { 0o755 } else { 0o644 };
                add(&format!("files/{prefix}{path}"), &file.bytes, mode)
                    .context("write", output)?;
            }
        }
        let gz = tar.into_inner().context("write", output)?;
        gz.finish().context("write", output)?;
    }
    staged
        .as_file_mut()
        .flush()
        .and_then(|()| staged.as_file().sync_all())
        .context("write", output)?;
    staged
        .persist(output)
        .map_err(|e| PathError::new("write", output, e.error))?;
    let bytes = fs::read(output).context("read", output)?;
    Ok(PatchBundle {
        path: output.to_owned(),
        size: bytes.len() as u64,
        sha256: hex(&Sha256::digest(&bytes)),
        github_url: github_compare(&spec, &locked.commit),
        manifest,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `https://github.com/<owner>/<repo>/compare/<commit>...HEAD` for a GitHub upstream.
fn github_compare(spec: &UpstreamSpec, commit: &str) -> Option<String> {
    spec.github_url()
        .map(|repo| format!("{repo}/compare/{commit}...HEAD"))
}
