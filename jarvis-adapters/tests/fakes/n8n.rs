//! A fake n8n built from the captured fixtures: production webhooks
//! (`/webhook/{path}`, 404 "not registered" while the workflow is inactive),
//! and the public API's executions with `X-N8N-API-KEY`, cursor pagination and
//! string or (old n8n) numeric ids.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde_json::{Value, json};

use crate::fixture::load;

pub const API_KEY: &str = "n8n-api-SECRET";
pub const WORKFLOW_ID: &str = "V8h54yCsBgG8PyeM";

/// How a webhook answers.
#[derive(Clone, Debug, PartialEq)]
pub enum Respond {
    /// "When last node finishes": the captured command output.
    LastNode,
    /// "Immediately": `{"message": "Workflow was started"}`; the execution
    /// runs for `polls` API reads, then ends with `status`.
    Immediately { polls: u32, status: &'static str },
    /// The workflow fails: 500 `{"message": "Error in workflow"}`.
    Error,
}

#[derive(Clone, Debug)]
pub struct Hook {
    pub workflow_id: String,
    pub active: bool,
    pub respond: Respond,
}

/// A request to a webhook.
#[derive(Clone, Debug)]
pub struct Triggered {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Clone, Debug)]
struct Exec {
    body: Value,
    polls_left: u32,
    final_status: &'static str,
}

struct Inner {
    hooks: Mutex<HashMap<String, Hook>>,
    executions: Mutex<Vec<Exec>>,
    triggered: Mutex<Vec<Triggered>>,
    api_queries: Mutex<Vec<HashMap<String, String>>>,
    numeric_ids: Mutex<bool>,
}

#[derive(Clone)]
pub struct FakeN8n {
    pub url: String,
    inner: Arc<Inner>,
}

impl FakeN8n {
    /// Starts with the captured execution (id "1") of the demo workflow.
    pub async fn start() -> Self {
        let captured = load("n8n", "api-executions").body["data"][0].clone();
        let inner = Arc::new(Inner {
            hooks: Mutex::new(HashMap::new()),
            executions: Mutex::new(vec![Exec {
                body: captured,
                polls_left: 0,
                final_status: "success",
            }]),
            triggered: Mutex::new(Vec::new()),
            api_queries: Mutex::new(Vec::new()),
            numeric_ids: Mutex::new(false),
        });
        let app = Router::new()
            .route("/webhook/{*path}", post(webhook))
            .route("/api/v1/executions", get(executions))
            .route("/api/v1/executions/{id}", get(execution))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeN8n {
            url: format!("http://{addr}"),
            inner,
        }
    }

    pub fn hook(&self, path: &str, hook: Hook) {
        self.inner
            .hooks
            .lock()
            .unwrap()
            .insert(path.to_string(), hook);
    }

    /// Serialises execution and workflow ids as numbers, like old n8n.
    pub fn numeric_ids(&self) {
        *self.inner.numeric_ids.lock().unwrap() = true;
    }

    /// Adds `n` finished executions of `workflow_id`.
    pub fn seed(&self, workflow_id: &str, n: usize) {
        let mut executions = self.inner.executions.lock().unwrap();
        for _ in 0..n {
            let id = executions.len() + 1;
            executions.push(Exec {
                body: execution_body(id, workflow_id, "success"),
                polls_left: 0,
                final_status: "success",
            });
        }
    }

    pub fn triggered(&self) -> Vec<Triggered> {
        self.inner.triggered.lock().unwrap().clone()
    }

    pub fn api_queries(&self) -> Vec<HashMap<String, String>> {
        self.inner.api_queries.lock().unwrap().clone()
    }
}

fn execution_body(id: usize, workflow_id: &str, status: &str) -> Value {
    let now = Utc::now().to_rfc3339();
    json!({
        "id": id.to_string(),
        "finished": status == "success",
        "mode": "webhook",
        "retryOf": null,
        "retrySuccessId": null,
        "status": status,
        "startedAt": now,
        "stoppedAt": if status == "running" { Value::Null } else { json!(now) },
        "workflowId": workflow_id,
        "waitTill": null,
    })
}

fn render(body: &Value, numeric: bool) -> Value {
    let mut body = body.clone();
    if numeric {
        if let Some(id) = body["id"].as_str().and_then(|s| s.parse::<u64>().ok()) {
            body["id"] = json!(id);
        }
        // Old n8n used numeric workflow ids too.
        body["workflowId"] = json!(7);
    }
    body
}

async fn webhook(
    State(inner): State<Arc<Inner>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    inner.triggered.lock().unwrap().push(Triggered {
        path: path.clone(),
        headers,
        body,
    });
    let hook = inner.hooks.lock().unwrap().get(&path).cloned();
    let Some(hook) = hook.filter(|h| h.active) else {
        let fixture = load("n8n", "webhook-404-inactive");
        let mut body = fixture.body.clone();
        body["message"] = json!(format!(
            "The requested webhook \"POST {path}\" is not registered."
        ));
        return fixture.response_with(body);
    };
    match hook.respond {
        Respond::LastNode => load("n8n", "webhook-200-restart-demo").response(),
        Respond::Error => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({"code": 0, "message": "Error in workflow"})),
        )
            .into_response(),
        Respond::Immediately { polls, status } => {
            let mut executions = inner.executions.lock().unwrap();
            let id = executions.len() + 1;
            executions.push(Exec {
                body: execution_body(id, &hook.workflow_id, "running"),
                polls_left: polls,
                final_status: status,
            });
            axum::Json(json!({"message": "Workflow was started"})).into_response()
        }
    }
}

fn authorize(headers: &HeaderMap) -> Option<Response> {
    match headers.get("x-n8n-api-key").and_then(|v| v.to_str().ok()) {
        None => Some(load("n8n", "error-401-no-key").response()),
        Some(key) if key != API_KEY => Some(load("n8n", "error-401-bad-key").response()),
        Some(_) => None,
    }
}

/// Advances running executions by one poll.
fn tick(executions: &mut [Exec]) {
    for e in executions.iter_mut() {
        if e.body["status"] == "running" {
            if e.polls_left == 0 {
                e.body["status"] = json!(e.final_status);
                e.body["finished"] = json!(e.final_status == "success");
                e.body["stoppedAt"] = json!(Utc::now().to_rfc3339());
            } else {
                e.polls_left -= 1;
            }
        }
    }
}

async fn executions(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(denied) = authorize(&headers) {
        return denied;
    }
    inner.api_queries.lock().unwrap().push(query.clone());
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100);
    if limit == 0 || limit > 250 {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"message": "request/query/limit must be <= 250"})),
        )
            .into_response();
    }
    let offset: usize = query
        .get("cursor")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let numeric = *inner.numeric_ids.lock().unwrap();
    let mut executions = inner.executions.lock().unwrap();
    tick(&mut executions);
    // Newest first.
    let matching: Vec<Value> = executions
        .iter()
        .rev()
        .filter(|e| {
            query
                .get("workflowId")
                .is_none_or(|w| e.body["workflowId"] == w.as_str())
        })
        .map(|e| render(&e.body, numeric))
        .collect();
    let page: Vec<Value> = matching.iter().skip(offset).take(limit).cloned().collect();
    let next = (offset + limit < matching.len()).then(|| (offset + limit).to_string());
    axum::Json(json!({"data": page, "nextCursor": next})).into_response()
}

async fn execution(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(denied) = authorize(&headers) {
        return denied;
    }
    let numeric = *inner.numeric_ids.lock().unwrap();
    let executions = inner.executions.lock().unwrap();
    match executions.iter().find(|e| e.body["id"] == id.as_str()) {
        Some(e) => axum::Json(render(&e.body, numeric)).into_response(),
        None => load("n8n", "error-404-execution").response(),
    }
}
