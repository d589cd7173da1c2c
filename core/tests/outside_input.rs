//! Property tests: every parser of outside input — upstream specs, artifact ids, tree entry
//! names, TOML records and collection files — takes arbitrary text without a panic, and
//! reading a malformed file never writes anything.

use proptest::prelude::*;
use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::display::escaped;
use skillmeat_core::model::upstream::UpstreamSpec;
use skillmeat_core::storage::collection::{Lock, Manifest};
use skillmeat_core::storage::records::DeploymentFile;
use skillmeat_core::storage::upstream_tree::check_name;

/// Text that is mostly the shapes these parsers expect, with arbitrary bytes mixed in.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(
            prop_oneof![
                Just("[[deployed]]\n".to_owned()),
                Just("[[artifacts]]\n".to_owned()),
                Just("artifact_name = \"x\"\n".to_owned()),
                Just("artifact_type = \"skill\"\n".to_owned()),
                Just("id = \"skill:x\"\n".to_owned()),
                Just("content_hash = \"".to_owned()),
                Just("\"\n".to_owned()),
                Just("..".to_owned()),
                Just("/".to_owned()),
                Just("#".to_owned()),
                Just("@".to_owned()),
                Just(":".to_owned()),
                Just("\0".to_owned()),
                "[a-z0-9]{0,8}".prop_map(|s| s),
                any::<char>().prop_map(String::from),
            ],
            0..24,
        )
        .prop_map(|parts| parts.concat()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn specs_and_ids_never_panic(text in hostile_text()) {
        if let Ok(spec) = UpstreamSpec::parse(&text) {
            // What parses has a path with no way out of the repository.
            prop_assert!(!spec.path.split('/').any(|p| p == ".." || p == "."));
        }
        let _ = text.parse::<ArtifactId>();
    }

    #[test]
    fn accepted_entry_names_stay_in_their_folder(name in hostile_text()) {
        if check_name(&name).is_ok() {
            prop_assert!(!name.is_empty() && name != "." && name != "..");
            prop_assert!(!name.contains('/') && !name.contains('\\') && !name.contains('\0'));
            prop_assert!(!name.eq_ignore_ascii_case(".git"));
        }
    }

    #[test]
    fn escaped_text_has_no_control_characters(text in hostile_text()) {
        prop_assert!(!escaped(&text).chars().any(char::is_control));
    }

    #[test]
    fn malformed_records_and_collection_files_are_errors_and_nothing_is_written(
        text in hostile_text()
    ) {
        let dir = tempfile::tempdir().unwrap();
        let claude = dir.path().join(".claude");
        std::fs::create_dir_all(&claude).unwrap();
        for file in [".claude/.skillmeat-deployed.toml", "collection.toml", "collection.lock"] {
            std::fs::write(dir.path().join(file), &text).unwrap();
        }
        let _ = DeploymentFile::load(dir.path());
        let _ = Manifest::load(dir.path());
        let _ = Lock::load(dir.path());
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        prop_assert_eq!(names, [".claude", "collection.lock", "collection.toml"]);
        for file in [".claude/.skillmeat-deployed.toml", "collection.toml", "collection.lock"] {
            prop_assert_eq!(std::fs::read_to_string(dir.path().join(file)).unwrap(), text.clone());
        }
    }
}
