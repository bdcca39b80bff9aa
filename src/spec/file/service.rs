//! A service's map (`services.NAME`), its `env_file` and stack's own `x-stack` settings.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// One service.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    /// The root filesystem: a directory, a `.tar`/`.tar.gz`/`.tgz` file (relative
    /// paths are relative to the stack file), or a map with `host` or
    /// `debootstrap`. It must exist when the file is loaded. Each service
    /// has `rootfs` or `image`, not both.
    /// Example: `rootfs: { host: [/bin/sh, /bin/sleep] }`
    #[serde(default)]
    pub rootfs: Option<RootfsFile>,
    /// An OCI image: a registry reference as Docker writes it (`postgres:16`,
    /// `ghcr.io/org/app:1.2`, `name@sha256:…`, `docker://name`), or a local
    /// source as skopeo writes it: `oci:DIR[:TAG]` (an OCI image layout),
    /// `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:NAME]` (`docker save`).
    /// Its config gives what the file leaves out (entrypoint, command,
    /// environment, working_dir, user, stop_signal, healthcheck).
    /// Example: `image: alpine:3.20`
    #[serde(default)]
    pub image: Option<String>,
    /// The platform of the image to run, from a multi-platform image.
    /// Default: this machine's. Example: `platform: linux/arm64`
    #[serde(default)]
    pub platform: Option<String>,
    /// When `up` pulls a registry image: `missing` (default; also
    /// `if_not_present`), `always`, `never`, `daily`, `weekly` or
    /// `every_<duration>`. Example: `pull_policy: every_12h`
    #[serde(default)]
    pub pull_policy: Option<String>,
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
    /// Deployment settings: `replicas`, `resources` and `restart_policy`.
    /// Compose: `mode`, `placement`, `update_config`, … are not supported yet.
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
    /// Mount another service's volumes and bind mounts at the same
    /// targets (`SERVICE`, `SERVICE:ro`, `SERVICE:rw`), and start after it.
    /// Example: `volumes_from: [data:ro]`
    #[serde(default)]
    pub volumes_from: Option<Vec<String>>,
    /// CFS period in microseconds (1000 to 1000000), with `cpu_quota`;
    /// not together with `cpus`.
    /// Example: `cpu_period: 50000`
    #[serde(default)]
    pub cpu_period: Option<Scalar>,
    /// CFS quota in microseconds per period (at least 1000; `-1` for none);
    /// not together with `cpus`.
    /// Example: `cpu_quota: 25000`
    #[serde(default)]
    pub cpu_quota: Option<Scalar>,
    /// The kernel's tendency to swap the service's memory out (0 to 100);
    /// cgroup v1 only (v2 has no per-cgroup swappiness: an error there).
    /// Example: `mem_swappiness: 0`
    #[serde(default)]
    pub mem_swappiness: Option<Scalar>,
    /// Keep the OOM killer from killing the service's processes when it
    /// reaches its memory limit (they wait instead); cgroup v1 only.
    /// Example: `oom_kill_disable: true`
    #[serde(default)]
    pub oom_kill_disable: Option<bool>,
    /// How many containers run the service (the same as
    /// `deploy.replicas`), named `<service>-1` … `<service>-N`; `stack up
    /// --scale` and `stack scale` override it [default: 1].
    /// Example: `scale: 3`
    #[serde(default)]
    pub scale: Option<Scalar>,
    /// The OOM killer's preference for the service's processes (-1000 to
    /// 1000; lowering it below stack's own needs CAP_SYS_RESOURCE).
    /// Example: `oom_score_adj: 500`
    #[serde(default)]
    pub oom_score_adj: Option<Scalar>,
    /// More groups for the service's user, by name (from the container's
    /// `/etc/group`) or number.
    /// Example: `group_add: [audio, "1001"]`
    #[serde(default)]
    pub group_add: Option<Vec<Scalar>>,
    /// The IPC namespace (System V IPC, POSIX message queues) and
    /// `/dev/shm`: `shareable` (the default: its own, which others may
    /// join), `private` (its own, joined by none), `host`, or
    /// `service:NAME` (that service's, with its `/dev/shm`; started after
    /// it and restarted with it).
    /// Example: `ipc: service:app`
    #[serde(default)]
    pub ipc: Option<String>,
    /// The PID namespace: the container's own (the default; stack's init
    /// is pid 1), `host` (it sees, and as root may signal, every process
    /// on the machine), or `service:NAME` (that service's; started after
    /// it and restarted with it). Sharing one, stack's init kills only the
    /// container's own processes (its cgroup) when the command ends.
    /// Example: `pid: service:app`
    #[serde(default)]
    pub pid: Option<String>,
    /// Kernel parameters set in the container's own namespaces: `net.*`
    /// (not with `network_mode: host` or `service:`), `kernel.shm*`,
    /// `kernel.msg*`, `kernel.sem`, `fs.mqueue.*` (not with `ipc: host` or
    /// `service:`); others are refused.
    /// Example: `sysctls: { net.core.somaxconn: 1024 }`
    #[serde(default)]
    pub sysctls: Option<MapOrList>,
    /// Mounts: `SOURCE:TARGET[:ro|rw]` (a source starting with `.`, `/` or `~`
    /// is a host path, otherwise a named volume) or the long form.
    /// A target alone (`- /data`) is an anonymous volume: kept when the
    /// container is recreated, removed by `down -v`.
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
    /// `bridge` (default: the service's `networks`, else the project's
    /// `default` network), `none` (only loopback), `host`, or
    /// `service:NAME` (NAME's network namespace: started after NAME,
    /// restarted when NAME is recreated).
    /// Compose: `container:NAME` is not supported yet.
    /// Example: `network_mode: "service:web"`
    #[serde(default)]
    pub network_mode: Option<String>,
    /// The networks to join, by their key under the top-level `networks`:
    /// a list, or a map with `aliases`, `ipv4_address`, `mac_address` and
    /// `priority`. Default: `[default]`.
    /// Example: `networks: { front: { aliases: [www] }, back: {} }`
    #[serde(default)]
    pub networks: Option<ServiceNetworksFile>,
    /// Published ports: `[[IP:]HOST:]CONTAINER[/PROTOCOL]` (HOST and
    /// CONTAINER may be ranges of the same size; a HOST range with one
    /// CONTAINER port takes a free port of the range) or the long form.
    /// Compose: IPv6 host addresses are not supported yet.
    /// Example: `ports: ["8080:80", "127.0.0.1:5353:53/udp"]`
    #[serde(default)]
    pub ports: Option<Vec<PortFile>>,
    /// Ports the service serves to other containers (documentation:
    /// nothing is published): `PORT[/PROTOCOL]` or a range.
    /// Example: `expose: ["3000", "8000-8002/udp"]`
    #[serde(default)]
    pub expose: Option<Vec<Scalar>>,
    /// A fixed container name (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`, unique in the
    /// file), which also resolves on the service's networks.
    /// Example: `container_name: my-web`
    #[serde(default)]
    pub container_name: Option<String>,
    /// Other services by name, `SERVICE` or `SERVICE:ALIAS`: the alias
    /// resolves to it, and it starts first.
    /// Example: `links: ["db:database"]`
    #[serde(default)]
    pub links: Option<Vec<String>>,
    /// Lines added to `/etc/hosts`: `HOST:IP`, `HOST=IP` or a map; IP may be
    /// `host-gateway` (the network's gateway, i.e. the host).
    /// Example: `extra_hosts: ["host.docker.internal:host-gateway"]`
    #[serde(default)]
    pub extra_hosts: Option<ExtraHostsFile>,
    /// Resolvers for names outside the project, instead of the host's.
    /// Example: `dns: [1.1.1.1]`
    #[serde(default)]
    pub dns: Option<StringOrList>,
    /// Search domains of `/etc/resolv.conf`.
    /// Example: `dns_search: example.com`
    #[serde(default)]
    pub dns_search: Option<StringOrList>,
    /// Options of `/etc/resolv.conf`.
    /// Example: `dns_opt: ["ndots:2", use-vc]`
    #[serde(default)]
    pub dns_opt: Option<Vec<String>>,
    /// The container's NIS domain name. Example: `domainname: example.com`
    #[serde(default)]
    pub domainname: Option<String>,
    /// The MAC address of the interface on the service's first network
    /// (the one of highest priority); per network, use
    /// `networks.NAME.mac_address`. Example: `mac_address: 02:42:ac:11:00:02`
    #[serde(default)]
    pub mac_address: Option<String>,
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
    /// Top-level secrets this service mounts read-only (at
    /// `/run/secrets/<name>` unless `target` says otherwise).
    /// Example: `secrets: [db_password, { source: api_key, target: key, mode: 0400 }]`
    #[serde(default)]
    pub secrets: Option<Vec<FileRefFile>>,
    /// Top-level configs this service mounts read-only (at `/<name>` unless
    /// `target` says otherwise).
    /// Example: `configs: [{ source: nginx, target: /etc/nginx/nginx.conf }]`
    #[serde(default)]
    pub configs: Option<Vec<FileRefFile>>,
    /// Commands run inside the container once it started; one that fails
    /// (non-zero, or not done within 60 s) fails the start: the container is
    /// stopped and its restart policy applies.
    /// Example: `post_start: [{ command: [sh, -c, "echo up"], user: root }]`
    #[serde(default)]
    pub post_start: Option<Vec<HookFile>>,
    /// Commands run inside the container before its stop signal, within its
    /// stop_grace_period. Example: `pre_stop: [{ command: ./flush.sh }]`
    #[serde(default)]
    pub pre_stop: Option<Vec<HookFile>>,
    /// Start from another service's keys, then apply this one's with the
    /// rules of merging files; its `depends_on`, `links` and `volumes_from`
    /// are not inherited.
    /// Example: `extends: { file: common.yaml, service: webapp }`
    #[serde(default)]
    pub extends: Option<ExtendsFile>,
    /// stack's own per-service settings.
    /// Example: `x-stack: { restart_unhealthy: false }`
    #[serde(default, rename = "x-stack")]
    pub x_stack: Option<XStackFile>,
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
