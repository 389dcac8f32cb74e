//! A fake Home Assistant (REST API) and Supervisor built from the captured
//! fixtures: Bearer auth (401 "401: Unauthorized" as text), states, services,
//! service calls (400 for bad JSON and unknown services, as captured), the 404
//! of `/api/hassio/...` without a Supervisor, and `POST /addons/{slug}/restart`
//! on the Supervisor with its `{"result": ...}` envelope.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Value, json};

use crate::fixture::{Fixture, load};

pub const TOKEN: &str = "ha-long-lived-SECRET";
pub const SUPERVISOR_TOKEN: &str = "supervisor-SECRET";

/// Which add-on restart service the `hassio` integration offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hassio {
    /// No `hassio` domain (HA Container/Core, as captured).
    Missing,
    /// Only the legacy `hassio.addon_restart`.
    AddonRestart,
    /// Both `hassio.app_restart` (2026+) and the legacy one.
    AppRestart,
}

/// A request as received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
}

struct Inner {
    hassio: Mutex<Hassio>,
    addons: Vec<String>,
    requests: Mutex<Vec<Recorded>>,
    /// Statuses to answer the next requests with (500, 502, ...), in order.
    fail_next: Mutex<Vec<u16>>,
}

#[derive(Clone)]
pub struct FakeHomeAssistant {
    pub url: String,
    inner: Arc<Inner>,
}

impl FakeHomeAssistant {
    pub async fn start(hassio: Hassio) -> Self {
        let inner = Arc::new(Inner {
            hassio: Mutex::new(hassio),
            addons: vec!["core_mosquitto".into(), "a0d7b954_nodered".into()],
            requests: Mutex::new(Vec::new()),
            fail_next: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/api/", get(root))
            .route("/api/states", get(states))
            .route("/api/states/{entity}", get(state))
            .route("/api/services", get(services))
            .route("/api/services/{domain}/{service}", post(call))
            .route("/api/hassio/{*rest}", any(no_supervisor))
            .route("/addons/{slug}/restart", post(supervisor_restart))
            .layer(axum::middleware::from_fn_with_state(inner.clone(), record))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeHomeAssistant {
            url: format!("http://{addr}"),
            inner,
        }
    }

    pub fn fail_next(&self, statuses: &[u16]) {
        *self.inner.fail_next.lock().unwrap() = statuses.to_vec();
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().unwrap().clone()
    }

    /// Requests to one path.
    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

async fn record(
    State(inner): State<Arc<Inner>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    inner.requests.lock().unwrap().push(Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        authorization: parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    });
    {
        let mut fail = inner.fail_next.lock().unwrap();
        if !fail.is_empty() {
            let status = fail.remove(0);
            return (
                StatusCode::from_u16(status).unwrap(),
                format!("{status}: scripted"),
            )
                .into_response();
        }
    }
    let supervisor = parts.uri.path().starts_with("/addons/");
    let expected = if supervisor { SUPERVISOR_TOKEN } else { TOKEN };
    let authorized = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(format!("Bearer {expected}").as_str());
    if !authorized {
        if supervisor {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"result": "error", "message": "Unauthorized"})),
            )
                .into_response();
        }
        return load("home-assistant", "error-401-no-token").response();
    }
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

async fn root() -> Response {
    load("home-assistant", "api-root").response()
}

async fn states() -> Response {
    load("home-assistant", "api-states").response()
}

async fn state(Path(entity): Path<String>) -> Response {
    let all = load("home-assistant", "api-states").body;
    match all
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["entity_id"] == entity.as_str())
    {
        Some(s) => axum::Json(s.clone()).into_response(),
        None => load("home-assistant", "error-404-unknown-entity").response(),
    }
}

fn service_list(hassio: Hassio) -> Value {
    let mut body = load("home-assistant", "api-services").body;
    let extra = match hassio {
        Hassio::Missing => None,
        Hassio::AddonRestart => Some(json!({"domain": "hassio", "services": {
            "addon_start": {}, "addon_stop": {}, "addon_restart": {"fields": {"addon": {"required": true}}}
        }})),
        Hassio::AppRestart => Some(json!({"domain": "hassio", "services": {
            "addon_restart": {"fields": {"addon": {"required": true}}},
            "app_restart": {"fields": {"app": {"required": true}}}
        }})),
    };
    if let Some(extra) = extra {
        body.as_array_mut().unwrap().push(extra);
    }
    body
}

async fn services(State(inner): State<Arc<Inner>>) -> Response {
    let hassio = *inner.hassio.lock().unwrap();
    axum::Json(service_list(hassio)).into_response()
}

async fn call(
    State(inner): State<Arc<Inner>>,
    Path((domain, service)): Path<(String, String)>,
    body: String,
) -> Response {
    let data: Value = if body.trim().is_empty() {
        json!({})
    } else {
        match serde_json::from_str(&body) {
            Ok(v @ Value::Object(_)) => v,
            _ => return load("home-assistant", "error-400-bad-json").response(),
        }
    };
    let hassio = *inner.hassio.lock().unwrap();
    let known = service_list(hassio)
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["domain"] == domain.as_str() && d["services"].get(&service).is_some());
    if !known {
        return load("home-assistant", "error-400-unknown-service").response();
    }
    if domain == "hassio" {
        let slug = data
            .get("addon")
            .or_else(|| data.get("app"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if !inner.addons.iter().any(|a| a == slug) {
            return (StatusCode::BAD_REQUEST, "400: Bad Request").into_response();
        }
        return axum::Json(json!([])).into_response();
    }
    let fixture: Option<Fixture> = match (domain.as_str(), service.as_str()) {
        ("input_boolean", "turn_on") => {
            Some(load("home-assistant", "service-input_boolean-turn_on"))
        }
        ("input_boolean", "turn_off") => {
            Some(load("home-assistant", "service-input_boolean-turn_off"))
        }
        ("script", "restart_demo") => Some(load("home-assistant", "service-script-restart_demo")),
        _ => None,
    };
    match fixture {
        Some(f) => f.response(),
        None => axum::Json(json!([])).into_response(),
    }
}

async fn no_supervisor() -> Response {
    load("home-assistant", "error-404-no-supervisor").response()
}

async fn supervisor_restart(
    State(inner): State<Arc<Inner>>,
    method: Method,
    _headers: HeaderMap,
    Path(slug): Path<String>,
) -> Response {
    debug_assert_eq!(method, Method::POST);
    if inner.addons.contains(&slug) {
        axum::Json(json!({"result": "ok", "data": {}})).into_response()
    } else {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"result": "error", "message": format!("Addon {slug} does not exist"), "data": {}})),
        )
            .into_response()
    }
}
