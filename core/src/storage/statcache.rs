//! The stat cache: lets drift skip re-hashing files that have not changed, like git's index.
//!
//! Each entry maps a file's absolute path to its stat data (size, mtime and ctime in
//! nanoseconds, inode, exec bit) and content digest. A lookup re-uses the digest only if every
//! stat field is unchanged **and** the entry is not *racy*: the file's mtime must be at least
//! [`RACY_WINDOW_NS`] older than the moment the digest was computed. Otherwise an edit made in
//! the same timestamp tick as the hashing (same size, same mtime) could go unseen; racy entries
//! are simply hashed again (git's racy-git rule, with a window that covers coarse file systems).
//!
//! The file is binary (postcard: varints and raw 32-byte digests, read without parsing text,
//! a third of the JSON it replaces), and [`StatCache::hash_paths`] walks and stats many trees
//! on every core at once, each file's metadata read relative to its open folder.
//!
//! The cache is only an accelerator: a missing, unreadable or corrupt cache file means an empty
//! cache, and saving it is best-effort for the caller. It lives under `$SKILLMEAT_HOME/cache/`,
//! never in a project.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::model::error::{IoResultExt as _, PathError};
use crate::model::hash::{self, ContentHash, FileDigest, HashError};
use crate::storage::atomic::write_atomic;

/// How much older than the hashing moment a file's mtime must be for its entry to be trusted.
pub const RACY_WINDOW_NS: i128 = 2_000_000_000;

/// The cache file's format; another value (or another file) is an empty cache.
const FORMAT: u32 = 2;

/// The most threads [`StatCache::hash_paths`] uses.
const MAX_THREADS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stat {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    ino: u64,
    executable: bool,
}

#[derive(Debug, Clone)]
struct Entry {
    stat: Stat,
    digest: ContentHash,
    /// When the digest was computed (ns since the epoch, taken before reading).
    hashed_at_ns: i128,
}

/// One entry as the file holds it.
#[derive(Serialize, Deserialize)]
struct StoredEntry {
    path: String,
    stat: Stat,
    digest: [u8; 32],
    hashed_at_ns: i128,
}

#[derive(Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    entries: Vec<StoredEntry>,
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

impl CacheStats {
    fn add(&mut self, other: CacheStats) {
        self.hits += other.hits;
        self.misses += other.misses;
        self.racy += other.racy;
    }
}

/// A stat cache loaded for one run.
#[derive(Debug)]
pub struct StatCache {
    entries: HashMap<OsString, Entry>,
    run_started_ns: i128,
    stats: CacheStats,
    changed: bool,
}

/// A tree's hash, `None` when nothing is there.
pub type TreeHash = Result<Option<ContentHash>, HashError>;

/// What one thread found: digests re-used or computed, and the entries to keep.
struct Pass<'a> {
    entries: &'a HashMap<OsString, Entry>,
    run_started_ns: i128,
    fresh: Vec<(OsString, Entry)>,
    stats: CacheStats,
}

impl Pass<'_> {
    fn digest(
        &mut self,
        rel: String,
        path: &Path,
        meta: &fs::Metadata,
    ) -> Result<FileDigest, HashError> {
        if meta.file_type().is_symlink() {
            return Err(HashError::Symlink {
                path: path.to_owned(),
            });
        }
        let stat = stat_of(meta);
        if let Some(entry) = self.entries.get(path.as_os_str())
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
        self.fresh.push((
            path.as_os_str().to_owned(),
            Entry {
                stat,
                digest: digest.digest,
                hashed_at_ns: self.run_started_ns,
            },
        ));
        Ok(digest)
    }

    /// The `v1` hash of the tree at `root`; `None` when nothing is there.
    fn hash_root(&mut self, root: &Path) -> Result<Option<ContentHash>, HashError> {
        let Ok(found) = fs::symlink_metadata(root) else {
            return Ok(None);
        };
        let mut digests = Vec::new();
        for (rel, path, meta) in hash::list_files_found(root, found)? {
            digests.push(self.digest(rel, &path, &meta)?);
        }
        Ok(Some(hash::tree_hash(&digests)))
    }
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
            && let Ok(file) = postcard::from_bytes::<CacheFile>(&bytes)
            && file.format == FORMAT
        {
            cache.entries = file
                .entries
                .into_iter()
                .map(|e| {
                    (
                        OsString::from(e.path),
                        Entry {
                            stat: e.stat,
                            digest: ContentHash::from_bytes(e.digest),
                            hashed_at_ns: e.hashed_at_ns,
                        },
                    )
                })
                .collect();
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
            entries: self
                .entries
                .iter()
                .filter_map(|(p, e)| {
                    Some(StoredEntry {
                        path: p.to_str()?.to_owned(),
                        stat: e.stat.clone(),
                        digest: *e.digest.as_bytes(),
                        hashed_at_ns: e.hashed_at_ns,
                    })
                })
                .collect(),
        };
        let result = match postcard::to_allocvec(&file) {
            Ok(bytes) => write_atomic(path, &bytes),
            Err(e) => Err(PathError::new("write", path, std::io::Error::other(e))),
        };
        if result.is_ok() {
            self.changed = false;
        }
        result
    }

    /// This run's counters.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    fn pass(&self) -> Pass<'_> {
        Pass {
            entries: &self.entries,
            run_started_ns: self.run_started_ns,
            fresh: Vec::new(),
            stats: CacheStats::default(),
        }
    }

    fn keep(&mut self, fresh: Vec<(OsString, Entry)>, stats: CacheStats) {
        self.changed |= !fresh.is_empty();
        self.entries.extend(fresh);
        self.stats.add(stats);
    }

    /// The digest of the file at `path` (named `rel` in its tree), from the cache when its
    /// entry is fresh and not racy, else by reading it.
    pub fn digest(&mut self, rel: String, path: &Path) -> Result<FileDigest, HashError> {
        let meta = fs::symlink_metadata(path).context("read", path)?;
        let mut pass = self.pass();
        let digest = pass.digest(rel, path, &meta);
        let (fresh, stats) = (pass.fresh, pass.stats);
        self.keep(fresh, stats);
        digest
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

    /// The `v1` content hash of each tree in `roots` (`None` where nothing is there), in
    /// order: walked, stat'ed and (where the cache does not know a file) read on up to one
    /// thread per core, the cache shared read-only meanwhile and its new entries kept after.
    pub fn hash_paths(&mut self, roots: &[PathBuf]) -> Vec<TreeHash> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_THREADS)
            .min(roots.len() / 16 + 1);
        let mut results: Vec<Option<TreeHash>> = (0..roots.len()).map(|_| None).collect();
        let passes: Vec<(Vec<(usize, TreeHash)>, Pass<'_>)> = if threads <= 1 {
            let mut pass = self.pass();
            let done = roots
                .iter()
                .enumerate()
                .map(|(i, r)| (i, pass.hash_root(r)))
                .collect();
            vec![(done, pass)]
        } else {
            let this = &*self;
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        scope.spawn(move || {
                            let mut pass = this.pass();
                            let done: Vec<_> = (t..roots.len())
                                .step_by(threads)
                                .map(|i| (i, pass.hash_root(&roots[i])))
                                .collect();
                            (done, pass)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect()
            })
        };
        let mut kept = Vec::new();
        for (done, pass) in passes {
            for (i, r) in done {
                results[i] = Some(r);
            }
            kept.push((pass.fresh, pass.stats));
        }
        for (fresh, stats) in kept {
            self.keep(fresh, stats);
        }
        results.into_iter().map(|r| r.unwrap_or(Ok(None))).collect()
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
            cache.entries.insert(f.clone().into_os_string(), entry);
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
    fn many_trees_at_once_hash_as_one_by_one_and_are_remembered() {
        let tmp = tempfile::tempdir().unwrap();
        let mut roots = Vec::new();
        for i in 0..40 {
            let dir = tmp.path().join(format!("skill-{i}"));
            fs::create_dir_all(dir.join("ref")).unwrap();
            fs::write(dir.join("SKILL.md"), format!("skill {i}")).unwrap();
            fs::write(dir.join("ref/a.md"), format!("ref {i}")).unwrap();
            roots.push(dir);
        }
        roots.push(tmp.path().join("missing"));
        let later = SystemTime::now() + Duration::from_secs(10);
        let cache_file = tmp.path().join("cache.bin");
        let mut cache = StatCache::load(&cache_file, later);
        let got = cache.hash_paths(&roots);
        assert_eq!(cache.stats().misses, 80);
        for (root, h) in roots.iter().zip(&got) {
            let want = root.exists().then(|| hash::hash_path(root).unwrap());
            assert_eq!(h.as_ref().unwrap(), &want, "{}", root.display());
        }
        cache.save(&cache_file).unwrap();
        let mut cache = StatCache::load(&cache_file, later);
        let again = cache.hash_paths(&roots);
        assert_eq!(cache.stats().hits, 80, "every file from the binary cache");
        assert_eq!(cache.stats().misses, 0);
        assert_eq!(
            again
                .iter()
                .map(|r| *r.as_ref().unwrap())
                .collect::<Vec<_>>(),
            got.iter().map(|r| *r.as_ref().unwrap()).collect::<Vec<_>>()
        );
        // A symlink inside one tree is that tree's error; the others still hash.
        std::os::unix::fs::symlink("/etc/passwd", roots[3].join("ref/link.md")).unwrap();
        let mixed = cache.hash_paths(&roots);
        assert!(matches!(mixed[3], Err(HashError::Symlink { .. })));
        assert!(mixed[4].is_ok());
    }

    #[test]
    fn a_corrupt_cache_file_is_an_empty_cache() {
        let tmp = tempfile::tempdir().unwrap();
        let cache_file = tmp.path().join("cache.json");
        fs::write(&cache_file, "{not postcard").unwrap();
        let cache = StatCache::load(&cache_file, SystemTime::now());
        assert!(cache.entries.is_empty());
    }
}
