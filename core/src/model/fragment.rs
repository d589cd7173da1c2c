//! Hook and MCP artifacts: fragments of JSON files that Claude Code, the user and other tools
//! also write, so they are deployed entry by entry, never as files.
//!
//! A **hook** artifact's file holds one named group of hook entries in the shape of the `hooks`
//! key of Claude Code's settings files — event name → array of matcher groups → `hooks` array of
//! handlers:
//!
//! ```json
//! { "PreToolUse": [ { "matcher": "Bash", "hooks": [ { "type": "command", "command": "./lint" } ] } ] }
//! ```
//!
//! or that object wrapped as a plugin's `hooks/hooks.json` is (`{"description": …, "hooks":
//! {…}}`). Rules from Claude Code's hooks reference (<https://code.claude.com/docs/en/hooks>,
//! "Configuration" and "Structure"): hooks live in `~/.claude/settings.json`,
//! `.claude/settings.json` and `.claude/settings.local.json`; each event holds matcher groups
//! (`matcher` optional — events without matchers omit it), each group a `hooks` array of handlers
//! with a `type` (`command`, `http`, `prompt`, `agent`, …) and its own fields (`command`,
//! `timeout`, …); groups from every source add up, and an identical handler defined twice runs
//! once. So the unit SkillMeat owns is one **handler** inside one event's group of one matcher,
//! identified by its event, its matcher and its type's main field (`command`, `url`, `prompt`);
//! the rest of a handler (`timeout`, `statusMessage`, …) is its value, merged key by key.
//!
//! An **mcp** artifact's file is one `mcpServers` entry (`{"command": "npx", "args": […],
//! "env": {…}}` or `{"type": "http", "url": …, "headers": {…}}`), named after the artifact, or
//! a `.mcp.json` (a plugin's too) holding one or more servers under their own names. Per Claude Code's MCP page (<https://code.claude.com/docs/en/mcp>,
//! "MCP installation scopes" and "Environment variable expansion in `.mcp.json`"): project
//! servers live in `.mcp.json` at the project root, user servers in `mcpServers` at the top of
//! `~/.claude.json`; `${VAR}` and `${VAR:-default}` expand in `command`, `args`, `env`, `url`
//! and `headers`, which is how a shared file keeps credentials out — so a literal in `env` or
//! `headers` that looks like a token is warned about, and no `env` or `headers` value is ever
//! shown, logged or kept in SkillMeat's records in clear ([`mask`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::artifact::ArtifactType;

/// Where one owned entry sits in the shared file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum EntryKey {
    /// One handler: `hooks.<event>[matcher group].hooks[handler]`.
    Hook {
        /// The event (`PreToolUse`, `Stop`, …).
        event: String,
        /// The group's matcher; `None` for a group without one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        matcher: Option<String>,
        /// The handler's identity: its type and main field, e.g. `command: ./lint`.
        handler: String,
    },
    /// One server: `mcpServers.<server>`.
    Mcp {
        /// The server's name.
        server: String,
    },
}

impl fmt::Display for EntryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hook {
                event,
                matcher,
                handler,
            } => match matcher {
                Some(m) => write!(f, "{event} [{m}] {handler}"),
                None => write!(f, "{event} {handler}"),
            },
            Self::Mcp { server } => write!(f, "mcpServers.{server}"),
        }
    }
}

/// The entries of one artifact version, in the order its file gives them.
pub type Entries = BTreeMap<EntryKey, Value>;

/// Why an artifact's file (or a shared file's part) could not be read as a fragment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FragmentError {
    /// Not JSON at all.
    #[error("{file} is not valid JSON: {message} at line {line}, column {column}")]
    Json {
        file: String,
        message: String,
        line: usize,
        column: usize,
    },
    /// JSON, but not the shape Claude Code reads.
    #[error("{file}: {what}")]
    Shape { file: String, what: String },
}

/// Parses strict JSON (Claude Code reads these files with a strict parser), naming the line
/// and column of the first error.
pub fn parse_json(file: &str, bytes: &[u8]) -> Result<Value, FragmentError> {
    serde_json::from_slice(bytes).map_err(|e| FragmentError::Json {
        file: file.to_owned(),
        message: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or("")
            .to_owned(),
        line: e.line(),
        column: e.column(),
    })
}

/// The entries of a `kind` artifact named `name` whose file is `bytes`.
pub fn entries(
    kind: ArtifactType,
    name: &str,
    file: &str,
    bytes: &[u8],
) -> Result<Entries, FragmentError> {
    let value = parse_json(file, bytes)?;
    let shape = |what: String| FragmentError::Shape {
        file: file.to_owned(),
        what,
    };
    match kind {
        ArtifactType::Hook => hook_entries(hooks_map(&value).map_err(shape)?).map_err(shape),
        ArtifactType::Mcp => Ok(mcp_servers(name, &value)
            .map_err(shape)?
            .into_iter()
            .map(|(server, v)| (EntryKey::Mcp { server }, v))
            .collect()),
        other => Err(shape(format!("a {other} is not a fragment"))),
    }
}

/// The events map of a hook file: the object itself, or its `hooks` when it is wrapped as a
/// plugin's `hooks/hooks.json` (`description` beside it allowed).
fn hooks_map(value: &Value) -> Result<&Map<String, Value>, String> {
    let Value::Object(top) = value else {
        return Err("a hook file must be a JSON object of events".to_owned());
    };
    match top.get("hooks") {
        Some(Value::Object(inner)) if top.keys().all(|k| k == "hooks" || k == "description") => {
            Ok(inner)
        }
        _ => Ok(top),
    }
}

/// The entries of an events map (`hooks` of a settings file, or a hook artifact's file).
pub fn hook_entries(events: &Map<String, Value>) -> Result<Entries, String> {
    let mut out = Entries::new();
    for (event, groups) in events {
        let Value::Array(groups) = groups else {
            return Err(format!(
                "`{event}` must be an array of matcher groups ({{\"matcher\": …, \"hooks\": [...]}})"
            ));
        };
        for group in groups {
            let (matcher, handlers) = group_parts(event, group)?;
            for handler in handlers {
                let key = EntryKey::Hook {
                    event: event.clone(),
                    matcher: matcher.clone(),
                    handler: handler_identity(event, handler)?,
                };
                if out.insert(key.clone(), handler.clone()).is_some() {
                    return Err(format!("{key} is defined twice"));
                }
            }
        }
    }
    if out.is_empty() {
        return Err("a hook file must hold at least one handler".to_owned());
    }
    Ok(out)
}

/// A matcher group's matcher and handlers.
pub fn group_parts<'a>(
    event: &str,
    group: &'a Value,
) -> Result<(Option<String>, &'a Vec<Value>), String> {
    let Value::Object(group) = group else {
        return Err(format!("a group of `{event}` must be an object"));
    };
    if let Some(extra) = group.keys().find(|k| *k != "matcher" && *k != "hooks") {
        return Err(format!(
            "a group of `{event}` has `{extra}`; a group holds only `matcher` and `hooks`"
        ));
    }
    let matcher = match group.get("matcher") {
        None => None,
        Some(Value::String(m)) => Some(m.clone()),
        Some(_) => return Err(format!("a matcher of `{event}` must be a string")),
    };
    match group.get("hooks") {
        Some(Value::Array(handlers)) => Ok((matcher, handlers)),
        _ => Err(format!("a group of `{event}` must have a `hooks` array")),
    }
}

/// A handler's identity within its group: its type and its main field.
pub fn handler_identity(event: &str, handler: &Value) -> Result<String, String> {
    let Value::Object(h) = handler else {
        return Err(format!("a handler of `{event}` must be an object"));
    };
    let Some(Value::String(kind)) = h.get("type") else {
        return Err(format!(
            "a handler of `{event}` must have a `type` (`command`, `http`, `prompt`, …)"
        ));
    };
    for field in ["command", "url", "prompt", "tool"] {
        if let Some(Value::String(main)) = h.get(field) {
            return Ok(format!("{kind}: {main}"));
        }
    }
    Err(format!(
        "a `{kind}` handler of `{event}` has none of `command`, `url`, `prompt`, `tool`"
    ))
}

/// The servers of an mcp file, by name. Three shapes, as Claude Code and plugins write them:
/// one server (`{"command": …}`), named after the artifact; `{"mcpServers": {name: server,
/// …}}` (the shape of `.mcp.json`); and a plugin's `.mcp.json` written as the bare map
/// `{name: server, …}` (Claude Code's plugins reference, "MCP servers": `.mcp.json` at the
/// plugin root). The last two keep the servers' own names.
fn mcp_servers(name: &str, value: &Value) -> Result<Vec<(String, Value)>, String> {
    let Value::Object(top) = value else {
        return Err("an mcp file must be a JSON object (an mcpServers entry)".to_owned());
    };
    let is_server = ["command", "url", "type"]
        .iter()
        .any(|k| top.get(*k).is_some_and(Value::is_string));
    let servers: Vec<(String, Value)> = match top.get("mcpServers") {
        Some(Value::Object(servers)) if top.len() == 1 => servers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        _ if !is_server && !top.is_empty() && top.values().all(Value::is_object) => {
            top.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        }
        _ => vec![(name.to_owned(), value.clone())],
    };
    if servers.is_empty() {
        return Err("it holds no server".to_owned());
    }
    servers
        .into_iter()
        .map(|(n, v)| {
            mcp_server(&v)
                .map(|v| (n.clone(), v))
                .map_err(|e| format!("server `{n}`: {e}"))
        })
        .collect()
}

fn mcp_server(server: &Value) -> Result<Value, String> {
    let Value::Object(fields) = server else {
        return Err("an MCP server must be a JSON object".to_owned());
    };
    if !fields.contains_key("command") && !fields.contains_key("url") {
        return Err("an MCP server needs a `command` (stdio) or a `url` (http, sse)".to_owned());
    }
    for key in ["env", "headers"] {
        match fields.get(key) {
            None | Some(Value::Object(_)) => {}
            Some(_) => return Err(format!("`{key}` must be an object of strings")),
        }
    }
    Ok(server.clone())
}

/// The file a set of entries makes (for a project's copy lifted into the collection, and for
/// showing it): pretty JSON, the hook shape grouped by event then matcher.
pub fn render(kind: ArtifactType, entries: &Entries) -> Vec<u8> {
    let value = match kind {
        ArtifactType::Mcp => Value::Object(
            [(
                "mcpServers".to_owned(),
                Value::Object(
                    entries
                        .iter()
                        .filter_map(|(k, v)| match k {
                            EntryKey::Mcp { server } => Some((server.clone(), v.clone())),
                            EntryKey::Hook { .. } => None,
                        })
                        .collect(),
                ),
            )]
            .into_iter()
            .collect(),
        ),
        _ => {
            let mut events: Map<String, Value> = Map::new();
            for (key, handler) in entries {
                let EntryKey::Hook { event, matcher, .. } = key else {
                    continue;
                };
                let Value::Array(groups) = events
                    .entry(event.clone())
                    .or_insert_with(|| Value::Array(Vec::new()))
                else {
                    continue;
                };
                let found = groups
                    .iter_mut()
                    .find(|g| g.get("matcher").and_then(Value::as_str) == matcher.as_deref());
                let group = match found {
                    Some(g) => g,
                    None => {
                        let mut g = Map::new();
                        if let Some(m) = matcher {
                            g.insert("matcher".to_owned(), Value::String(m.clone()));
                        }
                        g.insert("hooks".to_owned(), Value::Array(Vec::new()));
                        groups.push(Value::Object(g));
                        groups.last_mut().expect("just pushed")
                    }
                };
                if let Some(Value::Array(h)) = group.get_mut("hooks") {
                    h.push(handler.clone());
                }
            }
            Value::Object(events)
        }
    };
    let mut out = serde_json::to_vec_pretty(&value).unwrap_or_default();
    out.push(b'\n');
    out
}

/// The fields whose values are secrets: `env` and `headers` (of a server or an http handler).
const SECRET_FIELDS: [&str; 2] = ["env", "headers"];

/// `value` with every string inside `env` and `headers` replaced by a fingerprint, unless it is
/// a reference: it names a `${VAR}` placeholder and holds no credential-like literal beside it
/// (`${TOKEN}`, `Bearer ${TOKEN}` say which variable, not its value). Equal inputs
/// give equal outputs, so masked values still compare; the fingerprint is a truncated SHA-256,
/// enough to tell two values apart, not to recover one.
pub fn mask(value: &Value) -> Value {
    mask_in(value, false)
}

/// Whether values under key `k` are secrets (`env`, `headers`).
pub fn is_secret_field(k: &str) -> bool {
    SECRET_FIELDS.contains(&k)
}

/// [`mask`] of a value found inside an entry: `secret` says it sits under `env` or `headers`.
pub fn mask_in(value: &Value, secret: bool) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        mask_in(v, secret || SECRET_FIELDS.contains(&k.as_str())),
                    )
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| mask_in(v, secret)).collect()),
        Value::String(s) if secret && !is_reference(s) => Value::String(fingerprint(s)),
        other => other.clone(),
    }
}

/// What a masked secret reads as.
pub fn fingerprint(secret: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(secret.as_bytes());
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("•••• (secret, sha256 {hex}…)")
}

/// Whether `s` is a masked value (as [`mask`] writes them).
pub fn is_fingerprint(s: &str) -> bool {
    s.starts_with("•••• (secret, sha256 ")
}

/// Whether `s` refers to a variable (`${VAR}`, `${VAR:-default}`) and holds no literal that
/// looks like a credential beside it.
pub fn is_reference(s: &str) -> bool {
    let rest = strip_placeholders(s);
    rest.len() < s.len() && !looks_like_token(&rest)
}

fn strip_placeholders(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The places in `value` where an `env` or `headers` value is a literal that looks like a
/// credential (a known token prefix, or a long run of letters and digits mixed), as
/// `env.GITHUB_TOKEN`-style paths: a shared file should say `${GITHUB_TOKEN}` instead.
pub fn token_literals(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    find_tokens(value, "", false, &mut out);
    out
}

fn find_tokens(value: &Value, path: &str, secret: bool, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                find_tokens(v, &p, secret || SECRET_FIELDS.contains(&k.as_str()), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                find_tokens(v, &format!("{path}[{i}]"), secret, out);
            }
        }
        Value::String(s) if secret && looks_like_token(&strip_placeholders(s)) => {
            out.push(path.to_owned());
        }
        _ => {}
    }
}

/// Known credential prefixes (GitHub, OpenAI/Anthropic-style, Slack, AWS, GitLab), or a run of
/// at least 20 token characters holding both letters and digits.
fn looks_like_token(s: &str) -> bool {
    const PREFIXES: [&str; 8] = [
        "ghp_",
        "gho_",
        "ghs_",
        "github_pat_",
        "sk-",
        "xoxb-",
        "AKIA",
        "glpat-",
    ];
    s.split(|c: char| c.is_whitespace() || c == ':' || c == '"')
        .any(|word| {
            PREFIXES
                .iter()
                .any(|p| word.starts_with(p) && word.len() > p.len() + 8)
                || (word.len() >= 20
                    && word
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.=+/".contains(c))
                    && word.chars().any(|c| c.is_ascii_digit())
                    && word.chars().any(|c| c.is_ascii_alphabetic()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOOK: &str = r#"{"PreToolUse": [{"matcher": "Bash", "hooks": [
        {"type": "command", "command": "./lint", "timeout": 30},
        {"type": "command", "command": "./audit"}]}],
        "Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]}"#;

    #[test]
    fn a_hook_file_is_one_entry_per_handler() {
        let e = entries(ArtifactType::Hook, "lint", "lint.json", HOOK.as_bytes()).unwrap();
        let keys: Vec<String> = e.keys().map(ToString::to_string).collect();
        assert_eq!(
            keys,
            [
                "PreToolUse [Bash] command: ./audit",
                "PreToolUse [Bash] command: ./lint",
                "Stop command: say done"
            ]
        );
        // Rendered back, the same entries come out.
        let again = render(ArtifactType::Hook, &e);
        assert_eq!(entries(ArtifactType::Hook, "lint", "x", &again).unwrap(), e);
        // The plugin shape reads the same.
        let wrapped = format!(r#"{{"description": "d", "hooks": {HOOK}}}"#);
        assert_eq!(
            entries(ArtifactType::Hook, "lint", "x", wrapped.as_bytes()).unwrap(),
            e
        );
    }

    #[test]
    fn bad_files_say_where_and_what() {
        let err = entries(ArtifactType::Hook, "x", "x.json", b"{\n  \"Stop\": [,]\n}").unwrap_err();
        assert!(matches!(err, FragmentError::Json { line: 2, .. }), "{err}");
        for (bad, says) in [
            (r#"{"Stop": {}}"#, "array of matcher groups"),
            (
                r#"{"Stop": [{"hooks": [{"command": "x"}]}]}"#,
                "must have a `type`",
            ),
            (r#"{"Stop": [{"hooks": []}]}"#, "at least one handler"),
            (r#"{"Stop": [{"hooks": [], "x": 1}]}"#, "has `x`"),
        ] {
            let err = entries(ArtifactType::Hook, "x", "x.json", bad.as_bytes()).unwrap_err();
            assert!(err.to_string().contains(says), "{bad}: {err}");
        }
        let err = entries(ArtifactType::Mcp, "x", "x.json", br#"{"args": []}"#).unwrap_err();
        assert!(err.to_string().contains("`command`"), "{err}");
        // A `.mcp.json`, wrapped or (as plugins write it) bare: its servers under their names.
        let names = |bytes: &[u8]| -> Vec<String> {
            entries(ArtifactType::Mcp, "x", ".mcp.json", bytes)
                .unwrap()
                .keys()
                .map(ToString::to_string)
                .collect()
        };
        let two = br#"{"mcpServers": {"a": {"command": "a"}, "b": {"url": "https://b"}}}"#;
        assert_eq!(names(two), ["mcpServers.a", "mcpServers.b"]);
        let bare = br#"{"db": {"command": "${CLAUDE_PLUGIN_ROOT}/db"}, "b": {"url": "u"}}"#;
        assert_eq!(names(bare), ["mcpServers.b", "mcpServers.db"]);
        assert_eq!(names(br#"{"command": "npx"}"#), ["mcpServers.x"]);
        let bad = br#"{"mcpServers": {"a": {"command": "a"}, "b": {"args": []}}}"#;
        let err = entries(ArtifactType::Mcp, "x", "x.json", bad).unwrap_err();
        assert!(err.to_string().contains("server `b`"), "{err}");
        let none = br#"{"mcpServers": {}}"#;
        let err = entries(ArtifactType::Mcp, "x", "x.json", none).unwrap_err();
        assert!(err.to_string().contains("no server"), "{err}");
    }

    #[test]
    fn secrets_are_masked_and_tokens_found() {
        let server: Value = serde_json::json!({
            "command": "npx",
            "args": ["-y", "server"],
            "env": {"GITHUB_TOKEN": "ghp_abcdefghijklmnopqrstuvwxyz0123", "HOST": "${HOST:-x}", "DEBUG": "1"},
            "headers": {"Authorization": "Bearer ${TOKEN}"}
        });
        let masked = mask(&server);
        let text = masked.to_string();
        assert!(!text.contains("ghp_"), "{text}");
        assert!(!text.contains("\"1\""), "{text}");
        assert!(
            text.contains("${HOST:-x}") && text.contains("Bearer ${TOKEN}"),
            "{text}"
        );
        assert_eq!(mask(&server), masked, "masking is deterministic");
        assert_eq!(token_literals(&server), ["env.GITHUB_TOKEN"]);
        assert!(token_literals(&serde_json::json!({"env": {"A": "${A}"}})).is_empty());
        assert!(
            !token_literals(&serde_json::json!({"env": {"K": "AbCdEf0123456789XyZw99"}}))
                .is_empty()
        );
    }
}
