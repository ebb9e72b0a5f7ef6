//! The socket loop, the hashing pool and the writer.
//!
//! One ROUTER socket takes every request, or two: the TCP one and the
//! trusted endpoint's (see [`trusted`] and [`routers`]), polled by the same
//! thread. Fast actions are answered on the socket thread; PBKDF2 work goes
//! to a pool of one thread per core; every change goes to a single writer
//! thread, which applies a batch of changes, commits them with one fsync
//! (group commit) and only then lets their replies go. Pool and writer hand
//! replies back over an inproc PULL socket (ZeroMQ sockets are
//! single-threaded), and the socket thread sends each with the envelope its
//! request came with, on the socket it came in on, so REQ and DEALER clients
//! both work and a DEALER may pipeline.
//!
//! - [`envelope`]: reading a message, splitting routing frames from the body.
//! - [`routers`]: the sockets requests come in on, and which one a reply
//!   goes out on.
//! - [`trusted`]: binding the trusted endpoint's socket file.
//! - [`codec`]: request bytes to a request, an outcome to reply bytes.
//! - [`replies`]: how the pool and the writer hand replies back.
//! - [`pool`]: the threads doing slow work.
//! - [`queues`]: how much may wait, per kind of work and per peer.
//! - [`parked`]: requests waiting for this instance to catch up with the
//!   others of a shared store.
//! - [`writer`]: the writer thread and its group commit.
//! - [`threads`]: starting the pool and the writer, and winding them down.
//! - [`error`]: why the server stopped.

pub(crate) mod codec;
pub(crate) mod envelope;
pub(crate) mod error;
pub(crate) mod parked;
pub(crate) mod pool;
pub(crate) mod queues;
pub(crate) mod replies;
pub(crate) mod routers;
pub(crate) mod threads;
pub(crate) mod trusted;
pub(crate) mod writer;

use crate::actions::{self, Attempt, Look, Step};
use crate::app::App;
use crate::auth::peer::{Caller, Peer};
use crate::error::ServiceError;
use crate::storage::Backend;
use parked::ParkingLot;
use pool::SlowJob;
use queues::{QueueLimits, Queues};
use replies::{Handed, ReplyTo, REPLIES};
use routers::{Endpoint, Ready, Routers};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use trusted::TrustedSocket;
use writer::{Job, WriteJob};

pub use error::ServerError;
use threads::Threads;

/// Requests larger than this are dropped by libzmq with the connection; between
/// `max_request_bytes` and this they get a too_large reply.
const HARD_LIMIT: i64 = 16 * 1024 * 1024;
/// How long shutdown waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Messages read from the ROUTER per turn, so replies keep flowing under a flood.
const READ_BURST: usize = 256;

/// Serves on a bound ROUTER socket, and the trusted endpoint's if there is
/// one, until `stop` is set. The caller chooses the port and when to stop,
/// so tests can bind port 0 and stop at will.
pub(crate) fn run(
    app: Arc<App>,
    backend: Box<dyn Backend>,
    ctx: &zmq::Context,
    router: zmq::Socket,
    trusted: Option<TrustedSocket>,
    stop: Arc<AtomicBool>,
) -> Result<(), ServerError> {
    let routers = Routers {
        public: &router,
        trusted: trusted.as_ref().map(TrustedSocket::socket),
    };
    for (_, socket) in routers.all() {
        socket.set_maxmsgsize(HARD_LIMIT)?;
        socket.set_linger(2000)?;
    }
    let replies = ctx.socket(zmq::PULL)?;
    replies.bind(REPLIES)?;
    let queues = Arc::new(Queues::new(QueueLimits {
        slow: app.settings.max_slow_queue,
        slow_per_peer: app.settings.max_slow_per_peer,
        writes: app.settings.max_write_queue,
        trusted_peers: app.settings.throttle.trusted_peers.clone(),
    }));
    let threads = Threads::start(&app, &queues, backend, ctx, &stop)?;
    let served = Front {
        app: &app,
        replies: &replies,
        out: Out {
            app: &app,
            routers: &routers,
            queues: &queues,
            pool_tx: &threads.pool_tx,
            write_tx: &threads.write_tx,
        },
        parked: ParkingLot::default(),
        in_flight: 0,
        shared: threads.shared,
    }
    .serve(&stop);
    // A socket that fails leaves nothing to answer on: stop at once, as
    // the threads' queues close behind.
    served?;
    let fatal = threads.wind_down(&app);
    // Replies made while the threads wound down.
    forward_replies(&replies, &routers);
    match fatal {
        true => Err(ServerError::Fatal),
        false => Ok(()),
    }
}

/// The socket thread: takes requests, passes replies on, and holds the
/// parked requests.
struct Front<'a> {
    app: &'a App,
    replies: &'a zmq::Socket,
    out: Out<'a>,
    parked: ParkingLot,
    /// Replies the pool and the writer still owe.
    in_flight: usize,
    /// Whether other instances share the store (see parked).
    shared: bool,
}

impl Front<'_> {
    /// The loop, until `stop` is set and what is in flight is answered (or
    /// [`DRAIN_TIMEOUT`] has passed).
    fn serve(mut self, stop: &AtomicBool) -> Result<(), zmq::Error> {
        let mut draining_since: Option<Instant> = None;
        let mut last_sweep = Instant::now();
        loop {
            if stop.load(Ordering::SeqCst) && draining_since.is_none() {
                tracing::info!(
                    in_flight = self.in_flight,
                    "stopping: finishing requests in flight"
                );
                draining_since = Some(Instant::now());
            }
            if let Some(since) = draining_since {
                let done = self.in_flight == 0 && self.parked.is_empty();
                if done || since.elapsed() > DRAIN_TIMEOUT {
                    return Ok(());
                }
            }
            let draining = draining_since.is_some();
            let Some(ready) = self.poll(draining)? else {
                continue; // a signal: the loop head reads the flag
            };
            if ready.replies {
                self.pass_replies();
            }
            for endpoint in ready.requests {
                self.take_requests(endpoint)?;
            }
            self.release_parked(draining);
            if last_sweep.elapsed() > Duration::from_secs(60) {
                self.app.sessions.sweep(self.app.clock.now());
                last_sweep = Instant::now();
            }
        }
    }

    /// Waits for replies or requests: what is ready, or `None` when a signal
    /// came. While draining, no new requests are taken: only the replies
    /// still owed.
    fn poll(&self, draining: bool) -> Result<Option<Ready>, zmq::Error> {
        // The writer wakes this loop when a catch-up is done; parked
        // requests that time out are looked at within a few milliseconds.
        let wait = if self.parked.is_empty() { 100 } else { 5 };
        self.out.routers.poll(self.replies, !draining, wait)
    }

    /// Sends on every reply the pool and the writer have made.
    fn pass_replies(&mut self) {
        let passed = forward_replies(self.replies, self.out.routers);
        self.in_flight = self.in_flight.saturating_sub(passed);
    }

    /// Takes up to [`READ_BURST`] requests from `endpoint`'s socket.
    fn take_requests(&mut self, endpoint: Endpoint) -> Result<(), zmq::Error> {
        let Some(socket) = self.out.routers.socket(endpoint) else {
            return Ok(());
        };
        for _ in 0..READ_BURST {
            let Some((frames, peer)) = envelope::recv_request(socket)? else {
                break;
            };
            self.take(frames, peer, endpoint);
        }
        Ok(())
    }

    /// One request: who sent it, what it asks, and where it goes next.
    fn take(&mut self, frames: Vec<Vec<u8>>, peer: Option<String>, endpoint: Endpoint) {
        let since = Instant::now();
        let (envelope, mut body) = envelope::split_envelope(frames);
        let caller = self.caller(&mut body, peer, endpoint);
        let env = match codec::parse(&body, self.app.settings.max_request_bytes) {
            Ok(env) => env,
            Err((e, request_id)) => {
                let to = ReplyTo {
                    endpoint,
                    envelope,
                    request_id,
                    attempt: Attempt::default(),
                    since,
                };
                self.in_flight += self.out.dispatch(to, &caller, Step::Done(Err(e)));
                return;
            }
        };
        tracing::debug!(action = %env.request.action(), "request");
        let to = ReplyTo {
            endpoint,
            envelope,
            request_id: env.request_id,
            attempt: Attempt::of(&env.request, &caller),
            since,
        };
        // See parked: what this instance does not know may be new elsewhere.
        let again = self.shared.then(|| env.request.clone());
        let step = actions::handle(self.app, env.request, &caller, Look::First);
        match again {
            Some(request)
                if parked::may_be_news(&step, &request) && self.parked.has_room(&caller) =>
            {
                let ticket = self.app.follow.request();
                self.parked.park(ticket, to, request, caller);
            }
            // No room to wait: answered from what this instance knows.
            Some(request) if matches!(step, Step::CatchUp) => {
                let step = actions::handle(self.app, request, &caller, Look::Again);
                self.in_flight += self.out.dispatch(to, &caller, step);
            }
            _ => self.in_flight += self.out.dispatch(to, &caller, step),
        }
    }

    /// Who sent a request: the socket's peer, or the client a trusted peer
    /// (the bridge) forwarded in a frame of its own. A peer is trusted by
    /// the socket it came through (the trusted endpoint), or on the TCP one
    /// by an address `--trusted-peer` names. The trusted endpoint's own
    /// peer has no address (its socket file stands for it), and so no
    /// per-peer limit counts it.
    fn caller(&self, body: &mut Vec<Vec<u8>>, peer: Option<String>, endpoint: Endpoint) -> Caller {
        let (direct, trusted) = match endpoint {
            Endpoint::Trusted => (None, true),
            Endpoint::Public => {
                let direct = peer.map(Peer::Direct);
                let trusted_peers = &self.app.settings.throttle.trusted_peers;
                let trusted = direct.as_ref().is_some_and(|p| p.is_trusted(trusted_peers));
                (direct, trusted)
            }
        };
        codec::forwarded_client(body, trusted).unwrap_or(Caller {
            peer: direct,
            agent: None,
        })
    }

    /// Handles again the parked requests whose catch-up came, and refuses
    /// those that waited too long; while draining, every one is handled.
    fn release_parked(&mut self, draining: bool) {
        let app = self.app;
        for (p, came) in self
            .parked
            .ready(|ticket| draining || app.follow.covered(ticket))
        {
            let step = if came {
                actions::handle(app, p.request, &p.caller, Look::Again)
            } else {
                Step::Done(Err(ServiceError::StoreUnavailable(
                    "could not catch up with the other instances".into(),
                )))
            };
            self.in_flight += self.out.dispatch(p.to, &p.caller, step);
        }
    }
}

/// Where the socket thread sends a step.
struct Out<'a> {
    app: &'a App,
    routers: &'a Routers<'a>,
    queues: &'a Queues,
    pool_tx: &'a mpsc::Sender<SlowJob>,
    write_tx: &'a mpsc::Sender<Job>,
}

impl Out<'_> {
    /// Sends a step on its way: its reply now, or its work to the pool or the
    /// writer. Work that cannot wait is turned away at once (see queues).
    /// Returns how many replies the pool and the writer now owe (0 or 1).
    fn dispatch(&self, to: ReplyTo, caller: &Caller, step: Step) -> usize {
        let peer = caller.peer_key();
        match step {
            Step::Done(result) => self.reply(to, result),
            Step::Slow(work) if self.queues.begin_slow(peer.as_deref()) => {
                self.app.metrics.hash_queued();
                let queued = Instant::now();
                let _ = self.pool_tx.send(SlowJob {
                    to,
                    peer,
                    work,
                    queued,
                });
                return 1;
            }
            Step::Write(work) if self.queues.begin_write() => {
                let _ = self
                    .write_tx
                    .send(Job::Write(Box::new(WriteJob { to: Some(to), work })));
                return 1;
            }
            Step::Slow(_) | Step::Write(_) => self.reply(to, Err(ServiceError::Busy)),
            // Actions ask for it only where the store is shared, and there
            // the socket thread parks it: not a path a request takes.
            Step::CatchUp => self.reply(
                to,
                Err(ServiceError::Internal(
                    "a catch-up asked for where no one follows".into(),
                )),
            ),
        }
        0
    }

    /// Replies now, on the socket the request came in on.
    fn reply(&self, to: ReplyTo, result: crate::error::Result<actions::Outcome>) {
        let (endpoint, frames) = to.frames(self.app, result);
        self.routers.send(endpoint, frames);
    }
}

/// Sends on the replies waiting from the pool and the writer, each on the
/// socket its request came in on; returns how many.
fn forward_replies(replies: &zmq::Socket, routers: &Routers) -> usize {
    let mut passed = 0;
    while let Ok(frames) = replies.recv_multipart(zmq::DONTWAIT) {
        match replies::read(frames) {
            // It only woke the loop: see Front::release_parked.
            Some(Handed::Wake) => {}
            Some(Handed::Reply(endpoint, frames)) => {
                passed += 1;
                routers.send(endpoint, frames);
            }
            None => tracing::error!("a hand-back that is neither a reply nor a wake"),
        }
    }
    passed
}
