//! Issue 11's rooms together, on real containers started through the
//! runtime: a bridge (`runtime::net`), two containers attached to it at
//! start (`Network::Bridge`: the veth is made between clone and the init's
//! config, so the command starts with its network up), the project's rules
//! in Docker's DOCKER-USER chain (`runtime::firewall`: without them a Docker
//! host drops bridged traffic), and the resolver (`runtime::dns`) on the
//! bridge's address answering the client's `nslookup web`. Addresses in
//! 10.250.20.0/24, names `stktnc*`; nothing leaves the machine.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use stack::runtime::dns::{self, Table};
use stack::runtime::firewall::docker;
use stack::runtime::spawn;
use stack::runtime::{net, Attachment, ContainerConfig, Network};

const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 250, 20, 1);
const WEB: Ipv4Addr = Ipv4Addr::new(10, 250, 20, 2);
const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 250, 20, 3);

/// The bridge, the DOCKER-USER rules and the containers, all removed when
/// dropped (the containers first: their veths go with their namespaces).
struct Lab {
    bridge: String,
    project: String,
    base: PathBuf,
    pids: Vec<i32>,
}

impl Lab {
    fn new() -> Lab {
        let id = std::process::id() % 100_000;
        let lab = Lab {
            bridge: format!("stktnc{id}"),
            project: format!("stacktest-nc-{id}"),
            base: PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("nc-{id}")),
            pids: Vec::new(),
        };
        let _ = std::fs::remove_dir_all(&lab.base);
        std::fs::create_dir_all(&lab.base).unwrap();
        net::ensure_bridge(&net::Bridge {
            name: lab.bridge.clone(),
            mac: net::mac_for(&lab.bridge),
            mtu: None,
            address: (GATEWAY, 24),
        })
        .unwrap();
        docker::allow(&lab.project, std::slice::from_ref(&lab.bridge)).unwrap();
        lab
    }

    fn container(&self, name: &str, ip: Ipv4Addr, argv: &[&str]) -> ContainerConfig {
        let base = self.base.join(name);
        std::fs::create_dir_all(&base).unwrap();
        let mut cfg = common::container_config("nc", name, &base, argv);
        cfg.network = Network::Bridge(vec![Attachment {
            bridge: self.bridge.clone(),
            host_veth: format!("{}{name}", &self.bridge[..self.bridge.len().min(9)]),
            interface: "eth0".into(),
            address: ip,
            prefix: 24,
            gateway: Some(GATEWAY),
            mac: None,
            mtu: None,
        }]);
        cfg
    }

    fn start(&mut self, cfg: &ContainerConfig) -> i32 {
        let s = spawn::start(cfg, &[]).unwrap_or_else(|e| panic!("start: {e}"));
        self.pids.push(s.pid);
        s.pid
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for pid in self.pids.drain(..) {
            // SAFETY: kill and reap our own children.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
        }
        let _ = docker::revoke(&self.project);
        let _ = net::delete_link(&self.bridge);
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// The container's stdout, once a line containing `want` is there.
fn wait_for_log(cfg: &ContainerConfig, want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&cfg.log_file).unwrap_or_default();
        if text.contains(want) || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_containers_on_a_bridge_talk_by_name() {
    if !common::root_or_skip("net_container") {
        return;
    }
    spawn::set_init_exe(env!("CARGO_BIN_EXE_stack"));
    let mut lab = Lab::new();

    // The resolver on the bridge's address: `web` for the client, which
    // shares the network with it.
    let table = lab.base.join("dns.json");
    let mut t = Table::default();
    t.networks
        .entry("front".into())
        .or_default()
        .insert("web".into(), vec![WEB]);
    for ip in [WEB, CLIENT] {
        t.containers.entry(ip).or_default().insert("front".into());
    }
    dns::table::store(&table, &t).unwrap();
    let server = dns::Server::start(dns::Options::new(
        table,
        vec![SocketAddr::from((GATEWAY, 53))],
        vec![],
    ))
    .unwrap();

    let web = lab.container(
        "web",
        WEB,
        &["nc", "-ll", "-p", "80", "-e", "echo", "hello from web"],
    );
    lab.start(&web);
    // The client resolves `web` through the resolver, then fetches from it
    // by the address it got.
    let client = lab.container(
        "client",
        CLIENT,
        &[
            "sh",
            "-c",
            "ip -4 addr show eth0; ip route; \
             ip=$(nslookup web 10.250.20.1 | awk '/^Address: /{a=$2} END{print a}'); \
             echo resolved=$ip; \
             for i in 1 2 3 4 5; do nc -w 2 $ip 80 && break; sleep 0.2; done; echo done",
        ],
    );
    lab.start(&client);
    let log = wait_for_log(&client, "done");
    assert!(log.contains("resolved=10.250.20.2"), "{log}");
    assert!(log.contains("hello from web"), "{log}");
    // Inside the container, as it saw itself: eth0 with its address, the
    // default route through the bridge.
    assert!(log.contains("inet 10.250.20.3/24"), "{log}");
    assert!(log.contains("default via 10.250.20.1 dev eth0"), "{log}");
    server.stop();
}
