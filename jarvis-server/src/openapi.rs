//! The OpenAPI 3 document's frame; the paths come from the router (see `routes`).

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Jarvis",
        description = "Auto-remediation of Prometheus alerts: the Alertmanager webhook and the operator API. \
Mutating endpoints need HTTP basic credentials; reads too unless `server.public_reads` is set. \
`/health`, `/version`, `/metrics` and `/openapi.json` are always public."
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&BasicAuth),
    tags(
        (name = "webhook", description = "Alertmanager webhook receiver"),
        (name = "system", description = "Health, version, metrics and this document"),
        (name = "incidents", description = "Incidents and their timelines"),
        (name = "learning", description = "Learned patterns and analytics"),
        (name = "runbooks", description = "Runbooks"),
        (name = "maintenance", description = "Maintenance windows"),
        (name = "approvals", description = "Steps waiting for an operator"),
        (name = "self-restart", description = "Self-restart hand-offs"),
        (name = "anomalies", description = "Anomaly detection"),
        (name = "hosts", description = "Hosts and external services"),
    )
)]
pub struct ApiDoc;

struct BasicAuth;

impl Modify for BasicAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi
            .components
            .get_or_insert_with(utoipa::openapi::Components::new);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
    }
}
