//! `rootfs:`: a path, or a map naming one source.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A root filesystem source.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RootfsFile {
    /// A directory, or a `.tar`, `.tar.gz` or `.tgz` file.
    Path(String),
    /// Built from a source.
    Source(RootfsSourceFile),
}

/// Exactly one of `host` or `debootstrap`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RootfsSourceFile {
    /// Absolute paths of host binaries, copied with the shared libraries they need.
    /// Example: `host: [/bin/sh, /bin/sleep]`
    #[serde(default)]
    pub host: Option<Vec<String>>,
    /// A Debian root filesystem built once with debootstrap, then cached.
    /// Example: `debootstrap: { suite: bookworm, variant: minbase }`
    #[serde(default)]
    pub debootstrap: Option<DebootstrapFile>,
}

/// debootstrap arguments.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DebootstrapFile {
    /// Release to install. Example: `suite: bookworm`
    pub suite: String,
    /// `--variant`. Example: `variant: minbase`
    #[serde(default)]
    pub variant: Option<String>,
    /// Mirror URL. Example: `mirror: http://deb.debian.org/debian`
    #[serde(default)]
    pub mirror: Option<String>,
}
