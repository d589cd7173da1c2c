//! The stat cache: lets drift skip re-hashing files that have not changed, like git's index.
//!
//! Each entry maps a file's absolute path to its stat data (size, mtime and ctime in
//! nanoseconds, inode, exec bit) and content digest. A lookup re-uses the digest only if every
//! stat field is unchanged **and** the entry is not *racy*: the file's mtime must be at least
//! [`RACY_WINDOW_NS`] older than the moment the digest was computed. Otherwise an edit made in
//! the same timestamp tick as the hashing (same size, same mtime) could go unseen; racy entries
//! are simply hashed again (git's racy-git rule, with a window that covers coarse file systems).
//!
//! The cache is only an accelerator: a missing, unreadable or corrupt cache file means an empty
//! cache, and saving it is best-effort for the caller. It lives under `$SKILLMEAT_HOME/cache/`,
//! never in a project.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::model::error::{IoResultExt as _, PathError};
use crate::model::hash::{self, ContentHash, FileDigest, HashError};
use crate::storage::atomic::write_atomic;

/// How much older than the hashing moment a file's mtime must be for its entry to be trusted.
pub const RACY_WINDOW_NS: i128 = 2_000_000_000;

const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stat {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    ino: u64,
    executable: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    stat: Stat,
    digest: ContentHash,
    /// When the digest was computed (ns since the epoch, taken before reading).
    hashed_at_ns: i128,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    entries: HashMap<PathBuf, Entry>,
}

/// Counters of one run, for benchmarks and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Digests re-used without reading the file.
    pub hits: u64,
    /// Files read and hashed.
    pub misses: u64,
    /// Of the misses, those whose stat matched but whose entry was racy.
    pub racy: u64,
}

/// A stat cache loaded for one run.
#[derive(Debug)]
pub struct StatCache {
    entries: HashMap<PathBuf, Entry>,
    run_started_ns: i128,
    stats: CacheStats,
    changed: bool,
}

impl StatCache {
    /// An empty cache for a run starting at `now`.
    pub fn new(now: SystemTime) -> Self {
        Self {
            entries: HashMap::new(),
            run_started_ns: epoch_ns(now),
            stats: CacheStats::default(),
            changed: false,
        }
    }

    /// Loads the cache file at `path` for a run starting at `now`. Anything unreadable is an
    /// empty cache: correctness never depends on it.
    pub fn load(path: &Path, now: SystemTime) -> Self {
        let mut cache = Self::new(now);
        if let Ok(bytes) = fs::read(path)
            && let Ok(file) = serde_json::from_slice::<CacheFile>(&bytes)
            && file.format == FORMAT
        {
            cache.entries = file.entries;
        }
        cache
    }

    /// Writes the cache atomically, if anything changed in this run.
    pub fn save(&mut self, path: &Path) -> Result<(), PathError> {
        if !self.changed {
            return Ok(());
        }
        let file = CacheFile {
            format: FORMAT,
            entries: std::mem::take(&mut self.entries),
        };
        let result = match serde_json::to_vec(&file) {
            Ok(bytes) => write_atomic(path, &bytes),
            Err(e) => Err(PathError::new("write", path, std::io::Error::other(e))),
        };
        self.entries = file.entries;
        if result.is_ok() {
            self.changed = false;
        }
        result
    }

    /// This run's counters.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// The digest of the file at `path` (named `rel` in its tree), from the cache when its
    /// entry is fresh and not racy, else by reading it.
    pub fn digest(&mut self, rel: String, path: &Path) -> Result<FileDigest, HashError> {
        let meta = fs::symlink_metadata(path).context("read", path)?;
        if meta.file_type().is_symlink() {
            return Err(HashError::Symlink {
                path: path.to_owned(),
            });
        }
        let stat = stat_of(&meta);
        if let Some(entry) = self.entries.get(path)
            && entry.stat == stat
        {
            if stat.mtime_ns + RACY_WINDOW_NS <= entry.hashed_at_ns {
                self.stats.hits += 1;
                return Ok(FileDigest {
                    path: rel,
                    executable: stat.executable,
                    size: stat.size,
                    digest: entry.digest,
                });
            }
            self.stats.racy += 1;
        }
        self.stats.misses += 1;
        let digest = hash::digest_file(rel, path)?;
        // Keep the stat taken before reading: if the file changed while being read, its new
        // stat will not match next time and it is read again.
        let entry = Entry {
            stat,
            digest: digest.digest,
            hashed_at_ns: self.run_started_ns,
        };
        self.entries.insert(path.to_owned(), entry);
        self.changed = true;
        Ok(digest)
    }

    /// The `v1` content hash of the artifact at `root`, reading only files whose entries are
    /// stale or racy.
    pub fn hash_path(&mut self, root: &Path) -> Result<ContentHash, HashError> {
        let mut digests = Vec::new();
        for (rel, path) in hash::list_files(root)? {
            digests.push(self.digest(rel, &path)?);
        }
        Ok(hash::tree_hash(&digests))
    }
}

fn epoch_ns(t: SystemTime) -> i128 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

#[cfg(unix)]
fn stat_of(meta: &fs::Metadata) -> Stat {
    use std::os::unix::fs::MetadataExt;
    Stat {
        size: meta.size(),
        mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
        ino: meta.ino(),
        executable: meta.mode() & 0o100 != 0,
    }
}

#[cfg(not(unix))]
fn stat_of(meta: &fs::Metadata) -> Stat {
    Stat {
        size: meta.len(),
        mtime_ns: meta.modified().map(epoch_ns).unwrap_or(0),
        ctime_ns: 0,
        ino: 0,
        executable: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn mtime(path: &Path) -> SystemTime {
        fs::metadata(path).unwrap().modified().unwrap()
    }

    #[test]
    fn unchanged_old_files_are_not_read_again() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("SKILL.md");
        fs::write(&f, "one").unwrap();
        let later = mtime(&f) + Duration::from_secs(10);
        let cache_file = tmp.path().join("cache.json");

        let mut cache = StatCache::load(&cache_file, later);
        let first = cache
            .hash_path(tmp.path().join("SKILL.md").as_path())
            .unwrap();
        assert_eq!(cache.stats().misses, 1);
        cache.save(&cache_file).unwrap();

        let mut cache = StatCache::load(&cache_file, later);
        assert_eq!(cache.hash_path(&f).unwrap(), first);
        assert_eq!(
            cache.stats(),
            CacheStats {
                hits: 1,
                misses: 0,
                racy: 0
            }
        );
        assert_eq!(first, hash::hash_path(&f).unwrap());
    }

    // The racy-git case. On a file system with coarse timestamps, an edit made in the same tick
    // as the hashing leaves size, mtime and ctime unchanged: the entry's stat matches but its
    // digest is stale. Plant exactly that entry and check the racy rule is what protects it.
    #[test]
    fn a_same_tick_edit_is_never_missed() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("a.md");
        fs::write(&f, "edited").unwrap();
        let stat = stat_of(&fs::symlink_metadata(&f).unwrap());
        let stale = ContentHash::from_bytes([7; 32]);
        let plant = |cache: &mut StatCache, hashed_at_ns| {
            let entry = Entry {
                stat: stat.clone(),
                digest: stale,
                hashed_at_ns,
            };
            cache.entries.insert(f.clone(), entry);
        };

        // Hashed in the same tick as the last write: racy, so the file is read again.
        let mut cache = StatCache::new(SystemTime::now());
        plant(&mut cache, stat.mtime_ns);
        let d = cache.digest("a.md".into(), &f).unwrap();
        assert_ne!(d.digest, stale, "a racy entry was trusted");
        assert_eq!(
            cache.stats(),
            CacheStats {
                hits: 0,
                misses: 1,
                racy: 1
            }
        );

        // Hashed well after the last write: trusted (this is what makes warm drift fast).
        let mut cache = StatCache::new(SystemTime::now());
        plant(&mut cache, stat.mtime_ns + RACY_WINDOW_NS);
        assert_eq!(cache.digest("a.md".into(), &f).unwrap().digest, stale);
        assert_eq!(cache.stats().hits, 1);
    }

    #[test]
    fn an_edit_is_seen_even_when_the_mtime_is_put_back() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("a.md");
        fs::write(&f, "one").unwrap();
        let tick = mtime(&f);
        let mut cache = StatCache::new(tick + Duration::from_secs(10));
        let before = cache.hash_path(&f).unwrap();
        fs::write(&f, "two").unwrap();
        fs::File::options()
            .write(true)
            .open(&f)
            .unwrap()
            .set_modified(tick)
            .unwrap();
        assert_ne!(
            cache.hash_path(&f).unwrap(),
            before,
            "ctime change was missed"
        );
    }

    #[test]
    fn a_replaced_file_with_the_same_size_and_mtime_is_read_again() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("a.md");
        fs::write(&f, "one").unwrap();
        let old = mtime(&f) - Duration::from_secs(60);
        fs::File::options()
            .write(true)
            .open(&f)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let mut cache = StatCache::new(SystemTime::now());
        let before = cache.hash_path(&f).unwrap();

        // Replace by rename (new inode), then restore the old mtime.
        let tmp_f = tmp.path().join("a.new");
        fs::write(&tmp_f, "two").unwrap();
        fs::File::options()
            .write(true)
            .open(&tmp_f)
            .unwrap()
            .set_modified(old)
            .unwrap();
        fs::rename(&tmp_f, &f).unwrap();
        assert_ne!(cache.hash_path(&f).unwrap(), before);
    }

    #[test]
    fn a_corrupt_cache_file_is_an_empty_cache() {
        let tmp = tempfile::tempdir().unwrap();
        let cache_file = tmp.path().join("cache.json");
        fs::write(&cache_file, "{not json").unwrap();
        let cache = StatCache::load(&cache_file, SystemTime::now());
        assert!(cache.entries.is_empty());
    }
}
