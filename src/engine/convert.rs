//! Turning a `spec::Service` into the runtime's plain `ContainerConfig`.

use std::path::Path;

use crate::runtime::cgroup::Layout;
use crate::runtime::devices::{self, DeviceAccess};
use crate::runtime::rootfs;
use crate::runtime::seccomp::{SeccompError, SeccompProgram};
use crate::runtime::{
    CgroupLimits, ContainerConfig, DevNum, IoLimits, MountSpec, Network, Security, Share,
};
use crate::spec::{
    Backing, Blkio, DeviceRate, IpcMode, Mount, NetworkMode, PidMode, Rootfs, Seccomp, Service,
};
use crate::state::volumes::{VolumeError, VolumeStore};
use crate::state::{cgroup_path, container_id, Store};

fn norm_cap(c: &str) -> String {
    let u = c.trim().to_ascii_uppercase();
    if u == "ALL" || u.starts_with("CAP_") {
        u
    } else {
        format!("CAP_{u}")
    }
}

/// Docker's default set, minus `cap_drop`, plus `cap_add` (`ALL` in either).
/// As in Docker, an explicit add wins over a drop of `ALL`.
pub fn capabilities(cap_add: &[String], cap_drop: &[String]) -> Vec<String> {
    capabilities_from(crate::caps::DOCKER_DEFAULT, cap_add, cap_drop)
}

/// A service's capabilities: every one when privileged (minus its
/// `cap_drop`, as Docker since 20.10), else `capabilities`.
pub fn service_capabilities(svc: &Service) -> Vec<String> {
    let base = if svc.security.privileged {
        crate::caps::ALL
    } else {
        crate::caps::DOCKER_DEFAULT
    };
    capabilities_from(base, &svc.cap_add, &svc.cap_drop)
}

fn capabilities_from(base: &[&str], cap_add: &[String], cap_drop: &[String]) -> Vec<String> {
    let add: Vec<String> = cap_add.iter().map(|c| norm_cap(c)).collect();
    let drop: Vec<String> = cap_drop.iter().map(|c| norm_cap(c)).collect();
    let mut caps: Vec<String> = if drop.iter().any(|c| c == "ALL") {
        Vec::new()
    } else {
        base.iter()
            .map(|c| c.to_string())
            .filter(|c| !drop.contains(c))
            .collect()
    };
    if add.iter().any(|c| c == "ALL") {
        caps = crate::caps::ALL.iter().map(|c| c.to_string()).collect();
    } else {
        for c in add {
            if !caps.contains(&c) {
                caps.push(c);
            }
        }
    }
    caps
}

/// The default `PATH` inside a container, as Docker sets it.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The runtime's rootfs source for a service's `rootfs`; `None` for an
/// image, whose layers are the image room's (`engine::image::layer_dirs`).
pub fn rootfs_source(r: &Rootfs) -> Option<rootfs::Source> {
    Some(match r {
        Rootfs::Image(_) => return None,
        Rootfs::Dir(p) => rootfs::Source::Dir(p.clone()),
        Rootfs::Tar(p) => rootfs::Source::Tar(p.clone()),
        Rootfs::Host(bins) => rootfs::Source::Host(bins.clone()),
        Rootfs::Debootstrap(d) => rootfs::Source::Debootstrap(rootfs::Debootstrap {
            suite: d.suite.clone(),
            variant: d.variant.clone(),
            mirror: d.mirror.clone(),
        }),
    })
}

/// Cgroup limits from a service's `limits`; `blkio_config` devices are
/// looked up on the host (each must be a block device).
pub fn limits(svc: &Service) -> Result<CgroupLimits, ConvertError> {
    let l = &svc.limits;
    Ok(CgroupLimits {
        // cpus × 100000 µs per 100000 µs period; Cpus is thousandths.
        // (`cpu_period`/`cpu_quota` are never given with `cpus`.)
        cpu_quota_us: l.cpus.map(|c| (c.0 as i64) * 100).or(l.cpu_quota),
        cpu_period_us: l.cpus.map(|_| 100_000).or(l.cpu_period),
        // A CPU reservation is a weight, as Kubernetes maps a CPU request:
        // 1024 shares per core (at least the kernel's minimum of 2).
        cpu_shares: l
            .cpu_shares
            .or(l.cpus_reserved.map(|c| (c.0 * 1024 / 1000).max(2))),
        cpuset: l.cpuset.clone(),
        memory: l.memory.map(|b| b.0 as i64),
        memory_reservation: l.memory_reservation.map(|b| b.0 as i64),
        memswap: l.memswap,
        pids: l.pids,
        swappiness: l.mem_swappiness,
        oom_kill_disable: l.oom_kill_disable,
        devices: device_access(svc)?,
        io: io_limits(&l.blkio)?,
    })
}

fn io_limits(b: &Blkio) -> Result<IoLimits, ConvertError> {
    let rates = |list: &[DeviceRate]| -> Result<Vec<(DevNum, u64)>, ConvertError> {
        list.iter()
            .map(|d| Ok((block_device(&d.path)?, d.rate)))
            .collect()
    };
    Ok(IoLimits {
        weight: b.weight,
        weight_device: b
            .weight_device
            .iter()
            .map(|d| Ok((block_device(&d.path)?, d.weight)))
            .collect::<Result<_, ConvertError>>()?,
        read_bps: rates(&b.device_read_bps)?,
        write_bps: rates(&b.device_write_bps)?,
        read_iops: rates(&b.device_read_iops)?,
        write_iops: rates(&b.device_write_iops)?,
    })
}

/// The number of the host's block device at `path`.
fn block_device(path: &Path) -> Result<DevNum, ConvertError> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let bad = |why: String| ConvertError::Blkio {
        path: path.to_path_buf(),
        why,
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    if !meta.file_type().is_block_device() {
        return Err(bad("not a block device".into()));
    }
    let rdev = meta.rdev();
    Ok(DevNum {
        major: libc::major(rdev),
        minor: libc::minor(rdev),
    })
}

/// What devices a service may use, before `devices:` passthrough is added:
/// everything when privileged, else runc's defaults and its
/// `device_cgroup_rules` (checked by the loader).
fn device_access(svc: &Service) -> Result<DeviceAccess, ConvertError> {
    if svc.security.privileged {
        return Ok(DeviceAccess::All);
    }
    let mut rules = devices::default_rules();
    for r in &svc.security.device_cgroup_rules {
        // Checked by the loader already; a rule the runtime still refuses
        // is an error, never dropped.
        rules.push(devices::DeviceRule::parse(r).map_err(devices::DeviceError::from)?);
    }
    Ok(DeviceAccess::Rules(rules))
}

/// Why a service's container config cannot be built; each a sentence.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("cannot create its volumes: {0}")]
    Volume(#[source] std::io::Error),
    #[error(transparent)]
    MachineVolume(#[from] VolumeError),
    #[error("external volume `{0}` does not exist; create it with `stack volume create {0}`")]
    ExternalMissing(String),
    #[error("volume `{volume}`: bind device {} is not a directory; create it, or change the volume's `driver_opts.device`", device.display())]
    BindDeviceGone {
        volume: String,
        device: std::path::PathBuf,
    },
    #[error("devices: {0}")]
    Device(#[from] devices::DeviceError),
    #[error("seccomp: {0}")]
    Seccomp(#[from] SeccompError),
    #[error("blkio_config: {path}: {why} (give the host's block device, e.g. /dev/sda; `lsblk` lists them)")]
    Blkio {
        path: std::path::PathBuf,
        why: String,
    },
}

/// The seccomp filter of a service's containers, and of everything `exec`
/// and probes run in them: none when privileged or `seccomp=unconfined`.
/// Compiled once per profile and capability set (`compile_cached`).
pub fn seccomp(svc: &Service) -> Result<Option<SeccompProgram>, SeccompError> {
    let profile = match &svc.security.seccomp {
        _ if svc.security.privileged => return Ok(None),
        Seccomp::Unconfined => return Ok(None),
        Seccomp::Default => crate::seccomp::default_profile(),
        Seccomp::Profile { profile, .. } => profile,
    };
    let prog = crate::runtime::seccomp::compile_cached(profile, &service_capabilities(svc))?;
    Ok(Some((*prog).clone()))
}

/// The environment: the service's, plus `PATH` and `HOSTNAME` when absent.
pub fn environment(svc: &Service) -> Vec<String> {
    let mut env: Vec<String> = svc
        .environment
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !svc.environment.contains_key("PATH") {
        env.insert(0, format!("PATH={DEFAULT_PATH}"));
    }
    if !svc.environment.contains_key("HOSTNAME") {
        env.push(format!("HOSTNAME={}", svc.effective_hostname()));
    }
    env
}

/// A named volume's mount: its directory made where its backing says
/// (an external one must exist), or its bind or tmpfs.
fn volume_mount(
    store: &Store,
    source: &str,
    target: &str,
    read_only: bool,
    backing: &Backing,
) -> Result<MountSpec, ConvertError> {
    let dir = match backing {
        Backing::Project => store.volume_dir(source),
        Backing::Machine { name, external } => {
            let dir = VolumeStore::new().path(name)?;
            if *external && !dir.is_dir() {
                return Err(ConvertError::ExternalMissing(name.clone()));
            }
            dir
        }
        Backing::Bind { device } => {
            if !device.is_dir() {
                return Err(ConvertError::BindDeviceGone {
                    volume: source.to_string(),
                    device: device.clone(),
                });
            }
            device.clone()
        }
        Backing::Tmpfs { size, mode } => {
            return Ok(MountSpec::Tmpfs {
                target: target.to_string(),
                size: size.map(|b| b.0),
                mode: *mode,
            })
        }
    };
    std::fs::create_dir_all(&dir).map_err(ConvertError::Volume)?;
    Ok(MountSpec::Bind {
        source: dir,
        target: target.to_string(),
        read_only,
    })
}

/// Build the container config. `rootfs` is the prepared lower layer.
/// Named volume directories are created here.
pub fn container_config(
    store: &Store,
    svc: &Service,
    rootfs: &Path,
) -> Result<ContainerConfig, ConvertError> {
    let mut mounts = Vec::new();
    for m in &svc.volumes {
        mounts.push(match m {
            Mount::Bind {
                source,
                target,
                read_only,
            } => MountSpec::Bind {
                source: source.clone(),
                target: target.clone(),
                read_only: *read_only,
            },
            Mount::Volume {
                source,
                target,
                read_only,
                backing,
            } => volume_mount(store, source, target, *read_only, backing)?,
            Mount::Tmpfs { target, size, mode } => MountSpec::Tmpfs {
                target: target.clone(),
                size: size.map(|b| b.0),
                mode: *mode,
            },
        });
    }
    for t in &svc.tmpfs {
        // Checked by the loader; an entry that no longer parses is skipped
        // rather than mounted without its options.
        if let Ok(Mount::Tmpfs { target, size, mode }) = crate::spec::parse_tmpfs(t) {
            mounts.push(MountSpec::Tmpfs {
                target,
                size: size.map(|b| b.0),
                mode,
            });
        }
    }
    let mut limits = limits(svc)?;
    let device_nodes = if svc.security.privileged {
        devices::host_devices()?
    } else {
        let mut nodes = Vec::new();
        for d in &svc.security.devices {
            let node = devices::host_device(&d.host, &d.container)?;
            if let DeviceAccess::Rules(rules) = &mut limits.devices {
                rules.push(node.rule(&d.permissions));
            }
            nodes.push(node);
        }
        nodes
    };
    Ok(ContainerConfig {
        id: container_id(&store.project, &svc.name),
        rootfs: rootfs.to_path_buf(),
        layers: Vec::new(),
        bundle: store.bundle_dir(&svc.name),
        argv: svc.argv(),
        env: environment(svc),
        cwd: svc.working_dir.clone(),
        user: svc.user.clone(),
        hostname: svc.effective_hostname().to_string(),
        mounts,
        read_only: svc.read_only,
        capabilities: service_capabilities(svc),
        rlimits: svc
            .ulimits
            .iter()
            .map(|(k, u)| (k.clone(), u.soft, u.hard))
            .collect(),
        group_add: svc.process.group_add.clone(),
        sysctls: svc
            .process
            .sysctls
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        oom_score_adj: svc.process.oom_score_adj,
        // `service:NAME` becomes `Join` once that container's pid is known
        // (the supervisor's start).
        ipc: match svc.process.ipc {
            IpcMode::Host => Share::Host,
            _ => Share::New,
        },
        pid: match svc.process.pid {
            PidMode::Host => Share::Host,
            _ => Share::New,
        },
        shm_source: None,
        network: match svc.network_mode {
            NetworkMode::Host => Network::Host,
            // Bridges and shared namespaces are the network room's
            // (`engine::network`), which replaces this.
            _ => Network::None,
        },
        init: svc.init,
        cgroup: cgroup_path(&store.project, &svc.name),
        cgroup_hierarchies: Layout::get().hierarchies(),
        security: Security {
            seccomp: seccomp(svc)?,
            no_new_privs: svc.security.no_new_privileges,
            privileged: svc.security.privileged,
            devices: device_nodes,
            shm_size: svc
                .security
                .shm_size
                .map_or(crate::runtime::DEFAULT_SHM_SIZE, |b| b.0),
        },
        limits,
        log_file: store.log_file(&svc.name),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::spec::units::{Bytes, Cpus};
    use crate::spec::{Rootfs, Ulimit};

    pub fn svc(name: &str) -> Service {
        Service {
            command: Some(vec!["sleep".into(), "100".into()]),
            ..Service::new(name, Rootfs::Dir("/tmp/r".into()))
        }
    }

    #[test]
    fn a_device_rule_the_runtime_refuses_is_an_error_not_dropped() {
        let mut s = svc("web");
        s.security.device_cgroup_rules = vec!["c 1:3 rw".into()];
        let DeviceAccess::Rules(rules) = limits(&s).unwrap().devices else {
            panic!("not rules");
        };
        assert!(rules.iter().any(|r| r.to_v1() == "c 1:3 rw"));
        s.security.device_cgroup_rules = vec!["c 5000:1 r".into()];
        let e = limits(&s).unwrap_err().to_string();
        assert!(
            e.contains("invalid device cgroup rule \"c 5000:1 r\""),
            "{e}"
        );
    }

    #[test]
    fn caps() {
        assert_eq!(capabilities(&[], &[]).len(), 14);
        let c = capabilities(
            &["sys_admin".into()],
            &["NET_RAW".into(), "CAP_KILL".into()],
        );
        assert!(c.contains(&"CAP_SYS_ADMIN".to_string()));
        assert!(!c.contains(&"CAP_NET_RAW".to_string()));
        assert!(!c.contains(&"CAP_KILL".to_string()));
        assert_eq!(c.len(), 13);
        assert_eq!(
            capabilities(&["NET_ADMIN".into()], &["ALL".into()]),
            vec!["CAP_NET_ADMIN".to_string()]
        );
        assert_eq!(capabilities(&["ALL".into()], &[]).len(), 41);
    }

    #[test]
    fn config_from_service() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::with_roots("demo", &t.path().join("s"), &t.path().join("r")).unwrap();
        let mut s = svc("web");
        s.limits.cpus = Some(Cpus(50));
        s.limits.memory = Some(Bytes(80 << 20));
        s.environment.insert("A".into(), "1".into());
        s.volumes.push(Mount::Volume {
            source: "data".into(),
            target: "/data".into(),
            read_only: false,
            backing: crate::spec::Backing::Project,
        });
        s.ulimits
            .insert("nofile".into(), Ulimit { soft: 10, hard: 20 });
        let c = container_config(&store, &s, Path::new("/lower")).unwrap();
        assert_eq!(c.id, "demo-web-1");
        assert_eq!(c.cgroup, "stack/demo/web");
        assert_eq!(c.limits.cpu_quota_us, Some(5000));
        assert_eq!(c.limits.cpu_period_us, Some(100_000));
        assert_eq!(c.limits.memory, Some(80 << 20));
        assert_eq!(c.env[0], format!("PATH={DEFAULT_PATH}"));
        assert!(c.env.contains(&"A=1".to_string()));
        assert!(c.env.contains(&"HOSTNAME=web".to_string()));
        assert_eq!(c.hostname, "web");
        assert_eq!(c.rlimits, vec![("nofile".to_string(), 10, 20)]);
        assert!(store.volume_dir("data").is_dir(), "named volume created");
        assert_eq!(
            c.mounts[0],
            MountSpec::Bind {
                source: store.volume_dir("data"),
                target: "/data".into(),
                read_only: false
            }
        );
        assert_eq!(c.log_file, store.log_file("web"));
        assert_eq!(c.argv, vec!["sleep", "100"]);
    }
}
