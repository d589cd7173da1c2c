//! The two DTO fields postcard cannot read back as they are (see [`crate::codec`]): an
//! internally tagged enum and a `serde_json::Value` both need a self-describing format. In JSON
//! (`is_human_readable()`) they are written and read as declared; in postcard they cross as
//! plain mirror enums, without loss.
//!
//! The wasm bundle (`hydrate`) reads only postcard, so it is built without the JSON reading
//! path: that path would bring serde's buffering of untyped content back into the bundle.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::HunkView;

/// `Vec<HunkView>`: tagged with `kind` in JSON, by variant index in postcard.
pub mod hunks {
    use super::*;

    #[derive(Serialize, Deserialize)]
    enum Wire {
        Clean {
            text: String,
        },
        Conflict {
            ours: String,
            base: Option<String>,
            theirs: String,
        },
    }

    pub fn serialize<S: Serializer>(hunks: &[HunkView], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return hunks.serialize(s);
        }
        s.collect_seq(hunks.iter().map(|h| match h.clone() {
            HunkView::Clean { text } => Wire::Clean { text },
            HunkView::Conflict { ours, base, theirs } => Wire::Conflict { ours, base, theirs },
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<HunkView>, D::Error> {
        #[cfg(not(feature = "hydrate"))]
        if d.is_human_readable() {
            return Vec::<HunkView>::deserialize(d);
        }
        let wire = Vec::<Wire>::deserialize(d)?;
        Ok(wire
            .into_iter()
            .map(|w| match w {
                Wire::Clean { text } => HunkView::Clean { text },
                Wire::Conflict { ours, base, theirs } => HunkView::Conflict { ours, base, theirs },
            })
            .collect())
    }
}

/// `Option<serde_json::Value>`: itself in JSON, a tree of [`Json`](json::Json) in postcard.
pub mod json {
    use serde_json::{Map, Number, Value};

    use super::*;

    /// A JSON value that says what it is, for formats that do not.
    #[derive(Serialize, Deserialize)]
    enum Json {
        Null,
        Bool(bool),
        Unsigned(u64),
        Signed(i64),
        Float(f64),
        String(String),
        Array(Vec<Json>),
        Object(Vec<(String, Json)>),
    }

    impl From<&Value> for Json {
        fn from(v: &Value) -> Self {
            match v {
                Value::Null => Json::Null,
                Value::Bool(b) => Json::Bool(*b),
                Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                    (Some(u), _) => Json::Unsigned(u),
                    (None, Some(i)) => Json::Signed(i),
                    (None, None) => Json::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
                Value::String(s) => Json::String(s.clone()),
                Value::Array(a) => Json::Array(a.iter().map(Json::from).collect()),
                Value::Object(o) => {
                    Json::Object(o.iter().map(|(k, v)| (k.clone(), Json::from(v))).collect())
                }
            }
        }
    }

    impl From<Json> for Value {
        fn from(j: Json) -> Self {
            match j {
                Json::Null => Value::Null,
                Json::Bool(b) => Value::Bool(b),
                Json::Unsigned(u) => Value::Number(u.into()),
                Json::Signed(i) => Value::Number(i.into()),
                Json::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
                Json::String(s) => Value::String(s),
                Json::Array(a) => Value::Array(a.into_iter().map(Value::from).collect()),
                Json::Object(o) => Value::Object(
                    o.into_iter()
                        .map(|(k, v)| (k, Value::from(v)))
                        .collect::<Map<_, _>>(),
                ),
            }
        }
    }

    pub fn serialize<S: Serializer>(v: &Option<Value>, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return v.serialize(s);
        }
        v.as_ref().map(Json::from).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
        #[cfg(not(feature = "hydrate"))]
        if d.is_human_readable() {
            return Option::<Value>::deserialize(d);
        }
        Ok(Option::<Json>::deserialize(d)?.map(Value::from))
    }
}
