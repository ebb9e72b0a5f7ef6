//! ZeroMQ framing: reading one whole message from the ROUTER socket, and
//! splitting it into the envelope its reply must carry and the request body.

/// A message's frames and the address of the peer that sent it.
pub(crate) type Incoming = (Vec<Vec<u8>>, Option<String>);

/// One whole message from the ROUTER socket, if one is waiting.
pub(crate) fn recv_request(router: &zmq::Socket) -> Result<Option<Incoming>, zmq::Error> {
    let mut frames = Vec::new();
    let mut peer = None;
    loop {
        let mut msg = match router.recv_msg(zmq::DONTWAIT) {
            Ok(m) => m,
            Err(zmq::Error::EAGAIN | zmq::Error::EINTR) if frames.is_empty() => return Ok(None),
            Err(e) => return Err(e),
        };
        if peer.is_none() {
            peer = msg.gets("Peer-Address").map(str::to_owned);
        }
        let more = msg.get_more();
        frames.push(msg.to_vec());
        if !more {
            return Ok(Some((frames, peer)));
        }
    }
}

/// Splits a ROUTER message into its envelope (identity, any further routing
/// frames, and the empty delimiter if there is one) and its body frames, so
/// that REQ clients (with a delimiter) and DEALER clients (without) both work.
pub(crate) fn split_envelope(mut frames: Vec<Vec<u8>>) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let cut = frames
        .iter()
        .skip(1)
        .position(Vec::is_empty)
        .map_or(1, |i| i + 2)
        .min(frames.len());
    let body = frames.split_off(cut);
    (frames, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(parts: &[&[u8]]) -> Vec<Vec<u8>> {
        parts.iter().map(|p| p.to_vec()).collect()
    }

    #[test]
    fn envelopes_of_req_and_dealer_clients() {
        let (env, body) = split_envelope(frames(&[b"id", b"", b"{}"]));
        assert_eq!((env.len(), body), (2, frames(&[b"{}"])));
        let (env, body) = split_envelope(frames(&[b"id", b"{}"]));
        assert_eq!((env.len(), body), (1, frames(&[b"{}"])));
        let (env, body) = split_envelope(frames(&[b"id", b""]));
        assert_eq!((env.len(), body.len()), (2, 0));
    }
}
