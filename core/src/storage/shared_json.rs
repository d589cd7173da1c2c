//! Claude Code's shared JSON files — `.claude/settings.json` (hooks), `.mcp.json` and
//! `~/.claude.json` (MCP servers) — read whole, and edited in place one entry at a time.
//!
//! These files belong to the user, Claude Code and other tools as much as to SkillMeat, so an
//! edit changes only the entries asked: the text is edited through a concrete syntax tree
//! (jsonc-parser's CST), which keeps every other key, entry, their order, the indentation and
//! the newlines of the untouched parts byte for byte. A file that is not strict JSON (what
//! Claude Code reads) is refused with its line and column, as is one that is a folder, a
//! symlink (an atomic write would replace the link with a file), not UTF-8, or larger than
//! [`MAX_SHARED_FILE`]. Writes are atomic and keep the file's permissions (`~/.claude.json` is
//! private); the caller holds the file's lock and checks nobody wrote it since it was read.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use jsonc_parser::cst::{CstInputValue, CstNode, CstObject, CstRootNode};
use serde_json::Value;

use crate::model::fragment::{self, Entries, EntryKey, FragmentError};

/// The largest shared file read (`~/.claude.json` grows with history; 64 MiB is far beyond it).
pub const MAX_SHARED_FILE: u64 = 64 << 20;

/// Why a shared file could not be read or edited.
#[derive(Debug, thiserror::Error)]
pub enum SharedFileError {
    /// Reading failed.
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    /// Not a regular file.
    #[error(
        "{} is {what}; SkillMeat edits it only when it is a regular file (nothing was written)",
        path.display()
    )]
    NotAFile { path: PathBuf, what: &'static str },
    /// Too large to be what it claims.
    #[error("{} is {size} bytes, over the {MAX_SHARED_FILE}-byte limit (nothing was written)", path.display())]
    TooLarge { path: PathBuf, size: u64 },
    /// Not JSON, or not the shape Claude Code reads.
    #[error("{0}; fix the file and try again (nothing was written)")]
    Invalid(#[from] FragmentError),
}

/// One shared file as read: its text and value (an empty object when the file is absent).
#[derive(Debug, Clone)]
pub struct SharedFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its text as read; `None` when there is no file.
    pub text: Option<String>,
    /// Its value.
    pub value: Value,
}

impl SharedFile {
    /// Reads `path`, refusing anything but a regular file of strict JSON holding an object.
    pub fn load(path: &Path) -> Result<Self, SharedFileError> {
        let io = |source| SharedFileError::Io {
            path: path.to_owned(),
            source,
        };
        let meta = match fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Self {
                    path: path.to_owned(),
                    text: None,
                    value: Value::Object(serde_json::Map::new()),
                });
            }
            Err(e) => return Err(io(e)),
        };
        let what = if meta.file_type().is_symlink() {
            Some("a symlink")
        } else if meta.is_dir() {
            Some("a folder")
        } else if !meta.is_file() {
            Some("not a regular file")
        } else {
            None
        };
        if let Some(what) = what {
            return Err(SharedFileError::NotAFile {
                path: path.to_owned(),
                what,
            });
        }
        if meta.len() > MAX_SHARED_FILE {
            return Err(SharedFileError::TooLarge {
                path: path.to_owned(),
                size: meta.len(),
            });
        }
        let bytes = fs::read(path).map_err(io)?;
        let name = path.display().to_string();
        let value = fragment::parse_json(&name, &bytes)?;
        if !value.is_object() {
            return Err(FragmentError::Shape {
                file: name,
                what: "the file must hold a JSON object".to_owned(),
            }
            .into());
        }
        let text = String::from_utf8(bytes).map_err(|_| FragmentError::Shape {
            file: path.display().to_string(),
            what: "not UTF-8".to_owned(),
        })?;
        Ok(Self {
            path: path.to_owned(),
            text: Some(text),
            value,
        })
    }

    /// The bytes as read (empty when absent), to check nobody wrote the file since.
    pub fn bytes(&self) -> &[u8] {
        self.text.as_deref().unwrap_or("").as_bytes()
    }

    /// The entries of `keys` the file holds now (a key it lacks is left out), read from the
    /// `hooks` object (settings files) or the `mcpServers` object (MCP files).
    pub fn entries(&self, keys: &[EntryKey]) -> Result<Entries, SharedFileError> {
        let shape = |what: String| {
            SharedFileError::Invalid(FragmentError::Shape {
                file: self.path.display().to_string(),
                what,
            })
        };
        let mut out = Entries::new();
        for key in keys {
            match key {
                EntryKey::Mcp { server } => match self.value.get("mcpServers") {
                    None => {}
                    Some(Value::Object(servers)) => {
                        if let Some(v) = servers.get(server) {
                            out.insert(key.clone(), v.clone());
                        }
                    }
                    Some(_) => return Err(shape("`mcpServers` must be an object".to_owned())),
                },
                EntryKey::Hook {
                    event,
                    matcher,
                    handler,
                } => {
                    let groups = match self.value.get("hooks") {
                        None => continue,
                        Some(Value::Object(events)) => match events.get(event) {
                            None => continue,
                            Some(Value::Array(groups)) => groups,
                            Some(_) => {
                                return Err(shape(format!("`hooks.{event}` must be an array")));
                            }
                        },
                        Some(_) => return Err(shape("`hooks` must be an object".to_owned())),
                    };
                    for group in groups {
                        let (m, handlers) = fragment::group_parts(event, group).map_err(shape)?;
                        if m != *matcher {
                            continue;
                        }
                        for h in handlers {
                            if fragment::handler_identity(event, h).as_deref() == Ok(handler) {
                                out.insert(key.clone(), h.clone());
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// The file's text with each entry of `changes` set (`Some`) or removed (`None`), every other
    /// byte as it was. Containers SkillMeat empties by a removal (a group, an event, `hooks`,
    /// `mcpServers`) are removed with it.
    pub fn edited(&self, changes: &[(EntryKey, Option<Value>)]) -> Result<String, SharedFileError> {
        let text = self.text.as_deref().unwrap_or("{}\n");
        let root =
            CstRootNode::parse(text, &jsonc_parser::ParseOptions::default()).map_err(|e| {
                FragmentError::Json {
                    file: self.path.display().to_string(),
                    message: e.kind().to_string(),
                    line: e.line_display(),
                    column: e.column_display(),
                }
            })?;
        let top = root.object_value_or_set();
        for (key, value) in changes {
            match key {
                EntryKey::Mcp { server } => set_server(&top, server, value.as_ref()),
                EntryKey::Hook {
                    event,
                    matcher,
                    handler,
                } => set_handler(&top, event, matcher.as_deref(), handler, value.as_ref()),
            }
        }
        let mut out = root.to_string();
        if self.text.is_none() && !out.ends_with('\n') {
            out.push('\n');
        }
        Ok(out)
    }
}

fn set_server(top: &CstObject, server: &str, value: Option<&Value>) {
    match value {
        Some(v) => {
            let servers = top.object_value_or_set("mcpServers");
            match servers.get(server) {
                Some(prop) => match (
                    prop.object_value(),
                    prop.value().and_then(|n| n.to_serde_value()),
                ) {
                    (Some(obj), Some(old)) => update_object(&obj, &old, v),
                    _ => prop.set_value(input(v)),
                },
                None => {
                    servers.append(server, input(v));
                }
            }
        }
        None => {
            let Some(servers) = top.object_value("mcpServers") else {
                return;
            };
            if let Some(prop) = servers.get(server) {
                prop.remove();
                if servers.properties().is_empty()
                    && let Some(p) = top.get("mcpServers")
                {
                    p.remove();
                }
            }
        }
    }
}

fn set_handler(
    top: &CstObject,
    event: &str,
    matcher: Option<&str>,
    handler: &str,
    value: Option<&Value>,
) {
    let find_group = |groups: &jsonc_parser::cst::CstArray| -> Option<CstObject> {
        groups.elements().into_iter().find_map(|g| {
            let obj = g.as_object()?;
            let m = obj
                .get("matcher")
                .and_then(|p| p.value())
                .and_then(|v| v.as_string_lit())
                .and_then(|s| s.decoded_value().ok());
            (m.as_deref() == matcher).then_some(obj)
        })
    };
    let find_handler = |handlers: &jsonc_parser::cst::CstArray| -> Option<CstNode> {
        handlers.elements().into_iter().find(|h| {
            h.to_serde_value()
                .is_some_and(|v| fragment::handler_identity(event, &v).as_deref() == Ok(handler))
        })
    };
    match value {
        Some(v) => {
            let events = top.object_value_or_set("hooks");
            let groups = events.array_value_or_set(event);
            let group = match find_group(&groups) {
                Some(g) => g,
                None => {
                    let mut fields = Vec::new();
                    if let Some(m) = matcher {
                        fields.push(("matcher".to_owned(), CstInputValue::String(m.to_owned())));
                    }
                    fields.push(("hooks".to_owned(), CstInputValue::Array(Vec::new())));
                    let node = groups.append(CstInputValue::Object(fields));
                    let Some(obj) = node.as_object() else { return };
                    obj
                }
            };
            let handlers = group.array_value_or_set("hooks");
            match find_handler(&handlers) {
                Some(node) => match (node.as_object(), node.to_serde_value()) {
                    (Some(obj), Some(old)) => update_object(&obj, &old, v),
                    _ => node.replace_with_value(input(v)),
                },
                None => {
                    handlers.append(input(v));
                }
            }
        }
        None => {
            let Some(events) = top.object_value("hooks") else {
                return;
            };
            let Some(groups) = events.array_value(event) else {
                return;
            };
            let Some(group) = find_group(&groups) else {
                return;
            };
            let Some(handlers) = group.array_value("hooks") else {
                return;
            };
            let Some(node) = find_handler(&handlers) else {
                return;
            };
            node.remove();
            if handlers.elements().is_empty() {
                group.remove();
                if groups.elements().is_empty() {
                    if let Some(p) = events.get(event) {
                        p.remove();
                    }
                    if events.properties().is_empty()
                        && let Some(p) = top.get("hooks")
                    {
                        p.remove();
                    }
                }
            }
        }
    }
}

/// Changes `obj` (whose value is `old`) into `new` key by key: untouched keys keep their bytes,
/// changed ones are set where they are, new ones appended, gone ones removed.
fn update_object(obj: &CstObject, old: &Value, new: &Value) {
    let (Value::Object(old), Value::Object(new)) = (old, new) else {
        return;
    };
    for prop in obj.properties() {
        let Some(name) = prop.name().and_then(|n| n.decoded_value().ok()) else {
            continue;
        };
        match new.get(&name) {
            None => prop.remove(),
            Some(v) if old.get(&name) == Some(v) => {}
            Some(v) => match (prop.object_value(), old.get(&name)) {
                (Some(inner), Some(o @ Value::Object(_))) if v.is_object() => {
                    update_object(&inner, o, v);
                }
                _ => prop.set_value(input(v)),
            },
        }
    }
    let mut added: Vec<(&String, &Value)> =
        new.iter().filter(|(k, _)| !old.contains_key(*k)).collect();
    added.sort_by(|a, b| key_rank(a.0).cmp(&key_rank(b.0)));
    for (k, v) in added {
        obj.append(k, input(v));
    }
}

/// The order keys are written in when SkillMeat writes an object: the fields Claude Code's
/// documentation lists first in the order it lists them, then the rest alphabetically.
const KEY_ORDER: [&str; 10] = [
    "type", "matcher", "command", "args", "url", "headers", "env", "prompt", "timeout", "hooks",
];

fn key_rank(key: &str) -> (usize, &str) {
    (
        KEY_ORDER
            .iter()
            .position(|k| *k == key)
            .unwrap_or(KEY_ORDER.len()),
        key,
    )
}

/// A JSON value as the CST takes it (keys in [`KEY_ORDER`]).
fn input(value: &Value) -> CstInputValue {
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(items) => CstInputValue::Array(items.iter().map(input).collect()),
        Value::Object(map) => {
            let mut fields: Vec<(&String, &Value)> = map.iter().collect();
            fields.sort_by(|a, b| key_rank(a.0).cmp(&key_rank(b.0)));
            CstInputValue::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (k.clone(), input(v)))
                    .collect(),
            )
        }
    }
}

trait ReplaceValue {
    fn replace_with_value(self, value: CstInputValue);
}

impl ReplaceValue for CstNode {
    fn replace_with_value(self, value: CstInputValue) {
        if let Some(obj) = self.as_object() {
            obj.replace_with(value);
        } else if let Some(arr) = self.as_array() {
            arr.replace_with(value);
        } else if let Some(s) = self.as_string_lit() {
            s.replace_with(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn load(text: &str) -> (tempfile::TempDir, SharedFile) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        fs::write(&path, text).unwrap();
        let file = SharedFile::load(&path).unwrap();
        (dir, file)
    }

    const SETTINGS: &str = "{\n    \"permissions\": {\"allow\": [\"Bash(ls)\"]},\n    \"hooks\": {\n        \"Stop\": [\n            {\"hooks\": [{\"type\": \"command\", \"command\": \"mine\"}]}\n        ]\n    },\n    \"model\": \"opus\"\n}\n";

    #[test]
    fn an_added_handler_leaves_every_other_byte() {
        let (_d, file) = load(SETTINGS);
        let key = EntryKey::Hook {
            event: "Stop".to_owned(),
            matcher: None,
            handler: "command: say done".to_owned(),
        };
        let value = json!({"type": "command", "command": "say done"});
        let text = file.edited(&[(key.clone(), Some(value.clone()))]).unwrap();
        assert!(
            text.starts_with("{\n    \"permissions\": {\"allow\": [\"Bash(ls)\"]},\n"),
            "{text}"
        );
        assert!(text.ends_with("    \"model\": \"opus\"\n}\n"), "{text}");
        assert!(text.contains("\"command\": \"mine\""), "{text}");
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["hooks"]["Stop"][0]["hooks"][1], value);
        // Removing it again gives the file's value back, and every byte outside the one-line
        // array it was added to (which the addition made multi-line).
        let (_d, again) = load(&text);
        let removed = again.edited(&[(key, None)]).unwrap();
        let back: Value = serde_json::from_str(&removed).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(SETTINGS).unwrap());
        assert_eq!(removed.replace("}\n]}", "}]}"), SETTINGS);
    }

    #[test]
    fn a_server_is_added_replaced_and_removed_in_place() {
        // As Claude Code writes ~/.claude.json: two-space indentation.
        let original = "{\n  \"numStartups\": 3,\n  \"oauthAccount\": {\"x\": 1}\n}\n";
        let (_d, file) = load(original);
        let key = EntryKey::Mcp {
            server: "gh".to_owned(),
        };
        let text = file
            .edited(&[(key.clone(), Some(json!({"command": "npx"})))])
            .unwrap();
        assert!(
            text.starts_with("{\n  \"numStartups\": 3,\n  \"oauthAccount\": {\"x\": 1},\n"),
            "{text}"
        );
        let (_d, file) = load(&text);
        assert_eq!(
            file.entries(std::slice::from_ref(&key)).unwrap()[&key],
            json!({"command": "npx"})
        );
        let text = file
            .edited(&[(key.clone(), Some(json!({"command": "bun"})))])
            .unwrap();
        let (_d, file) = load(&text);
        assert_eq!(
            file.entries(std::slice::from_ref(&key)).unwrap()[&key],
            json!({"command": "bun"})
        );
        // Taken out again, the file is what it was, byte for byte.
        let text = file.edited(&[(key, None)]).unwrap();
        assert_eq!(text, original);
    }

    #[test]
    fn bad_files_are_refused_with_where() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        fs::write(&path, "{\n  \"hooks\": {,}\n}").unwrap();
        let err = SharedFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("line 2, column 13"), "{err}");
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        let err = SharedFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("a folder"), "{err}");
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();
        let err = SharedFile::load(&link).unwrap_err().to_string();
        assert!(err.contains("a symlink"), "{err}");
        fs::write(dir.path().join("arr.json"), "[1]").unwrap();
        let err = SharedFile::load(&dir.path().join("arr.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("JSON object"), "{err}");
    }
}
