//! The Home Assistant REST API and the Supervisor add-on endpoints.

use std::collections::BTreeMap;
use std::fmt;

use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::{HomeAssistantConfig, HomeAssistantError};
use crate::http::{self, RetryOn, RetryPolicy};

/// One entity's state.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct EntityState {
    pub entity_id: String,
    pub state: String,
    #[serde(default)]
    pub attributes: serde_json::Map<String, Value>,
    #[serde(default)]
    pub last_changed: Option<String>,
    #[serde(default)]
    pub last_updated: Option<String>,
}

/// One domain of `GET /api/services`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ServiceDomain {
    pub domain: String,
    #[serde(default)]
    pub services: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
struct SupervisorEnvelope {
    result: String,
    #[serde(default)]
    message: Option<String>,
}

/// How add-on restarts are done on this installation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RestartVia {
    AppRestart,
    AddonRestart,
    Missing,
}

/// A Home Assistant REST client.
pub struct HomeAssistantClient {
    http: reqwest::Client,
    config: HomeAssistantConfig,
    api: String,
    restart_via: OnceCell<RestartVia>,
}

impl fmt::Debug for HomeAssistantClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HomeAssistantClient")
            .field("base_url", &self.config.base_url)
            .field("supervisor", &self.config.supervisor.is_some())
            .finish_non_exhaustive()
    }
}

/// `domain` and `service` names: lowercase letters, digits, underscores.
fn check_name(kind: &'static str, value: &str) -> Result<(), HomeAssistantError> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    ok.then_some(()).ok_or(HomeAssistantError::InvalidName {
        kind,
        value: value.to_string(),
    })
}

/// Add-on slugs: lowercase letters, digits, `_` and `-`.
fn check_slug(value: &str) -> Result<(), HomeAssistantError> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    ok.then_some(()).ok_or(HomeAssistantError::InvalidName {
        kind: "add-on slug",
        value: value.to_string(),
    })
}

fn check_entity(value: &str) -> Result<(), HomeAssistantError> {
    let invalid = || HomeAssistantError::InvalidName {
        kind: "entity id",
        value: value.to_string(),
    };
    let (domain, object) = value.split_once('.').ok_or_else(invalid)?;
    check_name("entity id", domain).map_err(|_| invalid())?;
    check_name("entity id", object).map_err(|_| invalid())
}

impl HomeAssistantClient {
    pub fn new(config: HomeAssistantConfig) -> Result<Self, HomeAssistantError> {
        let http =
            http::client(config.timeout).map_err(|source| HomeAssistantError::Transport {
                what: "building the client".into(),
                source,
            })?;
        let api = format!("{}/api", config.base_url.trim_end_matches('/'));
        Ok(HomeAssistantClient {
            http,
            config,
            api,
            restart_via: OnceCell::new(),
        })
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<reqwest::Response, HomeAssistantError> {
        // Reads may be repeated; a service call may have started, so only an
        // unsent request is retried.
        let policy = if method == Method::GET {
            RetryPolicy::default().with_retry_on(RetryOn::Transient)
        } else {
            RetryPolicy::default().with_retry_on(RetryOn::NotStarted)
        };
        let url = format!("{}{path}", self.api);
        let sent = http::send(&policy, what, || {
            let builder = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(self.config.token.expose_secret());
            match body {
                Some(body) => builder.json(body),
                None => builder,
            }
        })
        .await
        .map_err(|source| transport(what, source))?;
        check_status(sent.response, what).await
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        what: &str,
    ) -> Result<T, HomeAssistantError> {
        let response = self.request(Method::GET, path, None, what).await?;
        decode(response, what).await
    }

    /// `GET /api/`: Ok when the API answers "API running.".
    pub async fn health(&self) -> Result<(), HomeAssistantError> {
        let body: Value = self.get_json("/", "checking health").await?;
        match body.get("message").and_then(Value::as_str) {
            Some(_) => Ok(()),
            None => Err(HomeAssistantError::Decode {
                what: "checking health".into(),
                reason: "no message".into(),
            }),
        }
    }

    /// `GET /api/states`.
    pub async fn states(&self) -> Result<Vec<EntityState>, HomeAssistantError> {
        self.get_json("/states", "listing states").await
    }

    /// `GET /api/states/{entity_id}`; `NotFound` for an unknown entity.
    pub async fn state(&self, entity_id: &str) -> Result<EntityState, HomeAssistantError> {
        check_entity(entity_id)?;
        self.get_json(
            &format!("/states/{entity_id}"),
            &format!("reading {entity_id}"),
        )
        .await
    }

    /// `GET /api/services`.
    pub async fn services(&self) -> Result<Vec<ServiceDomain>, HomeAssistantError> {
        self.get_json("/services", "listing services").await
    }

    /// `POST /api/services/{domain}/{service}`: blocks until the service ran and
    /// returns the states that changed meanwhile (possibly unrelated ones).
    pub async fn call_service(
        &self,
        domain: &str,
        service: &str,
        data: &Value,
    ) -> Result<Vec<EntityState>, HomeAssistantError> {
        check_name("domain", domain)?;
        check_name("service", service)?;
        let body = match data {
            Value::Null => json!({}),
            Value::Object(_) => data.clone(),
            _ => {
                return Err(HomeAssistantError::BadRequest {
                    what: format!("call {domain}.{service}"),
                    body: "service data must be a JSON object".into(),
                });
            }
        };
        let what = format!("calling {domain}.{service}");
        let response = self
            .request(
                Method::POST,
                &format!("/services/{domain}/{service}"),
                Some(&body),
                &what,
            )
            .await?;
        decode(response, &what).await
    }

    async fn restart_via(&self) -> Result<RestartVia, HomeAssistantError> {
        self.restart_via
            .get_or_try_init(|| async {
                let domains = self.services().await?;
                let hassio = domains.iter().find(|d| d.domain == "hassio");
                Ok(match hassio {
                    Some(d) if d.services.contains_key("app_restart") => RestartVia::AppRestart,
                    Some(d) if d.services.contains_key("addon_restart") => RestartVia::AddonRestart,
                    _ => RestartVia::Missing,
                })
            })
            .await
            .copied()
    }

    /// Restarts an add-on (app) by slug.
    pub async fn restart_addon(&self, slug: &str) -> Result<String, HomeAssistantError> {
        check_slug(slug)?;
        if let Some(supervisor) = &self.config.supervisor {
            let what = format!("restart add-on {slug}");
            let url = format!(
                "{}/addons/{slug}/restart",
                supervisor.url.trim_end_matches('/')
            );
            let policy = RetryPolicy::default().with_retry_on(RetryOn::NotStarted);
            let sent = http::send(&policy, &what, || {
                self.http
                    .post(&url)
                    .bearer_auth(supervisor.token.expose_secret())
            })
            .await
            .map_err(|source| transport(&what, source))?;
            let status = sent.response.status();
            let text = sent.response.text().await.unwrap_or_default();
            let envelope: Option<SupervisorEnvelope> = serde_json::from_str(&text).ok();
            return match envelope {
                Some(env) if status.is_success() && env.result == "ok" => {
                    Ok(format!("supervisor restarted add-on {slug}"))
                }
                Some(env) => Err(HomeAssistantError::Supervisor {
                    what,
                    message: env.message.unwrap_or(env.result),
                }),
                None => Err(HomeAssistantError::Status {
                    what,
                    status: status.as_u16(),
                    body: http::truncate_chars(text.trim(), 500),
                }),
            };
        }
        let (service, data) = match self.restart_via().await? {
            RestartVia::AppRestart => ("app_restart", json!({"app": slug})),
            RestartVia::AddonRestart => ("addon_restart", json!({"addon": slug})),
            RestartVia::Missing => {
                return Err(HomeAssistantError::Unsupported(
                    "the hassio integration is not loaded (not HA OS or Supervised) and no supervisor token is configured".into(),
                ));
            }
        };
        self.call_service("hassio", service, &data).await?;
        Ok(format!("hassio.{service} restarted add-on {slug}"))
    }
}

fn transport(what: &str, source: reqwest::Error) -> HomeAssistantError {
    if source.is_timeout() {
        return HomeAssistantError::Timeout(what.to_string());
    }
    HomeAssistantError::Transport {
        what: what.to_string(),
        source: source.without_url(),
    }
}

/// Maps error statuses to errors carrying the (bounded) body.
async fn check_status(
    response: reqwest::Response,
    what: &str,
) -> Result<reqwest::Response, HomeAssistantError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = error_message(&http::body_snippet(response).await);
    let what = what.to_string();
    Err(match status {
        StatusCode::UNAUTHORIZED => HomeAssistantError::Unauthorized(body),
        StatusCode::NOT_FOUND => HomeAssistantError::NotFound { what, body },
        StatusCode::BAD_REQUEST => HomeAssistantError::BadRequest { what, body },
        s => HomeAssistantError::Status {
            what,
            status: s.as_u16(),
            body,
        },
    })
}

/// `{"message": "..."}` bodies become their message; text bodies stay as they are.
fn error_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| body.to_string())
}

async fn decode<T: DeserializeOwned>(
    response: reqwest::Response,
    what: &str,
) -> Result<T, HomeAssistantError> {
    let text = response
        .text()
        .await
        .map_err(|source| transport(what, source))?;
    serde_json::from_str(&text).map_err(|e| HomeAssistantError::Decode {
        what: what.to_string(),
        reason: e.to_string(),
    })
}
