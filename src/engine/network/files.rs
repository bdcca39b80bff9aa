//! A container's `/etc/resolv.conf` and `/etc/hosts`, as Docker writes
//! them for a container on a user-defined network: the project's resolver
//! first (it answers the project's names and forwards the rest), the
//! container's own names, and its `extra_hosts`. Pure.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr};

use crate::spec::Service;

/// `resolv.conf`: our resolver, then the service's `dns_search` and
/// `dns_opt`. `ndots:0` as Docker sets it, so that `db` is asked as `db`.
pub fn resolv_conf(resolver: Ipv4Addr, svc: &Service) -> String {
    let mut s = format!("# written by stack: the project's resolver\nnameserver {resolver}\n");
    if !svc.dns_search.is_empty() {
        let _ = writeln!(s, "search {}", svc.dns_search.join(" "));
    }
    let mut opts = svc.dns_opt.clone();
    if !opts.iter().any(|o| o.starts_with("ndots:")) {
        opts.push("ndots:0".to_string());
    }
    let _ = writeln!(s, "options {}", opts.join(" "));
    s
}

/// `hosts`: localhost, the container's own address under its hostname
/// (with `domainname`), then `extra_hosts` (`host-gateway`: `gateway`).
pub fn hosts(own: Option<Ipv4Addr>, gateway: Option<Ipv4Addr>, svc: &Service) -> String {
    let mut s = String::from(
        "# written by stack\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    );
    if let Some(ip) = own {
        let host = svc.effective_hostname();
        match &svc.domainname {
            Some(d) if !d.is_empty() => {
                let _ = writeln!(s, "{ip}\t{host}.{d} {host}");
            }
            _ => {
                let _ = writeln!(s, "{ip}\t{host}");
            }
        }
    }
    for h in &svc.extra_hosts {
        let ip = if h.ip == "host-gateway" {
            match gateway {
                Some(g) => IpAddr::V4(g).to_string(),
                None => continue,
            }
        } else {
            h.ip.clone()
        };
        let _ = writeln!(s, "{ip}\t{}", h.host);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ExtraHost, Rootfs};

    fn svc() -> Service {
        Service::new("web", Rootfs::Dir("/r".into()))
    }

    #[test]
    fn resolv_conf_names_the_resolver_and_keeps_ndots_zero() {
        let mut s = svc();
        assert_eq!(
            resolv_conf(Ipv4Addr::new(10, 89, 0, 1), &s),
            "# written by stack: the project's resolver\nnameserver 10.89.0.1\noptions ndots:0\n"
        );
        s.dns_search = vec!["corp.example".into()];
        s.dns_opt = vec!["ndots:2".into(), "timeout:1".into()];
        let r = resolv_conf(Ipv4Addr::new(10, 89, 0, 1), &s);
        assert!(
            r.contains("search corp.example\noptions ndots:2 timeout:1\n"),
            "{r}"
        );
    }

    #[test]
    fn hosts_has_the_own_name_and_extra_hosts() {
        let mut s = svc();
        s.domainname = Some("example.org".into());
        s.extra_hosts = vec![
            ExtraHost {
                host: "db.local".into(),
                ip: "10.1.2.3".into(),
            },
            ExtraHost {
                host: "host.docker.internal".into(),
                ip: "host-gateway".into(),
            },
        ];
        let h = hosts(
            Some(Ipv4Addr::new(10, 89, 0, 2)),
            Some(Ipv4Addr::new(10, 89, 0, 1)),
            &s,
        );
        assert!(h.contains("10.89.0.2\tweb.example.org web\n"), "{h}");
        assert!(h.contains("10.1.2.3\tdb.local\n"), "{h}");
        assert!(h.contains("10.89.0.1\thost.docker.internal\n"), "{h}");
    }
}
