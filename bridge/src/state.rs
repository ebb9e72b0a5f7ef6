//! What every connection shares: the settings, the service instances, the limits, the
//! connection count and the stop signal.

use crate::config::Config;
use crate::limits::PerIp;
use crate::services::Services;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::watch;

/// State shared by every connection.
pub(crate) struct Shared {
    pub(crate) cfg: Config,
    /// The web UI's files, with `--web-root`.
    pub(crate) assets: Option<crate::assets::Assets>,
    pub(crate) services: Services,
    pub(crate) per_ip: PerIp,
    /// Open WebSocket connections.
    pub(crate) connections: AtomicUsize,
    /// Open WebSocket connections by client address.
    pub(crate) connections_by_ip: Mutex<HashMap<IpAddr, usize>>,
    /// Becomes true when the bridge is stopping.
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Counts for `/metrics`.
    pub(crate) metrics: crate::metrics::Metrics,
    /// When the bridge started, for uptime.
    pub(crate) started: Instant,
    /// Forward-auth answers of the last second.
    pub(crate) forward: crate::forward::cache::Answers,
}

impl Shared {
    /// Takes a connection slot for a client at `ip`, or `None` when
    /// `--max-connections` are open, or `--max-connections-per-ip` from it.
    pub(crate) fn connection_slot(self: &Arc<Self>, ip: IpAddr) -> Option<ConnectionSlot> {
        let mut by_ip = self
            .connections_by_ip
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if by_ip.get(&ip).copied().unwrap_or(0) >= self.cfg.max_connections_per_ip {
            return None;
        }
        if self.connections.fetch_add(1, Ordering::SeqCst) >= self.cfg.max_connections {
            self.connections.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        *by_ip.entry(ip).or_insert(0) += 1;
        Some(ConnectionSlot(Arc::clone(self), ip))
    }
}

/// One open connection; gives its slot back when dropped.
pub(crate) struct ConnectionSlot(Arc<Shared>, IpAddr);

impl ConnectionSlot {
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.0
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::SeqCst);
        let mut by_ip = self
            .0
            .connections_by_ip
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = by_ip.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                by_ip.remove(&self.1);
            }
        }
    }
}
