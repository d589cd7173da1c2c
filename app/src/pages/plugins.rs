//! The Plugins page, at `/plugins`: a Claude Code plugin marketplace's plugins (a GET form, so a
//! marketplace has a URL and the list works without JavaScript), each added with one button;
//! and what following the collection's plugins would change, applied as shown.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::{add_plugin, get_marketplace, plugin_changes};
use crate::dto::{MarketplaceView, PluginChangeView, PluginView};

#[component]
pub fn PluginsPage() -> impl IntoView {
    let query = use_query_map();
    let spec = move || query.read().get("spec").unwrap_or_default();
    let market = crate::codec::resource(spec, |spec| async move {
        if spec.trim().is_empty() {
            Ok(None)
        } else {
            get_marketplace(spec).await.map(Some)
        }
    });
    let live = crate::live::Live::get();
    let changes = crate::codec::resource(move || live.refresh.get(), |_| plugin_changes(None));
    view! {
        <section class="page plugins-page">
            <div class="page-head">
                <h1>"Plugins"</h1>
            </div>
            <p class="muted">
                "Claude Code plugins from a marketplace (a repository with "
                <code>".claude-plugin/marketplace.json"</code>
                "): each skill, command and agent of a plugin becomes an artifact of its own, and updates follow the plugin."
            </p>
            <Form method="GET" action="" attr:class="filters marketplace-form" attr:role="search">
                <label>
                    "Marketplace "
                    <input type="text" name="spec" size="48" placeholder="owner/repo, a git URL, or /path/to/repo"
                        value=spec required=true />
                </label>
                <button type="submit">"Show plugins"</button>
            </Form>
            <Transition fallback=|| view! { <p class="muted loading">"Reading the marketplace…"</p> }>
                {move || Suspend::new(async move {
                    match market.await {
                        Ok(None) => ().into_any(),
                        Ok(Some(m)) => marketplace_view(m).into_any(),
                        Err(e) => view! {
                            <div class="notice error" role="alert">{e.to_string()}</div>
                        }
                            .into_any(),
                    }
                })}
            </Transition>
            <h2>"Updates from your plugins"</h2>
            <Transition fallback=|| view! { <p class="muted loading">"Reading your plugins' marketplaces…"</p> }>
                {move || Suspend::new(async move {
                    match changes.await {
                        Ok(c) => changes_view(c.changes).into_any(),
                        Err(e) => view! {
                            <div class="notice error" role="alert">{e.to_string()}</div>
                        }
                            .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn marketplace_view(m: MarketplaceView) -> impl IntoView {
    let spec = m.spec.clone();
    let rows = m
        .plugins
        .into_iter()
        .map(|p| plugin_row(&spec, p))
        .collect_view();
    view! {
        <h2 class="marketplace-name">
            <code>{m.name}</code>
            {m.description.map(|d| view! { " " <span class="muted">{d}</span> })}
        </h2>
        <table class="artifacts plugins">
            <thead>
                <tr>
                    <th scope="col">"Plugin"</th>
                    <th scope="col">"Version"</th>
                    <th scope="col">"Source"</th>
                    <th scope="col">"Skills"</th>
                    <th scope="col">"Commands"</th>
                    <th scope="col">"Agents"</th>
                    <th scope="col" title="Output styles, hooks and MCP servers">"Other"</th>
                    <th scope="col">"Description"</th>
                    <th scope="col"><span class="visually-hidden">"Add"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn plugin_row(spec: &str, p: PluginView) -> impl IntoView {
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let ready = move || hydrated.is_some_and(|h| h.get());
    let count = |kind: &str| {
        p.artifacts
            .iter()
            .filter(|a| a.id.starts_with(&format!("{kind}:")))
            .count()
    };
    let (skills, commands, agents) = (count("skill"), count("command"), count("agent"));
    let other = p.artifacts.len() - skills - commands - agents;
    let other_ids: Vec<String> = p
        .artifacts
        .iter()
        .filter(|a| {
            !["skill:", "command:", "agent:"]
                .iter()
                .any(|k| a.id.starts_with(k))
        })
        .map(|a| a.id.clone())
        .collect();
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let busy = RwSignal::new(false);
    let addable = p.problem.is_none() && !p.artifacts.is_empty();
    let (spec, name) = (spec.to_owned(), p.name.clone());
    let add = move |_| {
        let (spec, name) = (spec.clone(), name.clone());
        busy.set(true);
        leptos::task::spawn_local(async move {
            let said = match add_plugin(spec, name).await {
                Ok(done) => {
                    let all: Vec<_> = done.plugins.iter().flat_map(|p| &p.artifacts).collect();
                    let added = all.iter().filter(|a| a.result == "added").count();
                    let present = all.iter().filter(|a| a.result == "present").count();
                    let failed: Vec<String> = all
                        .iter()
                        .filter(|a| a.result == "failed")
                        .map(|a| a.detail.clone().unwrap_or_else(|| a.id.clone()))
                        .collect();
                    if failed.is_empty() {
                        Ok(format!("{added} added, {present} already there"))
                    } else {
                        Err(format!(
                            "{added} added, {present} already there; not added: {}",
                            failed.join("; ")
                        ))
                    }
                }
                Err(e) => Err(e.to_string()),
            };
            outcome.set(Some(said));
            busy.set(false);
        });
    };
    view! {
        <tr data-plugin=p.name.clone()>
            <td><code>{p.name.clone()}</code></td>
            <td>{p.version.unwrap_or_else(|| "—".to_owned())}</td>
            <td>{p.source}</td>
            <td>{skills}</td>
            <td>{commands}</td>
            <td>{agents}</td>
            <td title=other_ids.join(", ")>{other}</td>
            <td>
                {match p.problem {
                    Some(problem) => view! { <span class="problem">{problem}</span> }.into_any(),
                    None => view! { <span>{p.description.unwrap_or_default()}</span> }.into_any(),
                }}
                {move || outcome.get().map(|o| match o {
                    Ok(text) => view! { <p class="notice ok plugin-added" role="status">{text}</p> }.into_any(),
                    Err(text) => view! { <p class="notice error plugin-added" role="alert">{text}</p> }.into_any(),
                })}
            </td>
            <td>
                <button type="button" class="add-plugin" on:click=add
                    disabled=move || !addable || busy.get() || !ready()>
                    "Add"
                </button>
            </td>
        </tr>
    }
}

fn changes_view(changes: Vec<PluginChangeView>) -> impl IntoView {
    if changes.is_empty() {
        return view! {
            <p class="muted plugin-changes-none">"Your plugins are as their marketplaces list them (or none was added yet)."</p>
        }
        .into_any();
    }
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let ready = move || hydrated.is_some_and(|h| h.get());
    let work = changes
        .iter()
        .any(|c| matches!(c.change.as_str(), "added" | "removed" | "moved" | "renamed"));
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let busy = RwSignal::new(false);
    let planned = changes.clone();
    let apply = move |_| {
        let planned = planned.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let said = match plugin_changes(Some(planned)).await {
                Ok(done) => {
                    let applied = done.changes.iter().filter(|c| c.applied).count();
                    Ok(format!("Applied {applied} change(s)."))
                }
                Err(e) => Err(e.to_string()),
            };
            outcome.set(Some(said));
            busy.set(false);
        });
    };
    let rows = changes
        .into_iter()
        .map(|c| {
            view! {
                <tr data-change=c.change.clone()>
                    <td>{c.artifact.map(|a| view! { <code>{a}</code> })}</td>
                    <td><code>{c.plugin}</code></td>
                    <td><span class=format!("badge change change-{}", c.change)>{c.change.clone()}</span></td>
                    <td>{c.detail}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="artifacts plugin-changes">
            <thead>
                <tr>
                    <th scope="col">"Artifact"</th>
                    <th scope="col">"Plugin"</th>
                    <th scope="col">"Change"</th>
                    <th scope="col">"Detail"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <p class="muted">
            "An artifact a plugin lost is removed only when its copy has no local edits and no project has it; otherwise it is kept."
        </p>
        {move || outcome.get().map(|o| match o {
            Ok(text) => view! { <p class="notice ok" role="status">{text}</p> }.into_any(),
            Err(text) => view! { <p class="notice error" role="alert">{text}</p> }.into_any(),
        })}
        <button type="button" class="apply-plugin-changes" on:click=apply
            disabled=move || !work || busy.get() || !ready()>
            "Apply these changes"
        </button>
    }
    .into_any()
}
