//! The app's layering, checked from the source by `skillmeat_testutils::layers`: text helpers and
//! wire types at the bottom, then the server functions, the live job feed, components, and pages
//! on top (only `lib.rs`, the router, imports a page); no cycle between modules, and a `//!` doc
//! on every module.

use std::path::Path;

/// The app's layers, lowest first.
const LAYERS: [&str; 8] = [
    "format",
    "pair",
    "dto",
    "codec",
    "api",
    "live",
    "components",
    "pages",
];

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
