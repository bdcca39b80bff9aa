//! `ports:` entries, short and long form.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// A published port, short or long form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PortFile {
    Short(Scalar),
    Long(PortLongFile),
}

/// A published port, long form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortLongFile {
    /// Port inside the container (one port; ranges only in the short form).
    /// Example: `target: 80`
    pub target: u16,
    /// Host port, or a range to take a free port from.
    /// Example: `published: "8080"`
    #[serde(default)]
    pub published: Option<Scalar>,
    /// Host address to bind (IPv4; IPv6 is not supported yet). Default: every address.
    /// Example: `host_ip: 127.0.0.1`
    #[serde(default)]
    pub host_ip: Option<String>,
    /// `tcp` (default) or `udp`. Example: `protocol: udp`
    #[serde(default)]
    pub protocol: Option<String>,
    /// Accepted for Compose compatibility: only `host`/`ingress` are allowed and mean the same.
    #[serde(default)]
    pub mode: Option<String>,
    /// A name for the port (informational). Example: `name: http`
    #[serde(default)]
    pub name: Option<String>,
    /// Application protocol (informational). Example: `app_protocol: http`
    #[serde(default)]
    pub app_protocol: Option<String>,
}
