//! The pieces pages are built from. A component may use `api`, `dto`, `format`, `live` and
//! `pair`, and other components; it never imports a page.

pub mod badge;
pub mod changelog;
pub mod chrome;
pub mod conflict_dialog;
pub mod diff_viewer;
pub mod patch_export;
pub mod remove;
pub mod restore;
pub mod sync_dialog;
pub mod sync_lock;
pub mod tag_control;
pub mod timeline;
pub mod toasts;
pub mod update_all;
pub mod update_everywhere;
