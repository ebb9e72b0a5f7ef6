//! Replies the bridge makes itself, in the protocol's shape, for requests it
//! answers without the service (limits, the service being down).

use users_protocol::{ErrorCode, ErrorReply};

/// A protocol-shaped error reply, echoing `request_id` when the request had one.
pub(crate) fn error_json(
    code: ErrorCode,
    message: &str,
    request_id: Option<serde_json::Value>,
) -> String {
    let mut e = ErrorReply::new(code, message);
    e.request_id = request_id;
    serde_json::to_string(&e).unwrap_or_default()
}
