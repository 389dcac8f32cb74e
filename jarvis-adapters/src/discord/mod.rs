//! Discord webhooks as a [`jarvis_core::ports::Notifier`].
//!
//! Each notice becomes one rich embed ([`embed::embed`]), always within
//! Discord's limits. Notices go through a queue: those arriving within
//! `batch_window` of each other (or while a rate limit is being waited out)
//! are combined into one message of up to 10 embeds and 6000 characters, so a
//! storm is batched rather than dropped. `notify` returns once its notice was
//! delivered or failed, never silently.
//!
//! Rate limits: a 429 is retried after its `retry_after` (float seconds in the
//! body, else the `Retry-After` header); `X-RateLimit-Remaining: 0` delays the
//! next send by `X-RateLimit-Reset-After`. A 404 means the webhook was deleted:
//! the notifier stops using it and rejects every later notice.

pub mod embed;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use jarvis_core::domain::Notice;
use jarvis_core::error::NotifyError;
use jarvis_core::ports::Notifier;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::http::{self, RetryPolicy};
use embed::Embed;

/// The notifier's name in errors and logs.
pub const NOTIFIER_NAME: &str = "discord";

/// Settings of [`DiscordNotifier`]. `Debug` never shows the webhook URL (it holds the token).
#[derive(Clone, Debug)]
pub struct DiscordConfig {
    /// The webhook URL as copied from Discord: `https://discord.com/api/webhooks/{id}/{token}`.
    pub webhook_url: SecretString,
    /// Overrides the webhook's display name.
    pub username: Option<String>,
    pub avatar_url: Option<String>,
    /// Post into this thread of a forum/text channel.
    pub thread_id: Option<String>,
    /// Notices arriving within this interval are sent as one message.
    pub batch_window: Duration,
    /// Tries per message on 429, 5xx and transport errors.
    pub max_tries: u32,
    /// A 429 asking to wait longer than this fails the message instead.
    pub max_retry_after: Duration,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
}

impl DiscordConfig {
    pub fn new(webhook_url: SecretString) -> Self {
        DiscordConfig {
            webhook_url,
            username: Some("Jarvis".into()),
            avatar_url: None,
            thread_id: None,
            batch_window: Duration::from_millis(750),
            max_tries: 5,
            max_retry_after: Duration::from_secs(120),
            timeout: Duration::from_secs(15),
        }
    }
}

/// Errors of the Discord webhook.
#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    #[error("discord webhook url is invalid")]
    InvalidUrl,
    #[error("discord webhook is gone (404): not using it any more")]
    Gone,
    #[error("discord refused the webhook token ({0})")]
    Unauthorized(u16),
    #[error("discord rejected the message (400): {0}")]
    BadRequest(String),
    #[error("discord rate limit not lifted after retries (retry after {0:?})")]
    RateLimited(Duration),
    #[error("discord answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("discord unreachable")]
    Transport(#[source] reqwest::Error),
    #[error("discord notifier stopped")]
    Stopped,
}

impl From<DiscordError> for NotifyError {
    fn from(e: DiscordError) -> Self {
        copy_error(&e)
    }
}

struct Job {
    embed: Embed,
    reply: oneshot::Sender<Result<(), NotifyError>>,
}

struct Inner {
    http: reqwest::Client,
    /// The webhook URL with `wait=true` (and `thread_id`); holds the token.
    url: SecretString,
    config: DiscordConfig,
    gone: AtomicBool,
    /// No send before this instant (bucket exhausted).
    not_before: Mutex<Option<Instant>>,
}

/// Posts notices to a Discord webhook.
pub struct DiscordNotifier {
    inner: Arc<Inner>,
    queue: OnceLock<mpsc::UnboundedSender<Job>>,
}

impl fmt::Debug for DiscordNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscordNotifier")
            .field("gone", &self.inner.gone.load(Ordering::Relaxed))
            .field("batch_window", &self.inner.config.batch_window)
            .finish_non_exhaustive()
    }
}

impl DiscordNotifier {
    pub fn new(config: DiscordConfig) -> Result<Self, DiscordError> {
        let mut url = reqwest::Url::parse(config.webhook_url.expose_secret())
            .map_err(|_| DiscordError::InvalidUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(DiscordError::InvalidUrl);
        }
        url.query_pairs_mut().append_pair("wait", "true");
        if let Some(thread) = &config.thread_id {
            url.query_pairs_mut().append_pair("thread_id", thread);
        }
        let http = http::client(config.timeout).map_err(DiscordError::Transport)?;
        Ok(DiscordNotifier {
            inner: Arc::new(Inner {
                http,
                url: SecretString::from(url.to_string()),
                config,
                gone: AtomicBool::new(false),
                not_before: Mutex::new(None),
            }),
            queue: OnceLock::new(),
        })
    }

    /// Whether a 404 retired the webhook.
    pub fn is_gone(&self) -> bool {
        self.inner.gone.load(Ordering::Relaxed)
    }

    fn queue(&self) -> &mpsc::UnboundedSender<Job> {
        self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(worker(self.inner.clone(), rx));
            tx
        })
    }
}

#[async_trait]
impl Notifier for DiscordNotifier {
    #[tracing::instrument(skip_all, fields(notifier = NOTIFIER_NAME, kind = notice.kind.as_str()))]
    async fn notify(&self, notice: &Notice) -> Result<(), NotifyError> {
        if self.is_gone() {
            return Err(DiscordError::Gone.into());
        }
        let (reply, answer) = oneshot::channel();
        self.queue()
            .send(Job {
                embed: embed::embed(notice),
                reply,
            })
            .map_err(|_| NotifyError::from(DiscordError::Stopped))?;
        answer
            .await
            .unwrap_or_else(|_| Err(DiscordError::Stopped.into()))
    }
}

async fn worker(inner: Arc<Inner>, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let deadline = Instant::now() + inner.config.batch_window;
        while jobs.len() < embed::limits::EMBEDS {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(job)) => jobs.push(job),
                Ok(None) | Err(_) => break,
            }
        }
        let embeds: Vec<Embed> = jobs.iter().map(|j| j.embed.clone()).collect();
        let mut replies: Vec<Option<oneshot::Sender<_>>> =
            jobs.into_iter().map(|j| Some(j.reply)).collect();
        for range in embed::pack(&embeds) {
            let result = if inner.gone.load(Ordering::Relaxed) {
                Err(DiscordError::Gone)
            } else {
                inner.send(&embeds[range.clone()]).await
            };
            if let Err(e) = &result {
                tracing::warn!(error = %e, notices = range.len(), "discord delivery failed");
            }
            for reply in &mut replies[range] {
                if let Some(reply) = reply.take() {
                    let answer = match &result {
                        Ok(()) => Ok(()),
                        Err(e) => Err(copy_error(e)),
                    };
                    // The caller may have given up waiting; nothing to do then.
                    let _ = reply.send(answer);
                }
            }
        }
    }
}

/// The port error for a Discord error: the notice itself (or the webhook) is
/// rejected, or Discord is unavailable for now.
fn copy_error(e: &DiscordError) -> NotifyError {
    let reason = e.to_string();
    let notifier = NOTIFIER_NAME.to_string();
    match e {
        DiscordError::InvalidUrl
        | DiscordError::Gone
        | DiscordError::Unauthorized(_)
        | DiscordError::BadRequest(_) => NotifyError::Rejected { notifier, reason },
        _ => NotifyError::Unavailable { notifier, reason },
    }
}

impl Inner {
    fn body(&self, embeds: &[Embed]) -> Value {
        let mut body = json!({
            "embeds": embeds,
            "allowed_mentions": {"parse": []},
        });
        if let Some(username) = &self.config.username {
            body["username"] = json!(http::truncate_chars(username, 80));
        }
        if let Some(avatar) = &self.config.avatar_url {
            body["avatar_url"] = json!(avatar);
        }
        body
    }

    async fn wait_for_bucket(&self) {
        let until = *self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = until
            && until > Instant::now()
        {
            tracing::debug!(
                wait_ms = (until - Instant::now()).as_millis() as u64,
                "discord bucket empty"
            );
            tokio::time::sleep_until(until).await;
        }
    }

    fn note_bucket(&self, headers: &reqwest::header::HeaderMap) {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let remaining = header("x-ratelimit-remaining").and_then(|v| v.trim().parse::<u64>().ok());
        let reset_after = header("x-ratelimit-reset-after").and_then(http::seconds);
        let mut guard = self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        *guard = match (remaining, reset_after) {
            (Some(0), Some(after)) => Some(Instant::now() + after),
            _ => None,
        };
    }

    async fn send(&self, embeds: &[Embed]) -> Result<(), DiscordError> {
        let body = self.body(embeds);
        let backoff = RetryPolicy {
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        let max_tries = self.config.max_tries.max(1);
        let mut tries = 0;
        loop {
            tries += 1;
            self.wait_for_bucket().await;
            let response = self
                .http
                .post(self.url.expose_secret())
                .json(&body)
                .send()
                .await;
            let response = match response {
                Ok(r) => r,
                Err(e) => {
                    let e = e.without_url();
                    if tries < max_tries {
                        tokio::time::sleep(backoff.backoff(tries - 1)).await;
                        continue;
                    }
                    return Err(DiscordError::Transport(e));
                }
            };
            let status = response.status();
            self.note_bucket(response.headers());
            if status.is_success() {
                tracing::debug!(embeds = embeds.len(), "discord message sent");
                return Ok(());
            }
            match status {
                StatusCode::TOO_MANY_REQUESTS => {
                    let header_wait = http::retry_after(response.headers());
                    let body: Value = response.json().await.unwrap_or(Value::Null);
                    let wait = body
                        .get("retry_after")
                        .and_then(Value::as_f64)
                        .filter(|s| s.is_finite() && *s >= 0.0)
                        .map(Duration::from_secs_f64)
                        .or(header_wait)
                        .unwrap_or(Duration::from_secs(1));
                    let global = body.get("global").and_then(Value::as_bool).unwrap_or(false);
                    tracing::warn!(
                        retry_after_ms = wait.as_millis() as u64,
                        global,
                        "discord rate limited"
                    );
                    if tries >= max_tries || wait > self.config.max_retry_after {
                        return Err(DiscordError::RateLimited(wait));
                    }
                    tokio::time::sleep(wait).await;
                }
                StatusCode::NOT_FOUND => {
                    self.gone.store(true, Ordering::Relaxed);
                    tracing::error!("discord webhook is gone (404): disabling it");
                    return Err(DiscordError::Gone);
                }
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    return Err(DiscordError::Unauthorized(status.as_u16()));
                }
                StatusCode::BAD_REQUEST => {
                    return Err(DiscordError::BadRequest(http::body_snippet(response).await));
                }
                s if s.is_server_error() && tries < max_tries => {
                    tokio::time::sleep(backoff.backoff(tries - 1)).await;
                }
                s => {
                    return Err(DiscordError::Status {
                        status: s.as_u16(),
                        body: http::body_snippet(response).await,
                    });
                }
            }
        }
    }
}
