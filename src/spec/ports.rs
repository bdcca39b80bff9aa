//! The loader for `ports`: `[[IP:]HOST:]CONTAINER[/PROTOCOL]` and the long form;
//! and for `network_mode`, which decides whether ports can be published.

use super::load::*;
use super::model::*;
use super::yaml::{Kind, Node, Pos};

impl Cx<'_> {
    /// `network_mode`: `none` or `host` (a service's or a container's
    /// namespace is not supported yet); `None` when wrong (reported).
    pub(super) fn network_mode(&mut self, v: &Node, p: &str) -> Option<NetworkMode> {
        let s = self.string(v, p)?;
        match s.as_str() {
            "none" => Some(NetworkMode::None),
            "host" => Some(NetworkMode::Host),
            other => {
                self.err(
                    v.pos,
                    p,
                    format!("network_mode {other:?} is not supported yet (use `none` or `host`)"),
                );
                None
            }
        }
    }

    /// Published `ports` need a network the host can reach: refuse them
    /// with `network_mode: none`. `at`: where `ports` was.
    pub(super) fn ports_need_network(
        &mut self,
        at: Option<&(Pos, String)>,
        mode: &NetworkMode,
        ports: &[Port],
    ) {
        if let (Some((pos, p)), NetworkMode::None, false) = (at, mode, ports.is_empty()) {
            self.err(
                *pos,
                p,
                "publishing ports is not supported yet: with `network_mode: none` (the default) \
                 the container has only loopback; use `network_mode: host` to serve on the host's ports",
            );
        }
    }

    pub(super) fn ports(&mut self, n: &Node, path: &str) -> Vec<Port> {
        let mut out = Vec::new();
        let Some(items) = self.list(n, path) else {
            return out;
        };
        for (p, it) in indexed(items, path) {
            match &it.kind {
                Kind::Scalar { value, .. } => match parse_port(value) {
                    Ok(port) => out.push(port),
                    Err(m) => self.err(it.pos, &p, m),
                },
                Kind::Map(m) => {
                    let mut port = Port {
                        host_ip: None,
                        published: None,
                        target: 0,
                        protocol: "tcp".into(),
                    };
                    let mut has_target = false;
                    for (k, v) in m {
                        let kp = child(&p, &k.name);
                        match k.name.as_str() {
                            "target" => {
                                if let Some(t) = self.uint(v, &kp) {
                                    match u16::try_from(t) {
                                        Ok(t) if t > 0 => {
                                            port.target = t;
                                            has_target = true;
                                        }
                                        _ => self.err(
                                            v.pos,
                                            &kp,
                                            format!("port {t} out of range (1 to 65535)"),
                                        ),
                                    }
                                }
                            }
                            "published" => {
                                port.published = self.opt_string(v, &kp);
                                if let Some(pb) = &port.published {
                                    if let Err(m) = check_port_or_range(pb) {
                                        self.err(v.pos, &kp, m);
                                    }
                                }
                            }
                            "host_ip" => port.host_ip = self.opt_string(v, &kp),
                            "protocol" => {
                                if let Some(s) = self.string(v, &kp) {
                                    if s != "tcp" && s != "udp" {
                                        self.err(
                                            v.pos,
                                            &kp,
                                            format!("protocol {s:?} is not supported (tcp or udp)"),
                                        );
                                    }
                                    port.protocol = s;
                                }
                            }
                            "mode" => {
                                if let Some(s) = self.string(v, &kp) {
                                    if s != "host" && s != "ingress" {
                                        self.err(
                                            v.pos,
                                            &kp,
                                            format!("mode {s:?} is not supported (host)"),
                                        );
                                    }
                                }
                            }
                            "name" | "app_protocol" => {
                                self.string(v, &kp);
                            }
                            _ => self.unknown(k, &p, "PortLongFile"),
                        }
                    }
                    if !has_target {
                        self.err(it.pos, &p, "`target` is required");
                    } else {
                        out.push(port);
                    }
                }
                _ => self.err(
                    it.pos,
                    &p,
                    format!("expected a port string or a map, found {}", it.describe()),
                ),
            }
        }
        out
    }
}

pub(super) fn check_port_or_range(s: &str) -> Result<(), String> {
    let ok = |x: &str| x.parse::<u16>().is_ok_and(|v| v > 0);
    let valid = match s.split_once('-') {
        Some((a, b)) => ok(a) && ok(b) && a.parse::<u16>().ok() <= b.parse::<u16>().ok(),
        None => ok(s),
    };
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid port {s:?} (1 to 65535, or a range like 8000-8010)"
        ))
    }
}

/// `[[IP:]HOST:]CONTAINER[/PROTOCOL]`.
pub(crate) fn parse_port(s: &str) -> Result<Port, String> {
    let bad =
        || format!("invalid port {s:?} (expected [[IP:]HOST:]CONTAINER[/tcp|udp], e.g. 8080:80)");
    let (spec, protocol) = match s.rsplit_once('/') {
        Some((a, p)) if p == "tcp" || p == "udp" => (a, p.to_string()),
        Some(_) => return Err(bad()),
        None => (s, "tcp".to_string()),
    };
    let (rest, container) = match spec.rsplit_once(':') {
        Some((r, c)) => (Some(r), c),
        None => (None, spec),
    };
    if container.contains('-') {
        return Err(format!(
            "port range {container:?} in the container is not supported yet; list each port"
        ));
    }
    let target: u16 = container.parse().ok().filter(|v| *v > 0).ok_or_else(bad)?;
    let (host_ip, published) = match rest {
        None => (None, None),
        Some(r) => {
            let (ip, host) = if let Some(stripped) = r.strip_prefix('[') {
                let (ip, h) = stripped.split_once("]:").ok_or_else(bad)?;
                (Some(ip.to_string()), h)
            } else {
                match r.rsplit_once(':') {
                    Some((ip, h)) => (Some(ip.to_string()), h),
                    None => (None, r),
                }
            };
            if let Some(ip) = &ip {
                if ip.parse::<std::net::IpAddr>().is_err() {
                    return Err(format!("invalid host IP {ip:?} in port {s:?}"));
                }
            }
            if host.is_empty() {
                (ip, None)
            } else {
                check_port_or_range(host)?;
                (ip, Some(host.to_string()))
            }
        }
    };
    Ok(Port {
        host_ip,
        published,
        target,
        protocol,
    })
}
