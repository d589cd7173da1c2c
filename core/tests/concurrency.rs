//! Many artifacts written at once (threads standing in for `update --jobs N` workers and
//! server jobs): the files they share — `collection.lock`, a project's deployment records —
//! keep every writer's entry.

use std::path::Path;
use std::time::{Duration, SystemTime};

use skillmeat_core::model::artifact::ArtifactId;
use skillmeat_core::model::hash;
use skillmeat_core::ops::sync::{self, Direction, Strategy, SyncRequest};
use skillmeat_core::ops::{self, Context};
use skillmeat_core::storage::collection::Lock;
use skillmeat_core::storage::fetch::{FetchSettings, RetryPolicy};
use skillmeat_core::storage::home::Home;
use skillmeat_core::storage::records::DeploymentFile;
use skillmeat_testutils::block_on;
use skillmeat_testutils::git::GitRepo;

const N: usize = 12;

fn ctx(home: &Path, cwd: &Path) -> Context {
    Context {
        home: Home::new(home),
        now: SystemTime::now(),
        fetch: FetchSettings {
            retry: RetryPolicy {
                attempts: 1,
                first_delay: Duration::ZERO,
            },
            ..FetchSettings::default()
        },
        cwd: cwd.to_owned(),
        lock_timeout: Duration::from_secs(30),
    }
}

fn ids() -> Vec<ArtifactId> {
    (0..N)
        .map(|i| format!("skill:s{i:02}").parse().unwrap())
        .collect()
}

/// Runs `f` for every artifact on its own thread, all at once.
fn all_at_once(f: impl Fn(&ArtifactId) + Sync) {
    let ids = ids();
    let barrier = std::sync::Barrier::new(N);
    std::thread::scope(|s| {
        for id in &ids {
            let (f, barrier) = (&f, &barrier);
            s.spawn(move || {
                barrier.wait();
                f(id);
            });
        }
    });
}

#[test]
fn parallel_deploys_syncs_and_updates_never_lose_a_shared_entry() {
    let up = GitRepo::new();
    for i in 0..N {
        up.write(&format!("skills/s{i:02}/SKILL.md"), &format!("# S{i}\n"));
    }
    up.commit("v1");
    let tmp = tempfile::tempdir().unwrap();
    let (home, project) = (tmp.path().join("home"), tmp.path().join("proj"));
    std::fs::create_dir_all(&project).unwrap();
    let ctx = ctx(&home, tmp.path());
    let upstream = up.path().display().to_string();
    // Added at once: collection.toml and collection.lock get every entry.
    all_at_once(|id| {
        let spec = format!("{upstream}#skills/{}", id.name);
        block_on(ops::add(&ctx, &spec, None, None, "default")).unwrap();
    });
    let dir = home.join("collections/default");
    let manifest = skillmeat_core::storage::collection::Manifest::load(&dir).unwrap();
    assert_eq!(
        manifest.artifacts.len(),
        N,
        "every add is in collection.toml"
    );
    assert_eq!(
        Lock::load(&dir).unwrap().artifacts.len(),
        N,
        "and in collection.lock"
    );

    // Deployed at once, one artifact a thread: every record is in the project's file.
    all_at_once(|id| {
        block_on(ops::deploy(
            &ctx,
            std::slice::from_ref(id),
            &project,
            "default",
        ))
        .unwrap();
    });
    assert_eq!(DeploymentFile::load(&project).unwrap().deployed.len(), N);

    // The upstream moves every skill; updated at once, the lock records every new commit.
    for i in 0..N {
        up.write(
            &format!("skills/s{i:02}/SKILL.md"),
            &format!("# S{i}, v2\n"),
        );
    }
    let v2 = up.commit("v2");
    let sync_one = |id: &ArtifactId, direction, project: Option<&Path>| {
        block_on(sync::sync(
            &ctx,
            &SyncRequest {
                id,
                direction,
                project,
                collection: "default",
                strategy: Strategy::Auto,
                dry_run: false,
                on_phase: None,
                expect: None,
            },
        ))
        .unwrap();
    };
    all_at_once(|id| sync_one(id, Direction::UpstreamToCollection, None));
    let lock = Lock::load(&dir).unwrap();
    for id in ids() {
        let entry = lock.get(&id).unwrap();
        assert_eq!(entry.commit, v2, "{id}: the lock took the update");
        let collection_hash =
            hash::hash_path(&dir.join("skills").join(id.name.to_string())).unwrap();
        assert_eq!(entry.content_hash, collection_hash.to_hex(), "{id}");
    }

    // And into the project at once: every record's baseline is the version now deployed.
    all_at_once(|id| sync_one(id, Direction::CollectionToProject, Some(&project)));
    let records = DeploymentFile::load(&project).unwrap();
    assert_eq!(records.deployed.len(), N);
    for id in ids() {
        let record = records.get(&id).unwrap();
        let deployed =
            hash::hash_path(&project.join(".claude/skills").join(id.name.to_string())).unwrap();
        assert_eq!(
            record.content_hash.as_deref(),
            Some(deployed.to_hex().as_str()),
            "{id}"
        );
    }
    // So drift agrees: everything synced, nothing stale.
    let report = ops::drift(&ctx, "default", std::slice::from_ref(&project), true).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.rows.len(), 2 * N);
    assert!(
        report.rows.iter().all(|r| !r.status.is_drift()),
        "{:?}",
        report.rows
    );
}

/// Writers of one artifact (two `update` processes, a job and the CLI) wait their turn: each
/// plans again against what the one before it wrote, and none fails with "run it again". The
/// collection's own edit is merged once, not re-merged or lost.
#[test]
fn writers_of_one_artifact_wait_their_turn_instead_of_failing() {
    let up = GitRepo::new();
    up.write("skills/one/SKILL.md", "# One\n\nBody.\n");
    up.commit("v1");
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let ctx = ctx(&home, tmp.path());
    let spec = format!("{}#skills/one", up.path().display());
    block_on(ops::add(&ctx, &spec, None, None, "default")).unwrap();
    let copy = home.join("collections/default/skills/one/SKILL.md");
    std::fs::write(&copy, "# One\n\nBody.\n\nMy note.\n").unwrap();
    up.write("skills/one/SKILL.md", "# One, v2\n\nBody.\n");
    let v2 = up.commit("v2");

    let id: ArtifactId = "skill:one".parse().unwrap();
    let barrier = std::sync::Barrier::new(N);
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..N)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    block_on(sync::sync(
                        &ctx,
                        &SyncRequest {
                            id: &id,
                            direction: Direction::UpstreamToCollection,
                            project: None,
                            collection: "default",
                            strategy: Strategy::Auto,
                            dry_run: false,
                            on_phase: None,
                            expect: None,
                        },
                    ))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let outcomes: Vec<String> = results
        .iter()
        .map(|r| match r {
            Ok(report) => report.outcome.as_str().to_owned(),
            Err(e) => format!("error: {e}"),
        })
        .collect();
    assert!(
        outcomes.iter().all(|o| !o.starts_with("error")),
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| *o == "merged").count(),
        1,
        "merged once, then up to date: {outcomes:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&copy).unwrap(),
        "# One, v2\n\nBody.\n\nMy note.\n"
    );
    let lock = Lock::load(&home.join("collections/default")).unwrap();
    assert_eq!(lock.get(&id).unwrap().commit, v2);
}
