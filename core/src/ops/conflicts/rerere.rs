//! One resolution, many projects (git calls it rerere, "reuse recorded resolution").
//!
//! When a conflicted file is settled, what each of its conflicts became is recorded under
//! `$SKILLMEAT_HOME/rerere/`, keyed by the SHA-256 of that conflict's exact ours, base and theirs
//! text. Another pending merge whose conflicts are byte-identical can then take the same
//! resolution in one step (`resolve ID --reuse`); a conflict that differs by one byte has
//! another key and is never touched ([`crate::ops::conflicts::reuse_recorded`]). A resolution is recorded only when the settled file still
//! holds every clean stretch of the merge unchanged and each conflict became one of its sides
//! (ours, theirs, or both), so what is reused is exactly a choice the user made, never a guess
//! at where a hand edit begins.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::merge::Hunk;
use crate::model::artifact::ArtifactId;
use crate::model::time::rfc3339;
use crate::ops::context::Context;

/// A recorded resolution of one conflict.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recorded {
    /// What the conflict's lines became.
    pub text: String,
    /// Where it was decided: the artifact and the project (none for the collection).
    pub artifact: String,
    pub project: Option<PathBuf>,
    /// When (RFC 3339).
    pub at: String,
}

fn dir(ctx: &Context) -> PathBuf {
    ctx.home.root().join("rerere")
}

/// The key of one conflict: its three texts, length-prefixed so no two splits collide.
pub fn key(ours: &str, base: Option<&str>, theirs: &str) -> String {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    for part in [Some(ours), base, Some(theirs)] {
        match part {
            Some(p) => {
                h.update([1]);
                h.update((p.len() as u64).to_le_bytes());
                h.update(p.as_bytes());
            }
            None => h.update([0]),
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// What each conflict of `hunks` became in `settled`, when `settled` is the clean stretches
/// unchanged with each conflict replaced by ours, theirs or both; `None` otherwise.
pub fn pieces(hunks: &[Hunk], settled: &str) -> Option<Vec<String>> {
    let mut rest = settled;
    let mut out = Vec::new();
    for (i, h) in hunks.iter().enumerate() {
        match h {
            Hunk::Clean { text } => rest = rest.strip_prefix(text.as_str())?,
            Hunk::Conflict { ours, theirs, .. } => {
                let next = match hunks.get(i + 1) {
                    Some(Hunk::Clean { text }) => Some(text.as_str()),
                    Some(Hunk::Conflict { .. }) => return None,
                    None => None,
                };
                let piece = [ours.clone(), theirs.clone(), format!("{ours}{theirs}")]
                    .into_iter()
                    .find(|p| {
                        rest.strip_prefix(p.as_str()).is_some_and(|r| match next {
                            Some(c) => r.starts_with(c),
                            None => r.is_empty(),
                        })
                    })?;
                rest = &rest[piece.len()..];
                out.push(piece);
            }
        }
    }
    rest.is_empty().then_some(out)
}

/// Records how the conflicts of `hunks` were settled in `settled` (see [`pieces`]); returns
/// how many were recorded. Best effort: the resolution itself never fails for this.
pub fn record(
    ctx: &Context,
    id: &ArtifactId,
    project: Option<&Path>,
    hunks: &[Hunk],
    settled: &str,
) -> usize {
    let Some(pieces) = pieces(hunks, settled) else {
        return 0;
    };
    let conflicts = hunks.iter().filter_map(|h| match h {
        Hunk::Conflict { ours, base, theirs } => Some(key(ours, base.as_deref(), theirs)),
        Hunk::Clean { .. } => None,
    });
    let dir = dir(ctx);
    if fs::create_dir_all(&dir).is_err() {
        return 0;
    }
    let mut n = 0;
    for (key, text) in conflicts.zip(pieces) {
        let recorded = Recorded {
            text,
            artifact: id.to_string(),
            project: project.map(Path::to_owned),
            at: rfc3339(ctx.now),
        };
        let Ok(json) = serde_json::to_vec_pretty(&recorded) else {
            continue;
        };
        if crate::storage::atomic::write_atomic(&dir.join(format!("{key}.json")), &json).is_ok() {
            n += 1;
        }
    }
    n
}

/// The recorded resolution of a conflict, if there is one (an unreadable one is none).
pub fn lookup(ctx: &Context, ours: &str, base: Option<&str>, theirs: &str) -> Option<Recorded> {
    let bytes = fs::read(dir(ctx).join(format!("{}.json", key(ours, base, theirs)))).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The text of a file whose every conflict has a recorded resolution, with where the first
/// was decided; `None` if any conflict has none.
pub fn reusable(ctx: &Context, hunks: &[Hunk]) -> Option<(String, Recorded)> {
    let mut text = String::new();
    let mut first: Option<Recorded> = None;
    for h in hunks {
        match h {
            Hunk::Clean { text: t } => text.push_str(t),
            Hunk::Conflict { ours, base, theirs } => {
                let found = lookup(ctx, ours, base.as_deref(), theirs)?;
                text.push_str(&found.text);
                first.get_or_insert(found);
            }
        }
    }
    first.map(|f| (text, f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conflict(ours: &str, theirs: &str) -> Hunk {
        Hunk::Conflict {
            ours: ours.into(),
            base: Some("b\n".into()),
            theirs: theirs.into(),
        }
    }

    #[test]
    fn pieces_are_the_sides_chosen_and_nothing_else() {
        let hunks = vec![
            Hunk::Clean { text: "a\n".into() },
            conflict("o\n", "t\n"),
            Hunk::Clean { text: "z\n".into() },
            conflict("p\n", "q\n"),
        ];
        assert_eq!(
            pieces(&hunks, "a\nt\nz\np\nq\n"),
            Some(vec!["t\n".to_owned(), "p\nq\n".to_owned()])
        );
        // A hand edit, or a clean stretch changed: not recorded.
        assert_eq!(pieces(&hunks, "a\nmine\nz\np\n"), None);
        assert_eq!(pieces(&hunks, "a\nt\nZ\np\n"), None);
        // Keys tell the base apart, and the split between the sides.
        assert_ne!(key("o\n", Some("b\n"), "t\n"), key("o\n", None, "t\n"));
        assert_ne!(key("ab", None, "c"), key("a", None, "bc"));
    }
}
