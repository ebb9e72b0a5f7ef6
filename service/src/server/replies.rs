//! Handing replies back to the socket thread. ZeroMQ sockets are
//! single-threaded, so the pool and the writer push finished replies over an
//! inproc PUSH socket each, and the socket thread sends them on.

use super::codec::encode;
use crate::actions::{Attempt, Outcome};
use crate::app::App;
use crate::error::Result;
use serde_json::Value;

/// The inproc endpoint the socket thread pulls replies from.
pub(crate) const REPLIES: &str = "inproc://replies";

/// Where a reply goes: the ZeroMQ envelope of its request, and its request_id.
pub(crate) struct ReplyTo {
    /// Routing frames, delimiter included.
    pub envelope: Vec<Vec<u8>>,
    /// Echoed in the reply.
    pub request_id: Option<Value>,
    /// The request, for the audit log should it be refused.
    pub attempt: Attempt,
}

impl ReplyTo {
    /// The whole reply message: the envelope, then the encoded body. Every
    /// reply passes here, whichever step made it, so a refusal is recorded
    /// here too.
    pub(crate) fn frames(self, app: &App, result: Result<Outcome>) -> Vec<Vec<u8>> {
        if let Err(e) = &result {
            self.attempt.refused(app, e);
        }
        let mut frames = self.envelope;
        frames.push(encode(result, self.request_id));
        frames
    }
}

/// A PUSH socket connected to the socket thread.
pub(crate) fn push_socket(ctx: &zmq::Context) -> std::result::Result<zmq::Socket, zmq::Error> {
    let s = ctx.socket(zmq::PUSH)?;
    s.set_linger(1000)?;
    s.connect(REPLIES)?;
    Ok(s)
}

/// Wakes the socket thread without a reply: a catch-up it may have parked
/// requests for is done. An empty message is never a reply (a reply has at
/// least its body).
pub(crate) fn wake(sock: &zmq::Socket) {
    let _ = sock.send(Vec::<u8>::new(), zmq::DONTWAIT);
}

/// True for the message [`wake`] sends.
pub(crate) fn is_wake(frames: &[Vec<u8>]) -> bool {
    matches!(frames, [only] if only.is_empty())
}

/// Sends one reply back to the socket thread.
pub(crate) fn push(app: &App, sock: &zmq::Socket, to: ReplyTo, result: Result<Outcome>) {
    if let Err(e) = sock.send_multipart(to.frames(app, result), 0) {
        tracing::error!(error = %e, "cannot hand a reply to the socket thread");
    }
}
