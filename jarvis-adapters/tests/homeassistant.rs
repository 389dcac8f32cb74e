//! The Home Assistant client and executor against a fake built from the fixtures.

#[path = "fakes/homeassistant.rs"]
mod fake;
#[path = "fakes/fixture.rs"]
mod fixture;

use std::sync::Arc;
use std::time::Duration;

use fake::{FakeHomeAssistant, Hassio, SUPERVISOR_TOKEN, TOKEN};
use jarvis_adapters::homeassistant::{
    HomeAssistantClient, HomeAssistantConfig, HomeAssistantError, HomeAssistantExecutor,
    SupervisorConfig,
};
use jarvis_core::domain::{Action, Step};
use jarvis_core::error::ExecError;
use jarvis_core::ports::Executor;
use jarvis_core::safety::{HomeAssistantRules, SafetyConfig, SafetyPolicy, ValidatedStep};
use secrecy::SecretString;
use serde_json::{Value, json};

fn config(url: &str, token: &str) -> HomeAssistantConfig {
    let mut config = HomeAssistantConfig::new(url, SecretString::from(token.to_string()));
    config.timeout = Duration::from_secs(5);
    config
}

fn client(fake: &FakeHomeAssistant) -> Arc<HomeAssistantClient> {
    Arc::new(HomeAssistantClient::new(config(&fake.url, TOKEN)).unwrap())
}

fn validated(action: Action) -> ValidatedStep {
    let config = SafetyConfig {
        home_assistant: HomeAssistantRules {
            allowed_services: vec!["automation.reload".into(), "input_boolean.turn_off".into()],
            allowed_addons: vec!["core_mosquitto".into(), "not_installed".into()],
            ..HomeAssistantRules::default()
        },
        ..SafetyConfig::default()
    };
    SafetyPolicy::new(&config, &[])
        .unwrap()
        .validate(Step::new(action))
        .expect("the test step passes the policy")
}

#[tokio::test]
async fn health_states_and_services_parse_the_captured_payloads() {
    let fake = FakeHomeAssistant::start(Hassio::Missing).await;
    let client = client(&fake);
    client.health().await.unwrap();

    let states = client.states().await.unwrap();
    assert!(
        states
            .iter()
            .any(|s| s.entity_id == "script.restart_demo" && s.state == "off")
    );
    let state = client.state("input_boolean.demo_service").await.unwrap();
    assert_eq!(state.state, "on");
    assert_eq!(state.attributes["friendly_name"], "Demo service");

    let services = client.services().await.unwrap();
    assert!(
        services
            .iter()
            .any(|d| d.domain == "automation" && d.services.contains_key("reload"))
    );

    let auth = fake.requests()[0].authorization.clone().unwrap();
    assert_eq!(auth, format!("Bearer {TOKEN}"));
}

#[tokio::test]
async fn unknown_entity_is_not_found_with_its_message() {
    let fake = FakeHomeAssistant::start(Hassio::Missing).await;
    let err = client(&fake)
        .state("light.does_not_exist")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, HomeAssistantError::NotFound { body, .. } if body == "Entity not found."),
        "{err}"
    );
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_never_shown() {
    let fake = FakeHomeAssistant::start(Hassio::Missing).await;
    let client = HomeAssistantClient::new(config(&fake.url, "wrong-token")).unwrap();
    let err = client.states().await.unwrap_err();
    assert!(
        matches!(&err, HomeAssistantError::Unauthorized(body) if body == "401: Unauthorized"),
        "{err}"
    );
    assert!(!err.to_string().contains("wrong-token"));
    let config = config(&fake.url, TOKEN);
    assert!(!format!("{config:?}").contains(TOKEN));
    assert!(!format!("{:?}", HomeAssistantClient::new(config).unwrap()).contains(TOKEN));
}

#[tokio::test]
async fn a_service_call_returns_the_changed_states() {
    let fake = FakeHomeAssistant::start(Hassio::Missing).await;
    let changed = client(&fake)
        .call_service(
            "input_boolean",
            "turn_off",
            &json!({"entity_id": "input_boolean.demo_service"}),
        )
        .await
        .unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].state, "off");
    let sent = fake.requests_to("/api/services/input_boolean/turn_off");
    let body: Value = serde_json::from_str(&sent[0].body).unwrap();
    assert_eq!(body, json!({"entity_id": "input_boolean.demo_service"}));
}

#[tokio::test]
async fn an_unknown_service_is_a_bad_request_with_the_body() {
    let fake = FakeHomeAssistant::start(Hassio::Missing).await;
    let err = client(&fake)
        .call_service("nosuchdomain", "nosuchservice", &json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, HomeAssistantError::BadRequest { body, .. } if body == "400: Bad Request"),
        "{err}"
    );
}

#[tokio::test]
async fn path_injection_in_names_is_refused_before_sending() {
    let fake = FakeHomeAssistant::start(Hassio::Missing).await;
    let client = client(&fake);
    let err = client
        .call_service("automation/../../states", "x", &json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, HomeAssistantError::InvalidName { .. }));
    assert!(client.restart_addon("../core").await.is_err());
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn reads_are_retried_on_server_errors_but_service_calls_are_not() {
    let fake = FakeHomeAssistant::start(Hassio::Missing).await;
    let client = client(&fake);
    fake.fail_next(&[502]);
    client.states().await.unwrap();
    assert_eq!(fake.requests_to("/api/states").len(), 2);

    fake.fail_next(&[502]);
    let err = client
        .call_service("automation", "reload", &json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, HomeAssistantError::Status { status: 502, .. }),
        "{err}"
    );
    assert_eq!(fake.requests_to("/api/services/automation/reload").len(), 1);
}

#[tokio::test]
async fn the_executor_calls_services() {
    let fake = FakeHomeAssistant::start(Hassio::Missing).await;
    let executor = HomeAssistantExecutor::new(client(&fake));
    let step = validated(Action::HaService {
        domain: "automation".into(),
        service: "reload".into(),
        data: json!({}),
    });
    let result = executor.execute(&step).await.unwrap();
    assert_eq!(result.exit_code, Some(0));
    assert!(result.stdout.contains("automation.reload"));
    assert_eq!(fake.requests_to("/api/services/automation/reload").len(), 1);
}

#[tokio::test]
async fn addon_restart_uses_the_legacy_hassio_service_when_that_is_all_there_is() {
    let fake = FakeHomeAssistant::start(Hassio::AddonRestart).await;
    let executor = HomeAssistantExecutor::new(client(&fake));
    let step = validated(Action::HaAddonRestart {
        addon: "core_mosquitto".into(),
    });
    let result = executor.execute(&step).await.unwrap();
    assert_eq!(result.exit_code, Some(0));
    let sent = fake.requests_to("/api/services/hassio/addon_restart");
    assert_eq!(sent.len(), 1);
    assert_eq!(
        serde_json::from_str::<Value>(&sent[0].body).unwrap(),
        json!({"addon": "core_mosquitto"})
    );
}

#[tokio::test]
async fn addon_restart_prefers_app_restart_when_it_exists() {
    let fake = FakeHomeAssistant::start(Hassio::AppRestart).await;
    let client = client(&fake);
    client.restart_addon("core_mosquitto").await.unwrap();
    client.restart_addon("core_mosquitto").await.unwrap();
    let sent = fake.requests_to("/api/services/hassio/app_restart");
    assert_eq!(sent.len(), 2);
    assert_eq!(
        serde_json::from_str::<Value>(&sent[0].body).unwrap(),
        json!({"app": "core_mosquitto"})
    );
    assert_eq!(
        fake.requests_to("/api/services").len(),
        1,
        "discovery is cached"
    );
}

#[tokio::test]
async fn addon_restart_without_hassio_or_supervisor_fails_clearly() {
    let fake = FakeHomeAssistant::start(Hassio::Missing).await;
    let executor = HomeAssistantExecutor::new(client(&fake));
    let step = validated(Action::HaAddonRestart {
        addon: "core_mosquitto".into(),
    });
    let err = executor.execute(&step).await.unwrap_err();
    assert!(
        matches!(&err, ExecError::Failed(m) if m.contains("hassio")),
        "{err}"
    );
}

#[tokio::test]
async fn addon_restart_goes_through_the_supervisor_when_configured() {
    let fake = FakeHomeAssistant::start(Hassio::Missing).await;
    let mut config = config(&fake.url, TOKEN);
    config.supervisor = Some(SupervisorConfig {
        url: fake.url.clone(),
        token: SecretString::from(SUPERVISOR_TOKEN.to_string()),
    });
    let executor = HomeAssistantExecutor::new(Arc::new(HomeAssistantClient::new(config).unwrap()));
    let result = executor
        .execute(&validated(Action::HaAddonRestart {
            addon: "core_mosquitto".into(),
        }))
        .await
        .unwrap();
    assert_eq!(result.exit_code, Some(0));
    let sent = fake.requests_to("/addons/core_mosquitto/restart");
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].authorization.as_deref(),
        Some(format!("Bearer {SUPERVISOR_TOKEN}").as_str())
    );

    let err = executor
        .execute(&validated(Action::HaAddonRestart {
            addon: "not_installed".into(),
        }))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ExecError::Failed(m) if m.contains("does not exist")),
        "{err}"
    );
}

#[tokio::test]
async fn other_actions_are_unsupported() {
    let fake = FakeHomeAssistant::start(Hassio::Missing).await;
    let executor = HomeAssistantExecutor::new(client(&fake));
    let step = validated(Action::Wait {
        duration: Duration::from_secs(1),
    });
    let err = executor.execute(&step).await.unwrap_err();
    assert!(matches!(err, ExecError::Unsupported { kind: "wait" }));
}

#[tokio::test]
async fn an_unreachable_home_assistant_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let executor = HomeAssistantExecutor::new(Arc::new(
        HomeAssistantClient::new(config(&url, TOKEN)).unwrap(),
    ));
    let err = executor
        .execute(&validated(Action::HaService {
            domain: "automation".into(),
            service: "reload".into(),
            data: json!({}),
        }))
        .await
        .unwrap_err();
    assert!(err.is_connection(), "{err}");
}
