//! The firewall of stack's networks, through nftables: one table per
//! project (`inet stack-<project>`), replaced whole in one `nft -f`
//! transaction on every change and deleted whole by `down`, so a half
//! applied rule set never exists and nothing is left behind.
//!
//! The table holds what the networks need: masquerade for traffic leaving
//! a bridge, DNAT for published ports (from other hosts through
//! `prerouting`, from the host itself through `output`), the hairpin, and
//! the drop that makes an `internal` network internal.
//!
//! Beside a Docker engine: its `ip filter FORWARD` chain has policy DROP,
//! and in nftables every base chain on a hook must accept a packet, so
//! accepting in our own table is not enough. Docker's sanctioned hook is
//! its `DOCKER-USER` chain: [`docker`] inserts our bridges' accept rules
//! there, each tagged with the project's comment, and removes exactly
//! those.
//!
//! The rules are rendered by [`render`] (pure, unit-tested) and applied
//! by [`apply`]; the kernel's own parser checks them in the transaction.

pub mod docker;
mod nft;
mod render;

use std::net::Ipv4Addr;

pub use nft::{apply_script, list_tables, run_nft};
pub use render::render;

/// The nftables table of a project's networks.
pub fn table_name(project: &str) -> String {
    format!("stack-{project}")
}

/// Everything one project's table holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// `stack-<project>` (see [`table_name`]).
    pub table: String,
    pub networks: Vec<NetworkRules>,
    pub ports: Vec<Publish>,
}

/// One bridge network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRules {
    /// The bridge's interface name.
    pub bridge: String,
    pub subnet: Ipv4Addr,
    pub prefix: u8,
    /// No route out (Compose's `internal: true`).
    pub internal: bool,
}

/// A transport protocol of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    /// From Compose's `tcp`/`udp` (the loader admits nothing else; any
    /// other is TCP, Compose's default).
    pub fn from_name(name: &str) -> Proto {
        if name == "udp" {
            Proto::Udp
        } else {
            Proto::Tcp
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// A published port: `host_ip:host_port` → `container_ip:container_port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// `None`: every address of the host (Compose's default `0.0.0.0`).
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub proto: Proto,
    /// The bridge the container is reached on.
    pub bridge: String,
    pub container_ip: Ipv4Addr,
    pub container_port: u16,
}

/// Errors of the firewall room.
#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    #[error("cannot run nft (install the nftables package): {0}")]
    Spawn(#[source] std::io::Error),
    #[error("nft refused the rules of table {table}: {message}")]
    Refused { table: String, message: String },
    #[error("nft {what} failed: {message}")]
    Failed { what: String, message: String },
}

/// Replace the project's table with `rules`, in one transaction.
pub fn apply(rules: &Rules) -> Result<(), FirewallError> {
    apply_script(&rules.table, &render(rules))
}

/// Delete a project's table; a table that does not exist is fine.
pub fn remove(table: &str) -> Result<(), FirewallError> {
    if !list_tables()?.iter().any(|t| t == &format!("inet {table}")) {
        return Ok(());
    }
    run_nft(&["delete", "table", "inet", table]).map(|_| ())
}
