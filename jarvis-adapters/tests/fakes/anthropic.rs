//! A fake Anthropic Messages API: checks headers, request shape and
//! tool_use/tool_result pairing like the real API (400 on violation), answers
//! with scripted turns, and can return 429 (with retry-after), 529, 500, 401.
#![allow(dead_code)]

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A 200 with this assistant message (`content`, `stop_reason`, `usage`).
    Message {
        content: Vec<Value>,
        stop_reason: &'static str,
        input_tokens: u64,
        output_tokens: u64,
    },
    /// An error status with an Anthropic error body.
    Error {
        status: u16,
        kind: &'static str,
        retry_after: Option<&'static str>,
    },
}

/// A request as received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub headers: HeaderMap,
    pub body: Value,
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    api_key: String,
    script: Mutex<VecDeque<Reply>>,
    /// Answer used when the script is empty.
    fallback: Mutex<Option<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    violations: Mutex<Vec<String>>,
    served: Mutex<u64>,
}

/// The running fake.
#[derive(Clone)]
pub struct FakeAnthropic {
    pub url: String,
    inner: Arc<Inner>,
}

impl FakeAnthropic {
    /// Starts on 127.0.0.1:0, accepting `api_key`.
    pub async fn start(api_key: &str) -> Self {
        let inner = Arc::new(Inner {
            api_key: api_key.to_string(),
            ..Inner::default()
        });
        let app = Router::new()
            .route("/v1/messages", post(messages))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeAnthropic {
            url: format!("http://{addr}"),
            inner,
        }
    }

    pub fn push(&self, reply: Reply) {
        self.inner.script.lock().unwrap().push_back(reply);
    }

    /// Answers with `reply` whenever the script is empty.
    pub fn fallback(&self, reply: Reply) {
        *self.inner.fallback.lock().unwrap() = Some(reply);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().unwrap().clone()
    }

    pub fn violations(&self) -> Vec<String> {
        self.inner.violations.lock().unwrap().clone()
    }
}

/// A turn calling tools: `(id, name, input)` each.
pub fn tool_turn(calls: &[(&str, &str, Value)]) -> Reply {
    Reply::Message {
        content: calls
            .iter()
            .map(|(id, name, input)| json!({"type": "tool_use", "id": id, "name": name, "input": input}))
            .collect(),
        stop_reason: "tool_use",
        input_tokens: 100,
        output_tokens: 20,
    }
}

/// A turn with only text.
pub fn text_turn(text: &str) -> Reply {
    Reply::Message {
        content: vec![json!({"type": "text", "text": text})],
        stop_reason: "end_turn",
        input_tokens: 100,
        output_tokens: 20,
    }
}

/// A turn calling `submit_plan`.
pub fn submit_turn(id: &str, plan: Value) -> Reply {
    tool_turn(&[(id, "submit_plan", plan)])
}

pub fn error(status: u16, kind: &'static str, retry_after: Option<&'static str>) -> Reply {
    Reply::Error {
        status,
        kind,
        retry_after,
    }
}

fn api_error(status: StatusCode, kind: &str, message: &str, request_id: &str) -> Response {
    let mut response = (
        status,
        axum::Json(json!({
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": request_id,
        })),
    )
        .into_response();
    response
        .headers_mut()
        .insert("request-id", request_id.parse().unwrap());
    response
}

/// Every problem the real API would reject with 400.
fn check_request(headers: &HeaderMap, body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("anthropic-version") != Some("2023-06-01") {
        problems.push("anthropic-version header missing or wrong".to_string());
    }
    if !header("content-type").is_some_and(|v| v.starts_with("application/json")) {
        problems.push("content-type is not application/json".to_string());
    }
    if body
        .get("model")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        problems.push("model: field required".to_string());
    }
    if body
        .get("max_tokens")
        .and_then(Value::as_u64)
        .is_none_or(|m| m == 0)
    {
        problems.push("max_tokens: field required".to_string());
    }
    if let Some(tools) = body.get("tools") {
        for tool in tools.as_array().into_iter().flatten() {
            if tool.get("name").and_then(Value::as_str).is_none() {
                problems.push("tools: name required".into());
            }
            if tool.pointer("/input_schema/type").and_then(Value::as_str) != Some("object") {
                problems.push(format!(
                    "tools.{}: input_schema.type must be object",
                    tool["name"]
                ));
            }
        }
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        problems.push("messages: field required".into());
        return problems;
    };
    if messages.is_empty() {
        problems.push("messages: at least one message is required".into());
        return problems;
    }
    let mut expected_ids: Option<Vec<String>> = None;
    for (i, message) in messages.iter().enumerate() {
        let role = message.get("role").and_then(Value::as_str).unwrap_or("");
        let want = if i % 2 == 0 { "user" } else { "assistant" };
        if role != want {
            problems.push(format!(
                "messages.{i}: roles must alternate starting with user, got {role}"
            ));
        }
        let content: Vec<Value> = match message.get("content") {
            Some(Value::String(s)) => vec![json!({"type": "text", "text": s})],
            Some(Value::Array(a)) if !a.is_empty() => a.clone(),
            _ => {
                problems.push(format!("messages.{i}: content must be non-empty"));
                Vec::new()
            }
        };
        if role == "user" {
            let mut seen_text = false;
            let mut answered = Vec::new();
            for block in &content {
                match block.get("type").and_then(Value::as_str) {
                    Some("tool_result") => {
                        if seen_text {
                            problems
                                .push(format!("messages.{i}: tool_result blocks must come first"));
                        }
                        answered.push(block["tool_use_id"].as_str().unwrap_or("").to_string());
                    }
                    _ => seen_text = true,
                }
            }
            let expected = expected_ids.take().unwrap_or_default();
            let unique: HashSet<&String> = answered.iter().collect();
            if unique.len() != answered.len() {
                problems.push(format!("messages.{i}: a tool_use id is answered twice"));
            }
            let expected_set: HashSet<&String> = expected.iter().collect();
            if unique != expected_set {
                problems.push(format!(
                    "messages.{i}: tool_result ids {answered:?} do not match the tool_use ids {expected:?} of the previous turn"
                ));
            }
        } else {
            let ids: Vec<String> = content
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"))
                .map(|b| b["id"].as_str().unwrap_or("").to_string())
                .collect();
            expected_ids = Some(ids);
        }
    }
    if messages.len() % 2 == 0 {
        problems.push("the last message must be a user turn".into());
    }
    problems
}

async fn messages(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: String) -> Response {
    let served = {
        let mut served = inner.served.lock().unwrap();
        *served += 1;
        *served
    };
    let request_id = format!("req_{served:04}");
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    inner.requests.lock().unwrap().push(Recorded {
        headers: headers.clone(),
        body: body.clone(),
        at: Instant::now(),
    });
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(inner.api_key.as_str()) {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid x-api-key",
            &request_id,
        );
    }
    let problems = check_request(&headers, &body);
    if !problems.is_empty() {
        inner
            .violations
            .lock()
            .unwrap()
            .extend(problems.iter().cloned());
        return api_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            &problems.join("; "),
            &request_id,
        );
    }
    let reply = inner
        .script
        .lock()
        .unwrap()
        .pop_front()
        .or_else(|| inner.fallback.lock().unwrap().clone());
    match reply {
        None => api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "fake: script exhausted",
            &request_id,
        ),
        Some(Reply::Error {
            status,
            kind,
            retry_after,
        }) => {
            let mut response = api_error(
                StatusCode::from_u16(status).unwrap(),
                kind,
                "scripted error",
                &request_id,
            );
            if let Some(after) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", after.parse().unwrap());
            }
            response
        }
        Some(Reply::Message {
            content,
            stop_reason,
            input_tokens,
            output_tokens,
        }) => {
            let mut response = axum::Json(json!({
                "id": format!("msg_{served:04}"),
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": content,
                "stop_reason": stop_reason,
                "stop_sequence": null,
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens,
                          "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
            }))
            .into_response();
            response
                .headers_mut()
                .insert("request-id", request_id.parse().unwrap());
            response
        }
    }
}
