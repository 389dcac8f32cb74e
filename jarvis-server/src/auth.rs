//! HTTP basic authentication, compared in constant time.
//!
//! With a password configured, every mutating request (and every read unless
//! `server.public_reads`) must carry the configured user and password. Without
//! a password, only loopback peers are accepted (the config refuses to listen on
//! a non-loopback address then).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

/// Who made a request: the authenticated user, `local` for a loopback peer
/// when no password is configured, or `anonymous` for a public read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller(pub String);

/// The credentials requests are checked against.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub user: String,
    pub password: Option<SecretString>,
}

impl Credentials {
    /// Checks an `Authorization` header value and the peer address.
    pub fn authenticate(
        &self,
        authorization: Option<&str>,
        peer: Option<SocketAddr>,
    ) -> Result<Caller, ApiError> {
        let Some(password) = &self.password else {
            return match peer {
                Some(p) if p.ip().is_loopback() => Ok(Caller("local".into())),
                _ => Err(ApiError::Forbidden(
                    "no webhook password is configured, so only loopback clients are accepted"
                        .into(),
                )),
            };
        };
        let Some(value) = authorization else {
            return Err(ApiError::Unauthorized(
                "authentication required: send HTTP basic credentials".into(),
            ));
        };
        let (user, given) = parse_basic(value).ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header is not valid HTTP basic".into())
        })?;
        let user_ok = user.as_bytes().ct_eq(self.user.as_bytes());
        let pass_ok = given.as_bytes().ct_eq(password.expose_secret().as_bytes());
        if bool::from(user_ok & pass_ok) {
            Ok(Caller(user))
        } else {
            Err(ApiError::Unauthorized("wrong user name or password".into()))
        }
    }
}

/// `Basic base64(user:password)` → (user, password).
pub fn parse_basic(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

fn peer(req: &Request) -> Option<SocketAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

fn check(state: &AppState, req: &Request) -> Result<Caller, ApiError> {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    state.credentials.authenticate(authorization, peer(req))
}

/// Middleware for mutating routes: always authenticated.
pub async fn require_auth(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let caller = check(&state, &req)?;
    req.extensions_mut().insert(caller);
    Ok(next.run(req).await)
}

/// Middleware for read routes: authenticated unless `server.public_reads`.
pub async fn require_read(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let caller = if state.config.server.public_reads {
        Caller("anonymous".into())
    } else {
        check(&state, &req)?
    };
    req.extensions_mut().insert(caller);
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user: &str, pass: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        )
    }

    #[test]
    fn password_mode_checks_both_user_and_password() {
        let creds = Credentials {
            user: "alertmanager".into(),
            password: Some(SecretString::from("s3cret")),
        };
        let remote: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        assert_eq!(
            creds
                .authenticate(Some(&basic("alertmanager", "s3cret")), Some(remote))
                .unwrap(),
            Caller("alertmanager".into())
        );
        for bad in [
            basic("alertmanager", "wrong"),
            basic("other", "s3cret"),
            "Bearer x".into(),
            "Basic !!!".into(),
        ] {
            assert!(matches!(
                creds.authenticate(Some(&bad), Some(remote)),
                Err(ApiError::Unauthorized(_))
            ));
        }
        assert!(matches!(
            creds.authenticate(None, Some(remote)),
            Err(ApiError::Unauthorized(_))
        ));
    }

    #[test]
    fn without_password_only_loopback_is_accepted() {
        let creds = Credentials {
            user: "alertmanager".into(),
            password: None,
        };
        assert!(
            creds
                .authenticate(None, Some("127.0.0.1:1".parse().unwrap()))
                .is_ok()
        );
        assert!(
            creds
                .authenticate(None, Some("[::1]:1".parse().unwrap()))
                .is_ok()
        );
        assert!(matches!(
            creds.authenticate(None, Some("192.168.1.2:1".parse().unwrap())),
            Err(ApiError::Forbidden(_))
        ));
        assert!(matches!(
            creds.authenticate(None, None),
            Err(ApiError::Forbidden(_))
        ));
    }

    #[test]
    fn passwords_may_contain_colons() {
        assert_eq!(
            parse_basic(&basic("u", "a:b")),
            Some(("u".into(), "a:b".into()))
        );
    }
}
