//! Holding published ports' host side (`runtime::net::reserve`) with real
//! sockets on this machine's loopback and wildcard addresses: a held port
//! cannot be bound by anyone else, a taken one is a sentence naming who
//! holds it, a range moves on to its next free port, and a dropped
//! reservation frees its port. Ports are the kernel's picks (bind to port
//! 0), so tests running beside others do not collide; nothing here needs
//! root, and nothing leaves the machine.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::io::ErrorKind;
use std::net::{Ipv4Addr, Ipv6Addr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use stack::runtime::firewall::Proto;
use stack::runtime::net::{reserve, reserve_in_range, Holder, PortError, Reservation};

/// The tests take ports the kernel picks and free them again: run one at
/// a time, or one test may get the port another just freed and is about
/// to bind.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// `n` consecutive ports free for `proto` on every address, each held
/// (drop one to free it).
fn consecutive(n: u16, proto: Proto) -> Vec<Reservation> {
    for _ in 0..50 {
        let first = reserve(None, 0, proto).unwrap();
        let base = first.port();
        if base > u16::MAX - n {
            continue;
        }
        let mut held = vec![first];
        for port in base + 1..base + n {
            match reserve(None, port, proto) {
                Ok(r) => held.push(r),
                Err(_) => break,
            }
        }
        if held.len() == usize::from(n) {
            return held;
        }
    }
    panic!("no {n} consecutive free ports");
}

/// Whether this kernel lists bound-only TCP sockets (sock_diag's
/// TCP_BOUND_INACTIVE, Linux 6.10), which a TCP reservation is.
fn kernel_lists_bound_tcp() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (6, 10)
}

fn me() -> Holder {
    Holder {
        pid: std::process::id() as i32,
        command: std::fs::read_to_string("/proc/self/comm")
            .unwrap()
            .trim_end()
            .to_string(),
    }
}

#[test]
fn reserving_twice_names_this_process() {
    let _serial = serial();
    for proto in [Proto::Tcp, Proto::Udp] {
        let held = reserve(None, 0, proto).unwrap();
        let port = held.port();
        assert_ne!(port, 0);
        assert_eq!(held.addr(), Ipv4Addr::UNSPECIFIED);
        let err = reserve(None, port, proto).unwrap_err();
        let PortError::Taken {
            addr,
            port: p,
            proto: q,
            holder,
        } = &err
        else {
            panic!("{proto:?}: {err:?}");
        };
        assert_eq!((*addr, *p, *q), (Ipv4Addr::UNSPECIFIED, port, proto));
        if proto == Proto::Udp || kernel_lists_bound_tcp() {
            assert_eq!(holder.as_ref(), Some(&me()), "{proto:?}: {err}");
            let me = me();
            assert_eq!(
                err.to_string(),
                format!(
                    "port {port}/{} on 0.0.0.0 is already in use by pid {} ({}): stop it or publish another port",
                    proto.as_str(),
                    me.pid,
                    me.command
                )
            );
        } else {
            assert!(err.to_string().contains("another stack project"), "{err}");
        }
        // On one address, against a reservation on all of them: taken too.
        let err = reserve(Some(Ipv4Addr::LOCALHOST), port, proto).unwrap_err();
        assert!(matches!(err, PortError::Taken { .. }), "{err}");
    }
}

#[test]
fn a_held_port_is_closed_to_everyone_else() {
    let _serial = serial();
    let held = reserve(Some(Ipv4Addr::LOCALHOST), 0, Proto::Tcp).unwrap();
    let port = held.port();
    // Nobody binds it, on that address, on all of them, or dual-stack.
    for result in [
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)),
        TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)),
        TcpListener::bind((Ipv6Addr::UNSPECIFIED, port)),
    ] {
        assert_eq!(result.unwrap_err().kind(), ErrorKind::AddrInUse);
    }
    // It does not listen: a connection is refused, not queued.
    let err =
        TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_secs(2))
            .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");

    // Dropped: the port is free again, for anyone. (Linux 6.1, in the v2
    // guest, may take a moment after the refused connect: allow one second.)
    drop(held);
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    let listener = loop {
        match TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            Err(e) if e.kind() == ErrorKind::AddrInUse && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            r => break r,
        }
    };
    drop(listener.unwrap());
    let again = reserve(Some(Ipv4Addr::LOCALHOST), port, Proto::Tcp).unwrap();
    assert_eq!(again.port(), port);
    drop(again);

    let udp = reserve(None, 0, Proto::Udp).unwrap();
    let port = udp.port();
    assert_eq!(
        UdpSocket::bind((Ipv4Addr::LOCALHOST, port))
            .unwrap_err()
            .kind(),
        ErrorKind::AddrInUse
    );
    drop(udp);
    drop(UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).unwrap());
}

/// A busybox `nc -l` of the test's own, killed and reaped when dropped.
struct Listener(Child);

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_port_held_by_another_program_names_it() {
    let _serial = serial();
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("busybox not found: apt-get install busybox-static");
    let port = reserve(None, 0, Proto::Tcp).unwrap().port();
    let nc = Listener(
        Command::new(busybox)
            .args(["nc", "-l", "-p", &port.to_string()])
            .spawn()
            .unwrap(),
    );
    // Until it listens, the port is ours to take (and give back).
    let deadline = Instant::now() + Duration::from_secs(10);
    let err = loop {
        match reserve(None, port, Proto::Tcp) {
            Err(e) => break e,
            Ok(r) => drop(r),
        }
        assert!(Instant::now() < deadline, "nc never listened on {port}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let PortError::Taken { holder, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(
        holder.as_ref(),
        Some(&Holder {
            pid: nc.0.id() as i32,
            command: "busybox".into()
        }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "port {port}/tcp on 0.0.0.0 is already in use by pid {} (busybox): stop it or publish another port",
            nc.0.id()
        )
    );
    // On the loopback only: the wildcard listener is still who holds it.
    let err = reserve(Some(Ipv4Addr::LOCALHOST), port, Proto::Tcp).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("in use by pid {} (busybox)", nc.0.id())),
        "{err}"
    );
}

#[test]
fn a_range_takes_its_first_free_port() {
    let _serial = serial();
    for proto in [Proto::Tcp, Proto::Udp] {
        let mut held = consecutive(3, proto);
        let first = held[0].port();
        let last = first + 2;
        // First two held, the third free: the third.
        drop(held.pop());
        let got = reserve_in_range(None, first, last, proto).unwrap();
        assert_eq!(got.port(), last, "{proto:?}");
        // All three held: a sentence for the range.
        let err = reserve_in_range(None, first, last, proto).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "every port of {first}-{last}/{} on 0.0.0.0 is already in use: stop what holds them or publish another range",
                proto.as_str()
            )
        );
        // The first freed: the first again.
        drop(held.remove(0));
        assert_eq!(
            reserve_in_range(None, first, last, proto).unwrap().port(),
            first
        );
    }
}

#[test]
fn an_address_the_host_does_not_have_is_said() {
    let _serial = serial();
    // TEST-NET-1 (RFC 5737): on no host.
    let addr = Ipv4Addr::new(192, 0, 2, 1);
    let err = reserve(Some(addr), 8080, Proto::Tcp).unwrap_err();
    assert!(matches!(err, PortError::NoSuchAddress { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "cannot publish port 8080/tcp on 192.0.2.1: the host has no such address"
    );
}
