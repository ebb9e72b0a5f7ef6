//! `users-bridge`: see `--help`.

use anyhow::Context;
use clap::Parser;
use users_bridge::{Config, Services};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(users_bridge::log_filter(
            std::env::var("RUST_LOG").ok().as_deref(),
        ))
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Config::parse()).await {
        tracing::error!("{e:#}");
        eprintln!("users-bridge: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cfg: Config) -> anyhow::Result<()> {
    if let Some(root) = &cfg.web_root {
        anyhow::ensure!(
            root.join("index.html").is_file(),
            "--web-root {}: no index.html there",
            root.display()
        );
    }
    let ctx = zmq::Context::new();
    let services = Services::start(&ctx, &cfg.service).context("connecting to the service")?;
    let addr = cfg.bind_addr();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    tracing::info!(
        %local,
        service = %cfg.service.join(" "),
        web_root = ?cfg.web_root,
        "users-bridge listening: WebSocket at ws://{local}/ws"
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    let stop = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    users_bridge::run(cfg, services, listener, stop).await?;
    tracing::info!("stopped");
    Ok(())
}
