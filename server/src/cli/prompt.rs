//! `--strategy prompt`: after an automatic merge left conflicts, ask on the terminal for each
//! conflicted file whether to keep ours (the target's version), take theirs (the source's), or
//! edit the merged text in `$VISUAL` / `$EDITOR`; then apply the merge once every file is
//! decided. An edit that still holds conflict markers is refused and asked again; a skipped
//! file leaves the merge pending, to finish with `skillmeat resolve`.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::Command;

use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::display::escaped;
use skillmeat_core::ops::conflicts::{self, MergePart, Resolution};
use skillmeat_core::ops::sync::SyncReport;
use skillmeat_core::ops::{Context, OpsError};

use crate::cli::common::ops_error;
use crate::cli::output::print_warnings;
use crate::error::CommandError;

/// One answer to "what about this file?".
enum Choice {
    Ours,
    Theirs,
    Edit,
    Skip,
}

/// How one file ended up.
enum Decision {
    Take(Resolution),
    /// Settled with the user's edit (already written to the pending merge).
    Edited,
    Skipped,
}

fn ask(path: &str, action: &str, can_edit: bool) -> Choice {
    loop {
        let edit = if can_edit { ", [e]dit" } else { "" };
        eprint!(
            "{path}: {action} — keep [o]urs (target), take [t]heirs (source){edit}, or [s]kip? "
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        match std::io::stdin().lock().read_line(&mut answer) {
            // End of input: nothing more will be answered.
            Ok(0) | Err(_) => return Choice::Skip,
            Ok(_) => {}
        }
        match answer.trim() {
            "o" | "ours" => return Choice::Ours,
            "t" | "theirs" => return Choice::Theirs,
            "e" | "edit" if can_edit => return Choice::Edit,
            "s" | "skip" | "" => return Choice::Skip,
            other => eprintln!("'{}' is not one of the choices.", escaped(other)),
        }
    }
}

/// The editor the user asked for: `$VISUAL`, then `$EDITOR`, then `vi` (git's order).
fn editor() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".to_owned())
}

/// Opens `file` in the editor and waits for it. The editor setting is a shell command line
/// (`code --wait`, `emacs -nw`), run the way git runs it: `sh -c '<editor> "$@"' <file>`.
fn edit(file: &Path) -> Result<(), String> {
    let editor = editor();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg(&editor)
        .arg(file)
        .status()
        .map_err(|e| format!("could not start the editor '{editor}': {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the editor '{editor}' exited with {status}"))
    }
}

/// The merged text of `path` (with its conflict markers) in a temporary file named like it, so
/// the editor picks the right syntax; `None` for a file that has no text to edit (binary, or
/// deleted on one side).
fn merged_text(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: Option<&Path>,
    path: &str,
) -> Result<Option<tempfile::NamedTempFile>, CommandError> {
    let Some(merge) = conflicts::find(&ctx.home, id, collection, project).map_err(ops_error)?
    else {
        return Ok(None);
    };
    let files = merge.part(MergePart::Merged).map_err(ops_error)?;
    let Some(content) = files.files.get(path) else {
        return Ok(None);
    };
    if content.bytes.contains(&0) || std::str::from_utf8(&content.bytes).is_err() {
        return Ok(None);
    }
    let name = Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix("skillmeat-merge-")
        .suffix(&format!("-{name}"))
        .tempfile()
        .map_err(|e| CommandError::failed(format!("could not make a file to edit: {e}")))?;
    tmp.write_all(&content.bytes)
        .and_then(|()| tmp.flush())
        .map_err(|e| CommandError::failed(format!("could not make a file to edit: {e}")))?;
    Ok(Some(tmp))
}

/// Asks about each conflicted file of `report`'s pending merge, then applies it; false if it
/// was left pending (a file skipped, or the apply refused for markers left).
pub async fn resolve_interactively(
    ctx: &Context,
    id: &ArtifactId,
    collection: &str,
    project: Option<&Path>,
    report: &SyncReport,
) -> Result<bool, CommandError> {
    eprintln!(
        "{id} {}: the merge conflicts in {} file(s).",
        report.direction,
        report
            .files
            .iter()
            .filter(|f| f.action.is_conflict())
            .count()
    );
    let mut skipped = false;
    for file in report.files.iter().filter(|f| f.action.is_conflict()) {
        let mut draft = merged_text(ctx, id, collection, project, &file.path)?;
        let decision = loop {
            match ask(&file.path, file.action.as_str(), draft.is_some()) {
                Choice::Ours => break Decision::Take(Resolution::Ours),
                Choice::Theirs => break Decision::Take(Resolution::Theirs),
                Choice::Skip => break Decision::Skipped,
                Choice::Edit => {
                    let Some(tmp) = draft.as_mut() else { continue };
                    if let Err(e) = edit(tmp.path()) {
                        eprintln!("{e}; {} is still undecided.", file.path);
                        continue;
                    }
                    let bytes = std::fs::read(tmp.path()).map_err(|e| {
                        CommandError::failed(format!("could not read the edited file: {e}"))
                    })?;
                    // The same check `resolve --custom` makes: a refused edit stays in the
                    // draft, so the next edit starts from it.
                    match conflicts::resolve_file(
                        ctx,
                        id,
                        collection,
                        project,
                        &file.path,
                        Resolution::Custom(bytes),
                    )
                    .await
                    {
                        Ok(_) => break Decision::Edited,
                        Err(OpsError::MarkersLeft { .. }) => {
                            eprintln!(
                                "{} still holds conflict markers (<<<<<<<, =======, >>>>>>>): \
                                 refused. Edit again, or choose another answer.",
                                file.path
                            );
                            continue;
                        }
                        Err(e) => return Err(ops_error(e)),
                    }
                }
            }
        };
        match decision {
            Decision::Take(resolution) => {
                conflicts::resolve_file(ctx, id, collection, project, &file.path, resolution)
                    .await
                    .map_err(ops_error)?;
            }
            Decision::Edited => {}
            Decision::Skipped => skipped = true,
        }
    }
    if skipped {
        eprintln!(
            "Left pending: finish with `skillmeat resolve {id}{}` (--file PATH --ours|--theirs|--custom FILE, then --continue).",
            project.map_or_else(String::new, |p| format!(" --project {}", p.display()))
        );
        return Ok(false);
    }
    match conflicts::continue_merge(ctx, id, collection, project).await {
        Ok(done) => {
            print_warnings(&done.warnings);
            Ok(true)
        }
        Err(OpsError::MarkersLeft { files, .. }) => {
            eprintln!("Still undecided: {}", escaped(&files));
            Ok(false)
        }
        Err(e) => Err(ops_error(e)),
    }
}
