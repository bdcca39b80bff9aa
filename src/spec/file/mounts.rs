//! `volumes:` entries of a service, short and long form.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// A mount, short or long form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum VolumeMountFile {
    Short(String),
    Long(VolumeLongFile),
}

/// A mount, long form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeLongFile {
    /// `bind`, `volume` or `tmpfs`. Example: `type: bind`
    #[serde(rename = "type")]
    pub kind: String,
    /// Host path (`bind`) or volume name (`volume`). Example: `source: ./data`
    #[serde(default)]
    pub source: Option<String>,
    /// Path inside the container (absolute). Example: `target: /data`
    pub target: String,
    /// Mount read-only. Default: `false`. Example: `read_only: true`
    #[serde(default)]
    pub read_only: Option<bool>,
    /// Bind options; only `create_host_path` is accepted (stack never creates the source).
    /// Example: `bind: { create_host_path: false }`
    #[serde(default)]
    pub bind: Option<BindOptsFile>,
    /// Volume options; only `nocopy` is accepted.
    /// Example: `volume: { nocopy: true }`
    #[serde(default)]
    pub volume: Option<VolumeOptsFile>,
    /// tmpfs options. Example: `tmpfs: { size: 64M }`
    #[serde(default)]
    pub tmpfs: Option<TmpfsOptsFile>,
}

/// Options of a bind mount.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BindOptsFile {
    /// Accepted for Compose compatibility; stack never creates a missing source.
    #[serde(default)]
    pub create_host_path: Option<bool>,
}

/// Options of a named-volume mount.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeOptsFile {
    /// Accepted for Compose compatibility.
    #[serde(default)]
    pub nocopy: Option<bool>,
}

/// Options of a tmpfs mount.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TmpfsOptsFile {
    /// Size limit of the tmpfs [default: the container's memory limit, else 64M].
    /// Example: `size: 64M`
    #[serde(default)]
    pub size: Option<Scalar>,
    /// Permission bits of the mount's root, octal [default: 1777].
    /// Example: `mode: 0755`
    #[serde(default)]
    pub mode: Option<Scalar>,
}
