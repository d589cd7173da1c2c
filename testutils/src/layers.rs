//! A crate's layering, checked from its source: every module imports only modules of its own
//! layer or lower ones (the layers are the crate's top-level modules, lowest first), no two
//! modules depend on each other through any chain of imports, and every module says in its first
//! line what it owns. `core` and `app` each run it from a test of their own.
//!
//! The imports are read from the text: `crate::…` and `super::…` paths (in `use` trees and in
//! code) and, inside a module with children, paths that start with a child's name. Comments,
//! string literals and `#[cfg(test)]` modules are left out, since they are not dependencies of the
//! library. A path counts for the deepest module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Module path (`ops::sync`) → source text, for every file under `root` (a crate's `src/`) but
/// `lib.rs`.
pub fn crate_sources(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a readable directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(root)
                .expect("a path under the root")
                .with_extension("");
            let mut segments: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if segments.last().is_some_and(|s| s == "mod") {
                segments.pop();
            }
            if segments == ["lib"] {
                continue;
            }
            let text =
                fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.insert(segments.join("::"), text);
        }
    }
    out
}

/// An import of one module by another, with the path that makes it (for the message).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    /// The module imported.
    pub to: String,
    /// The path in the source that imports it.
    pub via: String,
}

/// The source without comments, string and char literals (each replaced by a space).
fn strip_comments_and_literals(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &src[i..];
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            let mut depth = 0;
            while i < b.len() {
                if src[i..].starts_with("/*") {
                    depth += 1;
                    i += 2;
                } else if src[i..].starts_with("*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if let Some(len) = raw_string_len(rest) {
            i += len;
            out.push(' ');
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(' ');
        } else if b[i] == b'\'' && char_literal_len(rest).is_some() {
            i += char_literal_len(rest).unwrap_or(1);
            out.push(' ');
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The length of a raw string literal (`r"…"`, `r#"…"#`, `br"…"`) at the start of `s`.
fn raw_string_len(s: &str) -> Option<usize> {
    let after_b = s.strip_prefix('b').unwrap_or(s);
    let body = after_b.strip_prefix('r')?;
    let hashes = body.len() - body.trim_start_matches('#').len();
    let open = &body[hashes..];
    if !open.starts_with('"') {
        return None;
    }
    let close = format!("\"{}", "#".repeat(hashes));
    let end = open[1..].find(&close)?;
    Some(s.len() - open.len() + 1 + end + close.len())
}

/// The length of a char literal (`'a'`, `'\n'`, `'\u{1F600}'`) at the start of `s`; `None` for
/// a lifetime.
fn char_literal_len(s: &str) -> Option<usize> {
    let inner = &s[1..];
    if let Some(esc) = inner.strip_prefix('\\') {
        let close = esc.find('\'')?;
        return Some(1 + 1 + close + 1);
    }
    let c = inner.chars().next()?;
    inner[c.len_utf8()..]
        .starts_with('\'')
        .then_some(1 + c.len_utf8() + 1)
}

/// The code without `#[cfg(test)]` items (the attribute and the braced block after it).
fn strip_test_items(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let Some(open) = after.find(['{', ';']) else {
            return out;
        };
        if after.as_bytes()[open] == b';' {
            rest = &after[open + 1..];
            continue;
        }
        let mut depth = 0usize;
        let mut end = after.len();
        for (i, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Star,
    Other,
}

fn tokens(code: &str) -> Vec<Token> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Ident(chars[start..i].iter().collect()));
            continue;
        }
        match c {
            ':' if chars.get(i + 1) == Some(&':') => {
                out.push(Token::PathSep);
                i += 1;
            }
            '{' => out.push(Token::Open),
            '}' => out.push(Token::Close),
            ',' => out.push(Token::Comma),
            '*' => out.push(Token::Star),
            c if c.is_whitespace() => {}
            _ => out.push(Token::Other),
        }
        i += 1;
    }
    out
}

/// Reads a path tree (`a::b::{c, d::e}`) from `toks[*at..]`, pushing each full path to `out`.
fn read_tree(toks: &[Token], at: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    loop {
        match toks.get(*at) {
            Some(Token::Ident(name)) => {
                path.push(name.clone());
                *at += 1;
            }
            Some(Token::Open) => {
                *at += 1;
                loop {
                    read_tree(toks, at, path.clone(), out);
                    match toks.get(*at) {
                        Some(Token::Comma) => *at += 1,
                        Some(Token::Close) => {
                            *at += 1;
                            return;
                        }
                        _ => return,
                    }
                    if toks.get(*at) == Some(&Token::Close) {
                        *at += 1;
                        return;
                    }
                }
            }
            Some(Token::Star) => {
                *at += 1;
                break;
            }
            _ => break,
        }
        if toks.get(*at) == Some(&Token::PathSep) {
            *at += 1;
        } else {
            break;
        }
    }
    out.push(path);
}

/// The modules `this` imports, resolved against `known` (every module path of the crate).
fn imports(this: &str, src: &str, known: &BTreeSet<String>) -> BTreeSet<Edge> {
    let code = strip_test_items(&strip_comments_and_literals(src));
    let toks = tokens(&code);
    let parent: Vec<String> = {
        let mut p: Vec<String> = this.split("::").map(str::to_owned).collect();
        p.pop();
        p
    };
    let own: Vec<String> = this.split("::").map(str::to_owned).collect();
    let mut edges = BTreeSet::new();
    let mut i = 0;
    while i + 1 < toks.len() {
        let starts_path = i == 0 || toks[i - 1] != Token::PathSep;
        let (Token::Ident(first), Token::PathSep) = (&toks[i], &toks[i + 1]) else {
            i += 1;
            continue;
        };
        let base = match first.as_str() {
            "crate" => Some(Vec::new()),
            "super" => Some(parent.clone()),
            "self" => Some(own.clone()),
            child if starts_path && known.contains(&format!("{this}::{child}")) => {
                let mut p = own.clone();
                p.push(child.to_owned());
                Some(p)
            }
            _ => None,
        };
        let Some(base) = base.filter(|_| starts_path) else {
            i += 1;
            continue;
        };
        let mut at = if matches!(first.as_str(), "crate" | "super" | "self") {
            i + 2
        } else {
            i
        };
        let mut paths = Vec::new();
        read_tree(&toks, &mut at, base, &mut paths);
        for path in paths {
            let deepest = (1..=path.len())
                .rev()
                .map(|n| path[..n].join("::"))
                .find(|m| known.contains(m));
            if let Some(to) = deepest.filter(|m| m != this) {
                edges.insert(Edge {
                    to,
                    via: format!("crate::{}", path.join("::")),
                });
            }
        }
        i = at.max(i + 1);
    }
    edges
}

/// Each module's imports of the crate's other modules.
pub fn graph(sources: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<Edge>> {
    let known: BTreeSet<String> = sources.keys().cloned().collect();
    sources
        .iter()
        .map(|(m, src)| (m.clone(), imports(m, src, &known)))
        .collect()
}

/// Imports that point from a layer to a higher one, and modules in no layer, as messages.
pub fn upward_imports(graph: &BTreeMap<String, BTreeSet<Edge>>, layers: &[&str]) -> Vec<String> {
    let rank = |m: &str| {
        let layer = m.split("::").next().unwrap_or(m);
        layers.iter().position(|l| *l == layer)
    };
    let mut out = Vec::new();
    for (from, edges) in graph {
        for e in edges {
            match (rank(from), rank(&e.to)) {
                (Some(a), Some(b)) if b > a => out.push(format!(
                    "{from} ({}) imports {} ({}) through `{}`",
                    layers[a], e.to, layers[b], e.via
                )),
                (None, _) => out.push(format!("{from} is in no layer (one of {layers:?})")),
                _ => {}
            }
        }
    }
    out.dedup();
    out
}

/// Every cycle between modules (one per strongly connected group), as `a → b → a` with the
/// import paths that close it.
pub fn cycles(graph: &BTreeMap<String, BTreeSet<Edge>>) -> Vec<String> {
    // Tarjan's strongly connected components, iteratively small enough to recurse here.
    struct Tarjan<'g> {
        graph: &'g BTreeMap<String, BTreeSet<Edge>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        groups: Vec<Vec<&'g str>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, v: &'g str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for e in self.graph.get(v).into_iter().flatten() {
                let w = e.to.as_str();
                if !self.graph.contains_key(w) {
                    continue;
                }
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut group = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    group.push(w);
                    if w == v {
                        break;
                    }
                }
                self.groups.push(group);
            }
        }
    }
    let mut t = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        groups: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    let mut out = Vec::new();
    for group in t.groups.iter().filter(|g| g.len() > 1) {
        let members: BTreeSet<&str> = group.iter().copied().collect();
        let start = *members.iter().next().unwrap_or(&"");
        out.push(shortest_cycle(graph, start, &members));
    }
    out
}

/// The shortest way from `start` back to itself inside `members`, written out.
fn shortest_cycle(
    graph: &BTreeMap<String, BTreeSet<Edge>>,
    start: &str,
    members: &BTreeSet<&str>,
) -> String {
    let mut came_from: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.to_owned()]);
    while let Some(v) = queue.pop_front() {
        for e in graph.get(&v).into_iter().flatten() {
            if !members.contains(e.to.as_str()) || came_from.contains_key(&e.to) {
                continue;
            }
            came_from.insert(e.to.clone(), (v.clone(), e.via.clone()));
            if e.to == start {
                queue.clear();
                break;
            }
            queue.push_back(e.to.clone());
        }
    }
    let mut steps = Vec::new();
    let mut at = start.to_owned();
    while let Some((prev, via)) = came_from.get(&at) {
        steps.push(format!("{prev} → {at} (`{via}`)"));
        at = prev.clone();
        if at == start {
            break;
        }
    }
    steps.reverse();
    steps.join(", ")
}

fn listed(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join("\n    ")
    }
}

/// Checks the crate whose sources are under `src` against `layers` (its top-level modules,
/// lowest first): the problems found, one message naming the modules and import paths, or
/// `Ok` when imports only point down and never form a cycle.
pub fn check(src: &Path, layers: &[&str]) -> Result<(), String> {
    let sources = crate_sources(src);
    if sources.is_empty() {
        return Err(format!("no modules under {}", src.display()));
    }
    let graph = graph(&sources);
    let upward = upward_imports(&graph, layers);
    let cycles = cycles(&graph);
    if upward.is_empty() && cycles.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the layering of {} is broken:\n  upward imports:\n    {}\n  cycles:\n    {}",
        src.display(),
        listed(&upward),
        listed(&cycles)
    ))
}

/// The modules under `src` whose file does not start with a `//!` doc.
pub fn undocumented(src: &Path) -> Vec<String> {
    crate_sources(src)
        .into_iter()
        .filter(|(_, text)| !text.trim_start().starts_with("//!"))
        .map(|(m, _)| m)
        .collect()
}

/// The test a crate runs on itself: panics, naming what is wrong, unless the modules under
/// `src` (more than `at_least` of them, so a wrong folder cannot pass) import only down `layers`,
/// form no cycle, and each start with a `//!` doc.
pub fn assert_layered(src: &Path, layers: &[&str], at_least: usize) {
    let modules = crate_sources(src).len();
    assert!(
        modules > at_least,
        "read {modules} modules under {}",
        src.display()
    );
    if let Err(problems) = check(src, layers) {
        panic!("{problems}");
    }
    let missing = undocumented(src);
    assert!(
        missing.is_empty(),
        "modules without a `//!` doc: {missing:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synthetic(modules: &[(&str, &str)]) -> BTreeMap<String, BTreeSet<Edge>> {
        graph(
            &modules
                .iter()
                .map(|(m, s)| ((*m).to_owned(), (*s).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn the_checker_sees_use_trees_inline_paths_super_and_children() {
        let g = synthetic(&[
            ("model", ""),
            ("model::a", "use crate::{ops::{x::Y, z}, storage::s::T};"),
            ("model::b", "fn f() { super::a::g(); crate::model::a::h() }"),
            ("ops", "pub mod x;\nfn f() { x::run() }"),
            (
                "ops::x",
                "// use crate::jobs::J;\nconst S: &str = \"crate::jobs::K\";",
            ),
            (
                "storage::s",
                "#[cfg(test)]\nmod tests { use crate::ops::x; }",
            ),
            ("jobs", ""),
        ]);
        let to = |m: &str| -> Vec<&str> {
            let set: BTreeSet<&str> = g[m].iter().map(|e| e.to.as_str()).collect();
            set.into_iter().collect()
        };
        assert_eq!(to("model::a"), ["ops", "ops::x", "storage::s"]);
        assert_eq!(to("model::b"), ["model::a"]);
        assert_eq!(to("ops"), ["ops::x"]);
        assert!(
            to("ops::x").is_empty(),
            "comments and strings are not imports"
        );
        assert!(to("storage::s").is_empty(), "test modules are not imports");
    }

    #[test]
    fn the_checker_names_a_cycle_and_an_upward_import() {
        let g = synthetic(&[
            ("model::a", "use crate::storage::b::B;"),
            ("storage::b", "use crate::storage::c::C;"),
            ("storage::c", "fn f() -> crate::storage::b::B { todo() }"),
        ]);
        assert_eq!(
            upward_imports(&g, &["model", "storage", "engine", "ops", "jobs"]),
            ["model::a (model) imports storage::b (storage) through `crate::storage::b::B`"]
        );
        assert_eq!(
            cycles(&g),
            ["storage::b → storage::c (`crate::storage::c::C`), \
              storage::c → storage::b (`crate::storage::b::B`)"]
        );
    }
}
