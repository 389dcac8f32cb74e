//! n8n: trigger workflows through their Webhook nodes, follow executions
//! through the public API, and hand self-restarts off to a workflow.
//!
//! Workflows are triggered by configured name → webhook path (production URL
//! `<webhook base>/webhook/<path>`, registered only while the workflow is
//! active: a 404 says it is not). Executions are read with `X-N8N-API-KEY`.

mod client;
mod executor;

pub use client::{Execution, ExecutionPage, ExecutionQuery, N8nClient, WebhookReply};
pub use executor::N8nExecutor;

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;

/// Settings of [`N8nClient`]. `Debug` never shows the key or header secret.
#[derive(Clone, Debug)]
pub struct N8nConfig {
    /// n8n base URL; the public API is at `<base_url>/api/v1`.
    pub base_url: String,
    /// Base of webhook URLs (n8n's `WEBHOOK_URL`) when it differs from `base_url`.
    pub webhook_base_url: Option<String>,
    /// Public API key, needed to follow executions.
    pub api_key: Option<SecretString>,
    /// Workflow name (as used in plans) → its webhook.
    pub workflows: BTreeMap<String, N8nWorkflow>,
    /// The workflow (a key of `workflows`) that restarts Jarvis, its database
    /// or a container and then calls Jarvis back.
    pub self_restart_workflow: Option<String>,
    /// Header authentication configured on the Webhook nodes.
    pub webhook_auth: Option<WebhookAuth>,
    /// Timeout of one request; a webhook answering "when last node finishes"
    /// blocks for the whole run.
    pub timeout: Duration,
    /// How long the executor follows an execution started by a webhook that
    /// answered immediately (needs `api_key` and the workflow's id); zero: never.
    pub follow_timeout: Duration,
    /// Delay between execution polls.
    pub poll_interval: Duration,
}

impl N8nConfig {
    pub fn new(base_url: impl Into<String>) -> Self {
        N8nConfig {
            base_url: base_url.into(),
            webhook_base_url: None,
            api_key: None,
            workflows: BTreeMap::new(),
            self_restart_workflow: None,
            webhook_auth: None,
            timeout: Duration::from_secs(60),
            follow_timeout: Duration::from_secs(120),
            poll_interval: Duration::from_secs(2),
        }
    }

    pub fn with_workflow(mut self, name: impl Into<String>, workflow: N8nWorkflow) -> Self {
        self.workflows.insert(name.into(), workflow);
        self
    }
}

/// One workflow Jarvis may trigger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct N8nWorkflow {
    /// The Webhook node's path, e.g. `jarvis-restart-demo`.
    pub path: String,
    /// The workflow id, to follow its executions through the API.
    pub workflow_id: Option<String>,
}

impl N8nWorkflow {
    pub fn new(path: impl Into<String>) -> Self {
        N8nWorkflow {
            path: path.into(),
            workflow_id: None,
        }
    }

    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.workflow_id = Some(id.into());
        self
    }
}

/// A header the Webhook nodes require ("Header Auth").
#[derive(Clone, Debug)]
pub struct WebhookAuth {
    pub header: String,
    pub value: SecretString,
}

/// Errors of the n8n client.
#[derive(Debug, thiserror::Error)]
pub enum N8nError {
    #[error("n8n workflow {0:?} is not configured")]
    UnknownWorkflow(String),
    #[error("n8n workflow {workflow:?} is not active (webhook not registered): {message}")]
    WorkflowInactive { workflow: String, message: String },
    #[error("n8n webhook path {0:?} is invalid")]
    InvalidPath(String),
    #[error("no n8n self-restart workflow is configured")]
    SelfRestartNotConfigured,
    #[error("no n8n api key is configured")]
    NoApiKey,
    #[error("n8n refused the api key (401): {0}")]
    Unauthorized(String),
    #[error("n8n: {what} not found (404): {message}")]
    NotFound { what: String, message: String },
    #[error("n8n answered {status} while {what}: {message}")]
    Status {
        what: String,
        status: u16,
        message: String,
    },
    #[error("n8n timed out while {0}")]
    Timeout(String),
    #[error("n8n unreachable while {what}")]
    Transport {
        what: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("n8n response to {what} not understood: {reason}")]
    Decode { what: String, reason: String },
}

impl N8nError {
    /// The request never reached n8n.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, N8nError::Transport { source, .. } if source.is_connect())
    }
}
