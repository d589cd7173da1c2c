//! Content hashing of real trees on disk.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use skillmeat_core::model::hash::{self, HashAlgorithm, HashError};

fn write(root: &Path, rel: &str, content: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

#[test]
fn a_skill_folder_hashes_to_the_golden_value() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "SKILL.md", b"x");
    write(tmp.path(), "a-b", b"");
    write(tmp.path(), "scripts/a.py", b"print(1)\n");
    fs::set_permissions(
        tmp.path().join("scripts/a.py"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    // Empty folders and ignored names are not part of the tree.
    fs::create_dir_all(tmp.path().join("empty/deeper")).unwrap();
    write(tmp.path(), ".git/HEAD", b"ref: refs/heads/main");
    write(
        tmp.path(),
        "scripts/__pycache__/a.cpython-311.pyc",
        b"\0bytecode",
    );
    write(tmp.path(), ".DS_Store", b"\0");

    let h = hash::hash_path(tmp.path()).unwrap();
    assert_eq!(
        h.to_hex(),
        "1d48966a2ebbd6a891cb9495c719f36af47957396822f9a8e167d3ff65a5a78d"
    );
}

#[test]
fn a_single_file_artifact_is_a_tree_of_that_file() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "fix.md", b"Fix it.\n");
    let h = hash::hash_path(&tmp.path().join("fix.md")).unwrap();
    assert_eq!(
        h.to_hex(),
        "3ff7d9326dc04528380a6761baf0be3a98a2a3c694ffc7616afe5fc83634c8de"
    );
}

#[test]
fn any_change_of_content_name_or_mode_changes_the_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "SKILL.md", b"one");
    let base = hash::hash_path(root).unwrap();

    write(root, "SKILL.md", b"two");
    let edited = hash::hash_path(root).unwrap();
    assert_ne!(base, edited);

    fs::set_permissions(root.join("SKILL.md"), fs::Permissions::from_mode(0o755)).unwrap();
    let chmodded = hash::hash_path(root).unwrap();
    assert_ne!(edited, chmodded);

    fs::set_permissions(root.join("SKILL.md"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::rename(root.join("SKILL.md"), root.join("skill.md")).unwrap();
    assert_ne!(edited, hash::hash_path(root).unwrap());
}

// Expected values produced by the Python original's own algorithm (sorted(path.rglob("*")),
// relative path then bytes) run on the same tree.
#[test]
fn legacy_matches_the_python_original() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "a/b", b"B");
    write(root, "a-b/x", b"X");
    write(root, ".git/HEAD", b"ref");
    write(root, "SKILL.md", b"# S");
    assert_eq!(
        hash::legacy_hash_path(root).unwrap().to_hex(),
        "a5f5301beb03bb59301ccc385d4a44b7bc658734c0dd716c007eb43e14b332b5"
    );
    assert_eq!(
        hash::hash_with(HashAlgorithm::Legacy, &root.join("SKILL.md"))
            .unwrap()
            .to_hex(),
        "c93c6f87bf5165a705365e8ad12607fce86f3bd560284e25fb8ea859b0c7c331"
    );
}

#[test]
fn symlinks_are_refused_never_followed() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret", b"do not read");
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "SKILL.md", b"x");
    std::os::unix::fs::symlink(outside.path().join("secret"), tmp.path().join("link")).unwrap();

    for algorithm in [HashAlgorithm::V1, HashAlgorithm::Legacy] {
        let err = hash::hash_with(algorithm, tmp.path()).unwrap_err();
        assert!(
            matches!(&err, HashError::Symlink { path } if path.ends_with("link")),
            "{err}"
        );
        assert!(err.to_string().contains("symlink"), "{err}");
    }

    // A symlinked artifact root is refused too.
    let link_root = outside.path().join("root-link");
    std::os::unix::fs::symlink(tmp.path(), &link_root).unwrap();
    assert!(matches!(
        hash::hash_path(&link_root),
        Err(HashError::Symlink { .. })
    ));
}

#[test]
fn a_missing_artifact_is_an_io_error_naming_the_path() {
    let err = hash::hash_path(Path::new("/nonexistent/skillmeat/x")).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/skillmeat/x"),
        "{err}"
    );
}
