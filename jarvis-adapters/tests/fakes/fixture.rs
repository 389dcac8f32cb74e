//! Captured HTTP exchanges (`fixtures/<system>/<name>.json`, copied from the
//! shared fixtures): `{request: {method, path}, status, content_type, body}`.
#![allow(dead_code)]

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// One captured exchange.
#[derive(Clone, Debug)]
pub struct Fixture {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub content_type: String,
    pub body: Value,
}

impl Fixture {
    pub fn parse(text: &str) -> Fixture {
        let v: Value = serde_json::from_str(text).expect("fixture is JSON");
        Fixture {
            method: v["request"]["method"].as_str().unwrap_or("GET").to_string(),
            path: v["request"]["path"].as_str().unwrap_or("/").to_string(),
            status: v["status"].as_u64().unwrap_or(200) as u16,
            content_type: v["content_type"]
                .as_str()
                .unwrap_or("application/json")
                .to_string(),
            body: v["body"].clone(),
        }
    }

    /// The captured response: a string body is sent as raw text.
    pub fn response(&self) -> Response {
        self.response_with(self.body.clone())
    }

    /// The captured status and content type with another body.
    pub fn response_with(&self, body: Value) -> Response {
        let text = match &body {
            Value::String(s) if !self.content_type.starts_with("application/json") => s.clone(),
            other => other.to_string(),
        };
        let mut response = (StatusCode::from_u16(self.status).unwrap(), text).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&self.content_type).unwrap(),
        );
        response
    }
}

/// A fixture by name, e.g. `load("home-assistant", "api-root")`.
pub fn load(system: &str, name: &str) -> Fixture {
    let path = format!(
        "{}/tests/fakes/fixtures/{system}/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Fixture::parse(&text)
}
