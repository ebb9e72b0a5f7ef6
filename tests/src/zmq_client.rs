//! [`Zmq`]: a REQ client that never waits forever.

use serde_json::Value;
use std::time::Duration;

/// A ZeroMQ REQ client with a receive timeout, so no test waits forever.
pub struct Zmq {
    _ctx: zmq::Context,
    sock: zmq::Socket,
}

impl Zmq {
    /// Connects with a 20 s reply timeout.
    pub fn connect(endpoint: &str) -> Zmq {
        Zmq::connect_timeout(endpoint, Duration::from_secs(20))
    }

    /// Connects with the given reply timeout.
    pub fn connect_timeout(endpoint: &str, timeout: Duration) -> Zmq {
        let ctx = zmq::Context::new();
        let sock = ctx.socket(zmq::REQ).expect("socket");
        sock.set_rcvtimeo(timeout.as_millis() as i32)
            .expect("rcvtimeo");
        sock.set_linger(0).expect("linger");
        sock.connect(endpoint).expect("connect");
        Zmq { _ctx: ctx, sock }
    }

    /// Sends raw frames; returns the raw reply.
    pub fn raw(&self, frames: &[&[u8]]) -> Result<Vec<u8>, String> {
        self.sock
            .send_multipart(frames.iter().copied(), 0)
            .map_err(|e| e.to_string())?;
        self.sock
            .recv_bytes(0)
            .map_err(|e| format!("no reply: {e}"))
    }

    /// Sends a JSON request; returns the JSON reply.
    pub fn call(&self, req: Value) -> Result<Value, String> {
        let bytes = self.raw(&[req.to_string().as_bytes()])?;
        serde_json::from_slice(&bytes).map_err(|e| format!("reply is not JSON: {e}"))
    }

    /// Like [`Zmq::call`], asserting success.
    pub fn call_ok(&self, req: Value) -> Value {
        let action = req["action"].clone();
        let r = self.call(req).expect("reply");
        assert_eq!(r["status"], "success", "{action}: {r}");
        r
    }

    /// Like [`Zmq::call`], asserting an error with `code`.
    pub fn call_err(&self, req: Value, code: &str) -> Value {
        let action = req["action"].clone();
        let r = self.call(req).expect("reply");
        assert_eq!(r["status"], "error", "{action}: {r}");
        assert_eq!(r["code"], code, "{action}: {r}");
        assert!(r["message"].as_str().is_some_and(|m| !m.is_empty()), "{r}");
        r
    }
}

/// Sends every request at once on one DEALER socket, so that the service
/// reads them together however slow the machine; returns the replies, in
/// no particular order.
pub fn pipelined(endpoint: &str, requests: &[Value]) -> Vec<Value> {
    let ctx = zmq::Context::new();
    let s = ctx.socket(zmq::DEALER).expect("socket");
    s.set_rcvtimeo(30_000).expect("rcvtimeo");
    s.set_linger(0).expect("linger");
    s.connect(endpoint).expect("connect");
    for r in requests {
        s.send_multipart([&b""[..], r.to_string().as_bytes()], 0)
            .expect("send");
    }
    (0..requests.len())
        .map(|_| {
            let frames = s.recv_multipart(0).expect("a reply to every request");
            serde_json::from_slice(frames.last().expect("a frame")).expect("a JSON reply")
        })
        .collect()
}
