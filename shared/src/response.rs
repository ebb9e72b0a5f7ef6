//! Replies: `status` and `message` always; `code` (and sometimes `field`) on errors;
//! `request_id` when the request had one; then the action's payload.

use crate::error::ErrorCode;
use crate::secret::Secret;
use crate::user::UserView;
use crate::wire_enum::wire_enum;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `success` or `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The action was carried out.
    Success,
    /// Nothing was changed; see `code`.
    Error,
}

/// A successful reply carrying the payload `T` beside `status` and `message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply<T> {
    /// Always [`Status::Success`] here.
    pub status: Status,
    /// Human-readable description.
    pub message: String,
    /// The request's `request_id`, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Value>,
    /// The action's payload, flattened into the object.
    #[serde(flatten)]
    pub data: T,
}

impl<T> Reply<T> {
    /// A success reply.
    pub fn success(message: impl Into<String>, data: T) -> Self {
        Reply {
            status: Status::Success,
            message: message.into(),
            request_id: None,
            data,
        }
    }
}

/// An error reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// Always [`Status::Error`].
    pub status: Status,
    /// Human-readable description, safe to show to the user.
    pub message: String,
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// The request field at fault, when there is one (for forms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds to wait before retrying, with [`ErrorCode::RateLimited`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The request's `request_id`, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Value>,
}

impl ErrorReply {
    /// An error reply with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorReply {
            status: Status::Error,
            message: message.into(),
            code,
            field: None,
            retry_after: None,
            request_id: None,
        }
    }

    /// Names the request field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

/// No payload: logout and delete_user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Empty {}

/// create_user's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserCreated {
    /// The new account's username.
    pub username: String,
}

/// login's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginReply {
    /// Bearer token for the session's requests.
    pub session_token: Secret,
    /// The logged-in user.
    pub user: UserView,
    /// RFC 3339 time at which the session ends.
    pub expires_at: String,
    /// The account still has the well-known first-admin password: ask for a
    /// new one before anything else. Present only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub password_change_required: bool,
}

/// get_user's and update_user's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserReply {
    /// The user as it is now.
    pub user: UserView,
}

/// list_users' payload; `U` is [`UserView`] for the admin view, [`crate::PublicUser`] otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserList<U> {
    /// This page.
    pub users: Vec<U>,
    /// Users on this page.
    pub count: usize,
    /// Users matching the filters, over all pages.
    pub total: usize,
    /// Users skipped before this page.
    pub offset: usize,
    /// Which view of each user the page holds.
    pub view: ListView,
}

impl<U> UserList<U> {
    /// A page of `users`, out of `total` matches, after skipping `offset`.
    pub fn page(users: Vec<U>, total: usize, offset: usize, view: ListView) -> Self {
        UserList {
            count: users.len(),
            users,
            total,
            offset,
            view,
        }
    }
}

wire_enum! {
    /// Which view of each user a list_users page holds.
    pub enum ListView {
        /// [`UserView`]: for admins and moderators.
        Admin = "admin",
        /// [`crate::PublicUser`]: for everyone else.
        Public = "public",
    }
}

/// health_check's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// Always `users-service`.
    pub service: String,
    /// The service's release.
    pub version: String,
    /// Seconds since the process started.
    pub uptime_seconds: u64,
    /// Stored accounts.
    pub users: usize,
    /// Sessions not yet expired.
    pub active_sessions: usize,
}

/// Why a reply could not be turned into the expected payload.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyError {
    /// The service answered with an error.
    Service(ErrorReply),
    /// The text was not a reply of the expected shape.
    Malformed(String),
}

impl std::fmt::Display for ReplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplyError::Service(e) => write!(f, "{} ({})", e.message, e.code),
            ReplyError::Malformed(m) => write!(f, "malformed reply: {m}"),
        }
    }
}

impl std::error::Error for ReplyError {}

/// Reads a reply: an error reply becomes [`ReplyError::Service`], a success the payload.
pub fn parse_reply<T: DeserializeOwned>(text: &str) -> Result<Reply<T>, ReplyError> {
    let malformed = |e: serde_json::Error| ReplyError::Malformed(e.to_string());
    let value: Value = serde_json::from_str(text).map_err(malformed)?;
    if value.get("status").and_then(Value::as_str) == Some("error") {
        return Err(
            serde_json::from_value::<ErrorReply>(value).map_or_else(malformed, ReplyError::Service)
        );
    }
    // The payload is read from what is left once the envelope's own members
    // are taken out, as `#[serde(flatten)]` would, without the buffered
    // deserialisation it costs for every payload type.
    let Value::Object(mut members) = value else {
        return Err(ReplyError::Malformed("a reply is a JSON object".into()));
    };
    let head = ReplyHead::deserialize(Value::Object(
        ["status", "message", "request_id"]
            .into_iter()
            .filter_map(|k| members.remove_entry(k))
            .collect(),
    ))
    .map_err(malformed)?;
    Ok(Reply {
        status: head.status,
        message: head.message,
        request_id: head.request_id,
        data: serde_json::from_value(Value::Object(members)).map_err(malformed)?,
    })
}

/// The members every success reply has, besides its payload.
#[derive(Deserialize)]
struct ReplyHead {
    status: Status,
    message: String,
    #[serde(default)]
    request_id: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn create_user_reply_has_the_original_fields() {
        let r = Reply::success(
            "User created successfully",
            UserCreated {
                username: "alice".into(),
            },
        );
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"status": "success", "message": "User created successfully", "username": "alice"})
        );
    }

    #[test]
    fn login_and_update_replies_have_the_original_fields() {
        let user: UserView = serde_json::from_value(json!({
            "username": "alice", "email": "alice@example.com", "full_name": "Alice Smith",
            "phone": "", "address": "", "city": "", "country": "", "postal_code": "",
            "date_of_birth": "", "notes": "", "role": "user", "status": "active",
            "created_at": "t", "updated_at": "t", "last_login": null, "metadata": {}
        }))
        .unwrap();
        let login = Reply::success(
            "Login successful",
            LoginReply {
                session_token: Secret::from("abc..xyz"),
                user: user.clone(),
                expires_at: "t2".into(),
                password_change_required: false,
            },
        );
        let v = serde_json::to_value(&login).unwrap();
        assert_eq!(v["status"], "success");
        assert_eq!(v["session_token"], "abc..xyz");
        assert_eq!(v["user"]["username"], "alice");
        let upd = serde_json::to_value(Reply::success("m", UserReply { user })).unwrap();
        assert_eq!(upd["user"]["username"], "alice");
        assert_eq!(
            upd.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["message", "status", "user"]
        );
    }

    #[test]
    fn error_reply_shape() {
        let mut e = ErrorReply::new(ErrorCode::UsernameTaken, "Username already exists")
            .with_field("username");
        e.request_id = Some(json!("r1"));
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"status": "error", "message": "Username already exists",
                   "code": "username_taken", "field": "username", "request_id": "r1"})
        );
    }

    #[test]
    fn parse_reply_splits_success_and_error() {
        let ok: Reply<UserCreated> =
            parse_reply(r#"{"status":"success","message":"m","username":"bob"}"#).unwrap();
        assert_eq!(ok.data.username, "bob");
        let err = parse_reply::<UserCreated>(
            r#"{"status":"error","message":"no","code":"session_invalid"}"#,
        )
        .unwrap_err();
        assert!(matches!(err, ReplyError::Service(e) if e.code == ErrorCode::SessionInvalid));
        assert!(matches!(
            parse_reply::<UserCreated>("nope"),
            Err(ReplyError::Malformed(_))
        ));
    }

    #[test]
    fn a_parsed_reply_reads_as_the_serialized_one_and_its_payload_sees_only_its_own_members() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Strict {
            username: String,
        }
        let mut sent = Reply::success(
            "m",
            Strict {
                username: "bob".into(),
            },
        );
        sent.request_id = Some(Value::from(7));
        let text = serde_json::to_string(&sent).unwrap();
        assert_eq!(parse_reply::<Strict>(&text).unwrap(), sent);
        for bad in [
            r#"["status","success"]"#,
            r#"{"message":"m","username":"bob"}"#,
            r#"{"status":"success","username":"bob"}"#,
            r#"{"status":"success","message":"m"}"#,
        ] {
            assert!(
                matches!(parse_reply::<Strict>(bad), Err(ReplyError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn health_reply_shape() {
        let r = Reply::success(
            "Service is healthy",
            Health {
                service: "users-service".into(),
                version: "0.1.0".into(),
                uptime_seconds: 3,
                users: 1,
                active_sessions: 0,
            },
        );
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["users"], 1);
        assert_eq!(v["status"], "success");
    }
}
