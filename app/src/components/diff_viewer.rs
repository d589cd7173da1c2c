//! The diff viewer: unified `@@` text parsed into hunks with line numbers, shown unified or
//! side by side, with the unchanged lines between hunks marked as collapsed.

use leptos::prelude::*;

use crate::components::changelog::bump_badge;

use crate::dto::{DiffView, FileDiffView};
use crate::format::human_size;

/// What a diff line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Context,
    Added,
    Removed,
    /// `\ No newline at end of file`.
    Note,
}

impl LineKind {
    fn class(self) -> &'static str {
        match self {
            Self::Context => "ctx",
            Self::Added => "add",
            Self::Removed => "del",
            Self::Note => "note",
        }
    }

    fn sign(self) -> &'static str {
        match self {
            Self::Context | Self::Note => " ",
            Self::Added => "+",
            Self::Removed => "-",
        }
    }
}

/// One line of a hunk, with its numbers in the old and new file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub kind: LineKind,
    pub old: Option<u32>,
    pub new: Option<u32>,
    pub text: String,
}

/// A hunk: where it starts in each file, and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    pub header: String,
    pub old_start: u32,
    pub new_start: u32,
    pub lines: Vec<DiffLine>,
}

impl Hunk {
    /// The first new-file line after this hunk.
    fn new_end(&self) -> u32 {
        self.lines
            .iter()
            .filter_map(|l| l.new)
            .next_back()
            .map_or(self.new_start, |n| n + 1)
    }
}

/// `-a,b +c,d` → (a, c).
fn starts(header: &str) -> Option<(u32, u32)> {
    let inner = header.strip_prefix("@@ -")?;
    let (old, rest) = inner.split_once(" +")?;
    let new = rest.split_once(" @@").map_or(rest, |(n, _)| n);
    let first = |s: &str| s.split(',').next()?.parse::<u32>().ok();
    Some((first(old)?, first(new)?))
}

/// Parses unified diff text (hunks only, as the API returns it). Lines before the first hunk
/// header and malformed headers are skipped rather than guessed at.
pub fn parse_unified(text: &str) -> Vec<Hunk> {
    let mut hunks: Vec<Hunk> = Vec::new();
    let (mut old, mut new) = (0u32, 0u32);
    for raw in text.lines() {
        if raw.starts_with("@@") {
            if let Some((o, n)) = starts(raw) {
                (old, new) = (o, n);
                hunks.push(Hunk {
                    header: raw.to_owned(),
                    old_start: o,
                    new_start: n,
                    lines: Vec::new(),
                });
            }
            continue;
        }
        let Some(hunk) = hunks.last_mut() else {
            continue;
        };
        let (kind, rest) = match raw.chars().next() {
            Some('+') => (LineKind::Added, &raw[1..]),
            Some('-') => (LineKind::Removed, &raw[1..]),
            Some('\\') => (LineKind::Note, raw),
            Some(' ') => (LineKind::Context, &raw[1..]),
            _ => (LineKind::Context, raw),
        };
        let (o, n) = match kind {
            LineKind::Added => {
                new += 1;
                (None, Some(new - 1))
            }
            LineKind::Removed => {
                old += 1;
                (Some(old - 1), None)
            }
            LineKind::Context => {
                old += 1;
                new += 1;
                (Some(old - 1), Some(new - 1))
            }
            LineKind::Note => (None, None),
        };
        hunk.lines.push(DiffLine {
            kind,
            old: o,
            new: n,
            text: rest.to_owned(),
        });
    }
    hunks
}

/// One row of the side-by-side view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitRow {
    pub left: Option<DiffLine>,
    pub right: Option<DiffLine>,
}

/// Pairs a hunk's lines for the side-by-side view: context on both sides, a run of removals
/// beside the run of additions that follows it.
pub fn split_rows(hunk: &Hunk) -> Vec<SplitRow> {
    let mut rows = Vec::new();
    let mut removed: Vec<DiffLine> = Vec::new();
    let mut added: Vec<DiffLine> = Vec::new();
    let flush =
        |rows: &mut Vec<SplitRow>, removed: &mut Vec<DiffLine>, added: &mut Vec<DiffLine>| {
            let n = removed.len().max(added.len());
            let mut r = removed.drain(..);
            let mut a = added.drain(..);
            for _ in 0..n {
                rows.push(SplitRow {
                    left: r.next(),
                    right: a.next(),
                });
            }
        };
    for line in &hunk.lines {
        match line.kind {
            LineKind::Removed => {
                if !added.is_empty() {
                    flush(&mut rows, &mut removed, &mut added);
                }
                removed.push(line.clone());
            }
            LineKind::Added => added.push(line.clone()),
            LineKind::Context | LineKind::Note => {
                flush(&mut rows, &mut removed, &mut added);
                rows.push(SplitRow {
                    left: Some(line.clone()),
                    right: Some(line.clone()),
                });
            }
        }
    }
    flush(&mut rows, &mut removed, &mut added);
    rows
}

fn number(n: Option<u32>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// The unchanged lines hidden before a hunk (new-file numbering), if any.
fn gap_before(hunks: &[Hunk], i: usize) -> Option<(u32, u32)> {
    let from = if i == 0 { 1 } else { hunks[i - 1].new_end() };
    let to = hunks[i].new_start;
    (to > from).then(|| (from, to - 1))
}

/// Where a file's hidden lines can be read: the diff's right-hand side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineSource {
    pub id: String,
    pub side: String,
    pub path: String,
    pub project: Option<String>,
}

/// The unchanged lines `from..=to` (right-hand numbering) hidden before hunk `i`, collapsed;
/// "Show" reads them from the server and puts them in place (`offset` turns a right-hand line
/// number into the left-hand one).
#[component]
fn GapRow(
    from: u32,
    to: u32,
    offset: i64,
    split: bool,
    source: Option<LineSource>,
) -> impl IntoView {
    let n = to - from + 1;
    let label = if n == 1 {
        format!("⋯ line {from} unchanged")
    } else {
        format!("⋯ {n} unchanged lines ({from}–{to})")
    };
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let ready = move || hydrated.is_some_and(|h| h.get());
    let shown: RwSignal<Option<Result<Vec<String>, String>>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let show = {
        let source = source.clone();
        move |_| {
            let Some(src) = source.clone() else { return };
            busy.set(true);
            leptos::task::spawn_local(async move {
                let r =
                    crate::api::get_file_lines(src.id, src.side, src.path, src.project, from, to)
                        .await
                        .map_err(|e| e.to_string());
                shown.set(Some(r));
                busy.set(false);
            });
        }
    };
    let old_number = move |new: u32| (i64::from(new) + offset).to_string();
    move || match shown.get() {
        Some(Ok(lines)) => lines
            .into_iter()
            .zip(from..)
            .map(|(text, new)| {
                if split {
                    view! {
                        <tr class="expanded">
                            <td class="ln ctx half">{old_number(new)}</td>
                            <td class="code ctx half">{text.clone()}</td>
                            <td class="ln ctx half">{new.to_string()}</td>
                            <td class="code ctx half">{text}</td>
                        </tr>
                    }
                    .into_any()
                } else {
                    view! {
                        <tr class="ctx expanded">
                            <td class="ln">{old_number(new)}</td>
                            <td class="ln">{new.to_string()}</td>
                            <td class="sign">" "</td>
                            <td class="code">{text}</td>
                        </tr>
                    }
                    .into_any()
                }
            })
            .collect_view()
            .into_any(),
        other => {
            let error = other.and_then(Result::err);
            let show = show.clone();
            view! {
                <tr class="gap">
                    <td colspan="4">
                        {label.clone()}
                        {source.is_some().then(|| view! {
                            " " <button type="button" class="link-button expand" disabled=move || !ready() || busy.get()
                                on:click=show.clone()>"Show"</button>
                        })}
                        {error.map(|e| view! { " " <span class="error">{e}</span> })}
                    </td>
                </tr>
            }
            .into_any()
        }
    }
}

fn gap_row(
    hunks: &[Hunk],
    i: usize,
    split: bool,
    source: &Option<LineSource>,
) -> Option<impl IntoView + use<>> {
    let (from, to) = gap_before(hunks, i)?;
    let offset = i64::from(hunks[i].old_start) - i64::from(hunks[i].new_start);
    let source = source.clone();
    Some(view! { <GapRow from=from to=to offset=offset split=split source=source /> })
}

fn unified_table(hunks: Vec<Hunk>, source: Option<LineSource>) -> impl IntoView {
    let rows = (0..hunks.len())
        .map(|i| {
            let gap = gap_row(&hunks, i, false, &source);
            let lines = hunks[i]
                .lines
                .iter()
                .map(|l| {
                    view! {
                        <tr class=l.kind.class()>
                            <td class="ln">{number(l.old)}</td>
                            <td class="ln">{number(l.new)}</td>
                            <td class="sign">{l.kind.sign()}</td>
                            <td class="code">{l.text.clone()}</td>
                        </tr>
                    }
                })
                .collect_view();
            let header = hunks[i].header.clone();
            view! {
                {gap}
                <tr class="hunk"><td colspan="4">{header}</td></tr>
                {lines}
            }
        })
        .collect_view();
    view! { <table class="diff unified"><tbody>{rows}</tbody></table> }
}

fn split_cell(line: Option<DiffLine>, old: bool) -> impl IntoView {
    match line {
        Some(l) => {
            let class = format!("{} half", l.kind.class());
            let n = if old { l.old } else { l.new };
            view! {
                <td class=format!("ln {class}")>{number(n)}</td>
                <td class=format!("code {class}")>{l.text}</td>
            }
            .into_any()
        }
        None => view! { <td class="ln empty"></td><td class="code empty"></td> }.into_any(),
    }
}

fn split_table(
    hunks: Vec<Hunk>,
    lhs: &str,
    rhs: &str,
    source: Option<LineSource>,
) -> impl IntoView {
    let rows = (0..hunks.len())
        .map(|i| {
            let gap = gap_row(&hunks, i, true, &source);
            let header = hunks[i].header.clone();
            let rows = split_rows(&hunks[i])
                .into_iter()
                .map(|r| view! { <tr>{split_cell(r.left, true)}{split_cell(r.right, false)}</tr> })
                .collect_view();
            view! {
                {gap}
                <tr class="hunk"><td colspan="4">{header}</td></tr>
                {rows}
            }
        })
        .collect_view();
    view! {
        <table class="diff split">
            <thead><tr><th colspan="2">{lhs.to_owned()}</th><th colspan="2">{rhs.to_owned()}</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// An id usable as an HTML anchor for a file of the diff.
pub fn file_anchor(path: &str) -> String {
    let mut out = String::from("file-");
    for c in path.chars() {
        out.push(if c.is_ascii_alphanumeric() { c } else { '-' });
    }
    out
}

fn file_body(
    f: FileDiffView,
    split: bool,
    lhs: &str,
    rhs: &str,
    source: Option<LineSource>,
) -> impl IntoView {
    match f.unified {
        Some(text) if !text.is_empty() => {
            let hunks = parse_unified(&text);
            if split {
                split_table(hunks, lhs, rhs, source).into_any()
            } else {
                unified_table(hunks, source).into_any()
            }
        }
        Some(_) => {
            view! { <p class="muted file-note">"Only the file mode changed."</p> }.into_any()
        }
        None => {
            let why = if f.binary {
                "Binary file: not shown inline.".to_owned()
            } else if f.too_large {
                format!(
                    "Too large to show inline ({} → {}).",
                    human_size(f.old_size),
                    human_size(f.new_size)
                )
            } else {
                "Not shown: the diff reached its size limit before this file.".to_owned()
            };
            let lhs = f
                .lhs_url
                .map(|u| view! { <a href=u download>"Download the old file"</a> });
            let rhs = f
                .rhs_url
                .map(|u| view! { <a href=u download>"Download the new file"</a> });
            view! {
                <div class="notice truncated">
                    <span>{why}</span>
                    " " {lhs} " " {rhs}
                </div>
            }
            .into_any()
        }
    }
}

/// A whole diff: the file list with stats, then each file.
#[component]
pub fn DiffViewer(
    diff: DiffView,
    split: bool,
    /// The project a `project` side means, to read hidden lines from.
    project: Option<String>,
) -> impl IntoView {
    if diff.files.is_empty() {
        return view! {
            <div class="empty-state diff-empty">
                <h2>"No differences"</h2>
                <p>{format!("{} and {} hold the same files.", diff.lhs, diff.rhs)}</p>
            </div>
        }
        .into_any();
    }
    let list = diff
        .files
        .iter()
        .map(|f| {
            let href = format!("#{}", file_anchor(&f.path));
            view! {
                <li>
                    <a href=href><code>{f.path.clone()}</code></a>
                    " "
                    <span class=format!("badge file-{}", f.status)>{f.status.clone()}</span>
                    <span class="stat add">{format!("+{}", f.added)}</span>
                    <span class="stat del">{format!("−{}", f.removed)}</span>
                </li>
            }
        })
        .collect_view();
    let truncated = diff.truncated.then(|| {
        view! {
            <div class="notice truncated" role="status">
                "This diff is large: later files are offered as downloads instead of inline text."
            </div>
        }
    });
    let count = diff.files.len();
    let (lhs, rhs) = (diff.lhs.clone(), diff.rhs.clone());
    let legend = format!("− only in {lhs} · + only in {rhs}");
    let files = diff
        .files
        .into_iter()
        .map(|f| {
            let anchor = file_anchor(&f.path);
            let head = view! {
                <header class="file-head">
                    <code>{f.path.clone()}</code>
                    <span class="stat add">{format!("+{}", f.added)}</span>
                    <span class="stat del">{format!("−{}", f.removed)}</span>
                </header>
            };
            let source = LineSource {
                id: diff.id.clone(),
                side: rhs.clone(),
                path: f.path.clone(),
                project: project.clone(),
            };
            view! { <section class="file" id=anchor>{head}{file_body(f, split, &lhs, &rhs, Some(source))}</section> }
        })
        .collect_view();
    view! {
        <div class="diff-viewer">
            <p class="diff-summary">
                {format!(
                    "{} file{} changed, +{} −{}",
                    count,
                    if count == 1 { "" } else { "s" },
                    diff.added,
                    diff.removed
                )}
            </p>
            <p class="diff-bump">"Suggested version bump " {bump_badge(&diff.bump)} " "
                <span class="muted">{diff.bump.summary.clone()}</span></p>
            <p class="diff-legend muted">{legend}</p>
            <ul class="file-list">{list}</ul>
            {truncated}
            {files}
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "@@ -2,4 +2,5 @@\n b\n-c\n+C\n+C2\n d\n@@ -10,2 +11,2 @@\n j\n-k\n+K\n\\ No newline at end of file\n";

    #[test]
    fn hunks_carry_line_numbers_on_both_sides() {
        let hunks = parse_unified(TEXT);
        assert_eq!(hunks.len(), 2);
        let first: Vec<(Option<u32>, Option<u32>, LineKind)> = hunks[0]
            .lines
            .iter()
            .map(|l| (l.old, l.new, l.kind))
            .collect();
        assert_eq!(
            first,
            [
                (Some(2), Some(2), LineKind::Context),
                (Some(3), None, LineKind::Removed),
                (None, Some(3), LineKind::Added),
                (None, Some(4), LineKind::Added),
                (Some(4), Some(5), LineKind::Context),
            ]
        );
        assert_eq!(hunks[1].lines[2].new, Some(12));
        assert_eq!(hunks[1].lines[3].kind, LineKind::Note);
    }

    #[test]
    fn gaps_are_the_unchanged_lines_between_hunks() {
        let hunks = parse_unified(TEXT);
        assert_eq!(gap_before(&hunks, 0), Some((1, 1)));
        assert_eq!(gap_before(&hunks, 1), Some((6, 10)));
        let adjacent = parse_unified("@@ -1,1 +1,1 @@\n-a\n+b\n@@ -2,1 +2,1 @@\n-c\n+d\n");
        assert_eq!(gap_before(&adjacent, 1), None);
    }

    #[test]
    fn side_by_side_pairs_removals_with_the_additions_after_them() {
        let hunks = parse_unified(TEXT);
        let rows = split_rows(&hunks[0]);
        let shape: Vec<(Option<&str>, Option<&str>)> = rows
            .iter()
            .map(|r| {
                (
                    r.left.as_ref().map(|l| l.text.as_str()),
                    r.right.as_ref().map(|l| l.text.as_str()),
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                (Some("b"), Some("b")),
                (Some("c"), Some("C")),
                (None, Some("C2")),
                (Some("d"), Some("d")),
            ]
        );
    }

    #[test]
    fn text_before_a_header_and_bad_headers_are_skipped() {
        assert!(parse_unified("--- a\n+++ b\n@@ bogus @@\n+x\n").is_empty());
    }
}
