//! The loader for `ports`: `[[IP:]HOST:]CONTAINER[/PROTOCOL]` (ranges
//! expanded to one port each) and the long form; and for `network_mode`.

use super::load::*;
use super::model::*;
use super::yaml::{Key, Kind, Node, Pos};

impl Cx<'_> {
    /// `network_mode`: `bridge`, `none`, `host` or `service:NAME` (of
    /// another service of the file; kept when wrong so that the keys it
    /// forbids are reported too). `None` when unreadable (reported).
    pub(super) fn network_mode(&mut self, v: &Node, p: &str, me: &str) -> Option<NetworkMode> {
        let s = self.string(v, p)?;
        match s.as_str() {
            "bridge" => Some(NetworkMode::Bridge),
            "none" => Some(NetworkMode::None),
            "host" => Some(NetworkMode::Host),
            _ if s.starts_with("service:") => {
                let name = &s["service:".len()..];
                if name == me {
                    self.err(v.pos, p, format!("service `{me}` cannot share its own network namespace; name another service after `service:`"));
                } else if !self.service_names.contains(name) {
                    let hint = suggest(
                        name,
                        &self.service_names.iter().cloned().collect::<Vec<_>>(),
                    )
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                    self.err(v.pos, p, format!("network_mode: service `{name}` is not defined{hint}; name a service of this file"));
                }
                Some(NetworkMode::Service(name.to_string()))
            }
            _ if s.starts_with("container:") => {
                self.err(
                    v.pos,
                    p,
                    format!("network_mode {s:?} is not supported yet; use service:NAME to share the network namespace of a service of this file"),
                );
                None
            }
            other => {
                self.err(
                    v.pos,
                    p,
                    format!("invalid network_mode {other:?} (expected bridge, none, host or service:NAME; to join a network, list it under `networks`)"),
                );
                None
            }
        }
    }

    /// `ports`: each port with where it was written (a range gives several
    /// ports at one place).
    pub(super) fn ports(&mut self, n: &Node, path: &str) -> Vec<(Port, (Pos, String))> {
        let mut out = Vec::new();
        if n.kind == Kind::Null {
            return out;
        }
        let Some(items) = self.list(n, path) else {
            return out;
        };
        for (p, it) in indexed(items, path) {
            let ports = match &it.kind {
                Kind::Scalar { value, .. } => match parse_port(value) {
                    Ok(ports) => ports,
                    Err(m) => {
                        self.err(it.pos, &p, m);
                        continue;
                    }
                },
                Kind::Map(m) => match self.long_port(m, it.pos, &p) {
                    Some(port) => vec![port],
                    None => continue,
                },
                _ => {
                    self.err(
                        it.pos,
                        &p,
                        format!("expected a port string or a map, found {}", it.describe()),
                    );
                    continue;
                }
            };
            out.extend(ports.into_iter().map(|port| (port, (it.pos, p.clone()))));
        }
        out
    }

    /// One port in the long form (`target`, `published`, `host_ip`, …).
    fn long_port(&mut self, m: &[(Key, Node)], pos: Pos, p: &str) -> Option<Port> {
        let mut port = Port {
            host_ip: None,
            published: None,
            target: 0,
            protocol: "tcp".into(),
        };
        for (k, v) in m {
            let kp = child(p, &k.name);
            match k.name.as_str() {
                "target" => {
                    let s = self.string(v, &kp)?;
                    match s.trim().parse::<u16>() {
                        Ok(t) if t > 0 => port.target = t,
                        _ if s.contains('-') => self.err(v.pos, &kp, format!("`target` takes one port, not {s:?}; write a range in the short form (\"8000-8001:80-81\") or one entry per port")),
                        _ => self.err(v.pos, &kp, format!("invalid port {s:?} (1 to 65535)")),
                    }
                }
                "published" => {
                    if let Some(pb) = self.opt_string(v, &kp) {
                        match port_range(&pb) {
                            Ok((lo, hi)) => port.published = Some(range_text(lo, hi)),
                            Err(m) => self.err(v.pos, &kp, m),
                        }
                    }
                }
                "host_ip" => {
                    if let Some(ip) = self.opt_string(v, &kp) {
                        match check_host_ip(&ip, &ip) {
                            Ok(()) => port.host_ip = Some(ip),
                            Err(m) => self.err(v.pos, &kp, m),
                        }
                    }
                }
                "protocol" => {
                    if let Some(s) = self.string(v, &kp) {
                        match check_protocol(&s) {
                            Ok(()) => port.protocol = s,
                            Err(m) => self.err(v.pos, &kp, m),
                        }
                    }
                }
                "mode" => {
                    if let Some(s) = self.string(v, &kp) {
                        if s != "host" && s != "ingress" {
                            self.err(v.pos, &kp, format!("mode {s:?} is not supported (host)"));
                        }
                    }
                }
                "name" | "app_protocol" => {
                    self.string(v, &kp);
                }
                _ => self.unknown(k, p, "PortLongFile"),
            }
        }
        if !m.iter().any(|(k, _)| k.name == "target") {
            self.err(pos, p, "`target` is required");
            return None;
        }
        (port.target > 0).then_some(port)
    }
}

/// `1-65535`, or a range `LO-HI` (LO ≤ HI), as `(LO, HI)`.
pub(super) fn port_range(s: &str) -> Result<(u16, u16), String> {
    let one = |x: &str| x.parse::<u16>().ok().filter(|v| *v > 0);
    let r = match s.split_once('-') {
        Some((a, b)) => one(a).zip(one(b)).filter(|(a, b)| a <= b),
        None => one(s).map(|v| (v, v)),
    };
    r.ok_or_else(|| format!("invalid port {s:?} (1 to 65535, or a range like 8000-8010)"))
}

/// `8080` or `8000-8010`.
pub(super) fn range_text(lo: u16, hi: u16) -> String {
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}-{hi}")
    }
}

fn check_protocol(p: &str) -> Result<(), String> {
    match p {
        "tcp" | "udp" => Ok(()),
        _ => Err(format!("protocol {p:?} is not supported (tcp or udp)")),
    }
}

/// A host address to publish on: IPv4 only (`spec` is the whole port, for
/// the message).
fn check_host_ip(ip: &str, spec: &str) -> Result<(), String> {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => Ok(()),
        Ok(std::net::IpAddr::V6(_)) => Err(ipv6_publishing()),
        Err(_) => Err(format!("invalid host IP {ip:?} in port {spec:?}")),
    }
}

fn ipv6_publishing() -> String {
    "IPv6 publishing is not supported yet; publish on an IPv4 address (e.g. 127.0.0.1:8080:80) or on all of them (8080:80)".to_string()
}

fn ports_word(n: u32) -> String {
    if n == 1 {
        "1 port".to_string()
    } else {
        format!("{n} ports")
    }
}

/// `[[IP:]HOST:]CONTAINER[/PROTOCOL]`, HOST and CONTAINER ports or ranges:
/// one `Port` per container port (a HOST range beside one CONTAINER port
/// stays a range: one free port of it is taken).
pub(crate) fn parse_port(s: &str) -> Result<Vec<Port>, String> {
    let bad =
        || format!("invalid port {s:?} (expected [[IP:]HOST:]CONTAINER[/tcp|udp], e.g. 8080:80)");
    let (spec, protocol) = match s.rsplit_once('/') {
        Some((a, p)) if p.chars().all(|c| c.is_ascii_alphabetic()) && !p.is_empty() => {
            check_protocol(p)?;
            (a, p.to_string())
        }
        Some(_) => return Err(bad()),
        None => (s, "tcp".to_string()),
    };
    let v6 = spec.matches(':').count() > 2
        && spec
            .rsplitn(3, ':')
            .last()
            .is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok());
    if spec.starts_with('[') || v6 {
        return Err(ipv6_publishing());
    }
    let parts: Vec<&str> = spec.split(':').collect();
    let (host_ip, host, container) = match parts[..] {
        [c] => (None, None, c),
        [h, c] => (None, Some(h), c),
        [ip, h, c] => {
            check_host_ip(ip, s)?;
            (Some(ip.to_string()), Some(h), c)
        }
        _ => return Err(bad()),
    };
    let (clo, chi) = port_range(container).map_err(|_| bad())?;
    let host = match host.filter(|h| !h.is_empty()) {
        Some(h) => Some(port_range(h)?),
        None => None,
    };
    let port = |target: u16, published: Option<String>| Port {
        host_ip: host_ip.clone(),
        published,
        target,
        protocol: protocol.clone(),
    };
    let count = u32::from(chi - clo) + 1;
    match host {
        Some((hlo, hi)) if count > 1 => {
            let hcount = u32::from(hi - hlo) + 1;
            if hcount != count {
                return Err(format!(
                    "port ranges differ in size: host {} is {}, container {} is {}; give ranges of the same size",
                    range_text(hlo, hi),
                    ports_word(hcount),
                    range_text(clo, chi),
                    ports_word(count)
                ));
            }
            Ok((clo..=chi)
                .zip(hlo..=hi)
                .map(|(c, h)| port(c, Some(h.to_string())))
                .collect())
        }
        Some((hlo, hi)) => Ok(vec![port(clo, Some(range_text(hlo, hi)))]),
        None => Ok((clo..=chi).map(|c| port(c, None)).collect()),
    }
}
