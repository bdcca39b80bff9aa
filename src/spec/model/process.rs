//! How a service's processes meet the kernel beyond limits and
//! confinement: extra groups, namespaced sysctls, the OOM killer's view,
//! and the IPC and PID namespaces they may share.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `group_add`, `sysctls`, `oom_score_adj`, `ipc`, `pid`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    /// Names (from the container's `/etc/group`) or numbers, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_add: Vec<String>,
    /// By dotted name (`net.core.somaxconn`); only the namespaced ones.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctls: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i32>,
    #[serde(default, skip_serializing_if = "IpcMode::is_default")]
    pub ipc: IpcMode,
    #[serde(default, skip_serializing_if = "PidMode::is_default")]
    pub pid: PidMode,
}

/// `ipc:`: whose IPC namespace (System V IPC, POSIX message queues) and
/// `/dev/shm` the container has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpcMode {
    /// Its own, which no other service may join (`ipc: private`).
    Private,
    /// Its own, which services with `ipc: service:NAME` join (Docker's
    /// `shareable`; stack's default, so a file need not say it).
    #[default]
    Shareable,
    /// The host's, and the host's `/dev/shm`.
    Host,
    /// `service:NAME`: that service's container's, and its `/dev/shm`
    /// (started after it, restarted when it is recreated).
    Service(String),
}

impl IpcMode {
    pub fn is_default(&self) -> bool {
        *self == IpcMode::Shareable
    }
}

/// `pid:`: whose PID namespace the container's processes live in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PidMode {
    /// Its own; stack's init is pid 1.
    #[default]
    Private,
    /// The host's: it sees (and, as root, may signal) every process.
    Host,
    /// `service:NAME`: that service's container's.
    Service(String),
}

impl PidMode {
    pub fn is_default(&self) -> bool {
        *self == PidMode::Private
    }
}

impl Process {
    pub fn is_empty(&self) -> bool {
        *self == Process::default()
    }
}
