//! The loader for the top-level `networks:`: each key a bridge network
//! (`driver`, `driver_opts` for the bridge's name and MTU, `internal`,
//! `ipam.config` with `subnet`, `ip_range` and `gateway`, `labels`,
//! `name`, `external`), checked even when no service joins it; and the
//! checks between networks (overlapping subnets, a bridge or a name used
//! twice).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::load::*;
use super::model::*;
use super::yaml::{Key, Kind, Node, Pos};

/// Where a network's settings that must differ from the other networks'
/// were: `(position, key path)`.
#[derive(Default)]
struct Spots {
    name: Option<(Pos, String)>,
    subnet: Option<(Pos, String)>,
    bridge: Option<(Pos, String)>,
}

/// Docker's rule for network names (and stack's for network keys).
pub(super) fn valid_network_name(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

/// What a network is checked against in the networks read before it:
/// `(key, name on the machine, external)`, `(key, subnet)`, `(key, bridge)`.
#[derive(Default)]
struct Seen {
    names: Vec<(String, String, bool)>,
    subnets: Vec<(String, Ipv4Net)>,
    bridges: Vec<(String, String)>,
}

impl Cx<'_> {
    /// The top-level `networks:` into `self.networks` (with the implicit
    /// `default`, `<project>_default`, unless the file declares it).
    pub(super) fn top_networks(&mut self, v: Option<&Node>, project: &str) {
        let m = match v.map(|v| &v.kind) {
            None | Some(Kind::Null) => &[][..],
            Some(_) => v.and_then(|v| self.map(v, "networks")).unwrap_or(&[]),
        };
        let mut seen = Seen::default();
        for (k, n) in m.iter().filter(|(k, _)| !k.name.starts_with("x-")) {
            let p = child("networks", &k.name);
            if !valid_network_name(&k.name) {
                self.err(k.pos, &p, format!("invalid network name {:?} (letters, digits, `_`, `.` and `-`, starting with a letter or digit)", k.name));
                continue;
            }
            let (def, spots) = self.network(k, n, &p, project);
            self.against_others(&k.name, &def, &spots, &mut seen);
            self.networks.insert(k.name.clone(), def);
        }
        if !self.networks.contains_key("default") {
            let def = NetworkDef::new(&format!("{project}_default"));
            self.networks.insert("default".to_string(), def);
        }
    }

    /// A network's name, subnet and bridge against the networks before it.
    fn against_others(&mut self, key: &str, def: &NetworkDef, spots: &Spots, seen: &mut Seen) {
        if let Some((pos, p)) = &spots.name {
            let clash = seen
                .names
                .iter()
                .find(|(_, n, ext)| *n == def.name && !(*ext && def.external));
            if let Some((other, _, _)) = clash {
                let msg = format!("network name `{}` is already the name of network `{other}`; give each network its own name", def.name);
                self.err(*pos, p, msg);
            }
        }
        seen.names
            .push((key.to_string(), def.name.clone(), def.external));
        if let (Some(net), Some((pos, p))) = (def.subnet, &spots.subnet) {
            let clash = seen
                .subnets
                .iter()
                .find(|(_, o)| o.contains(&net.network()) || net.contains(&o.network()));
            if let Some((other, o)) = clash {
                let msg = format!("subnet {net} overlaps subnet {o} of network `{other}`; give each network a range of its own");
                self.err(*pos, p, msg);
            }
            seen.subnets.push((key.to_string(), net));
        }
        if let (Some(b), Some((pos, p))) = (&def.bridge, &spots.bridge) {
            if let Some((other, _)) = seen.bridges.iter().find(|(_, o)| o == b) {
                let msg = format!("bridge name `{b}` is already the bridge of network `{other}`; give each network its own");
                self.err(*pos, p, msg);
            }
            seen.bridges.push((key.to_string(), b.clone()));
        }
    }

    /// One network (`key` at `p`): its definition and where its name,
    /// subnet and bridge were.
    fn network(&mut self, key: &Key, n: &Node, p: &str, project: &str) -> (NetworkDef, Spots) {
        let mut def = NetworkDef::new(&format!("{project}_{}", key.name));
        let mut spots = Spots::default();
        let m = match &n.kind {
            Kind::Null => &[][..],
            _ => self.map(n, p).unwrap_or(&[]),
        };
        let (mut name, mut external) = (None, false);
        for (k, v) in m {
            let kp = child(p, &k.name);
            match k.name.as_str() {
                "name" => {
                    name = self.network_name(v, &kp);
                    spots.name = Some((v.pos, kp));
                }
                "external" => external = self.external(v, &kp),
                "driver" => self.driver(v, &kp),
                "driver_opts" => spots.bridge = self.driver_opts(v, &kp, &mut def),
                "attachable" => {
                    self.boolean(v, &kp);
                }
                "enable_ipv4" => {
                    if self.boolean(v, &kp) == Some(false) {
                        self.err(v.pos, &kp, "IPv6-only networks are not supported yet: a network always has IPv4; remove `enable_ipv4: false`");
                    }
                }
                "enable_ipv6" => {
                    if self.boolean(v, &kp) == Some(true) {
                        self.err(v.pos, &kp, "IPv6 networks are not supported yet; remove `enable_ipv6` (or set it to false)");
                    }
                }
                "internal" => def.internal = self.boolean(v, &kp).unwrap_or(false),
                "ipam" => spots.subnet = self.ipam(v, &kp, &mut def),
                "labels" => {
                    for (k, val, _) in self.kv(v, &kp) {
                        def.labels.insert(k, val.unwrap_or_default());
                    }
                }
                _ => self.unknown(k, p, "NetworkFile"),
            }
        }
        if external {
            for (k, _) in m {
                if !matches!(k.name.as_str(), "name" | "external") && !k.name.starts_with("x-") {
                    let msg = format!("`{}` cannot be set on an external network (another project makes it); keep only `name`", k.name);
                    self.err(k.pos, &child(p, &k.name), msg);
                }
            }
            def = NetworkDef::new(name.as_deref().unwrap_or(&key.name));
            def.external = true;
            spots.subnet = None;
            spots.bridge = None;
        } else if let Some(name) = name {
            def.name = name;
        }
        if spots.name.is_none() {
            spots.name = Some((key.pos, p.to_string()));
        }
        (def, spots)
    }

    /// `name:` of a network: Docker's rule for network names.
    fn network_name(&mut self, v: &Node, p: &str) -> Option<String> {
        let s = self.string(v, p)?;
        if valid_network_name(&s) {
            Some(s)
        } else {
            self.err(v.pos, p, format!("invalid network name {s:?} (letters, digits, `_`, `.` and `-`, starting with a letter or digit)"));
            None
        }
    }

    /// `external: true|false` (Compose's old `external: { name: … }` is
    /// refused with the new spelling).
    pub(super) fn external(&mut self, v: &Node, p: &str) -> bool {
        if let Kind::Map(_) = v.kind {
            self.err(v.pos, p, "`external: { name: … }` is Compose's obsolete form; write `external: true` and `name: …` beside it");
            return false;
        }
        self.boolean(v, p).unwrap_or(false)
    }

    /// `driver`: `bridge` only.
    fn driver(&mut self, v: &Node, p: &str) {
        if let Some(d) = self.opt_string(v, p) {
            if d != "bridge" {
                self.err(
                    v.pos,
                    p,
                    format!("network driver {d:?} is not supported (only bridge)"),
                );
            }
        }
    }

    /// `driver_opts`: the bridge's name and MTU; where the name was.
    fn driver_opts(&mut self, v: &Node, p: &str, def: &mut NetworkDef) -> Option<(Pos, String)> {
        let mut at = None;
        let m = match &v.kind {
            Kind::Null => return None,
            _ => self.map(v, p)?,
        };
        for (k, v) in m {
            let kp = child(p, &k.name);
            match k.name.as_str() {
                "com.docker.network.bridge.name" => {
                    let Some(b) = self.string(v, &kp) else { continue };
                    if valid_bridge_name(&b) {
                        def.bridge = Some(b);
                        at = Some((v.pos, kp));
                    } else {
                        self.err(v.pos, &kp, format!("invalid bridge name {b:?} (1 to 15 bytes, no `/`, `:` or whitespace)"));
                    }
                }
                "com.docker.network.driver.mtu" => {
                    let Some(s) = self.string(v, &kp) else { continue };
                    match s.trim().parse::<u32>() {
                        Ok(m) if (68..=65535).contains(&m) => def.mtu = Some(m),
                        _ => self.err(v.pos, &kp, format!("invalid mtu {s:?} (68 to 65535)")),
                    }
                }
                other => self.err(k.pos, &kp, format!("driver option `{other}` is not supported yet (only com.docker.network.bridge.name and com.docker.network.driver.mtu); remove it")),
            }
        }
        at
    }

    /// `ipam`: `driver: default` and one `config` entry; where its subnet
    /// was.
    fn ipam(&mut self, v: &Node, p: &str, def: &mut NetworkDef) -> Option<(Pos, String)> {
        let m = match &v.kind {
            Kind::Null => return None,
            _ => self.map(v, p)?,
        };
        let mut at = None;
        for (k, v) in m {
            let kp = child(p, &k.name);
            match k.name.as_str() {
                "driver" => {
                    if let Some(d) = self.opt_string(v, &kp) {
                        if d != "default" {
                            self.err(v.pos, &kp, format!("ipam driver {d:?} is not supported (only `default`, stack's own address management)"));
                        }
                    }
                }
                "config" => {
                    let items = match &v.kind {
                        Kind::Null => continue,
                        _ => self.list(v, &kp).unwrap_or(&[]),
                    };
                    for (i, (ip, it)) in indexed(items, &kp).enumerate() {
                        if i > 0 {
                            self.err(it.pos, &ip, "a network has one subnet in stack: give one `ipam.config` entry; remove this one");
                            continue;
                        }
                        at = self.ipam_config(it, &ip, def);
                    }
                }
                _ => self.unknown(k, p, "IpamFile"),
            }
        }
        at
    }

    /// One `ipam.config` entry: `subnet`, `ip_range` and `gateway`, each
    /// inside the subnet; where the subnet was.
    fn ipam_config(&mut self, n: &Node, p: &str, def: &mut NetworkDef) -> Option<(Pos, String)> {
        let m = self.map(n, p)?;
        let mut found: BTreeMap<&str, (String, Pos, String)> = BTreeMap::new();
        for (k, v) in m {
            let kp = child(p, &k.name);
            match k.name.as_str() {
                key @ ("subnet" | "ip_range" | "gateway") => {
                    if let Some(s) = self.opt_string(v, &kp) {
                        found.insert(key, (s, v.pos, kp));
                    }
                }
                _ => self.unknown(k, p, "IpamConfigFile"),
            }
        }
        let (subnet, at) = match found.remove("subnet") {
            Some((s, pos, sp)) => (self.subnet(&s, pos, &sp, "subnet"), Some((pos, sp))),
            None => (None, None),
        };
        def.subnet = subnet;
        if let Some((s, pos, rp)) = found.remove("ip_range") {
            let range = self.subnet(&s, pos, &rp, "ip_range");
            match (range, subnet, &at) {
                (Some(r), Some(net), _) if net.contains(&r) => def.ip_range = Some(r),
                (Some(r), Some(net), _) => self.err(
                    pos,
                    &rp,
                    format!("ip_range {r} is not inside subnet {net}; give a part of the subnet"),
                ),
                (Some(_), None, None) => self.err(pos, &rp, "`ip_range` needs `subnet` beside it"),
                _ => {}
            }
        }
        if let Some((s, pos, gp)) = found.remove("gateway") {
            match (self.address(&s, pos, &gp, "gateway"), subnet, &at) {
                (Some(g), Some(net), _) => match host_address(net, g) {
                    Ok(()) => def.gateway = Some(g),
                    Err(why) => self.err(pos, &gp, format!("gateway {g} {why}")),
                },
                (Some(_), None, None) => self.err(pos, &gp, "`gateway` needs `subnet` beside it"),
                _ => {}
            }
        }
        subnet.and(at)
    }

    /// An IPv4 network in CIDR form, host bits zero, at most a /30.
    fn subnet(&mut self, s: &str, pos: Pos, p: &str, what: &str) -> Option<Ipv4Net> {
        if s.contains(':') {
            self.err(pos, p, format!("IPv6 {what} {s:?} is not supported yet; give an IPv4 network such as 172.28.0.0/16"));
            return None;
        }
        let Ok(net) = s.parse::<Ipv4Net>() else {
            self.err(
                pos,
                p,
                format!("invalid {what} {s:?} (expected an IPv4 network such as 172.28.0.0/16)"),
            );
            return None;
        };
        if net.addr() != net.network() {
            self.err(
                pos,
                p,
                format!("{what} {s} has host bits set; write {}", net.trunc()),
            );
            return None;
        }
        if net.prefix_len() > 30 {
            self.err(pos, p, format!("{what} {s} is too small; give at least a /30 (a network needs its gateway and an address per container)"));
            return None;
        }
        Some(net)
    }

    /// An IPv4 address (`what` names it in messages).
    pub(super) fn address(&mut self, s: &str, pos: Pos, p: &str, what: &str) -> Option<Ipv4Addr> {
        match s.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(a)) => Some(a),
            Ok(std::net::IpAddr::V6(_)) => {
                self.err(
                    pos,
                    p,
                    format!("IPv6 {what} {s:?} is not supported yet; give an IPv4 address"),
                );
                None
            }
            Err(_) => {
                self.err(
                    pos,
                    p,
                    format!("invalid {what} {s:?} (expected an IPv4 address such as 172.28.0.10)"),
                );
                None
            }
        }
    }
}

/// A bridge's interface name: 1 to 15 bytes (IFNAMSIZ), no `/`, `:` or
/// whitespace, not `.` or `..`.
fn valid_bridge_name(b: &str) -> bool {
    (1..=15).contains(&b.len())
        && b != "."
        && b != ".."
        && !b.chars().any(|c| c == '/' || c == ':' || c.is_whitespace())
}

/// `addr` may be given to a host of `net`: inside it, and neither its
/// network nor its broadcast address; `Err` says why not.
pub(super) fn host_address(net: Ipv4Net, addr: Ipv4Addr) -> Result<(), String> {
    if !net.contains(&addr) {
        Err(format!("is not inside subnet {net}"))
    } else if addr == net.network() {
        Err(format!("is the network address of subnet {net}"))
    } else if addr == net.broadcast() {
        Err(format!("is the broadcast address of subnet {net}"))
    } else {
        Ok(())
    }
}

/// The gateway of a network with a subnet: the one given, else the
/// subnet's first address.
pub(super) fn gateway_of(def: &NetworkDef) -> Option<Ipv4Addr> {
    def.gateway.or_else(|| {
        def.subnet
            .map(|n| Ipv4Addr::from(u32::from(n.network()).saturating_add(1)))
    })
}
