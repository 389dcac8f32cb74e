//! Shared HTTP plumbing for the outbound adapters: one way to build a
//! `reqwest::Client`, and one retry loop that honours `Retry-After` and adds
//! jitter to a capped exponential backoff.
//!
//! The retry loop never retries on its own judgement alone: the caller says
//! which failures are safe to repeat ([`RetryOn`]). Calls that may have
//! started an action (a Home Assistant service call, an n8n webhook) use
//! [`RetryOn::NotStarted`], so only refused or unsent requests are repeated.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Client, RequestBuilder, Response, StatusCode};

/// The user agent every adapter sends.
pub const USER_AGENT: &str = concat!("jarvis/", env!("CARGO_PKG_VERSION"));

/// A client with a total request timeout and a connect timeout.
pub fn client(timeout: Duration) -> Result<Client, reqwest::Error> {
    Client::builder()
        .user_agent(USER_AGENT)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .build()
}

/// Which failures a retry may repeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryOn {
    /// Idempotent reads and LLM calls: 429 with `Retry-After`, 5xx (incl.
    /// Anthropic's 529), timeouts and connection failures.
    Transient,
    /// Calls that may start an action: only 429 and connection failures, where
    /// the peer certainly did not act.
    NotStarted,
}

/// Capped exponential backoff with jitter.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included (at least 1).
    pub max_tries: u32,
    /// The delay before the first retry, before jitter.
    pub base_delay: Duration,
    /// No computed delay is longer than this.
    pub max_delay: Duration,
    /// A server-requested `Retry-After` longer than this is not waited for:
    /// the call fails instead.
    pub max_retry_after: Duration,
    pub retry_on: RetryOn,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_tries: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
            retry_on: RetryOn::Transient,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_tries: 1,
            ..RetryPolicy::default()
        }
    }

    pub fn with_retry_on(mut self, retry_on: RetryOn) -> Self {
        self.retry_on = retry_on;
        self
    }

    /// The backoff before retry number `retry` (0 for the first retry):
    /// `base * 2^retry`, capped, then "equal jitter" (between half and all of it).
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.min(16)));
        let capped = exp.min(self.max_delay);
        let half = capped / 2;
        half + jitter(capped - half)
    }

    /// Whether a response status may be retried under this policy.
    pub fn retries_status(&self, status: StatusCode, headers: &HeaderMap) -> bool {
        match self.retry_on {
            // A 429 without `Retry-After` (e.g. Anthropic's monthly spend cap)
            // will not clear soon: it is not retried. 529 ("overloaded") is a 5xx.
            RetryOn::Transient => {
                (status == StatusCode::TOO_MANY_REQUESTS && retry_after(headers).is_some())
                    || status.is_server_error()
            }
            RetryOn::NotStarted => {
                status == StatusCode::TOO_MANY_REQUESTS && retry_after(headers).is_some()
            }
        }
    }

    /// Whether a transport error may be retried under this policy.
    pub fn retries_error(&self, error: &reqwest::Error) -> bool {
        match self.retry_on {
            RetryOn::Transient => error.is_timeout() || error.is_connect() || error.is_request(),
            RetryOn::NotStarted => error.is_connect(),
        }
    }

    /// The wait before retry number `retry`: the server's `Retry-After` when it
    /// sent one (plus a little jitter so clients don't stampede), else the backoff.
    /// `None` when the server asks for longer than `max_retry_after`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Option<Duration> {
        match retry_after {
            Some(wait) if wait > self.max_retry_after => None,
            Some(wait) => Some(wait + jitter(Duration::from_millis(250).min(wait / 10))),
            None => Some(self.backoff(retry)),
        }
    }
}

/// A uniformly random duration in `[0, max]`, without a PRNG dependency
/// (`RandomState` is seeded randomly per instance).
pub fn jitter(max: Duration) -> Duration {
    let nanos = max.as_nanos().min(u64::MAX as u128) as u64;
    if nanos == 0 {
        return Duration::ZERO;
    }
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(nanos);
    Duration::from_nanos(hasher.finish() % (nanos + 1))
}

/// The `Retry-After` header as a duration: seconds, integer or fractional.
/// (HTTP-date values are not used by the peers Jarvis talks to and are ignored.)
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    seconds(raw)
}

/// Parses non-negative, finite seconds such as `"2"` or `"0.25"`.
pub fn seconds(raw: &str) -> Option<Duration> {
    let secs: f64 = raw.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// Outcome of [`send`]: the last response (successful or not) after retries.
#[derive(Debug)]
pub struct Sent {
    pub response: Response,
    /// Requests made, the successful one included.
    pub tries: u32,
}

/// Sends the request `build` makes, retrying under `policy`. Returns the last
/// response, whatever its status, or the last transport error.
///
/// `what` names the call in logs; it must not contain secrets (no URLs with tokens).
pub async fn send<F>(policy: &RetryPolicy, what: &str, mut build: F) -> Result<Sent, reqwest::Error>
where
    F: FnMut() -> RequestBuilder,
{
    let max_tries = policy.max_tries.max(1);
    let mut tries = 0;
    loop {
        tries += 1;
        let retry = tries - 1;
        match build().send().await {
            Ok(response) => {
                let status = response.status();
                if tries < max_tries && policy.retries_status(status, response.headers()) {
                    let after = retry_after(response.headers());
                    if let Some(wait) = policy.delay(retry, after) {
                        tracing::warn!(
                            call = what,
                            status = status.as_u16(),
                            retry_in_ms = wait.as_millis() as u64,
                            try_number = tries,
                            "retrying after error status"
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                }
                return Ok(Sent { response, tries });
            }
            Err(error) => {
                let error = error.without_url();
                if tries < max_tries && policy.retries_error(&error) {
                    let wait = policy.backoff(retry);
                    tracing::warn!(
                        call = what,
                        error = %error,
                        retry_in_ms = wait.as_millis() as u64,
                        try_number = tries,
                        "retrying after transport error"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(error);
            }
        }
    }
}

/// Cuts `s` to at most `max` characters on a char boundary, ending with `…`
/// when something was cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// A response body as text, bounded, for error messages.
pub async fn body_snippet(response: Response) -> String {
    match response.text().await {
        Ok(text) => truncate_chars(text.trim(), 500),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_and_jittered_within_bounds() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        for retry in 0..10 {
            let d = policy.backoff(retry);
            let full = (Duration::from_millis(100) * 2u32.pow(retry)).min(Duration::from_secs(1));
            assert!(d >= full / 2 && d <= full, "retry {retry}: {d:?}");
        }
    }

    #[test]
    fn retry_after_parses_seconds_and_rejects_garbage() {
        assert_eq!(seconds("2"), Some(Duration::from_secs(2)));
        assert_eq!(seconds("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(seconds("-1"), None);
        assert_eq!(seconds("soon"), None);
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(0, Some(Duration::from_secs(3600))), None);
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_chars("héllo", 10), "héllo");
        assert_eq!(truncate_chars("héllo wörld", 4), "hél…");
        assert_eq!(truncate_chars("ééé", 1), "…");
    }
}
