//! The socket loop, the hashing pool and the writer.
//!
//! One ROUTER socket takes every request. Fast actions are answered on the socket
//! thread; PBKDF2 work goes to a pool of one thread per core; every change goes to
//! a single writer thread, which applies a batch of changes, commits them with one
//! fsync (group commit) and only then lets their replies go. Pool and writer hand
//! replies back over an inproc PULL socket (ZeroMQ sockets are single-threaded),
//! and the socket thread sends each with the envelope its request came with, so
//! REQ and DEALER clients both work and a DEALER may pipeline.
//!
//! - [`envelope`]: reading a message, splitting routing frames from the body.
//! - [`codec`]: request bytes to a request, an outcome to reply bytes.
//! - [`replies`]: how the pool and the writer hand replies back.
//! - [`pool`]: the threads doing slow work.
//! - [`queues`]: how much may wait, per kind of work and per peer.
//! - [`parked`]: requests waiting for this instance to catch up with the
//!   others of a shared store.
//! - [`writer`]: the writer thread and its group commit.

pub mod codec;
pub mod envelope;
pub mod parked;
pub mod pool;
pub mod queues;
pub mod replies;
pub mod writer;

use crate::actions::{self, Step};
use crate::app::App;
use crate::auth::peer::is_trusted;
use crate::error::ServiceError;
use crate::storage::Backend;
use parked::ParkingLot;
use pool::SlowJob;
use queues::{QueueLimits, Queues};
use replies::{push_socket, ReplyTo, REPLIES};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use writer::{Job, WriteJob};

/// Requests larger than this are dropped by libzmq with the connection; between
/// `max_request_bytes` and this they get a too_large reply.
const HARD_LIMIT: i64 = 16 * 1024 * 1024;
/// How long shutdown waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Messages read from the ROUTER per turn, so replies keep flowing under a flood.
const READ_BURST: usize = 256;

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A ZeroMQ call failed. The cause is the error's source, not part of
    /// its message: the command line prints both.
    #[error("ZeroMQ")]
    Zmq(#[from] zmq::Error),
    /// A thread could not be started.
    #[error("starting a thread")]
    Thread(#[from] std::io::Error),
    /// The store failed in a way that leaves its state unknown; the service
    /// answered what it owed and stopped.
    #[error("stopped after a fatal storage error (see the log)")]
    Fatal,
}

/// Serves on a bound ROUTER socket until `stop` is set. The caller chooses the
/// port and when to stop, so tests can bind port 0 and stop at will.
pub fn run(
    app: Arc<App>,
    backend: Box<dyn Backend>,
    ctx: &zmq::Context,
    router: zmq::Socket,
    stop: Arc<AtomicBool>,
) -> Result<(), ServerError> {
    router.set_maxmsgsize(HARD_LIMIT)?;
    router.set_linger(2000)?;
    let replies = ctx.socket(zmq::PULL)?;
    replies.bind(REPLIES)?;

    let queues = Arc::new(Queues::new(QueueLimits {
        slow: app.settings.max_slow_queue,
        slow_per_peer: app.settings.max_slow_per_peer,
        writes: app.settings.max_write_queue,
        trusted_peers: app.settings.throttle.trusted_peers.clone(),
    }));
    let fatal = Arc::new(AtomicBool::new(false));
    let (write_tx, write_rx) = mpsc::channel::<Job>();
    let shared = backend.shared();
    let (pool_tx, pool_rx) = mpsc::channel::<SlowJob>();
    let pool_rx = Arc::new(Mutex::new(pool_rx));

    let writer = {
        let (app, queues, sock) = (Arc::clone(&app), Arc::clone(&queues), push_socket(ctx)?);
        let (stop, fatal) = (Arc::clone(&stop), Arc::clone(&fatal));
        std::thread::Builder::new()
            .name("writer".into())
            .spawn(move || {
                writer::writer_loop(&app, &queues, backend, &write_rx, &sock, (&stop, &fatal))
            })?
    };
    if shared {
        // Other instances' commits and sessions this one has not seen yet
        // are read by the writer when asked; ask once now for what was
        // committed while this instance started.
        let tx = Mutex::new(write_tx.clone());
        app.follow.set_wake(Some(Box::new(move || {
            let _ = tx
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .send(Job::Follow);
        })));
        app.follow.request();
    }
    let mut workers = Vec::new();
    for i in 0..app.settings.workers {
        let (app, queues, rx, wtx, sock) = (
            Arc::clone(&app),
            Arc::clone(&queues),
            Arc::clone(&pool_rx),
            write_tx.clone(),
            push_socket(ctx)?,
        );
        workers.push(
            std::thread::Builder::new()
                .name(format!("slow-{i}"))
                .spawn(move || pool::pool_loop(&app, &queues, &rx, &wtx, &sock))?,
        );
    }

    let out = Out {
        router: &router,
        queues: &queues,
        pool_tx: &pool_tx,
        write_tx: &write_tx,
    };
    let mut parked = ParkingLot::default();
    let mut in_flight = 0usize;
    let mut draining_since: Option<Instant> = None;
    let mut last_sweep = Instant::now();
    loop {
        if stop.load(Ordering::SeqCst) && draining_since.is_none() {
            tracing::info!(in_flight, "stopping: finishing requests in flight");
            draining_since = Some(Instant::now());
        }
        if let Some(since) = draining_since {
            if (in_flight == 0 && parked.is_empty()) || since.elapsed() > DRAIN_TIMEOUT {
                break;
            }
        }
        let mut items = [
            replies.as_poll_item(zmq::POLLIN),
            router.as_poll_item(zmq::POLLIN),
        ];
        // While draining, take no new requests: only the replies still owed.
        let n = if draining_since.is_some() { 1 } else { 2 };
        // The writer wakes this loop when a catch-up is done; parked
        // requests that time out are looked at within a few milliseconds.
        let wait = if parked.is_empty() { 100 } else { 5 };
        match zmq::poll(&mut items[..n], wait) {
            Ok(_) => {}
            Err(zmq::Error::EINTR) => continue, // a signal: the loop head reads the flag
            Err(e) => return Err(e.into()),
        }
        if items[0].is_readable() {
            while let Ok(frames) = replies.recv_multipart(zmq::DONTWAIT) {
                if replies::is_wake(&frames) {
                    continue; // see parked below
                }
                in_flight = in_flight.saturating_sub(1);
                send(&router, frames);
            }
        }
        if n == 2 && items[1].is_readable() {
            for _ in 0..READ_BURST {
                let Some((frames, peer)) = envelope::recv_request(&router)? else {
                    break;
                };
                let (envelope, mut body) = envelope::split_envelope(frames);
                let trusted = peer
                    .as_deref()
                    .is_some_and(|p| is_trusted(p, &app.settings.throttle.trusted_peers));
                // The bridge's client, for the per-peer limits, when the bridge says.
                let (peer, agent) = match codec::forwarded_client(&mut body, trusted) {
                    Some((client, agent)) => (Some(client), agent),
                    None => (peer, None),
                };
                let (to, step) = match codec::parse(&body, app.settings.max_request_bytes) {
                    Ok(env) => {
                        tracing::debug!(action = %env.request.action(), "request");
                        let to = ReplyTo {
                            envelope,
                            request_id: env.request_id,
                        };
                        let again = (shared
                            && parked.has_room(peer.as_deref())
                            && env.request.session_token().is_some())
                        .then(|| env.request.clone());
                        match (
                            actions::handle(&app, env.request, peer.clone(), agent),
                            again,
                        ) {
                            // See parked: the session may be new elsewhere.
                            (Step::Done(Err(ServiceError::SessionInvalid)), Some(request)) => {
                                parked.park(app.follow.request(), to, request, peer);
                                continue;
                            }
                            (step, _) => (to, step),
                        }
                    }
                    Err((e, request_id)) => (
                        ReplyTo {
                            envelope,
                            request_id,
                        },
                        Step::Done(Err(e)),
                    ),
                };
                in_flight += out.dispatch(to, peer, step);
            }
        }
        let draining = draining_since.is_some();
        for (p, came) in parked.ready(|ticket| draining || app.follow.covered(ticket)) {
            let step = if came {
                actions::handle(&app, p.request, p.peer.clone(), None)
            } else {
                Step::Done(Err(ServiceError::StoreUnavailable(
                    "could not catch up with the other instances".into(),
                )))
            };
            in_flight += out.dispatch(p.to, p.peer, step);
        }
        if last_sweep.elapsed() > Duration::from_secs(60) {
            app.sessions.sweep(app.clock.now());
            last_sweep = Instant::now();
        }
    }
    drop(pool_tx);
    for w in workers {
        let _ = w.join();
    }
    // The wake holds a sender too: the writer ends once both are gone.
    app.follow.set_wake(None);
    drop(write_tx);
    let _ = writer.join();
    // Replies made while the threads wound down.
    while let Ok(frames) = replies.recv_multipart(zmq::DONTWAIT) {
        if !replies::is_wake(&frames) {
            send(&router, frames);
        }
    }
    if fatal.load(Ordering::SeqCst) {
        return Err(ServerError::Fatal);
    }
    Ok(())
}

/// Where the socket thread sends a step.
struct Out<'a> {
    router: &'a zmq::Socket,
    queues: &'a Queues,
    pool_tx: &'a mpsc::Sender<SlowJob>,
    write_tx: &'a mpsc::Sender<Job>,
}

impl Out<'_> {
    /// Sends a step on its way: its reply now, or its work to the pool or the
    /// writer. Work that cannot wait is turned away at once (see queues).
    /// Returns how many replies the pool and the writer now owe (0 or 1).
    fn dispatch(&self, to: ReplyTo, peer: Option<String>, step: Step) -> usize {
        match step {
            Step::Done(result) => send(self.router, to.frames(result)),
            Step::Slow(work) if self.queues.begin_slow(peer.as_deref()) => {
                let _ = self.pool_tx.send(SlowJob { to, peer, work });
                return 1;
            }
            Step::Write(work) if self.queues.begin_write() => {
                let _ = self
                    .write_tx
                    .send(Job::Write(WriteJob { to: Some(to), work }));
                return 1;
            }
            Step::Slow(_) | Step::Write(_) => send(self.router, to.frames(Err(ServiceError::Busy))),
        }
        0
    }
}

fn send(router: &zmq::Socket, frames: Vec<Vec<u8>>) {
    if let Err(e) = router.send_multipart(frames, 0) {
        tracing::warn!(error = %e, "reply not delivered");
    }
}
