//! The one integration-test binary of the `skillmeat` crate (one link, not one per file).

mod http;
