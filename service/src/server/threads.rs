//! [`Threads`]: the writer and the pool of slow work behind the socket
//! thread, started together and wound down in order.

use super::error::ServerError;
use super::pool::{self, SlowJob};
use super::queues::Queues;
use super::replies::push_socket;
use super::writer::{self, Job};
use crate::app::App;
use crate::storage::Backend;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// The threads behind the socket: the writer and the pool of slow work.
pub(crate) struct Threads {
    pub(crate) writer: std::thread::JoinHandle<()>,
    pub(crate) workers: Vec<std::thread::JoinHandle<()>>,
    pub(crate) pool_tx: mpsc::Sender<SlowJob>,
    pub(crate) write_tx: mpsc::Sender<Job>,
    pub(crate) fatal: Arc<AtomicBool>,
    /// Whether other instances share the store.
    pub(crate) shared: bool,
}

impl Threads {
    pub(crate) fn start(
        app: &Arc<App>,
        queues: &Arc<Queues>,
        backend: Box<dyn Backend>,
        ctx: &zmq::Context,
        stop: &Arc<AtomicBool>,
    ) -> Result<Threads, ServerError> {
        let fatal = Arc::new(AtomicBool::new(false));
        let (write_tx, write_rx) = mpsc::channel::<Job>();
        let shared = backend.shared();
        let writer = {
            let (app, queues, sock) = (Arc::clone(app), Arc::clone(queues), push_socket(ctx)?);
            let (stop, fatal) = (Arc::clone(stop), Arc::clone(&fatal));
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
        let (pool_tx, pool_rx) = mpsc::channel::<SlowJob>();
        let pool_rx = Arc::new(Mutex::new(pool_rx));
        let mut workers = Vec::new();
        for i in 0..app.settings.workers {
            let (app, queues, rx, wtx, sock) = (
                Arc::clone(app),
                Arc::clone(queues),
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
        Ok(Threads {
            writer,
            workers,
            pool_tx,
            write_tx,
            fatal,
            shared,
        })
    }

    /// Lets the pool finish, then the writer. True if the writer stopped on
    /// a fatal storage error.
    pub(crate) fn wind_down(self, app: &App) -> bool {
        drop(self.pool_tx);
        for w in self.workers {
            let _ = w.join();
        }
        // The wake holds a sender too: the writer ends once both are gone.
        app.follow.set_wake(None);
        drop(self.write_tx);
        let _ = self.writer.join();
        self.fatal.load(Ordering::SeqCst)
    }
}
