//! The artifact page's kill-switch banner: locked (its applying syncs failed
//! `sync.lock_after_failures` times in a row, and are refused) with the last failure and an
//! Unlock button; or, below the threshold, how many have failed so far.

use leptos::prelude::*;

use crate::api::unlock;
use crate::dto::FailingSyncView;

/// The banner for `run` (the artifact's failed syncs in a row), locking at `limit`.
#[component]
pub fn SyncLockBanner(id: String, run: FailingSyncView, limit: u32) -> impl IntoView {
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let ready = move || hydrated.is_some_and(|h| h.get());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let on_unlock = move |_| {
        let id = id.clone();
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match unlock(id).await {
                // The page's data is read again: the banner goes with the lock.
                Ok(_) => crate::live::Live::get().refresh.update(|n| *n += 1),
                Err(e) => error.set(Some(format!("Could not unlock: {e}"))),
            }
            busy.set(false);
        });
    };
    let FailingSyncView {
        failures,
        last_error,
        last_at,
        locked_at,
        ..
    } = run;
    match locked_at {
        Some(since) => view! {
            <div class="notice error sync-locked" role="alert">
                <p>
                    <strong>"Syncs of this artifact are locked"</strong>
                    {format!(" — its last {failures} syncs failed (locked {since}). The last failure: ")}
                </p>
                <pre class="last-error">{last_error}</pre>
                <p class="muted">
                    "Fix the cause (the upstream, the network, the copy), then unlock to sync again. "
                    <code>"sync.lock_after_failures"</code> " sets how many failures in a row lock."
                </p>
                <div class="actions">
                    <button type="button" class="primary unlock-button" disabled=move || !ready() || busy.get()
                        on:click=on_unlock>
                        "Unlock"
                    </button>
                </div>
                {move || error.get().map(|e| view! { <p class="notice error">{e}</p> })}
            </div>
        }
        .into_any(),
        None => view! {
            <p class="notice warn sync-failing" role="status">
                {format!("The last {failures} sync(s) of this artifact failed (the last at {last_at}); ")}
                {if limit == 0 {
                    "sync.lock_after_failures is 0, so they never lock. ".to_owned()
                } else {
                    format!("at {limit} in a row its syncs lock. ")
                }}
                <span class="muted">{last_error}</span>
            </p>
        }
        .into_any(),
    }
}
