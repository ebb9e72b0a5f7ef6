//! What the bridge logs, and how. The WebSocket library logs every frame at
//! trace level, and frames carry passwords and session tokens: its targets
//! are held at `warn` whatever `RUST_LOG` asks for. `--log-format` chooses
//! plain text, or one JSON object per line for a log pipeline, with
//! `timestamp`, `level`, `target`, `message` and the event's fields.

use tracing_subscriber::EnvFilter;

/// Libraries that log request bodies, and so secrets, below `warn`.
const QUIET: [&str; 2] = ["tungstenite", "tokio_tungstenite"];

/// The directives for `RUST_LOG` (or `info` without it), less anything that
/// would let [`QUIET`] libraries log below `warn`.
fn directives(rust_log: Option<&str>) -> String {
    let asked = rust_log.filter(|s| !s.trim().is_empty()).unwrap_or("info");
    let kept = asked.split(',').map(str::trim).filter(|d| {
        let target = d.split(['=', '[']).next().unwrap_or_default();
        !QUIET
            .iter()
            .any(|q| target == *q || target.starts_with(&format!("{q}::")))
    });
    let quiet = QUIET.iter().map(|q| format!("{q}=warn"));
    kept.map(str::to_owned)
        .chain(quiet)
        .collect::<Vec<_>>()
        .join(",")
}

/// `RUST_LOG` (or `info`), with the WebSocket library held at `warn`; a
/// `RUST_LOG` that does not parse gets the default.
fn filter(rust_log: Option<&str>) -> EnvFilter {
    EnvFilter::try_new(directives(rust_log)).unwrap_or_else(|_| EnvFilter::new(directives(None)))
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the global subscriber, to standard error, filtered by
/// `rust_log` (see [`filter`]).
pub fn init(format: LogFormat, rust_log: Option<&str>) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(rust_log))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_websocket_library_never_logs_below_warn() {
        assert_eq!(
            directives(Some("trace")),
            "trace,tungstenite=warn,tokio_tungstenite=warn"
        );
        assert_eq!(
            directives(Some("debug,tungstenite::protocol=trace,users_bridge=trace")),
            "debug,users_bridge=trace,tungstenite=warn,tokio_tungstenite=warn"
        );
        assert_eq!(
            directives(None),
            "info,tungstenite=warn,tokio_tungstenite=warn"
        );
    }
}
