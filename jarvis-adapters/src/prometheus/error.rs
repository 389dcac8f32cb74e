//! Errors of the Prometheus and Alertmanager clients.

use std::fmt;

/// Prometheus's `errorType`, from the API envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorType {
    BadData,
    Execution,
    Canceled,
    Timeout,
    Internal,
    Unavailable,
    NotFound,
    NotAcceptable,
    Other(String),
}

impl ErrorType {
    pub fn parse(s: &str) -> Self {
        match s {
            "bad_data" => ErrorType::BadData,
            "execution" => ErrorType::Execution,
            "canceled" => ErrorType::Canceled,
            "timeout" => ErrorType::Timeout,
            "internal" => ErrorType::Internal,
            "unavailable" => ErrorType::Unavailable,
            "not_found" => ErrorType::NotFound,
            "not_acceptable" => ErrorType::NotAcceptable,
            other => ErrorType::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ErrorType::BadData => "bad_data",
            ErrorType::Execution => "execution",
            ErrorType::Canceled => "canceled",
            ErrorType::Timeout => "timeout",
            ErrorType::Internal => "internal",
            ErrorType::Unavailable => "unavailable",
            ErrorType::NotFound => "not_found",
            ErrorType::NotAcceptable => "not_acceptable",
            ErrorType::Other(s) => s,
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong asking Prometheus.
#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    #[error("prometheus client could not be built")]
    Client(#[source] reqwest::Error),
    #[error("prometheus at {url} unreachable")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("prometheus request to {url} timed out")]
    Timeout { url: String },
    /// Prometheus answered with its error envelope.
    #[error("prometheus returned {error_type} (http {status}): {message}")]
    Api {
        status: u16,
        error_type: ErrorType,
        message: String,
    },
    /// A non-2xx answer without the API envelope, e.g. from a proxy.
    #[error("prometheus answered http {status}: {body}")]
    Http { status: u16, body: String },
    #[error("prometheus response from {url} could not be decoded")]
    Decode {
        url: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("prometheus returned a {got} result where {want} was expected")]
    UnexpectedResult { want: &'static str, got: String },
}

impl PrometheusError {
    /// Asking again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            PrometheusError::Unreachable { .. } | PrometheusError::Timeout { .. } => true,
            PrometheusError::Http { status, .. } => *status >= 500 || *status == 429,
            PrometheusError::Api { error_type, .. } => matches!(
                error_type,
                ErrorType::Timeout
                    | ErrorType::Unavailable
                    | ErrorType::Internal
                    | ErrorType::Canceled
            ),
            _ => false,
        }
    }
}

/// What went wrong asking Alertmanager.
#[derive(Debug, thiserror::Error)]
pub enum AlertmanagerError {
    #[error("alertmanager client could not be built")]
    Client(#[source] reqwest::Error),
    #[error("alertmanager at {url} unreachable")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("silence {0} not found")]
    NotFound(String),
    /// A 4xx/5xx; Alertmanager's error bodies are plain strings.
    #[error("alertmanager answered http {status}: {message}")]
    Rejected { status: u16, message: String },
    #[error("alertmanager response from {url} could not be decoded")]
    Decode {
        url: String,
        #[source]
        source: serde_json::Error,
    },
}

impl AlertmanagerError {
    /// The silence no longer silences anything: Alertmanager does not know it.
    /// (Expiring an expired silence succeeds.)
    pub fn is_gone(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }
}

/// The first `max` bytes of a body, on a char boundary, for error messages.
pub(crate) fn snippet(body: &str, max: usize) -> String {
    let body = body.trim();
    if body.len() <= max {
        return body.to_string();
    }
    let mut end = max;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &body[..end])
}
