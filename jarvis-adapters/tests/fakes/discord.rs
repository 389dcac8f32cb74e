//! A fake Discord webhook: `POST /api/webhooks/{id}/{token}` that enforces the
//! message and embed limits (400 "Invalid Form Body" on any violation, like the
//! real one), the token (401), deletion (404) and rate limits (429 with a float
//! `retry_after` body; `X-RateLimit-Remaining`/`Reset-After` headers).
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

pub const WEBHOOK_ID: &str = "1234567890";
pub const TOKEN: &str = "wh-token-SECRET-abcdef";

/// One scripted answer, consumed in order before the default behaviour.
#[derive(Clone, Debug)]
pub enum Knob {
    /// 429 with this `retry_after` (seconds) in the body and `Retry-After` header.
    RateLimit(f64),
    /// This status with a generic body.
    Status(u16),
}

/// A request as received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub query: HashMap<String, String>,
    pub body: Value,
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    script: Mutex<VecDeque<Knob>>,
    requests: Mutex<Vec<Recorded>>,
    violations: Mutex<Vec<String>>,
    gone: Mutex<bool>,
    /// When set, every success says the bucket is empty for this long, and a
    /// request inside that window gets a 429.
    bucket_reset: Mutex<Option<Duration>>,
    bucket_until: Mutex<Option<Instant>>,
    messages: Mutex<u64>,
}

#[derive(Clone)]
pub struct FakeDiscord {
    /// The webhook URL, token included.
    pub webhook_url: String,
    inner: Arc<Inner>,
}

impl FakeDiscord {
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/api/webhooks/{id}/{token}", post(execute))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeDiscord {
            webhook_url: format!("http://{addr}/api/webhooks/{WEBHOOK_ID}/{TOKEN}"),
            inner,
        }
    }

    pub fn push(&self, knob: Knob) {
        self.inner.script.lock().unwrap().push_back(knob);
    }

    /// Deletes the webhook: every later request gets 404.
    pub fn delete(&self) {
        *self.inner.gone.lock().unwrap() = true;
    }

    /// Every success reports `X-RateLimit-Remaining: 0` with this reset-after.
    pub fn exhaust_bucket_for(&self, reset: Duration) {
        *self.inner.bucket_reset.lock().unwrap() = Some(reset);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().unwrap().clone()
    }

    /// Embeds of every accepted message, in order.
    pub fn delivered(&self) -> Vec<Vec<Value>> {
        self.requests()
            .iter()
            .filter(|r| r.body.get("_accepted").is_some())
            .map(|r| r.body["embeds"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    pub fn violations(&self) -> Vec<String> {
        self.inner.violations.lock().unwrap().clone()
    }
}

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

/// Every limit violation, as the real API would report with 400.
pub fn check_limits(body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let content = chars(&body["content"]);
    let embeds = body["embeds"].as_array().cloned().unwrap_or_default();
    if content == 0 && embeds.is_empty() {
        problems.push("cannot send an empty message".into());
    }
    if content > 2000 {
        problems.push("content: must be 2000 or fewer in length".into());
    }
    if embeds.len() > 10 {
        problems.push("embeds: must be 10 or fewer in length".into());
    }
    let mut total = 0;
    for (i, e) in embeds.iter().enumerate() {
        let mut check = |what: &str, v: &Value, max: usize| {
            let n = chars(v);
            if n > max {
                problems.push(format!(
                    "embeds.{i}.{what}: must be {max} or fewer in length"
                ));
            }
            total += n;
        };
        check("title", &e["title"], 256);
        check("description", &e["description"], 4096);
        check("footer.text", &e["footer"]["text"], 2048);
        check("author.name", &e["author"]["name"], 256);
        let fields = e["fields"].as_array().cloned().unwrap_or_default();
        if fields.len() > 25 {
            problems.push(format!("embeds.{i}.fields: must be 25 or fewer in length"));
        }
        for (j, f) in fields.iter().enumerate() {
            for (key, max) in [("name", 256), ("value", 1024)] {
                let n = chars(&f[key]);
                if n == 0 {
                    problems.push(format!(
                        "embeds.{i}.fields.{j}.{key}: must be 1 or more in length"
                    ));
                }
                if n > max {
                    problems.push(format!(
                        "embeds.{i}.fields.{j}.{key}: must be {max} or fewer in length"
                    ));
                }
                total += n;
            }
        }
        if let Some(color) = e.get("color")
            && color.as_u64().is_none_or(|c| c > 0xFFFFFF)
        {
            problems.push(format!("embeds.{i}.color: invalid"));
        }
    }
    if total > 6000 {
        problems.push(format!("embeds: total size {total} exceeds 6000"));
    }
    problems
}

fn error(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn rate_limited(retry_after: f64) -> Response {
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": false}),
    );
    let headers = response.headers_mut();
    headers.insert(
        "retry-after",
        format!("{}", retry_after.ceil() as u64).parse().unwrap(),
    );
    headers.insert("x-ratelimit-scope", "user".parse().unwrap());
    headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
    headers.insert(
        "x-ratelimit-reset-after",
        format!("{retry_after}").parse().unwrap(),
    );
    response
}

async fn execute(
    State(inner): State<Arc<Inner>>,
    Path((id, token)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    body: String,
) -> Response {
    let mut body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let index = {
        let mut requests = inner.requests.lock().unwrap();
        requests.push(Recorded {
            query: query.clone(),
            body: body.clone(),
            at: Instant::now(),
        });
        requests.len() - 1
    };
    if *inner.gone.lock().unwrap() || id != WEBHOOK_ID {
        return error(
            StatusCode::NOT_FOUND,
            json!({"message": "Unknown Webhook", "code": 10015}),
        );
    }
    if token != TOKEN {
        return error(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Invalid Webhook Token", "code": 50027}),
        );
    }
    if let Some(knob) = inner.script.lock().unwrap().pop_front() {
        return match knob {
            Knob::RateLimit(after) => rate_limited(after),
            Knob::Status(status) => error(
                StatusCode::from_u16(status).unwrap(),
                json!({"message": "scripted", "code": 0}),
            ),
        };
    }
    if let Some(until) = *inner.bucket_until.lock().unwrap()
        && Instant::now() < until
    {
        inner
            .violations
            .lock()
            .unwrap()
            .push("sent while the bucket was empty".into());
        return rate_limited((until - Instant::now()).as_secs_f64());
    }
    let mut problems = check_limits(&body);
    if query.get("wait").map(String::as_str) != Some("true") {
        problems.push("wait=true missing".into());
    }
    if body["allowed_mentions"] != json!({"parse": []}) {
        problems.push("allowed_mentions must be {\"parse\": []}".into());
    }
    if !problems.is_empty() {
        inner
            .violations
            .lock()
            .unwrap()
            .extend(problems.iter().cloned());
        return error(
            StatusCode::BAD_REQUEST,
            json!({"message": "Invalid Form Body", "code": 50035, "errors": problems}),
        );
    }
    body["_accepted"] = json!(true);
    inner.requests.lock().unwrap()[index].body = body.clone();
    let n = {
        let mut messages = inner.messages.lock().unwrap();
        *messages += 1;
        *messages
    };
    let mut response = (
        StatusCode::OK,
        axum::Json(json!({
            "id": format!("{n}"),
            "type": 0,
            "channel_id": "42",
            "webhook_id": WEBHOOK_ID,
            "content": body["content"],
            "embeds": body["embeds"],
        })),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", "5".parse().unwrap());
    headers.insert("x-ratelimit-bucket", "fakebucket".parse().unwrap());
    match *inner.bucket_reset.lock().unwrap() {
        Some(reset) => {
            *inner.bucket_until.lock().unwrap() = Some(Instant::now() + reset);
            headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
            headers.insert(
                "x-ratelimit-reset-after",
                format!("{:.3}", reset.as_secs_f64()).parse().unwrap(),
            );
        }
        None => {
            headers.insert("x-ratelimit-remaining", "4".parse().unwrap());
            headers.insert("x-ratelimit-reset-after", "1.000".parse().unwrap());
        }
    }
    response
}
