//! Test helpers shared by the crates' integration tests: temporary SkillMeat homes and the
//! shared fixture bundle. Real directories only; nothing here mocks `skillmeat-core`.

pub mod git;
pub mod layers;

use std::path::{Path, PathBuf};

use skillmeat_core::storage::home::Home;
use tempfile::TempDir;

/// A SkillMeat home in a temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempHome {
    dir: TempDir,
}

impl TempHome {
    /// Creates an empty home.
    pub fn new() -> std::io::Result<Self> {
        Ok(Self {
            dir: tempfile::Builder::new()
                .prefix("skillmeat-home-")
                .tempdir()?,
        })
    }

    /// The home's root.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The core view of this home.
    pub fn home(&self) -> Home {
        Home::new(self.dir.path())
    }

    /// Writes a skill `<name>` with a `SKILL.md` into collection `collection`.
    pub fn write_skill(
        &self,
        collection: &str,
        name: &str,
        body: &str,
    ) -> std::io::Result<PathBuf> {
        let dir = self
            .dir
            .path()
            .join("collections")
            .join(collection)
            .join("skills")
            .join(name);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("SKILL.md"), body)?;
        Ok(dir)
    }
}

/// Runs a future to completion on a fresh single-threaded runtime, for sync tests of async code.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

/// The folder of the crate whose tests are running, as cargo names it when it runs them. Not
/// `env!("CARGO_MANIFEST_DIR")`: with CI's shared build folder (`.ci/run`) a test binary
/// compiled in one clone can run in another, and would read the first clone's files. Falls
/// back to the current folder, which cargo and nextest set to the crate's too.
pub fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default()
}

/// The fixture bundle of real skills (`../shared/fixtures/upstream-skills.bundle`), if present.
///
/// Tests that need it must skip, loudly, when this is `None`: the suite also runs where
/// `shared/` is absent.
pub fn fixture_bundle() -> Option<PathBuf> {
    let here = crate_dir();
    let candidates = [
        std::env::var_os("SKILLMEAT_FIXTURES").map(PathBuf::from),
        Some(here.join("../../shared/fixtures")),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|dir| dir.join("upstream-skills.bundle"))
        .find(|p| p.is_file())
}

/// A small deterministic generator (xorshift64*), so generated test inputs are the same on
/// every run.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}
