//! "The outside world" for the network end-to-end tests: a network
//! namespace the test makes itself, with a veth to the host, a web server
//! and a DNS responder on its own address. A container that reaches it has
//! got out of its network; nothing is ever sent off the machine.
//! Part of tests/common/net.rs (`net::Outside`).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::common::text;
/// "The outside world": a network namespace of the test's own with a veth
/// to the host (10.240.`net`.1 on the host, 10.240.`net`.2 inside), a web
/// server on port 80 answering `hello from outside`, and a DNS responder
/// on port 53 answering A records for `names` (NXDOMAIN for the rest) and
/// recording every name it was asked. Removed whole when dropped.
pub struct Outside {
    pub ns: String,
    pub host_if: String,
    pub host_ip: Ipv4Addr,
    pub ip: Ipv4Addr,
    pub queries: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

pub const OUTSIDE_BODY: &str = "hello from outside";

fn ip_cmd(args: &str) -> Output {
    Command::new("ip")
        .args(args.split_whitespace())
        .output()
        .unwrap()
}

impl Outside {
    /// `tag` and `net` distinguish the tests of one process: names
    /// `stkw<tag><pid>`, addresses 10.240.`net`.0/30.
    pub fn new(tag: char, net: u8, names: &[(&str, Ipv4Addr)]) -> Outside {
        let id = std::process::id() % 100_000;
        let ns = format!("stkw{tag}{id}");
        let host_if = ns.clone();
        let host_ip = Ipv4Addr::new(10, 240, net, 1);
        let ip = Ipv4Addr::new(10, 240, net, 2);
        // Left over from an earlier run of the same pid: ours by name.
        let _ = ip_cmd(&format!("link del {host_if}"));
        let _ = ip_cmd(&format!("netns del {ns}"));
        let mut o = Outside {
            ns: ns.clone(),
            host_if: host_if.clone(),
            host_ip,
            ip,
            queries: Arc::default(),
            stop: Arc::default(),
            threads: Vec::new(),
        };
        for cmd in [
            format!("netns add {ns}"),
            format!("link add {host_if} type veth peer name eth0 netns {ns}"),
            format!("addr add {host_ip}/30 dev {host_if}"),
            format!("link set {host_if} up"),
            format!("-n {ns} addr add {ip}/30 dev eth0"),
            format!("-n {ns} link set eth0 up"),
            format!("-n {ns} link set lo up"),
            format!("-n {ns} route add default via {host_ip}"),
        ] {
            let out = ip_cmd(&cmd);
            assert!(out.status.success(), "ip {cmd}: {}", text(&out));
        }
        let names: Vec<(String, Ipv4Addr)> =
            names.iter().map(|(n, a)| (n.to_string(), *a)).collect();
        o.spawn_in_ns(move |stop, _| serve_http(stop), "http");
        o.spawn_in_ns(move |stop, q| serve_dns(stop, q, &names), "dns");
        o
    }

    /// A thread in the namespace (its sockets stay there), running `f`
    /// until `stop`; returns once `f` has bound (it sends on `ready`).
    fn spawn_in_ns(
        &mut self,
        f: impl FnOnce(Arc<AtomicBool>, Arc<Mutex<Vec<String>>>) -> std::io::Result<BoundLoop>
            + Send
            + 'static,
        what: &str,
    ) {
        let fd = std::fs::File::open(format!("/run/netns/{}", self.ns)).unwrap();
        let (stop, queries) = (self.stop.clone(), self.queries.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            // SAFETY: setns on this thread only, with a namespace fd we opened.
            let rc = unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) };
            if rc != 0 {
                let _ = tx.send(Err(std::io::Error::last_os_error()));
                return;
            }
            match f(stop, queries) {
                Ok(run) => {
                    let _ = tx.send(Ok(()));
                    run.0();
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
        match rx.recv().unwrap() {
            Ok(()) => self.threads.push(t),
            Err(e) => panic!("the outside {what} server: {e}"),
        }
    }

    /// Every name the DNS responder was asked, lowercased, no final dot.
    pub fn asked(&self) -> Vec<String> {
        self.queries.lock().unwrap().clone()
    }
}

impl Drop for Outside {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let _ = ip_cmd(&format!("link del {}", self.host_if));
        let _ = ip_cmd(&format!("netns del {}", self.ns));
    }
}

/// A server loop, returned by the set-up once its socket is bound.
pub struct BoundLoop(Box<dyn FnOnce() + Send>);

fn serve_http(stop: Arc<AtomicBool>) -> std::io::Result<BoundLoop> {
    let l = TcpListener::bind("0.0.0.0:80")?;
    l.set_nonblocking(true)?;
    Ok(BoundLoop(Box::new(move || {
        while !stop.load(Ordering::SeqCst) {
            match l.accept() {
                Ok((mut c, _)) => {
                    let _ = c.set_nonblocking(false);
                    let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut req = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                        match c.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => req.extend_from_slice(&buf[..n]),
                        }
                    }
                    let body = format!("{OUTSIDE_BODY}\n");
                    let _ = c.write_all(
                        format!(
                            "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    );
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    })))
}

fn serve_dns(
    stop: Arc<AtomicBool>,
    queries: Arc<Mutex<Vec<String>>>,
    names: &[(String, Ipv4Addr)],
) -> std::io::Result<BoundLoop> {
    let s = UdpSocket::bind("0.0.0.0:53")?;
    s.set_read_timeout(Some(Duration::from_millis(100)))?;
    let names = names.to_vec();
    Ok(BoundLoop(Box::new(move || {
        let mut buf = [0u8; 1500];
        while !stop.load(Ordering::SeqCst) {
            let Ok((n, from)) = s.recv_from(&mut buf) else {
                continue;
            };
            if let Some((name, reply)) = dns_reply(&buf[..n], &names) {
                queries.lock().unwrap().push(name);
                let _ = s.send_to(&reply, from);
            }
        }
    })))
}

/// The answer to one DNS query: an A record (TTL 5) for a known name,
/// an empty NOERROR for its other types, NXDOMAIN for other names.
pub fn dns_reply(q: &[u8], names: &[(String, Ipv4Addr)]) -> Option<(String, Vec<u8>)> {
    if q.len() < 12 {
        return None;
    }
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let len = *q.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        if len & 0xc0 != 0 {
            return None;
        }
        labels.push(String::from_utf8_lossy(q.get(i..i + len)?).to_lowercase());
        i += len;
    }
    let qtype = u16::from_be_bytes([*q.get(i)?, *q.get(i + 1)?]);
    let qend = i + 4;
    if q.len() < qend {
        return None;
    }
    let name = labels.join(".");
    let hit = names.iter().find(|(n, _)| *n == name).map(|(_, a)| *a);
    let answer = hit.filter(|_| qtype == 1);
    let mut r = Vec::with_capacity(qend + 16);
    r.extend_from_slice(&q[0..2]);
    r.push(0x84 | (q[2] & 0x01)); // QR, AA, RD as asked
    r.push(0x80 | if hit.is_some() { 0 } else { 3 }); // RA, NOERROR or NXDOMAIN
    r.extend_from_slice(&[0, 1, 0, u8::from(answer.is_some()), 0, 0, 0, 0]);
    r.extend_from_slice(&q[12..qend]);
    if let Some(a) = answer {
        r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4]);
        r.extend_from_slice(&a.octets());
    }
    Some((name, r))
}
