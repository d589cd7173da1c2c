//! Plans and their confirmation, shared by the commands that change tiers: `--yes`,
//! `--dry-run`, the question on a terminal, and the plan as printed.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use clap::{Args, ValueEnum};
use skillmeat_core::ops::sync::{Direction, Outcome, Strategy, SyncReport};

use crate::cli::output::{OutputArgs, print_table, short};
use crate::error::CommandError;

/// `--strategy`, as the CLI offers it (`prompt` asks per conflicted file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    Auto,
    Prompt,
    Ours,
    Theirs,
    Overwrite,
    Fork,
}

impl ApplyArgs {
    /// The strategy asked for, else the configured default.
    pub(crate) fn strategy(&self, home: &Path) -> Result<StrategyArg, CommandError> {
        if let Some(s) = self.strategy {
            return Ok(s);
        }
        let config = skillmeat_core::storage::config::Config::load(
            &skillmeat_core::storage::home::Home::new(home),
        )
        .map_err(|e| CommandError::failed(e.to_string()))?;
        Ok(
            match config
                .sync
                .default_strategy
                .parse::<Strategy>()
                .unwrap_or_default()
            {
                Strategy::Auto => StrategyArg::Auto,
                Strategy::Ours => StrategyArg::Ours,
                Strategy::Theirs => StrategyArg::Theirs,
                Strategy::Overwrite => StrategyArg::Overwrite,
                Strategy::Fork => StrategyArg::Fork,
            },
        )
    }
}

impl StrategyArg {
    pub(crate) fn core(self) -> Strategy {
        match self {
            Self::Auto | Self::Prompt => Strategy::Auto,
            Self::Ours => Strategy::Ours,
            Self::Theirs => Strategy::Theirs,
            Self::Overwrite => Strategy::Overwrite,
            Self::Fork => Strategy::Fork,
        }
    }
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// How to settle differences: auto (fast-forward or three-way merge), prompt (auto, then
    /// ask per conflicted file), ours (keep the target), theirs / overwrite (take the source),
    /// fork (keep both: the target stays, the source's version becomes `<name>-fork`).
    /// Default: the `sync.default_strategy` setting (`auto` unless configured).
    #[arg(long, value_enum)]
    pub strategy: Option<StrategyArg>,
    /// Show the plan and stop; never writes.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply without asking.
    #[arg(long, short)]
    pub yes: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Asks a yes/no question on the terminal; false on anything but yes.
fn confirm(question: &str) -> bool {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim(), "y" | "Y" | "yes")
}

/// Whether a destructive step may go ahead: `--yes`, or a yes on a terminal to `question`.
/// Without either (a script that forgot `--yes`, or a no), nothing is done and the error says
/// how to go ahead.
pub(crate) fn confirmed(yes: bool, json: bool, question: &str) -> Result<(), CommandError> {
    if yes {
        return Ok(());
    }
    if std::io::stdin().is_terminal() && !json {
        if confirm(question) {
            return Ok(());
        }
        return Err(CommandError::failed("not confirmed: nothing was changed"));
    }
    Err(CommandError::usage(
        "this cannot be undone by SkillMeat alone and no terminal is here to ask: pass --yes",
    ))
}

/// For a change SkillMeat can undo (what it replaces is recorded first): asks on a terminal
/// unless `--yes`; scripts (no terminal, or `--json`) go ahead as before.
pub(crate) fn confirm_on_terminal(
    yes: bool,
    json: bool,
    question: &str,
) -> Result<(), CommandError> {
    if yes || json || !std::io::stdin().is_terminal() || confirm(question) {
        return Ok(());
    }
    Err(CommandError::failed("not confirmed: nothing was changed"))
}

/// Whether to apply after showing a plan: `--yes`, or a yes on a terminal.
pub(crate) fn should_apply(args: &ApplyArgs) -> bool {
    if args.dry_run {
        return false;
    }
    if args.yes {
        return true;
    }
    if std::io::stdin().is_terminal() && !args.output.json {
        return confirm("Apply this plan?");
    }
    false
}

pub(crate) fn print_report(r: &SyncReport) {
    println!(
        "{} {}: {}  (base {}, source {}, target {})",
        r.id,
        r.direction,
        r.outcome.as_str(),
        short(r.base),
        short(Some(r.source)),
        short(r.target)
    );
    let rows: Vec<Vec<String>> = r
        .files
        .iter()
        .filter(|f| {
            f.action != skillmeat_core::engine::merge::FileAction::Unchanged || r.files.len() <= 20
        })
        .map(|f| {
            vec![
                format!("  {}", f.action.as_str()),
                match &f.renamed_from {
                    Some(from) => format!("{} (from {from})", f.path),
                    None => f.path.clone(),
                },
            ]
        })
        .collect();
    if !rows.is_empty() {
        print_table(&["  FILE ACTION", "PATH"], &rows);
    }
    if r.bump.bump != skillmeat_core::engine::bump::Bump::None {
        println!(
            "  Suggested version bump: {}",
            skillmeat_core::model::display::escaped(&r.bump.summary())
        );
    }
    if let Some(fork) = &r.fork {
        let place = if r.direction == Direction::CollectionToProject {
            "in the collection and deployed beside the original"
        } else {
            "in the collection"
        };
        if r.applied {
            println!(
                "  Kept both: the target keeps its version; the source's is now {fork}, {place}."
            );
        } else {
            println!(
                "  Keeps both: the target keeps its version; the source's becomes {fork}, {place}."
            );
        }
    }
    print_pending(r);
    if r.outcome == Outcome::Diverged {
        println!(
            "  No common base is known: nothing is merged. Choose a side with --strategy ours or --strategy theirs, or keep both with --strategy fork."
        );
    }
}

pub(crate) fn print_pending(r: &SyncReport) {
    if let Some(p) = &r.pending {
        println!("Conflicts kept aside in {}", p.display());
        println!(
            "  Resolve each file: skillmeat resolve {} --file PATH --ours|--theirs|--custom FILE",
            r.id
        );
        println!(
            "  Then apply:        skillmeat resolve {} --continue   (or --abort)",
            r.id
        );
        println!("  Or keep both:      skillmeat resolve {} --fork", r.id);
    }
}
