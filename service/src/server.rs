//! The socket loop, the hashing pool and the writer.
//!
//! One ROUTER socket takes every request. Fast actions are answered on the socket
//! thread; PBKDF2 work goes to a pool of one thread per core; every change goes to
//! a single writer thread, which applies a batch of changes, journals them with one
//! fsync (group commit) and only then lets their replies go. Pool and writer hand
//! replies back over an inproc PULL socket (ZeroMQ sockets are single-threaded),
//! and the socket thread sends each with the envelope its request came with, so
//! REQ and DEALER clients both work and a DEALER may pipeline.

use crate::actions::{self, Step, WriteFn};
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::error::{Result, ServiceError};
use crate::sessions::SessionStore;
use crate::store::Store;
use crate::throttle::{Throttle, ThrottleConfig};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};
use users_protocol::request::{NEW_USER_FIELDS, UPDATE_FIELDS};
use users_protocol::RequestEnvelope;

const REPLIES: &str = "inproc://replies";
/// Requests larger than this are dropped by libzmq with the connection; between
/// `max_request_bytes` and this they get a too_large reply.
const HARD_LIMIT: i64 = 16 * 1024 * 1024;
/// Requests waiting for the hashing pool or the writer before new ones are refused.
const MAX_QUEUED: usize = 4096;
/// How long shutdown waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// State shared by the socket thread, the pool and the writer.
pub struct Service {
    /// Settings.
    pub cfg: Config,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Start of this process, for uptime.
    pub started: Instant,
    db: RwLock<Db>,
    sessions: Mutex<SessionStore>,
    throttle: Mutex<Throttle>,
}

impl Service {
    /// Shared state over a loaded table.
    pub fn new(cfg: Config, clock: Arc<dyn Clock>, db: Db) -> Self {
        let throttle = Throttle::new(ThrottleConfig {
            free_failures: cfg.throttle_failures,
            peer_free_failures: cfg.throttle_peer_failures,
            base_delay: Duration::from_secs(1),
            max_delay: cfg.throttle_max_delay,
            trusted_peers: cfg.trusted_peers.clone(),
        });
        Service {
            sessions: Mutex::new(SessionStore::new(cfg.session_lifetime)),
            cfg,
            clock,
            started: Instant::now(),
            db: RwLock::new(db),
            throttle: Mutex::new(throttle),
        }
    }

    // A panic while holding a lock must not take the service down with it: the
    // data under these locks is consistent between statements, so go on.
    /// The table, for reading.
    pub fn read_db(&self) -> RwLockReadGuard<'_, Db> {
        self.db.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_db(&self) -> std::sync::RwLockWriteGuard<'_, Db> {
        self.db.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The session table.
    pub fn lock_sessions(&self) -> MutexGuard<'_, SessionStore> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The login throttle.
    pub fn lock_throttle(&self) -> MutexGuard<'_, Throttle> {
        self.throttle.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Where a reply goes: the ZeroMQ envelope of its request, and its request_id.
struct ReplyTo {
    envelope: Vec<Vec<u8>>,
    request_id: Option<Value>,
}

struct PoolJob {
    to: ReplyTo,
    work: Box<dyn FnOnce(&Service) -> Step + Send>,
}

struct WriteJob {
    to: ReplyTo,
    work: WriteFn,
}

/// Renders a result as reply bytes, with the request_id echoed.
fn encode(result: Result<Vec<u8>>, request_id: Option<Value>) -> Vec<u8> {
    let body = match result {
        Ok(body) => body,
        Err(e) => {
            if let ServiceError::Storage(detail) = &e {
                tracing::error!(%detail, "storage failure");
            }
            serde_json::to_vec(&e.to_reply()).unwrap_or_else(|_| {
                br#"{"status":"error","message":"Internal error","code":"internal"}"#.to_vec()
            })
        }
    };
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

/// Sends one reply back to the socket thread from a pool or writer thread.
fn push(sock: &zmq::Socket, to: ReplyTo, result: Result<Vec<u8>>) {
    let body = encode(result, to.request_id);
    let mut frames = to.envelope;
    frames.push(body);
    if let Err(e) = sock.send_multipart(frames, 0) {
        tracing::error!(error = %e, "cannot hand a reply to the socket thread");
    }
}

/// Splits a ROUTER message into its envelope (identity, any further routing
/// frames, and the empty delimiter if there is one) and its body frames.
fn split_envelope(mut frames: Vec<Vec<u8>>) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let cut = frames
        .iter()
        .skip(1)
        .position(Vec::is_empty)
        .map_or(1, |i| i + 2)
        .min(frames.len());
    let body = frames.split_off(cut);
    (frames, body)
}

/// Parses a request body, refusing with a clear message whatever is not one
/// request of the protocol.
fn parse(
    body: &[Vec<u8>],
    max: usize,
) -> std::result::Result<RequestEnvelope, (ServiceError, Option<Value>)> {
    let invalid = |m: &str| {
        (
            ServiceError::Invalid {
                message: m.into(),
                field: None,
            },
            None,
        )
    };
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
    // The common case in one pass; anything it refuses is parsed again below,
    // for a message that says exactly what is wrong.
    if let Ok(env) = serde_json::from_slice::<RequestEnvelope>(frame) {
        return Ok(env);
    }
    let Ok(text) = std::str::from_utf8(frame) else {
        return Err(invalid("Request is not UTF-8 text"));
    };
    let value: Value = serde_json::from_str(text)
        .map_err(|e| invalid(&format!("Request is not valid JSON: {e}")))?;
    let Value::Object(map) = &value else {
        return Err(invalid("Request must be a JSON object"));
    };
    let request_id = map.get("request_id").cloned();
    let fail = |message: String, field: Option<&str>| {
        Err((
            ServiceError::Invalid {
                message,
                field: field.map(str::to_owned),
            },
            request_id.clone(),
        ))
    };
    let Some(action) = map.get("action").and_then(Value::as_str) else {
        return fail("Missing 'action'".into(), Some("action"));
    };
    if !users_protocol::request::ACTIONS.contains(&action) {
        return fail(
            format!(
                "Unknown action '{action}'; expected one of {}",
                users_protocol::request::ACTIONS.join(", ")
            ),
            Some("action"),
        );
    }
    for (key, allowed) in [
        ("user_data", &NEW_USER_FIELDS[..]),
        ("update_data", &UPDATE_FIELDS[..]),
    ] {
        if let Some(Value::Object(data)) = map.get(key) {
            let unknown: Vec<&str> = data
                .keys()
                .map(String::as_str)
                .filter(|k| !allowed.contains(k))
                .collect();
            if !unknown.is_empty() {
                return fail(
                    format!("Unknown field(s) in {key}: {}", unknown.join(", ")),
                    Some(key),
                );
            }
        }
    }
    serde_json::from_value::<RequestEnvelope>(value.clone()).map_err(|e| {
        (
            ServiceError::Invalid {
                message: format!("Invalid {action} request: {e}"),
                field: None,
            },
            request_id,
        )
    })
}

/// A bound ROUTER socket plus the stop signal: the caller chooses the port and
/// when to stop, so tests can bind port 0 and stop at will.
pub fn run(
    svc: Arc<Service>,
    store: Store,
    ctx: &zmq::Context,
    router: zmq::Socket,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    router.set_maxmsgsize(HARD_LIMIT)?;
    router.set_linger(2000)?;
    let replies = ctx.socket(zmq::PULL)?;
    replies.bind(REPLIES)?;

    let (write_tx, write_rx) = mpsc::channel::<WriteJob>();
    let (pool_tx, pool_rx) = mpsc::channel::<PoolJob>();
    let pool_rx = Arc::new(Mutex::new(pool_rx));

    let writer = {
        let (svc, sock) = (Arc::clone(&svc), push_socket(ctx)?);
        std::thread::Builder::new()
            .name("writer".into())
            .spawn(move || writer_loop(&svc, store, &write_rx, &sock))?
    };
    let mut workers = Vec::new();
    for i in 0..svc.cfg.worker_count() {
        let (svc, rx, wtx, sock) = (
            Arc::clone(&svc),
            Arc::clone(&pool_rx),
            write_tx.clone(),
            push_socket(ctx)?,
        );
        workers.push(
            std::thread::Builder::new()
                .name(format!("hash-{i}"))
                .spawn(move || pool_loop(&svc, &rx, &wtx, &sock))?,
        );
    }

    let mut in_flight = 0usize;
    let mut draining_since: Option<Instant> = None;
    let mut last_sweep = Instant::now();
    loop {
        if stop.load(Ordering::SeqCst) && draining_since.is_none() {
            tracing::info!(in_flight, "stopping: finishing requests in flight");
            draining_since = Some(Instant::now());
        }
        if let Some(since) = draining_since {
            if in_flight == 0 || since.elapsed() > DRAIN_TIMEOUT {
                break;
            }
        }
        let mut items = [
            replies.as_poll_item(zmq::POLLIN),
            router.as_poll_item(zmq::POLLIN),
        ];
        // While draining, take no new requests: only the replies still owed.
        let n = if draining_since.is_some() { 1 } else { 2 };
        match zmq::poll(&mut items[..n], 100) {
            Ok(_) => {}
            Err(zmq::Error::EINTR) => continue, // a signal: the loop head reads the flag
            Err(e) => return Err(e.into()),
        }
        if items[0].is_readable() {
            while let Ok(frames) = replies.recv_multipart(zmq::DONTWAIT) {
                in_flight = in_flight.saturating_sub(1);
                if let Err(e) = router.send_multipart(frames, 0) {
                    tracing::warn!(error = %e, "reply not delivered");
                }
            }
        }
        if n == 2 && items[1].is_readable() {
            // Bounded, so replies keep flowing under a flood of requests.
            for _ in 0..256 {
                let Some((frames, peer)) = recv_request(&router)? else {
                    break;
                };
                let (envelope, body) = split_envelope(frames);
                let (to, step) = match parse(&body, svc.cfg.max_request_bytes) {
                    Ok(env) => {
                        tracing::debug!(action = env.request.action(), "request");
                        let to = ReplyTo {
                            envelope,
                            request_id: env.request_id,
                        };
                        (to, actions::handle(&svc, env.request, peer))
                    }
                    Err((e, request_id)) => (
                        ReplyTo {
                            envelope,
                            request_id,
                        },
                        Step::Done(Err(e)),
                    ),
                };
                // A flood of slow requests must not queue without bound: past
                // the limit they are turned away at once.
                let step = match step {
                    Step::Hash(_) | Step::Write(_) if in_flight >= MAX_QUEUED => {
                        Step::Done(Err(ServiceError::Busy))
                    }
                    step => step,
                };
                match step {
                    Step::Done(result) => {
                        let mut frames = to.envelope;
                        frames.push(encode(result, to.request_id));
                        if let Err(e) = router.send_multipart(frames, 0) {
                            tracing::warn!(error = %e, "reply not delivered");
                        }
                    }
                    Step::Hash(work) => {
                        in_flight += 1;
                        let _ = pool_tx.send(PoolJob { to, work });
                    }
                    Step::Write(work) => {
                        in_flight += 1;
                        let _ = write_tx.send(WriteJob { to, work });
                    }
                }
            }
        }
        if last_sweep.elapsed() > Duration::from_secs(60) {
            svc.lock_sessions().sweep(svc.clock.now());
            last_sweep = Instant::now();
        }
    }
    drop(pool_tx);
    for w in workers {
        let _ = w.join();
    }
    drop(write_tx);
    let _ = writer.join();
    // Replies made while the threads wound down.
    while let Ok(frames) = replies.recv_multipart(zmq::DONTWAIT) {
        let _ = router.send_multipart(frames, 0);
    }
    Ok(())
}

/// A message's frames and the address of the peer that sent it.
type Incoming = (Vec<Vec<u8>>, Option<String>);

/// One whole message from the ROUTER socket, if one is waiting.
fn recv_request(router: &zmq::Socket) -> anyhow::Result<Option<Incoming>> {
    let mut frames = Vec::new();
    let mut peer = None;
    loop {
        let mut msg = match router.recv_msg(zmq::DONTWAIT) {
            Ok(m) => m,
            Err(zmq::Error::EAGAIN | zmq::Error::EINTR) if frames.is_empty() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if peer.is_none() {
            peer = msg.gets("Peer-Address").map(str::to_owned);
        }
        let more = msg.get_more();
        frames.push(msg.to_vec());
        if !more {
            return Ok(Some((frames, peer)));
        }
    }
}

fn push_socket(ctx: &zmq::Context) -> anyhow::Result<zmq::Socket> {
    let s = ctx.socket(zmq::PUSH)?;
    s.set_linger(1000)?;
    s.connect(REPLIES)?;
    Ok(s)
}

fn pool_loop(
    svc: &Service,
    rx: &Mutex<Receiver<PoolJob>>,
    write_tx: &Sender<WriteJob>,
    sock: &zmq::Socket,
) {
    loop {
        let job = match rx.lock().unwrap_or_else(|e| e.into_inner()).recv() {
            Ok(j) => j,
            Err(_) => return,
        };
        match (job.work)(svc) {
            Step::Done(result) => push(sock, job.to, result),
            Step::Write(work) => {
                let _ = write_tx.send(WriteJob { to: job.to, work });
            }
            Step::Hash(_) => push(
                sock,
                job.to,
                Err(ServiceError::Storage("nested hash step".into())),
            ),
        }
    }
}

/// Largest number of changes in one group commit.
const MAX_BATCH: usize = 512;

fn writer_loop(svc: &Service, mut store: Store, rx: &Receiver<WriteJob>, sock: &zmq::Socket) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let mut done = Vec::with_capacity(batch.len());
        let changes = {
            let mut db = svc.write_db();
            for job in batch {
                let mark = db.mark();
                match (job.work)(svc, &mut db) {
                    Ok(written) => done.push((job.to, written)),
                    Err(e) => {
                        db.rollback_to(mark);
                        push(sock, job.to, Err(e));
                    }
                }
            }
            db.take_changes()
        };
        // Readers may see these changes during the fsync; no one is told they
        // happened until it succeeds.
        match store.commit(&changes) {
            Ok(()) => {
                svc.write_db().forget_undo();
                let mut sessions = svc.lock_sessions();
                for (_, w) in &mut done {
                    for op in w.sessions.drain(..) {
                        sessions.apply(op);
                    }
                }
                drop(sessions);
                for (to, w) in done {
                    push(sock, to, Ok(w.reply));
                }
            }
            Err(e) => {
                svc.write_db().rollback_all();
                tracing::error!(error = %e, changes = changes.len(), "journal write failed; changes undone");
                for (to, _) in done {
                    push(sock, to, Err(ServiceError::Storage(e.to_string())));
                }
            }
        }
        if let Err(e) = store.maybe_compact(|| svc.read_db().all()) {
            tracing::error!(error = %e, "snapshot failed; the journal keeps every change");
        }
    }
    if let Err(e) = store.finish_compaction() {
        tracing::error!(error = %e, "snapshot failed at shutdown; the journal keeps every change");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Written;
    use crate::clock::SystemClock;
    use crate::store::StoreOptions;
    use clap::Parser;

    #[test]
    fn a_failed_commit_is_undone_in_memory_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store_path = dir.path().join("u.json");
        let cfg = Config::parse_from(["users-service", "0", store_path.to_str().unwrap()]);
        let opts = StoreOptions {
            kdf_iterations: 1000,
            compact_after: 1000,
        };
        let mut opened = Store::open(&store_path, "m", &opts).unwrap();
        opened.store.break_for_test();
        let svc = Arc::new(Service::new(cfg, Arc::new(SystemClock), Db::default()));
        let ctx = zmq::Context::new();
        let pull = ctx.socket(zmq::PULL).unwrap();
        pull.bind(REPLIES).unwrap();
        let push = push_socket(&ctx).unwrap();
        let (tx, rx) = mpsc::channel();
        let writer = {
            let svc = Arc::clone(&svc);
            std::thread::spawn(move || writer_loop(&svc, opened.store, &rx, &push))
        };
        let to = ReplyTo {
            envelope: vec![b"peer".to_vec()],
            request_id: None,
        };
        let work: WriteFn = Box::new(|_, db| {
            db.put(None, crate::db::tests::record("ghost", "ghost@example.com"));
            Ok(Written {
                reply: b"{}".to_vec(),
                sessions: vec![],
            })
        });
        tx.send(WriteJob { to, work }).unwrap();
        let frames = pull.recv_multipart(0).unwrap();
        let v: Value = serde_json::from_slice(&frames[1]).unwrap();
        assert_eq!(v["code"], "internal", "{v}");
        assert!(
            svc.read_db().get("ghost").is_none(),
            "memory agrees with disk"
        );
        drop(tx);
        writer.join().unwrap();
        let reopened = Store::open(&store_path, "m", &opts).unwrap();
        assert!(reopened.users.is_empty());
    }

    fn frames(parts: &[&[u8]]) -> Vec<Vec<u8>> {
        parts.iter().map(|p| p.to_vec()).collect()
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
    fn envelopes_of_req_and_dealer_clients() {
        let (env, body) = split_envelope(frames(&[b"id", b"", b"{}"]));
        assert_eq!((env.len(), body), (2, frames(&[b"{}"])));
        let (env, body) = split_envelope(frames(&[b"id", b"{}"]));
        assert_eq!((env.len(), body), (1, frames(&[b"{}"])));
        let (env, body) = split_envelope(frames(&[b"id", b""]));
        assert_eq!((env.len(), body.len()), (2, 0));
    }

    #[test]
    fn bad_bodies_get_clear_errors() {
        let code = |body: Vec<Vec<u8>>| parse(&body, 100).err().map(|(e, _)| e.code().as_str());
        assert_eq!(code(vec![]), Some("invalid_request"));
        assert_eq!(code(frames(&[b"{}", b"{}"])), Some("invalid_request"));
        assert_eq!(code(frames(&[&[0xff, 0xfe]])), Some("invalid_request"));
        assert_eq!(code(frames(&[b"not json"])), Some("invalid_request"));
        assert_eq!(code(frames(&[b"[1]"])), Some("invalid_request"));
        assert_eq!(code(vec![vec![b' '; 101]]), Some("too_large"));
        assert_eq!(
            code(frames(&[br#"{"action":"fly"}"#])),
            Some("invalid_request")
        );
        assert!(parse(&frames(&[br#"{"action":"health_check"}"#]), 100).is_ok());
    }

    #[test]
    fn unknown_fields_are_all_named_and_request_id_kept() {
        let body = frames(&[br#"{"action":"create_user","request_id":9,"user_data":{"username":"a","isadmin":1,"x":2}}"#]);
        let (e, id) = parse(&body, 1000).err().unwrap();
        let msg = e.to_string();
        assert!(msg.contains("isadmin") && msg.contains('x'), "{msg}");
        assert_eq!(id, Some(serde_json::json!(9)));
    }
}
