//! Command-line interface: argument parsing, home resolution and dispatch, with one module per
//! command (the way jj lays out `cli/src/commands/`) and the pieces they share (`common`,
//! `output`, `apply`).

pub mod add;
pub mod apply;
pub mod changelog;
pub mod check;
pub mod common;
pub mod config;
pub mod demo;
pub mod deploy;
pub mod diff;
pub mod drift;
pub mod history;
pub mod init;
pub mod list;
pub mod log;
pub mod marketplace;
pub mod migrate;
pub mod output;
pub mod patch;
pub mod project;
pub mod prompt;
pub mod remove;
pub mod resolve;
pub mod rollback;
pub mod show;
pub mod sync;
pub mod tag;
pub mod unlock;
pub mod update;

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::error::CommandError;
use crate::serve::{self, ServeOptions};

/// Keep Claude Code skills, commands and agents in sync across an upstream git repository, your
/// collection and your projects' .claude/ folders.
///
/// Every artifact lives in three tiers: upstream (a git repository, optionally pinned to a tag or
/// commit), your collection (under $SKILLMEAT_HOME), and the projects you deploy it to. SkillMeat
/// records the version each pair of tiers last agreed on, and tells you exactly what drifted.
#[derive(Debug, Parser)]
#[command(
    name = "skillmeat",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Where SkillMeat keeps collections, the version store and its database.
    ///
    /// Defaults to $SKILLMEAT_HOME, then ~/.skillmeat.
    #[arg(long, global = true, value_name = "DIR", env = "SKILLMEAT_HOME")]
    pub home: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the SkillMeat home and the `default` collection (safe to run again).
    Init(crate::cli::output::OutputArgs),
    /// Add an artifact to your collection from its upstream.
    ///
    /// SPEC is GitHub shorthand `owner/repo/path/in/repo[@ref]`, or a git URL or local repository
    /// (starting with / or ./) followed by `#path/in/repo` and `@ref`. The ref is a tag, branch,
    /// full or short commit sha, or `latest` (the default branch, followed as it moves). The
    /// type is inferred (a folder is a skill; a file under commands/ or agents/ a command or
    /// agent) unless --type is given; the name defaults to the last path component.
    ///
    /// Examples:
    ///   skillmeat add anthropics/skills/skills/pdf@v1.2.0
    ///   skillmeat add ./team-skills#commands/review.md --name review
    ///
    /// With --plugin NAME (or --all), SPEC is a Claude Code plugin marketplace (a repository
    /// with .claude-plugin/marketplace.json) and the plugin's skills, commands and agents are
    /// added, each as an artifact of its own, grouped under the plugin:
    ///   skillmeat add anthropics/claude-plugins-official --plugin code-review
    Add(crate::cli::add::AddArgs),
    /// Check artifacts the way Claude Code reads them: SKILL.md frontmatter (valid YAML, a
    /// `name` of 1–64 lowercase letters, digits and single hyphens equal to the folder name, a
    /// `description` of at most 1024 characters), agents without `name` or `description`
    /// (Claude Code skips those silently), keys that make an upload to claude.ai or the Skills
    /// API fail, and in a project or the user scope: two agents with one name, and skills,
    /// agents or commands hidden by another of the same name. Exit status 1 on errors.
    ///
    /// The same checks run before every deploy, as warnings (`deploy --strict` refuses instead).
    ///
    /// Examples:
    ///   skillmeat check
    ///   skillmeat check --project ~/code/app --json
    Check(crate::cli::check::CheckArgs),
    /// List the artifacts of a collection, with their upstream (pin as given) and version.
    List(crate::cli::list::ListArgs),
    /// Show one artifact: where it lives, where it comes from, what it resolved to.
    Show(crate::cli::show::ShowArgs),
    /// Copy artifacts from the collection into a project's .claude/ folder.
    ///
    /// Records the deployed version as the project's baseline for drift and in the version
    /// store, and registers the project so `drift` checks it from anywhere. Never overwrites a
    /// file SkillMeat does not manage, or a project copy that has edits of its own; when one
    /// artifact is refused, none is written.
    Deploy(crate::cli::deploy::DeployArgs),
    /// Show the recorded versions of an artifact, newest first.
    ///
    /// Every version SkillMeat wrote or saw is kept in $SKILLMEAT_HOME/store.git, with where it
    /// came from (ORIGIN: sync, deployment, local_modification, merge, rollback), its parent
    /// and its tag. `*` marks the version the collection holds now.
    History(crate::cli::history::HistoryArgs),
    /// The audit trail: every deploy, sync, conflict, resolution, abort, rollback and tag.
    ///
    /// Newest first, 50 at a time (`--before EVENT` pages back). Each sync says its direction,
    /// strategy, the drift status it found, the base / source / target / result versions and
    /// the files merged or conflicted; each resolution how every conflicted file was settled
    /// (ours, theirs, custom, hunks). `skillmeat log skill:pdf --conflicts` sums up how often
    /// the artifact's merges conflicted, on which files, and how each was settled.
    Log(crate::cli::log::LogArgs),
    /// The releases between two versions: files changed and a semver bump suggestion per step.
    ///
    /// Lists every tagged version recorded after --from up to --to (and --to itself), each
    /// compared with the one before, like a CHANGELOG.md. By default from the last semver tag
    /// (or the oldest recorded version) to the newest. Each step is major (files removed, a skill's or agent's `name`
    /// or required frontmatter changed, a frontmatter key removed), minor (files or frontmatter
    /// keys added, an optional frontmatter value changed) or patch (content edits only).
    Changelog(crate::cli::changelog::ChangelogArgs),
    /// Name a version of an artifact, e.g. `skillmeat tag skill:pdf v1.3.0`.
    ///
    /// Tags the version the collection holds now, or the VERSION given (a hash prefix of at
    /// least 4 characters, or another tag). A tag names one version per artifact;
    /// --force moves it. --major marks a breaking change. --next proposes the next semver
    /// from the last semver tag and what changed since (--next --yes applies it).
    Tag(crate::cli::tag::TagArgs),
    /// Report what drifted between upstream, collection and projects.
    ///
    /// Statuses: synced, modified (only the target changed), outdated (only the source changed),
    /// conflict (both changed), diverged (no common base known), added (target lacks it),
    /// removed (source lacks it).
    ///
    /// What cannot be checked (an unreadable records file, a symlink or FIFO in a copy, an
    /// unreachable upstream) is listed as an error with what to do, and every other row is still
    /// shown; with --json it is in `problems`.
    ///
    /// Exit status: 0 everything synced; 4 everything checked and something drifted; 1 anything
    /// could not be checked, or the check failed as a whole (then --json prints no JSON).
    ///
    /// Without --project, every project SkillMeat deployed into is checked (plus the current
    /// folder if it has deployment records).
    Drift(crate::cli::drift::DriftArgs),
    /// Sync one artifact between tiers: plan, then apply with --yes (or when asked).
    ///
    /// Directions: upstream (upstream → collection), deploy (collection → project), project
    /// (project → collection, capturing a project's edits), both (upstream → collection →
    /// project). With --strategy auto, a side that alone changed since the last sync is taken
    /// whole (fast-forward) and changes on both sides are merged line by line; conflicting
    /// changes never touch your files: they are kept aside as a pending merge for
    /// `skillmeat resolve` (exit status 3). Everything replaced is kept in the version store,
    /// so `skillmeat rollback` can restore it.
    ///
    /// Examples:
    ///   skillmeat sync skill:pdf --direction deploy --project ~/code/app --dry-run
    ///   skillmeat sync skill:pdf --direction both --project ~/code/app --yes
    Sync(crate::cli::sync::SyncArgs),
    /// Update artifacts from their upstreams, and into projects (--project, several times, or
    /// --all-projects).
    ///
    /// Plans everything first and shows the plan: each artifact's upstream step, and each
    /// project's step planned against what the upstream step would leave in the collection.
    /// Over several projects the plan is one table grouped by project. Applies with --yes or
    /// when you say so, then prints one summary. One drift check first settles whatever has
    /// nothing to do (an upstream ref that still names the locked commit, copies that match
    /// their baselines by their stat data), so a run with nothing to do reads no file and
    /// fetches nothing. A conflict in one project leaves a pending merge there and the other
    /// projects are still updated. Exit status 3 when a conflict is left pending, 1 when
    /// anything failed (a project that is gone, an unreadable upstream).
    ///
    /// Examples:
    ///   skillmeat update --all --all-projects --dry-run
    ///   skillmeat update skill:pdf --project ~/code/app --project ~/code/api --yes
    ///   skillmeat update --all --all-projects --json --yes   (rows carry their steps)
    Update(crate::cli::update::UpdateArgs),
    /// Settle a pending merge: one file at a time, then --continue (or --abort).
    ///
    /// --continue applies the merge only when no conflicted file still holds markers and every
    /// delete/modify or binary clash was decided, and names the files that are not.
    Resolve(crate::cli::resolve::ResolveArgs),
    /// Restore a recorded version of an artifact (collection, or --project copy).
    Rollback(crate::cli::rollback::RollbackArgs),
    /// Show and change settings ($SKILLMEAT_HOME/config.toml, each overridable by a
    /// SKILLMEAT_* variable): auto-merge, the default strategy, previews before applies, the
    /// kill-switch's threshold, when a pending merge counts as abandoned, upstream checks, the
    /// inline diff limit, job concurrency and the patch export rate. `config list` shows them
    /// all with where each value comes from.
    ///
    /// Examples:
    ///   skillmeat config list
    ///   skillmeat config set sync.auto_merge false
    ///   SKILLMEAT_UPSTREAM_CHECKS=false skillmeat drift --check-all
    #[command(subcommand)]
    Config(crate::cli::config::ConfigCommand),
    /// Take an artifact out of the collection: its files, manifest and lock entries.
    ///
    /// Refused while a registered project has it deployed (name them with `drift`), unless
    /// --undeploy takes it out of those projects first, and while a merge of it is pending.
    /// The collection's copy is recorded in the version store before it goes. Asks first on a
    /// terminal; pass --yes in scripts.
    Remove(crate::cli::remove::RemoveArgs),
    /// Take deployed copies out of a project's .claude/ folder, and their records.
    ///
    /// A copy with edits of its own is refused (capture them first with `sync --direction
    /// project`), unless --force, which records the edits in the version store and then removes
    /// the copy.
    Undeploy(crate::cli::remove::UndeployArgs),
    /// Lift the kill-switch of an artifact whose syncs kept failing.
    ///
    /// After `sync.lock_after_failures` (3) applying syncs of an artifact fail in a row (the
    /// upstream unreachable or refused, a copy that cannot be read), its syncs are refused, so
    /// that `update --all`, schedules and scripts stop retrying it; the refusal names the last
    /// failure. Fix the cause, then unlock. Refusals that protect your edits (pending merges,
    /// local edits) never count.
    ///
    /// Examples:
    ///   skillmeat unlock --list
    ///   skillmeat unlock skill:review
    Unlock(crate::cli::unlock::UnlockArgs),
    /// Show what differs between two tiers or versions of an artifact.
    Diff(crate::cli::diff::DiffArgs),
    /// Export a project's edits as a patch bundle for the upstream (project-to-upstream).
    ///
    /// SkillMeat never writes to an upstream. The .tar.gz holds a git patch against the
    /// upstream commit the collection was last synced with (`git apply` it at the repository
    /// root), binary or large files whole, and manifest.json (artifact, upstream, base commit,
    /// content hashes).
    Patch(crate::cli::patch::PatchArgs),
    /// Settings of one project.
    #[command(subcommand)]
    Project(crate::cli::project::ProjectCommand),
    /// Claude Code plugin marketplaces: see what a marketplace offers before adding plugins
    /// from it with `skillmeat add SPEC --plugin NAME`.
    #[command(subcommand)]
    Marketplace(crate::cli::marketplace::MarketplaceCommand),
    /// Upgrade a project's deployment records written by older tools (safe to run again).
    ///
    /// Missing fields get defaults; a legacy content hash becomes a current one when the
    /// project or collection copy still has that version; empty lineage is backfilled with the
    /// deployed version as its root. What `drift` reports does not change.
    Migrate(crate::cli::migrate::MigrateArgs),
    /// Fill a new home with demo data: a local upstream with history, a collection, two projects.
    ///
    /// Every drift status occurs somewhere (synced, modified, outdated, conflict, diverged,
    /// added, removed), so `skillmeat serve` right after shows a realistic UI. Try it on a
    /// scratch home: `skillmeat --home /tmp/skillmeat-demo demo`.
    Demo(crate::cli::demo::DemoArgs),
    /// Start the web UI and API server.
    ///
    /// Binds to 127.0.0.1 unless told otherwise and prints the URL to open. Stop it with Ctrl-C.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Anything other than a loopback address exposes your home to the
    /// network.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST), value_name = "IP")]
    pub host: IpAddr,

    /// Port to listen on; 0 picks a free one (the printed URL shows which).
    #[arg(long, short, default_value_t = 3750, env = "SKILLMEAT_PORT")]
    pub port: u16,

    /// Folder holding the built web bundle (pkg/skillmeat.js, .wasm, .css and public files).
    ///
    /// Defaults to `site` beside the folder of the skillmeat executable, which is where
    /// `make build` (cargo xtask build) puts it.
    #[arg(long, value_name = "DIR", env = "SKILLMEAT_SITE_ROOT")]
    pub site_root: Option<PathBuf>,

    /// How often the server compares every registered project's deployed copies with their
    /// baselines, recording when a local edit was first seen and when each copy was last
    /// checked (`skillmeat show ID --project P`, the artifact page). `0` turns it off. One
    /// check runs at a time; a check that takes longer than the period delays the next.
    #[arg(long, default_value = "10m", value_name = "DURATION", env = "SKILLMEAT_CHECK_EVERY",
          value_parser = humantime::parse_duration)]
    pub check_every: std::time::Duration,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match parse_args::<Cli>() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let exporter = match init_tracing() {
        Ok(exporter) => exporter,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            return ExitCode::from(2);
        }
    };
    // Every command but the server runs in one span whose trace id its logs and its `--json`
    // carry (the server gives each request its own).
    let span = match cli.command {
        Command::Serve(_) => tracing::Span::none(),
        _ => tracing::info_span!("command", trace_id = tracing::field::Empty),
    };
    crate::cli::output::start_trace(&span);
    let entered = span.enter();
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "{e}");
            e.exit_code()
        }
    };
    drop(entered);
    drop(span);
    if let Some(exporter) = exporter {
        exporter.shutdown();
    }
    code
}

/// Parses the process's arguments into `P`, or prints help, the version or the usage error and
/// gives the exit code to end with: 0 for help and version (stdout), 2 for a usage error (stderr).
pub fn parse_args<P: Parser>() -> Result<P, ExitCode> {
    P::try_parse().map_err(|e| {
        let _ = e.print();
        if e.use_stderr() {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        }
    })
}

/// Logs to stderr (`SKILLMEAT_LOG`, an `EnvFilter`), and exports spans over OTLP when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is set (our own spans at info and above, whatever the log
/// filter says).
fn init_tracing() -> Result<Option<crate::otel::Exporter>, String> {
    use tracing_subscriber::{EnvFilter, Layer as _, layer::SubscriberExt as _};
    let filter = EnvFilter::try_from_env("SKILLMEAT_LOG")
        .unwrap_or_else(|_| EnvFilter::new("warn,skillmeat=info"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter);
    let exporter = if crate::otel::requested() {
        Some(crate::otel::Exporter::from_env()?)
    } else {
        None
    };
    let otel = exporter.as_ref().map(|e| {
        e.layer()
            .with_filter(EnvFilter::new("skillmeat=info,skillmeat_core=info"))
    });
    let subscriber = tracing_subscriber::registry().with(fmt).with(otel);
    let _ = tracing::subscriber::set_global_default(subscriber);
    Ok(exporter)
}

fn run(cli: Cli) -> Result<ExitCode, CommandError> {
    let home = resolve_home(cli.global.home)?;
    match cli.command {
        Command::Init(args) => crate::cli::init::init(&home, args),
        Command::Add(args) => block_on(crate::cli::add::add(&home, args)),
        Command::List(args) => crate::cli::list::list(&home, args),
        Command::Check(args) => crate::cli::check::check_command(&home, args),
        Command::Show(args) => crate::cli::show::show(&home, args),
        Command::Deploy(args) => block_on(crate::cli::deploy::deploy(&home, args)),
        Command::History(args) => block_on(crate::cli::history::history(&home, args)),
        Command::Changelog(args) => block_on(crate::cli::changelog::changelog(&home, args)),
        Command::Log(args) => block_on(crate::cli::log::log(&home, args)),
        Command::Tag(args) => block_on(crate::cli::tag::tag(&home, args)),
        Command::Drift(args) => block_on(crate::cli::drift::drift(&home, args)),
        Command::Demo(args) => block_on(crate::cli::demo::demo(&home, args)),
        Command::Migrate(args) => block_on(crate::cli::migrate::migrate(&home, args)),
        Command::Project(cmd) => block_on(crate::cli::project::project(&home, cmd)),
        Command::Marketplace(cmd) => crate::cli::marketplace::marketplace_command(&home, cmd),
        Command::Sync(args) => block_on(crate::cli::sync::sync_command(&home, args)),
        Command::Update(args) => crate::cli::update::update_command(&home, args),
        Command::Resolve(args) => block_on(crate::cli::resolve::resolve_command(&home, args)),
        Command::Rollback(args) => block_on(crate::cli::rollback::rollback_command(&home, args)),
        Command::Config(cmd) => crate::cli::config::config(&home, cmd),
        Command::Remove(args) => block_on(crate::cli::remove::remove_command(&home, args)),
        Command::Undeploy(args) => block_on(crate::cli::remove::undeploy_command(&home, args)),
        Command::Unlock(args) => block_on(crate::cli::unlock::unlock_command(&home, args)),
        Command::Diff(args) => block_on(crate::cli::diff::diff_command(&home, args)),
        Command::Patch(args) => crate::cli::patch::patch_command(&home, args),
        Command::Serve(args) => {
            let site_root = match args.site_root {
                Some(dir) => dir,
                None => default_site_root()?,
            };
            serve::run(ServeOptions {
                home,
                host: args.host,
                port: args.port,
                site_root,
                check_every: args.check_every,
            })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `--home`/`$SKILLMEAT_HOME` if given, else `~/.skillmeat`.
/// Runs a command's future on a single-threaded runtime (the database driver is async).
fn block_on(
    command: impl std::future::Future<Output = Result<ExitCode, CommandError>>,
) -> Result<ExitCode, CommandError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::failed(format!("cannot start the async runtime: {e}")))?
        .block_on(command)
}

fn resolve_home(given: Option<PathBuf>) -> Result<PathBuf, CommandError> {
    if let Some(home) = given.filter(|p| !p.as_os_str().is_empty()) {
        return Ok(home);
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(user_home) => Ok(PathBuf::from(user_home).join(".skillmeat")),
        None => Err(CommandError::usage(
            "cannot tell where the SkillMeat home is: $HOME is not set",
        )
        .with_hint("pass --home DIR or set SKILLMEAT_HOME")),
    }
}

fn default_site_root() -> Result<PathBuf, CommandError> {
    let exe = std::env::current_exe()
        .map_err(|e| CommandError::failed(format!("cannot find the skillmeat executable: {e}")))?;
    // `cargo xtask build` puts the binary in target/release/ and the bundle in target/site/.
    let bin_dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    let beside_parent = bin_dir.parent().map(|p| p.join("site"));
    Ok(beside_parent
        .filter(|p| p.is_dir())
        .unwrap_or_else(|| bin_dir.join("site")))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
