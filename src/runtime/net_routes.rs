//! The host's IPv4 routes, from `/proc/net/route`: the subnets a new stack
//! network must not overlap (the LAN, a VPN, Docker's `docker0` and its
//! other bridges). No netlink needed for a read; default routes are left
//! out, since they cover everything.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use ipnet::Ipv4Net;

/// Why the route table could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RoutesError {
    #[error("cannot read the host's routes from {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// `RTF_UP`: the route is usable.
const RTF_UP: u32 = 0x1;

/// The host's IPv4 routes (up, not default), as subnets.
pub fn host_routes() -> Result<Vec<Ipv4Net>, RoutesError> {
    routes_from(Path::new("/proc/net/route"))
}

/// As [`host_routes`], from another file (the same format).
pub fn routes_from(path: &Path) -> Result<Vec<Ipv4Net>, RoutesError> {
    let text = std::fs::read_to_string(path).map_err(|source| RoutesError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(parse_routes(&text))
}

/// The routes of a `/proc/net/route` text: `Iface Destination Gateway
/// Flags RefCnt Use Metric Mask …`, addresses as the kernel's
/// native-endian hex of the network-order word. The header, malformed
/// lines, routes that are not up and default routes are skipped;
/// duplicates (one subnet on two devices or metrics) appear once.
pub fn parse_routes(text: &str) -> Vec<Ipv4Net> {
    let mut out: Vec<Ipv4Net> = Vec::new();
    for line in text.lines().skip(1) {
        let Some(net) = parse_line(line) else {
            continue;
        };
        if net.prefix_len() > 0 && !out.contains(&net) {
            out.push(net);
        }
    }
    out
}

fn parse_line(line: &str) -> Option<Ipv4Net> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let dest = hex_addr(f.get(1)?)?;
    let flags = u32::from_str_radix(f.get(3)?, 16).ok()?;
    let mask = hex_addr(f.get(7)?)?;
    if flags & RTF_UP == 0 {
        return None;
    }
    let prefix = ipnet::ipv4_mask_to_prefix(mask).ok()?;
    Ipv4Net::new(dest, prefix).ok().map(|n| n.trunc())
}

fn hex_addr(s: &str) -> Option<Ipv4Addr> {
    let v = u32::from_str_radix(s, 16).ok()?;
    Some(Ipv4Addr::from(v.to_ne_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    // Written as a little-endian kernel writes it (this machine's, with
    // Docker's bridge and a docker-compose network).
    #[cfg(target_endian = "little")]
    const TABLE: &str = "\
Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
br-1a2b\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
down0\t0000590A\t00000000\t0000\t0\t0\t0\t00FFFFFF\t0\t0\t0
tun0\t0100590A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0
bad\tnothex\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
odd\t00000000\t00000000\t0001\t0\t0\t0\t00FF00FF\t0\t0\t0
short\t0000590A
";

    #[cfg(target_endian = "little")]
    #[test]
    fn parses_docker_and_lan_routes_without_the_default() {
        assert_eq!(
            parse_routes(TABLE),
            vec![
                net("172.17.0.0/16"),
                net("172.18.0.0/16"),
                net("192.0.2.0/24"),
                net("10.89.0.1/32"),
            ]
        );
    }

    #[test]
    fn the_hosts_table_reads() {
        // Every Linux machine has the file; the default route never shows.
        let routes = host_routes().unwrap();
        assert!(routes.iter().all(|r| r.prefix_len() > 0), "{routes:?}");
    }

    #[test]
    fn a_missing_file_names_it() {
        let e = routes_from(Path::new("/nonexistent/route")).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("cannot read the host's routes from /nonexistent/route: "));
    }
}
