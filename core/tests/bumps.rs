//! Versions that mean something: bump suggestions checked against `git diff --name-status` on
//! every skill of the real fixture (v1 → v2 → v3 → v4), and a tag history built step by step —
//! patch, minor, major with the breaking marker — read back as history, proposals and changelogs.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use skillmeat_core::engine::bump::{Bump, suggest};
use skillmeat_core::model::artifact::ArtifactType;
use skillmeat_core::model::files::ArtifactFiles;
use skillmeat_core::ops;
use skillmeat_core::storage::events::{EventFilter, EventKind};
use skillmeat_testutils::block_on;

use crate::scenarios::{edit, id, world};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every file of `skills/<name>/` at `tag`, as SkillMeat reads an artifact (paths relative to
/// the skill's folder, exec bits kept).
fn skill_at(repo: &Path, tag: &str, name: &str) -> ArtifactFiles {
    let out = tempfile::tempdir().unwrap();
    let archive = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["archive", "--format=tar", tag, &format!("skills/{name}")])
        .output()
        .unwrap();
    if !archive.status.success() {
        return ArtifactFiles::default();
    }
    tar::Archive::new(archive.stdout.as_slice())
        .unpack(out.path())
        .unwrap();
    ArtifactFiles::read(&out.path().join("skills").join(name)).unwrap()
}

#[test]
fn suggestions_on_the_real_fixture_agree_with_git_about_files_added_and_removed() {
    let Some(repo) = skillmeat_testutils::git::fixture_upstream() else {
        return;
    };
    let repo = repo.path();
    let tags = ["v1", "v2", "v3", "v4"];
    let mut seen = BTreeMap::<Bump, usize>::new();
    for pair in tags.windows(2) {
        let (old_tag, new_tag) = (pair[0], pair[1]);
        let names: std::collections::BTreeSet<String> = [old_tag, new_tag]
            .iter()
            .flat_map(|t| {
                git(repo, &["ls-tree", "--name-only", &format!("{t}:skills")])
                    .lines()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        for name in names {
            let old = skill_at(repo, old_tag, &name);
            let new = skill_at(repo, new_tag, &name);
            if old.files.is_empty() || new.files.is_empty() {
                continue;
            }
            let s = suggest(ArtifactType::Skill, &old, &new);
            let status = git(
                repo,
                &[
                    "diff",
                    "--no-renames",
                    "--name-status",
                    old_tag,
                    new_tag,
                    "--",
                    &format!("skills/{name}"),
                ],
            );
            let letters: Vec<char> = status.lines().filter_map(|l| l.chars().next()).collect();
            let what = format!("{name} {old_tag}→{new_tag}: {} for {status:?}", s.summary());
            match (
                letters.contains(&'D'),
                letters.contains(&'A'),
                letters.is_empty(),
            ) {
                (true, _, _) => {
                    assert_eq!(s.bump, Bump::Major, "{what}");
                    assert!(
                        s.reasons.iter().any(|r| r.text.ends_with("removed")),
                        "{what}"
                    );
                }
                (false, true, _) => assert!(s.bump >= Bump::Minor, "{what}"),
                (false, false, true) => assert_eq!(s.bump, Bump::None, "{what}"),
                (false, false, false) => assert!(s.bump >= Bump::Patch, "{what}"),
            }
            *seen.entry(s.bump).or_default() += 1;
        }
    }
    // The fixture's history has every kind of step somewhere.
    for bump in [Bump::None, Bump::Patch, Bump::Major] {
        assert!(
            seen.get(&bump).copied().unwrap_or(0) > 0,
            "no {bump} step in {seen:?}"
        );
    }
}

#[test]
fn a_tag_history_built_step_by_step_reads_back_as_proposals_history_and_changelogs() {
    let w = world();
    w.add_all();
    let review = id("skill:review");
    let next = || block_on(ops::next_tag(&w.ctx, &review, "default", None)).unwrap();
    let tag = |name: &str, breaking: bool| {
        block_on(ops::tag(
            &w.ctx, &review, "default", name, None, breaking, false,
        ))
        .unwrap()
    };
    let first = next();
    assert_eq!(first.proposed, "v1.0.0");
    assert!(first.last.is_none() && !first.breaking);
    tag(&first.proposed, false);
    // Nothing changed since: the proposal is the tag it already has.
    let same = next();
    assert_eq!(
        (same.proposed.as_str(), same.bump.bump),
        ("v1.0.0", Bump::None)
    );

    let skill = w.collection("skills/review/SKILL.md");
    edit(&skill, "# Review\n\nLine one.\nLine two, edited.\n");
    let patch = next();
    assert_eq!(
        (patch.proposed.as_str(), patch.bump.summary().as_str()),
        ("v1.0.1", "patch: content of SKILL.md edited")
    );
    tag(&patch.proposed, patch.breaking);

    edit(&w.collection("skills/review/forms.md"), "A form.\n");
    let minor = next();
    assert_eq!(
        (minor.proposed.as_str(), minor.bump.summary().as_str()),
        ("v1.1.0", "minor: forms.md added")
    );
    tag(&minor.proposed, minor.breaking);

    std::fs::remove_file(w.collection("skills/review/scripts/check.sh")).unwrap();
    let major = next();
    assert_eq!(
        (
            major.proposed.as_str(),
            major.bump.summary().as_str(),
            major.breaking
        ),
        ("v2.0.0", "major: scripts/check.sh removed", true)
    );
    let v2 = tag(&major.proposed, major.breaking);
    assert!(v2.breaking);

    // History: each version's bump against its parent, and the breaking marker.
    let h = block_on(ops::history(&w.ctx, &review, "default")).unwrap();
    let by_tag = |t: &str| {
        h.versions
            .iter()
            .find(|v| v.version_tag.as_deref() == Some(t))
            .unwrap()
    };
    for (t, want) in [
        ("v1.0.1", Bump::Patch),
        ("v1.1.0", Bump::Minor),
        ("v2.0.0", Bump::Major),
    ] {
        let v = by_tag(t);
        assert_eq!(h.changes[&v.content_hash.to_hex()].bump, want, "{t}");
        assert_eq!(v.breaking, t == "v2.0.0");
    }

    // The changelog from v1.0.0 to v2.0.0: three steps, newest first.
    let log = block_on(ops::changelog(
        &w.ctx,
        &review,
        "default",
        Some("v1.0.0"),
        Some("v2.0.0"),
    ))
    .unwrap();
    assert!(log.in_order);
    assert_eq!(log.bump.bump, Bump::Major);
    let steps: Vec<(Option<&str>, Bump, bool)> = log
        .steps
        .iter()
        .map(|s| (s.tag.as_deref(), s.bump.bump, s.breaking))
        .collect();
    assert_eq!(
        steps,
        [
            (Some("v2.0.0"), Bump::Major, true),
            (Some("v1.1.0"), Bump::Minor, false),
            (Some("v1.0.1"), Bump::Patch, false),
        ]
    );
    assert_eq!(log.steps[0].files.len(), 1);
    assert_eq!(
        (
            log.steps[0].files[0].path.as_str(),
            log.steps[0].files[0].status.as_str()
        ),
        ("scripts/check.sh", "deleted")
    );
    // By default: from the last semver tag before the newest version, to the newest.
    let default = block_on(ops::changelog(&w.ctx, &review, "default", None, None)).unwrap();
    assert_eq!(default.steps.len(), 1);
    assert_eq!(default.steps[0].tag.as_deref(), Some("v2.0.0"));
    // Unknown versions are errors, not empty changelogs.
    assert!(
        block_on(ops::changelog(
            &w.ctx,
            &review,
            "default",
            Some("nope"),
            None
        ))
        .is_err()
    );

    // Each tag is one event, the breaking one marked.
    let tags = block_on(ops::log(
        &w.ctx,
        &EventFilter {
            artifact: Some(review.clone()),
            kinds: vec![EventKind::Tag],
            ..EventFilter::default()
        },
    ))
    .unwrap()
    .events;
    assert_eq!(tags.len(), 4);
    assert_eq!(tags[0].detail["tag"], "v2.0.0");
    assert_eq!(tags[0].detail["breaking"], true);
    assert_eq!(tags[1].detail["breaking"], false);
}
