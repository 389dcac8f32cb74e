//! The backends behind the planner's `query_loki_logs`, `query_metric_history`
//! and `get_runbook` tools: Loki, Prometheus and the runbook library.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jarvis_core::domain::Runbook;
use jarvis_core::error::BoxError;
use jarvis_core::runbook::RunbookLibrary;

use super::tools::{LogLine, LogSource, MetricSeries, MetricSource, RunbookSource};
use crate::loki::{LokiClient, LokiQuery};
use crate::prometheus::{PrometheusClient, RangeSeries};

/// Loki as the planner's log source.
#[derive(Clone, Debug)]
pub struct LokiLogs(pub LokiClient);

#[async_trait]
impl LogSource for LokiLogs {
    async fn query_logs(
        &self,
        query: &str,
        since: Duration,
        limit: usize,
    ) -> Result<Vec<LogLine>, BoxError> {
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let result = self
            .0
            .query_range(&LokiQuery::last(query, Utc::now(), since, limit))
            .await?;
        Ok(log_lines(result.streams()))
    }
}

fn log_lines(streams: &[crate::loki::LogStream]) -> Vec<LogLine> {
    let mut lines: Vec<LogLine> = streams
        .iter()
        .flat_map(|s| {
            s.entries.iter().map(|e| LogLine {
                at: DateTime::from_timestamp_nanos(e.timestamp_ns),
                labels: s.labels.clone(),
                line: e.line.clone(),
            })
        })
        .collect();
    // Newest first across streams, as the tool promises.
    lines.sort_by_key(|l| std::cmp::Reverse(l.at));
    lines
}

/// Prometheus as the planner's metric source.
#[derive(Clone, Debug)]
pub struct PrometheusMetrics(pub PrometheusClient);

/// About 120 points per series whatever the window, never finer than 15 s.
fn step_for(since: Duration) -> Duration {
    (since / 120).max(Duration::from_secs(15))
}

#[async_trait]
impl MetricSource for PrometheusMetrics {
    async fn query_range(
        &self,
        query: &str,
        since: Duration,
    ) -> Result<Vec<MetricSeries>, BoxError> {
        let end = Utc::now();
        let start = end - chrono::Duration::from_std(since)?;
        let series = self
            .0
            .query_range(query, start, end, step_for(since))
            .await?;
        Ok(series.into_iter().map(metric_series).collect())
    }
}

fn metric_series(s: RangeSeries) -> MetricSeries {
    MetricSeries {
        labels: s.metric,
        points: s
            .points
            .into_iter()
            .filter_map(|(t, v)| {
                let at = DateTime::from_timestamp_millis((t * 1000.0).round() as i64)?;
                Some((at, v))
            })
            .collect(),
    }
}

/// The pipeline's runbook library (reloads included) as the planner's runbook source.
#[derive(Clone, Debug)]
pub struct LibraryRunbooks(pub Arc<RwLock<RunbookLibrary>>);

impl RunbookSource for LibraryRunbooks {
    fn runbook(&self, alert_name: &str) -> Option<Runbook> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .find(alert_name)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use jarvis_core::domain::Labels;

    use super::*;
    use crate::loki::{LogEntry, LogStream};

    #[test]
    fn log_lines_are_newest_first_across_streams() {
        let stream = |app: &str, ts: &[i64]| LogStream {
            labels: Labels::from([("app".to_string(), app.to_string())]),
            entries: ts
                .iter()
                .map(|t| LogEntry {
                    timestamp_ns: *t,
                    line: format!("{app} {t}"),
                })
                .collect(),
        };
        let lines = log_lines(&[
            stream("a", &[3_000_000_000, 1_000_000_000]),
            stream("b", &[2_000_000_000]),
        ]);
        let order: Vec<&str> = lines.iter().map(|l| l.line.as_str()).collect();
        assert_eq!(order, ["a 3000000000", "b 2000000000", "a 1000000000"]);
        assert_eq!(lines[1].labels["app"], "b");
        assert_eq!(lines[0].at.timestamp(), 3);
    }

    #[test]
    fn metric_points_keep_their_times_and_steps_scale_with_the_window() {
        let s = metric_series(RangeSeries {
            metric: Labels::new(),
            points: vec![(1_700_000_000.5, 1.0), (1_700_000_015.5, 2.0)],
        });
        assert_eq!(s.points.len(), 2);
        assert_eq!(s.points[1].0.timestamp_millis(), 1_700_000_015_500);
        assert_eq!(step_for(Duration::from_secs(60)), Duration::from_secs(15));
        assert_eq!(
            step_for(Duration::from_secs(24 * 3600)),
            Duration::from_secs(720)
        );
    }

    #[test]
    fn runbooks_follow_reloads_of_the_library() {
        let lib = Arc::new(RwLock::new(RunbookLibrary::default()));
        let source = LibraryRunbooks(lib.clone());
        assert!(source.runbook("ContainerDown").is_none());
        let runbook = Runbook {
            alert_name: "ContainerDown".into(),
            ..Runbook::default()
        };
        *lib.write().unwrap() = RunbookLibrary::new(vec![runbook]);
        assert_eq!(
            source.runbook("ContainerDown").map(|r| r.alert_name),
            Some("ContainerDown".to_string())
        );
    }
}
