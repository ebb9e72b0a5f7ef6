//! Asking the service on behalf of a proxied request: the request sent as
//! the browser's, counted for `/metrics`, and its reply's payload or why
//! there is none.

use crate::client_ip::{client_ip, Peer};
use crate::relay::Client;
use crate::state::Shared;
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;
use std::time::Instant;
use users_protocol::response::{parse_reply, ReplyError};
use users_protocol::{ErrorCode, Request, RequestEnvelope};

/// Why a call to the service gave no payload.
pub(super) enum Asking {
    /// The service refused, with this code.
    Refused(ErrorCode),
    /// It did not answer.
    Unavailable,
}

/// Sends `request` to the service for `client`; the reply's payload.
pub(super) async fn ask<T: DeserializeOwned>(
    shared: &Shared,
    request: Request,
    client: Client,
) -> Result<T, Asking> {
    let body = serde_json::to_string(&RequestEnvelope {
        request_id: None,
        request,
    })
    .map_err(|_| Asking::Unavailable)?;
    let started = Instant::now();
    let text = shared
        .services
        .call(
            body.clone().into(),
            Some(client),
            shared.cfg.request_timeout,
        )
        .await
        .map_err(|_| Asking::Unavailable)?;
    shared.metrics.record(&body, &text, Some(started.elapsed()));
    match parse_reply::<T>(&text) {
        Ok(reply) => Ok(reply.data),
        Err(ReplyError::Service(e)) => Err(Asking::Refused(e.code)),
        Err(_) => Err(Asking::Unavailable),
    }
}

/// The client a request to the service is made for.
pub(super) fn client_of(peer: &Peer, headers: &HeaderMap, shared: &Shared) -> Client {
    Client::new(client_ip(peer, headers, &shared.cfg.trusted_proxies), None)
}
