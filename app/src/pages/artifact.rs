//! The artifact page: three version cards, a project chooser, the pair selector, the diff
//! viewer, the history and the timeline. Everything is addressable by URL (`?project=&pair=&view=`), so
//! it reads the same without JavaScript.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::{get_artifact, get_diff};
use crate::components::badge::status_badge;
use crate::components::changelog::{bump_badge, changelog};
use crate::components::conflict_dialog::{ConflictModal, Resolving, pending_banner};
use crate::components::diff_viewer::DiffViewer;
use crate::components::patch_export::PatchExport;
use crate::components::remove::RemoveControl;
use crate::components::restore::RestoreControl;
use crate::components::sync_dialog::SyncControl;
use crate::components::sync_lock::SyncLockBanner;
use crate::components::tag_control::TagControl;
use crate::components::timeline::timeline;
use crate::dto::{ArtifactDetail, HistoryView, TimelineView, VersionCard};
use crate::format::{base_name, encode, short};
use crate::live::Live;
use crate::pair::Pair;

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
        move || (id(), project(), versions(), live.refresh.get()),
        |(id, project, versions, _)| {
            let (from, to) = versions.unzip();
            get_artifact(id, project, from, to)
        },
    );
    // The conflict modal lives outside the re-rendered part: a refresh keeps it open.
    provide_context(Resolving(RwSignal::new(None)));
    provide_context(crate::components::update_everywhere::Kept::new());
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
    // What `check` finds: listed above the cards, each with what it means.
    let findings = (!d.findings.is_empty()).then(|| {
        let items = d
            .findings
            .iter()
            .map(|f| {
                view! {
                    <li class=format!("finding finding-{}", f.severity)>
                        <span class=format!("badge check check-{}", f.severity)>{f.severity.clone()}</span>
                        " " {f.message.clone()}
                    </li>
                }
            })
            .collect_view();
        view! {
            <section class="findings" aria-label="Checks">
                <h2>"Checks"</h2>
                <ul>{items}</ul>
            </section>
        }
    });
    let cards = view! {
        {findings}
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
            {d.changelog.clone().map(changelog)}
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
        {d.failing.map(|(run, limit)| view! { <SyncLockBanner id=id.clone() run=run limit=limit /> })}
        {chooser}
        {cards}
        {d.timeline.map(copy_timeline)}
        {(!d.deployed_in.is_empty()).then(|| view! {
            <div class="bulk-bar">
                <crate::components::update_everywhere::UpdateEverywhere artifact=id.clone() />
            </div>
        })}
        <div class="section-head">
            <h2 class="section">"Differences"</h2>
            <SyncControl id=id.clone() pair=pair project=project.clone() />
        </div>
        <nav class="pair-selector" aria-label="Compare">{pairs} <span class="spacer"></span> {views}</nav>
        {diff_section}
        {project.clone().map(|p| view! { <PatchExport id=id.clone() project=p /> })}
        <h2 class="section">"History"</h2>
        {d.next_tag.map(|next| view! { <TagControl id=id.clone() next=next /> })}
        {history(d.history, id.clone(), project.clone(), versions)}
        <h2 class="section" id="timeline">"Timeline"</h2>
        {timeline(d.log)}
        <RemoveControl id=id.clone() project=project.clone() deployed_in=d.deployed_in.clone() />
    }
}

/// The project copy's modification timeline, under the cards.
fn copy_timeline(t: TimelineView) -> impl IntoView {
    let never = |v: Option<String>| v.unwrap_or_else(|| "never".to_owned());
    let modified = match (t.modified_since, t.modified_now) {
        (Some(at), true) => format!("edited, first seen {at}"),
        (Some(at), false) => format!("back to its baseline (an edit was seen {at})"),
        (None, true) => "edited (not seen by a check yet)".to_owned(),
        (None, false) => "as deployed".to_owned(),
    };
    view! {
        <dl class="copy-timeline" aria-label="Project copy timeline">
            <div class="row"><dt>"Deployed"</dt><dd>{never(t.deployed_at)}</dd></div>
            <div class="row"><dt>"Local edits"</dt><dd class=if t.modified_now { "edited" } else { "" }>{modified}</dd></div>
            <div class="row"><dt>"Last checked"</dt><dd>{never(t.last_checked)}</dd></div>
            <div class="row"><dt>"Versions"</dt><dd>{t.versions}</dd></div>
            <div class="row"><dt>"Parent"</dt><dd>{t.parent.map_or_else(|| view! { "—" }.into_any(), |p| view! { <code title=p.clone()>{short(&p)}</code> }.into_any())}</dd></div>
        </dl>
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
    // The upstream card says how fresh it is: asked now (as the diff below is), the state last
    // seen when the upstream did not answer, or the lock when upstream checks are off.
    let checked = (c.tier == "upstream").then(|| {
        let said = match (&c.stale, c.live, c.hash.is_some()) {
            (Some(st), _, _) => view! {
                <span class="badge stale-upstream" title=format!("The upstream did not answer: {}. Showing its state as of {}.", st.reason, st.seen_at)>
                    {format!("as of {} ago", crate::format::age(st.age_seconds))}
                </span>
            }
                .into_any(),
            (None, true, true) => view! { <span>"now"</span> }.into_any(),
            (None, true, false) => view! { <span class="badge status status-removed">"gone from the upstream"</span> }.into_any(),
            (None, false, _) => view! { <span class="muted">"at the last fetch (upstream checks are off)"</span> }.into_any(),
        };
        view! { <div class="row upstream-checked"><dt>"Checked"</dt><dd>{said}</dd></div> }
    });
    view! {
        <article class=format!("card tier-{}", c.tier)>
            <h2>{title} {c.status.map(|s| status_badge(&s))}</h2>
            <dl>
                <div class="row"><dt>"Hash"</dt><dd><code title=full>{hash.unwrap_or_else(|| "—".to_owned())}</code></dd></div>
                <div class="row"><dt>"When"</dt><dd>{c.timestamp.unwrap_or_else(|| "—".to_owned())}</dd></div>
                {checked}
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
            let bump = v.bump.as_ref().map(bump_badge);
            let breaking = v.breaking.then(|| view! { " " <span class="badge breaking">"breaking"</span> });
            view! {
                <tr class:current=v.current>
                    <td><code title=v.hash.clone()>{short(&v.hash)}</code>
                        {v.current.then(|| view! { " " <span class="badge current-badge">"in collection"</span> })}</td>
                    <td>{v.origin} " " {merge}</td>
                    <td>{bump}</td>
                    <td>{v.tag.map(|t| view! { <span class="badge">{t}</span> })}{breaking}</td>
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
                    <th scope="col">"Bump"</th>
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
