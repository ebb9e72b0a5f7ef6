//! What every connection shares: the settings, the relay, the limits, the
//! connection count and the stop signal.

use crate::config::Config;
use crate::limits::PerIp;
use crate::relay::Relay;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

/// State shared by every connection.
pub struct Shared {
    /// Settings.
    pub cfg: Config,
    /// The service.
    pub relay: Arc<Relay>,
    /// Per-IP request buckets.
    pub per_ip: PerIp,
    /// Open WebSocket connections.
    pub connections: AtomicUsize,
    /// Becomes true when the bridge is stopping.
    pub shutdown: watch::Receiver<bool>,
    /// When the bridge started, for uptime.
    pub started: Instant,
}

impl Shared {
    /// Takes a connection slot, or `None` when `--max-connections` are open.
    pub fn connection_slot(self: &Arc<Self>) -> Option<ConnectionSlot> {
        if self.connections.fetch_add(1, Ordering::SeqCst) >= self.cfg.max_connections {
            self.connections.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(ConnectionSlot(Arc::clone(self)))
    }
}

/// One open connection; gives its slot back when dropped.
pub struct ConnectionSlot(Arc<Shared>);

impl ConnectionSlot {
    /// The shared state.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.0
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::SeqCst);
    }
}
