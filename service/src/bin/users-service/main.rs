//! `users-service [PORT] [STORAGE_FILE]` serves; the operator's commands
//! (`verify`, `backup`, `rotate-key`, ...) are in [`operator`], and the
//! master passwords every one of them reads in [`secrets`]. See `--help`.

mod operator;
mod secrets;

use anyhow::Context;
use clap::Parser;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use users_protocol::Secret;
use users_service::auth::relay::RelayedThrottle;
use users_service::auth::throttle::ThrottleStore;
use users_service::cli::{Cli, ServeArgs};
use users_service::clock::SystemClock;
use users_service::storage::postgres::listen::Listener;
use users_service::storage::Backend;
use users_service::{server, startup};

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
        Some(command) => operator::run(command, &cli.serve),
    };
    if let Err(e) = result {
        tracing::error!("{e:#}");
        eprintln!("users-service: {e:#}");
        std::process::exit(1);
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let master = secrets::master_password(&args.storage_file)?;
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
