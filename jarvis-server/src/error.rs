//! The one error type of the HTTP API.
//!
//! A 4xx says exactly what was wrong. A 5xx body stays generic; the full cause
//! chain is logged once, here, when the response is built.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jarvis_core::error::{BoxError, StoreError};
use jarvis_core::pipeline::PipelineError;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for people.
    pub error: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    Unprocessable(String),
    /// A dependency (the store) is down: 503, so clients such as Alertmanager retry.
    #[error("service unavailable while {doing}")]
    Unavailable {
        doing: &'static str,
        #[source]
        source: BoxError,
    },
    #[error("internal error while {doing}")]
    Internal {
        doing: &'static str,
        #[source]
        source: BoxError,
    },
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A store error met while `doing` something.
    pub fn store(doing: &'static str, e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what } => ApiError::NotFound(format!("{what} not found")),
            StoreError::Conflict(msg) => ApiError::Conflict(msg),
            e @ StoreError::Unavailable { .. } => ApiError::Unavailable {
                doing,
                source: Box::new(e),
            },
            e => ApiError::Internal {
                doing,
                source: Box::new(e),
            },
        }
    }

    pub fn pipeline(doing: &'static str, e: PipelineError) -> Self {
        match e {
            PipelineError::Ingest(e) => ApiError::store(doing, e),
            PipelineError::Store { source, .. } => ApiError::store(doing, source),
        }
    }
}

pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            ApiError::Unavailable { .. } => {
                tracing::error!(error = %chain(&self), "request failed: dependency unavailable");
                "service unavailable; try again later".to_string()
            }
            ApiError::Internal { .. } => {
                tracing::error!(error = %chain(&self), "request failed: internal error");
                "internal error".to_string()
            }
            other => other.to_string(),
        };
        let mut response = (status, Json(ErrorBody { error: message })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"jarvis\", charset=\"UTF-8\""),
            );
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(r.body_text())
        } else {
            ApiError::BadRequest(r.body_text())
        }
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}
