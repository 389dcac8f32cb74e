//! The HTTP API. Every route is registered through `utoipa_axum::routes!`, so
//! the router and the OpenAPI document cannot drift apart.

pub mod anomalies;
pub mod approvals;
pub mod hosts;
pub mod incidents;
pub mod maintenance;
pub mod patterns;
pub mod runbooks;
pub mod selfrestart;
pub mod system;
pub mod webhook;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{require_auth, require_read};
use crate::openapi::ApiDoc;
use crate::state::AppState;

/// The largest body of a non-webhook request.
const API_BODY_LIMIT: usize = 64 * 1024;

/// The router and the OpenAPI document describing exactly its routes.
pub fn router(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let public = OpenApiRouter::new()
        .routes(routes!(system::health))
        .routes(routes!(system::version))
        .routes(routes!(system::metrics))
        .routes(routes!(system::openapi_json));

    let reads = OpenApiRouter::new()
        .routes(routes!(incidents::list))
        .routes(routes!(incidents::get))
        .routes(routes!(patterns::list))
        .routes(routes!(patterns::get))
        .routes(routes!(patterns::analytics))
        .routes(routes!(patterns::statistics))
        .routes(routes!(runbooks::list))
        .routes(routes!(runbooks::get))
        .routes(routes!(maintenance::status))
        .routes(routes!(approvals::list))
        .routes(routes!(selfrestart::status))
        .routes(routes!(anomalies::list))
        .routes(routes!(anomalies::history))
        .routes(routes!(anomalies::stats))
        .routes(routes!(anomalies::synthetic_alerts))
        .routes(routes!(hosts::hosts))
        .routes(routes!(hosts::external_services))
        .route_layer(from_fn_with_state(state.clone(), require_read));

    let writes = OpenApiRouter::new()
        .routes(routes!(patterns::delete))
        .routes(routes!(runbooks::reload))
        .routes(routes!(maintenance::start))
        .routes(routes!(maintenance::end))
        .routes(routes!(approvals::approve))
        .routes(routes!(approvals::reject))
        .routes(routes!(selfrestart::self_restart))
        .routes(routes!(selfrestart::cancel))
        .routes(routes!(selfrestart::resume))
        .routes(routes!(anomalies::check))
        .routes(routes!(anomalies::send_daily_report))
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT))
        .route_layer(from_fn_with_state(state.clone(), require_auth));

    let webhooks = OpenApiRouter::new()
        .routes(routes!(webhook::alertmanager))
        .routes(routes!(webhook::alias))
        .layer(DefaultBodyLimit::max(state.config.server.body_limit_bytes))
        .route_layer(from_fn_with_state(state.clone(), require_auth));

    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(public)
        .merge(reads)
        .merge(writes)
        .merge(webhooks)
        .split_for_parts();
    mark_security(&mut doc, state.config.server.public_reads);
    let shared = Arc::new(doc.clone());
    let router = router.layer(axum::Extension(shared)).with_state(state);
    (router, doc)
}

/// Public paths need no credentials; everything else uses HTTP basic.
fn mark_security(doc: &mut utoipa::openapi::OpenApi, public_reads: bool) {
    use utoipa::openapi::security::SecurityRequirement;
    const PUBLIC: [&str; 4] = ["/health", "/version", "/metrics", "/openapi.json"];
    for (path, item) in doc.paths.paths.iter_mut() {
        if PUBLIC.contains(&path.as_str()) {
            continue;
        }
        let ops = [
            (&mut item.get, true),
            (&mut item.post, false),
            (&mut item.delete, false),
            (&mut item.put, false),
            (&mut item.patch, false),
        ];
        for (op, is_read) in ops {
            if let Some(op) = op
                && !(is_read && public_reads)
            {
                op.security = Some(vec![SecurityRequirement::new(
                    "basic",
                    Vec::<String>::new(),
                )]);
            }
        }
    }
}
