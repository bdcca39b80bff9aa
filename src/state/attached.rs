//! What a container holds on the networks it joined, as its record keeps
//! it: its addresses and its published ports. `ps` and `port` read these;
//! a supervisor that adopts the container rebuilds the resolver's names
//! and the firewall's rules from them.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// One address of a container.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NetAddress {
    /// The network's name on the machine (`demo_default`).
    pub network: String,
    /// The key of the network in the file (`default`, `front`).
    pub key: String,
    pub address: Ipv4Addr,
    /// The bridge it is reached on.
    pub bridge: String,
}

/// One published port, as it was bound (a range publish records the port
/// picked).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PublishedPort {
    /// `None`: every address of the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_port: u16,
    /// `tcp` or `udp`.
    pub proto: String,
}

impl std::fmt::Display for PublishedPort {
    /// Docker's `0.0.0.0:8080->80/tcp`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ip = self.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
        write!(
            f,
            "{ip}:{}->{}/{}",
            self.host_port, self.container_port, self.proto
        )
    }
}
