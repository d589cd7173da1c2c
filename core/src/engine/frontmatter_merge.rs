//! A frontmatter-aware merge of Markdown artifacts (skills, commands, agents, output styles):
//! when the line merge of a file conflicts and all three versions have a YAML frontmatter block,
//! the block is merged key by key and the body line by line. An upstream `description` change
//! and a local `model:` change sit on neighbouring lines — a conflict for a line merge — but
//! touch different keys, so they merge.
//!
//! Only used where the line merge is not clean: a clean line merge is kept as it is, so this
//! never changes a result `git merge-file` would give (checked by a differential test).
//!
//! Per top-level key, with base, ours and theirs as raw text (the `key:` line and the lines that
//! continue it): equal sides, or one side unchanged, decide as in any three-way merge; a key
//! added on one side is added, removed on one side (unchanged on the other) removed. Both
//! changed: when the values are lists of scalars in block style (`- item` lines), they merge
//! by value (what either side removed is removed, what either added is added, in ours' order
//! then theirs'); otherwise it is a conflict, and the whole file falls back to the line merge.
//! The merged block must parse as YAML with the keys expected, or the fallback is taken too.

use crate::engine::frontmatter::split;

/// One top-level key's text in a frontmatter block.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Chunk {
    key: String,
    text: String,
}

/// A frontmatter block cut into its top-level keys, with what comes before the first key
/// (comments, blank lines).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    preamble: String,
    chunks: Vec<Chunk>,
}

fn cut(block: &str) -> Option<Block> {
    let mut preamble = String::new();
    let mut chunks: Vec<Chunk> = Vec::new();
    for line in block.split_inclusive('\n') {
        let first = line.chars().next().unwrap_or('\n');
        let starts_key =
            !matches!(first, ' ' | '\t' | '#' | '-' | '\r' | '\n') && line.contains(':');
        if starts_key {
            let key = line.split(':').next()?.trim().to_owned();
            // Quoted, complex or merge keys are left to the line merge.
            if key.is_empty() || key.starts_with(['"', '\'', '?', '<', '{', '[']) {
                return None;
            }
            if chunks.iter().any(|c| c.key == key) {
                return None;
            }
            chunks.push(Chunk {
                key,
                text: line.to_owned(),
            });
        } else if let Some(last) = chunks.last_mut() {
            last.text.push_str(line);
        } else if matches!(first, '#' | '\r' | '\n') {
            preamble.push_str(line);
        } else {
            // An indented or sequence line before any key: not a mapping we can cut.
            return None;
        }
    }
    Some(Block { preamble, chunks })
}

/// The items of a block-style list value (`key:` then `- item` lines only), if it is one.
fn list_items(chunk: &str) -> Option<(String, Vec<String>)> {
    let mut lines = chunk.split_inclusive('\n');
    let head = lines.next()?;
    if !head.trim_end().ends_with(':') {
        return None;
    }
    let mut items = Vec::new();
    for line in lines {
        let trimmed = line.trim_start();
        if trimmed.trim().is_empty() {
            continue;
        }
        let item = trimmed.strip_prefix("- ")?;
        // One scalar per line: nested structures are not merged by value.
        if item.trim_start().starts_with(['[', '{', '-', '|', '>']) || item.trim().ends_with(':') {
            return None;
        }
        items.push(line.to_owned());
    }
    Some((head.to_owned(), items))
}

/// Three-way merge of one key's text; `None` for a conflict.
fn merge_chunk(
    base: Option<&str>,
    ours: Option<&str>,
    theirs: Option<&str>,
) -> Option<Option<String>> {
    if ours == theirs {
        return Some(ours.map(str::to_owned));
    }
    if ours == base {
        return Some(theirs.map(str::to_owned));
    }
    if theirs == base {
        return Some(ours.map(str::to_owned));
    }
    let (o, t) = (ours?, theirs?);
    let (head, o_items) = list_items(o)?;
    let (_, t_items) = list_items(t)?;
    let b_items = match base {
        Some(b) => list_items(b)?.1,
        None => Vec::new(),
    };
    let value = |line: &String| line.trim().trim_start_matches("- ").trim().to_owned();
    let in_list = |list: &[String], line: &String| list.iter().any(|x| value(x) == value(line));
    let mut merged: Vec<String> = Vec::new();
    for item in &o_items {
        // Kept unless theirs removed it (it was in the base and is not in theirs).
        let removed_by_theirs = in_list(&b_items, item) && !in_list(&t_items, item);
        if !removed_by_theirs && !in_list(&merged, item) {
            merged.push(item.clone());
        }
    }
    for item in &t_items {
        let added_by_theirs = !in_list(&b_items, item);
        if added_by_theirs && !in_list(&merged, item) {
            merged.push(item.clone());
        }
    }
    let mut text = head;
    for item in merged {
        text.push_str(&item);
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    Some(Some(text))
}

/// Merges the frontmatter blocks; `None` when a key conflicts.
fn merge_blocks(base: &Block, ours: &Block, theirs: &Block) -> Option<String> {
    let preamble = if ours.preamble == theirs.preamble || theirs.preamble == base.preamble {
        &ours.preamble
    } else if ours.preamble == base.preamble {
        &theirs.preamble
    } else {
        return None;
    };
    let get = |b: &Block, key: &str| {
        b.chunks
            .iter()
            .find(|c| c.key == key)
            .map(|c| c.text.clone())
    };
    // Ours' order, then keys new in theirs in theirs' order, then base keys neither kept
    // (which merge to a removal, or to a conflict if one side changed them).
    let mut keys: Vec<String> = ours.chunks.iter().map(|c| c.key.clone()).collect();
    for c in theirs.chunks.iter().chain(base.chunks.iter()) {
        if !keys.contains(&c.key) {
            keys.push(c.key.clone());
        }
    }
    let mut out = preamble.clone();
    for key in keys {
        let (b, o, t) = (get(base, &key), get(ours, &key), get(theirs, &key));
        if let Some(text) = merge_chunk(b.as_deref(), o.as_deref(), t.as_deref())? {
            out.push_str(&text);
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    Some(out)
}

/// The frontmatter-aware merge of a Markdown file whose line merge conflicted: the merged
/// bytes and whether the body merged cleanly too, or `None` when the frontmatter cannot be
/// merged key by key (the caller keeps the line merge). `merge_body` is the line merge.
pub fn merge(
    base: &[u8],
    ours: &[u8],
    theirs: &[u8],
    merge_body: impl Fn(&[u8], &[u8], &[u8]) -> Option<(Vec<u8>, bool)>,
) -> Option<(Vec<u8>, bool)> {
    let (b, o, t) = (
        std::str::from_utf8(base).ok()?,
        std::str::from_utf8(ours).ok()?,
        std::str::from_utf8(theirs).ok()?,
    );
    let (bs, os, ts) = (split(b)?, split(o)?, split(t)?);
    let (bb, ob, tb) = (
        cut(&b[bs.block.clone()])?,
        cut(&o[os.block.clone()])?,
        cut(&t[ts.block.clone()])?,
    );
    let block = merge_blocks(&bb, &ob, &tb)?;
    // The merged block must still be YAML, with exactly the keys merged.
    let parsed =
        crate::engine::frontmatter::parse(format!("---\n{block}---\n").as_bytes()).ok()??;
    let expected = cut(&block)?;
    if parsed.len() != expected.chunks.len() {
        return None;
    }
    let (body, clean) = merge_body(&base[bs.body..], &ours[os.body..], &theirs[ts.body..])?;
    let mut out = Vec::with_capacity(ours.len() + theirs.len());
    // Ours' opening fence (a byte-order mark, the line ending) and closing fence as they were.
    out.extend_from_slice(&ours[..os.block.start]);
    out.extend_from_slice(block.as_bytes());
    out.extend_from_slice(&ours[os.block.end..os.body]);
    out.extend_from_slice(&body);
    Some((out, clean))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_merge(b: &[u8], o: &[u8], t: &[u8]) -> Option<(Vec<u8>, bool)> {
        let m = crate::engine::merge::merge_text(
            "x.md",
            b,
            o,
            t,
            crate::engine::merge::Labels::default(),
        )
        .ok()?;
        Some((m.bytes, m.clean))
    }

    fn fm(block: &str, body: &str) -> String {
        format!("---\n{block}---\n{body}")
    }

    #[test]
    fn neighbouring_keys_changed_on_each_side_merge() {
        let base = fm(
            "name: review\ndescription: Old.\nmodel: sonnet\n",
            "Body.\n",
        );
        let ours = fm("name: review\ndescription: Old.\nmodel: opus\n", "Body.\n");
        let theirs = fm(
            "name: review\ndescription: New and better.\nmodel: sonnet\n",
            "Body.\n",
        );
        let (line, clean) =
            line_merge(base.as_bytes(), ours.as_bytes(), theirs.as_bytes()).unwrap();
        assert!(
            !clean,
            "the line merge conflicts: {}",
            String::from_utf8_lossy(&line)
        );
        let (merged, clean) = merge(
            base.as_bytes(),
            ours.as_bytes(),
            theirs.as_bytes(),
            line_merge,
        )
        .unwrap();
        assert!(clean);
        assert_eq!(
            String::from_utf8(merged).unwrap(),
            fm(
                "name: review\ndescription: New and better.\nmodel: opus\n",
                "Body.\n"
            )
        );
    }

    #[test]
    fn lists_merge_by_value_and_real_clashes_fall_back() {
        let base = fm("allowed-tools:\n  - Read\n  - Grep\nname: a\n", "B\n");
        let ours = fm("allowed-tools:\n  - Read\n  - Bash\nname: a\n", "B\n");
        let theirs = fm(
            "allowed-tools:\n  - Read\n  - Grep\n  - Edit\nname: a\n",
            "B\n",
        );
        let (merged, clean) = merge(
            base.as_bytes(),
            ours.as_bytes(),
            theirs.as_bytes(),
            line_merge,
        )
        .unwrap();
        assert!(clean);
        assert_eq!(
            String::from_utf8(merged).unwrap(),
            fm(
                "allowed-tools:\n  - Read\n  - Bash\n  - Edit\nname: a\n",
                "B\n"
            )
        );
        // The same scalar changed two ways: not merged here.
        let clash = |v: &str| fm(&format!("name: a\ndescription: {v}\n"), "B\n");
        assert!(
            merge(
                clash("x").as_bytes(),
                clash("y").as_bytes(),
                clash("z").as_bytes(),
                line_merge
            )
            .is_none()
        );
        // A key removed on one side and changed on the other: not merged here.
        let gone = fm("name: a\n", "B\n");
        assert!(
            merge(
                clash("x").as_bytes(),
                gone.as_bytes(),
                clash("z").as_bytes(),
                line_merge
            )
            .is_none()
        );
        // No frontmatter on a side: not ours to merge.
        assert!(
            merge(
                clash("x").as_bytes(),
                b"B\n",
                clash("z").as_bytes(),
                line_merge
            )
            .is_none()
        );
    }

    #[test]
    fn the_body_still_merges_by_lines_and_keeps_its_markers() {
        let base = fm("name: a\nmodel: x\n", "one\ntwo\n");
        let ours = fm("name: a\nmodel: y\n", "one\nTWO\n");
        let theirs = fm("name: a\nmodel: x\ncolor: red\n", "one\n2\n");
        let (merged, clean) = merge(
            base.as_bytes(),
            ours.as_bytes(),
            theirs.as_bytes(),
            line_merge,
        )
        .unwrap();
        assert!(!clean);
        let text = String::from_utf8(merged).unwrap();
        assert!(
            text.starts_with("---\nname: a\nmodel: y\ncolor: red\n---\n"),
            "{text}"
        );
        assert!(
            text.contains("<<<<<<<") && text.contains("TWO") && text.contains("2\n"),
            "{text}"
        );
    }
}
