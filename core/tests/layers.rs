//! core's layering, checked from the source by `skillmeat_testutils::layers`: model → storage →
//! engine → ops → jobs (as `lib.rs` draws it), imports only downwards, no cycle between modules,
//! and a `//!` doc on every module.

use std::path::Path;

#[test]
fn modules_import_down_the_layers_never_in_a_cycle_and_say_what_they_own() {
    skillmeat_testutils::layers::assert_layered(
        // The crate as the test runner names it now: a binary reused from another clone's
        // build (CI shares its build folder) would otherwise read that clone's sources.
        &std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(
                || Path::new(env!("CARGO_MANIFEST_DIR")).to_owned(),
                Into::into,
            )
            .join("src"),
        &["model", "storage", "engine", "ops", "jobs"],
        20,
    );
}
