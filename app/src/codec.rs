//! How the web UI's data travels between the server and the browser: postcard, a compact
//! binary serde format, for server functions (`#[server(input = Postcard, output = Postcard)]`)
//! and for the resources a server render hands to the hydrating page (use [`resource`] instead
//! of `Resource::new`).
//!
//! Why not JSON, which the REST API speaks: a self-describing format makes every DTO's
//! `Deserialize` match field names and accept fields in any order, and brings serde_json's
//! parser into the wasm bundle. Postcard reads fields in order, so the bundle holds neither
//! (422 → 374 KB gzipped, measured). The DTOs are the same; the few serde features postcard
//! cannot read back (an internally tagged enum, a `serde_json::Value`) are adapted in
//! [`crate::dto`], where `is_human_readable()` tells JSON from postcard.
//!
//! Only the browser bundle and the server built from the same source speak this, so the
//! format need not be stable across versions.

use leptos::prelude::Resource;
use leptos::server::codee::{Decoder, Encoder};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use server_fn::codec::Postcard;

/// Postcard for resources (base64 text inside the server-rendered page).
#[derive(Debug, Clone, Copy)]
pub struct PostcardCodec;

impl<T: Serialize> Encoder<T> for PostcardCodec {
    type Error = postcard::Error;
    type Encoded = Vec<u8>;

    fn encode(val: &T) -> Result<Vec<u8>, postcard::Error> {
        postcard::to_allocvec(val)
    }
}

impl<T: DeserializeOwned> Decoder<T> for PostcardCodec {
    type Error = postcard::Error;
    type Encoded = [u8];

    fn decode(val: &[u8]) -> Result<T, postcard::Error> {
        postcard::from_bytes(val)
    }
}

/// `Resource::new` with the [`PostcardCodec`]: reloads with `fetcher` whenever `source` changes.
#[track_caller]
pub fn resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, PostcardCodec>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::{ConflictFileView, HunkView, JobView};

    fn round_trip<T: Serialize + DeserializeOwned>(v: &T) -> T {
        let bytes = <PostcardCodec as Encoder<T>>::encode(v).unwrap();
        <PostcardCodec as Decoder<T>>::decode(&bytes).unwrap()
    }

    #[test]
    fn hunks_cross_in_postcard_and_keep_their_json_shape() {
        let hunks = vec![
            HunkView::Clean { text: "a\n".into() },
            HunkView::Conflict {
                ours: "b\n".into(),
                base: None,
                theirs: "c\n".into(),
            },
        ];
        let file = ConflictFileView {
            path: "SKILL.md".into(),
            kind: "content".into(),
            resolved: false,
            whole_only: false,
            base: None,
            ours: Some("b\n".into()),
            theirs: Some("c\n".into()),
            merged: None,
            hunks: hunks.clone(),
            reusable_from: Some("/src/api".into()),
        };
        // The enum alone is tagged by `kind`, which postcard cannot read back: the field's
        // adapter is what makes it cross.
        assert!(
            postcard::from_bytes::<Vec<HunkView>>(&postcard::to_allocvec(&hunks).unwrap()).is_err()
        );
        assert_eq!(round_trip(&file).hunks, hunks);
        let json = serde_json::to_value(&file).unwrap();
        assert_eq!(
            json["hunks"],
            serde_json::json!([
                {"kind": "clean", "text": "a\n"},
                {"kind": "conflict", "ours": "b\n", "base": null, "theirs": "c\n"},
            ])
        );
        let back: ConflictFileView = serde_json::from_value(json).unwrap();
        assert_eq!(back.hunks, hunks);
    }

    #[test]
    fn a_job_result_crosses_in_postcard_with_what_the_pages_read() {
        let json = serde_json::json!({
            "id": 7, "kind": "sync", "state": "success", "direction": "collection-to-project",
            "artifacts": ["skill:a"], "project_path": null, "projects": [], "collection": "default",
            "strategy": "auto", "dry_run": true, "plan_job": null, "pct": 100, "created_at": "t",
            "started_at": null, "ended_at": null, "trace_id": "x", "log_excerpt": "",
            "conflicts": [], "attempts": 1,
            "result": [
                {"id": "skill:a", "outcome": "updated", "from": "abc",
                 "files": [{"path": "SKILL.md", "action": "update", "conflict": null, "bytes": 3}]},
                {"id": "skill:b", "error": "no such artifact", "ratio": -0.5, "n": -3},
            ],
        });
        let job: JobView = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(
            serde_json::to_value(&job).unwrap(),
            json,
            "JSON keeps the whole result"
        );
        let crossed = round_trip(&job);
        assert_eq!(crossed.result, job.result, "postcard keeps it too");
        assert_eq!(crossed.trace_id, job.trace_id);
        let none = JobView {
            result: None,
            ..job
        };
        assert_eq!(round_trip(&none).result, None);
    }
}
