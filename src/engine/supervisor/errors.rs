//! The supervisor's errors: why a container could not start, why a request
//! was refused, why watching could not begin. Each carries its source.

use std::path::PathBuf;

use crate::engine::convert::ConvertError;
use crate::engine::watch::WatchError;
use crate::runtime::cgroup::CgroupError;
use crate::runtime::rootfs::RootfsError;
use crate::runtime::spawn::SpawnError;

/// Why a start worker could not start its container (the loop says it as
/// `service NAME: …`).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Rootfs(#[from] RootfsError),
    #[error("{}: {source}", path.display())]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] ConvertError),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    #[error(transparent)]
    Network(#[from] crate::engine::network::NetworkError),
    #[error(transparent)]
    Image(#[from] crate::engine::image::ImageError),
    #[error(transparent)]
    Secrets(#[from] crate::engine::secrets::SecretsError),
    #[error(transparent)]
    Mount(#[from] crate::runtime::mounts::MountError),
    /// `ipc`/`pid: service:NAME` while NAME's container does not run.
    #[error(
        "{key}: service:{peer}: `{peer}` is not running, so its {what} namespace cannot be joined"
    )]
    PeerGone {
        key: &'static str,
        what: &'static str,
        peer: String,
    },
    /// Only the unit tests' fake spawner says this.
    #[cfg(test)]
    #[error("{0}")]
    Fake(String),
}

/// A control request the loop refuses.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// `spec::no_such_service`'s sentence.
    #[error("{0}")]
    NoSuchService(String),
}

/// Why `--watch` / `stack watch` could not start watching.
#[derive(Debug, thiserror::Error)]
pub enum WatchStartError {
    #[error("{0}; the stack runs without watching the file")]
    Watcher(#[source] WatchError),
    #[error("cannot start the reload thread: {0}")]
    Thread(#[source] std::io::Error),
}
