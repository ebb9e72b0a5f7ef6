//! Handing replies back to the socket thread. ZeroMQ sockets are
//! single-threaded, so the pool and the writer push finished replies over an
//! inproc PUSH socket each, and the socket thread sends them on, on the
//! socket each request came in on: a reply's first frame over inproc is its
//! [`Endpoint`]'s tag.

use super::codec::encode;
use super::routers::Endpoint;
use crate::actions::{Attempt, Outcome};
use crate::app::App;
use crate::error::Result;
use crate::metrics::series::LoginResult;
use serde_json::Value;
use std::time::Instant;
use users_protocol::Action;

/// The inproc endpoint the socket thread pulls replies from.
pub(crate) const REPLIES: &str = "inproc://replies";

/// Where a reply goes: the socket and the ZeroMQ envelope of its request,
/// and its request_id.
pub(crate) struct ReplyTo {
    /// The socket the request came in on.
    pub endpoint: Endpoint,
    /// Routing frames, delimiter included.
    pub envelope: Vec<Vec<u8>>,
    /// Echoed in the reply.
    pub request_id: Option<Value>,
    /// The request, for the audit log should it be refused.
    pub attempt: Attempt,
    /// When the request was read, for its duration in the metrics.
    pub since: Instant,
}

impl ReplyTo {
    /// The socket the reply goes out on, and the whole reply message: the
    /// envelope, then the encoded body. Every reply passes here, whichever
    /// step made it, so a refusal is recorded here too.
    pub(crate) fn frames(self, app: &App, result: Result<Outcome>) -> (Endpoint, Vec<Vec<u8>>) {
        if let Err(e) = &result {
            self.attempt.refused(app, e);
        }
        let action = self.attempt.action();
        let error = result.as_ref().err();
        if matches!(action, Some(Action::Login | Action::PasskeyLoginFinish)) {
            if let Some(r) = LoginResult::of(error) {
                app.metrics.login(r);
            }
        }
        let took = self.since.elapsed();
        app.metrics.request(action, error.map(|e| e.code()), took);
        let mut frames = self.envelope;
        frames.push(encode(result, self.request_id));
        (self.endpoint, frames)
    }
}

/// A message the pool or the writer handed back.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Handed {
    /// A reply, and the socket it goes out on.
    Reply(Endpoint, Vec<Vec<u8>>),
    /// See [`wake`].
    Wake,
}

/// Reads a message the pool or the writer handed back; `None` for one that
/// neither [`push`] nor [`wake`] sent.
pub(crate) fn read(mut frames: Vec<Vec<u8>>) -> Option<Handed> {
    if matches!(&frames[..], [only] if only.is_empty()) {
        return Some(Handed::Wake);
    }
    let endpoint = Endpoint::from_tag(frames.first()?)?;
    frames.remove(0);
    Some(Handed::Reply(endpoint, frames))
}

/// A PUSH socket connected to the socket thread.
pub(crate) fn push_socket(ctx: &zmq::Context) -> std::result::Result<zmq::Socket, zmq::Error> {
    let s = ctx.socket(zmq::PUSH)?;
    s.set_linger(1000)?;
    s.connect(REPLIES)?;
    Ok(s)
}

/// Wakes the socket thread without a reply: a catch-up it may have parked
/// requests for is done. An empty message is never a reply (a reply has its
/// tag and its body).
pub(crate) fn wake(sock: &zmq::Socket) {
    let _ = sock.send(Vec::<u8>::new(), zmq::DONTWAIT);
}

/// Sends one reply back to the socket thread, tagged with its endpoint.
pub(crate) fn push(app: &App, sock: &zmq::Socket, to: ReplyTo, result: Result<Outcome>) {
    let (endpoint, frames) = to.frames(app, result);
    let tagged = std::iter::once(vec![endpoint.tag()]).chain(frames);
    if let Err(e) = sock.send_multipart(tagged, 0) {
        tracing::error!(error = %e, "cannot hand a reply to the socket thread");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_goes_back_to_the_socket_its_request_came_from() {
        let ctx = zmq::Context::new();
        let pull = ctx.socket(zmq::PULL).unwrap();
        pull.bind("inproc://replies-test").unwrap();
        let push_end = ctx.socket(zmq::PUSH).unwrap();
        push_end.connect("inproc://replies-test").unwrap();
        let to = |endpoint| ReplyTo {
            endpoint,
            envelope: vec![b"id".to_vec(), vec![]],
            request_id: None,
            attempt: Attempt::default(),
            since: Instant::now(),
        };
        let app = App::new(
            crate::settings::for_tests(),
            std::sync::Arc::new(crate::clock::SystemClock),
            crate::storage::UserTable::default(),
            false,
        );
        for endpoint in [Endpoint::Trusted, Endpoint::Public] {
            push(
                &app,
                &push_end,
                to(endpoint),
                Err(crate::error::ServiceError::Busy),
            );
            let Some(Handed::Reply(e, frames)) = read(pull.recv_multipart(0).unwrap()) else {
                panic!("not a reply");
            };
            assert_eq!(e, endpoint);
            assert_eq!(frames[..2], [b"id".to_vec(), vec![]]);
            assert_eq!(frames.len(), 3);
        }
        wake(&push_end);
        assert_eq!(read(pull.recv_multipart(0).unwrap()), Some(Handed::Wake));
        assert_eq!(read(vec![b"x".to_vec(), b"{}".to_vec()]), None);
    }
}
