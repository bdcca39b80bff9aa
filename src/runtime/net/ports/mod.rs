//! Holding a published port's host side.
//!
//! A published port is a DNAT rule (`runtime::firewall`), with no userland
//! proxy behind it. Like Docker, stack still binds the host port for as
//! long as it is published: nobody else can take it meanwhile (a server
//! that bound it later would silently never see its traffic, which the
//! DNAT steals), and a port that is already taken fails `up` with a
//! sentence naming it and, when it can be found, the process holding it
//! (`holder.rs`).
//!
//! A TCP reservation is bound but not listening, so it accepts nothing and
//! queues nothing; without SO_REUSEADDR, so that no other socket (with or
//! without it) can bind the port beside it. Every socket is close-on-exec:
//! the supervisor's containers must not inherit them.

mod diag;
mod holder;

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{self, AddressFamily, SockFlag, SockType, SockaddrIn};

use crate::runtime::firewall::Proto;
pub use holder::{find_holder, Holder};

/// A port that could not be held, each a sentence for the user.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// Someone else has the port.
    #[error("port {port}/{} on {addr} is already in use by {}: stop it or publish another port", proto.as_str(), holder_text(holder))]
    Taken {
        addr: Ipv4Addr,
        port: u16,
        proto: Proto,
        /// Who, when the kernel's tables and `/proc` tell.
        holder: Option<Holder>,
    },
    /// Every port of a range is taken.
    #[error("every port of {first}-{last}/{} on {addr} is already in use: stop what holds them or publish another range", proto.as_str())]
    RangeTaken {
        addr: Ipv4Addr,
        first: u16,
        last: u16,
        proto: Proto,
    },
    /// A range whose first port is above its last.
    #[error("invalid port range {first}-{last}: the first port must not be above the last")]
    InvalidRange { first: u16, last: u16 },
    /// The host has no such address (EADDRNOTAVAIL).
    #[error("cannot publish port {port}/{} on {addr}: the host has no such address", proto.as_str())]
    NoSuchAddress {
        addr: Ipv4Addr,
        port: u16,
        proto: Proto,
    },
    /// Any other failure of socket or bind.
    #[error("cannot reserve port {port}/{} on {addr}: {source}", proto.as_str())]
    Socket {
        addr: Ipv4Addr,
        port: u16,
        proto: Proto,
        #[source]
        source: io::Error,
    },
}

fn holder_text(holder: &Option<Holder>) -> String {
    match holder {
        Some(h) => format!("pid {} ({})", h.pid, h.command),
        None => "another program (or another stack project)".to_string(),
    }
}

/// A host port held for a published port; dropping it frees the port.
#[derive(Debug)]
pub struct Reservation {
    addr: Ipv4Addr,
    port: u16,
    proto: Proto,
    socket: OwnedFd,
}

impl Reservation {
    /// The address it is bound to (`0.0.0.0`: every address).
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// The port held: the one asked for, or the kernel's pick for 0.
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn proto(&self) -> Proto {
        self.proto
    }

    /// The socket's inode (`socket:[inode]` in `/proc/<pid>/fd`), to
    /// recognise it in the kernel's tables.
    pub fn inode(&self) -> Option<u64> {
        nix::sys::stat::fstat(&self.socket).ok().map(|st| st.st_ino)
    }
}

/// Holds `port`/`proto` on `host_ip` (`None`: `0.0.0.0`, every address).
/// Port 0 lets the kernel pick a free one (Compose's `"80"`, a container
/// port without a host port); [`Reservation::port`] says which.
pub fn reserve(
    host_ip: Option<Ipv4Addr>,
    port: u16,
    proto: Proto,
) -> Result<Reservation, PortError> {
    bind(host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED), port, proto, true)
}

/// Holds the first free port of `first..=last` (Docker's way with a host
/// range such as `8000-8010:80`).
pub fn reserve_in_range(
    host_ip: Option<Ipv4Addr>,
    first: u16,
    last: u16,
    proto: Proto,
) -> Result<Reservation, PortError> {
    if first > last {
        return Err(PortError::InvalidRange { first, last });
    }
    let addr = host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
    for port in first..=last {
        // A taken port is no failure here: no holder is looked for.
        match bind(addr, port, proto, false) {
            Err(PortError::Taken { .. }) => continue,
            other => return other,
        }
    }
    Err(PortError::RangeTaken {
        addr,
        first,
        last,
        proto,
    })
}

/// Binds a close-on-exec socket to `addr:port`; on EADDRINUSE looks for
/// who holds it when `search` is set (a scan of `/proc`, for the sentence).
fn bind(addr: Ipv4Addr, port: u16, proto: Proto, search: bool) -> Result<Reservation, PortError> {
    let fail = |errno: Errno| match errno {
        Errno::EADDRINUSE => PortError::Taken {
            addr,
            port,
            proto,
            holder: if search {
                find_holder(addr, port, proto)
            } else {
                None
            },
        },
        Errno::EADDRNOTAVAIL => PortError::NoSuchAddress { addr, port, proto },
        other => PortError::Socket {
            addr,
            port,
            proto,
            source: io::Error::from(other),
        },
    };
    let kind = match proto {
        Proto::Tcp => SockType::Stream,
        Proto::Udp => SockType::Datagram,
    };
    let socket =
        socket::socket(AddressFamily::Inet, kind, SockFlag::SOCK_CLOEXEC, None).map_err(fail)?;
    socket::bind(
        socket.as_raw_fd(),
        &SockaddrIn::from(SocketAddrV4::new(addr, port)),
    )
    .map_err(fail)?;
    let port = match port {
        0 => socket::getsockname::<SockaddrIn>(socket.as_raw_fd())
            .map_err(fail)?
            .port(),
        _ => port,
    };
    Ok(Reservation {
        addr,
        port,
        proto,
        socket,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_name_the_port_the_address_and_the_holder() {
        let taken = |holder| PortError::Taken {
            addr: Ipv4Addr::UNSPECIFIED,
            port: 8080,
            proto: Proto::Tcp,
            holder,
        };
        assert_eq!(
            taken(Some(Holder {
                pid: 1234,
                command: "nginx".into()
            }))
            .to_string(),
            "port 8080/tcp on 0.0.0.0 is already in use by pid 1234 (nginx): stop it or publish another port"
        );
        assert_eq!(
            taken(None).to_string(),
            "port 8080/tcp on 0.0.0.0 is already in use by another program (or another stack project): stop it or publish another port"
        );
        let range = PortError::RangeTaken {
            addr: Ipv4Addr::LOCALHOST,
            first: 8000,
            last: 8010,
            proto: Proto::Udp,
        };
        assert_eq!(
            range.to_string(),
            "every port of 8000-8010/udp on 127.0.0.1 is already in use: stop what holds them or publish another range"
        );
    }

    #[test]
    fn a_backwards_range_is_refused_before_any_bind() {
        let err = reserve_in_range(None, 9000, 8000, Proto::Tcp).unwrap_err();
        assert!(matches!(err, PortError::InvalidRange { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "invalid port range 9000-8000: the first port must not be above the last"
        );
    }
}
