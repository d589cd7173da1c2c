//! The collection commands: thin wrappers that call `skillmeat_core::ops` and print a table or
//! JSON. Errors become [`CommandError`]s with a hint.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use clap::Args;
use serde::Serialize;
use skillmeat_core::model::artifact::{ArtifactId, ArtifactType};
use skillmeat_core::model::display::escaped;
use skillmeat_core::model::hash;
use skillmeat_core::ops::{self, Context, OpsError};
use skillmeat_core::storage::collection::{Lock, Manifest};
use skillmeat_core::storage::fetch::FetchSettings;
use skillmeat_core::storage::home::{DEFAULT_COLLECTION, Home};
use skillmeat_core::storage::upstream_tree::Limits;
use skillmeat_core::storage::versions::VersionError;

use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct CollectionArg {
    /// Collection to use.
    #[arg(long, default_value = DEFAULT_COLLECTION, value_name = "NAME")]
    pub collection: String,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Where the artifact comes from (see `skillmeat add --help`).
    pub spec: String,
    /// Artifact type, when it cannot be inferred from the path.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<ArtifactType>,
    /// Name in your collection (default: the last component of the path).
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub collection: CollectionArg,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub collection: CollectionArg,
    /// Print machine-readable JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Artifact id, `<type>:<name>` (e.g. skill:pdf).
    pub id: ArtifactId,
    #[command(flatten)]
    pub collection: CollectionArg,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Artifact ids, `<type>:<name>`.
    #[arg(required = true)]
    pub ids: Vec<ArtifactId>,
    /// The project folder (its .claude/ receives the artifacts).
    #[arg(long, value_name = "DIR")]
    pub project: PathBuf,
    #[command(flatten)]
    pub collection: CollectionArg,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum ProjectCommand {
    /// Allow writes into a project through a symlinked .claude/ folder that leads out of it.
    ///
    /// SkillMeat refuses to write into a project whose .claude/ (or .claude/skills, commands,
    /// agents) is a symlink to a place outside the project: a cloned repository could otherwise
    /// aim a deploy at any folder you can write. When the link is yours on purpose — a dotfile
    /// manager that links ~/.claude/skills into its repository — allow it for that project.
    /// The setting is kept in $SKILLMEAT_HOME, never in the project. --off refuses again.
    ///
    /// Example:
    ///   skillmeat project allow-links ~
    AllowLinks(AllowLinksArgs),
}

#[derive(Debug, Args)]
pub struct AllowLinksArgs {
    /// The project folder.
    #[arg(value_name = "DIR")]
    pub project: PathBuf,
    /// Refuse writes through links out of it again (the default for every project).
    #[arg(long)]
    pub off: bool,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Artifact id, `<type>:<name>` (e.g. skill:pdf).
    pub id: ArtifactId,
    #[command(flatten)]
    pub collection: CollectionArg,
    /// Print machine-readable JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TagArgs {
    /// Artifact id, `<type>:<name>` (e.g. skill:pdf).
    pub id: ArtifactId,
    /// The tag: letters, digits, `.`, `_` and `-`, at most 64 characters.
    pub tag: String,
    /// The version to tag: a hash prefix (4+ characters) or another tag. Default: the version
    /// the collection holds now.
    #[arg(value_name = "VERSION")]
    pub at: Option<String>,
    /// Move the tag if it names another version.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Project folders to compare with the collection (repeatable). Default: every registered
    /// project (see `deploy`), plus the current folder if it has deployment records.
    #[arg(long = "project", value_name = "DIR")]
    pub projects: Vec<PathBuf>,
    /// Also check each upstream against the collection (fetches from the upstreams).
    #[arg(long)]
    pub check_all: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    /// Print machine-readable JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The project folder whose .claude/.skillmeat-deployed.toml to upgrade.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub project: PathBuf,
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn context(home: &Path) -> Result<Context, CommandError> {
    let cwd = std::env::current_dir()
        .map_err(|e| CommandError::failed(format!("cannot read the current folder: {e}")))?;
    Ok(Context {
        cwd,
        home: Home::new(home),
        now: SystemTime::now(),
        // The token is handed to git only through its credentials callback.
        fetch: FetchSettings {
            github_token: std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty()),
            limits: upstream_limits()?,
            ..FetchSettings::default()
        },
        lock_timeout: ops::LOCK_TIMEOUT,
    })
}

/// The upstream size limits, from `SKILLMEAT_MAX_FILE_BYTES`, `SKILLMEAT_MAX_ARTIFACT_BYTES` and
/// `SKILLMEAT_MAX_FILES` where set (a number, optionally with a K, M or G suffix of 1024s).
fn upstream_limits() -> Result<Limits, CommandError> {
    let defaults = Limits::default();
    let read = |name: &str, default: u64| -> Result<u64, CommandError> {
        match std::env::var(name) {
            Ok(text) if !text.trim().is_empty() => parse_size(&text).ok_or_else(|| {
                CommandError::usage(format!(
                    "{name}={text:?} is not a size: give a number of bytes, e.g. 33554432 or 32M"
                ))
            }),
            _ => Ok(default),
        }
    };
    Ok(Limits {
        max_file_bytes: read("SKILLMEAT_MAX_FILE_BYTES", defaults.max_file_bytes)?,
        max_artifact_bytes: read("SKILLMEAT_MAX_ARTIFACT_BYTES", defaults.max_artifact_bytes)?,
        max_files: usize::try_from(read("SKILLMEAT_MAX_FILES", defaults.max_files as u64)?)
            .unwrap_or(usize::MAX),
    })
}

/// `123`, `64K`, `16M`, `1G` (powers of 1024) as a byte count.
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, shift) = match text.char_indices().last()? {
        (i, 'k' | 'K') => (&text[..i], 10),
        (i, 'm' | 'M') => (&text[..i], 20),
        (i, 'g' | 'G') => (&text[..i], 30),
        _ => (text, 0),
    };
    digits.parse::<u64>().ok()?.checked_mul(1u64 << shift)
}

pub(crate) fn ops_error(e: OpsError) -> CommandError {
    let hint = match &e {
        OpsError::UnknownType { .. } => Some("add --type skill, --type command or --type agent"),
        OpsError::AlreadyAdded { .. } => Some("see it with `skillmeat show`"),
        OpsError::NotInCollection { .. } => Some("list the collection with `skillmeat list`"),
        OpsError::LocalEdits { .. } => Some("see the edits with `skillmeat drift --project DIR`"),
        OpsError::Spec(_) => Some("run `skillmeat add --help` for the accepted forms"),
        OpsError::Versions(VersionError::NotFound { .. } | VersionError::Ambiguous { .. }) => {
            Some("list the versions with `skillmeat history ID`")
        }
        OpsError::Versions(VersionError::TagTaken { .. }) => Some("pass --force to move the tag"),
        OpsError::NotRegistered { .. } => {
            Some("deploy into it first: `skillmeat deploy ID --project DIR`")
        }
        OpsError::NotDeployed { .. } => {
            Some("deploy it first: `skillmeat deploy ID --project DIR`")
        }
        OpsError::PendingMerge { .. } => {
            Some("`skillmeat resolve ID --continue` applies it once resolved; --abort drops it")
        }
        OpsError::NoPendingMerge { .. } => Some("start one with `skillmeat sync`"),
        OpsError::AmbiguousPending { .. } => Some("name the project with --project DIR"),
        OpsError::Apply(skillmeat_core::storage::apply::ApplyError::Locked { .. }) => {
            Some("another SkillMeat command or server is writing it; try again when it is done")
        }
        OpsError::TargetChanged { .. } => Some("run the same command again"),
        OpsError::NothingToExport { .. } => {
            Some("edit the project copy first, or check `skillmeat diff`")
        }
        _ => None,
    };
    let err = match &e {
        OpsError::ProjectRequired { .. } => CommandError::usage(e.to_string()),
        _ => CommandError::failed(e.to_string()),
    };
    match hint {
        Some(h) => err.with_hint(h),
        None => err,
    }
}

pub(crate) fn print_json<T: Serialize>(value: &T) -> Result<(), CommandError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CommandError::failed(format!("cannot print JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

/// Prints rows as left-aligned columns under a header. Cells are escaped: a file name with a
/// newline or an ANSI escape cannot forge a row or recolour the terminal.
pub(crate) fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| escaped(c).into_owned()).collect())
        .collect();
    let rows = rows.as_slice();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        line(row.clone());
    }
}

pub fn init(home: &Path, json: bool) -> Result<ExitCode, CommandError> {
    let dir = Home::new(home)
        .collection_dir(DEFAULT_COLLECTION)
        .map_err(|e| CommandError::failed(e.to_string()))?;
    for d in [dir.clone(), home.join("cache")] {
        std::fs::create_dir_all(&d)
            .map_err(|e| CommandError::failed(format!("cannot create {}: {e}", d.display())))?;
    }
    if json {
        print_json(&serde_json::json!({ "home": home, "collection": dir }))?;
    } else {
        println!("SkillMeat home ready at {}", home.display());
        println!("Default collection: {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints warnings from an operation that succeeded, on stderr so JSON output stays clean.
pub(crate) fn print_warnings(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

pub async fn add(home: &Path, args: AddArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let added = ops::add(
        &ctx,
        &args.spec,
        args.kind,
        args.name.as_deref(),
        &args.collection.collection,
    )
    .await
    .map_err(ops_error)?;
    print_warnings(&added.warnings);
    if args.json {
        print_json(&added)?;
    } else {
        println!(
            "Added {} at {} ({})",
            added.id,
            &added.commit[..12.min(added.commit.len())],
            &added.content_hash[..12]
        );
        println!("  {}", added.path.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Serialize)]
struct ListItem {
    id: String,
    upstream: Option<String>,
    commit: Option<String>,
    content_hash: Option<String>,
    path: PathBuf,
}

fn list_items(home: &Path, collection: &str) -> Result<Vec<ListItem>, CommandError> {
    let dir = Home::new(home)
        .collection_dir(collection)
        .map_err(|e| CommandError::failed(e.to_string()))?;
    let manifest = Manifest::load(&dir).map_err(|e| CommandError::failed(e.to_string()))?;
    let lock = Lock::load(&dir).map_err(|e| CommandError::failed(e.to_string()))?;
    Ok(manifest
        .artifacts
        .iter()
        .map(|e| {
            let locked = lock.get(&e.id);
            ListItem {
                id: e.id.to_string(),
                upstream: e.upstream.clone(),
                commit: locked.map(|l| l.commit.clone()),
                content_hash: locked.map(|l| l.content_hash.clone()),
                path: ops::artifact_path(&dir, &e.id),
            }
        })
        .collect())
}

pub fn list(home: &Path, args: ListArgs) -> Result<ExitCode, CommandError> {
    let items = list_items(home, &args.collection.collection)?;
    if args.json {
        print_json(&items)?;
    } else if items.is_empty() {
        println!(
            "No artifacts in collection `{}` yet. Add one with `skillmeat add SPEC`.",
            args.collection.collection
        );
    } else {
        let rows: Vec<Vec<String>> = items
            .iter()
            .map(|i| {
                vec![
                    i.id.clone(),
                    i.upstream.clone().unwrap_or_else(|| "(local)".into()),
                    i.content_hash
                        .as_deref()
                        .map(|h| h[..12.min(h.len())].to_owned())
                        .unwrap_or_default(),
                ]
            })
            .collect();
        print_table(&["ARTIFACT", "UPSTREAM", "VERSION"], &rows);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(home: &Path, args: ShowArgs) -> Result<ExitCode, CommandError> {
    let collection = &args.collection.collection;
    let dir = Home::new(home)
        .collection_dir(collection)
        .map_err(|e| CommandError::failed(e.to_string()))?;
    let manifest = Manifest::load(&dir).map_err(|e| CommandError::failed(e.to_string()))?;
    let entry = manifest.get(&args.id).ok_or_else(|| {
        ops_error(OpsError::NotInCollection {
            id: args.id.clone(),
            collection: collection.clone(),
        })
    })?;
    let lock = Lock::load(&dir).map_err(|e| CommandError::failed(e.to_string()))?;
    let path = ops::artifact_path(&dir, &args.id);
    let current = hash::hash_path(&path).map(|h| h.to_hex()).ok();
    let locked = lock.get(&args.id);
    if args.json {
        print_json(&serde_json::json!({
            "id": args.id, "collection": collection, "path": path, "upstream": entry.upstream,
            "added_at": entry.added_at, "lock": locked, "content_hash": current,
        }))?;
    } else {
        println!("{}", args.id);
        println!("  path:      {}", path.display());
        println!(
            "  upstream:  {}",
            entry.upstream.as_deref().unwrap_or("(local only)")
        );
        if let Some(l) = locked {
            println!(
                "  resolved:  {} at {} (fetched {})",
                l.reference, l.commit, l.fetched_at
            );
            println!("  fetched:   {}", l.content_hash);
        }
        match current {
            Some(h) => println!("  current:   {h}"),
            None => println!("  current:   (missing from the collection folder)"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn deploy(home: &Path, args: DeployArgs) -> Result<ExitCode, CommandError> {
    if !args.project.is_dir() {
        return Err(CommandError::usage(format!(
            "project folder {} does not exist",
            args.project.display()
        )));
    }
    let ctx = context(home)?;
    let done = ops::deploy(&ctx, &args.ids, &args.project, &args.collection.collection)
        .await
        .map_err(ops_error)?;
    print_warnings(&done.warnings);
    if args.json {
        print_json(&done)?;
    } else {
        for d in &done.deployed {
            let what = if d.changed { "Deployed" } else { "Up to date" };
            println!(
                "{what}: {} ({}) → {}",
                d.id,
                &d.content_hash[..12],
                d.path.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn drift(home: &Path, args: DriftArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let mut projects = args.projects;
    if projects.is_empty() {
        projects = ops::registered_projects(&ctx.home)
            .await
            .map_err(ops_error)?
            .into_iter()
            // A registered project without records (all forgotten) has nothing to compare; one
            // that was deleted or moved is kept, and drift reports it.
            .filter(|p| {
                !p.is_dir()
                    || skillmeat_core::storage::records::DeploymentFile::path_in(p).is_file()
            })
            .collect();
        if let Ok(cwd) = std::env::current_dir()
            && skillmeat_core::storage::records::DeploymentFile::path_in(&cwd).is_file()
            && !projects
                .iter()
                .any(|p| cwd.canonicalize().is_ok_and(|c| &c == p))
        {
            projects.push(cwd);
        }
    }
    let report = ops::drift(&ctx, &args.collection.collection, &projects, args.check_all)
        .map_err(ops_error)?;
    if args.json {
        print_json(&report)?;
    } else if report.rows.is_empty() && report.problems.is_empty() {
        println!(
            "Nothing to compare: no deployed artifacts found (pass --project DIR, or --check-all for upstreams)."
        );
    } else {
        let shown = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| escaped(&p.display().to_string()).into_owned())
                .unwrap_or_default()
        };
        let mut table: Vec<Vec<String>> = report
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.id.to_string(),
                    r.pair.to_owned(),
                    shown(&r.project),
                    r.status.to_string(),
                    r.recommendation.unwrap_or("").to_owned(),
                ]
            })
            .collect();
        table.extend(report.problems.iter().map(|p| {
            vec![
                p.id.as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_else(|| "-".into()),
                p.pair.unwrap_or("-").to_owned(),
                shown(&p.project),
                "error".to_owned(),
                "see below".to_owned(),
            ]
        }));
        print_table(
            &["ARTIFACT", "PAIR", "PROJECT", "STATUS", "RECOMMENDATION"],
            &table,
        );
        if !report.problems.is_empty() {
            eprintln!(
                "\n{} could not be checked (the rows above are still right):",
                plural(report.problems.len(), "thing")
            );
            for p in &report.problems {
                eprintln!("  error: {}", p.message);
            }
        }
    }
    Ok(if !report.problems.is_empty() {
        ExitCode::from(EXIT_ERROR)
    } else if report.drifted() {
        ExitCode::from(EXIT_DRIFTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// `drift`'s exit status when everything was checked and something drifted. Distinct from 1,
/// the status of every error (also of a drift that could not check everything), so a script
/// can tell "act on the drift" from "the check itself failed".
pub(crate) const EXIT_DRIFTED: u8 = 4;
const EXIT_ERROR: u8 = 1;

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

pub async fn project(home: &Path, cmd: ProjectCommand) -> Result<ExitCode, CommandError> {
    let ProjectCommand::AllowLinks(args) = cmd;
    let ctx = context(home)?;
    let done = ops::set_project_links(&ctx, &args.project, !args.off)
        .await
        .map_err(ops_error)?;
    if args.json {
        print_json(&done)?;
        return Ok(ExitCode::SUCCESS);
    }
    let project = escaped(&done.project.display().to_string()).into_owned();
    if done.allow_links_outside {
        println!("Writes into {project} may now go through links out of it.");
    } else {
        println!("Writes into {project} through links out of it are refused again.");
    }
    if let Some((link, to)) = &done.link_outside {
        println!(
            "  {} leads to {}",
            escaped(&link.display().to_string()),
            escaped(&to.display().to_string())
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn migrate(home: &Path, args: MigrateArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let done = ops::migrate(&ctx, &args.project).await.map_err(ops_error)?;
    print_warnings(&done.warnings);
    if args.json {
        print_json(&done)?;
    } else if done.records.is_empty() {
        println!("No deployment records in {}.", args.project.display());
    } else {
        for m in &done.records {
            match m.note {
                Some(note) => println!("{:<12} {}  ({note})", m.outcome, m.id),
                None => println!("{:<12} {}", m.outcome, m.id),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn history(home: &Path, args: HistoryArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let history = ops::history(&ctx, &args.id, &args.collection.collection)
        .await
        .map_err(ops_error)?;
    if args.json {
        print_json(&history)?;
        return Ok(ExitCode::SUCCESS);
    }
    if history.versions.is_empty() {
        println!(
            "No versions of {} recorded yet (they are recorded by add, deploy and tag).",
            history.id
        );
        return Ok(ExitCode::SUCCESS);
    }
    let short = |h: &str| h.chars().take(12).collect::<String>();
    let rows: Vec<Vec<String>> = history
        .versions
        .iter()
        .map(|v| {
            let hex = v.content_hash.to_hex();
            let mark = if history.current.as_deref() == Some(hex.as_str()) {
                "*"
            } else {
                " "
            };
            vec![
                format!("{mark}{}", short(&hex)),
                v.created_at.clone(),
                v.change_origin.to_string(),
                v.version_tag.clone().unwrap_or_default(),
                v.parent_hashes
                    .iter()
                    .map(|p| short(p))
                    .collect::<Vec<_>>()
                    .join(" "),
            ]
        })
        .collect();
    print_table(&[" VERSION", "CREATED", "ORIGIN", "TAG", "PARENTS"], &rows);
    if !history.events.is_empty() {
        println!();
        let rows: Vec<Vec<String>> = history
            .events
            .iter()
            .map(|e| {
                vec![
                    format!(" {}", short(&e.content_hash)),
                    e.created_at.clone(),
                    e.origin.to_string(),
                    e.tier.clone(),
                ]
            })
            .collect();
        print_table(&[" RESTORED", "AT", "ORIGIN", "WHERE"], &rows);
    }
    if let Some(current) = &history.current
        && !history
            .versions
            .iter()
            .any(|v| &v.content_hash.to_hex() == current)
    {
        println!(
            "The collection holds {}, which is not recorded yet (edited by hand since).",
            short(current)
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn tag(home: &Path, args: TagArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let version = ops::tag(
        &ctx,
        &args.id,
        &args.collection.collection,
        &args.tag,
        args.at.as_deref(),
        args.force,
    )
    .await
    .map_err(ops_error)?;
    if args.json {
        print_json(&version)?;
    } else {
        println!(
            "Tagged {} {} as {}",
            args.id,
            version.content_hash.short(),
            args.tag
        );
    }
    Ok(ExitCode::SUCCESS)
}
