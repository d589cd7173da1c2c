//! `skillmeat drift`: what drifted between upstream, collection and projects.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::model::display::escaped;
use skillmeat_core::ops;

use crate::cli::common::{CollectionArg, EXIT_DRIFTED, EXIT_ERROR, context, ops_error};
use crate::cli::output::{OutputArgs, plural, print_table};
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Project folders to compare with the collection (repeatable). Default: every registered
    /// project (see `deploy`), plus the current folder if it has deployment records.
    #[arg(long = "project", value_name = "DIR")]
    pub projects: Vec<PathBuf>,
    /// Also (or, without --project, only) the user scope, ~/.claude.
    #[arg(long)]
    pub user: bool,
    /// Also check each upstream against the collection (fetches from the upstreams).
    #[arg(long)]
    pub check_all: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn drift(home: &Path, args: DriftArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let mut projects = args.projects;
    if args.user {
        projects.push(crate::cli::common::user_home()?);
    }
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
    args.output.emit(&report, |_| {
        if report.upstream_checks_off {
            eprintln!(
                "note: upstream checks are off (`upstream.checks = false`): no upstream was asked; upstream rows compare with the lock"
            );
        }
        if report.rows.is_empty() && report.problems.is_empty() {
            println!(
                "Nothing to compare: no deployed artifacts found (pass --project DIR, or --check-all for upstreams)."
            );
        } else {
            // The user scope (the home folder's .claude/) is listed as such.
            let user = crate::cli::common::user_home().ok();
            // Asked once per project, not once per row.
            let is_user = std::cell::RefCell::new(std::collections::HashMap::new());
            let shown = |p: &Option<PathBuf>| match p {
                Some(p)
                    if *is_user.borrow_mut().entry(p.clone()).or_insert_with(|| {
                        user.as_ref().is_some_and(|u| same_folder(u, p))
                    }) =>
                {
                    "user (~/.claude)".to_owned()
                }
                Some(p) => escaped(&p.display().to_string()).into_owned(),
                None => String::new(),
            };
            let mut table: Vec<Vec<String>> = report
                .rows
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.pair.to_owned(),
                        shown(&r.project),
                        match &r.stale {
                            Some(st) => format!(
                                "{} (as of {} ago)",
                                r.status,
                                skillmeat_app::format::age(st.age_seconds)
                            ),
                            None => r.status.to_string(),
                        },
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
            print_pending(&report.pending_merges);
            let stale: Vec<_> = report.rows.iter().filter(|r| r.stale.is_some()).collect();
            if !stale.is_empty() {
                eprintln!(
                    "\nnote: {} did not answer; {} the state last seen:",
                    plural(stale.len(), "upstream"),
                    if stale.len() == 1 { "its row shows" } else { "their rows show" }
                );
                for r in stale {
                    if let Some(st) = &r.stale {
                        eprintln!(
                            "  {}: as of {} ({} ago): {}",
                            r.id,
                            st.seen_at,
                            skillmeat_app::format::age(st.age_seconds),
                            st.reason
                        );
                    }
                }
            }
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
    })?;
    Ok(if !report.problems.is_empty() {
        ExitCode::from(EXIT_ERROR)
    } else if report.drifted() {
        ExitCode::from(EXIT_DRIFTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// The pending merges still open, oldest first, with how to finish each.
fn print_pending(merges: &[skillmeat_core::ops::conflicts::OpenMerge]) {
    if merges.is_empty() {
        return;
    }
    println!("\nPending merges ({}), oldest first:", merges.len());
    let rows: Vec<Vec<String>> = merges
        .iter()
        .map(|m| {
            let project = m
                .project
                .as_ref()
                .map(|p| escaped(&p.display().to_string()).into_owned());
            vec![
                m.id.to_string(),
                m.direction.to_owned(),
                project.clone().unwrap_or_default(),
                format!(
                    "{}{}",
                    skillmeat_app::format::age(m.age_seconds),
                    if m.stale { " (stale)" } else { "" }
                ),
                format!(
                    "skillmeat resolve {}{} --continue | --abort",
                    m.id,
                    project
                        .map(|p| format!(" --project {p}"))
                        .unwrap_or_default()
                ),
            ]
        })
        .collect();
    print_table(
        &["ARTIFACT", "DIRECTION", "PROJECT", "AGE", "FINISH WITH"],
        &rows,
    );
    let stale = merges.iter().filter(|m| m.stale).count();
    if stale > 0 {
        eprintln!(
            "note: {} older than `conflicts.stale_after` (abandoned?): resolve or abort {}",
            if stale == 1 {
                "1 pending merge is".to_owned()
            } else {
                format!("{stale} pending merges are")
            },
            if stale == 1 { "it" } else { "them" }
        );
    }
}

fn same_folder(a: &Path, b: &Path) -> bool {
    a == b
        || a.canonicalize()
            .ok()
            .zip(b.canonicalize().ok())
            .is_some_and(|(a, b)| a == b)
}
