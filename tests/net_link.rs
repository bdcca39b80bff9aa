//! The netlink mechanics of `runtime::net`, as root, with real traffic:
//! bridges, veths born inside network namespaces, addresses, routes.
//!
//! Every namespace here is made by the test (a `sleep` that unshared its
//! network namespace) and dies with its guard; links in the host's namespace
//! are named `stktest*` and deleted by a guard; addresses are in
//! 10.250.0.0/16. Nothing leaves the machine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use stack::runtime::net::{
    self, add_address, addresses, bridge_exists, configure_netns, create_veth, del_address,
    delete_link, ensure_bridge, in_netns, link_exists, links_with_prefix, route_localnet,
    set_route_localnet, Bridge, IfConfig, NetError, Veth,
};

/// A network namespace of the test's own: a `sleep` that unshared it.
struct Netns {
    child: Child,
    file: File,
}

impl Netns {
    fn new() -> Netns {
        let mut command = Command::new("sleep");
        command.arg("600");
        // SAFETY: the closure runs between fork and exec and only makes
        // plain syscalls (prctl, unshare) and reads errno.
        unsafe {
            command.pre_exec(|| {
                // Die with the test, even if it is killed before its guard runs.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if libc::unshare(libc::CLONE_NEWNET) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
        // spawn returns once exec succeeded, so the unshare is done.
        let child = command.spawn().expect("spawn a sleep in a new netns");
        let file = File::open(format!("/proc/{}/ns/net", child.id())).unwrap();
        Netns { child, file }
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    fn path(&self) -> String {
        format!("/proc/{}/ns/net", self.child.id())
    }

    /// `ip ARGS` inside this namespace.
    fn ip(&self, args: &[&str]) -> String {
        let out = Command::new("nsenter")
            .arg(format!("--net={}", self.path()))
            .arg("ip")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "ip {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Deletes links of the host's namespace when dropped (also on failure),
/// and any leftover of an earlier run when made.
struct Links(Vec<&'static str>);

impl Links {
    fn new(names: &[&'static str]) -> Links {
        for name in names {
            delete_link(name).unwrap();
        }
        Links(names.to_vec())
    }
}

impl Drop for Links {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = delete_link(name);
        }
    }
}

fn sysfs(link: &str, file: &str) -> String {
    std::fs::read_to_string(format!("/sys/class/net/{link}/{file}"))
        .unwrap()
        .trim()
        .to_string()
}

fn mac_text(mac: [u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn bridge(name: &str, last: u8, subnet: u8) -> Bridge {
    Bridge {
        name: name.to_string(),
        // High, so any port's MAC is lower: an unpinned bridge would take it.
        mac: [0xfe, 0xff, 0xff, 0xff, 0xff, last],
        mtu: None,
        address: (Ipv4Addr::new(10, 250, subnet, 1), 24),
    }
}

/// Attaches `ns` to the bridge (from the caller's namespace) and gives it
/// 10.250.`subnet`.`host`/24 with the bridge as gateway.
fn attach(ns: &Netns, host_name: &str, bridge_ifindex: u32, subnet: u8, host: u8) {
    create_veth(&Veth {
        host_name,
        peer_name: "eth0",
        peer_netns: ns.fd(),
        bridge_ifindex,
        mtu: None,
        peer_mac: Some(net::mac_for(host_name)),
    })
    .unwrap();
    configure_netns(
        ns.fd(),
        &IfConfig {
            name: "eth0".to_string(),
            address: (Ipv4Addr::new(10, 250, subnet, host), 24),
            gateway: Some(Ipv4Addr::new(10, 250, subnet, 1)),
        },
    )
    .unwrap();
}

/// Listens on `ip` (inside `ns`, or the caller's namespace) and answers one
/// connection's "ping" with "pong"; returns the port and the server thread.
fn serve_once(ns: Option<&Netns>, ip: Ipv4Addr) -> (u16, std::thread::JoinHandle<()>) {
    let listener = match ns {
        Some(ns) => in_netns(ns.fd(), || Ok(TcpListener::bind((ip, 0)).unwrap())).unwrap(),
        None => TcpListener::bind((ip, 0)).unwrap(),
    };
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let server = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "no connection came");
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut ping = [0u8; 4];
        stream.read_exact(&mut ping).unwrap();
        assert_eq!(&ping, b"ping");
        stream.write_all(b"pong").unwrap();
    });
    (port, server)
}

/// Connects to `ip:port` from inside `ns` (or the caller's namespace),
/// says "ping" and returns the answer.
fn ping(ns: Option<&Netns>, ip: Ipv4Addr, port: u16) -> String {
    let talk = || -> Result<String, NetError> {
        let address = SocketAddr::from((ip, port));
        let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connect {address}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(b"ping").unwrap();
        let mut answer = [0u8; 4];
        stream.read_exact(&mut answer).unwrap();
        Ok(String::from_utf8_lossy(&answer).to_string())
    };
    match ns {
        Some(ns) => in_netns(ns.fd(), talk).unwrap(),
        None => talk().unwrap(),
    }
}

fn round_trip(from: Option<&Netns>, to: Option<&Netns>, ip: Ipv4Addr) {
    let (port, server) = serve_once(to, ip);
    assert_eq!(ping(from, ip, port), "pong");
    server.join().unwrap();
}

#[test]
fn a_bridge_is_reused_keeps_its_mac_and_is_deleted_whole() {
    if !common::root_or_skip("a_bridge_is_reused_keeps_its_mac_and_is_deleted_whole") {
        return;
    }
    let _links = Links::new(&["stktestabr", "stktestav1", "stktestav2"]);
    let mut br = bridge("stktestabr", 0xa1, 1);
    br.mtu = Some(1400);
    let index = ensure_bridge(&br).unwrap();
    assert_eq!(
        ensure_bridge(&br).unwrap(),
        index,
        "the same bridge, reused"
    );
    assert_eq!(net::link_index("stktestabr").unwrap(), Some(index));
    assert_eq!(sysfs("stktestabr", "address"), mac_text(br.mac));
    assert_eq!(sysfs("stktestabr", "mtu"), "1400");
    assert_eq!(sysfs("stktestabr", "addr_assign_type"), "3", "NET_ADDR_SET");
    let flags = u32::from_str_radix(sysfs("stktestabr", "flags").trim_start_matches("0x"), 16);
    assert_eq!(flags.unwrap() & 1, 1, "the bridge is up");
    let addrs = Command::new("ip")
        .args(["-br", "-4", "addr", "show", "dev", "stktestabr"])
        .output()
        .unwrap();
    let addrs = String::from_utf8(addrs.stdout).unwrap();
    assert_eq!(addrs.matches("10.250.").count(), 1, "{addrs}");
    assert!(addrs.contains("10.250.1.1/24"), "{addrs}");

    // Ports come and go (each with a MAC lower than the bridge's): the
    // bridge keeps its MAC.
    let ns1 = Netns::new();
    let ns2 = Netns::new();
    attach(&ns1, "stktestav1", index, 1, 2);
    attach(&ns2, "stktestav2", index, 1, 3);
    assert_eq!(sysfs("stktestabr", "address"), mac_text(br.mac));
    let master = std::fs::read_link("/sys/class/net/stktestav1/master").unwrap();
    assert!(master.ends_with("stktestabr"), "{master:?}");
    let flags = u32::from_str_radix(sysfs("stktestav1", "flags").trim_start_matches("0x"), 16);
    assert_eq!(flags.unwrap() & 1, 1, "the host end is up");
    let eth0 = ns1.ip(&["-br", "link", "show", "eth0"]);
    assert!(
        eth0.contains(&mac_text(net::mac_for("stktestav1"))),
        "{eth0}"
    );
    assert!(eth0.contains("UP"), "{eth0}");
    delete_link("stktestav1").unwrap();
    assert_eq!(sysfs("stktestabr", "address"), mac_text(br.mac));
    assert!(!link_exists("stktestav1").unwrap());
    assert!(ns1
        .ip(&["-br", "link"])
        .lines()
        .all(|l| !l.starts_with("eth0")));

    // A second veth of the same host name is refused, naming it.
    let err = create_veth(&Veth {
        host_name: "stktestav2",
        peer_name: "eth1",
        peer_netns: ns1.fd(),
        bridge_ifindex: index,
        mtu: None,
        peer_mac: None,
    })
    .unwrap_err();
    assert_eq!(err.errno(), Some(libc::EEXIST), "{err}");
    assert!(err.to_string().contains("stktestav2"), "{err}");
    // A bridge that does not exist: the kernel's errno and its sentence.
    let err = create_veth(&Veth {
        host_name: "stktestav3",
        peer_name: "eth1",
        peer_netns: ns1.fd(),
        bridge_ifindex: 0x7fff_fff0,
        mtu: None,
        peer_mac: None,
    })
    .unwrap_err();
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
    assert!(!link_exists("stktestav3").unwrap(), "nothing half-made");
    // The kernel's own sentence (its extended ack) is kept.
    let mut huge = br.clone();
    huge.mtu = Some(1_000_000);
    let err = ensure_bridge(&huge).unwrap_err().to_string();
    assert!(err.starts_with("set up bridge stktestabr: "), "{err}");
    assert!(err.contains("(mtu greater than device maximum)"), "{err}");
    // A name taken by something that is not a bridge is refused too.
    let err = ensure_bridge(&bridge("stktestav2", 1, 1)).unwrap_err();
    assert!(matches!(err, NetError::NotABridge { .. }), "{err}");

    // A changed subnet replaces the address, not adds one.
    br.address = (Ipv4Addr::new(10, 250, 2, 1), 24);
    assert_eq!(ensure_bridge(&br).unwrap(), index);
    let addrs = Command::new("ip")
        .args(["-br", "-4", "addr", "show", "dev", "stktestabr"])
        .output()
        .unwrap();
    let addrs = String::from_utf8(addrs.stdout).unwrap();
    assert!(
        addrs.contains("10.250.2.1/24") && !addrs.contains("10.250.1.1"),
        "{addrs}"
    );

    assert_eq!(
        links_with_prefix("stktesta").unwrap(),
        ["stktestabr", "stktestav2"]
    );
    delete_link("stktestabr").unwrap();
    delete_link("stktestav2").unwrap();
    delete_link("stktestabr").unwrap(); // already gone: fine
    assert!(links_with_prefix("stktesta").unwrap().is_empty());
}

#[test]
fn two_namespaces_talk_over_a_bridge() {
    if !common::root_or_skip("two_namespaces_talk_over_a_bridge") {
        return;
    }
    // The "host" is a namespace of its own: bridged traffic between two
    // ports passes the real host's FORWARD chain (br_netfilter), which a
    // Docker engine sets to DROP; opening it is the firewall's job, not
    // this module's. Everything here dies with `host`.
    let host = Netns::new();
    let a = Netns::new();
    let b = Netns::new();
    in_netns(host.fd(), || {
        let index = ensure_bridge(&bridge("stktestbbr", 0xb1, 3))?;
        assert_eq!(ensure_bridge(&bridge("stktestbbr", 0xb1, 3))?, index);
        attach(&a, "stktestbva", index, 3, 2);
        attach(&b, "stktestbvb", index, 3, 3);
        Ok(())
    })
    .unwrap();
    let routes = a.ip(&["-4", "route", "show", "default"]);
    assert!(
        routes.contains("default via 10.250.3.1 dev eth0"),
        "{routes}"
    );
    let lo = a.ip(&["-br", "link", "show", "lo"]);
    assert!(lo.contains("UP"), "{lo}");
    // Configuring again changes nothing and fails nothing.
    configure_netns(
        a.fd(),
        &IfConfig {
            name: "eth0".to_string(),
            address: (Ipv4Addr::new(10, 250, 3, 2), 24),
            gateway: Some(Ipv4Addr::new(10, 250, 3, 1)),
        },
    )
    .unwrap();
    let addrs = a.ip(&["-br", "-4", "addr", "show", "dev", "eth0"]);
    assert_eq!(addrs.matches("10.250.3.2/24").count(), 1, "{addrs}");

    round_trip(Some(&b), Some(&a), Ipv4Addr::new(10, 250, 3, 2));
    round_trip(Some(&a), Some(&b), Ipv4Addr::new(10, 250, 3, 3));
    // The "host" reaches a container at its address, and a container the
    // host at the bridge's address.
    round_trip(Some(&host), Some(&a), Ipv4Addr::new(10, 250, 3, 2));
    round_trip(Some(&b), Some(&host), Ipv4Addr::new(10, 250, 3, 1));

    let host_links = in_netns(host.fd(), || links_with_prefix("stktestb")).unwrap();
    assert_eq!(host_links, ["stktestbbr", "stktestbva", "stktestbvb"]);
    in_netns(host.fd(), || delete_link("stktestbva")).unwrap();
    assert!(a
        .ip(&["-br", "link"])
        .lines()
        .all(|l| !l.starts_with("eth0")));
}

#[test]
fn the_host_reaches_a_namespace_through_the_bridge() {
    if !common::root_or_skip("the_host_reaches_a_namespace_through_the_bridge") {
        return;
    }
    let _links = Links::new(&["stktestcbr", "stktestcv1"]);
    let index = ensure_bridge(&bridge("stktestcbr", 0xc1, 4)).unwrap();
    let ns = Netns::new();
    attach(&ns, "stktestcv1", index, 4, 2);
    round_trip(None, Some(&ns), Ipv4Addr::new(10, 250, 4, 2));
    round_trip(Some(&ns), None, Ipv4Addr::new(10, 250, 4, 1));
    drop(ns);
    // The namespace's death takes the veth with it; the bridge is ours.
    let deadline = Instant::now() + Duration::from_secs(5);
    while link_exists("stktestcv1").unwrap() {
        assert!(Instant::now() < deadline, "the veth outlived its namespace");
        std::thread::sleep(Duration::from_millis(10));
    }
    delete_link("stktestcbr").unwrap();
    assert!(links_with_prefix("stktestc").unwrap().is_empty());
}

/// Whether the running kernel is at least `major.minor`.
fn kernel_at_least(major: u32, minor: u32) -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

#[test]
fn a_bridge_gets_extra_addresses_and_route_localnet() {
    if !common::root_or_skip("a_bridge_gets_extra_addresses_and_route_localnet") {
        return;
    }
    let _links = Links::new(&["stkttdbr"]);
    let name = "stkttdbr";
    let own = (Ipv4Addr::new(10, 250, 5, 1), 24);
    let extra = Ipv4Addr::new(10, 250, 5, 53);
    let mut br = bridge(name, 0xd1, 5);
    br.address = own;
    assert!(!bridge_exists(name).unwrap());
    ensure_bridge(&br).unwrap();
    assert!(bridge_exists(name).unwrap());
    // A link that is not a bridge is said, not taken for one.
    let err = bridge_exists("lo").unwrap_err();
    assert!(matches!(err, NetError::NotABridge { .. }), "{err}");

    // An extra address, twice: there once, beside the bridge's own, and
    // usable (something binds to it).
    add_address(name, extra, 24).unwrap();
    add_address(name, extra, 24).unwrap();
    let listed = addresses(name).unwrap();
    assert_eq!(listed, [own, (extra, 24)], "{listed:?}");
    let shown = Command::new("ip")
        .args(["-4", "addr", "show", "dev", name])
        .output()
        .unwrap();
    let shown = String::from_utf8(shown.stdout).unwrap();
    assert!(shown.contains("inet 10.250.5.53/24"), "{shown}");
    assert!(shown.contains("secondary"), "{shown}");
    std::net::UdpSocket::bind((extra, 0)).unwrap();

    // The owner's ensure_bridge keeps it where the kernel keeps the mark
    // (IFA_PROTO, Linux 6.1).
    ensure_bridge(&br).unwrap();
    if kernel_at_least(6, 1) {
        assert_eq!(addresses(name).unwrap(), [own, (extra, 24)]);
    }

    del_address(name, extra, 24).unwrap();
    del_address(name, extra, 24).unwrap(); // already gone: fine
    assert_eq!(addresses(name).unwrap(), [own]);

    // route_localnet, on and off, as the kernel shows it.
    let file = format!("/proc/sys/net/ipv4/conf/{name}/route_localnet");
    set_route_localnet(name, true).unwrap();
    assert!(route_localnet(name).unwrap());
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), "1");
    set_route_localnet(name, false).unwrap();
    assert!(!route_localnet(name).unwrap());
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), "0");

    // A link that is not there: named, for add and for the setting; a
    // removal has nothing to do. A name that would leave the directory is
    // refused before any path is made.
    delete_link(name).unwrap();
    let err = add_address(name, extra, 24).unwrap_err();
    assert!(matches!(err, NetError::NoSuchLink { .. }), "{err}");
    assert_eq!(err.to_string(), "link stkttdbr does not exist");
    let err = set_route_localnet(name, true).unwrap_err();
    assert!(matches!(err, NetError::NoSuchLink { .. }), "{err}");
    del_address(name, extra, 24).unwrap();
    let err = set_route_localnet("..", true).unwrap_err();
    assert!(matches!(err, NetError::InvalidName { .. }), "{err}");
    let err = add_address(name, extra, 33).unwrap_err();
    assert!(matches!(err, NetError::InvalidPrefix { .. }), "{err}");
}
