//! Degraded mode's background loop: while the intake spools, ping the store with
//! exponential backoff; once it answers, drain the spool in order, hand what the
//! store made of it to the pipeline, and resume incidents the outage interrupted.
//! Entering and leaving degraded mode each send a `degraded` notice (best effort).

use std::time::Duration;

use chrono::{DateTime, Utc};
use jarvis_adapters::spool::DRAIN_CHUNK;
use jarvis_core::domain::{Ingested, Notice, NoticeKind};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, error, info, info_span, warn};

use crate::metrics::{self, ActiveGuard};
use crate::state::AppState;

/// The first wait between pings while the store is down.
pub const BACKOFF_START: Duration = Duration::from_millis(500);
/// The longest wait between pings.
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// How long one ping may take before it counts as a failure.
pub const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts the loop; it stops when `cancel` fires. The spool is replayed at the
/// next start if the process stops while degraded.
pub fn spawn(state: &AppState, cancel: &CancellationToken) {
    let state = state.clone();
    let cancel = cancel.clone();
    state.tasks.clone().spawn(
        async move {
            let mut degraded = state.intake.subscribe();
            loop {
                if !*degraded.borrow_and_update() {
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        changed = degraded.changed() => {
                            if changed.is_err() {
                                return;
                            }
                            continue;
                        }
                    }
                }
                let since = state.now();
                let stats = state.intake.stats();
                metrics::spool_depth(stats.depth);
                warn!(
                    spooled = stats.depth,
                    capacity = stats.capacity,
                    "degraded: alerts are spooled until the store answers"
                );
                notify(&state, entered(&state, since));
                let Some(drained) = recover(&state, &cancel).await else {
                    return;
                };
                let alerts: usize = drained.iter().map(Vec::len).sum();
                info!(alerts, "store back: degraded mode left");
                notify(&state, left(&state, since, alerts));
                hand_over(&state, drained);
            }
        }
        .instrument(info_span!("recovery")),
    );
}

/// Pings with backoff and drains; `None` when cancelled first.
async fn recover(state: &AppState, cancel: &CancellationToken) -> Option<Vec<Vec<Ingested>>> {
    let mut backoff = BACKOFF_START;
    let mut drained = Vec::new();
    loop {
        let up = matches!(
            tokio::time::timeout(PING_TIMEOUT, state.store.ping()).await,
            Ok(Ok(()))
        );
        metrics::database_connected(up);
        if up {
            state.intake.mark_store_up();
            loop {
                match state.intake.drain_step(&state.pipeline, DRAIN_CHUNK).await {
                    Ok(step) => {
                        metrics::spool_depth(state.intake.stats().depth);
                        drained.extend(step.batches);
                        if step.recovered {
                            return Some(drained);
                        }
                        if let Some(e) = step.stopped {
                            warn!(error = %e, "store failed while draining the spool; retrying");
                            metrics::database_connected(false);
                            break;
                        }
                    }
                    Err(e) => {
                        error!(error = %e, "cannot read the spool; retrying");
                        break;
                    }
                }
            }
        } else {
            state.intake.mark_store_down();
        }
        tokio::select! {
            _ = cancel.cancelled() => return None,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// Handles the drained batches in arrival order, then resumes whatever the outage
/// left in flight. One task, so no incident is handled twice at once.
fn hand_over(state: &AppState, drained: Vec<Vec<Ingested>>) {
    let state = state.clone();
    state.tasks.clone().spawn(
        async move {
            let _active = ActiveGuard::new();
            for batch in drained.iter().filter(|b| b.iter().any(|i| i.new)) {
                let since = state.now();
                let handled = state.pipeline.handle_ingested(batch).await;
                metrics::observe_handled(state.store.as_ref(), &handled, since, &state.llm_model)
                    .await;
            }
            state.resume("store reconnected").await;
        }
        .instrument(info_span!("drained")),
    );
}

fn entered(state: &AppState, since: DateTime<Utc>) -> Notice {
    let stats = state.intake.stats();
    let mut notice = Notice::new(
        NoticeKind::Degraded,
        "Jarvis is degraded: the store is unreachable",
        since,
    );
    notice.body = "Alerts are accepted into the on-disk spool and stored in order once the \
                   store answers again; nothing is remediated until then."
        .into();
    notice.fields = vec![
        ("store".into(), state.store_handle.kind().into()),
        ("spooled alerts".into(), stats.depth.to_string()),
        ("spool capacity".into(), stats.capacity.to_string()),
    ];
    notice
}

fn left(state: &AppState, since: DateTime<Utc>, alerts: usize) -> Notice {
    let now = state.now();
    let mut notice = Notice::new(
        NoticeKind::Degraded,
        "Jarvis recovered: the store is reachable again",
        now,
    );
    notice.body = "Spooled alerts are stored and being handled.".into();
    notice.fields = vec![
        ("store".into(), state.store_handle.kind().into()),
        (
            "degraded for".into(),
            format!("{} s", (now - since).num_seconds().max(0)),
        ),
        ("alerts drained".into(), alerts.to_string()),
    ];
    notice
}

/// Best effort, in the background: a slow or failing notifier never delays recovery.
fn notify(state: &AppState, notice: Notice) {
    let notifier = state.pipeline.ports().notifier.clone();
    state.tasks.spawn(async move {
        match tokio::time::timeout(Duration::from_secs(30), notifier.notify(&notice)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!(error = %e, title = %notice.title, "degraded notice not delivered"),
            Err(_) => warn!(title = %notice.title, "degraded notice timed out"),
        }
    });
}
