//! The resolver's sockets: UDP and TCP on every listen address, with std
//! threads (no async runtime).
//!
//! - One thread per UDP socket reads questions and answers those the
//!   table decides at once; a question to forward goes to a short-lived
//!   thread of its own (at most [`MAX_FORWARDS`] at a time, SERVFAIL
//!   beyond), so a slow upstream never holds up a local answer.
//! - One thread per TCP listener accepts; each connection gets a thread
//!   (at most [`MAX_CONNECTIONS`]) that answers its questions in turn
//!   until the asker closes it or is idle for [`TCP_IDLE`].
//!
//! A forwarded question goes to the asker's own upstreams when the table
//! has them ([`super::Zone::upstreams_for`], Compose's `dns:`), else to
//! [`Options::upstreams`]; the table is read per question, so a changed
//! list counts from the next one. A list that is empty (or names only
//! this resolver's own addresses, which would loop) is SERVFAIL at once.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::answer::Decision;
use super::forward::{read_framed, write_framed, Forwarder};
use super::table::TableFile;
use super::{wire, DnsError};

/// Forwarded questions in flight at once over UDP.
pub const MAX_FORWARDS: usize = 128;
/// TCP connections served at once.
pub const MAX_CONNECTIONS: usize = 64;
/// A TCP connection with no question for this long is closed.
pub const TCP_IDLE: Duration = Duration::from_secs(10);
/// How often a UDP thread looks at the stop flag when idle.
const POLL: Duration = Duration::from_millis(200);

/// What a resolver serves.
#[derive(Clone, Debug)]
pub struct Options {
    /// The table file the engine writes (JSON, see [`super::Table`]).
    pub table: PathBuf,
    /// Where to listen, UDP and TCP: each network's gateway, port 53. A
    /// port of 0 takes a free UDP port and the same port for TCP.
    pub listen: Vec<SocketAddr>,
    /// Where unknown names go, from a source without its own upstreams
    /// in the table.
    pub upstreams: Vec<SocketAddr>,
    /// How long one upstream has to answer.
    pub timeout: Duration,
    /// The TTL of local answers: short, since containers come and go.
    pub ttl: u32,
}

impl Options {
    /// Defaults: a 2 s upstream timeout, a 5 s TTL.
    pub fn new(table: PathBuf, listen: Vec<SocketAddr>, upstreams: Vec<SocketAddr>) -> Options {
        Options {
            table,
            listen,
            upstreams,
            timeout: Duration::from_secs(2),
            ttl: 5,
        }
    }
}

/// What every thread shares.
struct Shared {
    table: TableFile,
    forwarder: Forwarder,
    /// The addresses served: never forwarded to.
    listen: Vec<SocketAddr>,
    ttl: u32,
    stop: AtomicBool,
    forwards: AtomicUsize,
    connections: AtomicUsize,
}

/// A running resolver. [`Server::stop`] (or dropping it) ends it.
pub struct Server {
    shared: Arc<Shared>,
    addrs: Vec<SocketAddr>,
    threads: Vec<JoinHandle<()>>,
}

impl Server {
    /// Binds every address (all or none) and starts serving.
    pub fn start(opts: Options) -> Result<Server, DnsError> {
        if opts.listen.is_empty() {
            return Err(DnsError::NoListen);
        }
        let mut sockets = Vec::new();
        for addr in &opts.listen {
            sockets.push(bind(*addr)?);
        }
        let shared = Arc::new(Shared {
            table: TableFile::open(&opts.table),
            forwarder: Forwarder {
                upstreams: opts.upstreams,
                timeout: opts.timeout,
            },
            listen: sockets.iter().map(|(addr, _, _)| *addr).collect(),
            ttl: opts.ttl,
            stop: AtomicBool::new(false),
            forwards: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
        });
        let mut server = Server {
            shared,
            addrs: Vec::new(),
            threads: Vec::new(),
        };
        for (addr, udp, tcp) in sockets {
            server.addrs.push(addr);
            let sh = server.shared.clone();
            server.spawn(format!("dns-udp-{addr}"), move || serve_udp(&sh, &udp))?;
            let sh = server.shared.clone();
            server.spawn(format!("dns-tcp-{addr}"), move || serve_tcp(&sh, &tcp))?;
        }
        Ok(server)
    }

    /// The addresses served (with the ports taken for port 0).
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Re-reads the table file now (SIGHUP), changed or not.
    pub fn reload(&self) {
        self.shared.table.reload();
    }

    /// Stops serving and waits for the socket threads. A connection or a
    /// forward in progress finishes on its own thread.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for addr in &self.addrs {
            // Wake the accept; the UDP threads notice within POLL.
            let _ = TcpStream::connect_timeout(addr, POLL);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    fn spawn(&mut self, name: String, f: impl FnOnce() + Send + 'static) -> Result<(), DnsError> {
        let t = spawn_named(name, f)?;
        self.threads.push(t);
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.halt();
        }
    }
}

fn spawn_named(
    name: String,
    f: impl FnOnce() + Send + 'static,
) -> Result<JoinHandle<()>, DnsError> {
    std::thread::Builder::new()
        .name(name)
        .spawn(f)
        .map_err(|source| DnsError::Thread { source })
}

/// UDP and TCP on one address; port 0 takes UDP's free port for both.
/// Returns the address bound.
fn bind(addr: SocketAddr) -> Result<(SocketAddr, UdpSocket, TcpListener), DnsError> {
    let udp_err = |source| DnsError::Bind {
        addr,
        proto: "udp",
        source,
    };
    let udp = UdpSocket::bind(addr).map_err(udp_err)?;
    udp.set_read_timeout(Some(POLL)).map_err(udp_err)?;
    let bound = udp.local_addr().map_err(udp_err)?;
    let tcp = TcpListener::bind(bound).map_err(|source| DnsError::Bind {
        addr: bound,
        proto: "tcp",
        source,
    })?;
    Ok((bound, udp, tcp))
}

/// The IPv4 source the table knows containers by.
fn source_of(peer: SocketAddr) -> Ipv4Addr {
    match peer.ip().to_canonical() {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    }
}

impl Shared {
    /// The upstreams for a forward: `own` (the asker's, from the table)
    /// or the host's, without this resolver's own addresses.
    fn upstreams(&self, own: Option<&[SocketAddr]>) -> Vec<SocketAddr> {
        own.unwrap_or(&self.forwarder.upstreams)
            .iter()
            .filter(|a| !self.listen.contains(a))
            .copied()
            .collect()
    }
}

/// What to do with one received message.
enum Step {
    Send(Vec<u8>),
    /// Ask these upstreams (never empty).
    Forward(wire::Request, Vec<SocketAddr>),
    Nothing,
}

/// The table's part of a question: an answer now, or a forward to the
/// asker's upstreams (SERVFAIL now when there are none). `udp`: the
/// answer must fit the asker's UDP size.
fn step(sh: &Shared, bytes: &[u8], peer: SocketAddr, udp: bool) -> Step {
    let req = match wire::read(bytes) {
        wire::Incoming::Ask(r) => r,
        wire::Incoming::Reply(b) => return Step::Send(b),
        wire::Incoming::Ignore => return Step::Nothing,
    };
    let source = source_of(peer);
    let zone = sh.table.current();
    let decision = zone.decide(source, &req.name, req.kind);
    if decision == Decision::Forward {
        let upstreams = sh.upstreams(zone.upstreams_for(source));
        if upstreams.is_empty() {
            return Step::Send(wire::servfail(&req));
        }
        return Step::Forward(req, upstreams);
    }
    let limit = if udp {
        wire::udp_limit(&req)
    } else {
        usize::from(u16::MAX)
    };
    Step::Send(wire::reply(&req, &decision, sh.ttl, limit))
}

fn serve_udp(sh: &Arc<Shared>, sock: &UdpSocket) {
    let mut buf = vec![0u8; 65535];
    while !sh.stop.load(Ordering::SeqCst) {
        let (n, peer) = match sock.recv_from(&mut buf) {
            Ok(x) => x,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(e) => {
                tracing::warn!("dns: receiving on {:?}: {e}", sock.local_addr().ok());
                std::thread::sleep(POLL);
                continue;
            }
        };
        let bytes = &buf[..n];
        match step(sh, bytes, peer, true) {
            Step::Send(b) => send_udp(sock, &b, peer),
            Step::Nothing => {}
            Step::Forward(req, ups) => forward_udp(sh, sock, bytes.to_vec(), req, ups, peer),
        }
    }
}

fn send_udp(sock: &UdpSocket, bytes: &[u8], peer: SocketAddr) {
    if let Err(e) = sock.send_to(bytes, peer) {
        tracing::debug!("dns: answering {peer}: {e}");
    }
}

/// Forwards to `upstreams` on a thread of its own; SERVFAIL at once when
/// too many are in flight or no thread can be had.
fn forward_udp(
    sh: &Arc<Shared>,
    sock: &UdpSocket,
    raw: Vec<u8>,
    req: wire::Request,
    upstreams: Vec<SocketAddr>,
    peer: SocketAddr,
) {
    if sh.forwards.fetch_add(1, Ordering::SeqCst) >= MAX_FORWARDS {
        sh.forwards.fetch_sub(1, Ordering::SeqCst);
        return send_udp(sock, &wire::servfail(&req), peer);
    }
    let Ok(out) = sock.try_clone() else {
        sh.forwards.fetch_sub(1, Ordering::SeqCst);
        return send_udp(sock, &wire::servfail(&req), peer);
    };
    let sh2 = sh.clone();
    let spawned = spawn_named("dns-forward".into(), move || {
        let reply = sh2
            .forwarder
            .ask_via(&upstreams, &raw, false)
            .unwrap_or_else(|| wire::servfail(&req));
        send_udp(&out, &reply, peer);
        sh2.forwards.fetch_sub(1, Ordering::SeqCst);
    });
    if let Err(e) = spawned {
        sh.forwards.fetch_sub(1, Ordering::SeqCst);
        tracing::warn!("dns: {e}");
    }
}

fn serve_tcp(sh: &Arc<Shared>, listener: &TcpListener) {
    for conn in listener.incoming() {
        if sh.stop.load(Ordering::SeqCst) {
            break;
        }
        let stream = match conn {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!("dns: accepting: {e}");
                continue;
            }
        };
        if sh.connections.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            sh.connections.fetch_sub(1, Ordering::SeqCst);
            continue; // dropped: the asker retries
        }
        let sh2 = sh.clone();
        let spawned = spawn_named("dns-tcp-conn".into(), move || {
            serve_conn(&sh2, stream);
            sh2.connections.fetch_sub(1, Ordering::SeqCst);
        });
        if let Err(e) = spawned {
            sh.connections.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!("dns: {e}");
        }
    }
}

/// Answers one connection's questions in turn.
fn serve_conn(sh: &Shared, mut stream: TcpStream) {
    let Ok(peer) = stream.peer_addr() else { return };
    if stream.set_read_timeout(Some(TCP_IDLE)).is_err()
        || stream.set_write_timeout(Some(TCP_IDLE)).is_err()
    {
        return;
    }
    while !sh.stop.load(Ordering::SeqCst) {
        let Ok(bytes) = read_framed(&mut stream) else {
            return; // closed, idle or broken
        };
        let reply = match step(sh, &bytes, peer, false) {
            Step::Send(b) => b,
            Step::Nothing => continue,
            Step::Forward(req, ups) => sh
                .forwarder
                .ask_via(&ups, &bytes, true)
                .unwrap_or_else(|| wire::servfail(&req)),
        };
        if write_framed(&mut stream, &reply).is_err() {
            return;
        }
    }
}
