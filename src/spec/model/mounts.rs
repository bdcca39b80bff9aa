//! A service's mounts as the runtime will make them.

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
    /// A named volume under the project's state dir.
    Volume {
        source: String,
        target: String,
        read_only: bool,
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
