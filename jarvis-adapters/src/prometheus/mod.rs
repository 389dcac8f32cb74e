//! Prometheus and Alertmanager: the HTTP API client ([`PrometheusClient`]), the
//! [`PrometheusVerifier`] that decides whether an alert cleared, trend helpers,
//! and the Alertmanager v2 silences client ([`AlertmanagerClient`]).

mod alertmanager;
mod client;
mod config;
mod error;
mod trend;
mod verifier;

pub use alertmanager::{AlertmanagerClient, Matcher, NewSilence, Silence, SilenceStatus};
pub use client::{
    ActiveAlert, AlertState, AlertingRule, PrometheusClient, QueryResult, RangeSeries, Sample,
    parse_value,
};
pub use config::{AlertmanagerConfig, PrometheusConfig};
pub use error::{AlertmanagerError, ErrorType, PrometheusError};
pub use trend::{LinearFit, deriv_query, fit_line, predict_linear_query, time_to_reach};
pub use verifier::{
    ExprSource, Observation, PrometheusVerifier, VerifyTarget, expr_from_generator_url,
    series_matches,
};
