//! Logging: `tracing` with an `EnvFilter` from `JARVIS_LOG` or `RUST_LOG`
//! (default `info`), pretty or JSON (`JARVIS_LOG_FORMAT=json`).

use jarvis_adapters::config::Env;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Later calls (tests) are ignored.
pub fn init(env: &Env) {
    let filter = env
        .get("JARVIS_LOG")
        .or_else(|| env.get("RUST_LOG"))
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("info,sqlx=warn,hyper=warn"));
    let json = env
        .get("JARVIS_LOG_FORMAT")
        .is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
}
