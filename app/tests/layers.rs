//! The app's layering, checked from the source by `skillmeat_testutils::layers`: text helpers and
//! wire types at the bottom, then the server functions, the live job feed, components, and pages
//! on top (only `lib.rs`, the router, imports a page); no cycle between modules, and a `//!` doc
//! on every module.

#[test]
fn modules_import_down_the_layers_never_in_a_cycle_and_say_what_they_own() {
    skillmeat_testutils::layers::assert_layered(
        &skillmeat_testutils::crate_dir().join("src"),
        &[
            "format",
            "pair",
            "dto",
            "codec",
            "api",
            "live",
            "components",
            "pages",
        ],
        20,
    );
}
