//! The one integration-test binary of `skillmeat-core`: tests on real temp dirs.

mod hashing;
