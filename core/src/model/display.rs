//! Names from outside (upstream trees, project folders, records) made safe to print.
//!
//! A file name may hold a newline, a carriage return or an ANSI escape sequence; printed as it
//! is, it forges rows of a plan or recolours the terminal. Everything SkillMeat prints of such a
//! name goes through [`escaped`], which writes control characters as Rust-style escapes (`\n`,
//! `\u{1b}`) and leaves every other character — including non-ASCII letters — alone.

use std::borrow::Cow;

/// `text` with its control characters escaped; borrowed when there are none.
pub fn escaped(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Control characters, and the bidirectional overrides that make text read in another order
/// than it is (the "Trojan Source" characters).
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(escaped("plain ünï.md"), "plain ünï.md");
        assert!(matches!(escaped("plain"), Cow::Borrowed(_)));
        assert_eq!(escaped("a\nb"), "a\\nb");
        assert_eq!(escaped("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(escaped("x\r"), "x\\r");
        assert_eq!(escaped("abc\u{202e}gpj.exe"), "abc\\u{202e}gpj.exe");
    }
}
