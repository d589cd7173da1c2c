//! Claude Code plugin marketplaces as upstreams: reading a marketplace's plugins and the skills,
//! commands and agents in each (`marketplace list`), and adding a plugin's artifacts to the
//! collection, each with its own upstream spec, pin and lock entry, grouped under the plugin
//! (`add SPEC --plugin NAME | --all`). The file formats and their rules are
//! `crate::model::marketplace`, which cites the Claude Code documentation they follow.
//!
//! Where a plugin's artifacts are (the plugins reference's default folders, or the paths the
//! marketplace entry or `plugin.json` list for a component instead): `skills/<name>/SKILL.md`,
//! `commands/<name>.md` and `agents/**/<name>.md` below the plugin's folder. Claude Code reads
//! `agents/` recursively; SkillMeat does too.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::artifact::{ArtifactId, ArtifactName, ArtifactType};
use crate::model::marketplace::{
    MARKETPLACE_FILE, MAX_MANIFEST_BYTES, Marketplace, MarketplaceError, PLUGIN_FILE, PluginEntry,
    PluginManifest, PluginSource, join,
};
use crate::model::upstream::{RefSpec, UpstreamSpec};
use crate::ops::context::Context;
use crate::ops::error::OpsError;
use crate::storage::fetch::{FileRead, UpstreamCache, UpstreamRepo};

/// How deep `agents/` is searched for agent files.
const AGENT_DEPTH: usize = 8;

/// A marketplace, read.
#[derive(Debug, Clone, Serialize)]
pub struct MarketplaceView {
    /// The marketplace's `name` (plugins are `plugin@name`).
    pub name: String,
    /// The spec it was read from (a relative local path made absolute).
    pub spec: String,
    /// The commit of the marketplace's repository that was read.
    pub commit: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub plugins: Vec<PluginView>,
    /// Old plugin names and the names they became.
    pub renames: BTreeMap<String, String>,
}

/// One plugin of a marketplace.
#[derive(Debug, Clone, Serialize)]
pub struct PluginView {
    pub name: String,
    pub description: Option<String>,
    /// The version the marketplace entry or the plugin's manifest gives.
    pub version: Option<String>,
    /// `relative`, `github`, `url`, `git-subdir`, or the unsupported kind.
    pub source: String,
    /// Its skills, commands and agents, each with the upstream spec it is added with.
    pub artifacts: Vec<PluginArtifact>,
    /// Why the plugin cannot be used (an unsupported source, an upstream that failed); its
    /// artifacts are then empty.
    pub problem: Option<String>,
    /// Files of the plugin that are not taken (a name that is no valid artifact name, a
    /// nested command folder), with why.
    pub skipped: Vec<String>,
}

/// A skill, command or agent of a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginArtifact {
    pub id: ArtifactId,
    /// The upstream spec it is added with: its repository, its path there, and the plugin's
    /// pin (a commit sha when the marketplace gives one).
    pub spec: String,
}

/// Which plugins to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    All,
    Named(Vec<String>),
}

/// Reads the marketplace at `spec_text` (`owner/repo`, a git URL or a local path, with an
/// optional `#path` to the marketplace root and `@ref`): its plugins and their artifacts. One
/// plugin that cannot be read (an unsupported source kind, an upstream that fails) is reported
/// on its row; the others are read as usual.
pub fn read(ctx: &Context, spec_text: &str) -> Result<MarketplaceView, OpsError> {
    let mut spec = UpstreamSpec::parse(spec_text)?;
    let as_given = spec.clone();
    spec.absolutize(&ctx.cwd);
    let shown = if spec == as_given {
        spec_text.trim().to_owned()
    } else {
        spec.to_string()
    };
    // Every repository is fetched once for the whole read.
    let mut ctx = ctx.clone();
    ctx.fetch.run.get_or_insert_with(Default::default);
    let cache = UpstreamCache::new(ctx.home.root().join("cache/upstream"));
    let repo = cache.fetch(&spec, &ctx.fetch)?;
    let commit = repo.resolve(&spec.reference)?;
    let file = join(&spec.path, MARKETPLACE_FILE).map_err(|problem| OpsError::NoMarketplace {
        spec: shown.clone(),
        problem,
    })?;
    let text = match repo.read_file(&commit, &file, MAX_MANIFEST_BYTES)? {
        FileRead::Content(text) => text,
        FileRead::Missing => {
            return Err(OpsError::NoMarketplace {
                spec: shown,
                problem: format!("it has no {file}"),
            });
        }
        FileRead::TooLarge(bytes) => {
            return Err(MarketplaceError::TooLarge {
                file,
                bytes,
                max: MAX_MANIFEST_BYTES,
            }
            .into());
        }
    };
    let market = Marketplace::parse(&file, &text)?;
    let mut plugins = Vec::new();
    for entry in &market.plugins {
        plugins.push(read_plugin(
            &ctx,
            &cache,
            (&spec, &repo, &commit),
            &market,
            entry,
        ));
    }
    Ok(MarketplaceView {
        name: market.name.clone(),
        spec: shown,
        commit,
        description: market.description().map(str::to_owned),
        owner: market.owner.as_ref().map(|o| o.name.clone()),
        plugins,
        renames: market.renames.clone(),
    })
}

/// One plugin's row: where its files are, and what artifacts they hold.
fn read_plugin(
    ctx: &Context,
    cache: &UpstreamCache,
    (market_spec, market_repo, market_commit): (&UpstreamSpec, &UpstreamRepo, &str),
    market: &Marketplace,
    entry: &PluginEntry,
) -> PluginView {
    let mut view = PluginView {
        name: entry.name.clone(),
        description: entry.description.clone(),
        version: entry.version.clone(),
        source: String::new(),
        artifacts: Vec::new(),
        problem: None,
        skipped: Vec::new(),
    };
    let source = match entry.source(&market_spec.path, market.metadata.plugin_root.as_deref()) {
        Ok(source) => source,
        Err(e) => {
            view.source = "invalid".to_owned();
            view.problem = Some(e.to_string());
            return view;
        }
    };
    // The plugin's repository, commit, folder and the spec its artifacts are added under.
    let fetched;
    let (repo, commit, base, folder) = match &source {
        PluginSource::InRepo { path } => {
            view.source = "relative".to_owned();
            (
                market_repo,
                market_commit.to_owned(),
                market_spec.clone(),
                path.clone(),
            )
        }
        PluginSource::Git {
            url,
            path,
            reference,
        } => {
            view.source = kind_of(&entry.raw_source);
            let base = match UpstreamSpec::parse(url) {
                Ok(mut s) => {
                    s.path = String::new();
                    s.reference = reference.clone().map_or(RefSpec::Latest, RefSpec::Named);
                    s
                }
                Err(e) => {
                    view.problem = Some(format!("its source `{url}`: {e}"));
                    return view;
                }
            };
            let found = cache
                .fetch(&base, &ctx.fetch)
                .and_then(|r| r.resolve(&base.reference).map(|c| (r, c)));
            match found {
                Ok((r, c)) => {
                    fetched = r;
                    (&fetched, c, base, path.clone())
                }
                Err(e) => {
                    view.problem = Some(e.to_string());
                    return view;
                }
            }
        }
        PluginSource::Unsupported { kind } => {
            view.source = kind.clone();
            view.problem = Some(format!(
                "`{kind}` plugin sources are not supported (SkillMeat reads relative paths, \
                 github, url and git-subdir sources); the other plugins are not affected"
            ));
            return view;
        }
    };
    match plugin_artifacts(repo, &commit, &folder, entry, &base) {
        Ok((artifacts, skipped, manifest)) => {
            view.artifacts = artifacts;
            view.skipped = skipped;
            if view.version.is_none() {
                view.version = manifest.version;
            }
            if view.description.is_none() {
                view.description = manifest.description;
            }
        }
        Err(e) => view.problem = Some(e.to_string()),
    }
    view
}

/// The source kind as the marketplace names it.
fn kind_of(raw: &serde_json::Value) -> String {
    raw.get("source")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("relative")
        .to_owned()
}

/// The artifacts in the plugin folder `folder` of `repo` at `commit`: the default component
/// folders and the paths the marketplace entry and `plugin.json` add.
fn plugin_artifacts(
    repo: &UpstreamRepo,
    commit: &str,
    folder: &str,
    entry: &PluginEntry,
    base: &UpstreamSpec,
) -> Result<(Vec<PluginArtifact>, Vec<String>, PluginManifest), OpsError> {
    let manifest_file = join(folder, PLUGIN_FILE).map_err(|problem| OpsError::NoMarketplace {
        spec: base.to_string(),
        problem,
    })?;
    let manifest = match repo.read_file(commit, &manifest_file, MAX_MANIFEST_BYTES)? {
        FileRead::Content(text) => PluginManifest::parse(&manifest_file, &text)?,
        FileRead::Missing => PluginManifest::default(),
        FileRead::TooLarge(bytes) => {
            return Err(MarketplaceError::TooLarge {
                file: manifest_file,
                bytes,
                max: MAX_MANIFEST_BYTES,
            }
            .into());
        }
    };
    let mut found: Vec<(ArtifactType, String)> = Vec::new();
    let mut skipped = Vec::new();
    // Paths listed for a component (by the marketplace entry or plugin.json) say where that
    // component is, instead of its default folder. The plugins reference calls custom paths a
    // supplement to the defaults, but a marketplace whose plugins share one repository
    // (anthropics/skills: two plugins, both `"source": "./"`, each listing its own skills
    // from one `skills/` folder) only comes out as its authors meant when a list replaces the
    // default: otherwise every such plugin would hold every skill.
    let paths = |default: &str, extra: [Option<&crate::model::marketplace::Paths>; 2]| {
        let mut out: Vec<String> = Vec::new();
        for p in extra.into_iter().flatten() {
            for path in p.as_slice() {
                if !out.iter().any(|o| o == path) {
                    out.push(path.to_owned());
                }
            }
        }
        if out.is_empty() {
            out.push(default.to_owned());
        }
        out
    };
    let resolve = |rel: &str, skipped: &mut Vec<String>| match join(folder, rel) {
        Ok(p) => Some(p),
        Err(e) => {
            skipped.push(format!("component path {e}"));
            None
        }
    };
    for rel in paths("skills", [entry.skills.as_ref(), manifest.skills.as_ref()]) {
        let Some(dir) = resolve(&rel, &mut skipped) else {
            continue;
        };
        if is_skill(repo, commit, &dir)? {
            found.push((ArtifactType::Skill, dir));
            continue;
        }
        for (name, is_dir) in repo.list_dir(commit, &dir)?.unwrap_or_default() {
            let path = format!("{dir}/{name}");
            if is_dir && is_skill(repo, commit, &path)? {
                found.push((ArtifactType::Skill, path));
            }
        }
    }
    for rel in paths(
        "commands",
        [entry.commands.as_ref(), manifest.commands.as_ref()],
    ) {
        let Some(dir) = resolve(&rel, &mut skipped) else {
            continue;
        };
        if dir.ends_with(".md") {
            found.push((ArtifactType::Command, dir));
            continue;
        }
        for (name, is_dir) in repo.list_dir(commit, &dir)?.unwrap_or_default() {
            if is_dir {
                skipped.push(format!(
                    "{dir}/{name}/: nested command folders are not taken (a command is one .md file)"
                ));
            } else if name.ends_with(".md") {
                found.push((ArtifactType::Command, format!("{dir}/{name}")));
            }
        }
    }
    for rel in paths("agents", [entry.agents.as_ref(), manifest.agents.as_ref()]) {
        let Some(dir) = resolve(&rel, &mut skipped) else {
            continue;
        };
        if dir.ends_with(".md") {
            found.push((ArtifactType::Agent, dir));
            continue;
        }
        agent_files(repo, commit, &dir, AGENT_DEPTH, &mut found)?;
    }
    // Output styles: `output-styles/*.md` (the plugins reference's default; `outputStyles` in
    // plugin.json is read by Claude Code, not here).
    if let Ok(styles) = join(folder, "output-styles") {
        for (name, is_dir) in repo.list_dir(commit, &styles)?.unwrap_or_default() {
            if !is_dir && name.ends_with(".md") {
                found.push((ArtifactType::OutputStyle, format!("{styles}/{name}")));
            }
        }
    }
    // Hooks and MCP servers: `hooks/hooks.json` and `.mcp.json` at the plugin root (the plugins
    // reference's default locations), each one artifact named after the plugin. Entries that
    // run the plugin's own files through `${CLAUDE_PLUGIN_ROOT}` only work inside an installed
    // plugin (Claude Code sets that variable for plugin hooks and servers alone): deployed into
    // a project's settings they would run nothing, so such a file is listed as not taken.
    let mut named: Vec<(ArtifactType, String, String)> = Vec::new();
    for (kind, rel) in [
        (ArtifactType::Hook, "hooks/hooks.json"),
        (ArtifactType::Mcp, ".mcp.json"),
    ] {
        let Ok(path) = join(folder, rel) else {
            continue;
        };
        match repo.read_file(commit, &path, MAX_MANIFEST_BYTES)? {
            FileRead::Missing => {}
            FileRead::TooLarge(bytes) => skipped.push(format!(
                "{path}: {bytes} bytes, over the {MAX_MANIFEST_BYTES}-byte limit for a {kind} file"
            )),
            FileRead::Content(bytes)
                if bytes
                    .windows(b"${CLAUDE_PLUGIN_ROOT}".len())
                    .any(|w| w == b"${CLAUDE_PLUGIN_ROOT}") =>
            {
                skipped.push(format!(
                    "{path}: runs the plugin's own files (${{CLAUDE_PLUGIN_ROOT}}), which only \
                     an installed plugin has; install the plugin with Claude Code for it"
                ))
            }
            FileRead::Content(bytes) => {
                match crate::model::fragment::entries(kind, &entry.name, &path, &bytes) {
                    Ok(_) => named.push((kind, path, entry.name.clone())),
                    Err(e) => skipped.push(e.to_string()),
                }
            }
        }
    }
    let found = found
        .into_iter()
        .map(|(kind, path)| {
            let file = path.rsplit('/').next().unwrap_or(&path).to_owned();
            let stem = if kind.is_dir() {
                file
            } else {
                file.strip_suffix(".md").unwrap_or(&file).to_owned()
            };
            (kind, path, stem)
        })
        .chain(named);
    let mut artifacts: Vec<PluginArtifact> = Vec::new();
    for (kind, path, stem) in found {
        let stem = stem.as_str();
        let name = match ArtifactName::new(stem) {
            Ok(n) => n,
            Err(e) => {
                skipped.push(format!("{path}: {e}"));
                continue;
            }
        };
        let id = ArtifactId::new(kind, name);
        let mut spec = base.clone();
        spec.path = path.clone();
        let spec = spec.to_string();
        if artifacts.iter().any(|a| a.spec == spec) {
            continue;
        }
        if let Some(first) = artifacts.iter().find(|a| a.id == id) {
            skipped.push(format!(
                "{path}: {id} is already taken from {} in this plugin",
                first.spec
            ));
            continue;
        }
        artifacts.push(PluginArtifact { id, spec });
    }
    Ok((artifacts, skipped, manifest))
}

fn is_skill(repo: &UpstreamRepo, commit: &str, dir: &str) -> Result<bool, OpsError> {
    Ok(matches!(
        repo.list_dir(commit, dir)?,
        Some(entries) if entries.iter().any(|(n, is_dir)| n == "SKILL.md" && !is_dir)
    ))
}

fn agent_files(
    repo: &UpstreamRepo,
    commit: &str,
    dir: &str,
    depth: usize,
    found: &mut Vec<(ArtifactType, String)>,
) -> Result<(), OpsError> {
    for (name, is_dir) in repo.list_dir(commit, dir)?.unwrap_or_default() {
        let path = format!("{dir}/{name}");
        if is_dir && depth > 0 {
            agent_files(repo, commit, &path, depth - 1, found)?;
        } else if !is_dir && name.ends_with(".md") {
            found.push((ArtifactType::Agent, path));
        }
    }
    Ok(())
}

/// What adding plugins did, artifact by artifact.
#[derive(Debug, Clone, Serialize)]
pub struct PluginsAdded {
    pub marketplace: String,
    pub plugins: Vec<PluginAdded>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PluginAdded {
    /// `name@marketplace`.
    pub plugin: String,
    /// Per artifact: `added`, `already in the collection`, or the error.
    pub artifacts: Vec<PluginArtifactAdded>,
    /// Why the plugin could not be added at all (its row's problem).
    pub problem: Option<String>,
    pub skipped: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PluginArtifactAdded {
    pub id: ArtifactId,
    pub spec: String,
    /// `added`, `present` (already in the collection from this plugin) or `failed`.
    pub result: &'static str,
    pub detail: Option<String>,
}

impl PluginsAdded {
    /// Whether anything asked for failed.
    pub fn failed(&self) -> bool {
        self.plugins
            .iter()
            .any(|p| p.problem.is_some() || p.artifacts.iter().any(|a| a.result == "failed"))
    }
}

/// Adds the plugins `selection` names from the marketplace at `spec_text` to `collection`:
/// every skill, command and agent of each, each an artifact with its own upstream spec, pin and
/// lock entry, noted as the plugin's; and the plugin itself, so updates follow it. An artifact
/// already in the collection from this plugin is left as it is (adding again is safe); one
/// from elsewhere under the same id is refused, and the rest go ahead.
pub async fn add_plugins(
    ctx: &Context,
    spec_text: &str,
    selection: &Selection,
    collection: &str,
) -> Result<PluginsAdded, OpsError> {
    let view = read(ctx, spec_text)?;
    let chosen: Vec<&PluginView> = match selection {
        Selection::All => view.plugins.iter().collect(),
        Selection::Named(names) => {
            let mut out = Vec::new();
            for name in names {
                let found = view.plugins.iter().find(|p| &p.name == name).or_else(|| {
                    crate::model::marketplace::renamed(&view.renames, name)
                        .and_then(|to| view.plugins.iter().find(|p| p.name == to))
                });
                match found {
                    Some(p) => out.push(p),
                    None => {
                        return Err(OpsError::NoSuchPlugin {
                            name: name.clone(),
                            marketplace: view.name.clone(),
                            plugins: view
                                .plugins
                                .iter()
                                .map(|p| p.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                        });
                    }
                }
            }
            out
        }
    };
    let mut ctx = ctx.clone();
    ctx.fetch.run.get_or_insert_with(Default::default);
    let dir = ctx.home.collection_dir(collection)?;
    let mut done = Vec::new();
    for plugin in chosen {
        let key = format!("{}@{}", plugin.name, view.name);
        let mut row = PluginAdded {
            plugin: key.clone(),
            artifacts: Vec::new(),
            problem: plugin.problem.clone(),
            skipped: plugin.skipped.clone(),
        };
        for a in &plugin.artifacts {
            let present = crate::storage::collection::Manifest::load(&dir)?
                .get(&a.id)
                .cloned();
            let (result, detail) = match present {
                Some(e) if e.plugin.as_deref() == Some(key.as_str()) => ("present", None),
                Some(e) => (
                    "failed",
                    Some(format!(
                        "{} is already in the collection{}; not replaced",
                        a.id,
                        e.plugin
                            .map(|p| format!(" from {p}"))
                            .or_else(|| e.upstream.map(|u| format!(" from {u}")))
                            .unwrap_or_default()
                    )),
                ),
                None => match crate::ops::add::add_to(
                    &ctx,
                    &a.spec,
                    Some(a.id.kind),
                    Some(a.id.name.as_str()),
                    collection,
                    Some(&key),
                )
                .await
                {
                    Ok(_) => ("added", None),
                    Err(e) => ("failed", Some(e.to_string())),
                },
            };
            row.artifacts.push(PluginArtifactAdded {
                id: a.id.clone(),
                spec: a.spec.clone(),
                result,
                detail,
            });
        }
        if plugin.problem.is_none() {
            record_plugin(&ctx, &dir, &plugin.name, &view)?;
        }
        done.push(row);
    }
    Ok(PluginsAdded {
        marketplace: view.name,
        plugins: done,
    })
}

/// Notes the plugin in the manifest (once), so updates follow it.
fn record_plugin(
    ctx: &Context,
    dir: &std::path::Path,
    name: &str,
    view: &MarketplaceView,
) -> Result<(), OpsError> {
    use crate::storage::collection::{MANIFEST_FILE, Manifest, PluginRecord};
    let _guard = crate::ops::tier::shared_file_guard(ctx, &dir.join(MANIFEST_FILE))?;
    let mut manifest = Manifest::load(dir)?;
    if !manifest
        .plugins
        .iter()
        .any(|p| p.name == name && p.marketplace == view.name)
    {
        manifest.plugins.push(PluginRecord {
            name: name.to_owned(),
            marketplace: view.name.clone(),
            spec: view.spec.clone(),
            added_at: Some(crate::model::time::rfc3339(ctx.now)),
        });
        manifest.save(dir)?;
    }
    Ok(())
}

/// What following a plugin does to one artifact (or to the plugin itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginChange {
    /// `name@marketplace`, as recorded before this run (renames change it).
    pub plugin: String,
    /// The artifact; none for a change of the plugin itself.
    pub id: Option<ArtifactId>,
    /// `added` (new in the plugin), `removed` (gone from it), `moved` (its spec changed: a new
    /// pin or path), `renamed` (the plugin's), `kept` (gone from the plugin but kept: local
    /// edits, or still deployed), `gone` (the plugin left the marketplace), `error`.
    pub change: &'static str,
    pub detail: String,
    /// The artifact's upstream spec from now on (`added`, `moved`).
    pub spec: Option<String>,
    /// Whether it was done (false on a plan, and for `kept`, `gone`, `error`).
    pub applied: bool,
}

/// Reads each plugin of `collection` again from its marketplace and compares: artifacts the
/// plugin gained are `added`, those it lost `removed` (deleted from the collection only when
/// its copy has no local edits and it is deployed nowhere; otherwise `kept`, with why), a new
/// pin or path is `moved`, and a rename in the marketplace is followed (`renamed`: the artifacts
/// keep their ids and history, under the plugin's new name). With `apply`, the changes are
/// made; otherwise this is the plan. A marketplace that cannot be read is an `error` row for its
/// plugins; the others go ahead.
pub async fn follow_plugins(
    ctx: &Context,
    collection: &str,
    apply: bool,
) -> Result<Vec<PluginChange>, OpsError> {
    use crate::storage::collection::Manifest;
    let dir = ctx.home.collection_dir(collection)?;
    let records = Manifest::load(&dir)?.plugins;
    let mut ctx = ctx.clone();
    ctx.fetch.run.get_or_insert_with(Default::default);
    let mut views: BTreeMap<String, Result<MarketplaceView, String>> = BTreeMap::new();
    let mut out = Vec::new();
    for record in records {
        let key = record.key();
        let view = views
            .entry(record.spec.clone())
            .or_insert_with(|| read(&ctx, &record.spec).map_err(|e| e.to_string()));
        let view = match view {
            Ok(v) => v.clone(),
            Err(e) => {
                out.push(change(&key, None, "error", e.clone(), None));
                continue;
            }
        };
        let found = view
            .plugins
            .iter()
            .find(|p| p.name == record.name)
            .map(|p| (p, p.name.clone()))
            .or_else(|| {
                crate::model::marketplace::renamed(&view.renames, &record.name)
                    .and_then(|to| view.plugins.iter().find(|p| p.name == to))
                    .map(|p| (p, p.name.clone()))
            });
        let Some((plugin, current)) = found else {
            out.push(change(
                &key,
                None,
                "gone",
                format!(
                    "the plugin is no longer in marketplace `{}`; its artifacts stay as they are",
                    view.name
                ),
                None,
            ));
            continue;
        };
        if let Some(problem) = &plugin.problem {
            out.push(change(&key, None, "error", problem.clone(), None));
            continue;
        }
        let new_key = format!("{current}@{}", view.name);
        if current != record.name {
            let mut c = change(
                &key,
                None,
                "renamed",
                format!("the marketplace renamed it to {new_key}"),
                None,
            );
            if apply {
                rename_plugin(&ctx, &dir, &record, &current)?;
                c.applied = true;
            }
            out.push(c);
        }
        let manifest = Manifest::load(&dir)?;
        let mine: Vec<_> = manifest
            .artifacts
            .iter()
            .filter(|e| {
                e.plugin.as_deref() == Some(key.as_str())
                    || e.plugin.as_deref() == Some(new_key.as_str())
            })
            .cloned()
            .collect();
        for a in &plugin.artifacts {
            match mine.iter().find(|e| e.id == a.id) {
                None => {
                    if let Some(other) = manifest.get(&a.id) {
                        out.push(change(
                            &key,
                            Some(&a.id),
                            "error",
                            format!(
                                "new in the plugin, but {} is already in the collection{}: not added",
                                a.id,
                                other
                                    .upstream
                                    .as_deref()
                                    .map(|u| format!(" from {u}"))
                                    .unwrap_or_default()
                            ),
                            None,
                        ));
                        continue;
                    }
                    let mut c = change(
                        &key,
                        Some(&a.id),
                        "added",
                        format!("new in {new_key}"),
                        Some(a.spec.clone()),
                    );
                    if apply {
                        match crate::ops::add::add_to(
                            &ctx,
                            &a.spec,
                            Some(a.id.kind),
                            Some(a.id.name.as_str()),
                            collection,
                            Some(&new_key),
                        )
                        .await
                        {
                            Ok(_) => c.applied = true,
                            Err(e) => {
                                c.change = "error";
                                c.detail = format!("new in {new_key}, but: {e}");
                            }
                        }
                    }
                    out.push(c);
                }
                Some(e) if e.upstream.as_deref() != Some(a.spec.as_str()) => {
                    let mut c = change(
                        &key,
                        Some(&a.id),
                        "moved",
                        format!(
                            "follows the plugin from {} to {}",
                            e.upstream.as_deref().unwrap_or("(local)"),
                            a.spec
                        ),
                        Some(a.spec.clone()),
                    );
                    if apply {
                        set_spec(&ctx, &dir, &a.id, &a.spec)?;
                        c.applied = true;
                    }
                    out.push(c);
                }
                Some(_) => {}
            }
        }
        for e in mine
            .iter()
            .filter(|e| !plugin.artifacts.iter().any(|a| a.id == e.id))
        {
            out.push(removed(&ctx, collection, &dir, &key, &e.id, apply).await?);
        }
    }
    Ok(out)
}

fn change(
    plugin: &str,
    id: Option<&ArtifactId>,
    change: &'static str,
    detail: String,
    spec: Option<String>,
) -> PluginChange {
    PluginChange {
        plugin: plugin.to_owned(),
        id: id.cloned(),
        change,
        detail,
        spec,
        applied: false,
    }
}

/// An artifact the plugin no longer has: removed from the collection only when its copy holds
/// what was last fetched (no local edits) and no project has it.
async fn removed(
    ctx: &Context,
    collection: &str,
    dir: &std::path::Path,
    key: &str,
    id: &ArtifactId,
    apply: bool,
) -> Result<PluginChange, OpsError> {
    let path = crate::ops::tier::artifact_path(dir, id);
    let locked = crate::storage::collection::Lock::load(dir)?
        .get(id)
        .map(|l| l.content_hash.clone());
    let now = if std::fs::symlink_metadata(&path).is_ok() {
        Some(crate::model::hash::hash_path(&path)?.to_hex())
    } else {
        None
    };
    if now.is_some() && now != locked {
        return Ok(change(
            key,
            Some(id),
            "kept",
            format!(
                "gone from the plugin, but its collection copy has local edits: kept (remove it with `skillmeat remove {id}`)"
            ),
            None,
        ));
    }
    let projects = crate::ops::remove::deployed_in(ctx, id, collection).await?;
    if !projects.is_empty() {
        return Ok(change(
            key,
            Some(id),
            "kept",
            format!(
                "gone from the plugin, but kept: still deployed in {} (undeploy it there, then `skillmeat remove {id}`)",
                projects
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None,
        ));
    }
    let mut c = change(
        key,
        Some(id),
        "removed",
        "gone from the plugin".to_owned(),
        None,
    );
    if apply {
        match crate::ops::remove::remove(ctx, id, collection, false, false).await {
            Ok(_) => c.applied = true,
            Err(e @ (OpsError::StillDeployed { .. } | OpsError::PendingMerge { .. })) => {
                c.change = "kept";
                c.detail = format!("gone from the plugin, but kept: {e}");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(c)
}

fn set_spec(
    ctx: &Context,
    dir: &std::path::Path,
    id: &ArtifactId,
    spec: &str,
) -> Result<(), OpsError> {
    use crate::storage::collection::{MANIFEST_FILE, Manifest};
    let _guard = crate::ops::tier::shared_file_guard(ctx, &dir.join(MANIFEST_FILE))?;
    let mut manifest = Manifest::load(dir)?;
    if let Some(e) = manifest.artifacts.iter_mut().find(|e| &e.id == id) {
        e.upstream = Some(spec.to_owned());
    }
    manifest.save(dir)?;
    Ok(())
}

fn rename_plugin(
    ctx: &Context,
    dir: &std::path::Path,
    record: &crate::storage::collection::PluginRecord,
    to: &str,
) -> Result<(), OpsError> {
    use crate::storage::collection::{MANIFEST_FILE, Manifest};
    let _guard = crate::ops::tier::shared_file_guard(ctx, &dir.join(MANIFEST_FILE))?;
    let mut manifest = Manifest::load(dir)?;
    let (old, new) = (record.key(), format!("{to}@{}", record.marketplace));
    for p in &mut manifest.plugins {
        if p.name == record.name && p.marketplace == record.marketplace {
            p.name = to.to_owned();
        }
    }
    for e in &mut manifest.artifacts {
        if e.plugin.as_deref() == Some(old.as_str()) {
            e.plugin = Some(new.clone());
        }
    }
    manifest.save(dir)?;
    Ok(())
}
