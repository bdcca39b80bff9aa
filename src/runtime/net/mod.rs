//! Container networking mechanics over netlink: bridges, veths, addresses,
//! routes, and acting inside a container's network namespace.
//!
//! Plain types in, ifindexes out; no addresses are chosen here (IPAM is the
//! state store's) and no `ip` binary is run. Every request is synchronous on
//! a NETLINK_ROUTE socket opened for it (`socket.rs`).
//!
//! - `link.rs`: `ensure_bridge`, `create_veth`, `delete_link`, `delete_bridge`,
//!   `link_exists`, `bridge_exists`, `links_with_prefix`, `ports_of`.
//! - `addr.rs` and `route.rs`: an interface's IPv4 addresses (its own, and
//!   extra ones on a bridge: `add_address`, `del_address`) and its default
//!   route.
//! - `sysctl.rs`: per-interface settings (`set_route_localnet`).
//! - `ports/`: holding a published port's host side (`reserve`), and who
//!   holds a port that is taken.
//! - `netns.rs`: `configure_netns`, which sets up `lo` and `eth0` inside a
//!   container's namespace from a socket opened there.

mod addr;
mod link;
mod netns;
mod ports;
mod route;
mod socket;
mod sysctl;

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::BorrowedFd;

use sha2::{Digest, Sha256};

pub use addr::{add_address, addresses, del_address, EXTRA_ADDRESS_PROTO};
pub use link::link_index;
pub use link::{
    bridge_exists, create_veth, delete_bridge, delete_link, ensure_bridge, link_exists,
    links_with_prefix, ports_of,
};
pub use netns::{configure_netns, in_netns};
pub use ports::{find_holder, reserve, reserve_in_range, Holder, PortError, Reservation};
pub use sysctl::{route_localnet, set_hairpin, set_route_localnet};

/// Linux's IFNAMSIZ less its NUL: the longest interface name.
pub const MAX_NAME: usize = 15;

/// A Linux bridge for one network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bridge {
    /// Its name (at most 15 bytes), e.g. from [`bridge_name`].
    pub name: String,
    /// The MAC it keeps whatever ports come and go (see [`mac_for`]).
    pub mac: [u8; 6],
    /// Its MTU; the kernel's default (1500) when `None`.
    pub mtu: Option<u32>,
    /// The gateway address of the network and its prefix length.
    pub address: (Ipv4Addr, u8),
}

/// A veth pair: one end on the bridge, the other born inside a network
/// namespace.
#[derive(Debug, Clone, Copy)]
pub struct Veth<'a> {
    /// The host end's name, e.g. `stk-<hash>` of the container.
    pub host_name: &'a str,
    /// The name inside the namespace, usually `eth0`.
    pub peer_name: &'a str,
    /// The container's network namespace (`/proc/<pid>/ns/net` opened).
    pub peer_netns: BorrowedFd<'a>,
    /// The bridge the host end is enslaved to.
    pub bridge_ifindex: u32,
    /// The MTU of both ends; the kernel's default when `None`.
    pub mtu: Option<u32>,
    /// The MAC of the namespace's end; random when `None`.
    pub peer_mac: Option<[u8; 6]>,
}

/// How the interface inside a namespace is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfConfig {
    /// The interface, usually `eth0`.
    pub name: String,
    /// Its address and prefix length.
    pub address: (Ipv4Addr, u8),
    /// The default route's next hop (the bridge's address); none for a
    /// network without a way out.
    pub gateway: Option<Ipv4Addr>,
}

/// What went wrong, naming the link and carrying the kernel's errno.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("invalid interface name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("invalid prefix length /{prefix} for {address}: it must be 0 to 32")]
    InvalidPrefix { address: Ipv4Addr, prefix: u8 },
    #[error("cannot open a netlink socket: {source} (stack needs root, or CAP_NET_ADMIN)")]
    Socket {
        #[source]
        source: io::Error,
    },
    /// The kernel refused a request; `detail` is its extended-ack sentence.
    #[error("{op} {name}: {source}{}", detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Kernel {
        op: &'static str,
        name: String,
        detail: Option<String>,
        #[source]
        source: io::Error,
    },
    #[error("{op} {name}: the kernel's answer did not parse: {message}")]
    Decode {
        op: &'static str,
        name: String,
        message: String,
    },
    #[error("link {name} does not exist")]
    NoSuchLink { name: String },
    #[error("link {name} exists and is not a bridge: remove it (`ip link del {name}`) or choose another name")]
    NotABridge { name: String },
    #[error("cannot enter network namespace fd {fd}: {source}")]
    Setns {
        fd: i32,
        #[source]
        source: io::Error,
    },
    #[error("the thread that entered network namespace fd {fd} panicked")]
    NetnsThread { fd: i32 },
    /// A per-interface setting could not be read or written; `op` is
    /// `read` or `write`.
    #[error("cannot {op} {}: {source}", path.display())]
    Sysctl {
        op: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: io::Error,
    },
}

impl NetError {
    /// The kernel's errno, when the kernel refused.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetError::Kernel { source, .. }
            | NetError::Socket { source }
            | NetError::Setns { source, .. }
            | NetError::Sysctl { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    fn from_failure(op: &'static str, name: &str, failure: socket::Failure) -> NetError {
        match failure {
            socket::Failure::Io(source, detail) => NetError::Kernel {
                op,
                name: name.to_string(),
                detail,
                source,
            },
            socket::Failure::Decode(message) => NetError::Decode {
                op,
                name: name.to_string(),
                message,
            },
        }
    }
}

/// Turns a socket failure into a [`NetError`] about `op` on `name`.
fn fail<'a>(op: &'static str, name: &'a str) -> impl FnOnce(socket::Failure) -> NetError + 'a {
    move |failure| NetError::from_failure(op, name, failure)
}

/// Opens a NETLINK_ROUTE socket in the calling thread's namespace.
fn open() -> Result<socket::Rtnl, NetError> {
    socket::Rtnl::open().map_err(|source| NetError::Socket { source })
}

/// Checks `name` is a name the kernel accepts for an interface.
pub fn check_name(name: &str) -> Result<(), NetError> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.len() > MAX_NAME {
        "it is longer than 15 bytes (IFNAMSIZ)"
    } else if name == "." || name == ".." {
        "`.` and `..` are not interface names"
    } else if name
        .bytes()
        .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace() || b.is_ascii_control())
    {
        "it contains `/`, `:`, a space or a control character"
    } else {
        return Ok(());
    };
    Err(NetError::InvalidName {
        name: name.to_string(),
        reason,
    })
}

fn check_prefix((address, prefix): (Ipv4Addr, u8)) -> Result<(), NetError> {
    if prefix > 32 {
        return Err(NetError::InvalidPrefix { address, prefix });
    }
    Ok(())
}

/// The bridge of a project's network: `stk-` and 8 hex digits of a hash of
/// `project_network` (e.g. `myapp_default`), 12 bytes, within IFNAMSIZ.
pub fn bridge_name(project_network: &str) -> String {
    let digest = Sha256::digest(project_network.as_bytes());
    format!("stk-{}", hex::encode(&digest[..4]))
}

/// A deterministic MAC for `seed`: locally administered (bit 1 of the first
/// byte set), unicast (bit 0 clear), never all zeros.
pub fn mac_for(seed: &str) -> [u8; 6] {
    let digest = Sha256::digest(seed.as_bytes());
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&digest[..6]);
    mac[0] = (mac[0] & 0xfc) | 0x02;
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridge_names_fit_and_are_stable() {
        let a = bridge_name("myapp_default");
        assert_eq!(a, bridge_name("myapp_default"));
        assert_ne!(a, bridge_name("myapp_front"));
        assert!(a.starts_with("stk-"));
        assert_eq!(a.len(), 12);
        check_name(&a).unwrap();
    }

    #[test]
    fn macs_are_local_unicast_and_deterministic() {
        for seed in ["", "a", "myapp_default", "web-1"] {
            let mac = mac_for(seed);
            assert_eq!(mac[0] & 0x01, 0, "unicast: {mac:02x?}");
            assert_eq!(mac[0] & 0x02, 0x02, "locally administered: {mac:02x?}");
            assert_eq!(mac, mac_for(seed));
        }
        assert_ne!(mac_for("a"), mac_for("b"));
    }

    #[test]
    fn names_are_checked() {
        check_name("eth0").unwrap();
        check_name("stk-0123456789a").unwrap();
        for bad in ["", "stk-0123456789ab", ".", "..", "a/b", "a b", "a:b"] {
            let err = check_name(bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid interface name"), "{err}");
        }
    }

    #[test]
    fn kernel_errors_name_the_link_and_the_errno() {
        let err = NetError::from_failure(
            "create bridge",
            "stk-1",
            socket::Failure::Io(io::Error::from_raw_os_error(libc::EEXIST), None),
        );
        assert_eq!(err.errno(), Some(libc::EEXIST));
        let text = err.to_string();
        assert!(text.starts_with("create bridge stk-1: "), "{text}");
        assert!(!text.ends_with('.'), "{text}");
        let err = NetError::from_failure(
            "create veth",
            "v1",
            socket::Failure::Io(
                io::Error::from_raw_os_error(libc::EOPNOTSUPP),
                Some("Unknown device type".to_string()),
            ),
        );
        assert!(err.to_string().ends_with("(Unknown device type)"), "{err}");
    }
}
