//! The stat cache: lets drift skip re-hashing files that have not changed, like git's index.
//!
//! The cache is kept per tree (an artifact's folder, or a one-file artifact): for each tree it
//! has, it records each file's path in the tree, its stat data (size, mtime and ctime in
//! nanoseconds, inode, exec bit) and its content digest. A file's digest is re-used only if
//! every stat field is unchanged **and** the entry is not *racy*: the file's mtime must be at
//! least [`RACY_WINDOW_NS`] older than the moment the digest was computed. Otherwise an edit
//! made in the same timestamp tick as the hashing (same size, same mtime) could go unseen; racy
//! entries are simply hashed again (git's racy-git rule, with a window that covers coarse file
//! systems).
//!
//! It also records each folder of a tree with its stat data and when it was listed. While
//! every folder of a tree has the same stat data and was listed at least [`RACY_WINDOW_NS`]
//! after its mtime, the tree's listing is re-used and only its files are stat'ed, relative to
//! the root's open parent folder: creating, removing or renaming an entry changes the folder's
//! mtime and ctime (POSIX; git's untracked cache relies on the same rule), and putting the mtime
//! back cannot put back the ctime. This is done on Linux, on local file systems only
//! ([`trusts_folders`]): on a network or FUSE mount, and elsewhere, every tree is listed.
//!
//! The file is binary (postcard). Loading it decodes only an index of the trees: each tree's
//! entries stay encoded until that tree is hashed, are then decoded borrowing their paths from
//! the file's bytes, compared with the walk in one merge of two sorted lists (no map of every
//! file, no hashing of long paths), and dropped. What a run holds is the file's bytes and one
//! index entry per tree. [`StatCache::hash_paths`] hashes many trees on every core at once.
//!
//! The cache is only an accelerator: a missing, unreadable or corrupt cache file (or tree)
//! means an empty cache, and saving it is best-effort for the caller. It lives under
//! `$SKILLMEAT_HOME/cache/stat/`, one file per tier ([`tier_file`]), never in a project.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::model::error::PathError;
use crate::model::hash::{self, ContentHash, HashError};
use crate::storage::atomic::write_atomic;

/// The folder of the stat caches, under the home: one file per tier ([`tier_file`]).
pub const CACHE_DIR: &str = "cache/stat";

/// The stat cache file of one tier (the collection's folder, or a project) under the home
/// `home_root`, named by a digest of the tier's path. A check loads one tier's cache at a
/// time, so what it holds is one tier's entries, however many projects it covers.
pub fn tier_file(home_root: &Path, tier: &Path) -> PathBuf {
    let named = hash::digest_bytes(String::new(), false, tier.as_os_str().as_encoded_bytes());
    let hex = named.digest.to_hex();
    home_root
        .join(CACHE_DIR)
        .join(format!("{}.bin", &hex[..32]))
}

/// How much older than the hashing moment a file's mtime must be for its entry to be trusted.
pub const RACY_WINDOW_NS: i128 = 2_000_000_000;

/// The cache file's format; another value (or another file) is an empty cache.
const FORMAT: u32 = 4;

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

/// One file of a tree, as the cache holds it (its path borrowed from the cache's bytes).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredFile<'a> {
    /// Its path in the tree, as in the tree's hash.
    #[serde(borrow)]
    rel: Cow<'a, str>,
    stat: Stat,
    digest: [u8; 32],
    /// When the digest was computed (ns since the epoch, taken before reading).
    hashed_at_ns: i128,
}

/// One folder of a tree, as the cache holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredDir<'a> {
    /// Its path in the tree, `""` for the root.
    #[serde(borrow)]
    rel: Cow<'a, str>,
    stat: Stat,
    /// When it was listed (ns since the epoch, its stat taken before).
    listed_at_ns: i128,
}

/// What the cache holds of one tree: its folders (the root first; none for a one-file tree)
/// and its files, sorted by path as a tree is hashed.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StoredEntries<'a> {
    #[serde(borrow)]
    dirs: Vec<StoredDir<'a>>,
    #[serde(borrow)]
    files: Vec<StoredFile<'a>>,
}

/// One tree as the file holds it: its root, and its [`StoredEntries`] encoded apart, so that
/// loading the file decodes only the roots.
#[derive(Serialize, Deserialize)]
struct StoredTree<'a> {
    root: &'a str,
    files: &'a [u8],
}

#[derive(Serialize, Deserialize)]
struct CacheFile<'a> {
    format: u32,
    #[serde(borrow)]
    trees: Vec<StoredTree<'a>>,
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
    /// Folder trees whose folders were listed again (the cache's listing not trusted).
    pub listed: u64,
}

impl CacheStats {
    fn add(&mut self, other: CacheStats) {
        self.hits += other.hits;
        self.misses += other.misses;
        self.racy += other.racy;
        self.listed += other.listed;
    }
}

/// A stat cache loaded for one run.
#[derive(Debug)]
pub struct StatCache {
    /// The cache file as read.
    bytes: Vec<u8>,
    /// Where each tree's encoded files are in `bytes`.
    index: HashMap<PathBuf, Range<usize>>,
    /// Trees hashed again in this run, encoded, replacing their place in `bytes`.
    fresh: HashMap<PathBuf, Vec<u8>>,
    run_started_ns: i128,
    stats: CacheStats,
    /// The file read was last written over [`TOUCH_AFTER`] ago: saving touches it even when
    /// nothing changed, so that [`prune`] sees it is still used.
    touch: bool,
}

/// A tree's hash, `None` when nothing is there.
pub type TreeHash = Result<Option<ContentHash>, HashError>;

/// What one thread found: digests re-used or computed, and the trees to keep anew.
struct Pass<'a> {
    cache: &'a StatCache,
    fresh: Vec<(PathBuf, Vec<u8>)>,
    stats: CacheStats,
    /// The folder holding the last root, held open: a stat under it resolves a few path
    /// components, not the whole path again.
    #[cfg(target_os = "linux")]
    /// And whether its file system is one whose folder times are trusted ([`trusts_folders`]).
    parent: Option<(PathBuf, rustix::fd::OwnedFd, bool)>,
}

impl<'a> Pass<'a> {
    /// The `v1` hash of the tree at `root`; `None` when nothing is there.
    fn hash_root(&mut self, root: &Path) -> TreeHash {
        let known = self.cache.entries_of(root);
        if let Some(files) = self.unchanged_listing(root, &known) {
            return self.hash_listed(root, false, files, None, known);
        }
        // Walked again, its folders kept as this run found them.
        let Ok(found) = fs::symlink_metadata(root) else {
            return Ok(None);
        };
        let is_dir = found.is_dir();
        self.stats.listed += u64::from(is_dir);
        let walked = hash::walk_found(root, found)?;
        let files = walked
            .files
            .into_iter()
            .map(|(rel, _, meta)| (Cow::Owned(rel), stat_of(&meta)))
            .collect();
        let dirs = walked
            .dirs
            .iter()
            .map(|(rel, meta)| (rel.as_str(), stat_of(meta)));
        let dirs = is_dir.then(|| dirs.collect());
        self.hash_listed(root, !is_dir, files, dirs, known)
    }

    /// The hash of the tree at `root` from its files `listed` (sorted by path, each with the
    /// stat just taken; one file named as `root` itself when `file_root`), reading the files
    /// whose cache entry is stale or racy. `dirs` are the folders a walk found, `None` when
    /// the cache's listing was used.
    fn hash_listed(
        &mut self,
        root: &Path,
        file_root: bool,
        listed: Vec<(Cow<'a, str>, Stat)>,
        dirs: Option<Vec<(&str, Stat)>>,
        known: StoredEntries<'a>,
    ) -> TreeHash {
        let mut changed = dirs.is_some();
        let mut known_files = known.files.into_iter().peekable();
        let mut hasher = hash::TreeHasher::new(listed.len());
        let mut stored = Vec::with_capacity(listed.len());
        for (rel, stat) in listed {
            // Both lists are sorted by path: skip the entries of files no longer there.
            while known_files
                .next_if(|k| k.rel.as_bytes() < rel.as_bytes())
                .is_some()
            {
                changed = true;
            }
            let entry = known_files.next_if(|k| k.rel == rel);
            if let Some(entry) = entry
                && entry.stat == stat
            {
                if stat.mtime_ns + RACY_WINDOW_NS <= entry.hashed_at_ns {
                    self.stats.hits += 1;
                    let digest = ContentHash::from_bytes(entry.digest);
                    hasher.add(&rel, stat.executable, stat.size, &digest);
                    stored.push(entry);
                    continue;
                }
                self.stats.racy += 1;
            }
            self.stats.misses += 1;
            changed = true;
            let path = if file_root {
                root.to_owned()
            } else {
                root.join(&*rel)
            };
            let digest = hash::digest_file(rel.into_owned(), &path)?;
            hasher.add(&digest.path, digest.executable, digest.size, &digest.digest);
            // Keep the stat taken before reading: if the file changed while being read, its
            // new stat will not match next time and it is read again.
            stored.push(StoredFile {
                rel: Cow::Owned(digest.path),
                stat,
                digest: *digest.digest.as_bytes(),
                hashed_at_ns: self.cache.run_started_ns,
            });
        }
        if changed || known_files.next().is_some() {
            let dirs = match dirs {
                Some(walked) => walked
                    .into_iter()
                    .map(|(rel, stat)| StoredDir {
                        rel: Cow::Borrowed(rel),
                        stat,
                        listed_at_ns: self.cache.run_started_ns,
                    })
                    .collect(),
                None => known.dirs,
            };
            let entries = StoredEntries {
                dirs,
                files: stored,
            };
            if let Ok(encoded) = postcard::to_allocvec(&entries) {
                self.fresh.push((root.to_owned(), encoded));
            }
        }
        Ok(Some(hasher.finish()))
    }
}

impl<'a> Pass<'a> {
    /// The files of the folder tree at `root`, each stat'ed, without listing a folder: those
    /// the cache knows, when every folder it knows of the tree is still there with the same
    /// stat data and was listed at least [`RACY_WINDOW_NS`] after its mtime. Creating,
    /// removing or renaming an entry changes its folder's mtime and ctime, so an unchanged
    /// folder holds the entries it held (what git's untracked cache relies on). Anything
    /// unexpected (a file gone, a folder that is not one, a stat that fails) gives `None`: walk
    /// the tree again.
    #[cfg(target_os = "linux")]
    fn unchanged_listing(
        &mut self,
        root: &Path,
        known: &StoredEntries<'a>,
    ) -> Option<Vec<(Cow<'a, str>, Stat)>> {
        let (first, rest) = known.dirs.split_first()?;
        if !first.rel.is_empty() {
            return None;
        }
        let parent = root.parent()?;
        let name = root.file_name()?.to_str()?;
        if self.parent.as_ref().is_none_or(|(p, _, _)| p != parent) {
            self.parent = None;
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
            let fd = rustix::fs::open(parent, flags, Mode::empty()).ok()?;
            let trusted = rustix::fs::fstatfs(&fd).is_ok_and(|fs| trusts_folders(fs.f_type));
            self.parent = Some((parent.to_owned(), fd, trusted));
        }
        let (_, fd, true) = self.parent.as_ref()? else {
            return None;
        };
        let trusted = |dir: &StoredDir, at: &str| {
            let (kind, stat) = stat_at(fd, at)?;
            (kind == Kind::Dir
                && stat == dir.stat
                && dir.stat.mtime_ns + RACY_WINDOW_NS <= dir.listed_at_ns)
                .then_some(())
        };
        trusted(first, name)?;
        let mut at = String::with_capacity(name.len() + 64);
        for dir in rest {
            trusted(dir, under(&mut at, name, &dir.rel))?;
        }
        let mut files = Vec::with_capacity(known.files.len());
        for file in &known.files {
            match stat_at(fd, under(&mut at, name, &file.rel))? {
                (Kind::File, stat) => files.push((file.rel.clone(), stat)),
                _ => return None,
            }
        }
        Some(files)
    }

    /// Elsewhere a folder's mtime is not relied on: every tree is listed.
    #[cfg(not(target_os = "linux"))]
    fn unchanged_listing(
        &mut self,
        _root: &Path,
        _known: &StoredEntries<'a>,
    ) -> Option<Vec<(Cow<'a, str>, Stat)>> {
        None
    }
}

/// Whether a folder's mtime and ctime on the file system of type `f_type` (`statfs`) are kept
/// by the kernel itself, exactly, on every change of its entries: the local file systems
/// (ext2/3/4, XFS, Btrfs, tmpfs, F2FS, ZFS, overlayfs). A network or FUSE mount (NFS, SMB, 9p,
/// virtiofs, sshfs) can serve a cached folder time for a while: there every folder is listed.
#[cfg(target_os = "linux")]
fn trusts_folders(f_type: impl Into<i128>) -> bool {
    const LOCAL: [u32; 7] = [
        0xEF53,      // ext2, ext3, ext4
        0x5846_5342, // XFS
        0x9123_683E, // Btrfs
        0x0102_1994, // tmpfs
        0xF2F5_2010, // F2FS
        0x2FC1_2FC1, // ZFS
        0x794C_7630, // overlayfs
    ];
    // A 32-bit magic, whatever width the platform's field has.
    let magic = (f_type.into() & 0xFFFF_FFFF) as u32;
    LOCAL.contains(&magic)
}

/// `name/rel`, written into `buf`.
#[cfg(target_os = "linux")]
fn under<'a>(buf: &'a mut String, name: &str, rel: &str) -> &'a str {
    buf.clear();
    buf.push_str(name);
    buf.push('/');
    buf.push_str(rel);
    buf
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg(target_os = "linux")]
enum Kind {
    File,
    Dir,
    Other,
}

/// What `at` (relative to the open folder `dir`, not following a final symlink) is, and its
/// stat data as [`stat_of`] reads it from std's own `statx`; `None` when it cannot be stat'ed.
#[cfg(target_os = "linux")]
fn stat_at(dir: &rustix::fd::OwnedFd, at: &str) -> Option<(Kind, Stat)> {
    use rustix::fs::{AtFlags, FileType, StatxFlags};
    let needed = StatxFlags::TYPE
        | StatxFlags::MODE
        | StatxFlags::INO
        | StatxFlags::SIZE
        | StatxFlags::MTIME
        | StatxFlags::CTIME;
    let flags = AtFlags::SYMLINK_NOFOLLOW | AtFlags::STATX_SYNC_AS_STAT;
    let x = rustix::fs::statx(dir, at, flags, needed).ok()?;
    if !StatxFlags::from_bits_retain(x.stx_mask).contains(needed) {
        return None;
    }
    let mode = u32::from(x.stx_mode);
    let kind = match FileType::from_raw_mode(mode) {
        FileType::RegularFile => Kind::File,
        FileType::Directory => Kind::Dir,
        _ => Kind::Other,
    };
    let ns = |t: rustix::fs::StatxTimestamp| {
        i128::from(t.tv_sec) * 1_000_000_000 + i128::from(t.tv_nsec)
    };
    let stat = Stat {
        size: x.stx_size,
        mtime_ns: ns(x.stx_mtime),
        ctime_ns: ns(x.stx_ctime),
        ino: x.stx_ino,
        executable: mode & 0o100 != 0,
    };
    Some((kind, stat))
}

impl StatCache {
    /// An empty cache for a run starting at `now`.
    pub fn new(now: SystemTime) -> Self {
        Self {
            bytes: Vec::new(),
            index: HashMap::new(),
            fresh: HashMap::new(),
            run_started_ns: epoch_ns(now),
            stats: CacheStats::default(),
            touch: false,
        }
    }

    /// Loads the cache file at `path` for a run starting at `now`: its index of trees only.
    /// Anything unreadable is an empty cache: correctness never depends on it.
    pub fn load(path: &Path, now: SystemTime) -> Self {
        use std::io::Read as _;
        let mut cache = Self::new(now);
        let Ok(mut file) = fs::File::open(path) else {
            return cache;
        };
        let written = file.metadata().and_then(|m| m.modified());
        let mut bytes = Vec::new();
        if file.read_to_end(&mut bytes).is_err() {
            return cache;
        }
        cache.touch = written.is_ok_and(|t| older_than(t, now, TOUCH_AFTER));
        let base = bytes.as_ptr() as usize;
        let index = match postcard::from_bytes::<CacheFile<'_>>(&bytes) {
            Ok(file) if file.format == FORMAT => file
                .trees
                .iter()
                .map(|t| {
                    // Where the borrowed slice lies in `bytes`.
                    let start = t.files.as_ptr() as usize - base;
                    (PathBuf::from(t.root), start..start + t.files.len())
                })
                .collect(),
            _ => return cache,
        };
        cache.index = index;
        cache.bytes = bytes;
        cache
    }

    /// What the cache knows of the tree at `root` (nothing when it does not know the tree,
    /// or its entries do not decode).
    fn entries_of(&self, root: &Path) -> StoredEntries<'_> {
        let encoded = match self.fresh.get(root) {
            Some(fresh) => fresh.as_slice(),
            None => match self.index.get(root).and_then(|r| self.bytes.get(r.clone())) {
                Some(slice) => slice,
                None => return StoredEntries::default(),
            },
        };
        postcard::from_bytes(encoded).unwrap_or_default()
    }

    /// Writes the cache atomically, if anything changed in this run.
    pub fn save(&mut self, path: &Path) -> Result<(), PathError> {
        if self.fresh.is_empty() {
            if std::mem::take(&mut self.touch) {
                let touched = fs::File::options()
                    .write(true)
                    .open(path)
                    .and_then(|f| f.set_modified(SystemTime::now()));
                touched.map_err(|e| PathError::new("touch", path, e))?;
            }
            return Ok(());
        }
        let mut trees: Vec<StoredTree<'_>> =
            Vec::with_capacity(self.index.len() + self.fresh.len());
        for (root, encoded) in &self.fresh {
            if let Some(root) = root.to_str() {
                trees.push(StoredTree {
                    root,
                    files: encoded,
                });
            }
        }
        for (root, range) in &self.index {
            if self.fresh.contains_key(root) {
                continue;
            }
            if let (Some(root), Some(files)) = (root.to_str(), self.bytes.get(range.clone())) {
                trees.push(StoredTree { root, files });
            }
        }
        let file = CacheFile {
            format: FORMAT,
            trees,
        };
        let result = match postcard::to_allocvec(&file) {
            Ok(bytes) => write_atomic(path, &bytes),
            Err(e) => Err(PathError::new("write", path, std::io::Error::other(e))),
        };
        if result.is_ok() {
            // What was written is what this run knows: later saves start from it.
            let fresh = std::mem::take(&mut self.fresh);
            for (root, encoded) in fresh {
                let start = self.bytes.len();
                self.bytes.extend_from_slice(&encoded);
                self.index.insert(root, start..self.bytes.len());
            }
        }
        result
    }

    /// This run's counters.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    fn pass(&self) -> Pass<'_> {
        Pass {
            cache: self,
            fresh: Vec::new(),
            stats: CacheStats::default(),
            #[cfg(target_os = "linux")]
            parent: None,
        }
    }

    fn keep(&mut self, fresh: Vec<(PathBuf, Vec<u8>)>, stats: CacheStats) {
        self.fresh.extend(fresh);
        self.stats.add(stats);
    }

    /// The `v1` content hash of the artifact at `root`, reading only files whose entries are
    /// stale or racy.
    pub fn hash_path(&mut self, root: &Path) -> Result<ContentHash, HashError> {
        let mut pass = self.pass();
        let hashed = pass.hash_root(root);
        let (fresh, stats) = (pass.fresh, pass.stats);
        self.keep(fresh, stats);
        match hashed? {
            Some(h) => Ok(h),
            // Nothing there: the same error as hashing it without a cache.
            None => hash::hash_path(root),
        }
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
            // Each thread takes the next tree not taken yet: trees of unlike sizes even out.
            let next = std::sync::atomic::AtomicUsize::new(0);
            let next = &next;
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|_| {
                        scope.spawn(move || {
                            let mut pass = this.pass();
                            let mut done = Vec::new();
                            loop {
                                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let Some(root) = roots.get(i) else {
                                    break;
                                };
                                done.push((i, pass.hash_root(root)));
                            }
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

/// A tier's cache file not written or touched for this long is removed by [`prune`]: its
/// project was deleted, moved, or is no longer checked (a throw-away checkout).
pub const UNUSED_FOR: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// A cache file used but not written for this long is touched when saved.
const TOUCH_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Removes the tier cache files under the home `home_root` that no check has written or touched
/// for [`UNUSED_FOR`]. Runs at most once a day (the mtime of `cache/stat/.pruned` says when it
/// last did), so a check pays one stat for it. Best-effort, like the cache itself.
pub fn prune(home_root: &Path, now: SystemTime) {
    let dir = home_root.join(CACHE_DIR);
    let marker = dir.join(".pruned");
    let due = fs::metadata(&marker)
        .and_then(|m| m.modified())
        .map_or(true, |t| older_than(t, now, TOUCH_AFTER));
    if !due {
        return;
    }
    let Ok(entries) = fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let unused = path.extension().is_some_and(|e| e == "bin")
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| older_than(t, now, UNUSED_FOR));
        if unused {
            let _ = fs::remove_file(&path);
        }
    }
    let _ = fs::File::create(&marker).and_then(|f| f.set_modified(now));
}

/// Whether `t` is at least `age` before `now`.
fn older_than(t: SystemTime, now: SystemTime, age: std::time::Duration) -> bool {
    now.duration_since(t).is_ok_and(|d| d >= age)
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

    /// Whether folder listings are re-used for trees under `dir`.
    fn reuses_listings(dir: &Path) -> bool {
        #[cfg(target_os = "linux")]
        return rustix::fs::statfs(dir).is_ok_and(|fs| trusts_folders(fs.f_type));
        #[cfg(not(target_os = "linux"))]
        return false;
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn folder_times_are_trusted_on_local_file_systems_only() {
        for local in [
            0xEF53_i64,
            0x5846_5342,
            0x9123_683E,
            0x0102_1994,
            0x794C_7630,
        ] {
            assert!(trusts_folders(local), "{local:#x}");
        }
        // NFS, SMB2, CIFS, FUSE (sshfs, virtiofs), 9p.
        for remote in [
            0x6969_i64,
            0xFE53_4D42,
            0xFF53_4D42,
            0x6573_5546,
            0x0102_1997,
        ] {
            assert!(!trusts_folders(remote), "{remote:#x}");
        }
        // Btrfs's magic as a platform with a 32-bit signed field gives it: negative.
        assert!(trusts_folders(0x9123_683E_u32 as i32));
    }

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
                racy: 0,
                listed: 0
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
        let stale = [7; 32];
        let plant = |cache: &mut StatCache, hashed_at_ns| {
            let entry = StoredFile {
                rel: "a.md".into(),
                stat: stat.clone(),
                digest: stale,
                hashed_at_ns,
            };
            let entries = StoredEntries {
                dirs: Vec::new(),
                files: vec![entry],
            };
            let encoded = postcard::to_allocvec(&entries).unwrap();
            cache.fresh.insert(f.clone(), encoded);
        };
        let truth = hash::hash_path(&f).unwrap();

        // Hashed in the same tick as the last write: racy, so the file is read again.
        let mut cache = StatCache::new(SystemTime::now());
        plant(&mut cache, stat.mtime_ns);
        assert_eq!(
            cache.hash_path(&f).unwrap(),
            truth,
            "a racy entry was trusted"
        );
        assert_eq!(
            cache.stats(),
            CacheStats {
                hits: 0,
                misses: 1,
                racy: 1,
                listed: 0
            }
        );

        // Hashed well after the last write: trusted (this is what makes warm drift fast).
        let mut cache = StatCache::new(SystemTime::now());
        plant(&mut cache, stat.mtime_ns + RACY_WINDOW_NS);
        assert_ne!(
            cache.hash_path(&f).unwrap(),
            truth,
            "the planted digest was used"
        );
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
    fn a_file_added_or_removed_in_a_tree_is_seen_and_other_trees_stay_cached() {
        let tmp = tempfile::tempdir().unwrap();
        let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
        for dir in [&one, &two] {
            fs::create_dir_all(dir.join("ref")).unwrap();
            fs::write(dir.join("SKILL.md"), "skill").unwrap();
            fs::write(dir.join("ref/b.md"), "b").unwrap();
        }
        let later = SystemTime::now() + Duration::from_secs(10);
        let cache_file = tmp.path().join("cache.bin");
        let mut cache = StatCache::load(&cache_file, later);
        cache.hash_paths(&[one.clone(), two.clone()]);
        cache.save(&cache_file).unwrap();

        // Only `one` is hashed in the next run; `two` must survive its save.
        fs::write(one.join("ref/a.md"), "a").unwrap();
        let mut cache = StatCache::load(&cache_file, later);
        let got = cache.hash_path(&one).unwrap();
        assert_eq!(got, hash::hash_path(&one).unwrap(), "an added file counts");
        assert_eq!((cache.stats().hits, cache.stats().misses), (2, 1));
        cache.save(&cache_file).unwrap();
        fs::remove_file(one.join("ref/b.md")).unwrap();
        let mut cache = StatCache::load(&cache_file, later);
        assert_eq!(
            cache.hash_path(&one).unwrap(),
            hash::hash_path(&one).unwrap()
        );
        assert_eq!((cache.stats().hits, cache.stats().misses), (2, 0));
        cache.save(&cache_file).unwrap();
        let mut cache = StatCache::load(&cache_file, later);
        assert_eq!(
            cache.hash_path(&two).unwrap(),
            hash::hash_path(&two).unwrap()
        );
        assert_eq!(
            cache.stats().hits,
            2,
            "the other tree was kept: {:?}",
            cache.stats()
        );
        assert_eq!(cache.stats().misses, 0);
        // And the removal was recorded: `one` is all hits now.
        assert_eq!(
            cache.hash_path(&one).unwrap(),
            hash::hash_path(&one).unwrap()
        );
        assert_eq!(cache.stats().hits, 4);
    }

    // A folder's listing is re-used only while its stat data is unchanged and was taken well
    // before the listing. Plant a listing that leaves a file out, and check the racy rule is
    // what keeps it from hiding the file.
    #[test]
    fn a_folder_listed_in_the_same_tick_as_its_last_change_is_listed_again() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("skill");
        fs::create_dir(&root).unwrap();
        fs::write(root.join("SKILL.md"), "skill").unwrap();
        fs::write(root.join("new.md"), "added in the same tick").unwrap();
        let dir_stat = stat_of(&fs::symlink_metadata(&root).unwrap());
        let file_stat = stat_of(&fs::symlink_metadata(root.join("SKILL.md")).unwrap());
        let digest = *hash::digest_file("SKILL.md".into(), &root.join("SKILL.md"))
            .unwrap()
            .digest
            .as_bytes();
        let plant = |cache: &mut StatCache, listed_at_ns| {
            let entries = StoredEntries {
                dirs: vec![StoredDir {
                    rel: "".into(),
                    stat: dir_stat.clone(),
                    listed_at_ns,
                }],
                files: vec![StoredFile {
                    rel: "SKILL.md".into(),
                    stat: file_stat.clone(),
                    digest,
                    hashed_at_ns: file_stat.mtime_ns + RACY_WINDOW_NS,
                }],
            };
            let encoded = postcard::to_allocvec(&entries).unwrap();
            cache.fresh.insert(root.clone(), encoded);
        };
        let truth = hash::hash_path(&root).unwrap();

        let mut cache = StatCache::new(SystemTime::now());
        plant(&mut cache, dir_stat.mtime_ns);
        assert_eq!(
            cache.hash_path(&root).unwrap(),
            truth,
            "a racy listing was trusted"
        );
        assert_eq!(cache.stats().listed, 1);

        // Listed well after its last change: trusted, so the planted listing is what counts.
        let mut cache = StatCache::new(SystemTime::now());
        plant(&mut cache, dir_stat.mtime_ns + RACY_WINDOW_NS);
        let got = cache.hash_path(&root).unwrap();
        if reuses_listings(tmp.path()) {
            assert_ne!(got, truth, "the planted listing was used");
            assert_eq!(cache.stats().listed, 0);
        } else {
            assert_eq!(got, truth, "elsewhere every tree is listed");
            eprintln!(
                "note: {} is not on a local Linux file system: listings not re-used",
                tmp.path().display()
            );
        }
    }

    // What users do to a skill's folders between two checks, each undone in the folder's mtime
    // where a tool could (`touch -d`, `rsync -t`, an archive tool): the ctime still moves.
    #[test]
    fn every_change_to_a_folder_is_seen_even_with_its_mtime_put_back() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("skill");
        fs::create_dir_all(root.join("ref/deep")).unwrap();
        fs::write(root.join("SKILL.md"), "skill").unwrap();
        fs::write(root.join("ref/a.md"), "a").unwrap();
        fs::write(root.join("ref/deep/b.md"), "b").unwrap();
        let later = SystemTime::now() + Duration::from_secs(10);
        let cache_file = tmp.path().join("cache.bin");
        let check = |what: &str| {
            let mut cache = StatCache::load(&cache_file, later);
            let got = cache.hash_path(&root).unwrap();
            cache.save(&cache_file).unwrap();
            assert_eq!(got, hash::hash_path(&root).unwrap(), "{what}");
            cache.stats()
        };
        let put_back = |dir: &Path, to: SystemTime| {
            fs::File::open(dir).unwrap().set_modified(to).unwrap();
        };
        check("first run");
        let unchanged = check("nothing changed");
        if reuses_listings(tmp.path()) {
            assert_eq!(
                (unchanged.listed, unchanged.misses),
                (0, 0),
                "{unchanged:?}"
            );
        }
        assert_eq!(unchanged.hits, 3);

        let changes: [(&str, &dyn Fn()); 5] = [
            ("a file added two folders down", &|| {
                fs::write(root.join("ref/deep/c.md"), "c").unwrap();
            }),
            ("a file removed", &|| {
                fs::remove_file(root.join("ref/a.md")).unwrap()
            }),
            ("a file renamed", &|| {
                fs::rename(root.join("ref/deep/b.md"), root.join("ref/deep/z.md")).unwrap();
            }),
            ("a folder added with a file in it", &|| {
                fs::create_dir(root.join("new")).unwrap();
                fs::write(root.join("new/n.md"), "n").unwrap();
            }),
            ("a file replaced by a folder of the same name", &|| {
                fs::remove_file(root.join("SKILL.md")).unwrap();
                fs::create_dir(root.join("SKILL.md")).unwrap();
                fs::write(root.join("SKILL.md/x.md"), "x").unwrap();
            }),
        ];
        for (what, change) in changes {
            let times: Vec<(PathBuf, SystemTime)> = ["", "ref", "ref/deep"]
                .iter()
                .map(|rel| root.join(rel))
                .filter(|d| d.is_dir())
                .map(|d| (d.clone(), mtime(&d)))
                .collect();
            change();
            for (dir, was) in &times {
                put_back(dir, *was);
            }
            let seen = check(what);
            assert!(seen.listed >= 1, "{what}: not listed again: {seen:?}");
        }
    }

    #[test]
    fn caches_no_check_used_for_a_month_are_pruned_at_most_once_a_day() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let tree = tmp.path().join("project/.claude/skills/a");
        fs::create_dir_all(&tree).unwrap();
        fs::write(tree.join("SKILL.md"), "a").unwrap();
        let now = SystemTime::now();
        let later = now + Duration::from_secs(10);
        let used = tier_file(&home, &tmp.path().join("project"));
        let mut cache = StatCache::load(&used, later);
        cache.hash_path(&tree).unwrap();
        cache.save(&used).unwrap();
        let dir = home.join(CACHE_DIR);
        let age = |days: u64| now - Duration::from_secs(days * 24 * 3600);
        let set = |path: &Path, t: SystemTime| {
            fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(t)
                .unwrap();
        };
        let (gone, recent) = (dir.join("gone.bin"), dir.join("recent.bin"));
        fs::write(&gone, b"x").unwrap();
        fs::write(&recent, b"x").unwrap();
        set(&gone, age(40));
        set(&recent, age(20));
        // Used today, though written 40 days ago: the save (nothing changed) touches it.
        set(&used, age(40));
        let mut cache = StatCache::load(&used, later);
        cache.hash_path(&tree).unwrap();
        assert_eq!(
            cache.stats().misses,
            0,
            "nothing to write: {:?}",
            cache.stats()
        );
        cache.save(&used).unwrap();

        prune(&home, later);
        assert!(!gone.exists(), "a month unused: removed");
        assert!(recent.exists() && used.exists());
        // Pruned today: not again until tomorrow.
        let also_gone = dir.join("also-gone.bin");
        fs::write(&also_gone, b"x").unwrap();
        set(&also_gone, age(40));
        prune(&home, later);
        assert!(also_gone.exists());
        prune(&home, later + TOUCH_AFTER);
        assert!(!also_gone.exists());
        assert!(used.exists(), "touched a day before: {}", used.display());
    }

    #[test]
    fn a_corrupt_cache_file_is_an_empty_cache() {
        let tmp = tempfile::tempdir().unwrap();
        let cache_file = tmp.path().join("cache.json");
        fs::write(&cache_file, "{not postcard").unwrap();
        let cache = StatCache::load(&cache_file, SystemTime::now());
        assert!(cache.index.is_empty());
    }
}
