//! The host's upstream resolvers, from `/etc/resolv.conf`.
//!
//! A container cannot reach the host's loopback, so a resolv.conf that
//! names only a local stub (systemd-resolved's 127.0.0.53) is replaced by
//! the list behind the stub, `/run/systemd/resolve/resolv.conf`, as
//! Docker does. Only when no list names a non-loopback server are the
//! loopback ones used: the resolver runs in the host's namespace, where
//! they are reachable.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use super::DnsError;

/// The host's resolv.conf.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";
/// systemd-resolved's list of the servers behind its stub.
pub const RESOLVED_UPSTREAMS: &str = "/run/systemd/resolve/resolv.conf";

/// The `nameserver` addresses of a resolv.conf, in order. Comments (`#`,
/// `;`), other keywords and unparsable addresses are skipped; an IPv6
/// zone (`fe80::1%eth0`) is not supported and skipped too.
pub fn nameservers(text: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|l| {
            let l = l.split(['#', ';']).next().unwrap_or("");
            let mut words = l.split_whitespace();
            match (words.next(), words.next()) {
                (Some("nameserver"), Some(addr)) => addr.parse().ok(),
                _ => None,
            }
        })
        .collect()
}

/// The upstreams to forward to, on port 53: `main`'s non-loopback
/// servers; when it has none, `behind_stub`'s (the systemd-resolved
/// list, when that file exists); when neither has any, `main`'s loopback
/// servers.
pub fn choose(main: &str, behind_stub: Option<&str>) -> Vec<SocketAddr> {
    let all = nameservers(main);
    let mut out: Vec<IpAddr> = all.iter().copied().filter(|a| !a.is_loopback()).collect();
    if out.is_empty() {
        if let Some(text) = behind_stub {
            out = nameservers(text)
                .into_iter()
                .filter(|a| !a.is_loopback())
                .collect();
        }
    }
    if out.is_empty() {
        out = all;
    }
    let mut seen = Vec::new();
    for a in out {
        let s = SocketAddr::new(a, 53);
        if !seen.contains(&s) {
            seen.push(s);
        }
    }
    seen
}

/// [`choose`] on the host's files. A missing resolv.conf means no
/// upstreams (every forward is SERVFAIL), not an error.
pub fn host_upstreams() -> Result<Vec<SocketAddr>, DnsError> {
    upstreams_from(Path::new(RESOLV_CONF), Path::new(RESOLVED_UPSTREAMS))
}

/// [`choose`] on the given files.
pub fn upstreams_from(main: &Path, behind_stub: &Path) -> Result<Vec<SocketAddr>, DnsError> {
    let main = read_optional(main)?.unwrap_or_default();
    let stub = read_optional(behind_stub)?;
    Ok(choose(&main, stub.as_deref()))
}

fn read_optional(path: &Path) -> Result<Option<String>, DnsError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(DnsError::ReadResolvConf {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    const STUB: &str =
        "# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).\n\
        nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch example.lan\n";
    const BEHIND: &str = "# This is /run/systemd/resolve/resolv.conf\n\
        nameserver 192.0.2.1\nnameserver 2001:db8::1\nnameserver 192.0.2.1\nsearch example.lan\n";

    #[test]
    fn nameserver_lines_parse_and_the_rest_is_skipped() {
        let text = "; comment\n# nameserver 9.9.9.9\nsearch a b\n  nameserver\t192.0.2.7  # home\n\
            nameserver not-an-ip\nnameserver fe80::1%eth0\nnameserver ::1\noptions ndots:2\nnameserver\n";
        assert_eq!(
            nameservers(text),
            vec![
                "192.0.2.7".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        assert!(nameservers("").is_empty());
    }

    #[test]
    fn a_plain_resolv_conf_is_used_as_it_is() {
        let text = "nameserver 192.0.2.1\nnameserver 198.51.100.2\n";
        assert_eq!(
            choose(text, Some(BEHIND)),
            vec![sa("192.0.2.1:53"), sa("198.51.100.2:53")]
        );
    }

    #[test]
    fn the_systemd_resolved_stub_is_replaced_by_the_list_behind_it() {
        assert_eq!(
            choose(STUB, Some(BEHIND)),
            vec![sa("192.0.2.1:53"), sa("[2001:db8::1]:53")]
        );
    }

    #[test]
    fn loopback_servers_beside_real_ones_are_dropped() {
        let text = "nameserver 127.0.0.1\nnameserver 192.0.2.9\n";
        assert_eq!(choose(text, Some(BEHIND)), vec![sa("192.0.2.9:53")]);
    }

    #[test]
    fn only_loopback_everywhere_keeps_the_loopback_servers() {
        // A host running its own dnsmasq, without systemd-resolved.
        assert_eq!(
            choose("nameserver 127.0.0.1\n", None),
            vec![sa("127.0.0.1:53")]
        );
        assert_eq!(
            choose(STUB, Some("nameserver 127.0.0.54\n")),
            vec![sa("127.0.0.53:53")]
        );
    }

    #[test]
    fn no_servers_at_all_is_an_empty_list() {
        assert!(choose("", None).is_empty());
        assert!(choose("search x\n", Some("")).is_empty());
    }

    #[test]
    fn files_are_read_and_missing_ones_are_empty() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("resolv.conf");
        let stub = dir.path().join("behind.conf");
        std::fs::write(&main, STUB).unwrap();
        assert_eq!(
            upstreams_from(&main, &stub).unwrap(),
            vec![sa("127.0.0.53:53")]
        );
        std::fs::write(&stub, BEHIND).unwrap();
        assert_eq!(upstreams_from(&main, &stub).unwrap().len(), 2);
        let none = dir.path().join("none");
        assert!(upstreams_from(&none, &none).unwrap().is_empty());
        let err = upstreams_from(dir.path(), &stub).unwrap_err().to_string();
        assert!(
            err.contains("resolv.conf") || err.contains(&*dir.path().to_string_lossy()),
            "{err}"
        );
    }
}
