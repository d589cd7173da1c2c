//! `skillmeat demo`: a home with a local upstream repository (with history and tags), a
//! collection and two projects, in which every drift status of DESIGN §4 occurs, so that
//! `skillmeat serve` right after shows a realistic UI.
//!
//! Everything is built through the same operations as the CLI (add, deploy, sync); only the
//! edits a user would make by hand are written directly.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::Args;
use serde::Serialize;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::hash::HashAlgorithm;
use skillmeat_core::ops::sync::{self, Direction, Strategy, SyncRequest};
use skillmeat_core::ops::{self, Context};
use skillmeat_core::storage::home::DEFAULT_COLLECTION;
use skillmeat_core::storage::records::DeploymentFile;

use crate::cli::common::context;
use crate::cli::common::ops_error;
use crate::cli::output::OutputArgs;
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Do nothing (and succeed) when the home already has artifacts, instead of refusing.
    #[arg(long)]
    pub if_empty: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Serialize)]
struct DemoReport {
    home: PathBuf,
    upstream: PathBuf,
    projects: Vec<PathBuf>,
    artifacts: usize,
    created: bool,
}

/// One upstream commit: files written (path, content) and removed, a message and a tag.
struct Commit {
    message: &'static str,
    tag: Option<&'static str>,
    days_ago: u64,
    files: &'static [(&'static str, &'static str)],
}

const V1: Commit = Commit {
    message: "Team skills: review, changelog, API docs; commands and agents",
    tag: Some("v1.0.0"),
    days_ago: 30,
    files: &[
        (
            "skills/code-review/SKILL.md",
            "---\nname: code-review\ndescription: Review a change for correctness, tests and readability.\n---\n\n# Code review\n\nRead the diff twice: once for what it does, once for what it breaks.\n\n1. Run the tests that touch the change.\n2. Walk the checklist in `checklist.md`.\n3. Write findings as questions, most important first.\n",
        ),
        (
            "skills/code-review/checklist.md",
            "# Review checklist\n\n- Does every new branch have a test?\n- Are errors reported with what to do next?\n- Is anything logged that should not be?\n- Would a newcomer understand the names?\n",
        ),
        (
            "skills/changelog/SKILL.md",
            "---\nname: changelog\ndescription: Turn merged pull requests into a changelog entry.\n---\n\n# Changelog\n\nGroup changes as Added, Changed, Fixed, Removed. One line each, user's point of view.\nLink the pull request at the end of the line.\n",
        ),
        (
            "skills/api-docs/SKILL.md",
            "---\nname: api-docs\ndescription: Document an HTTP endpoint from its handler.\n---\n\n# API docs\n\nFor each endpoint: method and path, parameters, request body, responses with status codes,\nand one curl example. Use `templates/endpoint.md`.\n",
        ),
        (
            "skills/api-docs/templates/endpoint.md",
            "## METHOD /path\n\nWhat it does, in one sentence.\n\n| parameter | in | required | meaning |\n|---|---|---|---|\n\n```sh\ncurl -s http://localhost:8080/path\n```\n",
        ),
        (
            "skills/incident-response/SKILL.md",
            "---\nname: incident-response\ndescription: Run an incident from first alert to postmortem.\n---\n\n# Incident response\n\nFollow `runbook.md` step by step. Keep a log of every action with its time.\n",
        ),
        (
            "skills/incident-response/runbook.md",
            "# Incident runbook\n\n## Declare\n\nOpen an incident channel named after the date and the symptom.\nPage the on-call owner of the failing service.\n\n## Stabilise\n\nRoll back the last deploy if it started after the symptom.\nScale out before you debug.\n\n## Communicate\n\nPost a status update every 30 minutes, even when nothing changed.\n\n## Close\n\nWrite the timeline while it is fresh.\n",
        ),
        (
            "commands/fix-tests.md",
            "---\ndescription: Find and fix failing tests\n---\n\nRun the test suite. For each failure, read the test first, then the code under test.\nFix the code unless the test is wrong; say which and why.\n",
        ),
        (
            "commands/release-notes.md",
            "---\ndescription: Draft release notes since the last tag\n---\n\nList the commits since the last tag. Summarise them for users in five bullets or fewer.\n",
        ),
        (
            "commands/lint.md",
            "---\ndescription: Run the linters and fix what they report\n---\n\nRun the project's linters. Fix each warning at its cause; never silence one without a comment.\n",
        ),
        (
            "agents/reviewer.md",
            "---\nname: reviewer\ndescription: A careful second reviewer for risky changes.\ntools: Read, Grep\n---\n\nYou review changes that touch persistence, auth or concurrency. Ask for a test for each\nfailure mode you can name.\n",
        ),
        (
            "agents/docs-writer.md",
            "---\nname: docs-writer\ndescription: Writes and updates user documentation.\ntools: Read, Write\n---\n\nWrite for someone who has never seen the project. Lead with what it does, then how to run it.\n",
        ),
        (
            "agents/security-auditor.md",
            "---\nname: security-auditor\ndescription: Looks for injection, secrets and unsafe defaults.\ntools: Read, Grep\n---\n\nCheck inputs that reach a shell, a query or a path. Flag secrets in code and logs.\n",
        ),
    ],
};

const V1_1: Commit = Commit {
    message: "Review checklist covers migrations; release notes by section; API docs paginate; auditor checks deps; incident runbook pages the commander",
    tag: Some("v1.1.0"),
    days_ago: 9,
    files: &[
        (
            "skills/code-review/checklist.md",
            "# Review checklist\n\n- Does every new branch have a test?\n- Are errors reported with what to do next?\n- Is anything logged that should not be?\n- Would a newcomer understand the names?\n- Does a schema change come with a migration and a rollback?\n",
        ),
        (
            "commands/release-notes.md",
            "---\ndescription: Draft release notes since the last tag\n---\n\nList the commits since the last tag. Sort them into Features, Fixes and Breaking changes.\nLead with breaking changes and how to migrate.\n",
        ),
        (
            "skills/api-docs/SKILL.md",
            "---\nname: api-docs\ndescription: Document an HTTP endpoint from its handler.\n---\n\n# API docs\n\nFor each endpoint: method and path, parameters, request body, responses with status codes,\nand one curl example. Use `templates/endpoint.md`.\n\nFor list endpoints, document pagination: the page size, the cursor, and the last page.\n",
        ),
        (
            "agents/security-auditor.md",
            "---\nname: security-auditor\ndescription: Looks for injection, secrets and unsafe defaults.\ntools: Read, Grep\n---\n\nCheck inputs that reach a shell, a query or a path. Flag secrets in code and logs.\nList dependencies with known advisories and the version that fixes each.\n",
        ),
        (
            "skills/incident-response/SKILL.md",
            "---\nname: incident-response\ndescription: Run an incident from first alert to a blameless postmortem.\n---\n\n# Incident response\n\nFollow `runbook.md` step by step. Keep a log of every action with its time.\n",
        ),
        (
            "skills/incident-response/runbook.md",
            "# Incident runbook\n\n## Declare\n\nOpen an incident channel named after the date and the symptom.\nPage the on-call owner of the failing service and the incident commander.\n\n## Stabilise\n\nRoll back the last deploy if it started after the symptom.\nScale out before you debug.\n\n## Communicate\n\nPost a status update every 20 minutes, even when nothing changed.\n\n## Close\n\nWrite the timeline while it is fresh.\n",
        ),
        (
            "skills/changelog/SKILL.md",
            "---\nname: changelog\ndescription: Turn merged pull requests into a changelog entry.\n---\n\n# Changelog\n\nGroup changes as Added, Changed, Fixed, Removed, Security. One line each, user's point of view.\nLink the pull request at the end of the line.\n",
        ),
    ],
};

/// What each project gets deployed.
const WEB_APP: &[&str] = &[
    "skill:code-review",
    "skill:changelog",
    "skill:api-docs",
    "command:fix-tests",
    "command:release-notes",
    "command:lint",
    "agent:reviewer",
    "agent:docs-writer",
];
const API_SERVICE: &[&str] = &[
    "skill:code-review",
    "skill:api-docs",
    "command:fix-tests",
    "command:lint",
    "agent:reviewer",
    "agent:docs-writer",
    "agent:security-auditor",
];

/// Runs `skillmeat demo`.
pub async fn demo(home: &Path, args: DemoArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let has_artifacts = ctx
        .home
        .list_collection(DEFAULT_COLLECTION)
        .map(|l| !l.artifacts.is_empty())
        .unwrap_or(false);
    let demo_dir = home.join("demo");
    if has_artifacts || demo_dir.exists() {
        if args.if_empty {
            return report(home, &demo_dir, false, 0, args.output);
        }
        return Err(CommandError::usage(format!(
            "{} already has a collection or a demo; the demo only fills a new home",
            home.display()
        ))
        .with_hint("run `skillmeat --home /tmp/skillmeat-demo demo`, or pass --if-empty"));
    }
    let upstream = demo_dir.join("upstream");
    let web_app = demo_dir.join("projects/web-app");
    let api_service = demo_dir.join("projects/api-service");
    for dir in [&upstream, &web_app, &api_service] {
        std::fs::create_dir_all(dir).map_err(|e| failed("create", dir, &e))?;
    }
    let repo = git2::Repository::init(&upstream)
        .map_err(|e| CommandError::failed(format!("cannot create the demo upstream: {e}")))?;
    commit(&repo, &V1)?;

    // The collection, from v1: most artifacts follow `latest`, the changelog is pinned.
    let mut added = 0;
    for (path, _) in V1.files {
        let Some(spec_path) = artifact_root(path) else {
            continue;
        };
        let pin = if spec_path == "skills/changelog" {
            "@v1.0.0"
        } else {
            ""
        };
        let spec = format!("{}#{spec_path}{pin}", upstream.display());
        let ctx = at(&ctx, 28);
        ops::add(&ctx, &spec, None, None, DEFAULT_COLLECTION)
            .await
            .map_err(ops_error)?;
        added += 1;
    }
    deploy(&at(&ctx, 27), WEB_APP, &web_app).await?;
    deploy(&at(&ctx, 26), API_SERVICE, &api_service).await?;

    // Upstream moves on.
    commit(&repo, &V1_1)?;
    // The API docs were updated in the collection (a fast-forward): history shows two versions,
    // and both projects are now behind.
    let api_docs: ArtifactId = id("skill:api-docs")?;
    let request = SyncRequest {
        id: &api_docs,
        direction: Direction::UpstreamToCollection,
        project: None,
        collection: DEFAULT_COLLECTION,
        strategy: Strategy::Auto,
        dry_run: false,
        on_phase: None,
        expect: None,
    };
    sync::sync(&at(&ctx, 8), &request)
        .await
        .map_err(ops_error)?;

    // Edits by hand.
    let collection = ctx
        .home
        .collection_dir(DEFAULT_COLLECTION)
        .map_err(|e| CommandError::failed(e.to_string()))?;
    // Collection and upstream both changed the release notes: conflict (upstream↔collection).
    append(
        &collection.join("commands/release-notes.md"),
        "Mention who contributed, by handle.\n",
    )?;
    // The team adapted the incident runbook, in three places upstream changed too: a conflict
    // with two conflicted files, one of them with two conflicting hunks.
    replace(
        &collection.join("skills/incident-response/SKILL.md"),
        "to postmortem.",
        "to postmortem, for production services.",
    )?;
    replace(
        &collection.join("skills/incident-response/runbook.md"),
        "Page the on-call owner of the failing service.",
        "Page the on-call owner of the failing service through PagerDuty.",
    )?;
    replace(
        &collection.join("skills/incident-response/runbook.md"),
        "every 30 minutes",
        "every hour",
    )?;
    // Only the collection changed the docs writer: modified; web-app is now outdated.
    append(
        &collection.join("agents/docs-writer.md"),
        "Every page ends with a 'Next steps' section.\n",
    )?;
    // …and api-service changed it too, differently: conflict there.
    append(
        &api_service.join(".claude/agents/docs-writer.md"),
        "Document every environment variable the service reads.\n",
    )?;
    // web-app tuned fix-tests: modified (collection↔project).
    append(
        &web_app.join(".claude/commands/fix-tests.md"),
        "Run `npm test -- --watch=false` first.\n",
    )?;
    // web-app deleted its reviewer agent: `added` (deploy again).
    remove(&web_app.join(".claude/agents/reviewer.md"))?;
    // The collection lost its lint command: `removed` where it is deployed.
    remove(&collection.join("commands/lint.md"))?;
    // api-service's reviewer was deployed by an older tool whose baseline matches no copy,
    // and has since been edited: with no common base, `diverged`.
    legacy_record(&api_service, &id("agent:reviewer")?)?;
    append(
        &api_service.join(".claude/agents/reviewer.md"),
        "Also review the SQL of every new query.\n",
    )?;

    report(home, &demo_dir, true, added, args.output)
}

fn report(
    home: &Path,
    demo_dir: &Path,
    created: bool,
    artifacts: usize,
    out: OutputArgs,
) -> Result<ExitCode, CommandError> {
    let r = DemoReport {
        home: home.to_path_buf(),
        upstream: demo_dir.join("upstream"),
        projects: vec![
            demo_dir.join("projects/web-app"),
            demo_dir.join("projects/api-service"),
        ],
        artifacts,
        created,
    };
    out.emit(&r, |r| {
        if r.created {
            println!(
                "Demo home ready at {}: {artifacts} artifacts from a local upstream with two tags,",
                home.display()
            );
            println!(
                "two projects (web-app, api-service), and every drift status. Upstream: {}",
                r.upstream.display()
            );
            println!(
                "Next: skillmeat --home {} serve   (or skillmeat drift --check-all)",
                home.display()
            );
        } else {
            println!(
                "{} already has artifacts; the demo left it as it was.",
                home.display()
            );
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `ctx` with its clock set `days` back, so versions and deployments look spread over time.
fn at(ctx: &Context, days: u64) -> Context {
    let mut c = ctx.clone();
    c.now = ctx
        .now
        .checked_sub(Duration::from_secs(days * 86_400))
        .unwrap_or(ctx.now);
    c
}

fn id(text: &str) -> Result<ArtifactId, CommandError> {
    text.parse()
        .map_err(|e| CommandError::failed(format!("demo artifact {text}: {e}")))
}

async fn deploy(ctx: &Context, ids: &[&str], project: &Path) -> Result<(), CommandError> {
    let ids = ids.iter().map(|i| id(i)).collect::<Result<Vec<_>, _>>()?;
    ops::deploy(ctx, &ids, project, DEFAULT_COLLECTION)
        .await
        .map_err(ops_error)?;
    Ok(())
}

/// The artifact folder or file a repository path belongs to (`skills/x`, `commands/y.md`).
fn artifact_root(path: &str) -> Option<String> {
    let mut parts = path.split('/');
    match (parts.next()?, parts.next()?) {
        ("skills", name) => (path.ends_with("/SKILL.md") && path.matches('/').count() == 2)
            .then(|| format!("skills/{name}")),
        (kind @ ("commands" | "agents"), file) => Some(format!("{kind}/{file}")),
        _ => None,
    }
}

fn commit(repo: &git2::Repository, c: &Commit) -> Result<(), CommandError> {
    let git = |e: git2::Error| CommandError::failed(format!("demo upstream: {e}"));
    let root = repo
        .workdir()
        .ok_or_else(|| CommandError::failed("demo upstream has no work tree"))?
        .to_path_buf();
    for (path, content) in c.files {
        let file = root.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(|e| failed("create", parent, &e))?;
        }
        std::fs::write(&file, content).map_err(|e| failed("write", &file, &e))?;
    }
    let mut index = repo.index().map_err(git)?;
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .map_err(git)?;
    index.write().map_err(git)?;
    let tree = repo
        .find_tree(index.write_tree().map_err(git)?)
        .map_err(git)?;
    let when = SystemTime::now()
        .checked_sub(Duration::from_secs(c.days_ago * 86_400))
        .unwrap_or_else(SystemTime::now)
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
        .unwrap_or(0);
    let sig = git2::Signature::new("Team Lead", "lead@example.com", &git2::Time::new(when, 0))
        .map_err(git)?;
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let oid = repo
        .commit(Some("HEAD"), &sig, &sig, c.message, &tree, &parents)
        .map_err(git)?;
    if let Some(tag) = c.tag {
        let object = repo.find_object(oid, None).map_err(git)?;
        repo.tag(tag, &object, &sig, c.message, false)
            .map_err(git)?;
    }
    Ok(())
}

fn append(path: &Path, line: &str) -> Result<(), CommandError> {
    let mut text = std::fs::read_to_string(path).map_err(|e| failed("read", path, &e))?;
    text.push_str(line);
    std::fs::write(path, text).map_err(|e| failed("write", path, &e))
}

fn replace(path: &Path, from: &str, to: &str) -> Result<(), CommandError> {
    let text = std::fs::read_to_string(path).map_err(|e| failed("read", path, &e))?;
    if !text.contains(from) {
        return Err(CommandError::failed(format!(
            "{} no longer says `{from}`: the demo's data is out of step",
            path.display()
        )));
    }
    std::fs::write(path, text.replacen(from, to, 1)).map_err(|e| failed("write", path, &e))
}

fn remove(path: &Path) -> Result<(), CommandError> {
    std::fs::remove_file(path).map_err(|e| failed("remove", path, &e))
}

/// Rewrites a deployment record as an older tool left it: a legacy hash of nothing on disk.
fn legacy_record(project: &Path, id: &ArtifactId) -> Result<(), CommandError> {
    let mut records =
        DeploymentFile::load(project).map_err(|e| CommandError::failed(e.to_string()))?;
    for r in &mut records.deployed {
        if r.artifact_type == id.kind && r.artifact_name == id.name {
            r.hash_algorithm = HashAlgorithm::Legacy;
            r.content_hash = Some("5f".repeat(32));
            r.parent_hash = None;
            r.merge_base_snapshot = None;
            r.version_lineage.clear();
        }
    }
    records
        .save(project)
        .map_err(|e| CommandError::failed(e.to_string()))
}

fn failed(what: &str, path: &Path, e: &std::io::Error) -> CommandError {
    CommandError::failed(format!("cannot {what} {}: {e}", path.display()))
}
