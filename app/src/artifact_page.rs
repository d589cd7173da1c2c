//! The artifact page: three version cards, a project chooser, the pair selector, the diff
//! viewer, and the history. Everything is addressable by URL (`?project=&pair=&view=`), so
//! it reads the same without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::{get_artifact, get_diff};
use crate::diffview::DiffViewer;
use crate::dto::{ArtifactDetail, HistoryView, VersionCard};
use crate::pages::{encode, status_badge};

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
    let detail = Resource::new(
        move || (id(), project()),
        |(id, project)| get_artifact(id, project),
    );
    view! {
        <section class="page artifact-page">
            <p class="crumbs"><a href="/">"Artifacts"</a> " / " <code>{id}</code></p>
            <Suspense fallback=|| view! { <p class="muted loading">"Loading the artifact…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(d) => render(d, pair_param(), split()).into_any(),
                        Err(e) => view! {
                            <h1>{id()}</h1>
                            <div class="notice error" role="alert">{e.to_string()}</div>
                        }
                            .into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn render(d: ArtifactDetail, pair: Option<Pair>, split: bool) -> impl IntoView {
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
                let name = std::path::Path::new(p)
                    .file_name()
                    .map_or_else(|| p.clone(), |n| n.to_string_lossy().into_owned());
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
    let diff_section = if pair.needs_project() && project.is_none() {
        view! {
            <div class="empty-state">
                <h2>"No project to compare"</h2>
                <p>"Deploy this artifact to a project to compare it there."</p>
            </div>
        }
        .into_any()
    } else {
        let (lhs, rhs) = pair.sides();
        view! { <DiffSection id=id.clone() lhs=lhs rhs=rhs project=project.clone() split=split /> }
            .into_any()
    };
    let (kind, name) = id.split_once(':').unwrap_or(("", id.as_str()));
    view! {
        <div class="page-head">
            <h1><code>{name.to_owned()}</code></h1>
            <span class="badge kind">{kind.to_owned()}</span>
        </div>
        {chooser}
        {cards}
        <h2 class="section">"Differences"</h2>
        <nav class="pair-selector" aria-label="Compare">{pairs} <span class="spacer"></span> {views}</nav>
        {diff_section}
        <h2 class="section">"History"</h2>
        {history(d.history)}
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

/// The diff between two sides, loaded on its own so the cards show first.
#[component]
fn DiffSection(
    id: String,
    lhs: &'static str,
    rhs: &'static str,
    project: Option<String>,
    split: bool,
) -> impl IntoView {
    let diff = Resource::new(
        move || (id.clone(), project.clone()),
        move |(id, project)| get_diff(id, lhs.to_owned(), rhs.to_owned(), project),
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted loading">"Computing the diff…"</p> }>
            {move || Suspend::new(async move {
                match diff.await {
                    Ok(d) => view! { <DiffViewer diff=d split=split /> }.into_any(),
                    Err(e) => view! {
                        <div class="notice error" role="alert">"Could not compute this diff: " {e.to_string()}</div>
                    }
                        .into_any(),
                }
            })}
        </Suspense>
    }
}

fn history(h: HistoryView) -> impl IntoView {
    if h.versions.is_empty() {
        return view! {
            <div class="empty-state"><h2>"No recorded versions"</h2>
            <p>"Versions are recorded when the artifact is added, synced, deployed or tagged."</p></div>
        }
        .into_any();
    }
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
                </tr>
            }
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
        <table class="artifacts history">
            <thead>
                <tr>
                    <th scope="col">"Version"</th>
                    <th scope="col">"Origin"</th>
                    <th scope="col">"Tag"</th>
                    <th scope="col">"Recorded"</th>
                    <th scope="col">"Parents"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        {events}
    }
    .into_any()
}
