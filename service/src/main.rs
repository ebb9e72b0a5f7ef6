//! `users-service [PORT] [STORAGE_FILE]`: see `--help`.

use anyhow::Context;
use clap::Parser;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use users_protocol::Secret;
use users_service::clock::SystemClock;
use users_service::config::Config;
use users_service::{master, server, startup};

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Config::parse()) {
        tracing::error!("{e:#}");
        eprintln!("users-service: {e:#}");
        std::process::exit(1);
    }
}

fn run(cfg: Config) -> anyhow::Result<()> {
    let env = |name: &str| std::env::var(name).ok();
    let (master, source) = master::resolve(env("USERS_SERVICE_PASSWORD"), &cfg.storage_file)?;
    match &source {
        master::Source::Env => {}
        master::Source::KeyFile(p) => {
            tracing::info!(key_file = %p.display(), "master secret from key file")
        }
        master::Source::NewKeyFile(p) => tracing::warn!(
            key_file = %p.display(),
            "USERS_SERVICE_PASSWORD is not set: generated a random master secret into the key file; \
             back it up with the store, or the store cannot be opened"
        ),
    }
    let admin = env("USERS_SERVICE_ADMIN_PASSWORD").map(Secret::new);
    let endpoint = cfg.endpoint();
    let (svc, store) = startup::load(cfg, &master, admin, Arc::new(SystemClock))?;
    drop(master);

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    let ctx = zmq::Context::new();
    let router = ctx.socket(zmq::ROUTER)?;
    router
        .bind(&endpoint)
        .with_context(|| format!("cannot listen on {endpoint}"))?;
    tracing::info!(%endpoint, workers = svc.cfg.worker_count(), "users-service listening");
    server::run(svc, store, &ctx, router, stop)?;
    tracing::info!("stopped; every acknowledged change is on disk");
    Ok(())
}
