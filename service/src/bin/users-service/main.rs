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
use users_service::{Cli, LogFormat, ServeArgs, Service};

fn main() {
    let cli = Cli::parse();
    users_service::init_logging(cli.log_format);
    let result = match cli.command {
        None => serve(cli.serve),
        Some(command) => operator::run(command, &cli.serve),
    };
    if let Err(e) = result {
        tracing::error!("{e:#}");
        // A JSON log stays one object per line; the error is in it.
        if cli.log_format == LogFormat::Text {
            eprintln!("users-service: {e:#}");
        }
        std::process::exit(1);
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let master = secrets::master_password(&args.storage_file)?;
    let admin = std::env::var("USERS_SERVICE_ADMIN_PASSWORD")
        .ok()
        .map(Secret::new);
    let service = Service::open(&args, master, admin)?;

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
    let trusted = args.trusted_endpoint.as_ref();
    let trusted_socket = trusted.map(|t| t.bind(&ctx)).transpose()?;
    tracing::info!(
        %endpoint,
        trusted_endpoint = trusted.map(tracing::field::display),
        workers = service.workers(),
        metrics = service.metrics_addr().map(tracing::field::display),
        "users-service listening"
    );
    service.run(&ctx, router, trusted_socket, stop)?;
    tracing::info!("stopped; every acknowledged change is on disk");
    Ok(())
}
