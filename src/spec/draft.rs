//! A service while `Cx::service` reads its keys: the model's fields with
//! Compose's defaults, and what is checked or folded once every key is
//! read (env files, limits given two ways, the network keys that
//! `network_mode` forbids).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::limits::LimitKeys;
use super::model::*;
use super::units::Millis;
use super::yaml::Pos;

/// One service's keys as read so far.
pub(super) struct Draft {
    pub rootfs: Option<Rootfs>,
    /// `rootfs` was given (even if wrong): else "has no `rootfs`".
    pub saw_rootfs: bool,
    /// Where `rootfs` and `image` were, so giving both is one error.
    pub rootfs_at: Option<(Pos, String)>,
    pub image_at: Option<(Pos, String)>,
    pub platform: Option<(String, Pos, String)>,
    pub pull_policy: PullPolicy,
    /// `stop_signal` was given.
    pub saw_stop_signal: bool,
    /// `healthcheck` was given (even as `disable: true`).
    pub healthcheck_given: bool,
    pub entrypoint: Option<Vec<String>>,
    pub command: Option<Vec<String>>,
    pub env_files: Vec<(PathBuf, bool, Pos, String)>,
    pub environment: Vec<(String, Option<String>, Pos)>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    pub depends_on: BTreeMap<String, Dependency>,
    pub depends_pos: BTreeMap<String, Pos>,
    pub healthcheck: Option<Healthcheck>,
    pub restart: RestartPolicy,
    /// Where `restart` was, for the check against `deploy.restart_policy`.
    pub restart_at: Option<(Pos, String)>,
    /// `volumes_from`, resolved once every service is read.
    pub volumes_from: Vec<super::volumes_from::From>,
    /// `deploy.restart_policy`, with where it was.
    pub deploy_restart: Option<(RestartPolicy, RestartTiming, Pos, String)>,
    /// `scale` and `deploy.replicas`, each with where it was.
    pub replicas_at: Vec<(u32, Pos, String)>,
    pub limits: LimitKeys,
    pub volumes: Vec<Mount>,
    pub files: Vec<FileMount>,
    pub post_start: Vec<Hook>,
    pub pre_stop: Vec<Hook>,
    pub tmpfs: Vec<String>,
    pub read_only: bool,
    pub stop_signal: String,
    pub stop_grace_period: Millis,
    pub init: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub security: Security,
    pub process: Process,
    /// Where each sysctl was (`kernel::SysctlsAt`).
    pub sysctls_at: super::kernel::SysctlsAt,
    /// Where `ipc` and `pid` were, by key.
    pub ns_at: super::kernel::SysctlsAt,
    pub ulimits: BTreeMap<String, Ulimit>,
    pub network_mode: NetworkMode,
    /// `networks`, `container_name`, `links`, `expose`, `extra_hosts`,
    /// `dns*`, `domainname`.
    pub net: NetKeys,
    pub ports: Vec<Port>,
    pub labels: BTreeMap<String, String>,
    pub profiles: Vec<String>,
    pub develop: Option<Develop>,
    pub x_stack: XStack,
}

impl Default for Draft {
    /// Compose's defaults for the keys a service leaves out.
    fn default() -> Draft {
        Draft {
            rootfs: None,
            saw_rootfs: false,
            rootfs_at: None,
            image_at: None,
            platform: None,
            pull_policy: PullPolicy::Missing,
            saw_stop_signal: false,
            healthcheck_given: false,
            entrypoint: None,
            command: None,
            env_files: Vec::new(),
            environment: Vec::new(),
            working_dir: None,
            user: None,
            hostname: None,
            depends_on: BTreeMap::new(),
            depends_pos: BTreeMap::new(),
            healthcheck: None,
            restart: RestartPolicy::No,
            restart_at: None,
            volumes_from: Vec::new(),
            deploy_restart: None,
            replicas_at: Vec::new(),
            limits: LimitKeys::default(),
            volumes: Vec::new(),
            files: Vec::new(),
            post_start: Vec::new(),
            pre_stop: Vec::new(),
            tmpfs: Vec::new(),
            read_only: false,
            stop_signal: "SIGTERM".to_string(),
            stop_grace_period: Millis(10_000),
            init: true,
            cap_add: Vec::new(),
            cap_drop: Vec::new(),
            security: Security::default(),
            process: Process::default(),
            sysctls_at: BTreeMap::new(),
            ns_at: BTreeMap::new(),
            ulimits: BTreeMap::new(),
            network_mode: NetworkMode::Bridge,
            net: NetKeys::default(),
            ports: Vec::new(),
            labels: BTreeMap::new(),
            profiles: Vec::new(),
            develop: None,
            x_stack: XStack::default(),
        }
    }
}

/// A service's network keys as read so far, with where they were (for
/// the checks made once every key is read, and across the file).
#[derive(Default)]
pub(super) struct NetKeys {
    pub networks: BTreeMap<String, ServiceNetwork>,
    pub expose: Vec<String>,
    pub container_name: Option<String>,
    pub links: Vec<(String, String)>,
    pub extra_hosts: Vec<ExtraHost>,
    pub dns: Vec<std::net::IpAddr>,
    pub dns_search: Vec<String>,
    pub dns_opt: Vec<String>,
    pub domainname: Option<String>,
    /// The service-level `mac_address` (for its first network).
    pub mac_address: Option<String>,
    /// Where each key that `network_mode` may forbid was: its value's
    /// position and key path, by key name.
    pub at: BTreeMap<String, (Pos, String)>,
    /// Where `network_mode` was.
    pub mode_at: Option<(Pos, String)>,
    /// What must be unique across the file, with where it was.
    pub unique: NetAt,
}

/// Where a service's addresses, names, published ports and links were,
/// for the checks across the file (the second of two is the error).
#[derive(Debug, Clone, Default)]
pub(crate) struct NetAt {
    /// `(network key, address, position, path)` of each `ipv4_address`.
    pub ipv4: Vec<(String, std::net::Ipv4Addr, Pos, String)>,
    /// `(network key, address, position, path)` of each `mac_address`.
    pub mac: Vec<(String, String, Pos, String)>,
    /// Where `container_name` was.
    pub container_name: Option<(Pos, String)>,
    /// Where each of the model's `ports` came from (one entry per port).
    pub ports: Vec<(Pos, String)>,
    /// Where each of the model's `links` was.
    pub links: Vec<(Pos, String)>,
}

impl Draft {
    /// The model, given what was folded from several keys.
    pub fn into_service(
        self,
        name: &str,
        rootfs: Rootfs,
        environment: BTreeMap<String, String>,
        limits: Limits,
    ) -> Service {
        Service {
            name: name.to_string(),
            rootfs,
            pull_policy: self.pull_policy,
            entrypoint: self.entrypoint,
            command: self.command,
            environment,
            working_dir: self.working_dir,
            user: self.user,
            hostname: self.hostname,
            depends_on: self.depends_on,
            healthcheck: self.healthcheck,
            restart: self.restart,
            restart_timing: self.deploy_restart.map(|r| r.1).unwrap_or_default(),
            limits,
            volumes: self.volumes,
            files: self.files,
            post_start: self.post_start,
            pre_stop: self.pre_stop,
            tmpfs: self.tmpfs,
            read_only: self.read_only,
            stop_signal: self.stop_signal,
            stop_grace_period: self.stop_grace_period,
            init: self.init,
            cap_add: self.cap_add,
            cap_drop: self.cap_drop,
            security: self.security,
            process: self.process,
            ulimits: self.ulimits,
            network_mode: self.network_mode,
            networks: self.net.networks,
            ports: self.ports,
            expose: self.net.expose,
            container_name: self.net.container_name,
            links: self.net.links,
            extra_hosts: self.net.extra_hosts,
            dns: self.net.dns,
            dns_search: self.net.dns_search,
            dns_opt: self.net.dns_opt,
            domainname: self.net.domainname,
            labels: self.labels,
            profiles: self.profiles,
            develop: self.develop,
            x_stack: self.x_stack,
            replicas: self.replicas_at.first().map_or(1, |r| r.0),
        }
    }
}
