//! The conflict modal: a pending merge file by file, with the base, ours, theirs and merged
//! text of each; per file keep ours, keep theirs, or choose hunk by hunk (ours, theirs or both);
//! a strategy for the files left; submitted as a resolve job, after which it shows what is
//! still unresolved, or that the merge was applied. "Keep both" settles it whole instead: ours
//! stays, theirs becomes a new artifact `<name>-fork`.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::api::{abort_conflicts, get_conflicts, resolve_conflicts};
use crate::dto::{
    ConflictFileView, ConflictView, HunkSide, HunkView, PendingView, ResolveRequest, Side,
    StateName,
};
use crate::live::wait_for;

/// Which pending merge the modal shows: `Some(project)` opens it (`None` inside is the
/// collection's own merge).
#[derive(Debug, Clone, Copy)]
pub struct Resolving(pub RwSignal<Option<Option<String>>>);

/// How one file is to be decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileMode {
    /// Not now (or by the strategy for the rest).
    Leave,
    Ours,
    Theirs,
    /// Hunk by hunk.
    Hunks,
}

/// The banner the artifact page shows for each pending merge, with the button that opens it.
pub fn pending_banner(pending: Vec<PendingView>) -> impl IntoView {
    let resolving = use_context::<Resolving>();
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let ready = move || hydrated.is_some_and(|h| h.get()) && resolving.is_some();
    pending
        .into_iter()
        .map(|p| {
            let place = p.project_path.as_deref().map_or_else(
                || "the collection".to_owned(),
                |path| format!("project {}", crate::format::base_name(path)),
            );
            let open = {
                let project = p.project_path.clone();
                move |_| {
                    if let Some(Resolving(r)) = resolving {
                        r.set(Some(project.clone()));
                    }
                }
            };
            let left = p.unresolved.len();
            view! {
                <div class="notice warn pending-merge" role="status">
                    <span>
                        <strong>"A merge is waiting in " {place} ". "</strong>
                        {format!("{left} of {} conflicted file(s) undecided ({}).", p.files.len(), p.direction)}
                    </span>
                    <button type="button" class="primary resolve-button" disabled=move || !ready() on:click=open>
                        "Resolve conflicts…"
                    </button>
                </div>
            }
        })
        .collect_view()
}

/// The modal itself, outside the page's re-rendered part so a refresh does not close it.
#[component]
pub fn ConflictModal(id: Signal<String>) -> impl IntoView {
    let Some(Resolving(target)) = use_context::<Resolving>() else {
        return ().into_any();
    };
    let loaded: RwSignal<Option<Result<ConflictView, String>>> = RwSignal::new(None);
    // What the last resolve job said, and whether the merge is gone (applied) since.
    let outcome: RwSignal<Option<Result<String, String>>> = RwSignal::new(None);
    let applied = RwSignal::new(false);
    let aborted = RwSignal::new(false);
    // The abort button asks once more before it drops the merge.
    let confirm_abort = RwSignal::new(false);
    // A resolution that keeps one side of whole files drops the other side's changes there:
    // it waits here for a second yes (with what it drops) before it is sent.
    let confirm_overwrite: RwSignal<Option<(ResolveRequest, Vec<String>)>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let modes: RwSignal<BTreeMap<String, FileMode>> = RwSignal::new(BTreeMap::new());
    let hunks: RwSignal<BTreeMap<(String, usize), HunkSide>> = RwSignal::new(BTreeMap::new());
    let strategy: RwSignal<Option<Side>> = RwSignal::new(None);

    let load = move |project: Option<String>| {
        leptos::task::spawn_local(async move {
            let result = get_conflicts(id.get_untracked(), project).await;
            loaded.set(Some(result.map_err(|e| e.to_string())));
        });
    };
    Effect::new(move |_| {
        if let Some(project) = target.get() {
            loaded.set(None);
            outcome.set(None);
            applied.set(false);
            aborted.set(false);
            confirm_abort.set(false);
            confirm_overwrite.set(None);
            modes.set(BTreeMap::new());
            hunks.set(BTreeMap::new());
            strategy.set(None);
            load(project);
        }
    });
    let close = move || target.set(None);

    let request = move |view: &ConflictView| -> Result<ResolveRequest, String> {
        let modes = modes.get();
        let chosen = hunks.get();
        let mut files = BTreeMap::new();
        let mut by_hunk = BTreeMap::new();
        for f in view.files.iter().filter(|f| !f.resolved) {
            match modes.get(&f.path).copied().unwrap_or(FileMode::Leave) {
                FileMode::Leave => {}
                FileMode::Ours => {
                    files.insert(f.path.clone(), Side::Ours);
                }
                FileMode::Theirs => {
                    files.insert(f.path.clone(), Side::Theirs);
                }
                FileMode::Hunks => {
                    let n = conflict_count(f);
                    let sides: Option<Vec<HunkSide>> = (0..n)
                        .map(|i| chosen.get(&(f.path.clone(), i)).copied())
                        .collect();
                    let Some(sides) = sides else {
                        return Err(format!("choose a side for every hunk of {}", f.path));
                    };
                    by_hunk.insert(f.path.clone(), sides);
                }
            }
        }
        Ok(ResolveRequest {
            artifact: view.artifact.clone(),
            project_path: view.project_path.clone(),
            collection: Some(view.collection.clone()),
            files,
            hunks: by_hunk,
            strategy: strategy.get(),
            apply: Some(true),
            // Choices made on this read only: if the merge changed meanwhile, nothing is
            // written and the dialog reads it again.
            revision: Some(view.revision.clone()),
            fork: false,
            reuse: false,
        })
    };
    // The whole merge settled at once, no file choices: keep both (`fork`), or take the
    // resolutions recorded for the same conflicts elsewhere and apply when that decides
    // everything (`reuse`; the job says what is left otherwise).
    let whole_request = move |view: &ConflictView, fork: bool| ResolveRequest {
        artifact: view.artifact.clone(),
        project_path: view.project_path.clone(),
        collection: Some(view.collection.clone()),
        files: BTreeMap::new(),
        hunks: BTreeMap::new(),
        strategy: None,
        apply: (!fork).then_some(true),
        revision: Some(view.revision.clone()),
        fork,
        reuse: !fork,
    };

    let submit = move |req: ResolveRequest| {
        confirm_overwrite.set(None);
        busy.set(true);
        outcome.set(None);
        let project = req.project_path.clone();
        leptos::task::spawn_local(async move {
            let result = match resolve_conflicts(req).await {
                Ok(job) => wait_for(job.id).await,
                Err(e) => Err(e.to_string()),
            };
            modes.set(BTreeMap::new());
            hunks.set(BTreeMap::new());
            match result {
                Ok(job) if job.state == StateName::Success => {
                    // Applied: the pending merge is gone, nothing to read again.
                    applied.set(true);
                    loaded.set(None);
                    let done = match forked(&job) {
                        Some(fork) => {
                            format!("Kept both: ours stays, and theirs is now the artifact {fork}.")
                        }
                        None => "Every file decided: the merge was applied.".to_owned(),
                    };
                    outcome.set(Some(Ok(done)));
                    busy.set(false);
                    return;
                }
                Ok(job) if job.state == StateName::Conflict => {
                    outcome.set(Some(Ok(
                        "Saved your choices; some files are still undecided.".to_owned(),
                    )));
                }
                Ok(job) => outcome.set(Some(Err(format!(
                    "The resolve job failed: {}",
                    job.log_excerpt
                )))),
                Err(e) => outcome.set(Some(Err(e))),
            }
            load(project);
            busy.set(false);
        });
    };

    let abort = move |project: Option<String>| {
        busy.set(true);
        outcome.set(None);
        leptos::task::spawn_local(async move {
            match abort_conflicts(id.get_untracked(), project).await {
                Ok(()) => {
                    aborted.set(true);
                    loaded.set(None);
                    outcome.set(Some(Ok(
                        "Aborted: the merge was dropped and nothing else changed.".to_owned(),
                    )));
                    crate::live::Live::get().refresh.update(|n| *n += 1);
                }
                Err(e) => outcome.set(Some(Err(format!("Could not abort: {e}")))),
            }
            confirm_abort.set(false);
            busy.set(false);
        });
    };

    let body = move || {
        let view_ = match loaded.get() {
            None if aborted.get() => {
                return view! {
                    <p class="muted">"The copy is as it was before the merge; sync again to start a new one."</p>
                }
                .into_any();
            }
            None if applied.get() => {
                return view! {
                    <div class="resolve-done">
                        <p class="notice ok" role="status">"Resolved and applied: nothing is left to decide."</p>
                        <h3>"Unresolved files"</h3>
                        <ul class="unresolved"></ul>
                        <p class="muted unresolved-none">"None."</p>
                    </div>
                }
                .into_any();
            }
            None => return view! { <p class="muted loading">"Loading the merge…"</p> }.into_any(),
            Some(Err(e)) => {
                return view! { <div class="notice error" role="alert">{e}</div> }.into_any();
            }
            Some(Ok(v)) => v,
        };
        let (ours_tier, theirs_tier) = (view_.ours_tier.clone(), view_.theirs_tier.clone());
        let (ours_label, theirs_label) = (ours_tier.clone(), theirs_tier.clone());
        let files = view_
            .files
            .iter()
            .cloned()
            .map(|f| file_view(f, &ours_tier, &theirs_tier, modes, hunks))
            .collect_view();
        let unresolved = view_.unresolved.clone();
        let submit_view = view_.clone();
        let problem = Memo::new(move |_| request(&submit_view).err());
        let submit_view = view_.clone();
        let fork_view = view_.clone();
        let fork_name = format!("{}-fork", id_name(&view_.artifact));
        let abort_project = view_.project_path.clone();
        // A hook's or MCP server's merge: its clashes are JSON keys, decided whole, no fork.
        let keys = !view_.files.is_empty() && view_.files.iter().all(|f| f.kind == "key");
        let unit = if keys { "key" } else { "file" };
        // Files whose every conflict was resolved before, byte for byte (rerere).
        let reusable: Vec<(String, String)> = view_
            .files
            .iter()
            .filter_map(|f| Some((f.path.clone(), f.reusable_from.clone()?)))
            .collect();
        let reuse_view = view_.clone();
        view! {
            <p class="muted">
                "Ours is the " <strong>{ours_tier.clone()}</strong> "'s version (the tier being written); theirs is "
                <strong>{theirs_tier.clone()}</strong> "'s. Detected " {view_.detected_at.clone()} "."
            </p>
            {(!reusable.is_empty()).then(|| {
                let places: Vec<String> = reusable
                    .iter()
                    .map(|(_, from)| crate::format::base_name(from).to_owned())
                    .collect();
                view! {
                    <div class="notice ok reuse-offer" role="status">
                        <span>
                            {format!(
                                "Resolved the same way before: {} ({}).",
                                reusable.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>().join(", "),
                                places.join(", ")
                            )}
                        </span>
                        " "
                        <button type="button" class="reuse-button" disabled=move || busy.get()
                            title="The same conflicts, byte for byte, were resolved there: take those resolutions"
                            on:click=move |_| submit(whole_request(&reuse_view, false))>
                            "Take the same resolution"
                        </button>
                    </div>
                }
            })}
            <div class="conflict-files">{files}</div>
            <label class="field">
                {format!("Every other undecided {unit}")}
                <select name="strategy" on:change=move |e| {
                    strategy.set(match event_target_value(&e).as_str() {
                        "ours" => Some(Side::Ours),
                        "theirs" => Some(Side::Theirs),
                        _ => None,
                    });
                }>
                    <option value="">"Leave undecided"</option>
                    <option value="ours">{format!("Keep ours ({ours_tier})")}</option>
                    <option value="theirs">{format!("Take theirs ({theirs_tier})")}</option>
                </select>
            </label>
            <h3>{format!("Unresolved {unit}s")}</h3>
            <ul class="unresolved">
                {unresolved.iter().map(|p| view! { <li><code>{p.clone()}</code></li> }).collect_view()}
            </ul>
            {unresolved.is_empty().then(|| view! { <p class="muted unresolved-none">"None."</p> })}
            {move || problem.get().map(|p| view! { <p class="muted resolve-problem">{p}</p> })}
            <div class="actions">
                <button type="button" class="primary" disabled=move || busy.get() || problem.with(Option::is_some)
                    on:click=move |_| {
                        if let Ok(req) = request(&submit_view) {
                            let drops = overwrites(&req, &submit_view, &ours_label, &theirs_label);
                            if drops.is_empty() {
                                submit(req);
                            } else {
                                confirm_overwrite.set(Some((req, drops)));
                            }
                        }
                    }>
                    "Resolve"
                </button>
                {(!keys).then(|| view! {
                    <button type="button" class="fork-button" disabled=move || busy.get()
                        title=format!("Keep ours as it is and add theirs as the new artifact {fork_name}")
                        on:click=move |_| submit(whole_request(&fork_view, true))>
                        "Keep both (fork)"
                    </button>
                })}
                <Show when=move || !confirm_abort.get()>
                    <button type="button" class="abort-button" disabled=move || busy.get()
                        title="Drop this merge; the copy stays exactly as it is"
                        on:click=move |_| confirm_abort.set(true)>
                        "Abort merge…"
                    </button>
                </Show>
            </div>
            {move || confirm_overwrite.get().map(|(req, drops)| view! {
                <div class="notice warn confirm-overwrite" role="alert">
                    <p><strong>"This overwrites one side's changes:"</strong></p>
                    <ul class="overwrites">
                        {drops.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}
                    </ul>
                    <p class="muted">"What the target holds now is recorded first, so a rollback can bring it back."</p>
                    <div class="actions">
                        <button type="button" class="danger overwrite-confirm" disabled=move || busy.get()
                            on:click=move |_| submit(req.clone())>
                            "Yes, resolve"
                        </button>
                        <button type="button" on:click=move |_| confirm_overwrite.set(None)>"Go back"</button>
                    </div>
                </div>
            })}
            <Show when=move || confirm_abort.get()>
                <div class="notice warn confirm-abort" role="alert">
                    <p>"Abort this merge? The choices made so far are dropped; ours and theirs stay as they are."</p>
                    <div class="actions">
                        <button type="button" class="danger abort-confirm" disabled=move || busy.get()
                            on:click={
                                let project = abort_project.clone();
                                move |_| abort(project.clone())
                            }>
                            "Yes, abort the merge"
                        </button>
                        <button type="button" on:click=move |_| confirm_abort.set(false)>"Keep it"</button>
                    </div>
                </div>
            </Show>
        }
        .into_any()
    };
    let outcome_view = move || {
        outcome.get().map(|o| match o {
            Ok(m) => {
                view! { <p class="notice ok resolve-outcome" role="status">{m}</p> }.into_any()
            }
            Err(e) => view! { <div class="notice error resolve-outcome" role="alert">{e}</div> }
                .into_any(),
        })
    };
    view! {
        <Show when=move || target.get().is_some()>
            <div class="modal-backdrop" on:keydown=move |e| if e.key() == "Escape" { close() }>
                <div class="modal wide" role="dialog" aria-modal="true" aria-labelledby="resolve-title">
                    <h2 id="resolve-title">"Resolve " <code>{move || id.get()}</code></h2>
                    {outcome_view}
                    {body}
                    <div class="actions">
                        <button type="button" on:click=move |_| close()>"Close"</button>
                    </div>
                </div>
            </div>
        </Show>
    }
    .into_any()
}

/// The artifact a resolve job forked the source's version into, from its result.
fn forked(job: &crate::dto::JobView) -> Option<String> {
    let reports = job.result.as_ref()?.as_array()?;
    reports
        .iter()
        .find_map(|r| r.get("fork")?.as_str().map(str::to_owned))
}

/// The name part of an id (`pdf` of `skill:pdf`).
fn id_name(id: &str) -> &str {
    id.split_once(':').map_or(id, |(_, name)| name)
}

fn conflict_count(f: &ConflictFileView) -> usize {
    f.hunks
        .iter()
        .filter(|h| matches!(h, HunkView::Conflict { .. }))
        .count()
}

/// One conflicted file: how to decide it, and its versions.
fn file_view(
    f: ConflictFileView,
    ours_tier: &str,
    theirs_tier: &str,
    modes: RwSignal<BTreeMap<String, FileMode>>,
    hunks: RwSignal<BTreeMap<(String, usize), HunkSide>>,
) -> impl IntoView {
    let path = f.path.clone();
    let by_hunk = !f.whole_only && conflict_count(&f) > 0;
    let mode = {
        let path = path.clone();
        move || modes.get().get(&path).copied().unwrap_or(FileMode::Leave)
    };
    let set_mode = {
        let path = path.clone();
        move |m: FileMode| {
            modes.update(|ms| {
                ms.insert(path.clone(), m);
            })
        }
    };
    let radio = {
        let (path, mode) = (path.clone(), mode.clone());
        move |m: FileMode, label: String| {
            let mode = mode.clone();
            let set_mode = set_mode.clone();
            view! {
                <label class="choice">
                    <input type="radio" name=format!("file-{path}") value=mode_code(m)
                        prop:checked=move || mode() == m
                        on:change=move |_| set_mode(m) />
                    " " {label}
                </label>
            }
        }
    };
    let tabs = RwSignal::new("merged");
    let texts = [
        ("merged", "Merged", f.merged.clone()),
        ("base", "Base", f.base.clone()),
        ("ours", "Ours", f.ours.clone()),
        ("theirs", "Theirs", f.theirs.clone()),
    ];
    // A hook's or MCP server's clash is one JSON key, not a file.
    let absent = if f.kind == "key" {
        "(not set on this side)"
    } else {
        "(no such file on this side)"
    };
    let shown = {
        let texts = texts.clone();
        move || {
            let key = tabs.get();
            texts
                .iter()
                .find(|t| t.0 == key)
                .and_then(|t| t.2.clone())
                .unwrap_or_else(|| absent.to_owned())
        }
    };
    let hunk_list = {
        let (path, mode) = (path.clone(), mode.clone());
        let list = f.hunks.clone();
        let (ours_tier, theirs_tier) = (ours_tier.to_owned(), theirs_tier.to_owned());
        move || {
            (mode() == FileMode::Hunks)
                .then(|| hunk_chooser(&path, &list, &ours_tier, &theirs_tier, hunks))
        }
    };
    view! {
        <section class="conflict-file" data-path=path.clone()>
            <header>
                <code class="path">{path.clone()}</code>
                " " <span class="badge action action-conflict">{f.kind.clone()}</span>
                {f.resolved.then(|| view! { " " <span class="badge ok">"decided"</span> })}
                {f.reusable_from.clone().map(|from| view! {
                    " " <span class="badge reusable" title=from.clone()>
                        {format!("resolved the same way in {}", crate::format::base_name(&from))}
                    </span>
                })}
            </header>
            {(!f.resolved).then(|| view! {
                <div class="choices" role="radiogroup" aria-label=format!("How to resolve {path}")>
                    {radio(FileMode::Leave, "Leave".to_owned())}
                    {radio(FileMode::Ours, format!("Ours ({ours_tier})"))}
                    {radio(FileMode::Theirs, format!("Theirs ({theirs_tier})"))}
                    {by_hunk.then(|| radio(FileMode::Hunks, "Hunk by hunk".to_owned()))}
                </div>
            })}
            {f.whole_only.then(|| view! {
                <p class="muted">"Binary or too large to show: keep one side whole."</p>
            })}
            {(!f.whole_only).then(|| view! {
                <nav class="view-toggle small" aria-label="Version">
                    {texts.iter().map(|(key, label, _)| {
                        let key = *key;
                        view! {
                            <button type="button" class="tab" aria-pressed=move || (tabs.get() == key).to_string()
                                on:click=move |_| tabs.set(key)>{*label}</button>
                        }
                    }).collect_view()}
                </nav>
                <pre class="file-text">{shown.clone()}</pre>
            })}
            {hunk_list}
        </section>
    }
}

fn mode_code(m: FileMode) -> &'static str {
    match m {
        FileMode::Leave => "leave",
        FileMode::Ours => "ours",
        FileMode::Theirs => "theirs",
        FileMode::Hunks => "hunks",
    }
}

/// The conflicts of one file, each with ours / theirs / both.
fn hunk_chooser(
    path: &str,
    list: &[HunkView],
    ours_tier: &str,
    theirs_tier: &str,
    hunks: RwSignal<BTreeMap<(String, usize), HunkSide>>,
) -> impl IntoView + use<> {
    let mut n = 0;
    list.iter()
        .map(|h| match h {
            HunkView::Clean { text } => {
                let lines = text.lines().count();
                view! {
                    <details class="hunk-clean">
                        <summary>{format!("{lines} line(s) both sides agree on")}</summary>
                        <pre>{text.clone()}</pre>
                    </details>
                }
                .into_any()
            }
            HunkView::Conflict { ours, base, theirs } => {
                let index = n;
                n += 1;
                let key = (path.to_owned(), index);
                let choice = {
                    let key = key.clone();
                    move || hunks.get().get(&key).copied()
                };
                let option = |side: HunkSide, label: String| {
                    let (key, choice) = (key.clone(), choice.clone());
                    view! {
                        <label class="choice">
                            <input type="radio" name=format!("hunk-{path}-{index}") value=hunk_code(side)
                                prop:checked=move || choice() == Some(side)
                                on:change=move |_| hunks.update(|h| { h.insert(key.clone(), side); }) />
                            " " {label}
                        </label>
                    }
                };
                view! {
                    <div class="hunk" data-hunk=index>
                        <div class="hunk-sides">
                            <div class="hunk-side ours">
                                <h4>{format!("Ours ({ours_tier})")}</h4>
                                <pre>{ours.clone()}</pre>
                            </div>
                            <div class="hunk-side theirs">
                                <h4>{format!("Theirs ({theirs_tier})")}</h4>
                                <pre>{theirs.clone()}</pre>
                            </div>
                        </div>
                        {base.clone().map(|b| view! {
                            <details class="hunk-base"><summary>"Base"</summary><pre>{b}</pre></details>
                        })}
                        <div class="choices" role="radiogroup" aria-label=format!("Hunk {} of {path}", index + 1)>
                            {option(HunkSide::Ours, "Ours".to_owned())}
                            {option(HunkSide::Theirs, "Theirs".to_owned())}
                            {option(HunkSide::Both, "Both (ours, then theirs)".to_owned())}
                        </div>
                    </div>
                }
                .into_any()
            }
        })
        .collect_view()
}

fn hunk_code(s: HunkSide) -> &'static str {
    match s {
        HunkSide::Ours => "ours",
        HunkSide::Theirs => "theirs",
        HunkSide::Both => "both",
    }
}

/// What `req` overwrites, in words: each file settled whole by one side (chosen for it, or by
/// the strategy for every other undecided file), with whose changes are dropped there.
fn overwrites(req: &ResolveRequest, view: &ConflictView, ours: &str, theirs: &str) -> Vec<String> {
    let say = |path: &str, side: Side| match side {
        Side::Ours => {
            format!("{path}: keep ours ({ours}) — the {theirs}'s changes to it are dropped")
        }
        Side::Theirs => {
            format!("{path}: take theirs ({theirs}) — the {ours}'s edits to it are dropped")
        }
    };
    let mut out: Vec<String> = req
        .files
        .iter()
        .map(|(path, side)| say(path, *side))
        .collect();
    if let Some(side) = req.strategy {
        out.extend(
            view.unresolved
                .iter()
                .filter(|p| !req.files.contains_key(*p) && !req.hunks.contains_key(*p))
                .map(|p| say(p, side)),
        );
    }
    out
}
