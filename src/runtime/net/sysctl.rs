//! Per-interface IPv4 settings under `/proc/sys/net/ipv4/conf/<link>/`,
//! for the caller's network namespace (procfs shows the namespace of the
//! process that opened the file, which is the caller's thread here).

use std::io;
use std::path::PathBuf;

use super::{check_name, NetError};

fn path(link: &str, key: &str) -> Result<PathBuf, NetError> {
    // The name becomes a path component: `check_name` refuses `/`, `.`
    // and `..`, so it cannot leave the link's directory.
    check_name(link)?;
    Ok(PathBuf::from(format!(
        "/proc/sys/net/ipv4/conf/{link}/{key}"
    )))
}

fn missing_link(link: &str, source: &io::Error) -> Option<NetError> {
    (source.kind() == io::ErrorKind::NotFound).then(|| NetError::NoSuchLink {
        name: link.to_string(),
    })
}

/// Sets `route_localnet` of `link`: whether packets to or from 127.0.0.0/8
/// may be routed through it. A port published on 127.0.0.1 needs it on the
/// bridge: the DNAT in `output` turns a local connection to 127.0.0.1 into
/// one to a container, and without it the kernel drops such a packet as a
/// martian before it leaves through the bridge.
pub fn set_route_localnet(link: &str, on: bool) -> Result<(), NetError> {
    let path = path(link, "route_localnet")?;
    std::fs::write(&path, if on { "1" } else { "0" }).map_err(|source| {
        missing_link(link, &source).unwrap_or(NetError::Sysctl {
            op: "write",
            path,
            source,
        })
    })
}

/// Whether `route_localnet` is on for `link`.
pub fn route_localnet(link: &str) -> Result<bool, NetError> {
    let path = path(link, "route_localnet")?;
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text.trim() != "0"),
        Err(source) => Err(missing_link(link, &source).unwrap_or(NetError::Sysctl {
            op: "read",
            path,
            source,
        })),
    }
}

/// Turns on hairpin mode of a bridge port: a frame may leave through the
/// port it came in on. A container reaching its own published port
/// through the host's address is DNATed back to itself; where bridged
/// frames pass netfilter (`br_netfilter`, which Docker loads), that frame
/// goes out the port it entered and the bridge drops it unless hairpin is
/// on — as Docker sets it without its userland proxy.
pub fn set_hairpin(port: &str) -> Result<(), NetError> {
    check_name(port)?;
    let path = PathBuf::from(format!("/sys/class/net/{port}/brport/hairpin_mode"));
    std::fs::write(&path, "1").map_err(|source| {
        missing_link(port, &source).unwrap_or(NetError::Sysctl {
            op: "write",
            path,
            source,
        })
    })
}
