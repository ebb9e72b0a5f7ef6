//! [`Services`]: one [`Relay`] per `--service`, and which one a request
//! goes to.
//!
//! Requests take turns among the instances that are connected and answer
//! their health check (probed every [`PROBE_EVERY`]); a request no instance
//! took (not connected) tries the next. So while one instance is down, or up
//! but unable to serve (its store out of reach), the others share its turns
//! evenly, and once it is back it gets its turn again. A request already sent
//! is never sent again: if its instance dies with it in flight, it gets
//! service_unavailable, and whether it ran is unknown.

use crate::relay::{Client, Relay, RelayError, StartError};
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often each instance's health is checked.
const PROBE_EVERY: Duration = Duration::from_secs(1);
const PROBE: &str = r#"{"action":"health_check"}"#;

/// A service instance, and what routing knows of it.
struct Instance {
    relay: Arc<Relay>,
    /// Whether its last health check succeeded.
    healthy: AtomicBool,
    /// Requests it was given, health checks not counted.
    routed: AtomicU64,
}

impl Instance {
    /// Connected, and its last health check succeeded.
    fn ready(&self) -> bool {
        self.relay.is_connected() && self.healthy.load(Ordering::Relaxed)
    }
}

/// The service instances, one per `--service`, each with its health; a
/// request goes to the next one ready.
pub struct Services {
    instances: Vec<Arc<Instance>>,
    next: AtomicUsize,
}

impl Services {
    /// Connects to each endpoint (at least one) and starts probing them, on
    /// the current runtime.
    pub fn start(ctx: &zmq::Context, endpoints: &[String]) -> Result<Services, StartError> {
        let mut instances = Vec::new();
        for e in endpoints {
            warn_if_forbidden(e);
            let instance = Arc::new(Instance {
                relay: Relay::start(ctx, e).map_err(|source| StartError::Endpoint {
                    endpoint: e.clone(),
                    source: Box::new(source),
                })?,
                healthy: AtomicBool::new(true),
                routed: AtomicU64::new(0),
            });
            tokio::spawn(probe(Arc::clone(&instance)));
            instances.push(instance);
        }
        Ok(Services {
            instances,
            next: AtomicUsize::new(0),
        })
    }

    /// Every instance's relay, in the order given.
    fn relays(&self) -> impl Iterator<Item = &Arc<Relay>> {
        self.instances.iter().map(|i| &i.relay)
    }

    /// Every instance's relay with the requests it was given, in the order
    /// given.
    pub(crate) fn routed(&self) -> impl Iterator<Item = (&Arc<Relay>, u64)> {
        self.instances
            .iter()
            .map(|i| (&i.relay, i.routed.load(Ordering::Relaxed)))
    }

    /// True while any instance is connected.
    pub(crate) fn is_connected(&self) -> bool {
        self.relays().any(|r| r.is_connected())
    }

    /// Requests waiting for a reply, on every instance.
    pub(crate) fn in_flight(&self) -> usize {
        self.relays().map(|r| r.in_flight()).sum()
    }

    /// The order to try the instances in for the next request: those ready
    /// first, then those connected but failing their health check, then the
    /// rest (one may have come back since it was last looked at); within
    /// each, taking turns.
    fn order(&self) -> Vec<&Arc<Instance>> {
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        let tier = |i: &Instance| match (i.ready(), i.relay.is_connected()) {
            (true, _) => 0,
            (false, true) => 1,
            (false, false) => 2,
        };
        let mut order = Vec::with_capacity(self.instances.len());
        for t in 0..3 {
            let mut these: Vec<_> = self.instances.iter().filter(|i| tier(i) == t).collect();
            if !these.is_empty() {
                let k = turn % these.len();
                these.rotate_left(k);
            }
            order.extend(these);
        }
        order
    }

    /// Sends one request to an instance and waits up to `timeout` for the
    /// reply (see [`Relay::call`]).
    pub(crate) async fn call(
        &self,
        body: Bytes,
        client: Option<Client>,
        timeout: Duration,
    ) -> Result<String, RelayError> {
        for instance in self.order() {
            match instance
                .relay
                .call(body.clone(), client.clone(), timeout)
                .await
            {
                Err(RelayError::NotSent) => continue,
                other => {
                    instance.routed.fetch_add(1, Ordering::Relaxed);
                    return other;
                }
            }
        }
        Err(RelayError::Unavailable)
    }
}

/// Warns when `endpoint` is a Unix socket this process may not connect to:
/// libzmq would only retry in silence. Not being there yet is no fault: the
/// service may start later.
fn warn_if_forbidden(endpoint: &str) {
    let Some(path) = endpoint.strip_prefix("ipc://") else {
        return;
    };
    if let Err(e) = std::os::unix::net::UnixStream::connect(path) {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            tracing::warn!(%endpoint, "the bridge may not connect to this socket: it needs the socket file's group (see the service's --trusted-endpoint)");
        }
    }
}

/// Checks `instance`'s health every [`PROBE_EVERY`], for as long as the
/// bridge runs.
async fn probe(instance: Arc<Instance>) {
    let mut every = tokio::time::interval(PROBE_EVERY);
    // A probe that took its whole timeout is not followed by a burst.
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let reply = instance
            .relay
            .call(Bytes::from_static(PROBE.as_bytes()), None, PROBE_EVERY * 2)
            .await;
        let ok = match reply {
            // Not connected says nothing of its health: the connection is
            // looked at on its own.
            Err(RelayError::NotSent) => continue,
            Err(_) => false,
            Ok(text) => serde_json::from_str::<serde_json::Value>(&text)
                .is_ok_and(|v| v["status"] == "success"),
        };
        if ok != instance.healthy.swap(ok, Ordering::Relaxed) {
            let endpoint = &instance.relay.endpoint;
            if ok {
                tracing::info!(%endpoint, "the service instance answers its health check again");
            } else {
                tracing::warn!(%endpoint, "the service instance fails its health check; it gets no requests while others can take them");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bad_endpoint_is_named() {
        let ctx = zmq::Context::new();
        let endpoints = ["tcp://127.0.0.1:5556".to_owned(), "bogus".to_owned()];
        let e = Services::start(&ctx, &endpoints).err().unwrap().to_string();
        assert!(e.contains("--service bogus"), "{e}");
    }

    #[tokio::test]
    async fn the_instances_ready_share_the_turns_evenly() {
        let ctx = zmq::Context::new();
        // Nothing listens on these: none is connected, so mark by hand.
        let endpoints: Vec<String> = (0..3)
            .map(|i| format!("tcp://127.0.0.1:{}", 9 + i))
            .collect();
        let s = Services::start(&ctx, &endpoints).unwrap();
        let firsts = |s: &Services| {
            let mut count = [0usize; 3];
            for _ in 0..300 {
                let first = s.order()[0];
                let i = s
                    .instances
                    .iter()
                    .position(|r| Arc::ptr_eq(r, first))
                    .unwrap();
                count[i] += 1;
            }
            count
        };
        // None connected: they take turns all the same.
        assert_eq!(firsts(&s), [100, 100, 100]);
        for i in &s.instances {
            i.relay.set_connected_for_test(true);
        }
        assert_eq!(firsts(&s), [100, 100, 100]);
        // The first is down: the other two share its turns, not the one after it alone.
        s.instances[0].healthy.store(false, Ordering::Relaxed);
        assert_eq!(firsts(&s), [0, 150, 150]);
        // None healthy but all connected: they take turns.
        for i in &s.instances {
            i.healthy.store(false, Ordering::Relaxed);
        }
        assert_eq!(firsts(&s), [100, 100, 100]);
    }
}
