//! Opening the store, creating the first admin, building the [`App`], and
//! on a shared store the listener and the relayed throttle: everything
//! `users-service serve` does before it takes requests ([`Service::open`]).

use crate::app::App;
use crate::auth::password;
use crate::auth::relay::RelayedThrottle;
use crate::auth::sessions::SessionOp;
use crate::auth::throttle::ThrottleStore;
use crate::cli::ServeArgs;
use crate::clock::{rfc3339, Clock, SystemClock};
use crate::metrics::series::Metrics;
use crate::metrics::serve;
use crate::model::{User, UserId};
use crate::server::trusted::TrustedSocket;
use crate::server::{self, ServerError};
use crate::settings::Settings;
use crate::storage::file::{FileOptions, FileStore};
use crate::storage::postgres::listen::Listener;
use crate::storage::postgres::store::PgStore;
use crate::storage::{Backend, StorageError, UserTable};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use users_protocol::{ProfileField, Role, Secret};

/// The first admin's username.
pub(crate) const ADMIN_USERNAME: &str = "admin";
/// The first admin's password when none is configured, as the original documents.
pub(crate) use crate::auth::policy::DEFAULT_ADMIN_PASSWORD;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened, or the first admin not created.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The thread that hears the other instances could not be started.
    #[error("starting the listener")]
    Listener(#[source] std::io::Error),
    /// Flags that do not go together; the text says which.
    #[error("{0}")]
    Config(String),
    /// `--metrics-listen`'s address could not be bound.
    #[error("--metrics-listen {0}")]
    Metrics(std::net::SocketAddr, #[source] std::io::Error),
}

/// The service, opened and ready to serve.
pub struct Service {
    app: Arc<App>,
    backend: Box<dyn Backend>,
    /// `--metrics-listen`'s socket, bound, and who besides loopback may
    /// read it.
    metrics: Option<(std::net::TcpListener, Vec<std::net::IpAddr>)>,
    /// A file store's file, for its disk space in the metrics.
    store_file: Option<std::path::PathBuf>,
}

impl Service {
    /// Opens the store `args` names with `master`, creating the first admin
    /// with `admin` if it is empty, and on a shared store starts the
    /// listener: failure counts travel between the instances, and the
    /// listener tells the writer when the others commit.
    pub fn open(
        args: &ServeArgs,
        master: Secret,
        admin: Option<Secret>,
    ) -> Result<Service, StartError> {
        let settings = args.settings().map_err(StartError::Config)?;
        // Bound first, so that a port in use stops the start before the
        // store is opened.
        let metrics = args
            .metrics_listen
            .map(|at| std::net::TcpListener::bind(at).map_err(|e| StartError::Metrics(at, e)))
            .transpose()?
            .map(|l| (l, args.metrics_allow.clone()));
        let mut listen = None;
        let (store, loaded): (Box<dyn Backend>, _) = match &args.database {
            Some(url) => {
                let (store, table, sessions) =
                    open_postgres_store(url, &master, &args.file_options())?;
                listen = Some(store.listen_target());
                (Box::new(store), (table, sessions))
            }
            None => {
                let (store, table) =
                    open_file_store(&args.storage_file, &master, &args.file_options())?;
                (Box::new(store), (table, vec![]))
            }
        };
        drop(master);
        let (mut app, backend) = build(settings, store, loaded, admin, Arc::new(SystemClock))?;
        if let Some(target) = listen {
            let (out, outbox) = std::sync::mpsc::channel();
            let throttle: Arc<dyn ThrottleStore> =
                Arc::new(RelayedThrottle::new(app.settings.throttle.clone(), out));
            app.throttle = Arc::clone(&throttle);
            Listener {
                target,
                follow: Arc::clone(&app.follow),
                throttle,
                outbox,
            }
            .spawn()
            .map_err(StartError::Listener)?;
        }
        let store_file = args.database.is_none().then(|| args.storage_file.clone());
        if metrics.is_some() {
            app.metrics =
                Metrics::on(store_file.is_some()).map_err(|e| StartError::Config(e.to_string()))?;
        }
        Ok(Service {
            app: Arc::new(app),
            backend,
            metrics,
            store_file,
        })
    }

    /// Threads hashing passwords.
    pub fn workers(&self) -> usize {
        self.app.settings.workers
    }

    /// Where `/metrics` is served, if it is.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    /// Serves on a bound ROUTER socket, and on the trusted endpoint's if
    /// there is one, until `stop` is set (see [`server::run`]); and
    /// `/metrics` beside them with `--metrics-listen`.
    pub fn run(
        self,
        ctx: &zmq::Context,
        router: zmq::Socket,
        trusted: Option<TrustedSocket>,
        stop: Arc<AtomicBool>,
    ) -> Result<(), ServerError> {
        let metrics = match self.metrics {
            Some((listener, allow)) => Some(serve::spawn(
                listener,
                serve::Scraped {
                    app: Arc::clone(&self.app),
                    store: self.store_file,
                    allow,
                },
                Arc::clone(&stop),
            )?),
            None => None,
        };
        let stopped = Arc::clone(&stop);
        let served = server::run(self.app, self.backend, ctx, router, trusted, stop);
        // Also when the server stopped on an error, not a signal.
        stopped.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(thread) = metrics {
            let _ = thread.join();
        }
        served
    }
}

/// Opens the file store at `path` and its users. Logs what opening did.
pub fn open_file_store(
    path: &Path,
    master: &Secret,
    opts: &FileOptions,
) -> Result<(FileStore, UserTable), StorageError> {
    let opened = FileStore::open(path, master.expose(), opts)?;
    if opened.dropped_torn_tail {
        tracing::warn!("the journal ended in a torn record (a crash mid-write); it was dropped");
    }
    if let Some(v) = opened.upgraded_from {
        tracing::info!(from = v, "the store was upgraded to the current format");
    }
    let table = UserTable::from_users(opened.users.into_iter().map(Arc::new));
    Ok((opened.store, table))
}

/// Opens the PostgreSQL store at `url`, its users and its live sessions. The
/// address is not logged: it may carry a password.
pub(crate) fn open_postgres_store(
    url: &str,
    master: &Secret,
    opts: &FileOptions,
) -> Result<(PgStore, UserTable, Vec<SessionOp>), StorageError> {
    let mut opened = PgStore::open(
        url,
        master.expose(),
        opts.kdf_iterations,
        opts.compact_after,
    )?;
    opened.store.set_audit_retention(opts.audit_retention);
    tracing::info!(
        users = opened.users.len(),
        sessions = opened.sessions.len(),
        "opened the PostgreSQL store"
    );
    Ok((opened.store, opened.users, opened.sessions))
}

/// Builds the service state over an opened store, its users and `sessions`.
/// On an empty store, creates the first admin with `admin_password`, or the
/// documented default with a warning; on a shared store, in a batch of its
/// own, so that of instances starting together only one makes it.
pub(crate) fn build(
    settings: Settings,
    mut backend: Box<dyn Backend>,
    (mut table, mut sessions): (UserTable, Vec<SessionOp>),
    admin_password: Option<Secret>,
    clock: Arc<dyn Clock>,
) -> Result<(App, Box<dyn Backend>), StorageError> {
    let caught = backend.begin()?;
    table.apply_committed(caught.changes);
    sessions.extend(caught.sessions);
    if !table.is_empty() {
        backend.commit_batch(&[], &[], &mut [])?;
    } else {
        let (pw, default) = match admin_password.filter(|p| !p.is_empty()) {
            Some(p) => (p, false),
            None => (Secret::from(DEFAULT_ADMIN_PASSWORD), true),
        };
        let mut rng = rand::rng();
        let hash = password::hash(pw.expose(), settings.pbkdf2_iterations, &mut rng);
        let mut admin = User::new(
            UserId::random(&mut rng),
            ADMIN_USERNAME.into(),
            "admin@localhost.localdomain".into(),
            hash,
            &rfc3339(clock.now()),
        );
        admin.role = Role::Admin;
        admin.profile.set(ProfileField::FullName, "Administrator");
        // Everyone knows the default: its sessions may do nothing but change it.
        admin.password_change_required = default;
        table.put(admin);
        backend.commit_batch(&table.take_changes(), &[], &mut [])?;
        table.forget_undo();
        if default {
            tracing::warn!(
                "CREATED THE FIRST ADMIN '{ADMIN_USERNAME}' WITH THE DEFAULT PASSWORD '{DEFAULT_ADMIN_PASSWORD}': \
                 change it now (or set USERS_SERVICE_ADMIN_PASSWORD before the first start)"
            );
        } else {
            tracing::info!(
                "created the first admin '{ADMIN_USERNAME}' with the configured password"
            );
        }
    }
    tracing::info!(users = table.len(), "store loaded");
    let mut app = App::new(settings, clock, table, backend.shared());
    app.audit_reader = Some(backend.audit_reader());
    if let Some(key) = backend.fingerprint_key() {
        app.names = key;
    }
    for op in sessions {
        app.sessions.apply(op);
    }
    Ok((app, backend))
}
