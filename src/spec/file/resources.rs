//! Resource limits: `blkio_config`, `deploy.resources` and `ulimits`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// `blkio_config`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlkioFile {
    /// Relative weight, 10 to 1000. Example: `weight: 300`
    #[serde(default)]
    pub weight: Option<u64>,
    /// Weight on one device. Example: `weight_device: [{ path: /dev/sda, weight: 400 }]`
    #[serde(default)]
    pub weight_device: Option<Vec<WeightDeviceFile>>,
    /// Bytes per second read from a device (a size: `12mb`, `1048576`).
    /// Example: `device_read_bps: [{ path: /dev/sda, rate: 12mb }]`
    #[serde(default)]
    pub device_read_bps: Option<Vec<ThrottleDeviceFile>>,
    /// Bytes per second written to a device.
    #[serde(default)]
    pub device_write_bps: Option<Vec<ThrottleDeviceFile>>,
    /// Read operations per second on a device. Example: `device_read_iops: [{ path: /dev/sda, rate: 120 }]`
    #[serde(default)]
    pub device_read_iops: Option<Vec<ThrottleDeviceFile>>,
    /// Write operations per second on a device.
    #[serde(default)]
    pub device_write_iops: Option<Vec<ThrottleDeviceFile>>,
}

/// A device's weight.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightDeviceFile {
    /// The host's block device. Example: `path: /dev/sda`
    pub path: String,
    /// 10 to 1000.
    pub weight: u64,
}

/// A device's rate limit.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThrottleDeviceFile {
    /// The host's block device. Example: `path: /dev/sda`
    pub path: String,
    /// Per second: a size for `_bps` (`12mb`), a number for `_iops`.
    pub rate: Scalar,
}

/// `deploy`: only resources.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployFile {
    /// How many containers run the service (the same as `scale`).
    /// Example: `replicas: 3`
    #[serde(default)]
    pub replicas: Option<super::Scalar>,
    /// Resource limits and reservations.
    /// Example: `resources: { limits: { memory: 80M } }`
    #[serde(default)]
    pub resources: Option<ResourcesFile>,
    /// When to restart the service's container; the same as `restart`
    /// (give one of them).
    /// Example: `restart_policy: { condition: on-failure, max_attempts: 3, delay: 2s }`
    #[serde(default)]
    pub restart_policy: Option<RestartPolicyFile>,
}

/// `deploy.restart_policy`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RestartPolicyFile {
    /// `any` (default; `restart: always`), `on-failure` or `none`
    /// (`restart: no`). Example: `condition: on-failure`
    #[serde(default)]
    pub condition: Option<String>,
    /// With `on-failure`: at most this many restarts (`on-failure:N`).
    /// Example: `max_attempts: 3`
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// The wait before every restart, instead of the back-off that starts
    /// at 100 ms and doubles up to 10 s; at least 100 ms. Example: `delay: 5s`
    #[serde(default)]
    pub delay: Option<String>,
    /// How long a container must stay up for its start to count as a
    /// success, which resets the back-off [default: 10s]. Example: `window: 30s`
    #[serde(default)]
    pub window: Option<String>,
}

/// Resource limits and reservations.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourcesFile {
    /// Hard limits. Example: `limits: { cpus: "0.05", memory: 80M, pids: 64 }`
    #[serde(default)]
    pub limits: Option<LimitsFile>,
    /// Reservations: `memory` (a soft limit) and `cpus` (a CPU weight). Example: `reservations: { memory: 40M }`
    #[serde(default)]
    pub reservations: Option<ReservationsFile>,
}

/// Hard limits (cgroup).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// CPU cores, a positive decimal. Example: `cpus: "0.05"`
    #[serde(default)]
    pub cpus: Option<Scalar>,
    /// Memory: `80M`, `1.5G`, `512k` or bytes. Example: `memory: 80M`
    #[serde(default)]
    pub memory: Option<Scalar>,
    /// Maximum number of processes. Example: `pids: 64`
    #[serde(default)]
    pub pids: Option<i64>,
}

/// Reservations: only memory, applied as a soft limit.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservationsFile {
    /// Memory soft limit. Example: `memory: 40M`
    #[serde(default)]
    pub memory: Option<Scalar>,
    /// CPU guaranteed under contention, in cores: a CPU weight of
    /// `cpus × 1024` shares, as Kubernetes maps a CPU request (not with
    /// `cpu_shares`). Example: `cpus: "0.5"`
    #[serde(default)]
    pub cpus: Option<Scalar>,
}

/// A ulimit: one number, or soft and hard.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum UlimitFile {
    Single(u64),
    Pair(UlimitPairFile),
}

/// Soft and hard values of a ulimit.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UlimitPairFile {
    /// Soft limit. Example: `soft: 1024`
    pub soft: u64,
    /// Hard limit (at least `soft`). Example: `hard: 4096`
    pub hard: u64,
}
