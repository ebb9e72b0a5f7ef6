//! [`Services`]: one [`Relay`] per `--service`, and which one a request
//! goes to. Requests take turns among the instances that are connected; a
//! request no instance took (not connected) tries the next, so while one
//! instance is down the others take its share, and once it is back it gets
//! its turn again. A request already sent is never sent twice: if its
//! instance dies with it in flight, it gets service_unavailable.

use crate::relay::{Relay, RelayError, StartError};
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// See the module documentation.
pub struct Services {
    relays: Vec<Arc<Relay>>,
    next: AtomicUsize,
}

impl Services {
    /// Connects to each endpoint (at least one).
    pub fn start(ctx: &zmq::Context, endpoints: &[String]) -> Result<Services, StartError> {
        let relays = endpoints
            .iter()
            .map(|e| Relay::start(ctx, e))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Services {
            relays,
            next: AtomicUsize::new(0),
        })
    }

    /// Every instance, in the order given.
    pub fn relays(&self) -> &[Arc<Relay>] {
        &self.relays
    }

    /// True while any instance is connected.
    pub fn is_connected(&self) -> bool {
        self.relays.iter().any(|r| r.is_connected())
    }

    /// Requests waiting for a reply, on every instance.
    pub fn in_flight(&self) -> usize {
        self.relays.iter().map(|r| r.in_flight()).sum()
    }

    /// The order to try the instances in for the next request: the connected
    /// ones first, each starting one further along than the last request.
    fn order(&self) -> Vec<&Arc<Relay>> {
        let n = self.relays.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let turn = (0..n).map(|i| &self.relays[(start + i) % n]);
        let (up, down): (Vec<_>, Vec<_>) = turn.partition(|r| r.is_connected());
        up.into_iter().chain(down).collect()
    }

    /// Sends one request to an instance and waits up to `timeout` for the
    /// reply (see [`Relay::call`]).
    pub async fn call(
        &self,
        body: String,
        client: Option<IpAddr>,
        timeout: Duration,
    ) -> Result<String, RelayError> {
        for relay in self.order() {
            match relay.call(body.clone(), client, timeout).await {
                Err(RelayError::NotSent) => continue,
                other => return other,
            }
        }
        Err(RelayError::Unavailable)
    }
}
