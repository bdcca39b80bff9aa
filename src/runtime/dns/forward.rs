//! Asking the upstream resolvers — the host's, or a container's own
//! (`dns:`): UDP first, from a fresh socket (a random source port) with a
//! fresh random id, TCP when the answer is truncated and the asker can
//! take a long one.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use super::wire;

/// The host's upstreams and how long to wait for each.
#[derive(Clone, Debug)]
pub struct Forwarder {
    /// The host's upstreams: where [`Forwarder::ask`] goes.
    pub upstreams: Vec<SocketAddr>,
    /// How long one upstream has to answer (per transport).
    pub timeout: Duration,
}

impl Forwarder {
    /// The first upstream answer to `query` (raw bytes as received),
    /// with the asker's id put back. `long_ok`: the asker came over TCP,
    /// so a truncated UDP answer is asked again over TCP; a UDP asker
    /// gets the truncated answer and retries over TCP itself. `None`
    /// when no upstream answered (the caller answers SERVFAIL).
    pub fn ask(&self, query: &[u8], long_ok: bool) -> Option<Vec<u8>> {
        self.ask_via(&self.upstreams, query, long_ok)
    }

    /// [`Forwarder::ask`] with another list of upstreams (a container's
    /// own), in order, with the same timeout. An empty list is `None` at
    /// once.
    pub fn ask_via(
        &self,
        upstreams: &[SocketAddr],
        query: &[u8],
        long_ok: bool,
    ) -> Option<Vec<u8>> {
        let id = wire::id_of(query)?;
        for up in upstreams {
            let reply = match ask_udp(*up, query, self.timeout) {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!("dns: upstream {up} over udp: {e}");
                    continue;
                }
            };
            if long_ok && wire::truncated(&reply) {
                match ask_tcp(*up, query, self.timeout) {
                    Ok(full) => return Some(wire::with_id(full, id)),
                    Err(e) => tracing::debug!("dns: upstream {up} over tcp: {e}"),
                }
            }
            return Some(wire::with_id(reply, id));
        }
        None
    }
}

/// One question to `up` over UDP, waiting at most `timeout` for a
/// response with our id.
fn ask_udp(up: SocketAddr, query: &[u8], timeout: Duration) -> io::Result<Vec<u8>> {
    let local: SocketAddr = if up.is_ipv4() {
        "0.0.0.0:0".parse().map_err(io::Error::other)?
    } else {
        "[::]:0".parse().map_err(io::Error::other)?
    };
    let sock = UdpSocket::bind(local)?;
    sock.connect(up)?;
    let id = random_id();
    sock.send(&wire::with_id(query.to_vec(), id))?;
    let deadline = Instant::now() + timeout;
    let mut buf = vec![0u8; 65535];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        sock.set_read_timeout(Some(left))?;
        let n = match sock.recv(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(io::ErrorKind::TimedOut.into())
            }
            Err(e) => return Err(e),
        };
        let got = &buf[..n];
        if wire::id_of(got) == Some(id) && wire::is_response(got) {
            return Ok(got.to_vec());
        }
        // A stray or spoofed datagram: keep waiting for ours.
    }
}

/// One question to `up` over TCP (two-byte length prefix).
fn ask_tcp(up: SocketAddr, query: &[u8], timeout: Duration) -> io::Result<Vec<u8>> {
    let mut s = TcpStream::connect_timeout(&up, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let id = random_id();
    write_framed(&mut s, &wire::with_id(query.to_vec(), id))?;
    let reply = read_framed(&mut s)?;
    if wire::id_of(&reply) != Some(id) || !wire::is_response(&reply) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the upstream answered with another id",
        ));
    }
    Ok(reply)
}

/// Writes one length-prefixed DNS message (RFC 1035 4.2.2).
pub fn write_framed(w: &mut impl Write, msg: &[u8]) -> io::Result<()> {
    let len = u16::try_from(msg.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "dns message over 64 KiB"))?;
    let mut out = Vec::with_capacity(msg.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(msg);
    w.write_all(&out)
}

/// Reads one length-prefixed DNS message.
pub fn read_framed(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    r.read_exact(&mut len)?;
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    r.read_exact(&mut msg)?;
    Ok(msg)
}

/// An id an off-path sender cannot guess: SipHash, keyed by the process's
/// random `RandomState`, of a counter and the clock.
fn random_id() -> u16 {
    static KEYS: OnceLock<RandomState> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = KEYS.get_or_init(RandomState::new).build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    h.write_u128(now);
    (h.finish() & 0xffff) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_round_trips() {
        let mut buf = Vec::new();
        write_framed(&mut buf, b"hello").unwrap();
        assert_eq!(&buf[..2], &[0, 5]);
        assert_eq!(read_framed(&mut buf.as_slice()).unwrap(), b"hello");
        assert!(read_framed(&mut [0u8, 9, 1].as_slice()).is_err());
        assert!(write_framed(&mut Vec::new(), &vec![0; 70000]).is_err());
    }

    #[test]
    fn ids_vary() {
        let ids: std::collections::BTreeSet<_> = (0..64).map(|_| random_id()).collect();
        assert!(ids.len() > 48, "{ids:?}");
    }

    #[test]
    fn no_upstream_is_no_answer() {
        let f = Forwarder {
            upstreams: vec![],
            timeout: Duration::from_millis(10),
        };
        assert_eq!(f.ask(&[0, 1, 0, 0], false), None);
        assert_eq!(f.ask(&[], false), None);
        let f = Forwarder {
            upstreams: vec!["127.0.0.1:9".parse().unwrap()],
            timeout: Duration::from_secs(30),
        };
        let t0 = Instant::now();
        assert_eq!(f.ask_via(&[], &[0, 1, 0, 0], true), None);
        assert!(t0.elapsed() < Duration::from_secs(1));
    }
}
