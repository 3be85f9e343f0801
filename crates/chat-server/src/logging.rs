//! tracing set-up. `RUST_LOG`, when set, replaces `logging.level`.

use tracing_subscriber::{EnvFilter, fmt};

use crate::config::{LogFormat, LoggingConfig};

/// Installs the global subscriber. Call once, from `main`.
pub fn init(config: &LoggingConfig) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.level));
    let builder = fmt().with_env_filter(filter);
    match config.format {
        LogFormat::Pretty => builder.pretty().init(),
        LogFormat::Json => builder.json().init(),
        LogFormat::Compact => builder.compact().init(),
    }
}
