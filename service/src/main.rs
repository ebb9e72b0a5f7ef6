//! `users-service [PORT] [STORAGE_FILE]` serves; `users-service upgrade STORE`
//! rewrites an older store in the current format; `reset-admin` and
//! `migrate` are the operator's other commands. See `--help`.

use anyhow::Context;
use clap::Parser;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use users_protocol::Secret;
use users_service::auth::relay::RelayedThrottle;
use users_service::auth::throttle::ThrottleStore;
use users_service::cli::{Cli, Command, ServeArgs};
use users_service::clock::SystemClock;
use users_service::storage::file::{operator, FileOptions};
use users_service::storage::postgres::listen::Listener;
use users_service::storage::Backend;
use users_service::{master, server, startup};

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(cli.serve),
        Some(Command::Upgrade { storage_file }) => {
            upgrade(&storage_file, &cli.serve.operator_file_options())
        }
        Some(Command::Verify { store }) => verify(&store),
        Some(Command::Backup { store, dest }) => backup(&store, &dest),
        Some(Command::Restore { backup, store }) => restore(&backup, &store),
        Some(Command::Export {
            store,
            file,
            plaintext,
        }) => export(&store, &file, plaintext, &cli.serve.operator_file_options()),
        Some(Command::Import { store, file }) => {
            import(&store, &file, &cli.serve.operator_file_options())
        }
        Some(Command::ResetAdmin { store, username }) => reset_admin(
            &store,
            &username,
            &cli.serve.operator_file_options(),
            cli.serve.pbkdf2_iterations,
        ),
        Some(Command::Migrate {
            from,
            to,
            kdf_iterations,
        }) => migrate(
            &from,
            &to,
            &FileOptions {
                kdf_iterations,
                ..cli.serve.operator_file_options()
            },
        ),
    };
    if let Err(e) = result {
        tracing::error!("{e:#}");
        eprintln!("users-service: {e:#}");
        std::process::exit(1);
    }
}

/// The master password, from the environment, a file, or the key file beside
/// `store`. The variables are removed from the environment once read, so that
/// nothing this process starts later inherits them.
fn master_password(store: &Path) -> anyhow::Result<Secret> {
    let given = master::Given {
        password: std::env::var("USERS_SERVICE_PASSWORD")
            .ok()
            .map(Secret::new),
        file: std::env::var_os("USERS_SERVICE_PASSWORD_FILE").map(Into::into),
    };
    std::env::remove_var("USERS_SERVICE_PASSWORD");
    std::env::remove_var("USERS_SERVICE_PASSWORD_FILE");
    let (master, source) = master::resolve(given, store)?;
    match &source {
        master::Source::Env => {}
        master::Source::File(p) => {
            tracing::info!(file = %p.display(), "master password from USERS_SERVICE_PASSWORD_FILE")
        }
        master::Source::KeyFile(p) => {
            tracing::info!(key_file = %p.display(), "master secret from key file")
        }
        master::Source::NewKeyFile(p) => tracing::warn!(
            key_file = %p.display(),
            "USERS_SERVICE_PASSWORD is not set: generated a random master secret into the key file; \
             back it up with the store, or the store cannot be opened"
        ),
    }
    Ok(master)
}

fn migrate(from: &str, to: &str, opts: &FileOptions) -> anyhow::Result<()> {
    use users_service::migrate::{copy, StoreAt};
    let (from, to) = (StoreAt::parse(from), StoreAt::parse(to));
    // The master password is the source file's (its key file may hold it);
    // a copy never makes a new one.
    let master = match (&from, &to) {
        (StoreAt::File(path), _) => {
            anyhow::ensure!(path.exists(), "{} does not exist", path.display());
            master_password(path)?
        }
        (StoreAt::Database(_), StoreAt::File(path)) => {
            anyhow::ensure!(
                std::env::var_os("USERS_SERVICE_PASSWORD").is_some()
                    || std::env::var_os("USERS_SERVICE_PASSWORD_FILE").is_some(),
                "set USERS_SERVICE_PASSWORD (or _FILE) to the database's master password"
            );
            master_password(path)?
        }
        (StoreAt::Database(_), StoreAt::Database(_)) => {
            anyhow::bail!("copy between two databases with PostgreSQL's own tools (pg_dump)")
        }
    };
    let n = copy(&from, &to, master.expose(), opts)?;
    println!(
        "copied {n} users from {} to {}; {} is as it was",
        from.describe(),
        to.describe(),
        from.describe()
    );
    Ok(())
}

fn verify(store: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(store.exists(), "{} does not exist", store.display());
    let master = master_password(store)?;
    let r = operator::verify(store, master.expose())?;
    let journal = match r.journal_records {
        Some(n) => format!("{n} journal records after the snapshot"),
        None => "no journal (a backup)".into(),
    };
    println!(
        "{}: sound. {} users, format version {}, {journal}, {} audit events{}",
        store.display(),
        r.users,
        r.version,
        r.audit_events,
        if r.torn_tail {
            "; the journal's last line is incomplete (being written, or cut short by a crash: start-up drops it)"
        } else {
            ""
        }
    );
    Ok(())
}

fn backup(store: &Path, dest: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(store.exists(), "{} does not exist", store.display());
    let master = master_password(store)?;
    let n = operator::backup(store, dest, master.expose())?;
    println!(
        "backed up {n} users from {} into {}, under the same master password",
        store.display(),
        dest.display()
    );
    Ok(())
}

fn restore(backup: &Path, store: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(backup.exists(), "{} does not exist", backup.display());
    // The store's key file, when it has one, opens its backups too.
    let master = master_password(if store.exists() { store } else { backup })?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (n, aside) = operator::restore(backup, store, master.expose(), now)?;
    println!("restored {n} users into {}", store.display());
    for p in aside {
        println!("kept aside: {}", p.display());
    }
    Ok(())
}

/// The master password for an operator command on `at`: an existing file
/// store's own (its key file may hold it), else the environment's, which a
/// database or a new file store needs.
fn operator_master(at: &users_service::migrate::StoreAt) -> anyhow::Result<Secret> {
    use users_service::migrate::StoreAt;
    let given = std::env::var_os("USERS_SERVICE_PASSWORD").is_some()
        || std::env::var_os("USERS_SERVICE_PASSWORD_FILE").is_some();
    match at {
        StoreAt::File(path) if path.exists() => master_password(path),
        _ => {
            anyhow::ensure!(
                given,
                "set USERS_SERVICE_PASSWORD (or _FILE) to the {} master password",
                at.describe()
            );
            master_password(Path::new("/nonexistent/users_encrypted.json"))
        }
    }
}

/// A store an operator command reads or changes, which must exist, and its
/// master password.
fn existing_store(store: &str) -> anyhow::Result<(users_service::migrate::StoreAt, Secret)> {
    let at = users_service::migrate::StoreAt::parse(store);
    if let users_service::migrate::StoreAt::File(p) = &at {
        anyhow::ensure!(p.exists(), "{} does not exist", p.display());
    }
    let master = operator_master(&at)?;
    Ok((at, master))
}

fn export(store: &str, file: &Path, plaintext: bool, opts: &FileOptions) -> anyhow::Result<()> {
    let (at, master) = existing_store(store)?;
    let n = users_service::export::export(&at, file, master.expose(), opts, plaintext)?;
    if plaintext {
        eprintln!(
            "WARNING: {} holds password hashes and personal data IN CLEAR: keep it private, and delete it when done",
            file.display()
        );
    }
    println!(
        "exported {n} users from {} into {}{}",
        at.describe(),
        file.display(),
        if plaintext {
            " (in clear)"
        } else {
            ", sealed under the master password"
        }
    );
    Ok(())
}

fn import(store: &str, file: &Path, opts: &FileOptions) -> anyhow::Result<()> {
    let at = users_service::migrate::StoreAt::parse(store);
    anyhow::ensure!(file.exists(), "{} does not exist", file.display());
    let master = operator_master(&at)?;
    let n = users_service::export::import(&at, file, master.expose(), opts)?;
    println!(
        "imported {n} users into {}; they log in with their old passwords",
        at.describe()
    );
    Ok(())
}

fn reset_admin(
    store: &str,
    username: &str,
    opts: &FileOptions,
    iterations: u32,
) -> anyhow::Result<()> {
    let (at, master) = existing_store(store)?;
    let done =
        users_service::reset_admin::reset_admin(&at, master.expose(), opts, username, iterations)?;
    println!(
        "{} admin '{}' in {}: its new password is\n\n    {}\n\n(shown once). It is an active admin, its two-factor login is off and its sessions ended; the audit log records the reset.",
        if done.created { "made" } else { "reset" },
        done.username,
        at.describe(),
        done.password.expose()
    );
    Ok(())
}

fn upgrade(store: &Path, opts: &FileOptions) -> anyhow::Result<()> {
    anyhow::ensure!(store.exists(), "{} does not exist", store.display());
    let master = master_password(store)?;
    let (_, table) = startup::open_file_store(store, &master, opts)?;
    println!("{}: {} users, current format", store.display(), table.len());
    Ok(())
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let master = master_password(&args.storage_file)?;
    let admin = std::env::var("USERS_SERVICE_ADMIN_PASSWORD")
        .ok()
        .map(Secret::new);
    let mut listen = None;
    let (store, loaded) = match &args.database {
        Some(url) => {
            let (store, table, sessions) =
                startup::open_postgres_store(url, &master, &args.file_options())?;
            listen = Some(store.listen_target());
            (Box::new(store) as Box<dyn Backend>, (table, sessions))
        }
        None => {
            let (store, table) =
                startup::open_file_store(&args.storage_file, &master, &args.file_options())?;
            (Box::new(store) as Box<dyn Backend>, (table, vec![]))
        }
    };
    drop(master);
    let (mut app, backend) =
        startup::build(args.settings(), store, loaded, admin, Arc::new(SystemClock))?;
    // On a shared store, failure counts travel between the instances, and a
    // listener tells the writer when the others commit.
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
        .spawn()?;
    }
    let app = Arc::new(app);

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    let endpoint = args.endpoint();
    let ctx = zmq::Context::new();
    let router = ctx.socket(zmq::ROUTER)?;
    router
        .bind(&endpoint)
        .with_context(|| format!("cannot listen on {endpoint}"))?;
    tracing::info!(%endpoint, workers = app.settings.workers, "users-service listening");
    server::run(app, backend, &ctx, router, stop)?;
    tracing::info!("stopped; every acknowledged change is on disk");
    Ok(())
}
