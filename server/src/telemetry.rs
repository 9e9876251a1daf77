//! Logging with `tracing`. The filter comes from `RUST_LOG`, else `default_filter`.
//!
//! What must never be logged (tokens, national ids, letter contents) is kept
//! out at the source: domain types like `Fnr` redact themselves in `Debug`, and
//! request spans record only method, path and status.

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Installs the global subscriber. Safe to call more than once (tests do):
/// later calls keep the first subscriber.
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt::layer().with_target(true).with_writer(std::io::stderr))
        .try_init();
}
