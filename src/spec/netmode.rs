//! What a service's `network_mode` allows beside it (Docker's rules for a
//! shared namespace), what is decided once all of a service's keys are
//! read (the `default` network, the service-level `mac_address`, ports on
//! internal networks, the dependencies `network_mode: service:` and
//! `links` imply), and the checks across the file's services (an address,
//! a name or a host port given twice).

use std::collections::{BTreeMap, HashMap};

use super::draft::Draft;
use super::load::*;
use super::model::*;
use super::yaml::Pos;

/// The service keys some `network_mode` forbids (where each was is kept).
pub(super) const MODE_BOUND: &[&str] = &[
    "ports",
    "hostname",
    "dns",
    "dns_search",
    "dns_opt",
    "extra_hosts",
    "mac_address",
    "networks",
    "links",
    "expose",
];

impl Cx<'_> {
    /// Once every key of service `name` is read: the keys its
    /// `network_mode` forbids, its networks (`default` when it names
    /// none), and the dependencies it implies; returns the key path of
    /// each implied dependency.
    pub(super) fn network_done(
        &mut self,
        d: &mut Draft,
        name: &str,
        pos: Pos,
        path: &str,
    ) -> BTreeMap<String, String> {
        self.mode_conflicts(d);
        if d.network_mode == NetworkMode::Bridge {
            self.bridge_done(d);
        }
        let mut implied = BTreeMap::new();
        let mode_at = d.net.mode_at.clone().unwrap_or((pos, path.to_string()));
        let links_at = d
            .net
            .at
            .get("links")
            .cloned()
            .unwrap_or((pos, path.to_string()));
        let mut wanted = Vec::new();
        if let NetworkMode::Service(x) = &d.network_mode {
            wanted.push((x.clone(), mode_at));
        }
        for (svc, _) in &d.net.links {
            wanted.push((svc.clone(), links_at.clone()));
        }
        for f in &d.volumes_from {
            wanted.push((f.service.clone(), (f.pos, f.path.clone())));
        }
        let shared = [
            (
                "ipc",
                match &d.process.ipc {
                    IpcMode::Service(x) => Some(x.clone()),
                    _ => None,
                },
            ),
            (
                "pid",
                match &d.process.pid {
                    PidMode::Service(x) => Some(x.clone()),
                    _ => None,
                },
            ),
        ];
        for (key, svc) in shared {
            if let (Some(svc), Some(at)) = (svc, d.ns_at.get(key)) {
                wanted.push((svc, at.clone()));
            }
        }
        for (svc, (at, p)) in wanted {
            if svc == name || !self.service_names.contains(&svc) || d.depends_on.contains_key(&svc)
            {
                continue;
            }
            // Compose's: started first, and this one restarted with it.
            let dep = Dependency {
                condition: Condition::ServiceStarted,
                restart: true,
                required: true,
            };
            d.depends_on.insert(svc.clone(), dep);
            d.depends_pos.insert(svc.clone(), at);
            implied.insert(svc, p);
        }
        implied
    }

    /// The keys given beside a `network_mode` that forbids them.
    fn mode_conflicts(&mut self, d: &Draft) {
        let n = &d.net;
        let given = |key: &str| match key {
            "ports" => !d.ports.is_empty(),
            "hostname" => d.hostname.is_some(),
            "dns" => !n.dns.is_empty(),
            "dns_search" => !n.dns_search.is_empty(),
            "dns_opt" => !n.dns_opt.is_empty(),
            "extra_hosts" => !n.extra_hosts.is_empty(),
            "mac_address" => n.mac_address.is_some(),
            "networks" => !n.networks.is_empty(),
            "links" => !n.links.is_empty(),
            _ => !n.expose.is_empty(),
        };
        let (forbidden, why): (&[&str], String) = match &d.network_mode {
            NetworkMode::Bridge => return,
            NetworkMode::Service(x) => (
                MODE_BOUND,
                format!("network_mode: service:{x} (the service uses `{x}`'s network namespace); set it on `{x}` or remove it"),
            ),
            NetworkMode::Host => (
                &["networks", "links", "mac_address"],
                "network_mode: host (the service uses the host's network); remove it or the network_mode".to_string(),
            ),
            NetworkMode::None => (
                &["ports", "networks", "links", "mac_address"],
                "network_mode: none (the container has only loopback); remove it or the network_mode".to_string(),
            ),
        };
        for key in forbidden.iter().filter(|k| given(k)) {
            if let Some((pos, p)) = n.at.get(*key) {
                self.err(*pos, p, format!("`{key}` cannot be set with {why}"));
            }
        }
    }

    /// A service on bridges: `default` when it names no network; the
    /// service-level `mac_address` on its first network; published ports
    /// need a network that is not internal.
    fn bridge_done(&mut self, d: &mut Draft) {
        let n = &mut d.net;
        if n.networks.is_empty() {
            let network = self
                .networks
                .get("default")
                .cloned()
                .unwrap_or_else(|| NetworkDef::new("default"));
            let sn = ServiceNetwork {
                aliases: Vec::new(),
                ipv4_address: None,
                mac_address: None,
                priority: 0,
                network,
            };
            n.networks.insert("default".to_string(), sn);
        }
        if let (Some(mac), Some((pos, p))) = (n.mac_address.take(), n.at.get("mac_address")) {
            if let Some((key, ..)) = n.unique.mac.first() {
                let msg = format!("`mac_address` is given both here and in networks.{key}.mac_address; give it once, on the network");
                self.err(*pos, p, msg);
            } else if let Some((key, sn)) = first_network(&mut n.networks) {
                n.unique.mac.push((key, mac.clone(), *pos, p.clone()));
                sn.mac_address = Some(mac);
            }
        }
        if !d.ports.is_empty() && n.networks.values().all(|s| s.network.internal) {
            if let Some((pos, p)) = n.at.get("ports") {
                let list: Vec<String> = n.networks.keys().map(|k| format!("`{k}`")).collect();
                let msg = format!("the service joins only internal networks ({}), which publish no ports; join a network that is not internal, or remove `ports`", list.join(", "));
                self.err(*pos, p, msg);
            }
        }
    }
}

/// The network of highest priority (the first key among equals): the
/// service's `eth0`.
fn first_network(
    networks: &mut BTreeMap<String, ServiceNetwork>,
) -> Option<(String, &mut ServiceNetwork)> {
    let top = networks.values().map(|s| s.priority).max()?;
    networks
        .iter_mut()
        .find(|(_, s)| s.priority == top)
        .map(|(k, s)| (k.clone(), s))
}

/// The networks the active services join, by key.
pub(super) fn used_networks(services: &BTreeMap<String, Service>) -> BTreeMap<String, NetworkDef> {
    let mut out = BTreeMap::new();
    for svc in services.values() {
        for (k, sn) in &svc.networks {
            out.entry(k.clone()).or_insert_with(|| sn.network.clone());
        }
    }
    out
}

/// The checks across the active services, in file order (the second of
/// two is the error): an `ipv4_address` or a `mac_address` given twice on
/// one network, a `container_name` twice, a host port published twice.
pub(super) fn check_across(
    services: &BTreeMap<String, Service>,
    extras: &BTreeMap<String, ServiceExtra>,
) -> Vec<Problem> {
    let mut order: Vec<(&String, &Service, &ServiceExtra)> = services
        .iter()
        .filter_map(|(n, s)| extras.get(n).map(|x| (n, s, x)))
        .collect();
    order.sort_by_key(|(_, _, x)| (x.pos.line, x.pos.col));
    let mut problems = Vec::new();
    let mut err = |pos: Pos, path: &str, msg: String| {
        problems.push(Problem {
            pos,
            path: path.to_string(),
            msg,
        })
    };
    let mut ips: HashMap<(String, std::net::Ipv4Addr), String> = HashMap::new();
    let mut macs: HashMap<(String, String), String> = HashMap::new();
    let mut names: HashMap<String, String> = HashMap::new();
    let mut ports = Published::default();
    for (name, svc, x) in order {
        if let IpcMode::Service(peer) = &svc.process.ipc {
            let pos = x.depends_pos.get(peer).copied().unwrap_or(x.pos);
            let p = format!("services.{name}.ipc");
            match services.get(peer).map(|o| &o.process.ipc) {
                Some(IpcMode::Private) => err(pos, &p, format!("service `{peer}` has `ipc: private`, which no other container may join; make it `shareable` (or remove its `ipc`)")),
                Some(IpcMode::Host) => err(pos, &p, format!("service `{peer}` has `ipc: host`; write `ipc: host` here too")),
                Some(IpcMode::Service(o)) => err(pos, &p, format!("service `{peer}` shares the IPC namespace of `{o}`; write `ipc: service:{o}` here")),
                _ => {}
            }
        }
        for (net, a, pos, p) in &x.net.ipv4 {
            if let Some(f) = ips.get(&(net.clone(), *a)) {
                err(*pos, p, format!("ipv4_address {a} is already given by {f}; give each container its own address"));
            } else {
                ips.insert((net.clone(), *a), p.clone());
            }
        }
        for (net, m, pos, p) in &x.net.mac {
            if let Some(f) = macs.get(&(net.clone(), m.clone())) {
                err(*pos, p, format!("mac_address {m} is already given by {f} on network `{net}`; give each container its own"));
            } else {
                macs.insert((net.clone(), m.clone()), p.clone());
            }
        }
        if let (Some(c), Some((pos, p))) = (&svc.container_name, &x.net.container_name) {
            if let Some(other) = names.get(c) {
                err(*pos, p, format!("container_name `{c}` is already the name of service `{other}`; give each container its own"));
            } else {
                names.insert(c.clone(), name.clone());
            }
        }
        for (port, (pos, p)) in svc.ports.iter().zip(&x.net.ports) {
            if let Some(m) = ports.add(port, p) {
                err(*pos, p, m);
            }
        }
        for ((other, _), (pos, p)) in svc.links.iter().zip(&x.net.links) {
            if let Some(m) = link_apart(services, name, other) {
                err(*pos, p, m);
            }
        }
    }
    problems
}

/// The networks a service is on: its own, or those of the service whose
/// namespace it shares (`None`: the host's, or only loopback).
fn networks_of<'s>(services: &'s BTreeMap<String, Service>, name: &str) -> Option<Vec<&'s String>> {
    let mut cur = services.get(name)?;
    // A `service:` chain is at most as long as the file (a cycle is
    // reported by the dependency check).
    for _ in 0..services.len() {
        match &cur.network_mode {
            NetworkMode::Bridge => return Some(cur.networks.keys().collect()),
            NetworkMode::Service(x) => cur = services.get(x)?,
            NetworkMode::Host | NetworkMode::None => return None,
        }
    }
    None
}

/// Why `name`'s link to `other` cannot resolve: the two share no network.
fn link_apart(services: &BTreeMap<String, Service>, name: &str, other: &str) -> Option<String> {
    let mine = networks_of(services, name)?;
    if !services.contains_key(other) {
        return None; // not active: reported with its profile
    }
    let theirs = networks_of(services, other).unwrap_or_default();
    if mine.iter().any(|n| theirs.contains(n)) {
        return None;
    }
    let list = |v: &[&String]| {
        v.iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Some(if theirs.is_empty() {
        format!("link to `{other}`, which is on no network of the project (its network_mode); remove the link")
    } else {
        format!(
            "`{name}` and `{other}` share no network, so the link cannot resolve; join one of {}",
            list(&theirs)
        )
    })
}

/// A host address a port is published on (`None`: all of them), and where.
type Bound = (Option<String>, String);

/// The single host ports published so far: `(port, protocol)` → the
/// addresses and where each was.
#[derive(Default)]
struct Published(HashMap<(u16, String), Vec<Bound>>);

impl Published {
    /// Record `port` (from `path`); the message when it was published
    /// already (on the same address, or where one of the two is all of
    /// them). Ranges, which take any free port of theirs, are not checked.
    fn add(&mut self, port: &Port, path: &str) -> Option<String> {
        let host: u16 = port.published.as_deref()?.parse().ok()?;
        let ip = port.host_ip.clone().filter(|ip| ip != "0.0.0.0");
        let seen = self.0.entry((host, port.protocol.clone())).or_default();
        let clash = seen
            .iter()
            .find(|(other, _)| other.is_none() || ip.is_none() || *other == ip);
        if let Some((_, first)) = clash {
            let shown = ip.as_deref().unwrap_or("0.0.0.0");
            return Some(format!("host port {shown}:{host}/{} is already published by {first}; publish each host port once", port.protocol));
        }
        seen.push((ip, path.to_string()));
        None
    }
}

/// A dependency cycle's message, naming the edges that `network_mode:
/// service:` and `links` make.
pub(super) fn cycle_message(
    path: &[String],
    services: &BTreeMap<String, Service>,
) -> Option<String> {
    let mut notes = Vec::new();
    for w in path.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let Some(s) = services.get(a) else { continue };
        if s.network_mode == NetworkMode::Service(b.clone()) {
            notes.push(format!("`{a}` has network_mode: service:{b}"));
        }
        if s.links.iter().any(|(l, _)| l == b) {
            notes.push(format!("`{a}` links to `{b}`"));
        }
    }
    (!notes.is_empty()).then(|| {
        format!(
            "dependency cycle: {} ({}; remove one of these depends_on, network_mode or links)",
            path.join(" → "),
            notes.join(", ")
        )
    })
}
