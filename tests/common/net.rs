//! Helpers for the network end-to-end tests (issue 11): projects on one
//! shared state root (IPAM is machine-wide, as on a real host), a rootfs
//! with a UDP echo server beside busybox, commands and lookups run inside
//! containers with `stack exec`, requests from the host, "the outside
//! world" as a network namespace the test makes itself (a web server and a
//! DNS responder on its own address), and leak checks for what a project's
//! network leaves on the machine. Nothing here sends a packet off the
//! machine: only to the host's own addresses, to containers and to the
//! test's own namespaces.
//!
//! Included by the network test files with
//! `#[path = "common/net.rs"] mod net;` next to `mod common;`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::common::{busybox_rootfs, find, text, Project};

#[path = "outside.rs"]
mod outside;
#[allow(unused_imports)] // not every test file plays the outside world
pub use outside::{dns_reply, Outside, OUTSIDE_BODY};

/// How long a network outcome may take to show.
pub const LONG: Duration = Duration::from_secs(20);

/// `sleep` for a container that only runs `stack exec`s.
pub const SLEEP: &str = r#"["sleep", "1000"]"#;

/// A busybox httpd on port 80 serving `/` = `text` (one line).
pub fn httpd(text: &str) -> String {
    format!(
        r#"["sh", "-c", "mkdir -p /www && echo '{text}' > /www/index.html && exec httpd -f -p 80 -h /www"]"#
    )
}

fn tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// `name-<pid>`: a project name no other test process uses.
pub fn unique(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

/// The state root every network test of this run shares: the IPAM records
/// under it are machine-wide, so parallel projects must see each other's
/// subnets (as they do on a real host with one `/var/lib/stack`).
pub fn shared_state() -> PathBuf {
    tmp().join("net-state")
}

/// The busybox rootfs plus `/bin/udpecho` (tests/net/udpecho.c, static):
/// `udpecho PORT NAME` answers each datagram with `NAME:<datagram>`.
pub fn net_rootfs() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tmp().join("net-rootfs");
        let staging = dir.with_extension(format!("tmp{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        let out = Command::new("cp")
            .arg("-a")
            .arg(busybox_rootfs())
            .arg(&staging)
            .output()
            .unwrap();
        assert!(out.status.success(), "cp -a: {}", text(&out));
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/net/udpecho.c");
        let bin = staging.join("bin/udpecho");
        let _ = std::fs::remove_file(&bin);
        let out = Command::new("cc")
            .args(["-static", "-O1", "-o"])
            .arg(&bin)
            .arg(&src)
            .output()
            .unwrap_or_else(|e| panic!("cannot run cc: {e} (apt-get install gcc libc6-dev)"));
        assert!(
            out.status.success(),
            "cc could not build tests/net/udpecho.c (needs static glibc: apt-get install libc6-dev):\n{}",
            text(&out)
        );
        if !dir.join("bin/udpecho").exists() {
            let _ = std::fs::remove_dir_all(&dir);
            let _ = std::fs::rename(&staging, &dir);
        }
        let _ = std::fs::remove_dir_all(&staging);
        dir
    })
    .clone()
}

/// `{rootfs}` → the net rootfs, `{busybox}` → the busybox one.
pub fn expand(yaml: &str) -> String {
    yaml.replace("{rootfs}", &net_rootfs().display().to_string())
}

/// A project named `unique(short)` on the shared state root; `stack down`
/// when dropped (`Project`'s guard).
pub fn project(short: &str, yaml: &str) -> Project {
    let mut p = Project::new(&unique(short), &expand(yaml));
    p.state = shared_state();
    p
}

/// Replace the project's file (`{rootfs}` expanded).
pub fn rewrite(p: &Project, yaml: &str) {
    p.write(&expand(yaml));
}

/// `stack up -d` (and whatever `extra` says), asserting success with a
/// diagnosis when it fails.
pub fn up(p: &Project, extra: &[&str]) -> String {
    let mut args = vec!["up", "-d"];
    args.extend_from_slice(extra);
    let out = p.run(&args);
    assert!(
        out.status.success(),
        "stack {args:?} failed ({:?}):\n{}\n{}",
        out.status,
        text(&out),
        diagnose(p, None)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `sh -c CMD` inside `svc` (`stack exec -T`).
pub fn sh_in(p: &Project, svc: &str, cmd: &str) -> Output {
    p.run(&["exec", "-T", svc, "sh", "-c", cmd])
}

/// `wget URL` inside `svc`: the body, or the output of the failure.
pub fn fetch_in(p: &Project, svc: &str, url: &str) -> Result<String, String> {
    // Not `wget -T`: Debian's static busybox 1.35 segfaults with it.
    let out = sh_in(p, svc, &format!("timeout 5 wget -qO- {url}"));
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("{:?}: {}", out.status, text(&out)))
    }
}

/// Wait until `wget URL` inside `svc` returns a body containing `want`.
pub fn wait_fetch(p: &Project, svc: &str, url: &str, want: &str) -> String {
    let deadline = Instant::now() + LONG;
    let mut last;
    loop {
        match fetch_in(p, svc, url) {
            Ok(body) if body.contains(want) => return body,
            Ok(body) => last = format!("body {body:?}"),
            Err(e) => last = e,
        }
        if Instant::now() > deadline {
            panic!(
                "{svc}: `wget {url}` never returned {want:?}; last: {last}\n{}",
                diagnose(p, Some(svc))
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// What `nslookup NAME` inside `svc` said: the IPv4 addresses of the
/// answer (empty when the name did not resolve) and the whole output.
pub fn lookup_in(p: &Project, svc: &str, name: &str) -> (Vec<Ipv4Addr>, String) {
    let out = sh_in(p, svc, &format!("nslookup {name}"));
    let all = text(&out);
    (answer_addresses(&String::from_utf8_lossy(&out.stdout)), all)
}

/// The addresses busybox nslookup printed for the name (the lines after
/// `Name:`; the server's own `Address: ip:53` comes before).
pub fn answer_addresses(out: &str) -> Vec<Ipv4Addr> {
    let mut seen_name = false;
    let mut addrs = Vec::new();
    for l in out.lines() {
        let l = l.trim();
        if l.starts_with("Name:") {
            seen_name = true;
        } else if seen_name && l.starts_with("Address") {
            if let Some(a) = l.split_whitespace().last().and_then(|a| a.parse().ok()) {
                if !addrs.contains(&a) {
                    addrs.push(a);
                }
            }
        }
    }
    addrs
}

/// Wait until NAME resolves inside `svc` to addresses `ok` accepts.
pub fn wait_resolves(
    p: &Project,
    svc: &str,
    name: &str,
    what: &str,
    mut ok: impl FnMut(&[Ipv4Addr]) -> bool,
) -> Vec<Ipv4Addr> {
    let deadline = Instant::now() + LONG;
    loop {
        let (addrs, out) = lookup_in(p, svc, name);
        if !addrs.is_empty() && ok(&addrs) {
            return addrs;
        }
        if Instant::now() > deadline {
            panic!(
                "{svc}: `nslookup {name}` never gave {what}; last:\n{out}\n{}",
                diagnose(p, Some(svc))
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `stack ps --format json`, parsed, with the output in the panic when it
/// is not JSON.
pub fn ps(p: &Project) -> serde_json::Value {
    let out = p.ok(&["ps", "--format", "json"]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("ps json: {e}\n{out}"))
}

/// `(key, network, address)` of each network `svc` is on, from `ps`'s
/// `"addresses": [{"key": K, "network": N, "address": A, …}]` (K is the
/// network's key in the file, N its name on the machine; an `A/len` is
/// cut).
pub fn addresses(ps: &serde_json::Value, svc: &str) -> Vec<(String, String, Ipv4Addr)> {
    let Some(c) = find(ps, svc) else {
        panic!("no container for {svc} in {ps:#}")
    };
    let Some(nets) = c["addresses"].as_array() else {
        panic!("ps has no \"addresses\" list for {svc}: {c:#}")
    };
    nets.iter()
        .map(|n| {
            let key = n["key"].as_str().unwrap_or_default().to_string();
            let name = n["network"].as_str().unwrap_or_default().to_string();
            let addr = n["address"].as_str().unwrap_or_default();
            let addr = addr.split('/').next().unwrap_or_default();
            let addr = addr
                .parse()
                .unwrap_or_else(|_| panic!("{svc}: bad address in {n}"));
            (key, name, addr)
        })
        .collect()
}

/// `svc`'s address on `net` (the network's key in the file).
pub fn address_on(p: &Project, svc: &str, net: &str) -> Ipv4Addr {
    let ps = ps(p);
    let full = format!("{}_{net}", p.name);
    addresses(&ps, svc)
        .into_iter()
        .find(|(k, n, _)| k == net || *n == full)
        .map(|(_, _, a)| a)
        .unwrap_or_else(|| panic!("{svc} has no address on {net}: {ps:#}"))
}

/// The pid `ps` reports for `svc`.
pub fn pid(p: &Project, svc: &str) -> i64 {
    let ps = ps(p);
    find(&ps, svc)
        .and_then(|c| c["pid"].as_i64())
        .unwrap_or_else(|| panic!("no pid for {svc}: {ps:#}"))
}

/// What to look at when a network test fails: ps, the container's view of
/// its network, the resolver's table, the project's nft table, the tail
/// of the supervisor's log.
pub fn diagnose(p: &Project, svc: Option<&str>) -> String {
    let mut s = String::from("--- diagnosis\n");
    let ps = p.run(&["ps", "--format", "json"]);
    match serde_json::from_slice::<serde_json::Value>(&ps.stdout) {
        Ok(mut v) => {
            // The services' whole config is noise here.
            if let Some(cs) = v["containers"].as_array_mut() {
                for c in cs {
                    if let Some(m) = c.as_object_mut() {
                        m.remove("config");
                    }
                }
            }
            s += &format!("ps: {v}\n");
        }
        Err(_) => s += &format!("ps: {}\n", text(&ps)),
    }
    if let Some(svc) = svc {
        let o = sh_in(
            p,
            svc,
            "cat /etc/resolv.conf; cat /etc/hosts; ip -4 addr; ip link; ip route; ip neigh",
        );
        s += &format!("inside {svc}:\n{}\n", text(&o));
    }
    for b in bridges_of(p) {
        let ports: Vec<String> = ports_of(&b)
            .iter()
            .map(|v| {
                let mode = format!("/sys/class/net/{b}/brif/{v}/hairpin_mode");
                let mode = std::fs::read_to_string(mode).unwrap_or_default();
                format!("{v} (hairpin {})", mode.trim())
            })
            .collect();
        s += &format!("bridge {b}: {ports:?}\n");
    }
    let run = p.run.join(&p.name);
    for f in ["resolver/table.json", "table.json"] {
        if let Ok(t) = std::fs::read_to_string(run.join(f)) {
            s += &format!("{f}: {t}\n");
        }
    }
    if let Ok(o) = Command::new("nft")
        .args(["list", "table", "inet", &format!("stack-{}", p.name)])
        .output()
    {
        s += &format!("nft: {}\n", text(&o));
    }
    let log = std::fs::read_to_string(run.join("supervisor.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    let from = lines.len().saturating_sub(40);
    s += &format!("supervisor.log (tail):\n{}\n", lines[from..].join("\n"));
    s
}

/// The host's primary IPv4 address: the source the kernel would use
/// towards a public address (a route lookup, nothing is sent), else the
/// first global address.
pub fn host_address() -> Ipv4Addr {
    // The address the host would use for the outside, unless it is one of
    // our bridges (another test's, which may go away).
    let out = Command::new("ip")
        .args(["-4", "route", "get", "1.1.1.1"])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout).to_string();
    let words: Vec<&str> = s.split_whitespace().collect();
    let after = |key: &str| {
        words
            .iter()
            .position(|w| *w == key)
            .and_then(|i| words.get(i + 1))
    };
    if let (Some(src), Some(dev)) = (after("src"), after("dev")) {
        if !dev.starts_with("stk") {
            if let Ok(a) = src.parse() {
                return a;
            }
        }
    }
    // Else any global address not on a bridge of ours.
    let out = Command::new("ip")
        .args(["-4", "-o", "addr", "show", "scope", "global"])
        .output()
        .unwrap();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() > 3 && !f[1].starts_with("stk") && f[2] == "inet" {
            if let Some(a) = f[3].split('/').next().and_then(|a| a.parse().ok()) {
                return a;
            }
        }
    }
    // A machine with no address of its own (the v2 guest): give it one,
    // on loopback, for good (the guest is thrown away).
    let own = Ipv4Addr::new(198, 51, 100, 254);
    let _ = Command::new("ip")
        .args(["addr", "add", &format!("{own}/32"), "dev", "lo"])
        .output();
    own
}

/// `n` ports free for TCP and UDP on every address, below the ephemeral
/// range and spread by pid so that parallel runs rarely meet.
pub fn free_ports(n: usize) -> Vec<u16> {
    static NEXT: Mutex<u16> = Mutex::new(0);
    let mut next = NEXT.lock().unwrap();
    if *next == 0 {
        *next = 20_000 + (std::process::id() % 400) as u16 * 20;
    }
    let mut out = Vec::new();
    while out.len() < n {
        let port = *next;
        *next = if port >= 29_999 { 20_000 } else { port + 1 };
        let tcp = TcpListener::bind(("0.0.0.0", port)).is_ok();
        let udp = UdpSocket::bind(("0.0.0.0", port)).is_ok();
        if tcp && udp {
            out.push(port);
        }
    }
    out
}

/// `GET /` from the host: the body, or why not.
pub fn http_get(host: &str, port: u16) -> std::io::Result<String> {
    let addrs: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))?.collect();
    let mut last = std::io::Error::other("no address");
    for a in addrs {
        match TcpStream::connect_timeout(&a, Duration::from_secs(2)) {
            Ok(mut s) => {
                s.set_read_timeout(Some(Duration::from_secs(3)))?;
                s.write_all(format!("GET / HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())?;
                let mut out = String::new();
                s.read_to_string(&mut out)?;
                return Ok(out
                    .split_once("\r\n\r\n")
                    .map(|(_, b)| b.to_string())
                    .unwrap_or(out));
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Wait until `GET http://host:port/` from the host returns `want`.
pub fn wait_http(p: &Project, host: &str, port: u16, want: &str) -> String {
    let deadline = Instant::now() + LONG;
    loop {
        let r = http_get(host, port);
        if let Ok(b) = &r {
            if b.contains(want) {
                return b.clone();
            }
        }
        if Instant::now() > deadline {
            panic!(
                "host: GET http://{host}:{port}/ never returned {want:?}; last: {r:?}\n{}",
                diagnose(p, None)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One UDP datagram to `addr` and its answer (500 ms), if any.
pub fn udp_ask(addr: SocketAddr, msg: &str) -> Option<String> {
    let s = UdpSocket::bind("0.0.0.0:0").ok()?;
    s.set_read_timeout(Some(Duration::from_millis(500))).ok()?;
    s.send_to(msg.as_bytes(), addr).ok()?;
    let mut buf = [0u8; 1500];
    let (n, _) = s.recv_from(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

// ---------------------------------------------------------------- leaks

/// The bridges of the project's networks, from its IPAM records.
pub fn bridges_of(p: &Project) -> Vec<String> {
    ipam_records(p)
        .iter()
        .filter_map(|f| {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(f).ok()?).ok()?;
            Some(v["bridge"].as_str()?.to_string())
        })
        .collect()
}

/// IPAM records (`<state root>/networks/*.json`) whose project is `p`.
pub fn ipam_records(p: &Project) -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir(p.state.join("networks")) else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|f| f.extension().is_some_and(|e| e == "json"))
        .filter(|f| {
            std::fs::read_to_string(f)
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .is_some_and(|v| v["project"] == p.name.as_str())
        })
        .collect()
}

/// The links enslaved to `bridge` (the containers' host-side veths).
pub fn ports_of(bridge: &str) -> Vec<String> {
    std::fs::read_dir(format!("/sys/class/net/{bridge}/brif"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The bridge stack names for a network without `driver_opts` (its full
/// name, `<project>_<key>`).
pub fn default_bridge(network: &str) -> String {
    stack::runtime::net::bridge_name(network)
}

pub fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// The project's nftables table, `inet stack-<project>`.
pub fn nft_table(p: &Project) -> String {
    format!("stack-{}", p.name)
}

pub fn nft_table_exists(p: &Project) -> bool {
    Command::new("nft")
        .args(["list", "table", "inet", &nft_table(p)])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether a Docker engine's DOCKER-USER chain exists here.
pub fn docker_present() -> bool {
    Command::new("nft")
        .args(["list", "chain", "ip", "filter", "DOCKER-USER"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Rules in Docker's DOCKER-USER chain tagged `stack:<project>` (0
/// without Docker).
pub fn docker_user_rules(p: &Project) -> usize {
    let Ok(o) = Command::new("nft")
        .args(["list", "chain", "ip", "filter", "DOCKER-USER"])
        .output()
    else {
        return 0;
    };
    String::from_utf8_lossy(&o.stdout)
        .matches(&format!("comment \"stack:{}\"", p.name))
        .count()
}

/// The command line of `pid`, NULs as spaces.
pub fn cmdline(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// Processes that look like the project's resolver: `stack __dns …` (or
/// any hidden verb naming dns/resolver) whose command line names the
/// project's run dir or the project.
pub fn resolver_pids(p: &Project) -> Vec<i32> {
    let run = p.run.join(&p.name).display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let c = cmdline(*pid);
            (c.contains("__dns") || c.contains("resolver"))
                && (c.contains(&run) || c.contains(&p.name))
        })
        .collect()
}

/// What of a project's network exists while it is up.
#[derive(Debug)]
pub struct NetSnapshot {
    pub bridges: Vec<String>,
    pub veths: Vec<String>,
    pub resolvers: Vec<i32>,
}

/// What the project's networks have made on the machine, asserting there
/// is something of each kind (a bridge, the nft table, a resolver).
pub fn snapshot(p: &Project) -> NetSnapshot {
    let bridges = bridges_of(p);
    assert!(
        !bridges.is_empty(),
        "no IPAM record names a bridge of {} under {}\n{}",
        p.name,
        p.state.join("networks").display(),
        diagnose(p, None)
    );
    for b in &bridges {
        assert!(link_exists(b), "bridge {b} is not there");
    }
    let veths = bridges.iter().flat_map(|b| ports_of(b)).collect();
    assert!(nft_table_exists(p), "no nft table {}", nft_table(p));
    let resolvers = resolver_pids(p);
    assert!(
        !resolvers.is_empty(),
        "no resolver process for {} (looked for `__dns` naming {})",
        p.name,
        p.run.join(&p.name).display()
    );
    NetSnapshot {
        bridges,
        veths,
        resolvers,
    }
}

/// Nothing of the project's networks is left: bridges, veths, the nft
/// table, DOCKER-USER rules, resolver processes, IPAM records.
pub fn assert_net_gone(p: &Project, snap: &NetSnapshot) {
    for l in &snap.bridges {
        assert!(!link_exists(l), "link {l} left after down");
    }
    // `down` deletes the veths on the bridges it removes; one on a network
    // that stays (another project's) goes when the kernel frees the
    // container's network namespace, which it does asynchronously.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    for l in &snap.veths {
        while link_exists(l) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(!link_exists(l), "link {l} left 5 s after down");
    }
    assert!(!nft_table_exists(p), "nft table {} left", nft_table(p));
    assert_eq!(
        docker_user_rules(p),
        0,
        "DOCKER-USER rules stack:{} left",
        p.name
    );
    for pid in &snap.resolvers {
        assert!(
            !crate::common::alive(i64::from(*pid)),
            "resolver {pid} ({}) left",
            cmdline(*pid)
        );
    }
    assert!(resolver_pids(p).is_empty(), "a resolver of {} runs", p.name);
    let records = ipam_records(p);
    assert!(records.is_empty(), "IPAM records left: {records:?}");
    let netns = Command::new("ip").args(["netns", "list"]).output().unwrap();
    let netns = String::from_utf8_lossy(&netns.stdout);
    assert!(
        !netns.lines().any(|l| l.contains(&p.name)),
        "a named netns of {} left: {netns}",
        p.name
    );
}

/// Nothing of a project that failed to come up: no bridge, no table, no
/// rule, no resolver, no record, no container.
pub fn assert_nothing_made(p: &Project, networks: &[&str]) {
    assert!(
        bridges_of(p).is_empty(),
        "IPAM records left: {:?}",
        ipam_records(p)
    );
    for n in networks {
        let b = default_bridge(&format!("{}_{n}", p.name));
        assert!(!link_exists(&b), "bridge {b} of network {n} left");
    }
    assert!(!nft_table_exists(p), "nft table {} left", nft_table(p));
    assert_eq!(docker_user_rules(p), 0, "DOCKER-USER rules left");
    assert!(resolver_pids(p).is_empty(), "a resolver runs");
    let ps = p.run(&["ps", "--format", "json"]);
    if ps.status.success() {
        let v: serde_json::Value = serde_json::from_slice(&ps.stdout).unwrap_or_default();
        let running: Vec<_> = v["containers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|c| c["status"] == "running")
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        assert!(running.is_empty(), "containers run: {running:?}");
    }
}

/// Whether some non-empty line of `out` contains every one of `words`
/// (a word `a|b` is either).
pub fn one_line_with(out: &str, words: &[&str]) -> bool {
    out.lines().any(|l| {
        !l.trim().is_empty()
            && words.iter().all(|w| {
                w.split('|')
                    .any(|alt| l.to_lowercase().contains(&alt.to_lowercase()))
            })
    })
}
