//! End-to-end networking (issue 11), published ports: TCP (short and long
//! form) reachable from the host on 127.0.0.1, `localhost` and the host's
//! own address; UDP; a `127.0.0.1:` publish reachable on loopback only;
//! the hairpin (a container through the host's address); `stack port` and
//! `ps`; a port already taken fails `up` naming it, and leaves nothing.
//! Real binary, real containers, with the machine's Docker engine present.
//! Traffic goes only to this machine's own addresses.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;
#[path = "common/net.rs"]
mod net;

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use common::{root_or_skip, text};
use net::{
    assert_nothing_made, diagnose, host_address, http_get, one_line_with, project, ps, udp_ask, up,
    wait_fetch, wait_http, SLEEP,
};

/// Wait until a datagram to `addr` comes back as `want`.
fn wait_udp(p: &common::Project, addr: SocketAddr, want: &str) {
    let deadline = Instant::now() + net::LONG;
    loop {
        let got = udp_ask(addr, "ping");
        if got.as_deref() == Some(want) {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "udp {addr}: never answered {want:?}; last: {got:?}\n{}",
                diagnose(p, Some("web"))
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn published_tcp_and_udp_ports_loopback_only_and_hairpin() {
    if !root_or_skip("published_tcp_and_udp_ports_loopback_only_and_hairpin") {
        return;
    }
    let ports = net::free_ports(4);
    let (all, lo, udp, long) = (ports[0], ports[1], ports[2], ports[3]);
    let yaml = format!(
        r#"
services:
  web:
    rootfs: {{rootfs}}
    command: ["sh", "-c", "udpecho 9000 web & mkdir -p /www && echo 'hello from web' > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports:
      - "{all}:80"
      - "127.0.0.1:{lo}:80"
      - "{udp}:9000/udp"
      - target: 80
        published: "{long}"
        protocol: tcp
    stop_grace_period: 1s
  client:
    rootfs: {{rootfs}}
    command: {SLEEP}
    stop_grace_period: 1s
"#
    );
    let p = project("e2e-n6", &yaml);
    up(&p, &[]);
    let host = host_address().to_string();

    // TCP on every address: loopback, localhost, the host's own address.
    wait_http(&p, "127.0.0.1", all, "hello from web");
    wait_http(&p, "localhost", all, "hello from web");
    wait_http(&p, &host, all, "hello from web");
    // The long form.
    wait_http(&p, "127.0.0.1", long, "hello from web");
    wait_http(&p, &host, long, "hello from web");
    // 127.0.0.1 only: there, and not on the host's other address.
    wait_http(&p, "127.0.0.1", lo, "hello from web");
    let r = http_get(&host, lo);
    assert!(
        r.is_err(),
        "the 127.0.0.1 publish answered on {host}:{lo}: {r:?}"
    );
    // UDP, on loopback and on the host's address.
    wait_udp(&p, ([127, 0, 0, 1], udp).into(), "web:ping");
    wait_udp(&p, format!("{host}:{udp}").parse().unwrap(), "web:ping");
    // The hairpin: a container through the host's address.
    wait_fetch(
        &p,
        "client",
        &format!("http://{host}:{all}/"),
        "hello from web",
    );
    // The web container through its own published port, too.
    wait_fetch(
        &p,
        "web",
        &format!("http://{host}:{all}/"),
        "hello from web",
    );

    // `ps` and `port` say what is published, as Compose does.
    let ps = ps(&p);
    let shown = ps.to_string();
    // JSON: one object per published port, as bound.
    for (ip, host, target, proto) in [
        (None, all, 80, "tcp"),
        (Some("127.0.0.1"), lo, 80, "tcp"),
        (None, udp, 9000, "udp"),
        (None, long, 80, "tcp"),
    ] {
        let web = common::container(&ps, "web");
        let listed = web["ports"]
            .as_array()
            .map(|a| {
                a.iter().any(|x| {
                    x["host_ip"].as_str() == ip
                        && x["host_port"].as_u64() == Some(u64::from(host))
                        && x["container_port"].as_u64() == Some(target)
                        && x["proto"].as_str() == Some(proto)
                })
            })
            .unwrap_or(false);
        assert!(
            listed,
            "ps does not list {ip:?}:{host}->{target}/{proto} for web: {shown}"
        );
    }
    let out = p.run(&["port", "web", "80"]);
    assert!(out.status.success(), "stack port web 80: {}", text(&out));
    let mapped = String::from_utf8_lossy(&out.stdout);
    assert!(
        mapped.lines().any(|l| l.trim() == format!("0.0.0.0:{all}")),
        "stack port web 80 printed {mapped:?}, not 0.0.0.0:{all}"
    );
    let out = p.run(&["port", "--protocol", "udp", "web", "9000"]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.trim() == format!("0.0.0.0:{udp}")),
        "stack port --protocol udp web 9000: {}",
        text(&out)
    );

    p.ok(&["down", "-t", "1"]);
    for port in [all, lo, long] {
        assert!(
            http_get("127.0.0.1", port).is_err(),
            "port {port} still answers after down"
        );
    }
    assert!(udp_ask(([127, 0, 0, 1], udp).into(), "ping").is_none());
}

#[test]
fn a_port_already_taken_fails_up_and_leaves_nothing() {
    if !root_or_skip("a_port_already_taken_fails_up_and_leaves_nothing") {
        return;
    }
    let port = net::free_ports(1)[0];
    let holder = TcpListener::bind(("0.0.0.0", port)).unwrap();
    let yaml = format!(
        r#"
services:
  web:
    rootfs: {{rootfs}}
    command: {SLEEP}
    ports: ["{port}:80"]
    stop_grace_period: 1s
"#
    );
    let p = project("e2e-n11", &yaml);
    let out = p.run(&["up", "-d"]);
    let all = text(&out);
    assert!(
        !out.status.success(),
        "up with port {port} taken succeeded:\n{all}"
    );
    assert!(
        one_line_with(&all, &[&port.to_string()]),
        "no line names port {port}:\n{all}"
    );
    // One sentence, said once.
    let said = all
        .lines()
        .filter(|l| l.contains(&port.to_string()))
        .collect::<Vec<_>>();
    assert!(
        said.len() == 1 && said[0].matches(&port.to_string()).count() == 1,
        "the port is named more than once:\n{all}"
    );
    // This test holds it, and the engine can tell: the line names us.
    let me = std::process::id().to_string();
    assert!(
        one_line_with(&all, &[&port.to_string(), &me]),
        "the message does not name the holder (pid {me}):\n{all}"
    );
    assert_nothing_made(&p, &["default"]);
    drop(holder);
}

/// A firewall reload that wipes stack's table (`nft flush ruleset` does,
/// firewalld's reload does): the supervisor puts it back and the port
/// answers again; a killed resolver is started again.
#[test]
fn a_wiped_table_and_a_killed_resolver_are_put_back() {
    if !root_or_skip("a_wiped_table_and_a_killed_resolver_are_put_back") {
        return;
    }
    let port = net::free_ports(1)[0];
    let yaml = format!(
        r#"
services:
  web:
    rootfs: {{rootfs}}
    command: {}
    ports: ["{port}:80"]
    stop_grace_period: 1s
  client:
    rootfs: {{rootfs}}
    command: {SLEEP}
    stop_grace_period: 1s
"#,
        net::httpd("hello from web")
    );
    let p = project("e2e-n14", &yaml);
    up(&p, &[]);
    wait_http(&p, "127.0.0.1", port, "hello from web");
    let table = net::nft_table(&p);
    let out = std::process::Command::new("nft")
        .args(["delete", "table", "inet", &table])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(!net::nft_table_exists(&p));
    wait_http(&p, "127.0.0.1", port, "hello from web");
    assert!(net::nft_table_exists(&p), "the table is back");
    let resolvers = net::resolver_pids(&p);
    assert_eq!(resolvers.len(), 1, "one resolver: {resolvers:?}");
    // SAFETY: kill has no memory effects; the pid is this project's resolver.
    unsafe { libc::kill(resolvers[0], libc::SIGKILL) };
    wait_fetch(&p, "client", "http://web/", "hello from web");
    let now = net::resolver_pids(&p);
    assert!(
        now.len() == 1 && now[0] != resolvers[0],
        "a new resolver runs: {now:?}"
    );
    let log = std::fs::read_to_string(p.run.join(&p.name).join("supervisor.log")).unwrap();
    assert!(log.contains("removed from outside"), "{log}");
}

/// A network's changed definition recreates what is attached, and the
/// plan says why, field by field.
#[test]
fn a_changed_network_recreates_with_a_reason() {
    if !root_or_skip("a_changed_network_recreates_with_a_reason") {
        return;
    }
    let yaml = |aliases: &str| {
        format!(
            r#"
services:
  web:
    rootfs: {{rootfs}}
    command: {SLEEP}
    stop_grace_period: 1s
    networks:
      front:
        aliases: [{aliases}]
networks:
  front: {{}}
"#
        )
    };
    let p = project("e2e-n15", &yaml("www"));
    up(&p, &[]);
    let before = net::pid(&p, "web");
    net::rewrite(&p, &yaml("www, site"));
    let plan = p.run(&["plan"]);
    let said = text(&plan);
    assert!(
        one_line_with(&said, &["recreate web", "networks.front.aliases"]),
        "the plan does not say why web is recreated:\n{said}"
    );
    up(&p, &[]);
    assert_ne!(net::pid(&p, "web"), before, "web was not recreated");
    let (got, out) = net::lookup_in(&p, "web", "site");
    assert_eq!(got, [net::address_on(&p, "web", "front")], "{out}");
}
