//! The typed, interpolated, validated model of a stack file.
//!
//! Everything downstream (graph, plan, engine, runtime) reads these types and
//! nothing else of the file. Field names follow Compose. The loader in
//! `spec::load` is the only producer.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::units::{Bytes, Cpus, Millis};

/// A whole stack file after loading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stack {
    /// Project name (validated: `[a-z0-9_-]`, lower case).
    pub name: String,
    /// Absolute path of the stack file (the first of `-f`).
    pub file: PathBuf,
    /// The files merged onto it, in order (`-f` after the first, or the
    /// override file found beside the default one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<PathBuf>,
    /// Directory relative paths in the file are resolved against.
    pub dir: PathBuf,
    /// Active services (profiles applied), by name.
    pub services: BTreeMap<String, Service>,
    /// Named volumes declared at the top level.
    #[serde(default)]
    pub volumes: BTreeMap<String, VolumeDef>,
    /// Networks by their key in the file (`default` included when a service
    /// joins it), each with its name on the machine. Only the networks some
    /// active service joins are here.
    #[serde(default)]
    pub networks: BTreeMap<String, NetworkDef>,
    /// Every file the stack was built from (absolute): the stack file, the
    /// `.env` or `--env-file`, and every service's `env_file`, existing or
    /// not (creating a missing optional one changes the stack). The file
    /// watcher of `up --watch` watches exactly these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<PathBuf>,
    /// Set by [`crate::spec::replicas::expand`]: each service's number of
    /// replicas, its units being the entries of `services`. Empty in a
    /// stack as loaded.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub replicas: BTreeMap<String, u32>,
}

impl Stack {
    /// Every file the stack is read from, in merge order.
    pub fn files(&self) -> Vec<PathBuf> {
        std::iter::once(self.file.clone())
            .chain(self.overrides.iter().cloned())
            .collect()
    }
}

/// One top-level network (`driver: bridge`, the only driver).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkDef {
    /// The name on the machine: `<project>_<key>` (Compose's), or `name:`.
    pub name: String,
    /// `external: true`: made by another stack project; joined, never
    /// created or removed by this one.
    #[serde(default)]
    pub external: bool,
    /// No route out, no published ports.
    #[serde(default)]
    pub internal: bool,
    /// `ipam.config[0].subnet`; `None`: picked from the pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<ipnet::Ipv4Net>,
    /// `ipam.config[0].ip_range`: where dynamic addresses come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_range: Option<ipnet::Ipv4Net>,
    /// `ipam.config[0].gateway` [default: the subnet's first address].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<std::net::Ipv4Addr>,
    /// `driver_opts: com.docker.network.bridge.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge: Option<String>,
    /// `driver_opts: com.docker.network.driver.mtu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl NetworkDef {
    /// A bridge network named `name` on the machine, with every default.
    pub fn new(name: &str) -> NetworkDef {
        NetworkDef {
            name: name.to_string(),
            external: false,
            internal: false,
            subnet: None,
            ip_range: None,
            gateway: None,
            bridge: None,
            mtu: None,
            labels: BTreeMap::new(),
        }
    }
}

/// A service's attachment to one network (`networks:` on the service).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceNetwork {
    /// Extra names of the service on this network (plus `links` aliases).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_address: Option<std::net::Ipv4Addr>,
    /// `aa:bb:cc:dd:ee:ff`, lower case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    /// Higher first: the order of the interfaces (`eth0` is the highest)
    /// and of the default route [default: 0].
    #[serde(default)]
    pub priority: i32,
    /// The network's definition, copied here so that changing it changes
    /// every attached container's config (and recreates it, with reasons
    /// `networks.front.network.internal …`).
    pub network: NetworkDef,
}

/// `extra_hosts` entry: `HOST:IP` (or `HOST=IP`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraHost {
    pub host: String,
    /// An address, or `host-gateway` (the network's gateway, as Docker).
    pub ip: String,
}

/// One service, normalized: every Compose spelling of a setting is folded
/// into one field here (e.g. `mem_limit` and `deploy.resources.limits.memory`
/// both land in `limits.memory`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub name: String,
    /// `deploy.replicas` or `scale` [default: 1]; 1 in each unit of an
    /// expanded stack (see [`crate::spec::replicas`]).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub replicas: u32,
    /// `rootfs:` or `image:`.
    pub rootfs: Rootfs,
    /// `pull_policy`, for an `image:` from a registry. Not part of the
    /// container's config: changing it recreates nothing.
    #[serde(default, skip_serializing_if = "PullPolicy::is_default")]
    pub pull_policy: PullPolicy,
    /// Argument vector; `None` means the rootfs default (`/bin/sh`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Fully resolved environment (env_file, then `environment`).
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Defaults to the service name when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default)]
    pub depends_on: BTreeMap<String, Dependency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(default)]
    pub restart: RestartPolicy,
    /// `deploy.restart_policy`'s `delay` and `window`.
    #[serde(default, skip_serializing_if = "RestartTiming::is_default")]
    pub restart_timing: RestartTiming,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub volumes: Vec<Mount>,
    /// Secrets and configs, in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileMount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_start: Vec<Hook>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_stop: Vec<Hook>,
    #[serde(default)]
    pub tmpfs: Vec<String>,
    #[serde(default)]
    pub read_only: bool,
    /// Signal name, e.g. `SIGTERM`.
    pub stop_signal: String,
    pub stop_grace_period: Millis,
    /// `true` (default): stack's init is pid 1. `false`: the command is.
    pub init: bool,
    #[serde(default)]
    pub cap_add: Vec<String>,
    #[serde(default)]
    pub cap_drop: Vec<String>,
    /// `privileged`, `security_opt`, `devices`, `device_cgroup_rules`,
    /// `shm_size`: how far the container is confined.
    #[serde(default)]
    pub security: Security,
    /// `group_add`, `sysctls`, `oom_score_adj`.
    #[serde(default, skip_serializing_if = "Process::is_empty")]
    pub process: Process,
    /// By resource name without `RLIMIT_`, lower case (`nofile`, `nproc`).
    #[serde(default)]
    pub ulimits: BTreeMap<String, Ulimit>,
    pub network_mode: NetworkMode,
    /// With `network_mode` `bridge` (the default): the networks joined, by
    /// key in [`Stack::networks`] (`default` when the file names none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, ServiceNetwork>,
    /// Published ports; ranges are expanded to one entry per port.
    #[serde(default)]
    pub ports: Vec<Port>,
    /// `expose`: ports the service serves to other containers,
    /// normalised to `PORT/PROTO` (documentation; nothing is published).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose: Vec<String>,
    /// `container_name`: a fixed name, which also resolves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// `links`: `SERVICE[:ALIAS]`, as (service, alias): the alias resolves
    /// to the service on the networks the two share.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_hosts: Vec<ExtraHost>,
    /// `dns`: resolvers for names outside the project, instead of the host's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<std::net::IpAddr>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_opt: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domainname: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub profiles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub develop: Option<Develop>,
    /// `x-stack` extension block.
    #[serde(default)]
    pub x_stack: XStack,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rootfs {
    /// A directory, absolute after loading.
    Dir(PathBuf),
    /// A `.tar`, `.tar.gz` or `.tgz`, absolute after loading.
    Tar(PathBuf),
    /// Host binaries copied with their shared libraries.
    Host(Vec<PathBuf>),
    Debootstrap(Debootstrap),
    /// Compose's `image:`: an OCI image from a registry or local files.
    Image(Image),
}

/// `image:` (with `platform:`), and what the engine learnt of it once the
/// image was present on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Image {
    /// As written, except that a local source's path is absolute:
    /// `postgres:16`, `oci:/srv/images/app:1.0`.
    pub reference: String,
    /// `platform:` (`linux/arm64`, `linux/arm/v7`); `None`: this machine's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The image id (its config's digest), once the image is present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The layer blobs' digests, bottom first, once the image is present.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<String>,
    /// The keys the file gave itself, so the image's value is not used
    /// even when the file's is the default (`stop_signal: SIGTERM`) or
    /// none (`healthcheck: { disable: true }`).
    #[serde(default, skip_serializing_if = "ImageKeep::is_empty")]
    pub keep: ImageKeep,
}

/// See [`Image::keep`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageKeep {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stop_signal: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub healthcheck: bool,
}

impl ImageKeep {
    pub fn is_empty(&self) -> bool {
        !self.stop_signal && !self.healthcheck
    }
}

/// Compose's `pull_policy`: when `up` pulls a registry image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PullPolicy {
    /// Pull when the image is not on this machine (`missing`, `if_not_present`).
    #[default]
    Missing,
    /// Pull on every `up`.
    Always,
    /// Never pull: a missing image is an error.
    Never,
    /// Pull when the image on this machine was pulled longer ago than this
    /// (`daily`, `weekly`, `every_12h`).
    Every(Millis),
}

impl PullPolicy {
    pub fn is_default(&self) -> bool {
        *self == PullPolicy::Missing
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Debootstrap {
    pub suite: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    ServiceStarted,
    ServiceHealthy,
    ServiceCompletedSuccessfully,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dependency {
    pub condition: Condition,
    /// Restart this service when the dependency is recreated.
    pub restart: bool,
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Healthcheck {
    /// Argument vector to run inside the container. `CMD-SHELL x` becomes
    /// `["/bin/sh", "-c", "x"]`. `NONE`/`disable` removes the healthcheck
    /// (the service then has `healthcheck: None`).
    pub test: Vec<String>,
    pub interval: Millis,
    pub timeout: Millis,
    pub retries: u32,
    pub start_period: Millis,
    pub start_interval: Millis,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "policy")]
pub enum RestartPolicy {
    #[default]
    No,
    Always,
    OnFailure {
        /// `None`: unlimited.
        max_retries: Option<u32>,
    },
    UnlessStopped,
}

/// Resource limits, folded from every Compose spelling.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<Cpus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_shares: Option<u64>,
    /// `deploy.resources.reservations.cpus` (never with `cpu_shares`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus_reserved: Option<Cpus>,
    /// cpuset string, e.g. `0-1,3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpuset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Bytes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_reservation: Option<Bytes>,
    /// Memory + swap; `-1` in the file (unlimited) is `Some(-1)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memswap: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids: Option<i64>,
    /// `cpu_period` and `cpu_quota` in microseconds (never with `cpus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_period: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_quota: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_swappiness: Option<u8>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub oom_kill_disable: bool,
    #[serde(default, skip_serializing_if = "Blkio::is_empty")]
    pub blkio: Blkio,
}

/// `blkio_config`: block I/O weight and per-device limits. Devices are host
/// paths, resolved to major:minor when the container is created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blkio {
    /// 10 to 1000 (Docker's blkio weight; mapped to 1–10000 for v2's `io.weight`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weight_device: Vec<DeviceWeight>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_read_bps: Vec<DeviceRate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_write_bps: Vec<DeviceRate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_read_iops: Vec<DeviceRate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_write_iops: Vec<DeviceRate>,
}

impl Blkio {
    pub fn is_empty(&self) -> bool {
        *self == Blkio::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceWeight {
    pub path: PathBuf,
    pub weight: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRate {
    pub path: PathBuf,
    /// Bytes or operations per second.
    pub rate: u64,
}

/// How far a container is confined, beyond its capabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Security {
    /// Docker's `--privileged`: every capability, no seccomp, every host
    /// device, no masked or read-only kernel paths, writable `/sys`.
    #[serde(default)]
    pub privileged: bool,
    /// `security_opt: [seccomp=…]`.
    #[serde(default)]
    pub seccomp: Seccomp,
    /// `security_opt: [no-new-privileges:…]`. stack's default is `true`
    /// (Docker's is `false`): no exec may gain privileges.
    pub no_new_privileges: bool,
    /// Host devices passed through (`devices:`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<DeviceMapping>,
    /// Extra device cgroup rules (`c 1:3 rwm`), normalized.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_cgroup_rules: Vec<String>,
    /// Size of `/dev/shm` [default: 64M, as Docker].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<Bytes>,
}

impl Default for Security {
    fn default() -> Self {
        Security {
            privileged: false,
            seccomp: Seccomp::Default,
            no_new_privileges: true,
            devices: vec![],
            device_cgroup_rules: vec![],
            shm_size: None,
        }
    }
}

/// The seccomp filter of a container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seccomp {
    /// Docker's default profile (`crate::seccomp::default_profile`).
    #[default]
    Default,
    /// No filter (`seccomp=unconfined`).
    Unconfined,
    /// A profile file in Docker's JSON format (`seccomp=PATH`), read and
    /// checked at load; its content is part of the service's config.
    Profile {
        path: PathBuf,
        profile: crate::seccomp::Profile,
    },
}

/// One `devices:` entry: `HOST[:CONTAINER[:PERMISSIONS]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceMapping {
    pub host: PathBuf,
    pub container: String,
    /// A subset of `rwm`.
    pub permissions: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    pub soft: u64,
    pub hard: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkMode {
    /// Compose's default: the service's `networks` (the project's
    /// `default` network when it names none), each a bridge.
    #[default]
    Bridge,
    /// Loopback only.
    None,
    Host,
    /// `service:NAME`: the network namespace of that service's container
    /// (started after it, restarted when it is recreated).
    Service(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    pub target: u16,
    pub protocol: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Develop {
    #[serde(default)]
    pub watch: Vec<WatchRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchRule {
    /// Absolute host path after loading.
    pub path: PathBuf,
    pub action: WatchAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WatchAction {
    Restart,
    Sync,
    #[serde(rename = "sync+restart")]
    SyncRestart,
    Rebuild,
}

/// stack's own per-service settings (`x-stack:`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct XStack {
    /// Restart a container that stays unhealthy when its restart policy is
    /// not `no` (Compose never does, moby#28400). Default `true`.
    pub restart_unhealthy: bool,
}

impl Default for XStack {
    fn default() -> Self {
        XStack {
            restart_unhealthy: true,
        }
    }
}

impl Service {
    /// A service with Compose's defaults for everything but its name and
    /// root filesystem (the rootfs's `/bin/sh`, SIGTERM, 10 s grace, stack's
    /// init, no network, no limits). For code that builds stacks in memory.
    pub fn new(name: &str, rootfs: Rootfs) -> Service {
        Service {
            name: name.into(),
            rootfs,
            pull_policy: PullPolicy::Missing,
            entrypoint: None,
            command: None,
            environment: BTreeMap::new(),
            working_dir: None,
            user: None,
            hostname: None,
            depends_on: BTreeMap::new(),
            healthcheck: None,
            restart: RestartPolicy::No,
            restart_timing: RestartTiming::default(),
            limits: Limits::default(),
            volumes: vec![],
            files: vec![],
            post_start: vec![],
            pre_stop: vec![],
            tmpfs: vec![],
            read_only: false,
            stop_signal: "SIGTERM".into(),
            stop_grace_period: Millis(10_000),
            init: true,
            cap_add: vec![],
            cap_drop: vec![],
            security: Security::default(),
            process: Process::default(),
            ulimits: BTreeMap::new(),
            network_mode: NetworkMode::None,
            networks: BTreeMap::new(),
            ports: vec![],
            expose: vec![],
            container_name: None,
            links: vec![],
            extra_hosts: vec![],
            dns: vec![],
            dns_search: vec![],
            dns_opt: vec![],
            domainname: None,
            labels: BTreeMap::new(),
            profiles: vec![],
            develop: None,
            x_stack: XStack::default(),
            replicas: 1,
        }
    }

    /// The argument vector to run: entrypoint followed by command.
    pub fn argv(&self) -> Vec<String> {
        let mut v = self.entrypoint.clone().unwrap_or_default();
        v.extend(self.command.clone().unwrap_or_default());
        if v.is_empty() {
            v.push("/bin/sh".into());
        }
        v
    }

    pub fn effective_hostname(&self) -> &str {
        self.hostname.as_deref().unwrap_or(&self.name)
    }
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

/// The name of the volume Compose calls anonymous (`- /data`, an image's
/// `Volumes`): the service's and the path's, so that a recreated container
/// gets the same one back; `down -v` removes it with the named ones. The
/// leading `_` keeps it apart from any name a file can declare.
pub fn anonymous_volume(service: &str, target: &str) -> String {
    use sha2::{Digest, Sha256};
    let target = target.trim_end_matches('/');
    let hash = hex::encode(Sha256::digest(target.as_bytes()));
    format!("_anon-{service}-{}", &hash[..16])
}

mod hooks;
mod mounts;
mod process;
mod restart;
mod secrets;
pub use hooks::*;
pub use mounts::*;
pub use process::*;
pub use restart::*;
pub use secrets::*;
