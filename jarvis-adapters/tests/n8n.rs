//! The n8n client and executor against a fake built from the fixtures.

#[path = "fakes/n8n.rs"]
mod fake;
#[path = "fakes/fixture.rs"]
mod fixture;

use std::sync::Arc;
use std::time::Duration;

use fake::{API_KEY, FakeN8n, Hook, Respond, WORKFLOW_ID};
use jarvis_adapters::n8n::{
    ExecutionQuery, N8nClient, N8nConfig, N8nError, N8nExecutor, N8nWorkflow, WebhookAuth,
};
use jarvis_core::domain::{Action, HandoffId, Step};
use jarvis_core::error::ExecError;
use jarvis_core::ports::Executor;
use jarvis_core::safety::{N8nRules, SafetyConfig, SafetyPolicy, ValidatedStep};
use secrecy::SecretString;
use serde_json::json;

fn config(fake: &FakeN8n) -> N8nConfig {
    let mut config = N8nConfig::new(fake.url.clone())
        .with_workflow(
            "restart-demo",
            N8nWorkflow::new("jarvis-restart-demo").with_id(WORKFLOW_ID),
        )
        .with_workflow(
            "async-demo",
            N8nWorkflow::new("jarvis-async").with_id("AsyncWf"),
        )
        .with_workflow("broken", N8nWorkflow::new("jarvis-broken"))
        .with_workflow("self-restart", N8nWorkflow::new("jarvis-self-restart"));
    config.api_key = Some(SecretString::from(API_KEY.to_string()));
    config.self_restart_workflow = Some("self-restart".into());
    config.timeout = Duration::from_secs(5);
    config.follow_timeout = Duration::from_secs(5);
    config.poll_interval = Duration::from_millis(20);
    config
}

fn client(fake: &FakeN8n) -> Arc<N8nClient> {
    Arc::new(N8nClient::new(config(fake)).unwrap())
}

fn active(path: &str, workflow_id: &str, respond: Respond, fake: &FakeN8n) {
    fake.hook(
        path,
        Hook {
            workflow_id: workflow_id.into(),
            active: true,
            respond,
        },
    );
}

fn validated(workflow: &str) -> ValidatedStep {
    let config = SafetyConfig {
        n8n: N8nRules {
            allowed_workflows: vec![
                "restart-demo".into(),
                "async-demo".into(),
                "broken".into(),
                "unknown".into(),
            ],
        },
        ..SafetyConfig::default()
    };
    SafetyPolicy::new(&config, &[])
        .unwrap()
        .validate(Step::new(Action::N8nWorkflow {
            workflow: workflow.into(),
            payload: json!({"alert": "ServiceDown", "service": "demo"}),
        }))
        .expect("the test step passes the policy")
}

#[tokio::test]
async fn a_webhook_answering_with_the_command_output_gives_the_step_result() {
    let fake = FakeN8n::start().await;
    active("jarvis-restart-demo", WORKFLOW_ID, Respond::LastNode, &fake);
    let executor = N8nExecutor::new(client(&fake));

    let result = executor.execute(&validated("restart-demo")).await.unwrap();
    assert_eq!(result.exit_code, Some(0));
    assert_eq!(result.stdout, "restarted demo");
    let triggered = fake.triggered();
    assert_eq!(triggered.len(), 1);
    assert_eq!(triggered[0].path, "jarvis-restart-demo");
    assert_eq!(
        triggered[0].body,
        json!({"alert": "ServiceDown", "service": "demo"})
    );
}

#[tokio::test]
async fn an_inactive_workflow_is_reported_as_such() {
    let fake = FakeN8n::start().await;
    fake.hook(
        "jarvis-restart-demo",
        Hook {
            workflow_id: WORKFLOW_ID.into(),
            active: false,
            respond: Respond::LastNode,
        },
    );
    let client = client(&fake);
    let err = client
        .trigger("restart-demo", &json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, N8nError::WorkflowInactive { workflow, message }
            if workflow == "restart-demo" && message.contains("is not registered")),
        "{err}"
    );
    let err = N8nExecutor::new(client)
        .execute(&validated("restart-demo"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ExecError::Failed(m) if m.contains("not active")),
        "{err}"
    );
}

#[tokio::test]
async fn a_failing_workflow_ran_and_exited_non_zero() {
    let fake = FakeN8n::start().await;
    active("jarvis-broken", "BrokenWf", Respond::Error, &fake);
    let result = N8nExecutor::new(client(&fake))
        .execute(&validated("broken"))
        .await
        .unwrap();
    assert_eq!(result.exit_code, Some(1));
    assert!(result.stderr.contains("Error in workflow"));
    assert_eq!(
        fake.triggered().len(),
        1,
        "never retried: it may have acted"
    );
}

#[tokio::test]
async fn an_immediately_answering_webhook_is_followed_to_its_execution() {
    let fake = FakeN8n::start().await;
    active(
        "jarvis-async",
        "AsyncWf",
        Respond::Immediately {
            polls: 2,
            status: "success",
        },
        &fake,
    );
    let executor = N8nExecutor::new(client(&fake));
    let result = executor.execute(&validated("async-demo")).await.unwrap();
    assert_eq!(result.exit_code, Some(0), "{result:?}");
    assert!(result.stdout.contains("success"));
    assert!(fake.api_queries().len() >= 3);
    assert!(
        fake.api_queries()
            .iter()
            .all(|q| q.get("workflowId").map(String::as_str) == Some("AsyncWf"))
    );

    active(
        "jarvis-async",
        "AsyncWf",
        Respond::Immediately {
            polls: 0,
            status: "error",
        },
        &fake,
    );
    let result = executor.execute(&validated("async-demo")).await.unwrap();
    assert_eq!(result.exit_code, Some(1), "{result:?}");
}

#[tokio::test]
async fn unknown_workflows_are_not_triggered() {
    let fake = FakeN8n::start().await;
    let err = N8nExecutor::new(client(&fake))
        .execute(&validated("unknown"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ExecError::Failed(m) if m.contains("not configured")),
        "{err}"
    );
    assert!(fake.triggered().is_empty());
}

#[tokio::test]
async fn executions_are_listed_across_cursor_pages() {
    let fake = FakeN8n::start().await;
    fake.seed(WORKFLOW_ID, 4);
    let client = client(&fake);
    let query = ExecutionQuery {
        workflow_id: Some(WORKFLOW_ID.into()),
        limit: Some(2),
        ..ExecutionQuery::default()
    };
    let page = client.executions(&query).await.unwrap();
    assert_eq!(page.data.len(), 2);
    assert!(page.next_cursor.is_some());

    let all = client.all_executions(&query, 100).await.unwrap();
    assert_eq!(all.len(), 5, "the captured execution and four seeded ones");
    assert_eq!(all.last().unwrap().id, "1");
    assert!(
        all.iter()
            .all(|e| e.workflow_id.as_deref() == Some(WORKFLOW_ID))
    );
    assert!(all.iter().all(|e| e.succeeded()));
    assert_eq!(fake.api_queries().len(), 4);
}

#[tokio::test]
async fn numeric_ids_of_old_n8n_are_read_as_strings() {
    let fake = FakeN8n::start().await;
    fake.numeric_ids();
    let client = client(&fake);
    let execution = client.execution("1").await.unwrap();
    assert_eq!(execution.id, "1");
    assert_eq!(execution.workflow_id.as_deref(), Some("7"));
    assert_eq!(execution.status.as_deref(), Some("success"));
    assert!(execution.started_at.is_some());
}

#[tokio::test]
async fn a_missing_execution_is_not_found() {
    let fake = FakeN8n::start().await;
    let err = client(&fake).execution("99999999").await.unwrap_err();
    assert!(
        matches!(&err, N8nError::NotFound { message, .. } if message == "Not Found"),
        "{err}"
    );
}

#[tokio::test]
async fn api_key_problems_are_unauthorized_and_the_key_stays_secret() {
    let fake = FakeN8n::start().await;
    let mut config = config(&fake);
    config.api_key = Some(SecretString::from("wrong-key".to_string()));
    let err = N8nClient::new(config.clone())
        .unwrap()
        .execution("1")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, N8nError::Unauthorized(m) if m == "unauthorized"),
        "{err}"
    );
    assert!(!err.to_string().contains("wrong-key"));
    assert!(!format!("{config:?}").contains("wrong-key"));

    config.api_key = None;
    let err = N8nClient::new(config)
        .unwrap()
        .execution("1")
        .await
        .unwrap_err();
    assert!(matches!(err, N8nError::NoApiKey));
}

#[tokio::test]
async fn webhook_header_auth_is_sent() {
    let fake = FakeN8n::start().await;
    active("jarvis-restart-demo", WORKFLOW_ID, Respond::LastNode, &fake);
    let mut config = config(&fake);
    config.webhook_auth = Some(WebhookAuth {
        header: "X-Jarvis-Token".into(),
        value: SecretString::from("hook-secret".to_string()),
    });
    N8nClient::new(config)
        .unwrap()
        .trigger("restart-demo", &json!({}))
        .await
        .unwrap();
    assert_eq!(fake.triggered()[0].headers["x-jarvis-token"], "hook-secret");
}

#[tokio::test]
async fn self_restart_hands_off_with_the_resume_url() {
    let fake = FakeN8n::start().await;
    active("jarvis-self-restart", "SelfWf", Respond::LastNode, &fake);
    let handoff = HandoffId::new();
    client(&fake)
        .request_self_restart("jarvis", handoff, "http://jarvis.local:9000/resume")
        .await
        .unwrap();
    let triggered = fake.triggered();
    assert_eq!(triggered.len(), 1);
    assert_eq!(triggered[0].path, "jarvis-self-restart");
    let body = &triggered[0].body;
    assert_eq!(body["target"], "jarvis");
    assert_eq!(body["handoff_id"], handoff.to_string());
    assert_eq!(
        body["resume_url"],
        format!("http://jarvis.local:9000/resume?handoff_id={handoff}")
    );
    assert_eq!(body["resume_method"], "POST");
}

#[tokio::test]
async fn self_restart_needs_a_configured_workflow() {
    let fake = FakeN8n::start().await;
    let mut config = config(&fake);
    config.self_restart_workflow = None;
    let err = N8nClient::new(config)
        .unwrap()
        .request_self_restart("jarvis", HandoffId::new(), "http://jarvis/resume")
        .await
        .unwrap_err();
    assert!(matches!(err, N8nError::SelfRestartNotConfigured));
}

#[tokio::test]
async fn webhook_paths_are_checked() {
    let config = N8nConfig::new("http://n8n").with_workflow("bad", N8nWorkflow::new("../api/v1"));
    assert!(matches!(
        N8nClient::new(config),
        Err(N8nError::InvalidPath(_))
    ));
}
