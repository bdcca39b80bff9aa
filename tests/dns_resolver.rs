//! The embedded resolver over real sockets, without root: the server on
//! 127.53.N.1 (a free high port), "containers" asking from other loopback
//! addresses they bind (the table knows them by these), and a fake
//! upstream resolver, run by the test itself on another loopback address.
//! Nothing is sent off the machine.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use nix::sys::socket::{self, AddressFamily, SockFlag, SockType, SockaddrIn};
use stack::runtime::dns::forward::{read_framed, write_framed};
use stack::runtime::dns::table::store;
use stack::runtime::dns::{Options, Server, Table};

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// Test `n`'s loopback address `127.53.n.host`.
fn lo(n: u8, host: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 53, n, host)
}

/// front: client (.10), web (.20, alias www); back: web (.21), db (.30).
fn table(n: u8, db: Ipv4Addr) -> Table {
    let mut t = Table::default();
    t.networks.insert(
        "front".into(),
        BTreeMap::from([
            ("client".to_string(), vec![lo(n, 10)]),
            ("web".to_string(), vec![lo(n, 20)]),
            ("www".to_string(), vec![lo(n, 20)]),
        ]),
    );
    t.networks.insert(
        "back".into(),
        BTreeMap::from([
            ("web".to_string(), vec![lo(n, 21)]),
            ("db".to_string(), vec![db]),
        ]),
    );
    let nets = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    t.containers.insert(lo(n, 10), nets(&["front"]));
    t.containers.insert(lo(n, 21), nets(&["front", "back"]));
    t.containers.insert(lo(n, 30), nets(&["back"]));
    t
}

fn query(name: &str, t: RecordType) -> Message {
    let mut m = Message::query();
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), t));
    m
}

/// Asks `server` over UDP from `from`.
fn udp(from: Ipv4Addr, server: SocketAddr, name: &str, t: RecordType) -> Message {
    let sock = UdpSocket::bind((from, 0)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let q = query(name, t);
    sock.send_to(&q.to_vec().unwrap(), server).unwrap();
    let mut buf = [0u8; 4096];
    let (n, peer) = sock.recv_from(&mut buf).unwrap();
    assert_eq!(peer, server, "the answer comes from the address asked");
    let m = Message::from_vec(&buf[..n]).unwrap();
    assert_eq!(m.metadata.id, q.metadata.id);
    m
}

/// A TCP connection to `server` from `from` (std cannot bind first).
fn tcp_from(from: Ipv4Addr, server: SocketAddr) -> TcpStream {
    let fd: OwnedFd = socket::socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .unwrap();
    socket::bind(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrIn::from(SocketAddrV4::new(from, 0)),
    )
    .unwrap();
    let SocketAddr::V4(s) = server else { panic!() };
    socket::connect(std::os::fd::AsRawFd::as_raw_fd(&fd), &SockaddrIn::from(s)).unwrap();
    let stream = TcpStream::from(fd);
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

fn tcp_ask(stream: &mut TcpStream, name: &str, t: RecordType) -> Message {
    let q = query(name, t);
    write_framed(stream, &q.to_vec().unwrap()).unwrap();
    let m = Message::from_vec(&read_framed(stream).unwrap()).unwrap();
    assert_eq!(m.metadata.id, q.metadata.id);
    m
}

fn tcp(from: Ipv4Addr, server: SocketAddr, name: &str, t: RecordType) -> Message {
    tcp_ask(&mut tcp_from(from, server), name, t)
}

fn addrs(m: &Message) -> Vec<Ipv4Addr> {
    m.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect()
}

/// `bind` succeeds within 5 s.
fn freed(at: SocketAddr, bind: impl Fn() -> std::io::Result<()>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match bind() {
            Ok(()) => return,
            Err(e) if Instant::now() > deadline => panic!("{at} still in use after stop: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// A resolver for test `n` on 127.53.n.1, port 0 (a free one).
fn start(n: u8, dir: &Path, upstreams: Vec<SocketAddr>) -> Server {
    let path = dir.join("table.json");
    store(&path, &table(n, lo(n, 30))).unwrap();
    let mut o = Options::new(path, vec![SocketAddr::new(lo(n, 1).into(), 0)], upstreams);
    o.timeout = Duration::from_millis(300);
    Server::start(o).unwrap()
}

/// The fake upstream: `example.test` → 192.0.2.1 (or the address it was
/// given); `big.test` → TC over UDP and 100 addresses over TCP;
/// `silent.test` → no answer; other names NXDOMAIN. Counts the questions
/// it got.
struct Upstream {
    addr: SocketAddr,
    asked: Arc<AtomicUsize>,
}

fn upstream_answer(q: &Message, over_tcp: bool, example: Ipv4Addr) -> Option<Message> {
    let query = q.queries.first()?;
    let name = query.name.to_ascii().to_ascii_lowercase();
    let mut m = Message::response(q.metadata.id, q.metadata.op_code);
    m.add_query(query.clone());
    m.metadata.recursion_available = true;
    let a = |ip: Ipv4Addr| Record::from_rdata(query.name.clone(), 60, RData::A(A(ip)));
    match name.as_str() {
        "example.test." => {
            m.add_answer(a(example));
        }
        "big.test." if over_tcp => {
            for i in 0..100 {
                m.add_answer(a(Ipv4Addr::new(198, 51, 100, i)));
            }
        }
        "big.test." => m.metadata.truncation = true,
        "silent.test." => return None,
        _ => m.metadata.response_code = ResponseCode::NXDomain,
    }
    Some(m)
}

fn fake_upstream(at: Ipv4Addr) -> Upstream {
    fake_upstream_answering(at, ip("192.0.2.1"))
}

/// A fake upstream whose `example.test` is `example`.
fn fake_upstream_answering(at: Ipv4Addr, example: Ipv4Addr) -> Upstream {
    let udp = UdpSocket::bind((at, 0)).unwrap();
    let addr = udp.local_addr().unwrap();
    let tcp = TcpListener::bind(addr).unwrap();
    let asked = Arc::new(AtomicUsize::new(0));
    let count = asked.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, peer)) = udp.recv_from(&mut buf) {
            count.fetch_add(1, Ordering::SeqCst);
            let q = Message::from_vec(&buf[..n]).unwrap();
            if let Some(m) = upstream_answer(&q, false, example) {
                udp.send_to(&m.to_vec().unwrap(), peer).unwrap();
            }
        }
    });
    let count = asked.clone();
    std::thread::spawn(move || {
        for mut s in tcp.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            let q = Message::from_vec(&read_framed(&mut s).unwrap()).unwrap();
            if let Some(m) = upstream_answer(&q, true, example) {
                write_framed(&mut s, &m.to_vec().unwrap()).unwrap();
            }
        }
    });
    Upstream { addr, asked }
}

#[test]
fn names_resolve_over_udp_on_shared_networks_only() {
    let dir = tempfile::tempdir().unwrap();
    let up = fake_upstream(lo(1, 53));
    let server = start(1, dir.path(), vec![up.addr]);
    let at = server.addrs()[0];
    assert_ne!(at.port(), 0);
    let client = lo(1, 10);
    let m = udp(client, at, "web", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.metadata.authoritative);
    assert_eq!(addrs(&m), vec![lo(1, 20)]);
    for name in ["WWW.", "Web.", "www"] {
        assert_eq!(
            addrs(&udp(client, at, name, RecordType::A)),
            vec![lo(1, 20)],
            "{name}"
        );
    }
    // web seen from back: its back address first (networks in order).
    assert_eq!(
        addrs(&udp(lo(1, 30), at, "web", RecordType::A)),
        vec![lo(1, 21)]
    );
    // AAAA of a known name: empty NOERROR, not forwarded.
    let m = udp(client, at, "web", RecordType::AAAA);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.answers.is_empty());
    assert_eq!(up.asked.load(Ordering::SeqCst), 0);
    // db is on back only: the client's question goes upstream (NXDOMAIN).
    let m = udp(client, at, "db", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(up.asked.load(Ordering::SeqCst), 1);
    assert_eq!(
        addrs(&udp(lo(1, 30), at, "db", RecordType::A)),
        vec![lo(1, 30)]
    );
    server.stop();
    // Stopped: the address is free again (once a forward still finishing
    // on its own thread, as `stop` allows, has let go of the socket: a
    // moment in a slow emulated guest).
    freed(at, || UdpSocket::bind(at).map(drop));
    freed(at, || TcpListener::bind(at).map(drop));
}

#[test]
fn names_resolve_over_tcp_several_questions_per_connection() {
    let dir = tempfile::tempdir().unwrap();
    let up = fake_upstream(lo(2, 53));
    let server = start(2, dir.path(), vec![up.addr]);
    let at = server.addrs()[0];
    let mut s = tcp_from(lo(2, 10), at);
    assert_eq!(
        addrs(&tcp_ask(&mut s, "web.", RecordType::A)),
        vec![lo(2, 20)]
    );
    assert_eq!(
        addrs(&tcp_ask(&mut s, "client", RecordType::A)),
        vec![lo(2, 10)]
    );
    let m = tcp_ask(&mut s, "example.test", RecordType::A);
    assert_eq!(addrs(&m), vec![ip("192.0.2.1")]);
    let m = tcp(lo(2, 30), at, "DB", RecordType::A);
    assert_eq!(addrs(&m), vec![lo(2, 30)]);
    server.stop();
}

#[test]
fn a_replaced_table_answers_at_once_without_dropping_questions() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(3, dir.path(), vec![]);
    let at = server.addrs()[0];
    let from = lo(3, 30);
    assert_eq!(addrs(&udp(from, at, "db", RecordType::A)), vec![lo(3, 30)]);
    // db recreated with a new address: the next question sees it.
    let path = dir.path().join("table.json");
    store(&path, &table(3, lo(3, 31))).unwrap();
    assert_eq!(addrs(&udp(from, at, "db", RecordType::A)), vec![lo(3, 31)]);
    // A service added: its name resolves.
    let mut t = table(3, lo(3, 31));
    t.networks
        .get_mut("back")
        .unwrap()
        .insert("cache".into(), vec![lo(3, 40)]);
    store(&path, &t).unwrap();
    assert_eq!(
        addrs(&udp(from, at, "cache", RecordType::A)),
        vec![lo(3, 40)]
    );
    // Rewritten 100 times while a client asks: every question answered,
    // always with one of the two tables' addresses.
    let asker = std::thread::spawn(move || {
        let mut seen = BTreeSet::new();
        for _ in 0..200 {
            let m = udp(from, at, "db", RecordType::A);
            assert_eq!(m.metadata.response_code, ResponseCode::NoError);
            seen.extend(addrs(&m));
        }
        seen
    });
    for i in 0..100u8 {
        store(&path, &table(3, lo(3, 31 + i % 2))).unwrap();
    }
    let seen = asker.join().unwrap();
    assert!(
        seen.is_subset(&BTreeSet::from([lo(3, 31), lo(3, 32)])),
        "{seen:?}"
    );
    // A broken table keeps the last good one.
    std::fs::write(dir.path().join("broken"), "{").unwrap();
    std::fs::rename(dir.path().join("broken"), &path).unwrap();
    assert_eq!(addrs(&udp(from, at, "db", RecordType::A)).len(), 1);
    server.stop();
}

#[test]
fn unknown_names_are_forwarded_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let up = fake_upstream(lo(4, 53));
    // A first upstream that never answers: the second one is asked.
    let dead = UdpSocket::bind((lo(4, 54), 0)).unwrap();
    let server = start(4, dir.path(), vec![dead.local_addr().unwrap(), up.addr]);
    let at = server.addrs()[0];
    let m = udp(lo(4, 10), at, "example.test.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert_eq!(addrs(&m), vec![ip("192.0.2.1")]);
    // An asker the table does not know gets forwarded answers only.
    let m = udp(lo(4, 99), at, "web", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    // A truncated upstream answer: a UDP asker gets TC and retries over
    // TCP, where the resolver asks upstream over TCP for the whole one.
    let m = udp(lo(4, 10), at, "big.test", RecordType::A);
    assert!(m.metadata.truncation);
    let m = tcp(lo(4, 10), at, "big.test", RecordType::A);
    assert!(!m.metadata.truncation);
    assert_eq!(addrs(&m).len(), 100);
    drop(dead);
    server.stop();
}

#[test]
fn no_upstream_answer_is_servfail() {
    let dir = tempfile::tempdir().unwrap();
    let up = fake_upstream(lo(5, 53));
    let server = start(5, dir.path(), vec![up.addr]);
    let at = server.addrs()[0];
    let t0 = Instant::now();
    let m = udp(lo(5, 10), at, "silent.test", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    let m = tcp(lo(5, 10), at, "silent.test", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    // Local names still answer while a forward waits.
    let slow = std::thread::spawn(move || udp(lo(5, 11), at, "silent.test", RecordType::A));
    assert_eq!(
        addrs(&udp(lo(5, 10), at, "web", RecordType::A)),
        vec![lo(5, 20)]
    );
    assert_eq!(
        slow.join().unwrap().metadata.response_code,
        ResponseCode::ServFail
    );
    server.stop();
    // No upstream at all: SERVFAIL at once.
    let server = start(5, dir.path(), vec![]);
    let m = udp(lo(5, 10), server.addrs()[0], "example.test", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    server.stop();
}

#[test]
fn a_taken_address_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let taken = UdpSocket::bind((lo(6, 1), 0)).unwrap();
    let at = taken.local_addr().unwrap();
    let o = Options::new(dir.path().join("table.json"), vec![at], vec![]);
    let e = Server::start(o).err().unwrap().to_string();
    assert!(e.contains(&at.to_string()) && e.contains("udp"), "{e}");
    let o = Options::new(dir.path().join("table.json"), vec![], vec![]);
    assert!(Server::start(o).is_err());
}

#[test]
fn serve_main_serves_until_sigterm_and_rereads_on_sighup() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("table.json");
    store(&path, &table(7, lo(7, 30))).unwrap();
    // A fixed high port on an address of this test's own.
    let at = SocketAddr::new(lo(7, 1).into(), 15353);
    let p = path.clone();
    let main = std::thread::spawn(move || stack::runtime::dns::serve_main(&p, vec![at]));
    let from = lo(7, 30);
    let deadline = Instant::now() + Duration::from_secs(10);
    let ask = || {
        let sock = UdpSocket::bind((from, 0)).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let q = query("db", RecordType::A);
        sock.send_to(&q.to_vec().unwrap(), at).unwrap();
        let mut buf = [0u8; 512];
        let n = sock.recv(&mut buf).ok()?;
        Some(addrs(&Message::from_vec(&buf[..n]).unwrap()))
    };
    let first = loop {
        if let Some(a) = ask() {
            break a;
        }
        assert!(Instant::now() < deadline, "serve_main never answered");
    };
    assert_eq!(first, vec![lo(7, 30)]);
    store(&path, &table(7, lo(7, 31))).unwrap();
    kill(Pid::this(), Signal::SIGHUP).unwrap();
    assert_eq!(ask(), Some(vec![lo(7, 31)]));
    kill(Pid::this(), Signal::SIGTERM).unwrap();
    main.join().unwrap().unwrap();
    freed(at, || UdpSocket::bind(at).map(drop));
}

#[test]
fn a_container_with_its_own_upstreams_is_forwarded_there() {
    let dir = tempfile::tempdir().unwrap();
    let host = fake_upstream(lo(8, 53));
    let own = fake_upstream_answering(lo(8, 54), ip("192.0.2.8"));
    let server = start(8, dir.path(), vec![host.addr]);
    let at = server.addrs()[0];
    let path = dir.path().join("table.json");
    // client (.10) has `dns: [own]`; db (.30) has an empty list; web
    // (.21) has none and uses the host's.
    let mut t = table(8, lo(8, 30));
    t.upstreams.insert(lo(8, 10), vec![own.addr]);
    t.upstreams.insert(lo(8, 30), vec![]);
    store(&path, &t).unwrap();
    let example = |from, tcp_too: bool| {
        let mut got = addrs(&udp(from, at, "example.test", RecordType::A));
        if tcp_too {
            assert_eq!(addrs(&tcp(from, at, "example.test", RecordType::A)), got);
        }
        got.pop()
    };
    assert_eq!(example(lo(8, 10), true), Some(ip("192.0.2.8")));
    assert_eq!(example(lo(8, 21), true), Some(ip("192.0.2.1")));
    assert_eq!(own.asked.load(Ordering::SeqCst), 2);
    assert_eq!(host.asked.load(Ordering::SeqCst), 2);
    // Local names stay local, whatever the upstreams.
    assert_eq!(
        addrs(&udp(lo(8, 10), at, "web", RecordType::A)),
        vec![lo(8, 20)]
    );
    // Truncation over its own upstream: TCP asks it over TCP.
    let m = tcp(lo(8, 10), at, "big.test", RecordType::A);
    assert_eq!(addrs(&m).len(), 100);
    assert_eq!(own.asked.load(Ordering::SeqCst), 4);
    // An empty list is no upstream: SERVFAIL at once, nobody asked.
    let t0 = Instant::now();
    for m in [
        udp(lo(8, 30), at, "example.test", RecordType::A),
        tcp(lo(8, 30), at, "example.test", RecordType::A),
    ] {
        assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    }
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
    assert_eq!(own.asked.load(Ordering::SeqCst), 4);
    assert_eq!(host.asked.load(Ordering::SeqCst), 2);
    // A changed `dns:` counts from the next question, without a restart:
    // the client back on the host's, web on its own.
    t.upstreams.remove(&lo(8, 10));
    t.upstreams.insert(lo(8, 21), vec![own.addr]);
    store(&path, &t).unwrap();
    assert_eq!(example(lo(8, 10), false), Some(ip("192.0.2.1")));
    assert_eq!(example(lo(8, 21), false), Some(ip("192.0.2.8")));
    // A list naming this resolver itself would loop: SERVFAIL instead.
    t.upstreams.insert(lo(8, 10), vec![at]);
    store(&path, &t).unwrap();
    let m = udp(lo(8, 10), at, "example.test", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    server.stop();
}
