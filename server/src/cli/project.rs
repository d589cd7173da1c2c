//! `skillmeat project`: settings of one project.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use skillmeat_core::model::display::escaped;
use skillmeat_core::ops;

use crate::cli::common::{context, ops_error};
use crate::cli::output::OutputArgs;
use crate::error::CommandError;

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
    /// The project's folder (the one holding `.claude/`).
    #[arg(value_name = "DIR")]
    pub project: PathBuf,
    /// Refuse writes through links out of it again (the default for every project).
    #[arg(long)]
    pub off: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn project(home: &Path, cmd: ProjectCommand) -> Result<ExitCode, CommandError> {
    let ProjectCommand::AllowLinks(args) = cmd;
    let ctx = context(home)?;
    let done = ops::set_project_links(&ctx, &args.project, !args.off)
        .await
        .map_err(ops_error)?;
    args.output.emit(&done, |_| {
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
    })?;
    Ok(ExitCode::SUCCESS)
}
