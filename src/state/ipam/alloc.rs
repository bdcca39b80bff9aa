//! IPAM's decisions, pure: which subnet a network gets, which address a
//! container gets. No I/O: the records, the host's routes and the other
//! networks come in as values ([`super`] reads and writes them under the
//! machine-wide lock).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

/// Compose's `ipam.config` entry for IPv4 (`subnet`, `ip_range`,
/// `gateway`); every field optional, as in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpamConfig {
    pub subnet: Option<Ipv4Net>,
    /// Where dynamic addresses come from; inside `subnet`.
    pub ip_range: Option<Ipv4Net>,
    /// `.1` of the subnet unless set.
    pub gateway: Option<Ipv4Addr>,
}

/// Where subnets are picked from when the file names none: podman's
/// `10.89.0.0/16` in `/24`s unless changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    pub range: Ipv4Net,
    pub prefix_len: u8,
}

impl Default for Pool {
    fn default() -> Pool {
        Pool {
            range: Ipv4Net::new_assert(Ipv4Addr::new(10, 89, 0, 0), 16),
            prefix_len: 24,
        }
    }
}

/// `networks/<name>.json`: one stack network, machine-wide, and the
/// addresses its containers hold. What [`allocate`] and [`release`] change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRecord {
    /// The network's name on the machine (Compose's `<project>_default`,
    /// or its `name:`).
    pub name: String,
    /// The project that created it and alone deletes it.
    pub project: String,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    /// Where dynamic addresses come from; `None`: the whole subnet.
    #[serde(default)]
    pub ip_range: Option<Ipv4Net>,
    /// The Linux bridge's name, `stk-<hash>` unless configured.
    pub bridge: String,
    /// Unix ms of the creation.
    pub created_ms: u64,
    /// Container key (`<project>/<container>`) → address.
    #[serde(default)]
    pub allocations: BTreeMap<String, Ipv4Addr>,
}

/// Why a subnet or an address cannot be had: which network, which
/// address, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocError {
    #[error("network {network}: subnet {subnet} overlaps subnet {other_subnet} of network {other}: choose subnets that do not overlap")]
    Overlap {
        network: String,
        subnet: Ipv4Net,
        other: String,
        other_subnet: Ipv4Net,
    },
    #[error("network {network}: subnet {subnet} is too small (/{}): use a prefix of /30 or shorter", subnet.prefix_len())]
    TooSmall { network: String, subnet: Ipv4Net },
    #[error("network {network}: subnet {subnet} is not a network address (its host bits are set): write {}", subnet.trunc())]
    NotNetwork { network: String, subnet: Ipv4Net },
    #[error("network {network}: {what} needs a subnet: add ipam.config.subnet")]
    NeedsSubnet { network: String, what: &'static str },
    #[error("network {network}: ip_range {range} is not inside subnet {subnet}: choose a range within the subnet")]
    RangeOutside {
        network: String,
        range: Ipv4Net,
        subnet: Ipv4Net,
    },
    #[error("network {network}: gateway {gateway} is not usable in subnet {subnet}: {why}")]
    BadGateway {
        network: String,
        gateway: Ipv4Addr,
        subnet: Ipv4Net,
        why: &'static str,
    },
    #[error("network {network}: no free subnet of /{prefix_len} left in the pool {pool} (the others are used by stack networks or host routes): remove unused networks or set ipam.config.subnet")]
    PoolExhausted {
        network: String,
        pool: Ipv4Net,
        prefix_len: u8,
    },
    #[error("network {network}: no free address left in {range} for {key}: remove containers or use a larger subnet or ip_range")]
    Exhausted {
        network: String,
        range: Ipv4Net,
        key: String,
    },
    #[error("network {network}: ipv4_address {addr} of {key} is outside subnet {subnet}: choose an address within it")]
    OutsideSubnet {
        network: String,
        addr: Ipv4Addr,
        key: String,
        subnet: Ipv4Net,
    },
    #[error("network {network}: ipv4_address {addr} of {key} is the subnet's {what}: choose another address")]
    Reserved {
        network: String,
        addr: Ipv4Addr,
        key: String,
        what: &'static str,
    },
    #[error("network {network}: ipv4_address {addr} of {key} is already taken by {holder}: choose another address")]
    Taken {
        network: String,
        addr: Ipv4Addr,
        key: String,
        holder: String,
    },
}

/// Whether two subnets share an address.
pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The first subnet of `prefix_len` in `pool` that overlaps no subnet of
/// another stack network (`taken`) and no host route (`host_routes`);
/// `None` when there is none (or `prefix_len` is shorter than the pool's,
/// or longer than /30, which leaves no room for a gateway and a container).
pub fn pick_subnet(
    pool: Ipv4Net,
    taken: &[Ipv4Net],
    host_routes: &[Ipv4Net],
    prefix_len: u8,
) -> Option<Ipv4Net> {
    if prefix_len > 30 {
        return None;
    }
    let candidates = pool.trunc().subnets(prefix_len).ok()?;
    candidates
        .into_iter()
        .find(|c| !taken.iter().chain(host_routes).any(|t| overlaps(c, t)))
}

/// Check a network's configuration (`config` with `subnet` set) on its
/// own: a network address, room for a gateway and a container, a usable
/// gateway, a range inside. Returns `(subnet, gateway, ip_range)`.
pub fn check_config(
    network: &str,
    config: &IpamConfig,
) -> Result<Option<(Ipv4Net, Ipv4Addr, Option<Ipv4Net>)>, AllocError> {
    let Some(subnet) = config.subnet else {
        let what = match (config.gateway, config.ip_range) {
            (Some(_), _) => "gateway",
            (None, Some(_)) => "ip_range",
            (None, None) => return Ok(None),
        };
        return Err(AllocError::NeedsSubnet {
            network: network.to_string(),
            what,
        });
    };
    if subnet.trunc() != subnet {
        return Err(AllocError::NotNetwork {
            network: network.to_string(),
            subnet,
        });
    }
    if subnet.prefix_len() > 30 {
        return Err(AllocError::TooSmall {
            network: network.to_string(),
            subnet,
        });
    }
    if let Some(range) = config.ip_range {
        if !subnet.contains(&range) {
            return Err(AllocError::RangeOutside {
                network: network.to_string(),
                range,
                subnet,
            });
        }
    }
    let gateway = config.gateway.unwrap_or_else(|| first_host(subnet));
    let bad = |why| AllocError::BadGateway {
        network: network.to_string(),
        gateway,
        subnet,
        why,
    };
    if !subnet.contains(&gateway) {
        return Err(bad("it is outside the subnet; choose an address within it"));
    }
    if let Some(what) = reserved(subnet, gateway) {
        return Err(bad(match what {
            "network address" => "it is the network address; choose a host address",
            _ => "it is the broadcast address; choose a host address",
        }));
    }
    Ok(Some((subnet, gateway, config.ip_range)))
}

/// `subnet`'s first host address (`.1` of a /24): the default gateway.
pub fn first_host(subnet: Ipv4Net) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(subnet.network()).saturating_add(1))
}

/// Whether `addr` is `subnet`'s network or broadcast address.
fn reserved(subnet: Ipv4Net, addr: Ipv4Addr) -> Option<&'static str> {
    if addr == subnet.network() {
        Some("network address")
    } else if addr == subnet.broadcast() {
        Some("broadcast address")
    } else {
        None
    }
}

/// The first pair of `networks` (name, subnet) that overlap, as an error
/// naming both; the order of the list decides which is named first.
pub fn check_overlaps(networks: &[(&str, Ipv4Net)]) -> Result<(), AllocError> {
    for (i, (a, sa)) in networks.iter().enumerate() {
        if let Some((b, sb)) = networks[i + 1..].iter().find(|(_, sb)| overlaps(sa, sb)) {
            return Err(AllocError::Overlap {
                network: b.to_string(),
                subnet: *sb,
                other: a.to_string(),
                other_subnet: *sa,
            });
        }
    }
    Ok(())
}

/// Give `key` an address on `net`: `requested` if it is usable, else the
/// lowest free one in `ip_range` (or the subnet). A key that already has
/// an address keeps it (an `up` after a crash asks again) unless it asks
/// for another.
pub fn allocate(
    net: &mut NetworkRecord,
    key: &str,
    requested: Option<Ipv4Addr>,
) -> Result<Ipv4Addr, AllocError> {
    let current = net.allocations.get(key).copied();
    if let Some(cur) = current {
        if requested.is_none() || requested == Some(cur) {
            return Ok(cur);
        }
    }
    let addr = match requested {
        Some(addr) => check_requested(net, key, addr)?,
        None => next_free(net, key)?,
    };
    net.allocations.insert(key.to_string(), addr);
    Ok(addr)
}

fn check_requested(net: &NetworkRecord, key: &str, addr: Ipv4Addr) -> Result<Ipv4Addr, AllocError> {
    if !net.subnet.contains(&addr) {
        return Err(AllocError::OutsideSubnet {
            network: net.name.clone(),
            addr,
            key: key.to_string(),
            subnet: net.subnet,
        });
    }
    let what = if addr == net.gateway {
        Some("gateway")
    } else {
        reserved(net.subnet, addr)
    };
    if let Some(what) = what {
        return Err(AllocError::Reserved {
            network: net.name.clone(),
            addr,
            key: key.to_string(),
            what,
        });
    }
    if let Some((holder, _)) = net
        .allocations
        .iter()
        .find(|(k, a)| **a == addr && k.as_str() != key)
    {
        return Err(AllocError::Taken {
            network: net.name.clone(),
            addr,
            key: key.to_string(),
            holder: holder.clone(),
        });
    }
    Ok(addr)
}

fn next_free(net: &NetworkRecord, key: &str) -> Result<Ipv4Addr, AllocError> {
    let range = net.ip_range.unwrap_or(net.subnet);
    let used: std::collections::BTreeSet<Ipv4Addr> = net.allocations.values().copied().collect();
    let lo = u32::from(range.network());
    let hi = u32::from(range.broadcast());
    (lo..=hi)
        .map(Ipv4Addr::from)
        .find(|a| *a != net.gateway && reserved(net.subnet, *a).is_none() && !used.contains(a))
        .ok_or_else(|| AllocError::Exhausted {
            network: net.name.clone(),
            range,
            key: key.to_string(),
        })
}

/// Free `key`'s address on `net`; the address it had, if any.
pub fn release(net: &mut NetworkRecord, key: &str) -> Option<Ipv4Addr> {
    net.allocations.remove(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }
    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn addressing(subnet: &str, range: Option<&str>, gateway: Option<&str>) -> NetworkRecord {
        let config = IpamConfig {
            subnet: Some(net(subnet)),
            ip_range: range.map(net),
            gateway: gateway.map(ip),
        };
        let (subnet, gateway, ip_range) = check_config("front", &config).unwrap().unwrap();
        NetworkRecord {
            name: "front".into(),
            project: "p".into(),
            subnet,
            bridge: "stk-test".into(),
            created_ms: 0,
            gateway,
            ip_range,
            allocations: BTreeMap::new(),
        }
    }

    #[test]
    fn default_pool_is_podmans() {
        let p = Pool::default();
        assert_eq!(p.range, net("10.89.0.0/16"));
        assert_eq!(p.prefix_len, 24);
    }

    #[test]
    fn overlap_is_symmetric_and_exact() {
        assert!(overlaps(&net("10.0.0.0/8"), &net("10.89.3.0/24")));
        assert!(overlaps(&net("10.89.3.0/24"), &net("10.0.0.0/8")));
        assert!(overlaps(&net("10.89.3.0/24"), &net("10.89.3.0/24")));
        assert!(overlaps(&net("10.89.3.0/24"), &net("10.89.3.7/32")));
        assert!(!overlaps(&net("10.89.3.0/24"), &net("10.89.4.0/24")));
        assert!(!overlaps(&net("10.89.3.0/25"), &net("10.89.3.128/25")));
    }

    #[test]
    fn pick_takes_the_first_free() {
        let pool = Pool::default();
        assert_eq!(
            pick_subnet(pool.range, &[], &[], 24),
            Some(net("10.89.0.0/24"))
        );
        let taken = [net("10.89.0.0/24"), net("10.89.2.0/24")];
        assert_eq!(
            pick_subnet(pool.range, &taken, &[], 24),
            Some(net("10.89.1.0/24"))
        );
    }

    #[test]
    fn pick_skips_a_subnet_a_host_route_covers() {
        let pool = net("10.89.0.0/16");
        // A host route into the pool (a VPN, another runtime's bridge).
        let routes = [net("10.89.0.0/23"), net("192.168.2.0/24")];
        assert_eq!(
            pick_subnet(pool, &[], &routes, 24),
            Some(net("10.89.2.0/24"))
        );
        // A route that covers the whole pool leaves nothing.
        assert_eq!(pick_subnet(pool, &[], &[net("10.0.0.0/8")], 24), None);
        // A single host route (/32) blocks only its own /24.
        assert_eq!(
            pick_subnet(pool, &[], &[net("10.89.0.9/32")], 24),
            Some(net("10.89.1.0/24"))
        );
    }

    #[test]
    fn pick_avoids_dockers_bridge_in_a_pool_that_holds_it() {
        let pool = net("172.16.0.0/12");
        let docker0 = net("172.17.0.0/16");
        assert_eq!(
            pick_subnet(pool, &[], &[docker0], 16),
            Some(net("172.16.0.0/16"))
        );
        assert_eq!(
            pick_subnet(pool, &[net("172.16.0.0/16")], &[docker0], 16),
            Some(net("172.18.0.0/16"))
        );
    }

    #[test]
    fn pick_exhaustion_and_bad_prefix() {
        let pool = net("10.89.0.0/29");
        assert_eq!(pick_subnet(pool, &[], &[], 30), Some(net("10.89.0.0/30")));
        assert_eq!(
            pick_subnet(pool, &[net("10.89.0.0/30"), net("10.89.0.4/30")], &[], 30),
            None
        );
        // Too small for a gateway and a container.
        assert_eq!(pick_subnet(pool, &[], &[], 31), None);
        // Shorter than the pool: nothing to split.
        assert_eq!(pick_subnet(net("10.89.0.0/16"), &[], &[], 8), None);
        // A pool written with host bits is read as its network.
        assert_eq!(
            pick_subnet(net("10.89.7.7/16"), &[], &[], 24),
            Some(net("10.89.0.0/24"))
        );
    }

    #[test]
    fn config_rules() {
        let cfg = |s: Option<&str>, r: Option<&str>, g: Option<&str>| IpamConfig {
            subnet: s.map(net),
            ip_range: r.map(net),
            gateway: g.map(ip),
        };
        assert_eq!(check_config("n", &cfg(None, None, None)), Ok(None));
        assert_eq!(
            check_config("n", &cfg(Some("172.30.0.0/16"), None, None)),
            Ok(Some((net("172.30.0.0/16"), ip("172.30.0.1"), None)))
        );
        let e = |c| check_config("front", &c).unwrap_err().to_string();
        assert_eq!(
            e(cfg(None, None, Some("10.0.0.1"))),
            "network front: gateway needs a subnet: add ipam.config.subnet"
        );
        assert_eq!(
            e(cfg(None, Some("10.0.0.0/28"), None)),
            "network front: ip_range needs a subnet: add ipam.config.subnet"
        );
        assert_eq!(
            e(cfg(Some("10.1.2.3/24"), None, None)),
            "network front: subnet 10.1.2.3/24 is not a network address (its host bits are set): write 10.1.2.0/24"
        );
        assert!(e(cfg(Some("10.1.2.0/31"), None, None)).contains("is too small (/31)"));
        assert_eq!(
            e(cfg(Some("10.1.2.0/24"), Some("10.1.3.0/28"), None)),
            "network front: ip_range 10.1.3.0/28 is not inside subnet 10.1.2.0/24: choose a range within the subnet"
        );
        assert_eq!(
            e(cfg(Some("10.1.2.0/24"), None, Some("10.1.3.1"))),
            "network front: gateway 10.1.3.1 is not usable in subnet 10.1.2.0/24: it is outside the subnet; choose an address within it"
        );
        assert!(e(cfg(Some("10.1.2.0/24"), None, Some("10.1.2.0"))).contains("network address"));
        assert!(e(cfg(Some("10.1.2.0/24"), None, Some("10.1.2.255"))).contains("broadcast"));
        // A gateway anywhere inside, also outside the range.
        assert_eq!(
            check_config(
                "n",
                &cfg(
                    Some("10.1.2.0/24"),
                    Some("10.1.2.128/25"),
                    Some("10.1.2.254")
                )
            ),
            Ok(Some((
                net("10.1.2.0/24"),
                ip("10.1.2.254"),
                Some(net("10.1.2.128/25"))
            )))
        );
    }

    #[test]
    fn overlapping_user_subnets_name_both() {
        let ok = [("a", net("10.1.0.0/24")), ("b", net("10.1.1.0/24"))];
        assert_eq!(check_overlaps(&ok), Ok(()));
        let bad = [
            ("front", net("10.1.0.0/16")),
            ("x", net("10.2.0.0/16")),
            ("back", net("10.1.5.0/24")),
        ];
        assert_eq!(
            check_overlaps(&bad).unwrap_err().to_string(),
            "network back: subnet 10.1.5.0/24 overlaps subnet 10.1.0.0/16 of network front: choose subnets that do not overlap"
        );
    }

    #[test]
    fn dynamic_addresses_skip_gateway_and_reuse_freed() {
        let mut n = addressing("10.89.0.0/24", None, None);
        assert_eq!(allocate(&mut n, "p/web-1", None), Ok(ip("10.89.0.2")));
        assert_eq!(allocate(&mut n, "p/db-1", None), Ok(ip("10.89.0.3")));
        // Asking again (after a crash) gives the same address.
        assert_eq!(allocate(&mut n, "p/web-1", None), Ok(ip("10.89.0.2")));
        assert_eq!(release(&mut n, "p/web-1"), Some(ip("10.89.0.2")));
        assert_eq!(release(&mut n, "p/web-1"), None);
        assert_eq!(allocate(&mut n, "p/cache-1", None), Ok(ip("10.89.0.2")));
        assert_eq!(n.allocations.len(), 2);
    }

    #[test]
    fn a_configured_gateway_is_skipped_and_network_address_never_given() {
        let mut n = addressing("10.5.0.0/30", None, Some("10.5.0.2"));
        assert_eq!(allocate(&mut n, "a", None), Ok(ip("10.5.0.1")));
        let e = allocate(&mut n, "b", None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "network front: no free address left in 10.5.0.0/30 for b: remove containers or use a larger subnet or ip_range"
        );
    }

    #[test]
    fn ip_range_limits_dynamic_but_not_requested() {
        let mut n = addressing("10.7.0.0/24", Some("10.7.0.16/30"), None);
        assert_eq!(allocate(&mut n, "a", None), Ok(ip("10.7.0.16")));
        assert_eq!(allocate(&mut n, "b", None), Ok(ip("10.7.0.17")));
        assert_eq!(allocate(&mut n, "c", None), Ok(ip("10.7.0.18")));
        assert_eq!(allocate(&mut n, "d", None), Ok(ip("10.7.0.19")));
        assert!(matches!(
            allocate(&mut n, "e", None),
            Err(AllocError::Exhausted { .. })
        ));
        // A static address may sit outside the range, inside the subnet.
        assert_eq!(
            allocate(&mut n, "e", Some(ip("10.7.0.200"))),
            Ok(ip("10.7.0.200"))
        );
    }

    #[test]
    fn requested_addresses() {
        let mut n = addressing("10.9.0.0/24", None, None);
        let mut e =
            |key: &str, a: &str| allocate(&mut n, key, Some(ip(a))).unwrap_err().to_string();
        assert_eq!(
            e("p/web-1", "10.9.1.5"),
            "network front: ipv4_address 10.9.1.5 of p/web-1 is outside subnet 10.9.0.0/24: choose an address within it"
        );
        assert_eq!(
            e("p/web-1", "10.9.0.1"),
            "network front: ipv4_address 10.9.0.1 of p/web-1 is the subnet's gateway: choose another address"
        );
        assert!(e("p/web-1", "10.9.0.0").contains("the subnet's network address"));
        assert!(e("p/web-1", "10.9.0.255").contains("the subnet's broadcast address"));
        assert_eq!(
            allocate(&mut n, "p/db-1", Some(ip("10.9.0.5"))),
            Ok(ip("10.9.0.5"))
        );
        assert_eq!(
            allocate(&mut n, "p/web-1", Some(ip("10.9.0.5"))).unwrap_err().to_string(),
            "network front: ipv4_address 10.9.0.5 of p/web-1 is already taken by p/db-1: choose another address"
        );
        // Dynamic allocation goes around a static one.
        assert_eq!(allocate(&mut n, "p/a-1", None), Ok(ip("10.9.0.2")));
        assert_eq!(allocate(&mut n, "p/b-1", None), Ok(ip("10.9.0.3")));
        assert_eq!(allocate(&mut n, "p/c-1", None), Ok(ip("10.9.0.4")));
        assert_eq!(allocate(&mut n, "p/d-1", None), Ok(ip("10.9.0.6")));
        // Asking for another address moves the key; the old one is free.
        assert_eq!(
            allocate(&mut n, "p/a-1", Some(ip("10.9.0.50"))),
            Ok(ip("10.9.0.50"))
        );
        assert_eq!(allocate(&mut n, "p/e-1", None), Ok(ip("10.9.0.2")));
        // Asking for its own address is fine.
        assert_eq!(
            allocate(&mut n, "p/db-1", Some(ip("10.9.0.5"))),
            Ok(ip("10.9.0.5"))
        );
    }

    #[test]
    fn first_host_is_dot_one() {
        assert_eq!(first_host(net("192.168.7.0/24")), ip("192.168.7.1"));
        assert_eq!(first_host(net("10.0.0.0/8")), ip("10.0.0.1"));
    }
}
