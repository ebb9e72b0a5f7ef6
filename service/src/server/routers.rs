//! The ROUTER sockets requests come in on: the public one (TCP), and the
//! trusted one (`--trusted-endpoint`, see [`trusted`](super::trusted)), if
//! there is one. ZeroMQ does not say which of a socket's endpoints a message
//! came through, so the trusted endpoint is a socket of its own: a request
//! is trusted by the socket it was read from, never by what it says. Its
//! reply must go out on the same socket, since a ROUTER knows only its own
//! peers: each [`ReplyTo`](super::replies::ReplyTo) carries its
//! [`Endpoint`].

/// Which socket a request came in on, and its reply goes out on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// The TCP endpoint: trusted only where `--trusted-peer` names the
    /// peer's address.
    Public,
    /// The trusted endpoint: whoever the socket file lets in.
    Trusted,
}

impl Endpoint {
    /// The one-byte tag a reply carries over the inproc hand-back.
    pub(crate) fn tag(self) -> u8 {
        match self {
            Endpoint::Public => b'p',
            Endpoint::Trusted => b't',
        }
    }

    /// The endpoint a [`Endpoint::tag`] stands for.
    pub(crate) fn from_tag(tag: &[u8]) -> Option<Endpoint> {
        match tag {
            b"p" => Some(Endpoint::Public),
            b"t" => Some(Endpoint::Trusted),
            _ => None,
        }
    }
}

/// What a poll found ready to read.
pub(crate) struct Ready {
    /// Replies from the pool and the writer.
    pub replies: bool,
    /// Requests, on these sockets.
    pub requests: Vec<Endpoint>,
}

/// The sockets, by [`Endpoint`].
pub(crate) struct Routers<'a> {
    pub public: &'a zmq::Socket,
    pub trusted: Option<&'a zmq::Socket>,
}

impl Routers<'_> {
    /// The socket of `endpoint`; none for a trusted endpoint not configured.
    pub(crate) fn socket(&self, endpoint: Endpoint) -> Option<&zmq::Socket> {
        match endpoint {
            Endpoint::Public => Some(self.public),
            Endpoint::Trusted => self.trusted,
        }
    }

    /// Every socket, with its endpoint.
    pub(crate) fn all(&self) -> impl Iterator<Item = (Endpoint, &zmq::Socket)> {
        let trusted = self.trusted.map(|s| (Endpoint::Trusted, s));
        std::iter::once((Endpoint::Public, self.public)).chain(trusted)
    }

    /// Waits up to `wait` ms for replies on `replies` and, if `requests`,
    /// for requests on every socket: what is ready, or `None` when a signal
    /// came.
    pub(crate) fn poll(
        &self,
        replies: &zmq::Socket,
        requests: bool,
        wait: i64,
    ) -> Result<Option<Ready>, zmq::Error> {
        let sockets: Vec<_> = match requests {
            true => self.all().collect(),
            false => Vec::new(),
        };
        let mut items = vec![replies.as_poll_item(zmq::POLLIN)];
        items.extend(sockets.iter().map(|(_, s)| s.as_poll_item(zmq::POLLIN)));
        match zmq::poll(&mut items, wait) {
            Ok(_) => Ok(Some(Ready {
                replies: items[0].is_readable(),
                requests: (sockets.iter().zip(&items[1..]))
                    .filter(|(_, item)| item.is_readable())
                    .map(|((endpoint, _), _)| *endpoint)
                    .collect(),
            })),
            Err(zmq::Error::EINTR) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends a reply on the socket its request came in on.
    pub(crate) fn send(&self, endpoint: Endpoint, frames: Vec<Vec<u8>>) {
        let Some(socket) = self.socket(endpoint) else {
            tracing::error!(?endpoint, "reply for a socket that is not there");
            return;
        };
        if let Err(e) = socket.send_multipart(frames, 0) {
            tracing::warn!(error = %e, "reply not delivered");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_endpoint_has_its_own_tag() {
        for e in [Endpoint::Public, Endpoint::Trusted] {
            assert_eq!(Endpoint::from_tag(&[e.tag()]), Some(e));
        }
        assert_eq!(Endpoint::from_tag(b""), None);
        assert_eq!(Endpoint::from_tag(b"pt"), None);
    }
}
