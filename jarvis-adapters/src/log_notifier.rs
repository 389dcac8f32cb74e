//! The notifier used when no Discord webhook is configured: notices go to the log.

use async_trait::async_trait;
use jarvis_core::domain::Notice;
use jarvis_core::error::NotifyError;
use jarvis_core::ports::Notifier;
use tracing::info;

/// Writes every notice as one structured log line. Never fails.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogNotifier;

impl LogNotifier {
    pub fn new() -> Self {
        LogNotifier
    }
}

#[async_trait]
impl Notifier for LogNotifier {
    async fn notify(&self, notice: &Notice) -> Result<(), NotifyError> {
        let fields = notice
            .fields
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.replace('\n', "; ")))
            .collect::<Vec<_>>()
            .join(" | ");
        info!(
            kind = notice.kind.as_str(),
            incident = notice.incident.map(|i| i.to_string()),
            title = %notice.title,
            body = %notice.body,
            fields = %fields,
            "notice"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jarvis_core::domain::NoticeKind;

    #[tokio::test]
    async fn never_fails() {
        let notice = Notice::new(NoticeKind::Escalation, "Escalated", chrono::Utc::now())
            .field("Tried", "a\nb");
        assert!(LogNotifier::new().notify(&notice).await.is_ok());
    }
}
