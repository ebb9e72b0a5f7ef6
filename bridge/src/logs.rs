//! What the bridge logs. The WebSocket library logs every frame at trace
//! level, and frames carry passwords and session tokens: its targets are held
//! at `warn` whatever `RUST_LOG` asks for.

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
pub fn filter(rust_log: Option<&str>) -> EnvFilter {
    EnvFilter::try_new(directives(rust_log)).unwrap_or_else(|_| EnvFilter::new(directives(None)))
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
