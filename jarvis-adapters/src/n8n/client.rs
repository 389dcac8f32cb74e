//! The n8n webhook triggers and public API.

use std::fmt;

use chrono::{DateTime, Utc};
use jarvis_core::domain::HandoffId;
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use super::{N8nConfig, N8nError};
use crate::http::{self, RetryOn, RetryPolicy};

/// What a webhook answered (2xx, or a 5xx from a workflow that failed).
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookReply {
    pub status: u16,
    /// The JSON body, or the text body as a JSON string.
    pub body: Value,
}

/// One execution. Ids are strings on current n8n and numbers on old ones.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    #[serde(default)]
    pub finished: bool,
    #[serde(default)]
    pub mode: Option<String>,
    /// `canceled|crashed|error|new|running|success|unknown|waiting`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub stopped_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub workflow_id: Option<String>,
    #[serde(default)]
    pub wait_till: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub retry_of: Option<String>,
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub retry_success_id: Option<String>,
}

impl Execution {
    /// Still going (or waiting): not a final verdict yet.
    pub fn is_pending(&self) -> bool {
        match self.status.as_deref() {
            Some("new" | "running" | "waiting") => true,
            Some(_) => false,
            None => !self.finished,
        }
    }

    pub fn succeeded(&self) -> bool {
        match self.status.as_deref() {
            Some(status) => status == "success",
            None => self.finished,
        }
    }
}

/// One page of `GET /executions`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionPage {
    pub data: Vec<Execution>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// Filters of `GET /executions`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecutionQuery {
    pub workflow_id: Option<String>,
    pub status: Option<String>,
    /// Page size, 1 to 250 (n8n's default is 100).
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn id_value<E: serde::de::Error>(v: Value) -> Result<Option<String>, E> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(E::custom(format!("expected an id, got {other}"))),
    }
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    id_value(Value::deserialize(d)?)?.ok_or_else(|| serde::de::Error::custom("id is null"))
}

fn opt_string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    id_value(Value::deserialize(d)?)
}

/// An n8n client.
pub struct N8nClient {
    http: reqwest::Client,
    config: N8nConfig,
}

impl fmt::Debug for N8nClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("N8nClient")
            .field("base_url", &self.config.base_url)
            .field(
                "workflows",
                &self.config.workflows.keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

fn valid_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 256
        && !path
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn message_of(body: &Value) -> String {
    body.get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| http::truncate_chars(&body.to_string(), 300))
}

impl N8nClient {
    pub fn new(config: N8nConfig) -> Result<Self, N8nError> {
        for (name, workflow) in &config.workflows {
            if !valid_path(&workflow.path) {
                return Err(N8nError::InvalidPath(format!("{name}: {}", workflow.path)));
            }
        }
        let http = http::client(config.timeout).map_err(|source| N8nError::Transport {
            what: "building the client".into(),
            source,
        })?;
        Ok(N8nClient { http, config })
    }

    pub fn config(&self) -> &N8nConfig {
        &self.config
    }

    fn webhook_url(&self, path: &str) -> String {
        let base = self
            .config
            .webhook_base_url
            .as_deref()
            .unwrap_or(&self.config.base_url);
        format!("{}/webhook/{path}", base.trim_end_matches('/'))
    }

    /// Triggers the workflow configured under `name` with `payload`.
    /// A 404 means the workflow is not active.
    pub async fn trigger(&self, name: &str, payload: &Value) -> Result<WebhookReply, N8nError> {
        let workflow = self
            .config
            .workflows
            .get(name)
            .ok_or_else(|| N8nError::UnknownWorkflow(name.to_string()))?;
        self.post_webhook(name, &workflow.path, payload).await
    }

    async fn post_webhook(
        &self,
        name: &str,
        path: &str,
        payload: &Value,
    ) -> Result<WebhookReply, N8nError> {
        let url = self.webhook_url(path);
        let what = format!("triggering workflow {name}");
        // The workflow may have started: only an unsent request is retried.
        let policy = RetryPolicy::default().with_retry_on(RetryOn::NotStarted);
        let sent = http::send(&policy, &what, || {
            let mut builder = self.http.post(&url).json(payload);
            if let Some(auth) = &self.config.webhook_auth {
                builder = builder.header(auth.header.as_str(), auth.value.expose_secret());
            }
            builder
        })
        .await
        .map_err(|source| transport(&what, source))?;
        let status = sent.response.status();
        let text = sent
            .response
            .text()
            .await
            .map_err(|source| transport(&what, source))?;
        let body = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
        match status {
            s if s.is_success() || s.is_server_error() => Ok(WebhookReply {
                status: s.as_u16(),
                body,
            }),
            StatusCode::NOT_FOUND => Err(N8nError::WorkflowInactive {
                workflow: name.to_string(),
                message: message_of(&body),
            }),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Err(N8nError::Unauthorized(message_of(&body)))
            }
            s => Err(N8nError::Status {
                what,
                status: s.as_u16(),
                message: message_of(&body),
            }),
        }
    }

    async fn api_get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<T, N8nError> {
        let key = self.config.api_key.as_ref().ok_or(N8nError::NoApiKey)?;
        let url = format!(
            "{}/api/v1{path}",
            self.config.base_url.trim_end_matches('/')
        );
        let sent = http::send(&RetryPolicy::default(), what, || {
            self.http
                .get(&url)
                .header("X-N8N-API-KEY", key.expose_secret())
                .header(reqwest::header::ACCEPT, "application/json")
                .query(query)
        })
        .await
        .map_err(|source| transport(what, source))?;
        let status = sent.response.status();
        let text = sent
            .response
            .text()
            .await
            .map_err(|source| transport(what, source))?;
        if !status.is_success() {
            let body: Value =
                serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
            let message = message_of(&body);
            return Err(match status {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => N8nError::Unauthorized(message),
                StatusCode::NOT_FOUND => N8nError::NotFound {
                    what: what.to_string(),
                    message,
                },
                s => N8nError::Status {
                    what: what.to_string(),
                    status: s.as_u16(),
                    message,
                },
            });
        }
        serde_json::from_str(&text).map_err(|e| N8nError::Decode {
            what: what.to_string(),
            reason: e.to_string(),
        })
    }

    /// One page of executions, newest first.
    pub async fn executions(&self, query: &ExecutionQuery) -> Result<ExecutionPage, N8nError> {
        let mut params = Vec::new();
        if let Some(id) = &query.workflow_id {
            params.push(("workflowId", id.clone()));
        }
        if let Some(status) = &query.status {
            params.push(("status", status.clone()));
        }
        if let Some(limit) = query.limit {
            params.push(("limit", limit.clamp(1, 250).to_string()));
        }
        if let Some(cursor) = &query.cursor {
            params.push(("cursor", cursor.clone()));
        }
        self.api_get("/executions", &params, "listing executions")
            .await
    }

    /// Executions across pages, following `nextCursor`, up to `max` of them.
    pub async fn all_executions(
        &self,
        query: &ExecutionQuery,
        max: usize,
    ) -> Result<Vec<Execution>, N8nError> {
        let mut query = query.clone();
        let mut out = Vec::new();
        loop {
            let page = self.executions(&query).await?;
            out.extend(page.data);
            match page.next_cursor {
                Some(cursor) if out.len() < max && !cursor.is_empty() => {
                    query.cursor = Some(cursor)
                }
                _ => break,
            }
        }
        out.truncate(max);
        Ok(out)
    }

    /// One execution; `NotFound` when it does not exist.
    pub async fn execution(&self, id: &str) -> Result<Execution, N8nError> {
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(N8nError::NotFound {
                what: format!("execution {id:?}"),
                message: "invalid execution id".into(),
            });
        }
        self.api_get(
            &format!("/executions/{id}"),
            &[],
            &format!("reading execution {id}"),
        )
        .await
    }

    /// Asks the self-restart workflow to restart `target`. n8n must then call
    /// `POST <resume_url>?handoff_id=<id>` once the target is back.
    pub async fn request_self_restart(
        &self,
        target: &str,
        handoff_id: HandoffId,
        resume_url: &str,
    ) -> Result<WebhookReply, N8nError> {
        let name = self
            .config
            .self_restart_workflow
            .as_deref()
            .ok_or(N8nError::SelfRestartNotConfigured)?;
        let workflow = self
            .config
            .workflows
            .get(name)
            .ok_or_else(|| N8nError::UnknownWorkflow(name.to_string()))?;
        let mut callback = reqwest::Url::parse(resume_url)
            .map_err(|_| N8nError::InvalidPath(format!("resume url {resume_url:?}")))?;
        callback
            .query_pairs_mut()
            .append_pair("handoff_id", &handoff_id.to_string());
        let payload = json!({
            "target": target,
            "handoff_id": handoff_id.to_string(),
            "resume_url": callback.as_str(),
            "resume_method": "POST",
        });
        let reply = self.post_webhook(name, &workflow.path, &payload).await?;
        if reply.status >= 500 {
            return Err(N8nError::Status {
                what: format!("handing off a restart of {target}"),
                status: reply.status,
                message: message_of(&reply.body),
            });
        }
        Ok(reply)
    }
}

fn transport(what: &str, source: reqwest::Error) -> N8nError {
    if source.is_timeout() {
        return N8nError::Timeout(what.to_string());
    }
    N8nError::Transport {
        what: what.to_string(),
        source: source.without_url(),
    }
}
