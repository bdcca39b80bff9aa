//! The plain description of one container that the runtime consumes.
//!
//! The runtime knows nothing of stacks: the engine turns a `spec::Service`
//! into a `ContainerConfig` and hands it over. It crosses the parent → init
//! channel as JSON, so it is plain data.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerConfig {
    /// `<project>-<service>-1`, also the cgroup leaf name.
    pub id: String,
    /// Read-only lower layer (a prepared rootfs directory).
    pub rootfs: PathBuf,
    /// Per-container dir holding `upper/`, `work/`, `rootfs/` (mount point).
    pub bundle: PathBuf,
    pub argv: Vec<String>,
    /// `KEY=VALUE` pairs, in order.
    pub env: Vec<String>,
    pub cwd: Option<String>,
    /// Name or `uid[:gid]`, resolved inside the container's own `/etc/passwd`.
    pub user: Option<String>,
    pub hostname: String,
    pub mounts: Vec<MountSpec>,
    pub read_only: bool,
    /// Capabilities to keep, upper case with `CAP_` prefix, already resolved
    /// from Docker's default set plus `cap_add` minus `cap_drop`.
    pub capabilities: Vec<String>,
    /// `(resource, soft, hard)`, resource lower case without `RLIMIT_`.
    pub rlimits: Vec<(String, u64, u64)>,
    pub network: Network,
    /// Whether stack's init is pid 1 (else the command is).
    pub init: bool,
    /// Cgroup path relative to each hierarchy root: `stack/<project>/<service>`.
    pub cgroup: String,
    pub limits: CgroupLimits,
    /// JSON-lines log file the container's output goes to.
    pub log_file: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MountSpec {
    Bind {
        source: PathBuf,
        target: String,
        read_only: bool,
    },
    Tmpfs {
        target: String,
        size: Option<u64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Network {
    /// New network namespace with loopback up.
    None,
    /// Share the host's.
    Host,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CgroupLimits {
    /// CFS quota in microseconds per `cpu_period_us`.
    pub cpu_quota_us: Option<i64>,
    pub cpu_period_us: Option<u64>,
    pub cpu_shares: Option<u64>,
    pub cpuset: Option<String>,
    pub memory: Option<i64>,
    pub memory_reservation: Option<i64>,
    pub memswap: Option<i64>,
    pub pids: Option<i64>,
}
