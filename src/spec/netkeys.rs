//! The loader for a service's network keys: `networks` (a list of keys,
//! or a map with `aliases`, `ipv4_address`, `mac_address`, `priority`),
//! `mac_address`, `container_name`, `links`, `expose`, `extra_hosts`,
//! `dns`, `dns_search`, `dns_opt` and `domainname`.

use super::draft::NetKeys;
use super::load::*;
use super::model::*;
use super::networks::{gateway_of, host_address};
use super::yaml::{Kind, Node, Pos};

/// A name that resolves (an alias, a link's alias): letters, digits, `-`,
/// `_` and `.`, starting with a letter or digit, at most 253 bytes.
fn valid_dns_name(s: &str) -> bool {
    s.len() <= 253
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// `aa:bb:cc:dd:ee:ff` (or with `-`), unicast, not all zero: lower case
/// with `:`.
pub(super) fn parse_mac(s: &str) -> Result<String, String> {
    let octets: Vec<Option<u8>> = s
        .split([':', '-'])
        .map(|o| {
            (o.len() == 2)
                .then(|| u8::from_str_radix(o, 16).ok())
                .flatten()
        })
        .collect();
    let Some(octets) = octets
        .into_iter()
        .collect::<Option<Vec<u8>>>()
        .filter(|o| o.len() == 6)
    else {
        return Err(format!(
            "invalid mac_address {s:?} (expected six hex pairs such as 02:42:ac:11:00:02)"
        ));
    };
    if octets[0] & 1 == 1 {
        return Err(format!("mac_address {s:?} is a multicast address (its first byte must be even); use e.g. 02:42:ac:11:00:02"));
    }
    if octets.iter().all(|o| *o == 0) {
        return Err(
            "mac_address 00:00:00:00:00:00 cannot be an interface's; use e.g. 02:42:ac:11:00:02"
                .to_string(),
        );
    }
    Ok(octets
        .iter()
        .map(|o| format!("{o:02x}"))
        .collect::<Vec<_>>()
        .join(":"))
}

/// A link `(service, alias)` and where it was.
type Link = ((String, String), (Pos, String));

impl Cx<'_> {
    /// One network key of service `me`: its method.
    pub(super) fn net_key(&mut self, net: &mut NetKeys, me: &str, key: &str, v: &Node, p: &str) {
        match key {
            "networks" => self.service_networks(v, p, net),
            "mac_address" => {
                if let Some(s) = self.opt_string(v, p) {
                    match parse_mac(&s) {
                        Ok(m) => net.mac_address = Some(m),
                        Err(m) => self.err(v.pos, p, m),
                    }
                }
            }
            "container_name" => {
                net.container_name = self.container_name(v, p);
                net.unique.container_name = Some((v.pos, p.to_string()));
            }
            "links" => {
                let (links, at) = self.links(v, p, me).into_iter().unzip();
                (net.links, net.unique.links) = (links, at);
            }
            "expose" => net.expose = self.expose(v, p),
            "extra_hosts" => net.extra_hosts = self.extra_hosts(v, p),
            "dns" => net.dns = self.dns(v, p),
            "dns_search" => net.dns_search = self.dns_words(v, p, "search domain"),
            "dns_opt" => net.dns_opt = self.dns_words(v, p, "resolver option"),
            _ => net.domainname = self.domainname(v, p),
        }
    }

    /// A service's `networks`: a list of keys or a map by key, each
    /// declared at the top level (or `default`).
    fn service_networks(&mut self, v: &Node, p: &str, net: &mut NetKeys) {
        match &v.kind {
            Kind::Null => {}
            Kind::Seq(items) => {
                for (ip, it) in indexed(items, p) {
                    if let Some(key) = self.string(it, &ip) {
                        self.join(&key, it.pos, &ip, None, net);
                    }
                }
            }
            Kind::Map(m) => {
                for (k, body) in m.iter().filter(|(k, _)| !k.name.starts_with("x-")) {
                    self.join(&k.name, k.pos, &child(p, &k.name), Some(body), net);
                }
            }
            Kind::Scalar { .. } => self.err(
                v.pos,
                p,
                "expected a list of network names or a map, found a scalar",
            ),
        }
    }

    /// Join network `key` (named at `pos`, `p`), with its settings.
    fn join(&mut self, key: &str, pos: Pos, p: &str, body: Option<&Node>, net: &mut NetKeys) {
        let Some(def) = self.networks.get(key).cloned() else {
            let known: Vec<String> = self.networks.keys().cloned().collect();
            let hint = suggest(key, &known)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            self.err(
                pos,
                p,
                format!(
                    "network `{key}` is not declared; add it to the top-level `networks`{hint}"
                ),
            );
            return;
        };
        if net.networks.contains_key(key) {
            self.err(pos, p, format!("`{key}` is listed twice"));
            return;
        }
        let mut sn = ServiceNetwork {
            aliases: Vec::new(),
            ipv4_address: None,
            mac_address: None,
            priority: 0,
            network: def,
        };
        let m = match body.map(|b| &b.kind) {
            None | Some(Kind::Null) => &[][..],
            Some(_) => body.and_then(|b| self.map(b, p)).unwrap_or(&[]),
        };
        for (k, v) in m {
            let kp = child(p, &k.name);
            match k.name.as_str() {
                "aliases" => sn.aliases = self.aliases(v, &kp),
                "ipv4_address" => {
                    let Some(s) = self.opt_string(v, &kp) else {
                        continue;
                    };
                    sn.ipv4_address = self.fixed_address(&s, v.pos, &kp, key, &sn.network);
                    if let Some(a) = sn.ipv4_address {
                        net.unique.ipv4.push((key.to_string(), a, v.pos, kp));
                    }
                }
                "mac_address" => {
                    let Some(s) = self.opt_string(v, &kp) else {
                        continue;
                    };
                    match parse_mac(&s) {
                        Ok(mac) => {
                            net.unique
                                .mac
                                .push((key.to_string(), mac.clone(), v.pos, kp));
                            sn.mac_address = Some(mac);
                        }
                        Err(m) => self.err(v.pos, &kp, m),
                    }
                }
                "priority" => {
                    if let Some(n) = self.int(v, &kp) {
                        match i32::try_from(n) {
                            Ok(n) => sn.priority = n,
                            Err(_) => self.err(
                                v.pos,
                                &kp,
                                format!("priority {n} out of range ({} to {})", i32::MIN, i32::MAX),
                            ),
                        }
                    }
                }
                _ => self.unknown(k, p, "ServiceNetworkFile"),
            }
        }
        net.networks.insert(key.to_string(), sn);
    }

    /// `ipv4_address` on network `key`: inside its configured subnet,
    /// neither its gateway nor its network or broadcast address.
    fn fixed_address(
        &mut self,
        s: &str,
        pos: Pos,
        p: &str,
        key: &str,
        def: &NetworkDef,
    ) -> Option<std::net::Ipv4Addr> {
        let a = self.address(s, pos, p, "ipv4_address")?;
        let Some(subnet) = def.subnet else {
            let msg = if def.external {
                format!("a fixed ipv4_address on external network `{key}` is not supported yet (its subnet is not in this file); remove it")
            } else {
                format!("ipv4_address needs the network's subnet: give networks.{key}.ipam.config[0].subnet (Docker, too, assigns fixed addresses only from a configured subnet)")
            };
            self.err(pos, p, msg);
            return None;
        };
        if let Err(why) = host_address(subnet, a) {
            self.err(
                pos,
                p,
                format!("ipv4_address {a} {why} of network `{key}`; give an address inside it"),
            );
            return None;
        }
        if gateway_of(def) == Some(a) {
            self.err(
                pos,
                p,
                format!("ipv4_address {a} is the gateway of network `{key}`; give another address"),
            );
            return None;
        }
        Some(a)
    }

    /// `aliases`: names, each once.
    fn aliases(&mut self, v: &Node, p: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if v.kind == Kind::Null {
            return out;
        }
        let Some(items) = self.list(v, p) else {
            return out;
        };
        for (ip, it) in indexed(items, p) {
            let Some(a) = self.string(it, &ip) else {
                continue;
            };
            if !valid_dns_name(&a) {
                self.err(it.pos, &ip, format!("invalid alias {a:?} (letters, digits, `-`, `_` and `.`, starting with a letter or digit)"));
            } else if out.contains(&a) {
                self.err(it.pos, &ip, format!("`{a}` is listed twice"));
            } else {
                out.push(a);
            }
        }
        out
    }

    /// `container_name`: Docker's rule for container names.
    fn container_name(&mut self, v: &Node, p: &str) -> Option<String> {
        let s = self.opt_string(v, p)?;
        let ok = s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
        if !ok {
            self.err(v.pos, p, format!("invalid container_name {s:?} (letters, digits, `_`, `.` and `-`, starting with a letter or digit)"));
            return None;
        }
        Some(s)
    }

    /// `links`: `SERVICE` or `SERVICE:ALIAS`, another service of the
    /// file; each with where it was.
    fn links(&mut self, v: &Node, p: &str, me: &str) -> Vec<Link> {
        let mut out: Vec<Link> = Vec::new();
        if v.kind == Kind::Null {
            return out;
        }
        let Some(items) = self.list(v, p) else {
            return out;
        };
        for (ip, it) in indexed(items, p) {
            let Some(s) = self.string(it, &ip) else {
                continue;
            };
            let (svc, alias) = s.split_once(':').unwrap_or((&s, &s));
            if svc == me {
                self.err(
                    it.pos,
                    &ip,
                    format!("service `{me}` cannot link to itself; remove this link"),
                );
            } else if !self.service_names.contains(svc) {
                let names: Vec<String> = self.service_names.iter().cloned().collect();
                let hint = suggest(svc, &names)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                self.err(
                    it.pos,
                    &ip,
                    format!("link to `{svc}`, which is not a service of this file{hint}"),
                );
            } else if !valid_dns_name(alias) {
                self.err(it.pos, &ip, format!("invalid link alias {alias:?} (letters, digits, `-`, `_` and `.`, starting with a letter or digit)"));
            } else if out.iter().any(|((_, a), _)| a == alias) {
                self.err(
                    it.pos,
                    &ip,
                    format!("alias `{alias}` is linked twice; give each link its own alias"),
                );
            } else {
                out.push(((svc.to_string(), alias.to_string()), (it.pos, ip)));
            }
        }
        out
    }

    /// `expose`: `PORT[/PROTOCOL]` or a range, as `PORT/PROTOCOL` each.
    fn expose(&mut self, v: &Node, p: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if v.kind == Kind::Null {
            return out;
        }
        let Some(items) = self.list(v, p) else {
            return out;
        };
        for (ip, it) in indexed(items, p) {
            let Some(s) = self.string(it, &ip) else {
                continue;
            };
            let (ports, proto) = s.split_once('/').unwrap_or((&s, "tcp"));
            let range = super::ports::port_range(ports.trim());
            match (range, proto) {
                (Ok((lo, hi)), "tcp" | "udp") => {
                    for port in lo..=hi {
                        let e = format!("{port}/{proto}");
                        if !out.contains(&e) {
                            out.push(e);
                        }
                    }
                }
                _ => self.err(it.pos, &ip, format!("invalid expose entry {s:?} (expected PORT[/tcp|udp] or a range such as 8000-8010)")),
            }
        }
        out
    }

    /// `extra_hosts`: `HOST:IP` or `HOST=IP` strings, or a map of host to
    /// address(es); IP may be IPv6 (it only goes to `/etc/hosts`) or
    /// `host-gateway`.
    fn extra_hosts(&mut self, v: &Node, p: &str) -> Vec<ExtraHost> {
        let mut out = Vec::new();
        match &v.kind {
            Kind::Null => {}
            Kind::Seq(items) => {
                for (ip, it) in indexed(items, p) {
                    let Some(s) = self.string(it, &ip) else {
                        continue;
                    };
                    let split = match s.split_once('=') {
                        Some(hi) => Some(hi),
                        None => s.split_once(':'),
                    };
                    match split {
                        Some((h, a)) => out.extend(self.extra_host(h, a, it.pos, &ip)),
                        None => self.err(
                            it.pos,
                            &ip,
                            format!(
                                "invalid extra_hosts entry {s:?} (expected HOST:IP or HOST=IP)"
                            ),
                        ),
                    }
                }
            }
            Kind::Map(m) => {
                for (k, val) in m {
                    let kp = child(p, &k.name);
                    for (a, pos, ap) in self.one_or_list(val, &kp).unwrap_or_default() {
                        out.extend(self.extra_host(&k.name, &a, pos, &ap));
                    }
                }
            }
            Kind::Scalar { .. } => self.err(
                v.pos,
                p,
                "expected a list of HOST:IP strings or a map, found a scalar",
            ),
        }
        out
    }

    /// One `/etc/hosts` line: a host name and an address (brackets
    /// around an IPv6 one are dropped).
    fn extra_host(&mut self, host: &str, ip: &str, pos: Pos, p: &str) -> Option<ExtraHost> {
        if !valid_dns_name(host) {
            self.err(
                pos,
                p,
                format!(
                    "invalid host name {host:?} in extra_hosts (letters, digits, `-`, `_` and `.`)"
                ),
            );
            return None;
        }
        let bare = ip
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(ip);
        let ip = if bare == "host-gateway" {
            bare.to_string()
        } else {
            match bare.parse::<std::net::IpAddr>() {
                Ok(a) => a.to_string(),
                Err(_) => {
                    self.err(pos, p, format!("invalid address {ip:?} for host `{host}` (an IP address, or host-gateway)"));
                    return None;
                }
            }
        };
        Some(ExtraHost {
            host: host.to_string(),
            ip,
        })
    }

    /// `dns`: one address or a list.
    fn dns(&mut self, v: &Node, p: &str) -> Vec<std::net::IpAddr> {
        let mut out = Vec::new();
        for (s, pos, ip) in self.one_or_list(v, p).unwrap_or_default() {
            match s.trim().parse::<std::net::IpAddr>() {
                Ok(a) => out.push(a),
                Err(_) => self.err(
                    pos,
                    &ip,
                    format!("invalid dns server {s:?} (an IP address such as 1.1.1.1)"),
                ),
            }
        }
        out
    }

    /// `dns_search`, `dns_opt`: words of `/etc/resolv.conf` (one or a list).
    fn dns_words(&mut self, v: &Node, p: &str, what: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (s, pos, ip) in self.one_or_list(v, p).unwrap_or_default() {
            if s.is_empty()
                || s.len() > 253
                || s.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                self.err(
                    pos,
                    &ip,
                    format!("invalid {what} {s:?} (one word, no spaces)"),
                );
            } else {
                out.push(s);
            }
        }
        out
    }

    /// `domainname`: letters, digits, `-` and `.`, at most 255.
    fn domainname(&mut self, v: &Node, p: &str) -> Option<String> {
        let d = self.opt_string(v, p)?;
        let ok = !d.is_empty()
            && d.len() <= 255
            && d.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !ok {
            self.err(
                v.pos,
                p,
                format!("invalid domainname {d:?} (letters, digits, `-` and `.`, at most 255)"),
            );
            return None;
        }
        Some(d)
    }
}
