//! Networks: the top-level `networks:` map, and a service's `networks`,
//! `extra_hosts` and the other keys of its network identity.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// One network of the project: a Linux bridge.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    /// The network's name on the machine. Default: `<project>_<key>`
    /// (the key itself for an external network).
    /// Example: `name: shared-front`
    #[serde(default)]
    pub name: Option<String>,
    /// `bridge`, the only driver. Default: `bridge`.
    /// Example: `driver: bridge`
    #[serde(default)]
    pub driver: Option<String>,
    /// Bridge options: `com.docker.network.bridge.name` (the bridge's
    /// interface name, 1 to 15 bytes) and `com.docker.network.driver.mtu`
    /// (68 to 65535); other options are not supported yet.
    /// Example: `driver_opts: { com.docker.network.driver.mtu: 1400 }`
    #[serde(default)]
    pub driver_opts: Option<BTreeMap<String, Scalar>>,
    /// Accepted for Compose compatibility and ignored: any container of
    /// the machine's stack projects may join a network by `external`.
    /// Example: `attachable: true`
    #[serde(default)]
    pub attachable: Option<bool>,
    /// Only `true` (the default): every network has an IPv4 subnet.
    /// Example: `enable_ipv4: true`
    #[serde(default)]
    pub enable_ipv4: Option<bool>,
    /// Only `false` (the default): IPv6 networks are not supported yet.
    /// Example: `enable_ipv6: false`
    #[serde(default)]
    pub enable_ipv6: Option<bool>,
    /// A network made by another stack project, joined by its `name`
    /// (or the key); this file never creates or removes it, and sets
    /// nothing else on it. Default: `false`.
    /// Example: `external: true`
    #[serde(default)]
    pub external: Option<bool>,
    /// No route out of the network, and no published ports for a service
    /// that joins only internal networks. Default: `false`.
    /// Example: `internal: true`
    #[serde(default)]
    pub internal: Option<bool>,
    /// Addresses: one IPv4 `config` entry at most. Default: a subnet
    /// picked from a private pool that avoids the host's routes.
    /// Example: `ipam: { config: [{ subnet: 172.28.0.0/16 }] }`
    #[serde(default)]
    pub ipam: Option<IpamFile>,
    /// Labels recorded with the network.
    /// Example: `labels: { team: blue }`
    #[serde(default)]
    pub labels: Option<MapOrList>,
}

/// A network's address management.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IpamFile {
    /// `default`, stack's own IPAM (addresses recorded in the state store).
    /// Default: `default`. Example: `driver: default`
    #[serde(default)]
    pub driver: Option<String>,
    /// The subnet, at most one entry (IPv4).
    /// Example: `config: [{ subnet: 172.28.0.0/16, gateway: 172.28.0.1 }]`
    #[serde(default)]
    pub config: Option<Vec<IpamConfigFile>>,
}

/// A network's subnet.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IpamConfigFile {
    /// The IPv4 subnet, host bits zero, at most a /30.
    /// Example: `subnet: 172.28.0.0/16`
    #[serde(default)]
    pub subnet: Option<String>,
    /// Where containers without `ipv4_address` get theirs from: a part of
    /// `subnet`. Default: the whole subnet.
    /// Example: `ip_range: 172.28.5.0/24`
    #[serde(default)]
    pub ip_range: Option<String>,
    /// The bridge's address, inside `subnet`. Default: the subnet's first address.
    /// Example: `gateway: 172.28.0.1`
    #[serde(default)]
    pub gateway: Option<String>,
}

/// The networks a service joins: a list of keys, or a map by key.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ServiceNetworksFile {
    List(Vec<String>),
    Map(BTreeMap<String, Option<ServiceNetworkFile>>),
}

/// A service's settings on one network.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceNetworkFile {
    /// More names of the service on this network (letters, digits, `-`,
    /// `_` and `.`). Example: `aliases: [database]`
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
    /// A fixed address, inside the network's `ipam.config` subnet (which
    /// must be given), neither its gateway nor its first or last address.
    /// Example: `ipv4_address: 172.28.0.10`
    #[serde(default)]
    pub ipv4_address: Option<String>,
    /// The interface's MAC address (unicast). Example: `mac_address: 02:42:ac:1c:00:0a`
    #[serde(default)]
    pub mac_address: Option<String>,
    /// Higher first: `eth0` is on the network of highest priority, and the
    /// default route goes through it. Default: `0`. Example: `priority: 100`
    #[serde(default)]
    pub priority: Option<i64>,
}

/// `extra_hosts`: `HOST:IP` or `HOST=IP` strings, or a map of host to
/// address (or addresses).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ExtraHostsFile {
    List(Vec<String>),
    Map(BTreeMap<String, StringOrList>),
}
