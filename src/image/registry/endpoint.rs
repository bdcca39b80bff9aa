//! Where a registry's API is, and whether it may be spoken to in plain
//! HTTP: HTTPS always, plain HTTP only for loopback addresses (`localhost`,
//! 127.0.0.0/8, `::1`) and the registries the user listed as insecure.

use std::net::{IpAddr, Ipv6Addr};

/// Docker Hub's API host: references say `docker.io`.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// The host (and port) the API of `registry` is served on.
pub fn api_host(registry: &str) -> &str {
    if registry == crate::image::reference::DOCKER_HUB {
        DOCKER_HUB_API
    } else {
        registry
    }
}

/// The host of `host[:port]` (IPv6 in brackets), without the port.
pub fn host_of(authority: &str) -> &str {
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(h, _)| h);
    }
    match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    }
}

/// `host:port`, with the scheme's default port when none is written.
pub fn address_of(authority: &str, https: bool) -> String {
    let has_port = if authority.starts_with('[') {
        authority.contains("]:")
    } else {
        authority.contains(':')
    };
    if has_port {
        authority.to_string()
    } else {
        format!("{authority}:{}", if https { 443 } else { 80 })
    }
}

/// `localhost`, 127.0.0.0/8 or `::1`.
pub fn is_loopback(authority: &str) -> bool {
    let host = host_of(authority);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(IpAddr::V6(ip)) => ip == Ipv6Addr::LOCALHOST,
        Err(_) => false,
    }
}

/// Whether the user listed `authority` as insecure: the same `host:port`,
/// or its host alone (any port).
pub fn is_listed(authority: &str, insecure: &[String]) -> bool {
    let authority = authority.to_ascii_lowercase();
    insecure.iter().any(|entry| {
        let e = entry.trim().trim_end_matches('/').to_ascii_lowercase();
        let e = e
            .strip_prefix("http://")
            .or_else(|| e.strip_prefix("https://"))
            .unwrap_or(&e);
        e == authority || (host_of(e) == e && e == host_of(&authority))
    })
}

/// Whether plain HTTP to `authority` is allowed.
pub fn plain_http_allowed(authority: &str, insecure: &[String]) -> bool {
    is_loopback(authority) || is_listed(authority, insecure)
}

/// How a registry is first tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Loopback: plain HTTP only.
    Http,
    /// Everything else: HTTPS only.
    Https,
    /// Listed as insecure: HTTPS, and plain HTTP when HTTPS cannot connect.
    HttpsThenHttp,
}

pub fn scheme_for(registry: &str, insecure: &[String]) -> Scheme {
    if is_loopback(registry) {
        Scheme::Http
    } else if is_listed(registry, insecure) {
        Scheme::HttpsThenHttp
    } else {
        Scheme::Https
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_plain_http_and_others_are_not() {
        for r in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.3.2.1",
            "[::1]:5000",
        ] {
            assert!(is_loopback(r), "{r}");
            assert_eq!(scheme_for(r, &[]), Scheme::Http);
        }
        for r in [
            "registry.example:5000",
            "10.0.0.1:5000",
            "[fe80::1]:80",
            "docker.io",
        ] {
            assert!(!is_loopback(r), "{r}");
            assert_eq!(scheme_for(r, &[]), Scheme::Https);
        }
    }

    #[test]
    fn insecure_entries_match_host_port_or_host() {
        let list = vec![
            "registry.example:5000".to_string(),
            "http://other.example".to_string(),
        ];
        assert!(is_listed("registry.example:5000", &list));
        assert!(!is_listed("registry.example:5001", &list));
        assert!(is_listed("other.example:8080", &list));
        assert_eq!(scheme_for("other.example", &list), Scheme::HttpsThenHttp);
        assert!(!plain_http_allowed("third.example", &list));
    }

    #[test]
    fn docker_hub_has_its_api_host_and_addresses_get_ports() {
        assert_eq!(api_host("docker.io"), "registry-1.docker.io");
        assert_eq!(api_host("ghcr.io"), "ghcr.io");
        assert_eq!(address_of("ghcr.io", true), "ghcr.io:443");
        assert_eq!(address_of("127.0.0.1:5000", false), "127.0.0.1:5000");
        assert_eq!(address_of("[::1]", false), "[::1]:80");
        assert_eq!(address_of("[::1]:5000", false), "[::1]:5000");
        assert_eq!(host_of("[::1]:5000"), "::1");
    }
}
