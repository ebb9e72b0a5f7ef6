//! `users-bridge`: see `--help`.

use anyhow::Context;
use clap::Parser;
use users_bridge::{Config, Listeners, Services, UnixSocket};

#[tokio::main]
async fn main() {
    let cfg = Config::parse();
    let format = cfg.log_format;
    users_bridge::init_logging(format, std::env::var("RUST_LOG").ok().as_deref());
    if let Err(e) = run(cfg).await {
        tracing::error!("{e:#}");
        // A JSON log stays one object per line; the error is in it.
        if format == users_bridge::LogFormat::Text {
            eprintln!("users-bridge: {e:#}");
        }
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
    let listeners = listen(&cfg).await?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    let stop = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    users_bridge::run(cfg, services, listeners, stop).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Binds `--listen` and `--listen-unix`, whichever are asked for.
async fn listen(cfg: &Config) -> anyhow::Result<Listeners> {
    let tcp = match cfg.bind_addr() {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?,
        ),
        None => None,
    };
    let unix = cfg
        .listen_unix
        .as_deref()
        .map(UnixSocket::bind)
        .transpose()?;
    let tls = match (&cfg.tls_cert, &cfg.tls_key) {
        (Some(cert), Some(key)) => Some(users_bridge::tls_acceptor(cert, key)?),
        _ => None,
    };
    let service = cfg.service.join(" ");
    if let Some(local) = tcp.as_ref().map(|l| l.local_addr()).transpose()? {
        let ws = if tls.is_some() { "wss" } else { "ws" };
        tracing::info!(%local, %service, web_root = ?cfg.web_root,
            "users-bridge listening: WebSocket at {ws}://{local}/ws");
    }
    if let Some(path) = unix.as_ref().map(|u| u.path().display()) {
        tracing::info!(%path, %service, web_root = ?cfg.web_root,
            "users-bridge listening on a Unix socket, for a trusted proxy: WebSocket at /ws");
    }
    Ok(Listeners { tcp, unix, tls })
}
