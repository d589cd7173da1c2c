//! The YAML frontmatter block of a Markdown artifact: where it is, and the one edit SkillMeat
//! makes to it (a fork's `name`).
//!
//! A block opens with `---` on the first line (after an optional byte-order mark) and closes at
//! the next line that is `---`; a file without both has no frontmatter.

use std::ops::Range;

use yaml_rust2::{Yaml, YamlLoader};

/// A frontmatter's top-level keys in order, with their values.
pub type Keys = Vec<(String, Yaml)>;

/// The frontmatter of a Markdown file: `Ok(None)` when it has none (or is not UTF-8), `Err`
/// with the YAML error when the block is there but is not a YAML mapping.
pub fn parse(bytes: &[u8]) -> Result<Option<Keys>, String> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(None);
    };
    let Some(at) = split(text) else {
        return Ok(None);
    };
    let docs = YamlLoader::load_from_str(&text[at.block]).map_err(|e| e.to_string())?;
    match docs.into_iter().next() {
        None | Some(Yaml::Null) => Ok(Some(Vec::new())),
        Some(Yaml::Hash(map)) => Ok(Some(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) => s,
                        other => format!("{other:?}"),
                    };
                    (key, v)
                })
                .collect(),
        )),
        Some(_) => Err("the frontmatter is not a mapping of keys to values".to_owned()),
    }
}

/// Where a Markdown file's frontmatter is, in bytes of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Split {
    /// The YAML between the fences.
    pub block: Range<usize>,
    /// Where the text after the closing fence (and its line ending) starts.
    pub body: usize,
}

/// The frontmatter of `text`, if it has one.
pub(crate) fn split(text: &str) -> Option<Split> {
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let start = &text[bom..];
    let rest = start
        .strip_prefix("---\n")
        .or_else(|| start.strip_prefix("---\r\n"))?;
    let block_start = text.len() - rest.len();
    let mut offset = block_start;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Some(Split {
                block: block_start..offset,
                body: offset + line.len(),
            });
        }
        offset += line.len();
    }
    None
}

/// `bytes` with the top-level `name:` of its frontmatter set to `name`, every other byte as it
/// was; a `name` is added as the block's first key when it has none. `None` when the file is
/// not UTF-8 or has no frontmatter (there is no name to set, and adding a block would change how
/// Claude Code reads the whole file).
pub fn set_name(bytes: &[u8], name: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let at = split(text)?;
    let block = &text[at.block.clone()];
    let newline = if block.contains("\r\n") || text[..at.block.start].ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut out = String::with_capacity(text.len() + name.len());
    out.push_str(&text[..at.block.start]);
    let mut lines = block.split_inclusive('\n').peekable();
    let mut done = false;
    while let Some(line) = lines.next() {
        let Some(value) = line.strip_prefix("name:").filter(|_| !done) else {
            out.push_str(line);
            continue;
        };
        done = true;
        let ending = &line[line.trim_end_matches(['\r', '\n']).len()..];
        out.push_str("name: ");
        out.push_str(name);
        out.push_str(if ending.is_empty() { newline } else { ending });
        // A value written as a block scalar (`name: >`) or on the lines below continues on the
        // indented lines that follow: they were the old name.
        let value = value.trim();
        if value.is_empty() || value.starts_with('|') || value.starts_with('>') {
            while lines
                .peek()
                .is_some_and(|l| l.starts_with(' ') || l.starts_with('\t'))
            {
                lines.next();
            }
        }
    }
    if !done {
        let mut with_name = String::with_capacity(out.len() + name.len() + 8);
        with_name.push_str(&text[..at.block.start]);
        with_name.push_str("name: ");
        with_name.push_str(name);
        with_name.push_str(newline);
        with_name.push_str(block);
        out = with_name;
    }
    out.push_str(&text[at.block.end..]);
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_is_found_with_or_without_a_byte_order_mark_or_crlf() {
        let text = "---\nname: pdf\n---\nBody\n";
        let at = split(text).unwrap();
        assert_eq!(&text[at.block.clone()], "name: pdf\n");
        assert_eq!(&text[at.body..], "Body\n");
        let crlf = "\u{feff}---\r\nname: pdf\r\n---\r\nBody\r\n";
        let at = split(crlf).unwrap();
        assert_eq!(&crlf[at.block.clone()], "name: pdf\r\n");
        assert_eq!(&crlf[at.body..], "Body\r\n");
        assert_eq!(split("no block\n"), None);
        assert_eq!(split("---\nname: open\n"), None);
    }

    #[test]
    fn only_the_name_changes() {
        let text = "---\ndescription: Reads PDFs.\nname: \"pdf\"\nmetadata:\n  name: inner\n---\nname: in the body\n";
        let out = String::from_utf8(set_name(text.as_bytes(), "pdf-fork").unwrap()).unwrap();
        assert_eq!(
            out,
            "---\ndescription: Reads PDFs.\nname: pdf-fork\nmetadata:\n  name: inner\n---\nname: in the body\n"
        );
        let crlf = "---\r\nname: pdf\r\n---\r\nBody\r\n";
        let out = String::from_utf8(set_name(crlf.as_bytes(), "pdf-fork").unwrap()).unwrap();
        assert_eq!(out, "---\r\nname: pdf-fork\r\n---\r\nBody\r\n");
    }

    #[test]
    fn a_folded_name_is_replaced_whole_and_a_missing_one_added() {
        let text = "---\nname: >\n  pdf\n  tools\ndescription: x\n---\n";
        let out = String::from_utf8(set_name(text.as_bytes(), "pdf-fork").unwrap()).unwrap();
        assert_eq!(out, "---\nname: pdf-fork\ndescription: x\n---\n");
        let text = "---\ndescription: x\n---\nBody\n";
        let out = String::from_utf8(set_name(text.as_bytes(), "pdf-fork").unwrap()).unwrap();
        assert_eq!(out, "---\nname: pdf-fork\ndescription: x\n---\nBody\n");
        assert_eq!(set_name(b"# no frontmatter\n", "x"), None);
        assert_eq!(set_name(&[0xff, 0xfe], "x"), None);
    }
}
