//! The firewall room against the real nftables: a project's table is
//! replaced whole and removed whole; a published port is reachable from the
//! host through the DNAT (on its own address and on 127.0.0.1); the rules
//! put in Docker's `DOCKER-USER` chain are exactly the project's. The
//! "container" is a network namespace this test makes, with a veth to the
//! host (addresses in 10.250.9.0/30, names `stktfw*`, never off the machine).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::io::{Read, Write};

use std::net::{Ipv4Addr, TcpStream};
use std::process::Command;
use std::time::Duration;

use stack::runtime::firewall::{self, docker, NetworkRules, Proto, Publish, Rules};

fn sh(cmd: &str) {
    let st = Command::new("sh").args(["-c", cmd]).status().unwrap();
    assert!(st.success(), "{cmd}");
}

/// A namespace with a veth to the host and a TCP server on port 80 that
/// answers `hello`; removed with everything on drop.
struct Upstream {
    ns: String,
    host_if: String,
    table: String,
}

/// A TCP server on port 80 inside namespace `ns` answering `hello`: a
/// thread that joins the namespace (the socket stays there) and serves
/// until the process ends.
fn serve_in(ns: &str) {
    let f = std::fs::File::open(format!("/run/netns/{ns}")).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        // SAFETY: setns on this thread only, with a namespace fd we opened.
        let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns");
        let l = std::net::TcpListener::bind("0.0.0.0:80").unwrap();
        tx.send(()).unwrap();
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let _ = c.write_all(b"hello");
        }
    });
    rx.recv().unwrap();
}

impl Upstream {
    fn new() -> Upstream {
        let id = std::process::id() % 100_000;
        let ns = format!("stktfw-{id}");
        let host_if = format!("stktfw{id}");
        sh(&format!("ip netns add {ns}"));
        sh(&format!(
            "ip link add {host_if} type veth peer name eth0 netns {ns} && \
             ip addr add 10.250.9.1/30 dev {host_if} && ip link set {host_if} up && \
             ip -n {ns} addr add 10.250.9.2/30 dev eth0 && ip -n {ns} link set eth0 up && \
             ip -n {ns} link set lo up && ip -n {ns} route add default via 10.250.9.1"
        ));
        serve_in(&ns);
        Upstream {
            ns,
            host_if,
            table: format!("stacktest-fw-{id}"),
        }
    }

    fn rules(&self, host_ip: Option<Ipv4Addr>) -> Rules {
        Rules {
            table: self.table.clone(),
            networks: vec![NetworkRules {
                bridge: self.host_if.clone(),
                subnet: Ipv4Addr::new(10, 250, 9, 0),
                prefix: 30,
                internal: false,
            }],
            ports: vec![Publish {
                host_ip,
                host_port: 18080,
                proto: Proto::Tcp,
                bridge: self.host_if.clone(),
                container_ip: Ipv4Addr::new(10, 250, 9, 2),
                container_port: 80,
            }],
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = firewall::remove(&self.table);
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .status();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

fn fetch(addr: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let _ = s.write(b"");
    Ok(out)
}

fn table_text(table: &str) -> String {
    firewall::run_nft(&["list", "table", "inet", table]).unwrap()
}

#[test]
fn a_published_port_reaches_the_namespace_and_the_table_goes_whole() {
    if !common::root_or_skip("firewall_publish") {
        return;
    }
    let up = Upstream::new();
    firewall::apply(&up.rules(None)).unwrap();
    assert!(firewall::list_tables()
        .unwrap()
        .contains(&format!("inet {}", up.table)));
    // The host reaches the port on its own address.
    assert_eq!(fetch("10.250.9.1:18080").unwrap(), "hello");
    // Applying again replaces the table: one rule, not two.
    firewall::apply(&up.rules(None)).unwrap();
    assert_eq!(
        table_text(&up.table)
            .matches("dnat ip to 10.250.9.2:80")
            .count(),
        2
    );

    // A loopback publish: reachable on 127.0.0.1 (the bridge side needs
    // route_localnet), not on the host's other addresses.
    std::fs::write(
        format!("/proc/sys/net/ipv4/conf/{}/route_localnet", up.host_if),
        "1",
    )
    .unwrap();
    firewall::apply(&up.rules(Some(Ipv4Addr::LOCALHOST))).unwrap();
    assert_eq!(fetch("127.0.0.1:18080").unwrap(), "hello");
    assert!(fetch("10.250.9.1:18080").is_err(), "only on 127.0.0.1");

    firewall::remove(&up.table).unwrap();
    assert!(!firewall::list_tables()
        .unwrap()
        .contains(&format!("inet {}", up.table)));
    assert!(fetch("127.0.0.1:18080").is_err(), "the DNAT is gone");
    // Removing what is gone is fine.
    firewall::remove(&up.table).unwrap();
}

#[test]
fn docker_user_gets_exactly_the_project_s_rules() {
    if !common::root_or_skip("firewall_docker_user") {
        return;
    }
    // Without a Docker engine (the cgroup v2 guest), a stand-in chain of
    // the same name, removed afterwards: the functions act the same.
    // Only what the test adds is removed: the chain, or the table when it
    // did not exist either.
    let standin = !docker::present();
    let had_table = firewall::list_tables()
        .unwrap()
        .contains(&"ip filter".to_string());
    if standin {
        firewall::apply_script(
            "filter",
            "table ip filter {\n\tchain DOCKER-USER {\n\t\treturn\n\t}\n}\n",
        )
        .unwrap();
    }
    let project = format!("stacktest-du-{}", std::process::id());
    let other = format!("{project}-other");
    let list =
        || firewall::run_nft(&["-a", "list", "chain", "ip", "filter", "DOCKER-USER"]).unwrap();
    let before = list();
    docker::allow(&project, &["stktdu0".into(), "stktdu1".into()]).unwrap();
    docker::allow(&other, &["stktdu2".into()]).unwrap();
    assert_eq!(docker::handles(&list(), &project).len(), 6, "{}", list());
    // Replaced, not added to.
    docker::allow(&project, &["stktdu0".into()]).unwrap();
    assert_eq!(docker::handles(&list(), &project).len(), 3);
    docker::revoke(&project).unwrap();
    assert!(docker::handles(&list(), &project).is_empty());
    assert_eq!(
        docker::handles(&list(), &other).len(),
        3,
        "another project's stay"
    );
    docker::revoke(&other).unwrap();
    // Docker's own rules are as they were.
    let strip = |s: &str| {
        s.lines()
            .map(|l| l.split(" # handle").next().unwrap_or(l).to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&list()), strip(&before));
    if standin && had_table {
        firewall::run_nft(&["delete", "chain", "ip", "filter", "DOCKER-USER"]).unwrap();
    } else if standin {
        firewall::run_nft(&["delete", "table", "ip", "filter"]).unwrap();
    }
}
