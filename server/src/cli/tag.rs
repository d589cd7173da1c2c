//! `skillmeat tag`: names for versions — semver tags with a breaking-change marker, and the next
//! one proposed from what changed since the last.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::display::escaped;
use skillmeat_core::ops::{self, NextTag};
use skillmeat_core::storage::versions::Version;

use crate::cli::common::{CollectionArg, context, ops_error};
use crate::cli::output::OutputArgs;
use crate::error::CommandError;

#[derive(Debug, Args)]
pub struct TagArgs {
    /// Artifact id, `<type>:<name>` (e.g. skill:pdf).
    pub id: ArtifactId,
    /// The tag: letters, digits, `.`, `_` and `-`, at most 64 characters; a semver like v1.3.0
    /// is what `--next` and the changelog read.
    #[arg(required_unless_present = "next")]
    pub tag: Option<String>,
    /// The version to tag: a hash prefix (4+ characters) or another tag. Default: the version
    /// the collection holds now.
    #[arg(value_name = "VERSION")]
    pub at: Option<String>,
    /// Mark the tagged version as a breaking change (shown in history, the changelog and the UI).
    #[arg(long)]
    pub major: bool,
    /// Propose the next semver tag for the collection's version: the last semver tag bumped by
    /// what changed since (major: files removed, `name` or required frontmatter changed;
    /// minor: files or frontmatter keys added; patch: content edits). Tags nothing unless
    /// --yes is given too.
    #[arg(long, conflicts_with_all = ["tag", "at"])]
    pub next: bool,
    /// With --next: apply the proposed tag (marked breaking when the change is major).
    #[arg(long, requires = "next")]
    pub yes: bool,
    /// Move the tag if it names another version.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub collection: CollectionArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What `tag --next` prints: the proposal and, with --yes, the version it tagged.
#[derive(Serialize)]
struct Proposal<'a> {
    #[serde(flatten)]
    next: &'a NextTag,
    tagged: Option<&'a Version>,
}

pub async fn tag(home: &Path, args: TagArgs) -> Result<ExitCode, CommandError> {
    let ctx = context(home)?;
    let collection = args.collection.collection.as_str();
    if args.next {
        let next = ops::next_tag(&ctx, &args.id, collection, None)
            .await
            .map_err(ops_error)?;
        let tagged = if args.yes {
            Some(
                ops::tag(
                    &ctx,
                    &args.id,
                    collection,
                    &next.proposed,
                    // The collection's version, recorded now if it never was (the proposal
                    // only read it).
                    None,
                    next.breaking || args.major,
                    args.force,
                )
                .await
                .map_err(ops_error)?,
            )
        } else {
            None
        };
        if let Some(t) = &tagged
            && t.content_hash != next.version
        {
            crate::cli::output::print_warnings(&[format!(
                "the collection changed while tagging: {} was tagged, the proposal was for {}",
                t.content_hash.short(),
                next.version.short()
            )]);
        }
        let out = Proposal {
            next: &next,
            tagged: tagged.as_ref(),
        };
        return args
            .output
            .emit(&out, |out| print_proposal(&args.id, out.next, out.tagged))
            .map(|()| ExitCode::SUCCESS);
    }
    let Some(name) = args.tag.as_deref() else {
        return Err(CommandError::usage(
            "give a tag, or --next to have one proposed",
        ));
    };
    let version = ops::tag(
        &ctx,
        &args.id,
        collection,
        name,
        args.at.as_deref(),
        args.major,
        args.force,
    )
    .await
    .map_err(ops_error)?;
    args.output.emit(&version, |_| {
        let breaking = if version.breaking {
            " (breaking change)"
        } else {
            ""
        };
        println!(
            "Tagged {} {} as {name}{breaking}",
            args.id,
            version.content_hash.short(),
        );
    })?;
    Ok(ExitCode::SUCCESS)
}

fn print_proposal(id: &ArtifactId, next: &NextTag, tagged: Option<&Version>) {
    match &next.last {
        Some((tag, hash)) => println!(
            "{id}: {} since {tag} ({}) → {}",
            next.bump.bump,
            hash.short(),
            next.proposed
        ),
        None => println!("{id}: no semver tag yet → {}", next.proposed),
    }
    for reason in &next.bump.reasons {
        println!("  {:<5}  {}", reason.bump.as_str(), escaped(&reason.text));
    }
    match tagged {
        Some(v) => println!(
            "Tagged {id} {} as {}{}",
            v.content_hash.short(),
            next.proposed,
            if v.breaking { " (breaking change)" } else { "" }
        ),
        None => println!(
            "Apply it: skillmeat tag {id} {}{}   (or tag --next --yes)",
            next.proposed,
            if next.breaking { " --major" } else { "" }
        ),
    }
}
