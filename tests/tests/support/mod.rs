//! Helpers of the end-to-end test: the demo service the fix heals, a tap that
//! records what Alertmanager posts to Jarvis, and a typed client of Jarvis's API.

#![allow(dead_code)]

#[path = "../../../jarvis-adapters/tests/support/peers.rs"]
pub mod peers;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

/// The service the alert is about: `/metrics` exposes `demo_service_up`, and
/// `POST /heal` (what the remediation calls over SSH with `curl`) brings it back
/// up, unless healing was disabled, in which case it answers 200 and does nothing.
pub struct DemoService {
    pub addr: SocketAddr,
    state: Arc<DemoState>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct DemoState {
    up: AtomicBool,
    heal_works: AtomicBool,
    heals: AtomicU64,
}

impl DemoService {
    pub async fn start() -> DemoService {
        let state = Arc::new(DemoState::default());
        state.up.store(true, Ordering::SeqCst);
        state.heal_works.store(true, Ordering::SeqCst);
        let app = Router::new()
            .route("/metrics", get(metrics))
            .route("/heal", post(heal))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind demo service");
        let addr = listener.local_addr().expect("demo service addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        DemoService { addr, state, task }
    }

    /// Breaks (`false`) or repairs (`true`) the service by hand.
    pub fn set_up(&self, up: bool) {
        self.state.up.store(up, Ordering::SeqCst);
    }

    pub fn is_up(&self) -> bool {
        self.state.up.load(Ordering::SeqCst)
    }

    /// Whether `POST /heal` repairs the service (it always answers 200).
    pub fn set_heal_works(&self, works: bool) {
        self.state.heal_works.store(works, Ordering::SeqCst);
    }

    /// `POST /heal` requests received so far.
    pub fn heals(&self) -> u64 {
        self.state.heals.load(Ordering::SeqCst)
    }
}

impl Drop for DemoService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn metrics(State(state): State<Arc<DemoState>>) -> String {
    let v = if state.up.load(Ordering::SeqCst) {
        1
    } else {
        0
    };
    format!(
        "# HELP demo_service_up Whether the demo service is up.\n\
         # TYPE demo_service_up gauge\n\
         demo_service_up{{service=\"demo\"}} {v}\n"
    )
}

async fn heal(State(state): State<Arc<DemoState>>) -> &'static str {
    state.heals.fetch_add(1, Ordering::SeqCst);
    if state.heal_works.load(Ordering::SeqCst) {
        state.up.store(true, Ordering::SeqCst);
        "healed\n"
    } else {
        "ok\n"
    }
}

/// One webhook notification Alertmanager sent, as Jarvis answered it.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub at: Instant,
    /// The notification's `status` (`firing` or `resolved`).
    pub status: String,
    /// `(status, startsAt)` of each alert in it.
    pub alerts: Vec<(String, String)>,
    /// Jarvis's HTTP status.
    pub answer: u16,
}

/// A loopback pass-through between Alertmanager and Jarvis that records every
/// notification. Alertmanager's receiver URL points here; everything (body and
/// `Authorization` header) is forwarded to Jarvis unchanged.
pub struct WebhookTap {
    pub addr: SocketAddr,
    inner: Arc<TapInner>,
    task: tokio::task::JoinHandle<()>,
}

struct TapInner {
    upstream: Mutex<Option<String>>,
    client: reqwest::Client,
    deliveries: Mutex<Vec<Delivery>>,
}

impl WebhookTap {
    /// Binds now, so Alertmanager can be configured before Jarvis runs.
    pub async fn bind() -> WebhookTap {
        let inner = Arc::new(TapInner {
            upstream: Mutex::new(None),
            client: reqwest::Client::new(),
            deliveries: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/webhook/alertmanager", post(forward))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind webhook tap");
        let addr = listener.local_addr().expect("tap addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        WebhookTap { addr, inner, task }
    }

    /// Where notifications go (Jarvis's `/webhook/alertmanager`).
    pub fn forward_to(&self, url: String) {
        *self.inner.upstream.lock().unwrap() = Some(url);
    }

    pub fn url(&self) -> String {
        format!("http://{}/webhook/alertmanager", self.addr)
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner.deliveries.lock().unwrap().clone()
    }
}

impl Drop for WebhookTap {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(State(inner): State<Arc<TapInner>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(upstream) = inner.upstream.lock().unwrap().clone() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "jarvis not started yet").into_response();
    };
    let mut request = inner.client.post(upstream).body(body.clone());
    for name in ["authorization", "content-type", "user-agent"] {
        if let Some(v) = headers.get(name) {
            request = request.header(name, v.as_bytes());
        }
    }
    let (answer, text) = match request.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        }
        Err(e) => (502, e.to_string()),
    };
    let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    inner.deliveries.lock().unwrap().push(Delivery {
        at: Instant::now(),
        status: payload["status"].as_str().unwrap_or("").to_string(),
        alerts: payload["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                (
                    a["status"].as_str().unwrap_or("").to_string(),
                    a["startsAt"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect(),
        answer,
    });
    (
        StatusCode::from_u16(answer).unwrap_or(StatusCode::BAD_GATEWAY),
        text,
    )
        .into_response()
}

/// A typed client of Jarvis's HTTP API (basic auth on every request).
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub user: String,
    pub password: String,
    client: reqwest::Client,
}

impl Api {
    pub fn new(base: String, user: &str, password: &str) -> Api {
        Api {
            base,
            user: user.into(),
            password: password.into(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("http client"),
        }
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "GET {path}: {status}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {text}"))
    }

    pub async fn get_text(&self, path: &str) -> String {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.text().await.unwrap_or_default()
    }

    /// Incidents of an alert name, newest first.
    pub async fn incidents(&self, alertname: &str) -> Vec<Value> {
        self.get_json(&format!("/incidents?alertname={alertname}&limit=50"))
            .await["incidents"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The whole timeline of one incident.
    pub async fn incident(&self, id: &str) -> Value {
        self.get_json(&format!("/incidents/{id}")).await
    }

    pub async fn patterns(&self) -> Vec<Value> {
        self.get_json("/patterns").await["patterns"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The value of a counter in `/metrics` (summed over its label sets).
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self.get_text("/metrics").await;
        text.lines()
            .filter(|l| {
                l.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

/// Polls `f` every 200 ms until it returns `Some`, failing with `what` and the
/// last observation (from `describe`) after `within`.
pub async fn wait_for<T, F, Fut>(what: &str, within: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match f().await {
            Ok(v) => return v,
            Err(last) => assert!(
                tokio::time::Instant::now() < deadline,
                "timed out after {within:?} waiting for {what}; last seen: {last}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
