//! The three-way merge of fragment entries (hooks, MCP servers): per entry, then per JSON key.
//!
//! The base is each entry as last deployed — kept [`mask`](crate::model::fragment::mask)ed, so a
//! side is compared with it through the same mask — ours the entry in the shared file now, theirs
//! the collection's. Objects merge key by key whatever their key order; every other value
//! (strings, numbers, arrays such as a server's `args`, whose order means something) is taken
//! whole from the side that changed it. An entry or key both sides changed differently is a
//! [`Clash`], named by its path (`env.TOKEN`, `timeout`), to be settled ours / theirs.
//!
//! An entry the user deleted from the file is a **local deletion**: it stays deleted whatever
//! the collection did, and is reported, never re-added without being asked.

use serde_json::{Map, Value};

use crate::model::fragment::{Entries, EntryKey, is_secret_field, mask, mask_in};

/// One place both sides changed differently, with the three values there (masked, so a clash
/// can be shown; `None` where a side has no value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    /// The entry.
    pub entry: EntryKey,
    /// The key path inside it (`""` for the entry as a whole).
    pub path: String,
    /// The value as last deployed.
    pub base: Option<Value>,
    /// The shared file's value.
    pub ours: Option<Value>,
    /// The collection's value.
    pub theirs: Option<Value>,
}

impl Clash {
    /// How the clash is named on the command line and in the dialog: `<entry>` or
    /// `<entry> › <path>`.
    pub fn label(&self) -> String {
        if self.path.is_empty() {
            self.entry.to_string()
        } else {
            format!("{} › {}", self.entry, self.path)
        }
    }
}

/// How a clash is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The shared file's value (the local edit).
    Ours,
    /// The collection's value.
    Theirs,
}

/// What happened to one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryChange {
    /// Same on both sides, or changed by neither.
    Unchanged,
    /// Only the collection changed it: the file takes it.
    Updated,
    /// New in the collection: added to the file.
    Added,
    /// Gone from the collection and unedited here: removed from the file.
    Removed,
    /// Only the file changed it: kept.
    KeptLocal,
    /// Both changed it in different keys: merged.
    Merged,
    /// The user deleted it from the file: it stays deleted.
    DeletedLocally,
    /// Both changed the same key differently (or one deleted what the other edited).
    Clash,
}

impl EntryChange {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unchanged => "unchanged",
            Self::Updated => "updated",
            Self::Added => "added",
            Self::Removed => "removed",
            Self::KeptLocal => "kept-local",
            Self::Merged => "merged",
            Self::DeletedLocally => "deleted-locally",
            Self::Clash => "conflict",
        }
    }
}

/// The merge of all entries of one artifact.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// The entries the file holds afterwards (with clashes settled by the picks given, or left
    /// at ours when none was given).
    pub entries: Entries,
    /// What happened to each entry.
    pub changes: Vec<(EntryKey, EntryChange)>,
    /// The clashes no pick settled.
    pub clashes: Vec<Clash>,
    /// Entries the user deleted locally whose collection side changed since (worth saying).
    pub deleted_but_changed: Vec<EntryKey>,
}

/// Merges `ours` (the file) and `theirs` (the collection) from `base` (masked, as deployed).
/// `pick` settles a clash by its label (see [`Clash::label`]); unsettled clashes are returned
/// and their places keep ours.
pub fn merge(
    base: &Entries,
    ours: &Entries,
    theirs: &Entries,
    pick: &dyn Fn(&Clash) -> Option<Pick>,
) -> Merged {
    let mut keys: Vec<&EntryKey> = base
        .keys()
        .chain(ours.keys())
        .chain(theirs.keys())
        .collect();
    keys.sort();
    keys.dedup();
    let mut out = Merged {
        entries: Entries::new(),
        changes: Vec::new(),
        clashes: Vec::new(),
        deleted_but_changed: Vec::new(),
    };
    for key in keys {
        let (b, o, t) = (base.get(key), ours.get(key), theirs.get(key));
        let same_as_base = |side: Option<&Value>| match (b, side) {
            (Some(b), Some(s)) => *b == mask(s),
            (None, None) => true,
            _ => false,
        };
        let change = match (b, o, t) {
            // Deleted here after it was deployed: stays deleted, whatever the collection did.
            (Some(_), None, _) => {
                if t.is_some() && !same_as_base(t) {
                    out.deleted_but_changed.push(key.clone());
                }
                EntryChange::DeletedLocally
            }
            _ if o == t => {
                if let Some(v) = o {
                    out.entries.insert(key.clone(), v.clone());
                }
                EntryChange::Unchanged
            }
            _ if same_as_base(o) => match t {
                Some(v) => {
                    out.entries.insert(key.clone(), v.clone());
                    if b.is_none() {
                        EntryChange::Added
                    } else {
                        EntryChange::Updated
                    }
                }
                None => EntryChange::Removed,
            },
            _ if same_as_base(t) => {
                if let Some(v) = o {
                    out.entries.insert(key.clone(), v.clone());
                }
                EntryChange::KeptLocal
            }
            (b, Some(o), Some(t)) => {
                let mut clashes = Vec::new();
                let merged = merge_value(key, "", false, b, Some(o), Some(t), pick, &mut clashes);
                if let Some(v) = merged {
                    out.entries.insert(key.clone(), v);
                }
                let open = !clashes.is_empty();
                out.clashes.extend(clashes);
                if open {
                    EntryChange::Clash
                } else {
                    EntryChange::Merged
                }
            }
            // One side removed it, the other changed it: a clash of the whole entry.
            (_, o, _) => {
                let clash = Clash {
                    entry: key.clone(),
                    path: String::new(),
                    base: b.cloned(),
                    ours: o.map(mask),
                    theirs: t.map(mask),
                };
                let settled = match pick(&clash) {
                    Some(Pick::Theirs) => t,
                    Some(Pick::Ours) => o,
                    None => {
                        out.clashes.push(clash);
                        o
                    }
                };
                if let Some(v) = settled {
                    out.entries.insert(key.clone(), v.clone());
                }
                if out.clashes.last().is_some_and(|c| c.entry == *key) {
                    EntryChange::Clash
                } else {
                    EntryChange::Merged
                }
            }
        };
        out.changes.push((key.clone(), change));
    }
    out
}

/// The three-way merge of one value at `path` of `entry` (`secret` when under `env` or
/// `headers`); `None` means absent afterwards.
#[allow(clippy::too_many_arguments)]
fn merge_value(
    entry: &EntryKey,
    path: &str,
    secret: bool,
    base: Option<&Value>,
    ours: Option<&Value>,
    theirs: Option<&Value>,
    pick: &dyn Fn(&Clash) -> Option<Pick>,
    clashes: &mut Vec<Clash>,
) -> Option<Value> {
    let same_as_base = |side: Option<&Value>| match (base, side) {
        (Some(b), Some(s)) => *b == mask(s),
        (None, None) => true,
        _ => false,
    };
    if ours == theirs || same_as_base(theirs) {
        return ours.cloned();
    }
    if same_as_base(ours) {
        return theirs.cloned();
    }
    if let (Some(Value::Object(o)), Some(Value::Object(t))) = (ours, theirs) {
        let empty = Map::new();
        let b = match base {
            Some(Value::Object(b)) => b,
            _ => &empty,
        };
        let mut keys: Vec<&String> = b.keys().chain(o.keys()).chain(t.keys()).collect();
        keys.sort();
        keys.dedup();
        let mut merged = Map::new();
        for k in keys {
            let sub = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            let secret = secret || is_secret_field(k);
            let (bk, ok, tk) = (b.get(k), o.get(k), t.get(k));
            if let Some(v) = merge_value(entry, &sub, secret, bk, ok, tk, pick, clashes) {
                merged.insert(k.clone(), v);
            }
        }
        return Some(Value::Object(merged));
    }
    let clash = Clash {
        entry: entry.clone(),
        path: path.to_owned(),
        base: base.cloned(),
        ours: ours.map(|v| mask_in(v, secret)),
        theirs: theirs.map(|v| mask_in(v, secret)),
    };
    match pick(&clash) {
        Some(Pick::Theirs) => theirs.cloned(),
        Some(Pick::Ours) => ours.cloned(),
        None => {
            clashes.push(clash);
            ours.cloned()
        }
    }
}

/// The entries as they are kept for the next merge's base: masked.
pub fn as_base(entries: &Entries) -> Entries {
    entries.iter().map(|(k, v)| (k.clone(), mask(v))).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn server(v: Value) -> Entries {
        Entries::from([(
            EntryKey::Mcp {
                server: "gh".to_owned(),
            },
            v,
        )])
    }

    fn none(_: &Clash) -> Option<Pick> {
        None
    }

    #[test]
    fn different_keys_merge_and_the_same_key_clashes() {
        let base = as_base(&server(
            json!({"command": "npx", "args": ["a"], "env": {"T": "${T}"}}),
        ));
        let ours = server(
            json!({"command": "npx", "args": ["a"], "env": {"T": "${T}", "LOCAL": "secret-value"}}),
        );
        let theirs =
            server(json!({"command": "npx", "args": ["a", "--fast"], "env": {"T": "${T}"}}));
        let m = merge(&base, &ours, &theirs, &none);
        assert!(m.clashes.is_empty(), "{:?}", m.clashes);
        assert_eq!(
            m.entries.values().next().unwrap(),
            &json!({"command": "npx", "args": ["a", "--fast"], "env": {"T": "${T}", "LOCAL": "secret-value"}})
        );
        assert_eq!(m.changes[0].1, EntryChange::Merged);

        let ours = server(json!({"command": "node", "args": ["a"], "env": {"T": "${T}"}}));
        let theirs = server(json!({"command": "bun", "args": ["a"], "env": {"T": "${T}"}}));
        let m = merge(&base, &ours, &theirs, &none);
        assert_eq!(m.clashes.len(), 1);
        assert_eq!(m.clashes[0].path, "command");
        let m = merge(&base, &ours, &theirs, &|c| {
            (c.path == "command").then_some(Pick::Theirs)
        });
        assert!(m.clashes.is_empty());
        assert_eq!(m.entries.values().next().unwrap()["command"], "bun");
    }

    #[test]
    fn a_local_deletion_stays_deleted_and_a_secret_compares_masked() {
        let deployed = server(json!({"command": "x", "env": {"K": "literal-secret"}}));
        let base = as_base(&deployed);
        assert!(
            !serde_json::to_string(&base.values().next())
                .unwrap()
                .contains("literal-secret")
        );
        // Unchanged on both sides through the mask.
        let m = merge(&base, &deployed, &deployed, &none);
        assert_eq!(m.changes[0].1, EntryChange::Unchanged);
        // The collection changed it, the user deleted it: stays deleted, reported.
        let theirs = server(json!({"command": "y"}));
        let m = merge(&base, &Entries::new(), &theirs, &none);
        assert!(m.entries.is_empty());
        assert_eq!(m.changes[0].1, EntryChange::DeletedLocally);
        assert_eq!(m.deleted_but_changed.len(), 1);
        // Removed from the collection, unedited here: removed.
        let m = merge(&base, &deployed, &Entries::new(), &none);
        assert_eq!(m.changes[0].1, EntryChange::Removed);
        // Removed from the collection, edited here: a clash of the whole entry.
        let edited = server(json!({"command": "z", "env": {"K": "literal-secret"}}));
        let m = merge(&base, &edited, &Entries::new(), &none);
        assert_eq!(m.changes[0].1, EntryChange::Clash);
        assert_eq!(m.clashes[0].path, "");
        assert!(!format!("{:?}", m.clashes[0]).contains("literal-secret"));
        // Both changed the secret: the clash names the key and shows its values masked.
        let mine = server(json!({"command": "x", "env": {"K": "mine-secret"}}));
        let team = server(json!({"command": "x", "env": {"K": "${TEAM_K}"}}));
        let m = merge(&base, &mine, &team, &none);
        assert_eq!(m.clashes.len(), 1);
        let clash = &m.clashes[0];
        assert_eq!(clash.path, "env.K");
        let shown = format!("{clash:?}");
        assert!(
            !shown.contains("mine-secret") && !shown.contains("literal-secret"),
            "{shown}"
        );
        assert_eq!(
            clash.theirs,
            Some(json!("${TEAM_K}")),
            "a reference is shown"
        );
    }
}
