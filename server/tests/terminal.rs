//! Confirmations on a real terminal (a pty made by util-linux `script`): `rollback` and
//! `resolve --continue` ask before they write, a "no" changes nothing, a "yes" goes ahead, and
//! `--yes` or no terminal at all (scripts) are never asked.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::api::{Api, api};
use crate::cli::{skillmeat, text};

/// Runs `skillmeat --home HOME ARGS…` on a pty, typing `answer`; its output.
fn on_terminal(home: &Path, cwd: &Path, args: &[&str], answer: &str) -> String {
    on_terminal_with(home, cwd, args, answer, &[])
}

/// [`on_terminal`] with these variables set too.
fn on_terminal_with(
    home: &Path,
    cwd: &Path,
    args: &[&str],
    answer: &str,
    env: &[(&str, &Path)],
) -> String {
    let exe = env!("CARGO_BIN_EXE_skillmeat");
    let line = std::iter::once(exe.to_owned())
        .chain(["--home".to_owned(), home.display().to_string()])
        .chain(args.iter().map(|a| (*a).to_owned()))
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(cwd)
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .env("TERM", "dumb")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` (Debian's bsdutils) makes the pty");
    // Typed once the question is up; the pty buffers it until the command reads.
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn first_version(home: &Path, cwd: &Path, id: &str) -> String {
    let o = skillmeat(home, cwd, &["history", id, "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let h: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let versions = h["versions"].as_array().unwrap();
    versions.last().unwrap()["content_hash"].as_str().unwrap()[..12].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_and_resolve_continue_ask_on_a_terminal_and_never_in_scripts() {
    let a = api().await;
    let (home, cwd) = (a.home.as_path(), a.tmp.path());
    let v1 = first_version(home, cwd, "command:fix");
    let copy = a.collection_file("commands/fix.md");
    let original = std::fs::read_to_string(&copy).unwrap();
    std::fs::write(&copy, "Fixed by hand.\n").unwrap();
    let rollback = ["rollback", "command:fix", "--to", v1.as_str()];

    // A "no" on the terminal: asked, nothing written.
    let said = on_terminal(home, cwd, &rollback, "n\n");
    assert!(
        said.contains("Replace command:fix's collection copy with version"),
        "{said}"
    );
    assert!(
        said.contains("not confirmed: nothing was changed"),
        "{said}"
    );
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), "Fixed by hand.\n");
    // A "yes": rolled back.
    let said = on_terminal(home, cwd, &rollback, "y\n");
    assert!(said.contains("Rolled back command:fix"), "{said}");
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), original);
    // --yes on a terminal, and no terminal at all: never asked.
    std::fs::write(&copy, "Fixed by hand again.\n").unwrap();
    let mut yes = rollback.to_vec();
    yes.push("--yes");
    let said = on_terminal(home, cwd, &yes, "");
    assert!(!said.contains("[y/N]"), "{said}");
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), original);
    std::fs::write(&copy, "Fixed by hand once more.\n").unwrap();
    let o = skillmeat(home, cwd, &rollback);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("[y/N]"), "{}", text(&o));

    // resolve --continue: a pending merge of the project copy, settled, then applied on yes.
    a.edit_fix_on_both_sides();
    let o = skillmeat(
        home,
        cwd,
        &[
            "sync",
            "command:fix",
            "--direction",
            "deploy",
            "--project",
            a.p(),
            "--yes",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let o = skillmeat(
        home,
        cwd,
        &[
            "resolve",
            "command:fix",
            "--project",
            a.p(),
            "--file",
            "fix.md",
            "--theirs",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let target = a.project_file("commands/fix.md");
    let before = std::fs::read_to_string(&target).unwrap();
    let resolve = ["resolve", "command:fix", "--project", a.p(), "--continue"];
    let said = on_terminal(home, cwd, &resolve, "n\n");
    assert!(
        said.contains("Write the resolved merge of command:fix"),
        "{said}"
    );
    assert!(said.contains("not confirmed"), "{said}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), before);
    let said = on_terminal(home, cwd, &resolve, "y\n");
    assert!(said.contains("Applied the merge of command:fix"), "{said}");
    assert_ne!(std::fs::read_to_string(&target).unwrap(), before);
}

/// An editor for the tests: leaves the file as it is (markers and all) the first `lazy` times
/// it is opened, then writes `text` into it.
fn fake_editor(dir: &Path, lazy: u32, text: &str) -> std::path::PathBuf {
    let script = dir.join("fake-editor");
    let counter = dir.join("fake-editor.count");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nn=$(cat '{c}' 2>/dev/null || echo 0)\nn=$((n+1))\necho $n > '{c}'\n\
             if [ \"$n\" -gt {lazy} ]; then printf '%s' '{text}' > \"$1\"; fi\n",
            c = counter.display(),
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn no_pending_merges(a: &Api) -> bool {
    let o = skillmeat(&a.home, a.tmp.path(), &["drift", "--json"]);
    let drift: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    drift["pending_merges"]
        .as_array()
        .is_none_or(|p| p.is_empty())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_prompt_edits_the_merged_text_and_refuses_markers_left() {
    let a = api().await;
    let (home, cwd) = (a.home.as_path(), a.tmp.path());
    a.edit_fix_on_both_sides();
    let editor = fake_editor(cwd, 1, "Fix, both ways.\n");
    let sync = [
        "sync",
        "command:fix",
        "--direction",
        "deploy",
        "--project",
        a.p(),
        "--strategy",
        "prompt",
    ];
    // Yes to the plan; edit (the editor leaves the markers: refused, asked again); edit again.
    let said = on_terminal_with(home, cwd, &sync, "y\ne\ne\n", &[("EDITOR", &editor)]);
    assert!(said.contains("fix.md: conflict"), "{said}");
    assert!(said.contains("[e]dit"), "{said}");
    assert!(said.contains("still holds conflict markers"), "{said}");
    assert!(said.contains("Merged and applied."), "{said}");
    assert_eq!(
        std::fs::read_to_string(a.project_file("commands/fix.md")).unwrap(),
        "Fix, both ways.\n"
    );
    assert!(no_pending_merges(&a), "{said}");
    // The collection kept its own version: the merge went into the project only.
    assert_eq!(
        std::fs::read_to_string(a.collection_file("commands/fix.md")).unwrap(),
        "Fix, the collection's way.\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_prompt_asks_per_conflicted_artifact_and_goes_on_into_the_project() {
    let a = api().await;
    let (home, cwd) = (a.home.as_path(), a.tmp.path());
    a.commit_upstream(&[
        ("commands/fix.md", "Fix, upstream's way.\n"),
        ("skills/review/SKILL.md", "# Review, upstream's way\n"),
    ]);
    std::fs::write(a.collection_file("commands/fix.md"), "Fix, ours.\n").unwrap();
    std::fs::write(
        a.collection_file("skills/review/SKILL.md"),
        "# Review, ours\n",
    )
    .unwrap();
    let update = [
        "update",
        "--all",
        "--project",
        a.p(),
        "--strategy",
        "prompt",
        "--jobs",
        "1",
    ];
    // Yes to the plan; keep ours for fix.md; skip review's SKILL.md.
    let said = on_terminal(home, cwd, &update, "y\no\ns\n");
    assert!(said.contains("command:fix upstream"), "{said}");
    assert!(said.contains("Left pending"), "{said}");
    assert!(
        said.contains("1 resolved,") && said.contains(" 1 conflict,"),
        "{said}"
    );
    // The plan is shown before the question.
    assert!(
        said.find("ARTIFACT") < said.find("Apply this plan?"),
        "{said}"
    );
    // command:fix: resolved to the collection's text, and then brought into the project.
    assert_eq!(
        std::fs::read_to_string(a.collection_file("commands/fix.md")).unwrap(),
        "Fix, ours.\n"
    );
    assert_eq!(
        std::fs::read_to_string(a.project_file("commands/fix.md")).unwrap(),
        "Fix, ours.\n"
    );
    // skill:review: still pending, nothing written.
    assert_eq!(
        std::fs::read_to_string(a.collection_file("skills/review/SKILL.md")).unwrap(),
        "# Review, ours\n"
    );
    assert!(!no_pending_merges(&a), "{said}");
    // Without a terminal, prompt is auto: the conflict is left pending, nobody is asked.
    let o = skillmeat(
        home,
        cwd,
        &["update", "--all", "--strategy", "prompt", "--yes"],
    );
    assert!(!text(&o).contains("[o]urs"), "{}", text(&o));
}
