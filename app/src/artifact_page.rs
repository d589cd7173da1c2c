//! The artifact page: three version cards, a project chooser, the pair selector, the diff
//! viewer, and the history. Everything is addressable by URL (`?project=&pair=&view=`), so
//! it reads the same without JavaScript.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::{export_patch, get_artifact, get_diff, get_job, rollback_version, start_sync};
use crate::conflicts::{ConflictModal, Resolving, pending_banner};
use crate::diffview::DiffViewer;
use crate::dto::{
    ArtifactDetail, CreateJob, DirectionName, HistoryView, JobView, PatchRequest, RollbackRequest,
    StateName, StrategyName, VersionCard,
};
use crate::format::{base_name, encode, human_size};
use crate::live::{Live, is_final};
use crate::pages::status_badge;

/// A pair of tiers to compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pair {
    /// Upstream ↔ collection.
    Uc,
    /// Collection ↔ project.
    Cp,
    /// Upstream ↔ project.
    Up,
}

impl Pair {
    const ALL: [Pair; 3] = [Pair::Uc, Pair::Cp, Pair::Up];

    fn parse(s: &str) -> Option<Self> {
        match s {
            "uc" => Some(Self::Uc),
            "cp" => Some(Self::Cp),
            "up" => Some(Self::Up),
            _ => None,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Self::Uc => "uc",
            Self::Cp => "cp",
            Self::Up => "up",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Uc => "Upstream ↔ Collection",
            Self::Cp => "Collection ↔ Project",
            Self::Up => "Upstream ↔ Project",
        }
    }

    /// The diff's (lhs, rhs): the side it syncs from, then the side it syncs to.
    fn sides(self) -> (&'static str, &'static str) {
        match self {
            Self::Uc => ("upstream", "collection"),
            Self::Cp => ("collection", "project"),
            Self::Up => ("upstream", "project"),
        }
    }

    fn needs_project(self) -> bool {
        self != Self::Uc
    }
}

/// The page's URL with some of its parameters changed.
fn href(id: &str, project: Option<&str>, pair: Pair, split: bool) -> String {
    let mut url = format!("/artifacts/{}?pair={}", encode(id), pair.code());
    if let Some(p) = project {
        url.push_str(&format!("&project={}", encode(p)));
    }
    if split {
        url.push_str("&view=split");
    }
    url
}

fn short(hash: &str) -> String {
    hash.chars().take(12).collect()
}

/// One artifact, at `/artifacts/:id`.
#[component]
pub fn ArtifactPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let project = move || query.read().get("project").filter(|p| !p.is_empty());
    let split = move || query.read().get("view").as_deref() == Some("split");
    let pair_param = move || query.read().get("pair").and_then(|p| Pair::parse(&p));
    // Two recorded versions to compare instead of a pair (the history's form).
    let versions = move || {
        let q = query.read();
        let side = |k: &str| q.get(k).filter(|v| !v.is_empty());
        side("from").zip(side("to"))
    };
    let live = Live::get();
    let detail = crate::codec::resource(
        move || (id(), project(), live.refresh.get()),
        |(id, project, _)| get_artifact(id, project),
    );
    // The conflict modal lives outside the re-rendered part: a refresh keeps it open.
    provide_context(Resolving(RwSignal::new(None)));
    view! {
        <ConflictModal id=Signal::derive(id) />
        <section class="page artifact-page">
            <p class="crumbs"><a href="/">"Artifacts"</a> " / " <code>{id}</code></p>
            <Transition fallback=|| view! { <p class="muted loading">"Loading the artifact…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(d) => render(d, pair_param(), split(), versions()).into_any(),
                        Err(e) => view! {
                            <h1>{id()}</h1>
                            <div class="notice error" role="alert">{e.to_string()}</div>
                        }
                            .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn render(
    d: ArtifactDetail,
    pair: Option<Pair>,
    split: bool,
    versions: Option<(String, String)>,
) -> impl IntoView {
    let id = d.cards.id.clone();
    let project = d.project.clone();
    // Default pair: collection ↔ project where deployed, else upstream ↔ collection.
    let pair = pair.unwrap_or(if project.is_some() {
        Pair::Cp
    } else {
        Pair::Uc
    });
    let chooser = (d.deployed_in.len() > 1).then(|| {
        let links = d
            .deployed_in
            .iter()
            .map(|p| {
                let name = base_name(p);
                let current = project.as_deref() == Some(p.as_str());
                view! {
                    <a href=href(&id, Some(p), pair, split) class=if current { "chip current" } else { "chip" }
                        aria-current=current.then_some("true") title=p.clone()>
                        {name}
                    </a>
                }
            })
            .collect_view();
        view! { <nav class="project-chooser" aria-label="Project">"Project: " {links}</nav> }
    });
    let cards = view! {
        <div class="cards">
            {card("Upstream", d.cards.upstream)}
            {card("Collection", d.cards.collection)}
            {match (&project, d.cards.project) {
                (Some(_), card_) => card("Project", card_).into_any(),
                (None, _) => view! {
                    <article class="card missing">
                        <h2>"Project"</h2>
                        <p class="muted">"Not deployed in any registered project."</p>
                    </article>
                }
                    .into_any(),
            }}
        </div>
    };
    let pairs = Pair::ALL
        .iter()
        .map(|p| {
            let current = *p == pair;
            let disabled = p.needs_project() && project.is_none();
            if disabled {
                view! { <span class="tab disabled" title="Needs a project it is deployed in">{p.label()}</span> }
                    .into_any()
            } else {
                view! {
                    <a href=href(&id, project.as_deref(), *p, split)
                        class=if current { "tab current" } else { "tab" }
                        aria-current=current.then_some("true")>
                        {p.label()}
                    </a>
                }
                .into_any()
            }
        })
        .collect_view();
    let views = view! {
        <span class="view-toggle">
            <a href=href(&id, project.as_deref(), pair, false) class=if split { "tab" } else { "tab current" }
                aria-current=(!split).then_some("true")>"Unified"</a>
            <a href=href(&id, project.as_deref(), pair, true) class=if split { "tab current" } else { "tab" }
                aria-current=split.then_some("true")>"Side by side"</a>
        </span>
    };
    let diff_section = if let Some((from, to)) = versions.clone() {
        let back = href(&id, project.as_deref(), pair, split);
        view! {
            <p class="notice versions-compared">
                "Comparing recorded versions " <code>{short(&from)}</code> " → " <code>{short(&to)}</code>
                ". " <a href=back>"Back to the tiers"</a>
            </p>
            <DiffSection id=id.clone() lhs=from rhs=to project=project.clone() split=split />
        }
        .into_any()
    } else if pair.needs_project() && project.is_none() {
        view! {
            <div class="empty-state">
                <h2>"No project to compare"</h2>
                <p>"Deploy this artifact to a project to compare it there."</p>
            </div>
        }
        .into_any()
    } else {
        let (lhs, rhs) = pair.sides();
        view! { <DiffSection id=id.clone() lhs=lhs.to_owned() rhs=rhs.to_owned() project=project.clone() split=split /> }
            .into_any()
    };
    let (kind, name) = id.split_once(':').unwrap_or(("", id.as_str()));
    view! {
        <div class="page-head">
            <h1><code>{name.to_owned()}</code></h1>
            <span class="badge kind">{kind.to_owned()}</span>
        </div>
        {pending_banner(d.pending)}
        {chooser}
        {cards}
        <div class="section-head">
            <h2 class="section">"Differences"</h2>
            <SyncControl id=id.clone() pair=pair project=project.clone() />
        </div>
        <nav class="pair-selector" aria-label="Compare">{pairs} <span class="spacer"></span> {views}</nav>
        {diff_section}
        {project.clone().map(|p| view! { <PatchExport id=id.clone() project=p /> })}
        <h2 class="section">"History"</h2>
        {history(d.history, id.clone(), project.clone(), versions)}
    }
}

fn card(title: &'static str, c: Option<VersionCard>) -> impl IntoView {
    let Some(c) = c else {
        return view! {
            <article class="card missing">
                <h2>{title}</h2>
                <p class="muted">"No copy in this tier."</p>
            </article>
        }
        .into_any();
    };
    let hash = c.hash.as_deref().map(short);
    let full = c.hash.clone().unwrap_or_default();
    let lineage = (!c.lineage.is_empty()).then(|| {
        view! {
            <div class="row"><dt>"Lineage"</dt><dd><code>{c.lineage.join(" ← ")}</code></dd></div>
        }
    });
    view! {
        <article class=format!("card tier-{}", c.tier)>
            <h2>{title} {c.status.map(|s| status_badge(&s))}</h2>
            <dl>
                <div class="row"><dt>"Hash"</dt><dd><code title=full>{hash.unwrap_or_else(|| "—".to_owned())}</code></dd></div>
                <div class="row"><dt>"When"</dt><dd>{c.timestamp.unwrap_or_else(|| "—".to_owned())}</dd></div>
                <div class="row"><dt>"Source"</dt><dd><code>{c.source.unwrap_or_else(|| "—".to_owned())}</code></dd></div>
                {c.reference.map(|r| view! { <div class="row"><dt>"Ref"</dt><dd><code>{r}</code></dd></div> })}
                {c.commit.map(|r| view! { <div class="row"><dt>"Commit"</dt><dd><code>{short(&r)}</code></dd></div> })}
                {c.tag.map(|t| view! { <div class="row"><dt>"Tag"</dt><dd><span class="badge">{t}</span></dd></div> })}
                {lineage}
            </dl>
        </article>
    }
    .into_any()
}

/// Two recorded versions to diff: a GET form, so it works without JavaScript and the result
/// has a URL. Oldest first in "from", newest in "to" unless a comparison is shown.
fn compare_form(
    h: &HistoryView,
    project: Option<&str>,
    compared: Option<(String, String)>,
) -> Option<impl IntoView + use<>> {
    if h.versions.len() < 2 {
        return None;
    }
    let label = |v: &crate::dto::HistoryEntry| {
        let tag = v
            .tag
            .as_deref()
            .map(|t| format!(" {t}"))
            .unwrap_or_default();
        format!("{}{tag} · {} · {}", short(&v.hash), v.origin, v.created_at)
    };
    let (from, to) = compared.unwrap_or_else(|| {
        let newest = h
            .versions
            .first()
            .map(|v| v.hash.clone())
            .unwrap_or_default();
        let oldest = h
            .versions
            .last()
            .map(|v| v.hash.clone())
            .unwrap_or_default();
        (oldest, newest)
    });
    // (value, text, selected) per version, owned: the form's children outlive this call.
    let options = |chosen: &str| -> Vec<(String, String, bool)> {
        h.versions
            .iter()
            .map(|v| {
                let selected = v.hash.starts_with(chosen) || chosen.starts_with(&v.hash);
                (v.hash.clone(), label(v), selected)
            })
            .collect()
    };
    let (from, to) = (options(&from), options(&to));
    let project = project.map(str::to_owned);
    let render = |opts: &[(String, String, bool)]| {
        opts.iter()
            .map(|(value, text, selected)| {
                view! { <option value=value.clone() selected=*selected>{text.clone()}</option> }
            })
            .collect_view()
    };
    Some(view! {
        <Form method="GET" action="" attr:class="filters compare-versions" attr:aria-label="Compare two versions">
            {project.clone().map(|p| view! { <input type="hidden" name="project" value=p /> })}
            <label>"From " <select name="from">{render(&from)}</select></label>
            <label>"To " <select name="to">{render(&to)}</select></label>
            <button type="submit">"Compare versions"</button>
        </Form>
    })
}

/// The diff between two sides, loaded on its own so the cards show first.
#[component]
fn DiffSection(
    id: String,
    lhs: String,
    rhs: String,
    project: Option<String>,
    split: bool,
) -> impl IntoView {
    let live = Live::get();
    let shown_project = project.clone();
    let diff = crate::codec::resource(
        move || {
            (
                id.clone(),
                lhs.clone(),
                rhs.clone(),
                project.clone(),
                live.refresh.get(),
            )
        },
        move |(id, lhs, rhs, project, _)| get_diff(id, lhs, rhs, project),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted loading">"Computing the diff…"</p> }>
            {move || {
                let shown_project = shown_project.clone();
                Suspend::new(async move {
                match diff.await {
                    Ok(d) => view! { <DiffViewer diff=d split=split project=shown_project /> }.into_any(),
                    Err(e) => view! {
                        <div class="notice error" role="alert">"Could not compute this diff: " {e.to_string()}</div>
                    }
                        .into_any(),
                }
            })}}
        </Transition>
    }
}

fn history(
    h: HistoryView,
    id: String,
    project: Option<String>,
    compared: Option<(String, String)>,
) -> impl IntoView {
    if h.versions.is_empty() {
        return view! {
            <div class="empty-state"><h2>"No recorded versions"</h2>
            <p>"Versions are recorded when the artifact is added, synced, deployed or tagged."</p></div>
        }
        .into_any();
    }
    let compare = compare_form(&h, project.as_deref(), compared);
    let rows = h
        .versions
        .into_iter()
        .map(|v| {
            let parents = if v.parents.is_empty() {
                "—".to_owned()
            } else {
                v.parents.iter().map(|p| short(p)).collect::<Vec<_>>().join(" + ")
            };
            let merge = (v.parents.len() > 1).then(|| view! { <span class="badge">"merge"</span> });
            view! {
                <tr class:current=v.current>
                    <td><code title=v.hash.clone()>{short(&v.hash)}</code>
                        {v.current.then(|| view! { " " <span class="badge current-badge">"in collection"</span> })}</td>
                    <td>{v.origin} " " {merge}</td>
                    <td>{v.tag.map(|t| view! { <span class="badge">{t}</span> })}</td>
                    <td><time datetime=v.created_at.clone()>{v.created_at.clone()}</time></td>
                    <td><code>{parents}</code></td>
                    <td class="restore">
                        <RestoreControl id=id.clone() hash=v.hash.clone() project=project.clone() />
                    </td>
                </tr>
            }
            .into_any()
        })
        .collect_view();
    let events = (!h.events.is_empty()).then(|| {
        let items = h
            .events
            .into_iter()
            .map(|e| {
                view! {
                    <li>
                        <time datetime=e.created_at.clone()>{e.created_at.clone()}</time>
                        " · " {e.origin} " of " <code>{short(&e.hash)}</code> " in " <code>{e.tier}</code>
                    </li>
                }
            })
            .collect_view();
        view! { <h3>"Rollbacks"</h3><ul class="events">{items}</ul> }
    });
    view! {
        {compare}
        <table class="artifacts history">
            <thead>
                <tr>
                    <th scope="col">"Version"</th>
                    <th scope="col">"Origin"</th>
                    <th scope="col">"Tag"</th>
                    <th scope="col">"Recorded"</th>
                    <th scope="col">"Parents"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        {events}
    }
    .into_any()
}

/// The directions a pair can sync in, with labels.
fn directions(pair: Pair) -> &'static [(DirectionName, &'static str)] {
    match pair {
        Pair::Uc => &[(
            DirectionName::UpstreamToCollection,
            "Update the collection from upstream",
        )],
        Pair::Cp => &[
            (
                DirectionName::CollectionToProject,
                "Update the project from the collection",
            ),
            (
                DirectionName::ProjectToCollection,
                "Capture the project's edits into the collection",
            ),
        ],
        Pair::Up => &[],
    }
}

fn strategy_of(s: &str) -> StrategyName {
    match s {
        "ours" => StrategyName::Ours,
        "theirs" => StrategyName::Theirs,
        _ => StrategyName::Auto,
    }
}

/// One file of a plan: its path and what happens to it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PlannedFile {
    path: String,
    action: String,
    conflict: Option<String>,
}

/// The plan of a dry-run job: the outcome for the artifact and per-file actions.
fn plan_of(job: &JobView) -> Option<(String, Vec<PlannedFile>)> {
    let report = job.result.as_ref()?.as_array()?.first()?;
    let words = |v: &serde_json::Value| v.as_str().map(|s| s.replace(['-', '_'], " "));
    let outcome = words(report.get("outcome")?)?;
    let files = report
        .get("files")
        .and_then(|f| f.as_array())
        .map(|files| {
            files
                .iter()
                .filter_map(|f| {
                    Some(PlannedFile {
                        path: f.get("path")?.as_str()?.to_owned(),
                        action: f.get("action").and_then(words).unwrap_or_default(),
                        conflict: f.get("conflict").and_then(words),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some((outcome, files))
}

/// Waits for a job to end: its state from the server every 100 ms (a preview or a resolve is
/// quick), for at most a minute.
pub(crate) async fn wait_for(id: i64) -> Result<JobView, String> {
    wait_for_within(id, 60).await
}

/// Waits for a job to end, for at most `seconds`: every 100 ms for the first 10 s, then every
/// second.
pub(crate) async fn wait_for_within(id: i64, seconds: u64) -> Result<JobView, String> {
    let mut waited = 0;
    while waited < seconds * 1000 {
        match get_job(id).await {
            Ok(job) if is_final(job.state) => return Ok(job),
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
        let pause = if waited < 10_000 { 100 } else { 1000 };
        sleep_ms(pause).await;
        waited += pause;
    }
    Err(format!("job #{id} is taking long; see the Jobs page"))
}

/// A timer future (the page's `setTimeout`).
async fn sleep_ms(ms: u64) {
    let (tx, rx) = futures_channel::oneshot::channel::<()>();
    set_timeout(
        move || {
            let _ = tx.send(());
        },
        std::time::Duration::from_millis(ms),
    );
    let _ = rx.await;
}

/// The Sync button and its dialog: choose direction and strategy, preview the plan (a dry-run
/// job), then apply (ours/theirs ask twice). The applied job runs in the background; its
/// result arrives as a toast wherever the user is by then.
#[component]
fn SyncControl(id: String, pair: Pair, project: Option<String>) -> impl IntoView {
    let choices = directions(pair);
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let ready = move || hydrated.is_some_and(|h| h.get());
    let open = RwSignal::new(false);
    let direction = RwSignal::new(choices.first().map(|c| c.0));
    let strategy = RwSignal::new("auto".to_owned());
    let confirmed = RwSignal::new(false);
    let plan: RwSignal<Option<Result<JobView, String>>> = RwSignal::new(None);
    let started: RwSignal<Option<Result<JobView, String>>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let request = {
        let (id, project) = (id.clone(), project.clone());
        move |dry_run: bool| {
            let d = direction.get_untracked()?;
            Some(CreateJob {
                direction: d,
                artifacts: Some(vec![id.clone()]),
                project_path: if d == DirectionName::UpstreamToCollection {
                    None
                } else {
                    project.clone()
                },
                collection: None,
                strategy: Some(strategy_of(&strategy.get_untracked())),
                dry_run: Some(dry_run),
            })
        }
    };
    let preview = {
        let request = request.clone();
        move |_| {
            let Some(req) = request(true) else { return };
            busy.set(true);
            plan.set(None);
            confirmed.set(false);
            leptos::task::spawn_local(async move {
                let result = match start_sync(req).await {
                    Ok(job) => wait_for(job.id).await,
                    Err(e) => Err(e.to_string()),
                };
                plan.set(Some(result));
                busy.set(false);
            });
        }
    };
    let apply = move |_| {
        let Some(req) = request(false) else { return };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = start_sync(req).await.map_err(|e| e.to_string());
            started.set(Some(result));
            busy.set(false);
            open.set(false);
        });
    };
    let overwrites = move || strategy.get() != "auto";
    let can_apply = move || {
        !busy.get()
            && matches!(plan.get(), Some(Ok(ref j)) if j.state == StateName::Success || j.state == StateName::Conflict)
            && (!overwrites() || confirmed.get())
    };
    if choices.is_empty() {
        return view! {
            <p class="muted sync-note">"Upstream ↔ project is for reading: sync through the collection."</p>
        }
        .into_any();
    }
    let plan_view = move || {
        plan.get().map(|p| match p {
            Err(e) => view! { <div class="notice error" role="alert">{e}</div> }.into_any(),
            Ok(job) if job.state == StateName::Error => view! {
                <div class="notice error" role="alert">"The preview failed: " {job.log_excerpt.clone()}</div>
            }
            .into_any(),
            Ok(job) => match plan_of(&job) {
                None => view! { <p class="muted">"No plan came back."</p> }.into_any(),
                Some((outcome, files)) => view! {
                    <div class="plan">
                        <p>"Plan: " <strong class="plan-outcome">{outcome}</strong></p>
                        <ul class="plan-files">
                            {files.into_iter().map(|f| {
                                let class = format!("badge action action-{}", f.action.replace(' ', "-"));
                                view! {
                                <li>
                                    <code>{f.path}</code> " "
                                    <span class=class>{f.action}</span>
                                    {f.conflict.map(|c| view! { " " <span class="muted">{c}</span> })}
                                </li>
                            }}).collect_view()}
                        </ul>
                    </div>
                }
                .into_any(),
            },
        })
    };
    let started_view = move || {
        started.get().map(|s| match s {
            Ok(job) => view! {
                <p class="muted sync-started" role="status">
                    {format!("Job #{} started: you can leave this page, a notification follows.", job.id)}
                </p>
            }
            .into_any(),
            Err(e) => view! { <div class="notice error" role="alert">"Could not start the sync: " {e}</div> }.into_any(),
        })
    };
    view! {
        <button type="button" class="primary sync-button" disabled=move || !ready()
            title="Preview, then apply a sync of this pair"
            on:click=move |_| { plan.set(None); started.set(None); open.set(true); }>
            "Sync…"
        </button>
        {started_view}
        <Show when=move || open.get()>
            <div class="modal-backdrop">
                <div class="modal" role="dialog" aria-modal="true" aria-labelledby="sync-title">
                    <h2 id="sync-title">"Sync " <code>{id.clone()}</code></h2>
                    <label class="field">
                        "Direction"
                        <select name="direction" on:change=move |e| {
                            let v = event_target_value(&e);
                            direction.set(choices.iter().find(|c| c.0.as_str() == v).map(|c| c.0));
                            plan.set(None);
                        }>
                            {choices.iter().map(|(d, label)| view! {
                                <option value=d.as_str() selected=move || direction.get() == Some(*d)>{*label}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label class="field">
                        "Strategy"
                        <select name="strategy" on:change=move |e| {
                            strategy.set(event_target_value(&e));
                            plan.set(None);
                            confirmed.set(false);
                        }>
                            <option value="auto">"Auto: fast-forward or three-way merge"</option>
                            <option value="ours">"Ours: keep the target as it is"</option>
                            <option value="theirs">"Theirs: overwrite the target with the source"</option>
                        </select>
                    </label>
                    <div class="actions">
                        <button type="button" on:click=preview.clone() disabled=move || busy.get()>"Preview"</button>
                    </div>
                    {plan_view}
                    <Show when=overwrites>
                        <label class="confirm">
                            <input type="checkbox" name="confirm"
                                prop:checked=move || confirmed.get()
                                on:change=move |e| confirmed.set(event_target_checked(&e)) />
                            " I understand this overwrites one side's changes for the whole artifact"
                        </label>
                    </Show>
                    <div class="actions">
                        <button type="button" on:click=move |_| open.set(false)>"Cancel"</button>
                        <button type="button" class="primary" disabled=move || !can_apply() on:click=apply.clone()>"Apply"</button>
                    </div>
                </div>
            </div>
        </Show>
    }
    .into_any()
}

/// "Push upstream": packs the project's edits into a patch bundle for the upstream's
/// maintainers, with its size, sha256, a download link, a copyable URL and, for GitHub
/// upstreams, a compare link.
#[component]
fn PatchExport(id: String, project: String) -> impl IntoView {
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let ready = move || hydrated.is_some_and(|h| h.get());
    let export = Action::new(move |(id, project): &(String, String)| {
        let req = PatchRequest {
            artifact: id.clone(),
            project_path: project.clone(),
            collection: None,
        };
        async move { export_patch(req).await.map_err(|e| e.to_string()) }
    });
    let copied = RwSignal::new(false);
    let result = move || {
        export.value().get().map(|r| match r {
            Err(e) => view! { <div class="notice error" role="alert">"Could not export a patch: " {e}</div> }.into_any(),
            Ok(p) => {
                let absolute = absolute_url(&p.url);
                let copy_text = absolute.clone();
                view! {
                    <dl class="patch-result">
                        <div class="row"><dt>"Bundle"</dt><dd><a class="patch-download" href=p.url.clone() download>"Download the .tar.gz"</a>
                            {format!(" ({})", human_size(p.size))}</dd></div>
                        <div class="row"><dt>"SHA-256"</dt><dd><code class="patch-sha">{p.sha256.clone()}</code></dd></div>
                        <div class="row"><dt>"Link"</dt><dd class="copy-row">
                            <input class="patch-url" readonly value=absolute.clone() aria-label="Bundle URL" />
                            <button type="button" on:click=move |_| { copy(&copy_text); copied.set(true); }>
                                {move || if copied.get() { "Copied" } else { "Copy" }}
                            </button>
                        </dd></div>
                        <div class="row"><dt>"Files"</dt><dd>{format!(
                            "{} as patches, {} whole",
                            p.patched.len(),
                            p.whole_files.len()
                        )}</dd></div>
                        {p.github_url.map(|g| view! {
                            <div class="row"><dt>"GitHub"</dt><dd><a href=g target="_blank" rel="noopener">"Open a compare view"</a></dd></div>
                        })}
                    </dl>
                }
                .into_any()
            }
        })
    };
    view! {
        <section class="push-upstream">
            <div class="section-head">
                <h2 class="section">"Push upstream"</h2>
                <button type="button" class="export-button" disabled=move || !ready() || export.pending().get()
                    on:click=move |_| { copied.set(false); export.dispatch((id.clone(), project.clone())); }>
                    {move || if export.pending().get() { "Exporting…" } else { "Export a patch" }}
                </button>
            </div>
            <p class="muted">"Packs this project's edits as a patch bundle for the upstream's maintainers. SkillMeat never writes to an upstream."</p>
            {result}
        </section>
    }
}

/// `path` as an absolute URL of this page's origin (the browser knows it; the server
/// renders the path).
fn absolute_url(path: &str) -> String {
    #[cfg(feature = "hydrate")]
    if let Some(origin) = web_sys::window().and_then(|w| w.location().origin().ok()) {
        return format!("{origin}{path}");
    }
    path.to_owned()
}

/// Copies `text` to the clipboard (browser only).
fn copy(text: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

/// A history row's "Restore" control: asks once, then rolls the collection (or the shown
/// project) back to that version; the history and statuses refresh when it is done.
#[component]
fn RestoreControl(id: String, hash: String, project: Option<String>) -> impl IntoView {
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let ready = move || hydrated.is_some_and(|h| h.get());
    let asking = RwSignal::new(false);
    let target = RwSignal::new("collection".to_owned());
    let live = Live::get();
    let restore = Action::new(
        move |(id, hash, project): &(String, String, Option<String>)| {
            let req = RollbackRequest {
                to: hash.clone(),
                project_path: project.clone(),
                collection: None,
            };
            let id = id.clone();
            async move {
                let r = rollback_version(id, req).await.map_err(|e| e.to_string());
                if r.is_ok() {
                    live.refresh.update(|n| *n += 1);
                }
                r
            }
        },
    );
    let short_hash = short(&hash);
    let project_name = project.as_deref().map(base_name);
    let go = {
        let (id, hash, project) = (id.clone(), hash.clone(), project.clone());
        move |_| {
            let into = (target.get_untracked() == "project")
                .then(|| project.clone())
                .flatten();
            restore.dispatch((id.clone(), hash.clone(), into));
            asking.set(false);
        }
    };
    view! {
        <Show when=move || asking.get()
            fallback=move || view! {
                <button type="button" class="link-button restore-button" disabled=move || !ready()
                    on:click=move |_| asking.set(true)>"Restore…"</button>
            }>
            <span class="restore-confirm">
                "Restore " <code>{short_hash.clone()}</code> " into "
                <select name="target" on:change=move |e| target.set(event_target_value(&e))>
                    <option value="collection">"the collection"</option>
                    {project_name.clone().map(|n| view! { <option value="project">{n}</option> })}
                </select>
                " ? "
                <button type="button" class="primary" on:click=go.clone()>"Restore"</button>
                <button type="button" on:click=move |_| asking.set(false)>"Cancel"</button>
            </span>
        </Show>
        {move || restore.value().get().map(|r| match r {
            Ok(v) => view! { <span class="muted restored">{if v.changed { "Restored." } else { "Already at that version." }}</span> }.into_any(),
            Err(e) => view! { <span class="error">{e}</span> }.into_any(),
        })}
    }
}
