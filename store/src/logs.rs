//! How the processes log (`vereda-api`, `vereda-worker`): one line per event, as JSON when
//! `VEREDA_LOG_FORMAT=json` or when standard output is not a terminal (a file, a pipe, a
//! service manager), as text with colours only on a terminal. `RUST_LOG` filters. Every line of
//! an HTTP request carries its `request_id` (the span the API opens per request).

use std::io::IsTerminal;

/// The format asked for, if any: `json` or `text`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
}

impl Format {
    /// `VEREDA_LOG_FORMAT`, else JSON unless standard output is a terminal.
    pub fn from_env() -> Result<Format, String> {
        match std::env::var("VEREDA_LOG_FORMAT").ok().as_deref() {
            Some("json") => Ok(Format::Json),
            Some("text") => Ok(Format::Text),
            Some(other) => Err(format!("VEREDA_LOG_FORMAT={other:?}: must be json or text")),
            None if std::io::stdout().is_terminal() => Ok(Format::Text),
            None => Ok(Format::Json),
        }
    }
}

/// Install the process's subscriber. `default_filter` applies when `RUST_LOG` is unset.
pub fn init(format: Format, default_filter: &str) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match format {
        Format::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        Format::Text => builder.with_ansi(std::io::stdout().is_terminal()).init(),
    }
}
