//! A service's mounts as the runtime will make them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::spec::units::Bytes;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Mount {
    /// Host path (absolute after loading) into the container.
    Bind {
        source: PathBuf,
        target: String,
        read_only: bool,
    },
    /// A named volume: `source` is its key under the top-level `volumes:`
    /// (or an anonymous volume's name), `backing` where its data lives.
    Volume {
        source: String,
        target: String,
        read_only: bool,
        #[serde(default, skip_serializing_if = "Backing::is_project")]
        backing: Backing,
    },
    Tmpfs {
        target: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size: Option<Bytes>,
        /// Permission bits of the mount's root [default: 1777].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<u32>,
    },
}

/// A top-level volume, normalized.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VolumeDef {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Backing::is_project")]
    pub backing: Backing,
}

/// Where a named volume's data lives. Copied into every mount of the
/// volume, so a changed backing recreates the services that use it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Backing {
    /// `<state root>/<project>/volumes/<key>`, removed by `down -v`.
    #[default]
    Project,
    /// `<state root>/volumes/<name>`, shared by every project naming it:
    /// `name:` (made when first used, removed by `down -v`) or
    /// `external: true` (must exist, never removed by a project).
    Machine { name: String, external: bool },
    /// `driver_opts: { type: none, o: bind, device: PATH }`: a host directory.
    Bind { device: PathBuf },
    /// `driver_opts: { type: tmpfs, device: tmpfs, o: "size=…,mode=…" }`:
    /// a tmpfs mounted for each container that uses it.
    Tmpfs {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size: Option<Bytes>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<u32>,
    },
}

impl Backing {
    pub fn is_project(&self) -> bool {
        *self == Backing::Project
    }
}

impl Mount {
    /// Where it is mounted in the container, without a trailing `/`.
    pub fn target(&self) -> &str {
        match self {
            Mount::Bind { target, .. }
            | Mount::Volume { target, .. }
            | Mount::Tmpfs { target, .. } => target.trim_end_matches('/'),
        }
    }
}
