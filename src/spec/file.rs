//! The stack file as written (before normalization): the single source of
//! truth for `schemas/stack.schema.json`, the key tables of the "Stack file
//! reference" chapter, and the set of keys the loader accepts (an unknown
//! key is checked against these for "did you mean").
//!
//! The loader itself walks a positioned YAML tree (see `load.rs`) so that it
//! can report every problem with its line and column; a test asserts that
//! it handles exactly the keys declared here.
//!
//! Doc comments become the schema's descriptions and the reference's text:
//! first sentence what it is, then `Compose:` differences, then `Example:`.

#![allow(dead_code)]

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A string, or a number/boolean YAML turns into one.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Scalar {
    String(String),
    Number(f64),
    Bool(bool),
}

/// One string or a list of strings.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum StringOrList {
    String(String),
    List(Vec<String>),
}

/// A map of strings, or a list of `KEY=VALUE` strings.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum MapOrList {
    Map(BTreeMap<String, Option<Scalar>>),
    List(Vec<String>),
}

/// A stack file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "stack file")]
pub struct StackFile {
    /// Project name: lower case letters, digits, `_` and `-`. `-p` overrides it;
    /// without both, the file's directory name is used.
    /// Example: `name: cola-wars`
    #[serde(default)]
    pub name: Option<String>,
    /// The services (containers) of the stack, by name.
    /// Example: `services: { web: { rootfs: ./rootfs } }`
    pub services: BTreeMap<String, ServiceFile>,
    /// Named volumes, kept under the project's state directory until `stack down -v`.
    /// Compose: `driver`, `driver_opts`, `external` and `name` are not supported yet.
    /// Example: `volumes: { data: {} }`
    #[serde(default)]
    pub volumes: BTreeMap<String, Option<VolumeFile>>,
    /// Obsolete, as in Compose: accepted and ignored with a warning.
    #[serde(default)]
    pub version: Option<String>,
}

/// A named volume.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeFile {
    /// Labels recorded with the volume.
    /// Example: `labels: { backup: daily }`
    #[serde(default)]
    pub labels: Option<MapOrList>,
}

/// One service.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    /// The root filesystem: a directory, a `.tar`/`.tar.gz`/`.tgz` file (relative
    /// paths are relative to the stack file), or a map with `host` or
    /// `debootstrap`. Required. It must exist when the file is loaded.
    /// Compose: replaces `image` and `build`.
    /// Example: `rootfs: { host: [/bin/sh, /bin/sleep] }`
    pub rootfs: RootfsFile,
    /// The command, as a list or a string split like a shell would (no shell is run).
    /// Example: `command: sleep infinity`
    #[serde(default)]
    pub command: Option<StringOrList>,
    /// The entrypoint, put before `command`; same forms as `command`.
    /// Example: `entrypoint: ["/bin/sh", "-c"]`
    #[serde(default)]
    pub entrypoint: Option<StringOrList>,
    /// Environment variables: a map, or `KEY=VALUE` strings; a `KEY` alone (or
    /// a null value) takes the value from stack's own environment. Wins over `env_file`.
    /// Example: `environment: { MODE: prod }`
    #[serde(default)]
    pub environment: Option<MapOrList>,
    /// Files of `KEY=VALUE` lines read into the environment, relative to the stack file.
    /// Example: `env_file: [common.env, { path: local.env, required: false }]`
    #[serde(default)]
    pub env_file: Option<EnvFileFile>,
    /// Working directory of the command inside the container (absolute).
    /// Default: `/`. Example: `working_dir: /srv`
    #[serde(default)]
    pub working_dir: Option<String>,
    /// User to run as: `name`, `uid` or `uid:gid`. Default: root.
    /// Example: `user: "1000:1000"`
    #[serde(default)]
    pub user: Option<String>,
    /// Hostname inside the container. Default: the service name.
    /// Example: `hostname: pepsi`
    #[serde(default)]
    pub hostname: Option<String>,
    /// Services to start first: a list of names, or a map with `condition`,
    /// `restart` and `required` per service.
    /// Example: `depends_on: { db: { condition: service_healthy } }`
    #[serde(default)]
    pub depends_on: Option<DependsOnFile>,
    /// How to tell the service is healthy.
    /// Example: `healthcheck: { test: "test -f /tmp/ready", interval: 1s }`
    #[serde(default)]
    pub healthcheck: Option<HealthcheckFile>,
    /// `no` (default), `always`, `on-failure`, `on-failure:N` or `unless-stopped`.
    /// Example: `restart: on-failure:3`
    #[serde(default)]
    pub restart: Option<String>,
    /// Deployment settings; only `resources` is supported.
    /// Compose: `replicas`, `restart_policy`, `placement`, `update_config`, … are not supported yet.
    /// Example: `deploy: { resources: { limits: { cpus: "0.05", memory: 80M, pids: 64 } } }`
    #[serde(default)]
    pub deploy: Option<DeployFile>,
    /// CPU limit in cores (same as `deploy.resources.limits.cpus`).
    /// Example: `cpus: 0.5`
    #[serde(default)]
    pub cpus: Option<Scalar>,
    /// Memory limit (same as `deploy.resources.limits.memory`).
    /// Example: `mem_limit: 80M`
    #[serde(default)]
    pub mem_limit: Option<Scalar>,
    /// Memory soft limit (same as `deploy.resources.reservations.memory`).
    /// Example: `mem_reservation: 40M`
    #[serde(default)]
    pub mem_reservation: Option<Scalar>,
    /// Memory plus swap limit; `-1` for unlimited swap.
    /// Example: `memswap_limit: 160M`
    #[serde(default)]
    pub memswap_limit: Option<Scalar>,
    /// Maximum number of processes (same as `deploy.resources.limits.pids`); `-1` for no limit.
    /// Example: `pids_limit: 64`
    #[serde(default)]
    pub pids_limit: Option<i64>,
    /// Relative CPU weight (cgroup v1 `cpu.shares`, mapped to `cpu.weight` on v2).
    /// Example: `cpu_shares: 512`
    #[serde(default)]
    pub cpu_shares: Option<u64>,
    /// CPUs the service may run on.
    /// Example: `cpuset: "0-1"`
    #[serde(default)]
    pub cpuset: Option<String>,
    /// Mounts: `SOURCE:TARGET[:ro|rw]` (a source starting with `.`, `/` or `~`
    /// is a host path, otherwise a named volume) or the long form.
    /// Compose: anonymous volumes (a target alone) are not supported yet.
    /// Example: `volumes: [./html:/srv:ro, data:/var/lib/data]`
    #[serde(default)]
    pub volumes: Option<Vec<VolumeMountFile>>,
    /// tmpfs mounts: a path or a list of paths, with `size=` and `mode=`
    /// options [default size: the container's memory limit, else 64M].
    /// Example: `tmpfs: ["/run:size=64m,mode=1777"]`
    #[serde(default)]
    pub tmpfs: Option<StringOrList>,
    /// Mount the root filesystem read-only. Default: `false`.
    /// Example: `read_only: true`
    #[serde(default)]
    pub read_only: Option<bool>,
    /// Signal sent to stop the service. Default: `SIGTERM`.
    /// Example: `stop_signal: SIGINT`
    #[serde(default)]
    pub stop_signal: Option<String>,
    /// Time to wait after the stop signal before `SIGKILL`. Default: `10s`.
    /// Example: `stop_grace_period: 1m30s`
    #[serde(default)]
    pub stop_grace_period: Option<String>,
    /// Run stack's small init as pid 1 (reaps zombies, forwards signals). Default: `true`.
    /// Compose: the default is `false` there.
    /// Example: `init: false`
    #[serde(default)]
    pub init: Option<bool>,
    /// Capabilities to add to Docker's default set (`NET_ADMIN` or `CAP_NET_ADMIN`, or `ALL`).
    /// Example: `cap_add: [NET_ADMIN]`
    #[serde(default)]
    pub cap_add: Option<Vec<String>>,
    /// Capabilities to drop from the default set.
    /// Example: `cap_drop: [ALL]`
    #[serde(default)]
    pub cap_drop: Option<Vec<String>>,
    /// Docker's `--privileged`: every capability (minus `cap_drop`), no
    /// seccomp filter, every host device, no masked or read-only kernel
    /// paths, writable `/sys`. Default: `false`.
    /// Example: `privileged: true`
    #[serde(default)]
    pub privileged: Option<bool>,
    /// `seccomp=unconfined`, `seccomp=PATH` (a profile in Docker's JSON
    /// format), `no-new-privileges[:true|false]` (stack's default is `true`).
    /// Compose: `apparmor=` and `label=` are not supported.
    /// Example: `security_opt: ["seccomp=./profile.json"]`
    #[serde(default)]
    pub security_opt: Option<StringOrList>,
    /// Host devices to pass through: `HOST[:CONTAINER[:PERMISSIONS]]`,
    /// PERMISSIONS a subset of `rwm` [default: rwm].
    /// Example: `devices: ["/dev/fuse"]`
    #[serde(default)]
    pub devices: Option<StringOrList>,
    /// Extra device cgroup rules: `TYPE MAJOR:MINOR ACCESS` (`c 1:3 rwm`, `b 8:* r`).
    /// Example: `device_cgroup_rules: ["c 10:200 rwm"]`
    #[serde(default)]
    pub device_cgroup_rules: Option<StringOrList>,
    /// Size of `/dev/shm`. Default: `64M`.
    /// Example: `shm_size: 256M`
    #[serde(default)]
    pub shm_size: Option<Scalar>,
    /// Block I/O: a relative `weight` (10–1000), per-device weights, and
    /// per-device read/write limits in bytes or operations per second
    /// (cgroup v1 `blkio`, v2 `io.weight`/`io.max`).
    /// Example: `blkio_config: { weight: 300, device_read_bps: [{ path: /dev/sda, rate: 12mb }] }`
    #[serde(default)]
    pub blkio_config: Option<BlkioFile>,
    /// Resource limits (`setrlimit`): a number (soft = hard) or `{soft, hard}`.
    /// Example: `ulimits: { nofile: { soft: 1024, hard: 4096 }, nproc: 512 }`
    #[serde(default)]
    pub ulimits: Option<BTreeMap<String, UlimitFile>>,
    /// `none` (default: only loopback) or `host`.
    /// Compose: `bridge`, `service:NAME` and `container:NAME` are not supported yet.
    /// Example: `network_mode: host`
    #[serde(default)]
    pub network_mode: Option<String>,
    /// Published ports: `[[IP:]HOST:]CONTAINER[/PROTOCOL]` or the long form.
    /// Publishing needs the project bridge, which is not supported yet: only
    /// with `network_mode: host` (where they are the host's ports) are they
    /// accepted. Example: `ports: ["8080:80"]`
    #[serde(default)]
    pub ports: Option<Vec<PortFile>>,
    /// Labels: a map or `KEY=VALUE` strings.
    /// Example: `labels: { team: blue }`
    #[serde(default)]
    pub labels: Option<MapOrList>,
    /// The service is active only when one of these profiles is enabled
    /// (`--profile`, `STACK_PROFILES`).
    /// Example: `profiles: [debug]`
    #[serde(default)]
    pub profiles: Option<Vec<String>>,
    /// Development settings for `stack up --watch`.
    /// Example: `develop: { watch: [{ path: ./src, action: restart }] }`
    #[serde(default)]
    pub develop: Option<DevelopFile>,
    /// stack's own per-service settings.
    /// Example: `x-stack: { restart_unhealthy: false }`
    #[serde(default, rename = "x-stack")]
    pub x_stack: Option<XStackFile>,
}

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

/// An env file path, or a list of paths and `{path, required}` maps.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum EnvFileFile {
    One(String),
    Many(Vec<EnvFileItem>),
}

/// One env file: a path or the long form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum EnvFileItem {
    Path(String),
    Long(EnvFileLong),
}

/// An env file, long form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvFileLong {
    /// Path, relative to the stack file. Example: `path: app.env`
    pub path: String,
    /// Fail when the file is missing. Default: `true`. Example: `required: false`
    #[serde(default)]
    pub required: Option<bool>,
}

/// Dependencies: names, or a map by name.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum DependsOnFile {
    List(Vec<String>),
    Map(BTreeMap<String, DependencyFile>),
}

/// One dependency, long form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DependencyFile {
    /// `service_started` (default), `service_healthy` or `service_completed_successfully`.
    /// Example: `condition: service_healthy`
    #[serde(default)]
    pub condition: Option<ConditionFile>,
    /// Restart this service when the dependency is recreated. Default: `false`.
    /// Example: `restart: true`
    #[serde(default)]
    pub restart: Option<bool>,
    /// When `false`, a missing or disabled dependency is ignored. Default: `true`.
    /// Example: `required: false`
    #[serde(default)]
    pub required: Option<bool>,
}

/// When a dependency counts as ready.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConditionFile {
    ServiceStarted,
    ServiceHealthy,
    ServiceCompletedSuccessfully,
}

/// A health check, run inside the container.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthcheckFile {
    /// A shell command string, `["CMD", args...]`, `["CMD-SHELL", "command"]` or `["NONE"]`.
    /// Example: `test: ["CMD", "test", "-f", "/tmp/ready"]`
    #[serde(default)]
    pub test: Option<StringOrList>,
    /// Time between checks. Default: `30s`. Example: `interval: 5s`
    #[serde(default)]
    pub interval: Option<String>,
    /// Time one check may take. Default: `30s`. Example: `timeout: 2s`
    #[serde(default)]
    pub timeout: Option<String>,
    /// Failures in a row that make the service unhealthy. Default: `3`. Example: `retries: 5`
    #[serde(default)]
    pub retries: Option<u32>,
    /// Failures during this time after start do not count. Default: `0s`. Example: `start_period: 10s`
    #[serde(default)]
    pub start_period: Option<String>,
    /// Time between checks during `start_period`. Default: `5s`. Example: `start_interval: 1s`
    #[serde(default)]
    pub start_interval: Option<String>,
    /// Remove the health check (like `test: ["NONE"]`). Example: `disable: true`
    #[serde(default)]
    pub disable: Option<bool>,
}

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
    /// Resource limits and reservations.
    /// Example: `resources: { limits: { memory: 80M } }`
    #[serde(default)]
    pub resources: Option<ResourcesFile>,
}

/// Resource limits and reservations.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourcesFile {
    /// Hard limits. Example: `limits: { cpus: "0.05", memory: 80M, pids: 64 }`
    #[serde(default)]
    pub limits: Option<LimitsFile>,
    /// Reservations; only `memory` (a soft limit). Example: `reservations: { memory: 40M }`
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
}

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

/// A published port, short or long form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PortFile {
    Short(Scalar),
    Long(PortLongFile),
}

/// A published port, long form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortLongFile {
    /// Port inside the container. Example: `target: 80`
    pub target: u16,
    /// Host port (or range). Example: `published: "8080"`
    #[serde(default)]
    pub published: Option<Scalar>,
    /// Host address to bind. Example: `host_ip: 127.0.0.1`
    #[serde(default)]
    pub host_ip: Option<String>,
    /// `tcp` (default) or `udp`. Example: `protocol: udp`
    #[serde(default)]
    pub protocol: Option<String>,
    /// Accepted for Compose compatibility: only `host`/`ingress` are allowed and mean the same.
    #[serde(default)]
    pub mode: Option<String>,
    /// A name for the port (informational). Example: `name: http`
    #[serde(default)]
    pub name: Option<String>,
    /// Application protocol (informational). Example: `app_protocol: http`
    #[serde(default)]
    pub app_protocol: Option<String>,
}

/// Development settings.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DevelopFile {
    /// Paths watched by `stack up --watch` and what to do when they change.
    /// Example: `watch: [{ path: ./app, action: sync+restart, target: /app }]`
    #[serde(default)]
    pub watch: Option<Vec<WatchFile>>,
}

/// A watch rule.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchFile {
    /// Host path to watch, relative to the stack file. Example: `path: ./app`
    pub path: String,
    /// `restart`, `sync`, `sync+restart` or `rebuild`. Example: `action: restart`
    pub action: String,
    /// Path in the container (for `sync` actions). Example: `target: /app`
    #[serde(default)]
    pub target: Option<String>,
    /// Patterns to ignore, relative to `path`. Example: `ignore: ["*.tmp"]`
    #[serde(default)]
    pub ignore: Option<Vec<String>>,
}

/// stack's own per-service settings.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct XStackFile {
    /// Restart a container that stays unhealthy, when its restart policy is not
    /// `no`. Default: `true`. Compose: never does (moby#28400).
    /// Example: `restart_unhealthy: false`
    #[serde(default)]
    pub restart_unhealthy: Option<bool>,
}

/// The JSON Schema of the stack file, as committed in `schemas/`.
pub fn schema() -> schemars::schema::RootSchema {
    let settings = schemars::gen::SchemaSettings::draft07().with(|s| {
        s.option_nullable = false;
        s.option_add_null_type = true;
    });
    let mut root = settings
        .into_generator()
        .into_root_schema_for::<StackFile>();
    // `x-*` keys are allowed (and ignored) in every object.
    allow_extensions(&mut root.schema);
    for def in root.definitions.values_mut() {
        if let schemars::schema::Schema::Object(o) = def {
            allow_extensions(o);
        }
    }
    root
}

fn allow_extensions(o: &mut schemars::schema::SchemaObject) {
    if let Some(obj) = o.object.as_mut() {
        if !obj.properties.is_empty() {
            obj.pattern_properties
                .insert("^x-".to_string(), schemars::schema::Schema::Bool(true));
        }
    }
}

/// The schema as pretty JSON with a trailing newline.
pub fn schema_json() -> String {
    let mut s = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    s.push('\n');
    s
}

/// Where each object of the schema appears in a file, in reference order.
pub const SECTIONS: &[(&str, &str)] = &[
    ("StackFile", "Top level"),
    ("VolumeFile", "volumes.NAME"),
    ("ServiceFile", "services.NAME"),
    ("RootfsSourceFile", "services.NAME.rootfs (map form)"),
    ("DebootstrapFile", "services.NAME.rootfs.debootstrap"),
    ("EnvFileLong", "services.NAME.env_file[] (long form)"),
    (
        "DependencyFile",
        "services.NAME.depends_on.SERVICE (long form)",
    ),
    ("HealthcheckFile", "services.NAME.healthcheck"),
    ("BlkioFile", "services.NAME.blkio_config"),
    (
        "WeightDeviceFile",
        "services.NAME.blkio_config.weight_device[]",
    ),
    (
        "ThrottleDeviceFile",
        "services.NAME.blkio_config.device_{read,write}_{bps,iops}[]",
    ),
    ("DeployFile", "services.NAME.deploy"),
    ("ResourcesFile", "services.NAME.deploy.resources"),
    ("LimitsFile", "services.NAME.deploy.resources.limits"),
    (
        "ReservationsFile",
        "services.NAME.deploy.resources.reservations",
    ),
    ("VolumeLongFile", "services.NAME.volumes[] (long form)"),
    ("BindOptsFile", "services.NAME.volumes[].bind"),
    ("VolumeOptsFile", "services.NAME.volumes[].volume"),
    ("TmpfsOptsFile", "services.NAME.volumes[].tmpfs"),
    ("UlimitPairFile", "services.NAME.ulimits.NAME (long form)"),
    ("PortLongFile", "services.NAME.ports[] (long form)"),
    ("DevelopFile", "services.NAME.develop"),
    ("WatchFile", "services.NAME.develop.watch[]"),
    ("XStackFile", "services.NAME.x-stack"),
];

fn anchor(def: &str) -> String {
    SECTIONS
        .iter()
        .find(|(d, _)| *d == def)
        .map(|(_, t)| {
            t.to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    'a'..='z' | '0'..='9' | '-' | '_' => Some(c),
                    ' ' => Some('-'),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_else(|| def.to_lowercase())
}

/// A readable type for a schema, e.g. `string or list of string`.
fn type_name(
    s: &schemars::schema::Schema,
    defs: &schemars::Map<String, schemars::schema::Schema>,
) -> String {
    use schemars::schema::{InstanceType, Schema, SingleOrVec};
    let Schema::Object(o) = s else {
        return "any".into();
    };
    if let Some(r) = &o.reference {
        let name = r.trim_start_matches("#/definitions/");
        if name == "Scalar" {
            return "string or number".into();
        }
        // Untagged helper enums are spelled out; objects link to their section.
        if let Some(d) = defs.get(name) {
            if SECTIONS.iter().any(|(x, _)| *x == name) {
                return format!("[map](#{})", anchor(name));
            }
            return type_name(d, defs);
        }
        return name.to_string();
    }
    if let Some(e) = &o.enum_values {
        return e
            .iter()
            .map(|v| format!("`{}`", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(" \\| ");
    }
    if let Some(sub) = &o.subschemas {
        let list = sub
            .any_of
            .as_ref()
            .or(sub.one_of.as_ref())
            .or(sub.all_of.as_ref());
        if let Some(list) = list {
            let mut parts: Vec<String> = list
                .iter()
                .map(|x| type_name(x, defs))
                .filter(|t| t != "null" && !t.is_empty())
                .collect();
            parts.dedup();
            return parts.join(" or ");
        }
    }
    let types: Vec<InstanceType> = match &o.instance_type {
        Some(SingleOrVec::Single(t)) => vec![**t],
        Some(SingleOrVec::Vec(v)) => v.clone(),
        None => return "any".into(),
    };
    let parts: Vec<String> = types
        .into_iter()
        .filter(|t| *t != InstanceType::Null)
        .map(|t| match t {
            InstanceType::Array => {
                let item = match o.array.as_ref().and_then(|a| a.items.as_ref()) {
                    Some(SingleOrVec::Single(i)) => type_name(i, defs),
                    _ => "any".into(),
                };
                format!("list of {item}")
            }
            InstanceType::Object => match o
                .object
                .as_ref()
                .and_then(|a| a.additional_properties.as_ref())
            {
                Some(v) => format!("map of {}", type_name(v, defs)),
                None => "map".into(),
            },
            InstanceType::Boolean => "boolean".into(),
            InstanceType::Integer => "integer".into(),
            InstanceType::Number => "number".into(),
            InstanceType::String => "string".into(),
            InstanceType::Null => "null".into(),
        })
        .collect();
    parts.join(" or ")
}

/// The generated key tables of the "Stack file reference" chapter.
pub fn reference_tables() -> String {
    use schemars::schema::Schema;
    let root = schema();
    let mut out = String::new();
    for (def, title) in SECTIONS {
        let obj = if *def == "StackFile" {
            Some(&root.schema)
        } else {
            match root.definitions.get(*def) {
                Some(Schema::Object(o)) => Some(o),
                _ => None,
            }
        };
        let Some(obj) = obj else { continue };
        let Some(props) = obj.object.as_ref() else {
            continue;
        };
        out.push_str(&format!("### {title}\n\n"));
        if let Some(d) = obj.metadata.as_ref().and_then(|m| m.description.as_ref()) {
            out.push_str(d);
            out.push_str("\n\n");
        }
        out.push_str("| Key | Type | Default | Description |\n|---|---|---|---|\n");
        for (key, s) in &props.properties {
            let desc = match s {
                Schema::Object(o) => o
                    .metadata
                    .as_ref()
                    .and_then(|m| m.description.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            };
            let desc = desc.replace('\n', " ");
            // "Default: `x`." moves to its own column; required keys say so.
            let (default, desc) = match desc.find("Default: ") {
                Some(i) => {
                    let rest = &desc[i + "Default: ".len()..];
                    let end = rest.find(". ").map(|e| e + 1).unwrap_or(rest.len());
                    let d = rest[..end].trim_end_matches('.').to_string();
                    let tail = rest[end..].trim_start();
                    (d, format!("{}{tail}", &desc[..i]))
                }
                None if props.required.contains(key) => ("required".to_string(), desc),
                None => (String::new(), desc),
            };
            let desc = desc.trim().replace('|', "\\|");
            let default = default.replace('|', "\\|");
            out.push_str(&format!(
                "| `{key}` | {} | {default} | {desc} |\n",
                type_name(s, &root.definitions)
            ));
        }
        out.push('\n');
    }
    out
}
