//! `skillmeat marketplace`: Claude Code plugin marketplaces, read without adding anything.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::ops::marketplace;

use crate::cli::common::{context, ops_error};
use crate::cli::output::{OutputArgs, print_table};
use crate::error::CommandError;

#[derive(Debug, clap::Subcommand)]
pub enum MarketplaceCommand {
    /// Show a marketplace's plugins: description, version, source, and how many skills,
    /// commands and agents each holds. Nothing is added.
    ///
    /// SPEC is where the marketplace is: GitHub `owner/repo`, a git URL, or a local repository
    /// (starting with / or ./), with `#path` when .claude-plugin/marketplace.json is not at its
    /// root and `@ref` to read a tag, branch or commit. A plugin whose source SkillMeat cannot
    /// read (npm, pip, …) is listed with why; the others are read as usual.
    ///
    /// Examples:
    ///   skillmeat marketplace list anthropics/claude-plugins-official
    ///   skillmeat marketplace list ./team-marketplace --json
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Where the marketplace is.
    pub spec: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn marketplace_command(home: &Path, cmd: MarketplaceCommand) -> Result<ExitCode, CommandError> {
    match cmd {
        MarketplaceCommand::List(args) => list(home, &args),
    }
}

fn list(home: &Path, args: &ListArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let view = marketplace::read(&ctx, &args.spec).map_err(ops_error)?;
    args.output.emit(&view, |v| {
        println!(
            "{} ({}){}",
            v.name,
            v.spec,
            v.description
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        );
        let count = |p: &marketplace::PluginView, kind: &str| {
            p.artifacts
                .iter()
                .filter(|a| a.id.kind.as_str() == kind)
                .count()
                .to_string()
        };
        let rows: Vec<Vec<String>> = v
            .plugins
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    p.version.clone().unwrap_or_else(|| "-".to_owned()),
                    p.source.clone(),
                    count(p, "skill"),
                    count(p, "command"),
                    count(p, "agent"),
                    (p.artifacts.len()
                        - ["skill", "command", "agent"]
                            .iter()
                            .map(|k| {
                                p.artifacts
                                    .iter()
                                    .filter(|a| a.id.kind.as_str() == *k)
                                    .count()
                            })
                            .sum::<usize>())
                    .to_string(),
                    match &p.problem {
                        Some(problem) => format!("cannot be added: {problem}"),
                        None => p.description.clone().unwrap_or_default(),
                    },
                ]
            })
            .collect();
        print_table(
            &[
                "PLUGIN",
                "VERSION",
                "SOURCE",
                "SKILLS",
                "COMMANDS",
                "AGENTS",
                "OTHER",
                "DESCRIPTION",
            ],
            &rows,
        );
        println!(
            "Add one with: skillmeat add {} --plugin NAME (or --all)",
            v.spec
        );
    })?;
    Ok(ExitCode::SUCCESS)
}
