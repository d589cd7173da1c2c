//! core's layering, checked from the source by `skillmeat_testutils::layers`: model → storage →
//! engine → ops → jobs (as `lib.rs` draws it), imports only downwards, no cycle between modules,
//! and a `//!` doc on every module.

use std::path::Path;

/// core's layers, lowest first.
const LAYERS: [&str; 5] = ["model", "storage", "engine", "ops", "jobs"];

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn modules_import_down_the_layers_and_never_in_a_cycle() {
    let modules = skillmeat_testutils::layers::crate_sources(&src()).len();
    assert!(modules > 20, "read {modules} modules");
    if let Err(problems) = skillmeat_testutils::layers::check(&src(), &LAYERS) {
        panic!("{problems}");
    }
}

#[test]
fn every_module_says_what_it_owns() {
    let missing = skillmeat_testutils::layers::undocumented(&src());
    assert!(
        missing.is_empty(),
        "modules without a `//!` doc: {missing:?}"
    );
}
