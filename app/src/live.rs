//! Live job results in the browser: one Server-Sent Events stream (`/api/v1/events`) for every
//! job, polling with backoff while the stream is down, the finished jobs the toasts and the
//! notifications panel show, a refresh counter the pages' data depends on (so status badges
//! update without a reload), and waiting for one job to end.

use leptos::prelude::*;

use crate::api::get_job;
use crate::dto::{JobView, StateName};
use crate::format::encode;

/// A finished job, as the notifications show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub job_id: i64,
    /// `success`, `conflict`, `error` or `cancelled`.
    pub state: String,
    pub title: String,
    pub detail: String,
    /// The artifact page to open.
    pub link: Option<String>,
    pub trace_id: String,
    /// Still shown as a toast.
    pub toast: bool,
}

/// Where the live feed is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// Not connected (server-rendered, or not yet started).
    Off,
    /// The event stream is open.
    Streaming,
    /// The stream dropped; polling until it is back.
    Polling,
}

/// The live state, shared through context.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    pub notes: RwSignal<Vec<Note>>,
    /// Bumped whenever a job ends: resources that read it fetch again.
    pub refresh: RwSignal<u64>,
    pub feed: RwSignal<Feed>,
    /// Jobs already reported (or already over when the page loaded).
    seen: StoredValue<Vec<i64>>,
}

/// How many notifications are kept.
const KEEP: usize = 30;

impl Live {
    pub fn new() -> Self {
        Self {
            notes: RwSignal::new(Vec::new()),
            refresh: RwSignal::new(0),
            feed: RwSignal::new(Feed::Off),
            seen: StoredValue::new(Vec::new()),
        }
    }

    /// The live state of this app (a detached one outside it, e.g. in isolated tests).
    pub fn get() -> Self {
        use_context::<Self>().unwrap_or_default()
    }

    fn already_seen(&self, id: i64) -> bool {
        self.seen.with_value(|s| s.contains(&id))
    }

    fn mark_seen(&self, id: i64) {
        self.seen.update_value(|s| {
            if !s.contains(&id) {
                s.push(id);
            }
        });
    }

    /// Reports a finished job once: a toast, a notification and a data refresh for applied
    /// jobs (a dry run is a preview its dialog shows).
    pub fn finished(&self, job: JobView) {
        if self.already_seen(job.id) {
            return;
        }
        self.mark_seen(job.id);
        if job.dry_run {
            // A preview changes nothing; its dialog shows the plan.
            return;
        }
        self.refresh.update(|n| *n += 1);
        let note = note_for(&job);
        self.notes.update(|notes| {
            notes.insert(0, note);
            notes.truncate(KEEP);
        });
        let (notes, id) = (self.notes, job.id);
        set_timeout(
            move || {
                notes.update(|ns| {
                    if let Some(n) = ns.iter_mut().find(|n| n.job_id == id) {
                        n.toast = false;
                    }
                });
            },
            std::time::Duration::from_secs(8),
        );
    }

    /// Hides a toast (it stays in the notifications panel).
    pub fn dismiss(&self, job_id: i64) {
        self.notes.update(|ns| {
            if let Some(n) = ns.iter_mut().find(|n| n.job_id == job_id) {
                n.toast = false;
            }
        });
    }
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether a job is over.
pub fn is_final(s: StateName) -> bool {
    !matches!(s, StateName::Queued | StateName::Running)
}

fn note_for(job: &JobView) -> Note {
    let what = match job.artifacts.as_slice() {
        [one] => one.clone(),
        many => format!("{} artifacts", many.len()),
    };
    let (title, detail) = match job.state {
        StateName::Success if job.kind == "resolve" => (
            format!("Resolved {what}"),
            "the merge was applied".to_owned(),
        ),
        StateName::Success => (format!("Synced {what}"), summary(job)),
        StateName::Conflict => (
            format!("Conflict in {what}"),
            format!(
                "{} left a pending merge to resolve: {}",
                plural(job.conflicts.len(), "artifact"),
                job.conflicts.join(", ")
            ),
        ),
        StateName::Cancelled => (format!("Cancelled: {what}"), String::new()),
        _ => (
            format!("Sync of {what} failed"),
            job.log_excerpt
                .lines()
                .last()
                .unwrap_or_default()
                .to_owned(),
        ),
    };
    let link = job
        .conflicts
        .first()
        .or(job.artifacts.first())
        .map(|id| format!("/artifacts/{}", encode(id)));
    Note {
        job_id: job.id,
        state: job.state.as_str().to_owned(),
        title,
        detail,
        link,
        trace_id: job.trace_id.clone(),
        toast: true,
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// "2 updated, 1 up to date" from the per-artifact reports.
fn summary(job: &JobView) -> String {
    let Some(reports) = job.result.as_ref().and_then(|r| r.as_array()) else {
        return String::new();
    };
    let mut counts: Vec<(String, usize)> = Vec::new();
    for r in reports {
        let outcome = r
            .get("outcome")
            .and_then(|o| o.as_str())
            .unwrap_or("done")
            .replace(['-', '_'], " ");
        match counts.iter_mut().find(|(o, _)| *o == outcome) {
            Some((_, n)) => *n += 1,
            None => counts.push((outcome, 1)),
        }
    }
    counts
        .into_iter()
        .map(|(o, n)| format!("{n} {o}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Starts the live feed (browser only; call from an effect).
#[cfg(feature = "hydrate")]
pub fn connect(live: Live) {
    use wasm_bindgen::JsCast as _;
    use wasm_bindgen::closure::Closure;

    // What is already over when the page loads is not news: remember it without toasting.
    leptos::task::spawn_local(async move {
        if let Ok(list) = crate::api::get_jobs().await {
            for j in list.jobs.iter().filter(|j| is_final(j.state)) {
                live.mark_seen(j.id);
            }
        }
    });
    let Ok(source) = web_sys::EventSource::new("/api/v1/events") else {
        live.feed.set(Feed::Polling);
        poll(live, None, 1000);
        return;
    };
    let on_open = Closure::<dyn FnMut()>::new(move || live.feed.set(Feed::Streaming));
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    on_open.forget();
    let on_job =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            let Some(text) = e.data().as_string() else {
                return;
            };
            // The REST API's JSON (an `EventView`), read with the browser's own parser: the
            // bundle has no JSON parser of its own (see `crate::codec`).
            let Some((job_id, state)) = job_event(&text) else {
                return;
            };
            if is_final(state) && !live.already_seen(job_id) {
                leptos::task::spawn_local(async move {
                    if let Ok(job) = crate::api::get_job(job_id).await {
                        live.finished(job);
                    }
                });
            }
        });
    let _ = source.add_event_listener_with_callback("job", on_job.as_ref().unchecked_ref());
    on_job.forget();
    let watched = source.clone();
    let on_error = Closure::<dyn FnMut()>::new(move || {
        // The browser retries the stream by itself; until it is back, poll.
        if live.feed.get_untracked() != Feed::Polling {
            live.feed.set(Feed::Polling);
            poll(live, Some(watched.clone()), 500);
        }
    });
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
}

/// The job and state of an SSE `job` event's data (an [`EventView`](crate::dto::EventView)).
#[cfg(feature = "hydrate")]
fn job_event(text: &str) -> Option<(i64, StateName)> {
    let event = js_sys::JSON::parse(text).ok()?;
    let field = |name: &str| js_sys::Reflect::get(&event, &name.into()).ok();
    let job_id = field("job_id")?.as_f64()?;
    let state = StateName::from_wire(&field("state")?.as_string()?)?;
    // Job ids are SQLite rowids: exact in an f64 far beyond any real count.
    #[allow(clippy::cast_possible_truncation)]
    Some((job_id as i64, state))
}

/// Polls the job list while the stream is down: every `delay` ms, doubling up to 10 s while
/// nothing changes, back to 500 ms when something does.
#[cfg(feature = "hydrate")]
fn poll(live: Live, source: Option<web_sys::EventSource>, delay: u64) {
    set_timeout(
        move || {
            if source
                .as_ref()
                .is_some_and(|s| s.ready_state() == web_sys::EventSource::OPEN)
            {
                live.feed.set(Feed::Streaming);
                return;
            }
            leptos::task::spawn_local(async move {
                let mut news = false;
                if let Ok(list) = crate::api::get_jobs().await {
                    for j in list.jobs.into_iter().filter(|j| is_final(j.state)) {
                        if !live.already_seen(j.id) {
                            news = true;
                            live.finished(j);
                        }
                    }
                }
                let next = if news { 500 } else { (delay * 2).min(10_000) };
                poll(live, source, next);
            });
        },
        std::time::Duration::from_millis(delay),
    );
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
