//! Secrets and configs as a service mounts them.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A secret or config a service mounts: read-only, a file of its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileMount {
    pub kind: FileKind,
    /// Its top-level name.
    pub name: String,
    pub from: FileSource,
    /// Absolute path in the container.
    pub target: String,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Secret,
    Config,
}

/// Where a secret's or config's content comes from. Two are equal when
/// they name the same source: as in Compose, a changed content does not
/// recreate the container (and a record never holds a variable's value).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileSource {
    /// A file on the host (absolute), read when the container is made.
    File(PathBuf),
    /// A variable's value, read when the file was loaded. The value is never
    /// written out (`stack config`, state): a stack read back from its
    /// record has none, and the engine reads the file again to start.
    Environment {
        var: String,
        #[serde(skip)]
        value: Option<String>,
    },
    /// A config's own text.
    Content(String),
}

impl PartialEq for FileSource {
    fn eq(&self, other: &FileSource) -> bool {
        match (self, other) {
            (FileSource::File(a), FileSource::File(b)) => a == b,
            (FileSource::Environment { var: a, .. }, FileSource::Environment { var: b, .. }) => {
                a == b
            }
            (FileSource::Content(a), FileSource::Content(b)) => a == b,
            _ => false,
        }
    }
}
