//! The wire format of one request and one reply: [`parse`] turns a body into a
//! request, or an error that says exactly what is wrong; [`encode`] turns an
//! [`Outcome`] (see [`Outcome::encode`]) or an error into reply bytes, with the
//! request's `request_id`.

use crate::actions::Outcome;
use crate::auth::peer::{Caller, Peer};
use crate::error::{Result, ServiceError};
use serde_json::{Map, Value};
use users_protocol::{Action, NewUser, RequestEnvelope, Sort, UserUpdate};

/// The address a trusted peer (the bridge) forwards for its client, in a
/// second frame after the request: `{"client_address": "203.0.113.9"}`. Such a
/// frame is taken off the body; the client is returned only when `trusted`,
/// and from anyone else the claim is ignored (the request is served, counted
/// under the sender's own address). Any other second frame is left in place,
/// and the request is refused as malformed. Browsers cannot add a frame.
///
/// The client comes back as a [`Peer::Forwarded`] (see [`Peer::key`]). The
/// frame may also carry the browser's `user_agent`, which a session keeps for
/// its owner to see: at most [`MAX_AGENT`] characters, without control
/// characters.
pub(crate) fn forwarded_client(body: &mut Vec<Vec<u8>>, trusted: bool) -> Option<Caller> {
    #[derive(serde::Deserialize)]
    struct Forwarded {
        client_address: std::net::IpAddr,
        #[serde(default)]
        user_agent: Option<String>,
    }
    if body.len() != 2 {
        return None;
    }
    let f: Forwarded = serde_json::from_slice(body.last()?).ok()?;
    body.pop();
    let agent = f.user_agent.map(|a| {
        a.chars()
            .filter(|c| !c.is_control())
            .take(MAX_AGENT)
            .collect()
    });
    trusted.then_some(Caller {
        peer: Some(Peer::Forwarded(f.client_address)),
        agent,
    })
}

/// The longest user agent a session keeps, in characters.
pub(crate) const MAX_AGENT: usize = 256;

/// A request that could not be parsed: the error, and the `request_id` if one
/// could be read.
pub(crate) type Refused = (ServiceError, Option<Value>);

/// Parses a request body, refusing with a clear message whatever is not one
/// request of the protocol.
pub fn parse(body: &[Vec<u8>], max: usize) -> std::result::Result<RequestEnvelope, Refused> {
    let [frame] = body else {
        return Err(invalid(if body.is_empty() {
            "Empty request: send one JSON object"
        } else {
            "A request is exactly one frame holding one JSON object"
        }));
    };
    if frame.len() > max {
        return Err((ServiceError::TooLarge, None));
    }
    if frame.is_empty() {
        return Err(invalid("Empty request: send one JSON object"));
    }
    // The common case in one pass; anything it refuses is parsed again, for
    // a message that says exactly what is wrong.
    match serde_json::from_slice::<RequestEnvelope>(frame) {
        Ok(env) => Ok(env),
        Err(_) => parse_step_by_step(frame),
    }
}

/// Parses `frame` step by step, from its encoding down to its fields, to
/// refuse it for the first thing wrong, with its `request_id` once one can
/// be read.
fn parse_step_by_step(frame: &[u8]) -> std::result::Result<RequestEnvelope, Refused> {
    let Ok(text) = std::str::from_utf8(frame) else {
        return Err(invalid("Request is not UTF-8 text"));
    };
    let value: Value = serde_json::from_str(text)
        .map_err(|e| invalid(&format!("Request is not valid JSON: {e}")))?;
    let Value::Object(map) = &value else {
        return Err(invalid("Request must be a JSON object"));
    };
    let (message, field) = match explain_members(map) {
        Err(why) => why,
        Ok(action) => match serde_json::from_value::<RequestEnvelope>(value.clone()) {
            Ok(env) => return Ok(env),
            Err(e) => (format!("Invalid {action} request: {e}"), None),
        },
    };
    let error = ServiceError::Invalid {
        message,
        field: field.map(str::to_owned),
    };
    Err((error, map.get("request_id").cloned()))
}

/// The request's action, or what is wrong with its members: the action, an
/// unknown field in the user's data, a sort key; with the field at fault.
fn explain_members(
    map: &Map<String, Value>,
) -> std::result::Result<Action, (String, Option<&'static str>)> {
    let Some(name) = map.get("action").and_then(Value::as_str) else {
        return Err(("Missing 'action'".into(), Some("action")));
    };
    let Some(action) = Action::from_name(name) else {
        let expected = Action::NAMES.join(", ");
        let message = format!("Unknown action '{name}'; expected one of {expected}");
        return Err((message, Some("action")));
    };
    type Check = fn(Vec<&str>) -> Vec<&str>;
    let checks: [(&'static str, Check); 2] = [
        ("user_data", |k| NewUser::unknown_members(k)),
        ("update_data", |k| UserUpdate::unknown_members(k)),
    ];
    for (key, unknown_members) in checks {
        if let Some(Value::Object(data)) = map.get(key) {
            let unknown = unknown_members(data.keys().map(String::as_str).collect());
            if !unknown.is_empty() {
                let message = format!("Unknown field(s) in {key}: {}", unknown.join(", "));
                return Err((message, Some(key)));
            }
        }
    }
    if let Some(Value::String(sort)) = map.get("sort") {
        if let Err(message) = sort.parse::<Sort>() {
            return Err((message, Some("sort")));
        }
    }
    Ok(action)
}

/// An `invalid_request` refusal before any `request_id` could be read.
fn invalid(message: &str) -> Refused {
    let error = ServiceError::Invalid {
        message: message.into(),
        field: None,
    };
    (error, None)
}

/// Renders what an action did as reply bytes, with the request_id echoed.
pub(crate) fn encode(result: Result<Outcome>, request_id: Option<Value>) -> Vec<u8> {
    let body = result.and_then(Outcome::encode).unwrap_or_else(|e| {
        match &e {
            ServiceError::Storage(detail) => tracing::error!(%detail, "storage failure"),
            ServiceError::Internal(detail) => tracing::error!(%detail, "internal failure"),
            _ => {}
        }
        serde_json::to_vec(&e.to_reply()).unwrap_or_else(|_| {
            br#"{"status":"error","message":"Internal error","code":"internal"}"#.to_vec()
        })
    });
    match request_id {
        Some(id) => with_request_id(body, &id),
        None => body,
    }
}

/// Adds `"request_id": id` to a serialized JSON object, as its first member.
fn with_request_id(body: Vec<u8>, id: &Value) -> Vec<u8> {
    let Some(rest) = body.strip_prefix(b"{") else {
        return body;
    };
    let mut out = Vec::with_capacity(body.len() + 32);
    out.extend_from_slice(br#"{"request_id":"#);
    // Serializing a Value cannot fail.
    let _ = serde_json::to_writer(&mut out, id);
    if rest.first() != Some(&b'}') {
        out.push(b',');
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use users_protocol::ErrorCode;

    fn frames(parts: &[&[u8]]) -> Vec<Vec<u8>> {
        parts.iter().map(|p| p.to_vec()).collect()
    }

    #[test]
    fn only_a_trusted_peer_may_forward_its_client_address() {
        let body = || {
            frames(&[
                br#"{"action":"health_check"}"#,
                br#"{"client_address":"203.0.113.9"}"#,
            ])
        };
        let mut b = body();
        let key_and_agent = |c: Caller| (c.peer_key().unwrap_or_default(), c.agent);
        assert_eq!(
            forwarded_client(&mut b, true).map(key_and_agent),
            Some(("forwarded:203.0.113.9".to_owned(), None))
        );
        assert!(parse(&b, 100).is_ok());
        let long = format!(
            r#"{{"client_address":"203.0.113.9","user_agent":"Firefox\u0007{}"}}"#,
            "x".repeat(400)
        );
        let mut b = frames(&[br#"{"action":"health_check"}"#, long.as_bytes()]);
        let agent = forwarded_client(&mut b, true).unwrap().agent.unwrap();
        assert!(agent.starts_with("Firefoxx") && agent.chars().count() == MAX_AGENT);
        let mut b = body();
        assert_eq!(
            forwarded_client(&mut b, false),
            None,
            "the claim is ignored"
        );
        assert!(parse(&b, 100).is_ok(), "and the request served");
        let mut b = frames(&[b"{}", br#"{"client_address":"not an address"}"#]);
        assert_eq!(forwarded_client(&mut b, true), None);
        assert!(parse(&b, 100).is_err(), "any other second frame is refused");
    }

    #[test]
    fn request_id_goes_first_in_the_object() {
        let id = serde_json::json!({"n": 1});
        let out = with_request_id(br#"{"status":"success"}"#.to_vec(), &id);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"request_id": {"n": 1}, "status": "success"})
        );
        assert_eq!(
            with_request_id(b"{}".to_vec(), &id),
            br#"{"request_id":{"n":1}}"#
        );
    }

    #[test]
    fn bad_bodies_get_clear_errors() {
        let code = |body: Vec<Vec<u8>>| parse(&body, 100).err().map(|(e, _)| e.code());
        let invalid = Some(ErrorCode::InvalidRequest);
        assert_eq!(code(vec![]), invalid);
        assert_eq!(code(frames(&[b"{}", b"{}"])), invalid);
        assert_eq!(code(frames(&[&[0xff, 0xfe]])), invalid);
        assert_eq!(code(frames(&[b"not json"])), invalid);
        assert_eq!(code(frames(&[b"[1]"])), invalid);
        assert_eq!(code(vec![vec![b' '; 101]]), Some(ErrorCode::TooLarge));
        assert_eq!(code(frames(&[br#"{"action":"fly"}"#])), invalid);
        assert!(parse(&frames(&[br#"{"action":"health_check"}"#]), 100).is_ok());
    }

    #[test]
    fn unknown_fields_are_all_named_and_request_id_kept() {
        let body = frames(&[br#"{"action":"create_user","request_id":9,"user_data":{"username":"a","isadmin":1,"x":2}}"#]);
        let (e, id) = parse(&body, 1000).err().unwrap();
        let msg = e.to_string();
        assert!(msg.contains("isadmin") && msg.contains('x'), "{msg}");
        assert_eq!(id, Some(serde_json::json!(9)));
        assert_eq!(e.to_reply().field.as_deref(), Some("user_data"));
    }

    #[test]
    fn an_unknown_sort_names_the_keys_and_the_field() {
        let body = frames(&[br#"{"action":"list_users","sort":"password_hash"}"#]);
        let (e, _) = parse(&body, 1000).err().unwrap();
        let r = e.to_reply();
        assert_eq!(r.field.as_deref(), Some("sort"));
        assert!(
            r.message.starts_with("Unknown sort 'password_hash'"),
            "{}",
            r.message
        );
        assert!(r.message.contains("created_at"), "{}", r.message);
        let body = frames(&[br#"{"action":"list_users","limit":"Unknown sort"}"#]);
        let (e, _) = parse(&body, 1000).err().unwrap();
        assert_eq!(e.to_reply().field, None);
    }

    #[test]
    fn outcomes_encode_to_the_original_reply_shapes() {
        let v: Value =
            serde_json::from_slice(&encode(Ok(Outcome::Created("alice".into())), None)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"status": "success", "message": "User created successfully", "username": "alice"})
        );
        let v: Value = serde_json::from_slice(&encode(
            Err(ServiceError::SessionInvalid),
            Some(serde_json::json!(3)),
        ))
        .unwrap();
        assert_eq!(v["code"], "session_invalid");
        assert_eq!(v["request_id"], 3);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_bytes_get_an_answer_not_a_panic(
                frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..3)
            ) {
                let _ = parse(&frames, 256);
            }

            #[test]
            fn any_json_object_gets_an_answer_not_a_panic(
                action in "[a-z_]{0,14}",
                key in "[a-z_]{1,14}",
                value in prop_oneof![
                    Just(Value::Null),
                    any::<i64>().prop_map(Value::from),
                    "\\PC{0,20}".prop_map(Value::from),
                ],
            ) {
                let body = serde_json::json!({"action": action, key: value}).to_string();
                let _ = parse(&[body.into_bytes()], 65536);
            }

            #[test]
            fn a_create_user_request_reads_back_as_written(
                username in "[A-Za-z0-9_.-]{3,32}",
                email in "[a-z]{1,10}@[a-z]{1,10}\\.[a-z]{2,5}",
                password in "\\PC{1,40}",
                city in proptest::option::of("\\PC{0,30}"),
                id in any::<u32>(),
            ) {
                let mut user_data = serde_json::json!({
                    "username": username, "email": email, "password": password,
                });
                if let Some(c) = &city {
                    user_data["city"] = Value::from(c.as_str());
                }
                let body = serde_json::json!({"action": "create_user", "request_id": id,
                    "user_data": user_data});
                let env = parse(&[body.to_string().into_bytes()], 65536).unwrap();
                prop_assert_eq!(env.request_id, Some(Value::from(id)));
                let users_protocol::Request::CreateUser { user_data: u, .. } = env.request else {
                    return Err(TestCaseError::fail("not a create_user"));
                };
                prop_assert_eq!(u.username, username);
                prop_assert_eq!(u.email, email);
                prop_assert_eq!(u.password.expose(), password.as_str());
                prop_assert_eq!(
                    u.profile.get(users_protocol::ProfileField::City).map(str::to_owned),
                    city
                );
            }
        }
    }
}
