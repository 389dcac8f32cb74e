//! The Discord notifier against a fake webhook that enforces Discord's limits.

#[path = "fakes/discord.rs"]
mod fake;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use fake::{FakeDiscord, Knob, TOKEN};
use jarvis_adapters::discord::{DiscordConfig, DiscordNotifier, embed};
use jarvis_core::domain::{IncidentId, Notice, NoticeKind};
use jarvis_core::error::NotifyError;
use jarvis_core::ports::Notifier;
use secrecy::SecretString;
use serde_json::json;

fn notifier(fake: &FakeDiscord, window: Duration) -> DiscordNotifier {
    let mut config = DiscordConfig::new(SecretString::from(fake.webhook_url.clone()));
    config.batch_window = window;
    config.timeout = Duration::from_secs(5);
    DiscordNotifier::new(config).unwrap()
}

fn notice(kind: NoticeKind, title: &str) -> Notice {
    Notice::new(kind, title, Utc::now())
        .body("demo.service restarted on web1")
        .field("Command", "systemctl restart demo")
        .field("Verification", "alert cleared after 12s")
        .incident(IncidentId::new())
}

#[tokio::test]
async fn a_notice_becomes_one_rich_embed_without_pings() {
    let fake = FakeDiscord::start().await;
    let notifier = notifier(&fake, Duration::ZERO);
    notifier
        .notify(&notice(
            NoticeKind::RemediationSuccess,
            "ServiceDown fixed @everyone",
        ))
        .await
        .unwrap();

    assert_eq!(fake.violations(), Vec::<String>::new());
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].query.get("wait").map(String::as_str),
        Some("true")
    );
    let body = &requests[0].body;
    assert_eq!(body["allowed_mentions"], json!({"parse": []}));
    let e = &body["embeds"][0];
    assert_eq!(e["title"], "ServiceDown fixed @everyone");
    assert_eq!(e["color"], embed::color(NoticeKind::RemediationSuccess));
    assert_eq!(e["fields"][0]["name"], "Command");
    assert!(
        e["footer"]["text"]
            .as_str()
            .unwrap()
            .contains("remediation_success")
    );
    assert!(e["timestamp"].as_str().is_some());
}

#[tokio::test]
async fn kinds_have_distinct_colours_for_good_and_bad_news() {
    assert_ne!(
        embed::color(NoticeKind::RemediationSuccess),
        embed::color(NoticeKind::RemediationFailure)
    );
    assert_ne!(
        embed::color(NoticeKind::Escalation),
        embed::color(NoticeKind::HostOnline)
    );
}

#[tokio::test]
async fn oversized_notices_are_truncated_within_every_limit() {
    let fake = FakeDiscord::start().await;
    let notifier = notifier(&fake, Duration::ZERO);
    let mut huge =
        Notice::new(NoticeKind::Escalation, "🔥".repeat(400), Utc::now()).body("ü".repeat(9000));
    for i in 0..40 {
        huge = huge.field(format!("field {i} {}", "n".repeat(400)), "é".repeat(3000));
    }
    huge = huge.field("", "");
    notifier.notify(&huge).await.unwrap();
    assert_eq!(fake.violations(), Vec::<String>::new());
    let delivered = fake.delivered();
    assert_eq!(delivered.len(), 1);
    let title = delivered[0][0]["title"].as_str().unwrap();
    assert!(title.ends_with('…'));
    assert_eq!(title.chars().count(), 256);
}

#[tokio::test]
async fn a_storm_is_batched_into_messages_of_at_most_ten_embeds() {
    let fake = FakeDiscord::start().await;
    let notifier = Arc::new(notifier(&fake, Duration::from_millis(300)));
    let mut tasks = Vec::new();
    for i in 0..25 {
        let notifier = notifier.clone();
        tasks.push(tokio::spawn(async move {
            notifier
                .notify(&notice(
                    NoticeKind::HostOffline,
                    &format!("host {i} offline"),
                ))
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(fake.violations(), Vec::<String>::new());
    let delivered = fake.delivered();
    assert_eq!(
        delivered.iter().map(Vec::len).sum::<usize>(),
        25,
        "nothing dropped"
    );
    assert!(delivered.iter().all(|m| m.len() <= 10));
    assert!(
        delivered.len() <= 4,
        "{} messages for 25 notices",
        delivered.len()
    );
}

#[tokio::test]
async fn big_embeds_are_split_to_respect_the_6000_total() {
    let fake = FakeDiscord::start().await;
    let notifier = Arc::new(notifier(&fake, Duration::from_millis(300)));
    let mut tasks = Vec::new();
    for i in 0..4 {
        let notifier = notifier.clone();
        tasks.push(tokio::spawn(async move {
            let n = Notice::new(NoticeKind::DailyReport, format!("report {i}"), Utc::now())
                .body("x".repeat(4000));
            notifier.notify(&n).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(fake.violations(), Vec::<String>::new());
    assert_eq!(fake.delivered().len(), 4);
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after() {
    let fake = FakeDiscord::start().await;
    fake.push(Knob::RateLimit(0.4));
    let notifier = notifier(&fake, Duration::ZERO);
    notifier
        .notify(&notice(NoticeKind::Escalation, "escalated"))
        .await
        .unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].at - requests[0].at >= Duration::from_millis(400));
    assert_eq!(fake.delivered().len(), 1);
}

#[tokio::test]
async fn an_empty_bucket_delays_the_next_send() {
    let fake = FakeDiscord::start().await;
    fake.exhaust_bucket_for(Duration::from_millis(500));
    let notifier = notifier(&fake, Duration::ZERO);
    notifier
        .notify(&notice(NoticeKind::HostOffline, "one"))
        .await
        .unwrap();
    notifier
        .notify(&notice(NoticeKind::HostOnline, "two"))
        .await
        .unwrap();
    assert_eq!(
        fake.violations(),
        Vec::<String>::new(),
        "sent into an empty bucket"
    );
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].at - requests[0].at >= Duration::from_millis(500));
}

#[tokio::test]
async fn server_errors_are_retried() {
    let fake = FakeDiscord::start().await;
    fake.push(Knob::Status(502));
    let notifier = notifier(&fake, Duration::ZERO);
    notifier
        .notify(&notice(NoticeKind::Degraded, "degraded"))
        .await
        .unwrap();
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn a_deleted_webhook_is_never_used_again() {
    let fake = FakeDiscord::start().await;
    fake.delete();
    let notifier = notifier(&fake, Duration::ZERO);
    let err = notifier
        .notify(&notice(NoticeKind::Escalation, "first"))
        .await
        .unwrap_err();
    assert!(matches!(err, NotifyError::Rejected { .. }), "{err}");
    assert!(notifier.is_gone());
    let err = notifier
        .notify(&notice(NoticeKind::Escalation, "second"))
        .await
        .unwrap_err();
    assert!(matches!(err, NotifyError::Rejected { .. }), "{err}");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn the_webhook_token_never_shows_in_debug_or_errors() {
    let fake = FakeDiscord::start().await;
    let config = DiscordConfig::new(SecretString::from(fake.webhook_url.clone()));
    assert!(!format!("{config:?}").contains(TOKEN));
    let notifier = DiscordNotifier::new(config).unwrap();
    assert!(!format!("{notifier:?}").contains(TOKEN));
    fake.push(Knob::Status(400));
    let err = notifier
        .notify(&notice(NoticeKind::Escalation, "x"))
        .await
        .unwrap_err();
    assert!(!err.to_string().contains(TOKEN), "{err}");
}
