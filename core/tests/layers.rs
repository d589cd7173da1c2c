//! core's layering, checked from the source by `skillmeat_testutils::layers`: model → storage →
//! engine → ops → jobs (as `lib.rs` draws it), imports only downwards, no cycle between modules,
//! and a `//!` doc on every module.

#[test]
fn modules_import_down_the_layers_never_in_a_cycle_and_say_what_they_own() {
    skillmeat_testutils::layers::assert_layered(
        &skillmeat_testutils::crate_dir().join("src"),
        &["model", "storage", "engine", "ops", "jobs"],
        20,
    );
}
