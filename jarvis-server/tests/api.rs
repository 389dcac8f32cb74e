//! The server driven over HTTP with the captured Alertmanager payloads.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const FP: &str = "8fb85c1053fc0acf";
const FP2: &str = "6c6e9d074e01fb8d";

async fn accepted(t: &TestApp, fixture_name: &str) -> Value {
    let r = t.post_webhook(fixture(fixture_name)).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body
}

#[tokio::test]
async fn firing_alert_is_accepted_and_its_incident_has_the_fingerprint() {
    let t = spawn_app().await;
    let body = accepted(&t, "servicedown-firing.json").await;
    assert_eq!(body["accepted"], 1);
    assert_eq!(body["new"], 1);
    let incident = body["alerts"][0]["incident_id"]
        .as_str()
        .unwrap()
        .to_string();

    let detail = t.settled(&incident).await;
    assert_eq!(detail["incident"]["id"], incident.as_str());
    assert_eq!(detail["incident"]["alert_name"], "ServiceDown");
    assert_eq!(detail["alerts"][0]["fingerprint"], FP);
    assert_eq!(detail["alerts"][0]["alert"]["labels"]["service"], "demo");
    let transitions = detail["transitions"].as_array().unwrap();
    assert!(!transitions.is_empty(), "{detail}");
    for key in [
        "attempts",
        "audit",
        "notices",
        "approvals",
        "snapshots",
        "dependents",
    ] {
        assert!(detail[key].is_array(), "{key} missing: {detail}");
    }
    // Zero configuration: nothing can be verified, so nothing is reported resolved.
    assert_ne!(detail["incident"]["state"], "resolved", "{detail}");

    let list = t.get_json("/incidents").await;
    assert_eq!(list["incidents"].as_array().unwrap().len(), 1);
    let filtered = t.get_json("/incidents?alertname=Nope").await;
    assert_eq!(filtered["incidents"].as_array().unwrap().len(), 0);
    t.shutdown().await;
}

#[tokio::test]
async fn raw_payload_on_the_alias_path_is_accepted() {
    let t = spawn_app().await;
    let r = t
        .client
        .post(t.url("/webhook"))
        .basic_auth(USER, Some(PASSWORD))
        .body(fixture("servicedown-firing.raw.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    t.shutdown().await;
}

#[tokio::test]
async fn redelivery_opens_no_second_incident() {
    let t = spawn_app().await;
    let first = accepted(&t, "servicedown-firing.json").await;
    let second = accepted(&t, "servicedown-firing.json").await;
    assert_eq!(second["new"], 0, "{second}");
    assert_eq!(
        first["alerts"][0]["incident_id"],
        second["alerts"][0]["incident_id"]
    );
    assert_eq!(
        first["alerts"][0]["alert_id"],
        second["alerts"][0]["alert_id"]
    );
    let list = t.get_json("/incidents").await;
    assert_eq!(list["incidents"].as_array().unwrap().len(), 1, "{list}");
    t.shutdown().await;
}

#[tokio::test]
async fn grouped_payload_opens_one_incident_per_alert() {
    let t = spawn_app().await;
    let body = accepted(&t, "servicedown-grouped-2-alerts-firing.json").await;
    assert_eq!(body["accepted"], 2);
    let ids: Vec<String> = body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["incident_id"].as_str().unwrap().to_string())
        .collect();
    assert_ne!(ids[0], ids[1]);
    let mut fps = Vec::new();
    for id in &ids {
        let detail = t.settled(id).await;
        fps.push(
            detail["alerts"][0]["fingerprint"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    fps.sort();
    assert_eq!(fps, vec![FP2.to_string(), FP.to_string()]);
    t.shutdown().await;
}

#[tokio::test]
async fn resolved_payload_is_accepted_without_a_new_incident() {
    let t = spawn_app().await;
    let firing = accepted(&t, "servicedown-firing.json").await;
    let id = firing["alerts"][0]["incident_id"]
        .as_str()
        .unwrap()
        .to_string();
    t.settled(&id).await;
    let resolved = accepted(&t, "servicedown-resolved.json").await;
    assert_eq!(resolved["accepted"], 1);
    assert!(resolved["alerts"][0]["incident_id"].is_null(), "{resolved}");
    let list = t.get_json("/incidents").await;
    assert_eq!(list["incidents"].as_array().unwrap().len(), 1);
    // A payload mixing firing and resolved alerts.
    let mixed = accepted(&t, "servicedown-repeated-firing.json").await;
    assert_eq!(mixed["accepted"], 2);
    t.shutdown().await;
}

#[tokio::test]
async fn malformed_json_is_a_400_naming_the_problem() {
    let t = spawn_app().await;
    let r = t.post_webhook(b"{\"alerts\": [".to_vec()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    let msg = body["error"].as_str().unwrap();
    assert!(msg.contains("malformed payload"), "{msg}");
    assert!(msg.contains("line 1"), "{msg}");

    let mut v: Value = serde_json::from_slice(&fixture("servicedown-firing.json")).unwrap();
    v["alerts"][0]["startsAt"] = json!("not-a-time");
    let r = t.post_webhook(serde_json::to_vec(&v).unwrap()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"],
        "alerts[0].startsAt: invalid RFC 3339 timestamp \"not-a-time\""
    );
    t.shutdown().await;
}

#[tokio::test]
async fn unsupported_version_is_a_400() {
    let t = spawn_app().await;
    let mut v: Value = serde_json::from_slice(&fixture("servicedown-firing.json")).unwrap();
    v["version"] = json!("3");
    let r = t.post_webhook(serde_json::to_vec(&v).unwrap()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("unsupported payload version \"3\""),
        "{body}"
    );
    t.shutdown().await;
}

#[tokio::test]
async fn missing_or_wrong_credentials_are_401() {
    let t = spawn_app().await;
    let none = t
        .client
        .post(t.url("/webhook/alertmanager"))
        .body(fixture("servicedown-firing.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert!(none.headers().contains_key("www-authenticate"));
    let wrong = t
        .client
        .post(t.url("/webhook/alertmanager"))
        .basic_auth(USER, Some("nope"))
        .body(fixture("servicedown-firing.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    // Nothing was stored.
    assert_eq!(
        t.get_json("/incidents").await["incidents"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Reads need credentials too; health, version, metrics and the document do not.
    let r = t.client.get(t.url("/incidents")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = t
        .client
        .post(t.url("/resume?handoff_id=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    for path in ["/health", "/version", "/metrics", "/openapi.json"] {
        let r = t.client.get(t.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    t.shutdown().await;
}

#[tokio::test]
async fn public_reads_open_reads_but_not_writes() {
    let t = spawn_app_with(&[("JARVIS_SERVER__PUBLIC_READS", "true")]).await;
    let r = t.client.get(t.url("/incidents")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = t
        .client
        .post(t.url("/maintenance/start"))
        .json(&json!({"reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    t.shutdown().await;
}

#[tokio::test]
async fn without_a_password_loopback_clients_are_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = jarvis_adapters::config::load(
        None,
        &env(&[]),
        &jarvis_adapters::config::Overrides {
            listen: Some("127.0.0.1:0".into()),
            data_dir: Some(tmp.path().to_path_buf()),
        },
    )
    .unwrap();
    let app = jarvis_server::app::build(cfg, Default::default())
        .await
        .unwrap()
        .spawn();
    let r = reqwest::Client::new()
        .post(app.url("/webhook"))
        .body(fixture("servicedown-firing.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let t = spawn_app_with(&[("JARVIS_SERVER__BODY_LIMIT_BYTES", "2048")]).await;
    let mut v: Value = serde_json::from_slice(&fixture("servicedown-firing.json")).unwrap();
    v["commonAnnotations"]["padding"] = json!("x".repeat(4096));
    let r = t.post_webhook(serde_json::to_vec(&v).unwrap()).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("2048"), "{body}");
    // Under the limit still works.
    let r = t.post_webhook(fixture("servicedown-firing.raw.json")).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    t.shutdown().await;
}

#[tokio::test]
async fn default_body_limit_is_one_mebibyte() {
    let t = spawn_app().await;
    let mut v: Value = serde_json::from_slice(&fixture("servicedown-firing.json")).unwrap();
    v["commonAnnotations"]["padding"] = json!("x".repeat(1024 * 1024 + 10));
    let r = t.post_webhook(serde_json::to_vec(&v).unwrap()).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    t.shutdown().await;
}

#[tokio::test]
async fn non_loopback_without_password_refuses_to_start() {
    let err = jarvis_adapters::config::load(
        None,
        &env(&[("JARVIS_LISTEN", "0.0.0.0:8000")]),
        &Default::default(),
    )
    .unwrap_err();
    assert!(err.problems[0].starts_with("server.listen:"), "{err}");
    assert!(err.to_string().contains("no webhook password"), "{err}");
}

#[tokio::test]
async fn invalid_config_lists_every_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let err = test_config(
        tmp.path(),
        &[
            ("MAX_ATTEMPTS_PER_ALERT", "0"),
            ("JARVIS_DATABASE__RETENTION_DAYS", "0"),
            ("JARVIS_PROMETHEUS__URL", "not a url"),
            ("JARVIS_SERVER__BODY_LIMIT_BYTES", "lots"),
        ],
    )
    .unwrap_err();
    assert_eq!(err.problems.len(), 4, "{err}");
    let text = err.to_string();
    for key in [
        "pipeline.max_attempts: must be at least 1 (set by MAX_ATTEMPTS_PER_ALERT)",
        "database.retention_days",
        "prometheus.url",
        "server.body_limit_bytes",
    ] {
        assert!(text.contains(key), "{key} missing from\n{text}");
    }
}

#[tokio::test]
async fn accepted_alerts_survive_a_restart() {
    let t = spawn_app().await;
    let body = accepted(&t, "servicedown-firing.json").await;
    let id = body["alerts"][0]["incident_id"]
        .as_str()
        .unwrap()
        .to_string();
    t.settled(&id).await;
    let dir = t.dir.clone();
    let tmp = t.shutdown().await;

    let t = spawn_in(&dir, &[]).await;
    let detail = t.get_json(&format!("/incidents/{id}")).await;
    assert_eq!(detail["alerts"][0]["fingerprint"], FP);
    // The redelivery after the restart is recognised.
    let again = accepted(&t, "servicedown-firing.json").await;
    assert_eq!(again["new"], 0);
    t.shutdown().await;
    drop(tmp);
}

/// Every endpoint of the issue, as (method, path).
const ENDPOINTS: &[(&str, &str)] = &[
    ("post", "/webhook/alertmanager"),
    ("post", "/webhook"),
    ("get", "/health"),
    ("get", "/version"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
    ("get", "/incidents"),
    ("get", "/incidents/{id}"),
    ("get", "/patterns"),
    ("get", "/patterns/{id}"),
    ("delete", "/patterns/{id}"),
    ("get", "/analytics"),
    ("get", "/statistics"),
    ("get", "/runbooks"),
    ("get", "/runbooks/{alert_name}"),
    ("post", "/runbooks/reload"),
    ("post", "/maintenance/start"),
    ("post", "/maintenance/end"),
    ("get", "/maintenance/status"),
    ("get", "/approvals"),
    ("post", "/approvals/{id}/approve"),
    ("post", "/approvals/{id}/reject"),
    ("post", "/self-restart"),
    ("get", "/self-restart/status"),
    ("post", "/self-restart/cancel"),
    ("post", "/resume"),
    ("get", "/anomalies"),
    ("get", "/anomalies/history"),
    ("get", "/anomalies/stats"),
    ("post", "/anomalies/check"),
    ("get", "/anomalies/synthetic-alerts"),
    ("post", "/anomalies/send-daily-report"),
    ("get", "/hosts"),
    ("get", "/external-services"),
];

#[tokio::test]
async fn openapi_documents_every_route_and_the_router_serves_every_documented_one() {
    let t = spawn_app().await;
    let doc = t.get_json("/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in ENDPOINTS {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{} {path} is not in the OpenAPI document",
            method.to_uppercase()
        );
    }
    let mut documented = 0;
    for (path, item) in paths {
        for method in ["get", "post", "delete", "put", "patch"] {
            if item.get(method).is_none() {
                continue;
            }
            documented += 1;
            assert!(
                ENDPOINTS.contains(&(method, path.as_str())),
                "{method} {path} is documented but not in the endpoint list"
            );
            let concrete = path
                .replace("{id}", "0190a0a0-0000-7000-8000-000000000000")
                .replace("{alert_name}", "ServiceDown");
            let req = t
                .client
                .request(method.to_uppercase().parse().unwrap(), t.url(&concrete))
                .basic_auth(USER, Some(PASSWORD))
                .header("content-type", "application/json")
                .body("{}");
            let r = req.send().await.unwrap();
            let status = r.status();
            let text = r.text().await.unwrap();
            // Unrouted requests get axum's bare 404/405; ours always carry a body.
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            if status == StatusCode::NOT_FOUND {
                assert!(text.contains("\"error\""), "{method} {path} is not routed");
            }
        }
    }
    assert_eq!(documented, ENDPOINTS.len());
    t.shutdown().await;
}

#[tokio::test]
async fn metrics_lists_every_family() {
    let t = spawn_app().await;
    let body = accepted(&t, "servicedown-firing.json").await;
    let id = body["alerts"][0]["incident_id"]
        .as_str()
        .unwrap()
        .to_string();
    t.settled(&id).await;
    let r = t.client.get(t.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    for name in [
        "jarvis_alerts_received_total",
        "jarvis_remediation_total",
        "jarvis_remediation_duration_seconds",
        "jarvis_pattern_matches_total",
        "jarvis_llm_calls_total",
        "jarvis_claude_api_calls_total",
        "jarvis_llm_tokens_total",
        "jarvis_active_remediations",
        "jarvis_database_connected",
        "jarvis_commands_refused_total",
        "jarvis_anomalies_detected_total",
    ] {
        assert!(text.contains(name), "{name} missing from\n{text}");
    }
    assert!(
        text.contains("jarvis_remediation_total{alert_name=\"ServiceDown\""),
        "{text}"
    );
    t.shutdown().await;
}

#[tokio::test]
async fn health_reports_store_queue_and_version() {
    let t = spawn_app().await;
    let h = t.get_json("/health").await;
    assert_eq!(h["status"], "healthy");
    assert_eq!(h["store"]["connected"], true);
    assert_eq!(h["store"]["kind"], "sqlite");
    assert_eq!(h["verification"], false);
    assert_eq!(h["dry_run"], true);
    assert!(h["queue"]["accepted"].is_number());
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"));
    let v = t.get_json("/version").await;
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    t.shutdown().await;
}

#[tokio::test]
async fn maintenance_windows_start_list_and_end() {
    let t = spawn_app().await;
    let r = t
        .post_json(
            "/maintenance/start",
            json!({"host": "web1", "reason": "upgrade", "duration_minutes": 30}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let w: Value = r.json().await.unwrap();
    assert_eq!(w["created_by"], USER);
    assert_eq!(w["active"], true);
    // No Alertmanager configured: no silence, and nothing went wrong.
    assert_eq!(w["silence_id"], Value::Null);
    assert_eq!(w["silence_error"], Value::Null);
    let status = t.get_json("/maintenance/status").await;
    assert_eq!(status["in_maintenance"], true);
    let schema = &t.get_json("/openapi.json").await["components"]["schemas"]["WindowView"];
    for field in ["silence_id", "silence_error"] {
        assert!(
            schema["properties"][field].is_object(),
            "WindowView documents {field}: {schema}"
        );
    }
    let r = t.post_json("/maintenance/end", json!({})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = t
        .post_json("/maintenance/end", json!({"host": "web1"}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let status = t.get_json("/maintenance/status").await;
    assert_eq!(status["in_maintenance"], false);
    let r = t
        .post_json("/maintenance/start", json!({"reason": ""}))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    t.shutdown().await;
}

#[tokio::test]
async fn operator_endpoints_answer_with_precise_errors() {
    let t = spawn_app().await;
    let r = t.get("/incidents/not-a-uuid").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = t
        .get("/incidents/0190a0a0-0000-7000-8000-000000000000")
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = t.get("/incidents?state=bogus").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = t
        .client
        .post(t.url("/self-restart?target=jarvis"))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT, "no n8n configured");
    let r = t
        .client
        .post(t.url("/self-restart?target=/etc"))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = t
        .client
        .post(t.url("/anomalies/check"))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let rb = t.get_json("/runbooks").await;
    assert!(!rb["runbooks"].as_array().unwrap().is_empty());
    let one = t.get_json("/runbooks/ServiceDown").await;
    assert_eq!(one["alert_name"], "ServiceDown");
    let r = t.post_json("/runbooks/reload", json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let report = t.post_json("/anomalies/send-daily-report", json!({})).await;
    assert_eq!(report.status(), StatusCode::OK);
    let hosts = t.get_json("/hosts").await;
    assert_eq!(hosts["dry_run"], true);
    let ext = t.get_json("/external-services").await;
    assert!(ext["services"].as_array().unwrap().len() >= 5);
    let analytics = t.get_json("/analytics").await;
    assert!(analytics["learning"]["tiers"].is_object());
    t.get_json("/statistics").await;
    t.get_json("/approvals?status=all").await;
    t.get_json("/patterns").await;
    t.get_json("/anomalies/stats").await;
    t.shutdown().await;
}

/// A full work queue leaves new batches to the store; the backlog sweep
/// works their incidents through once the queue has room.
#[tokio::test]
async fn batches_beyond_the_queue_wait_in_the_store_and_are_worked_through() {
    let t = spawn_app_with(&[
        ("JARVIS_PIPELINE__MAX_CONCURRENT_INCIDENTS", "1"),
        ("JARVIS_PIPELINE__MAX_QUEUED_BATCHES", "1"),
    ])
    .await;
    // Twenty distinct alerts at once: one is handled, the rest find the queue full.
    let template: Value = serde_json::from_slice(&fixture("servicedown-firing.json")).unwrap();
    let mut posts = tokio::task::JoinSet::new();
    for i in 0..20u64 {
        let mut v = template.clone();
        v["alerts"][0]["labels"]["instance"] = json!(format!("web{i}:9100"));
        v["alerts"][0]["fingerprint"] = json!(format!("{:016x}", 0xfeed_0000u64 + i));
        let (client, url) = (t.client.clone(), t.url("/webhook/alertmanager"));
        posts.spawn(async move {
            let r = client
                .post(url)
                .basic_auth(USER, Some(PASSWORD))
                .json(&v)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::ACCEPTED);
            let body: Value = r.json().await.unwrap();
            body["alerts"][0]["incident_id"]
                .as_str()
                .expect("a new incident")
                .to_string()
        });
    }
    let ids = posts.join_all().await;
    let health = t.get_json("/health").await;
    assert!(
        health["queue"]["left_to_store"].as_u64().unwrap() >= 1,
        "the queue never filled: {health}"
    );
    for id in &ids {
        let detail = t.settled(id).await;
        let state = detail["incident"]["state"].as_str().unwrap_or("");
        assert!(
            !matches!(state, "received" | "planning" | "validating" | "executing"),
            "incident {id} was left {state}"
        );
    }
    t.shutdown().await;
}
