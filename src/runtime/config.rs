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
    /// Read-only lower layer (a prepared rootfs directory), or an image's
    /// top-most layer.
    pub rootfs: PathBuf,
    /// An image's layers below `rootfs`, top-most first (empty for a
    /// rootfs directory).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<PathBuf>,
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
    /// Groups added to the user's (`group_add`), names resolved in the
    /// container's `/etc/group`.
    #[serde(default)]
    pub group_add: Vec<String>,
    /// Namespaced sysctls, dotted name and value (`net.core.somaxconn`).
    #[serde(default)]
    pub sysctls: Vec<(String, String)>,
    #[serde(default)]
    pub oom_score_adj: Option<i32>,
    pub network: Network,
    /// The IPC namespace (and `/dev/shm`): new, the host's, or another
    /// container's.
    #[serde(default)]
    pub ipc: Share,
    /// The PID namespace: new (the init is pid 1), the host's, or another
    /// container's.
    #[serde(default)]
    pub pid: Share,
    /// A host tmpfs to bind as `/dev/shm` instead of one of its own (see
    /// `mounts::shared_shm`).
    #[serde(default)]
    pub shm_source: Option<PathBuf>,
    /// Whether stack's init is pid 1 (else the command is).
    pub init: bool,
    /// Cgroup path relative to each hierarchy root: `stack/<project>/<service>`.
    pub cgroup: String,
    /// The hierarchies shown read-only under `/sys/fs/cgroup` (each its
    /// controllers, `unified` for cgroup2; see `cgroup::Layout::hierarchies`).
    #[serde(default)]
    pub cgroup_hierarchies: Vec<Vec<String>>,
    /// Confinement beyond namespaces and capabilities.
    #[serde(default)]
    pub security: Security,
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
        /// Permission bits of its root [default: 1777].
        #[serde(default)]
        mode: Option<u32>,
    },
}

/// Docker's default `/dev/shm` size.
pub const DEFAULT_SHM_SIZE: u64 = 64 << 20;

/// How far a container is confined beyond its namespaces and capabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Security {
    /// The seccomp filter installed right before the command's `execve`;
    /// `None`: unconfined (`seccomp=unconfined`, privileged).
    #[serde(default)]
    pub seccomp: Option<super::seccomp::SeccompProgram>,
    /// Set `no_new_privs` for the command (stack's default).
    pub no_new_privs: bool,
    /// Docker's privileged mounts: no masked or read-only kernel paths,
    /// `/sys` and `/proc/sys` writable.
    pub privileged: bool,
    /// Device nodes made in the container's `/dev` (`devices:`, or every
    /// host device when privileged); the device cgroup lets it use them.
    #[serde(default)]
    pub devices: Vec<super::devices::DeviceNode>,
    /// Size of `/dev/shm` in bytes.
    pub shm_size: u64,
}

impl Default for Security {
    fn default() -> Self {
        Security {
            seccomp: None,
            no_new_privs: true,
            privileged: false,
            devices: Vec::new(),
            shm_size: DEFAULT_SHM_SIZE,
        }
    }
}

/// Whose namespace of one kind a container is in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Share {
    /// Its own, made at clone.
    #[default]
    New,
    /// The host's (the supervisor's).
    Host,
    /// That of the container whose init has this pid.
    Join(i32),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Network {
    /// New network namespace with loopback up.
    None,
    /// Share the host's.
    Host,
    /// New network namespace with one veth per attachment, on bridges the
    /// caller has made: set up by the parent between clone and the init's
    /// config, so the command starts with its network ready.
    Bridge(Vec<Attachment>),
    /// Join the existing network namespace at this path (Compose's
    /// `network_mode: service:NAME`: `/proc/<its init's pid>/ns/net`), so
    /// both see the same interfaces and the same `localhost`. Nothing is
    /// configured in it: it belongs to the container that made it.
    Join(PathBuf),
}

/// One interface of a container on a bridge network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The bridge (it must exist: `net::ensure_bridge`).
    pub bridge: String,
    /// The host end's name (at most 15 bytes).
    pub host_veth: String,
    /// The name inside the container (`eth0`, `eth1`…).
    pub interface: String,
    pub address: std::net::Ipv4Addr,
    pub prefix: u8,
    /// The default route's next hop; on one attachment at most.
    pub gateway: Option<std::net::Ipv4Addr>,
    pub mac: Option<[u8; 6]>,
    pub mtu: Option<u32>,
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
    /// v1's `memory.swappiness` (v2 has none: an error there).
    #[serde(default)]
    pub swappiness: Option<u8>,
    /// v1's `memory.oom_control` (v2 has none: an error there).
    #[serde(default)]
    pub oom_kill_disable: bool,
    /// Which device nodes the container may create and open [default:
    /// runc's list for Docker containers].
    #[serde(default)]
    pub devices: super::devices::DeviceAccess,
    /// Block I/O weight and per-device limits.
    #[serde(default)]
    pub io: IoLimits,
}

/// A block device by number, as the cgroup files name it (`8:0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DevNum {
    pub major: u32,
    pub minor: u32,
}

impl std::fmt::Display for DevNum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.major, self.minor)
    }
}

/// Block I/O (`blkio_config`): Docker's weight (10–1000) and per-device
/// weights and limits per second.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoLimits {
    pub weight: Option<u16>,
    pub weight_device: Vec<(DevNum, u16)>,
    pub read_bps: Vec<(DevNum, u64)>,
    pub write_bps: Vec<(DevNum, u64)>,
    pub read_iops: Vec<(DevNum, u64)>,
    pub write_iops: Vec<(DevNum, u64)>,
}

impl IoLimits {
    pub fn is_empty(&self) -> bool {
        *self == IoLimits::default()
    }

    /// Every device with a rate limit, once, in order.
    pub fn throttled(&self) -> Vec<DevNum> {
        let mut v: Vec<DevNum> = [
            &self.read_bps,
            &self.write_bps,
            &self.read_iops,
            &self.write_iops,
        ]
        .iter()
        .flat_map(|l| l.iter().map(|(d, _)| *d))
        .collect();
        v.sort();
        v.dedup();
        v
    }
}
