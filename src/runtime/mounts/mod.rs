//! The container's file system, set up by its init inside the container's
//! own mount namespace, in this order: `/` private, the overlay, `/proc`,
//! `/sys`, `/dev`, `/tmp`, the user's mounts, `pivot_root`, masked and
//! read-only paths, a read-only root. Each step has its own error, so a
//! failure says which step (as Firecracker's jailer does).

use std::io;
use std::path::{Component, Path, PathBuf};

use nix::mount::MsFlags;

use super::syscall::{Kind, Syscall};
use super::{ContainerConfig, MountSpec};

mod shm;
pub use shm::shared_shm;

/// Why the file-system set-up failed; each message is a sentence.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error("cannot make the mount namespace private: {0}")]
    MakePrivate(io::Error),
    #[error("rootfs {0} is not a directory; prepare it first or fix the rootfs path")]
    RootfsMissing(PathBuf),
    #[error("cannot create {path}: {source}")]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot mount the overlay of rootfs {rootfs} on {target}: {source} (is the rootfs a directory on a file system overlayfs accepts?)")]
    Overlay {
        rootfs: PathBuf,
        target: PathBuf,
        source: io::Error,
    },
    #[error("cannot mount {what} on {target}: {source}")]
    Special {
        what: &'static str,
        target: String,
        source: io::Error,
    },
    #[error("cannot bind-mount volume {source_path} on {target}: {source}")]
    Volume {
        source_path: PathBuf,
        target: String,
        source: io::Error,
    },
    #[error("volume source {0} does not exist; create it or fix the path")]
    VolumeSourceMissing(PathBuf),
    #[error("mount target {0:?} must be an absolute path inside the container")]
    BadTarget(String),
    #[error("cannot mount a tmpfs on {target}: {source}")]
    Tmpfs { target: String, source: io::Error },
    #[error("cannot pivot_root into {root}: {source}")]
    PivotRoot { root: PathBuf, source: io::Error },
    #[error("cannot mask {path}: {source}")]
    Mask {
        path: &'static str,
        source: io::Error,
    },
    #[error("cannot make {path} read-only: {source}")]
    ReadOnly {
        path: &'static str,
        source: io::Error,
    },
    #[error("cannot make the root file system read-only: {0}")]
    RootReadOnly(io::Error),
}

/// Paths runc hides from containers (`/dev/null` over files, an empty
/// read-only tmpfs over directories).
pub const MASKED_PATHS: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths runc makes read-only.
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The device nodes of the container's `/dev`: name, major, minor
/// (Documentation/admin-guide/devices.txt).
const DEVICES: &[(&str, u32, u32)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// The mount point of the container's root inside its bundle.
pub fn rootfs_mount_point(cfg: &ContainerConfig) -> PathBuf {
    cfg.bundle.join("rootfs")
}

/// Join a container path onto `root`, following symlinks found on the way
/// as the container would see them (relative to `root`, never above it),
/// so a symlink in the rootfs cannot send a bind mount onto the host.
pub fn secure_join(sys: &dyn Syscall, root: &Path, unsafe_path: &str) -> PathBuf {
    let mut parts: Vec<PathBuf> = Path::new(unsafe_path)
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(PathBuf::from(s)),
            Component::ParentDir => Some(PathBuf::from("..")),
            _ => None,
        })
        .collect();
    let mut cur = PathBuf::new(); // relative to root
    let mut hops = 0;
    while let Some(part) = parts.pop() {
        if part.as_os_str() == ".." {
            cur.pop();
            continue;
        }
        let next = cur.join(&part);
        let full = root.join(&next);
        if sys.kind(&full) == Kind::Symlink && hops < 40 {
            hops += 1;
            if let Some(target) = sys.read_link(&full) {
                if target.is_absolute() {
                    cur = PathBuf::new();
                }
                for c in target.components().rev() {
                    match c {
                        Component::Normal(s) => parts.push(PathBuf::from(s)),
                        Component::ParentDir => parts.push(PathBuf::from("..")),
                        _ => {}
                    }
                }
                continue;
            }
        }
        cur = next;
    }
    root.join(cur)
}

fn check_target(target: &str) -> Result<(), MountError> {
    if !target.starts_with('/') || target.split('/').any(|c| c == "..") {
        return Err(MountError::BadTarget(target.to_string()));
    }
    Ok(())
}

fn special(
    sys: &dyn Syscall,
    what: &'static str,
    target: &Path,
    shown: &str,
    fstype: &str,
    flags: MsFlags,
    data: Option<&str>,
) -> Result<(), MountError> {
    sys.mkdir_all(target).map_err(|source| MountError::Create {
        path: target.to_path_buf(),
        source,
    })?;
    sys.mount(Some(Path::new(fstype)), target, Some(fstype), flags, data)
        .map_err(|source| MountError::Special {
            what,
            target: shown.to_string(),
            source,
        })
}

/// Set up the container's file system and `pivot_root` into it. Runs in the
/// init, inside the new mount namespace (so the overlay and every mount
/// vanish with the container).
pub fn setup(sys: &dyn Syscall, cfg: &ContainerConfig) -> Result<(), MountError> {
    let nsd = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    let nsde = nsd | MsFlags::MS_NOEXEC;

    // 1. Nothing we mount may propagate back to the host.
    sys.mount(
        None,
        Path::new("/"),
        None,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None,
    )
    .map_err(MountError::MakePrivate)?;

    // 2. The overlay: the rootfs read-only below, this container's layer above.
    if sys.kind(&cfg.rootfs) != Kind::Dir {
        return Err(MountError::RootfsMissing(cfg.rootfs.clone()));
    }
    let root = rootfs_mount_point(cfg);
    let upper = cfg.bundle.join("upper");
    let work = cfg.bundle.join("work");
    for d in [&upper, &work, &root] {
        sys.mkdir_all(d).map_err(|source| MountError::Create {
            path: d.clone(),
            source,
        })?;
    }
    let mut lowerdir = overlay_escape(&cfg.rootfs);
    for l in &cfg.layers {
        lowerdir.push(':');
        lowerdir.push_str(&overlay_escape(l));
    }
    let data = format!(
        "lowerdir={lowerdir},upperdir={},workdir={}",
        overlay_escape(&upper),
        overlay_escape(&work)
    );
    // nodev: a node made with mknod anywhere but /dev cannot be opened,
    // whatever the device cgroup says.
    sys.mount(
        Some(Path::new("overlay")),
        &root,
        Some("overlay"),
        MsFlags::MS_NODEV,
        Some(&data),
    )
    .map_err(|source| MountError::Overlay {
        rootfs: cfg.rootfs.clone(),
        target: root.clone(),
        source,
    })?;

    // 3. /proc of the new pid namespace.
    special(sys, "proc", &root.join("proc"), "/proc", "proc", nsde, None)?;

    // 4. /sys, read-only. A fresh sysfs also with the host's network: as
    // real root we may mount one, and a recursive bind of the host's /sys
    // would bring its submounts (the writable cgroup v1 hierarchies, with
    // their release_agent) along, read-write. runc binds only when rootless.
    let sys_ro = if cfg.security.privileged {
        MsFlags::empty()
    } else {
        MsFlags::MS_RDONLY
    };
    special(
        sys,
        "sysfs",
        &root.join("sys"),
        "/sys",
        "sysfs",
        nsde | sys_ro,
        None,
    )?;

    // 4b. The container's own cgroups, read-only (its cgroup namespace
    // makes its cgroup the root of each hierarchy).
    cgroup_mounts(
        sys,
        &root.join("sys/fs/cgroup"),
        &cfg.cgroup_hierarchies,
        sys_ro,
    )?;

    // 5. /dev: a small tmpfs holding only the harmless devices.
    let dev = root.join("dev");
    special(
        sys,
        "the /dev tmpfs",
        &dev,
        "/dev",
        "tmpfs",
        MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
        Some("mode=755,size=65536"),
    )?;
    // Device nodes made in place (as runc does outside a user namespace):
    // cheaper than bind mounts, and fewer mounts to tear down.
    for &(name, major, minor) in DEVICES {
        let target = dev.join(name);
        sys.mknod_char(&target, major, minor)
            .map_err(|source| MountError::Create {
                path: target.clone(),
                source,
            })?;
    }
    // Passed-through host devices, before any symlink exists in /dev that
    // a path could lead through.
    for node in &cfg.security.devices {
        let rel = node.path.trim_start_matches("/dev/");
        if rel.is_empty() || rel.split('/').any(|c| c == ".." || c.is_empty()) {
            return Err(MountError::BadTarget(node.path.clone()));
        }
        // The container's own devpts, shm and links win over the host's.
        let first = rel.split('/').next().unwrap_or(rel);
        if matches!(
            first,
            "pts" | "shm" | "ptmx" | "fd" | "stdin" | "stdout" | "stderr"
        ) {
            continue;
        }
        let target = dev.join(rel);
        sys.mknod_node(&target, node)
            .map_err(|source| MountError::Create {
                path: target.clone(),
                source,
            })?;
    }
    special(
        sys,
        "devpts",
        &dev.join("pts"),
        "/dev/pts",
        "devpts",
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620,gid=5"),
    )?;
    shm::mount_shm(sys, cfg, &dev.join("shm"), nsde)?;
    for (link, target) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        let path = dev.join(link);
        sys.symlink(target, &path)
            .map_err(|source| MountError::Create { path, source })?;
    }

    // 6. /tmp as a tmpfs when the rootfs has none (and the user gave none).
    let user_tmp = cfg.mounts.iter().any(|m| match m {
        MountSpec::Bind { target, .. } | MountSpec::Tmpfs { target, .. } => {
            target.trim_end_matches('/') == "/tmp"
        }
    });
    if !user_tmp && sys.kind(&root.join("tmp")) != Kind::Dir {
        special(
            sys,
            "the /tmp tmpfs",
            &root.join("tmp"),
            "/tmp",
            "tmpfs",
            nsd,
            Some(&format!("mode=1777,size={}", default_tmpfs_size(cfg))),
        )?;
    }

    // 7. The user's volumes and tmpfs mounts, in the order given.
    for m in &cfg.mounts {
        match m {
            MountSpec::Bind {
                source,
                target,
                read_only,
            } => {
                check_target(target)?;
                let kind = sys.kind(source);
                if kind == Kind::Missing {
                    return Err(MountError::VolumeSourceMissing(source.clone()));
                }
                let dst = secure_join(sys, &root, target);
                let made = if kind == Kind::Dir {
                    sys.mkdir_all(&dst)
                } else {
                    sys.create_file(&dst)
                };
                made.map_err(|source| MountError::Create {
                    path: dst.clone(),
                    source,
                })?;
                let err = |e| MountError::Volume {
                    source_path: source.clone(),
                    target: target.clone(),
                    source: e,
                };
                sys.mount(
                    Some(source),
                    &dst,
                    None,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None,
                )
                .map_err(err)?;
                // A bind keeps the source's flags; the remount adds nodev
                // (a host device node in a volume cannot be opened) and
                // must keep what the host's mount had.
                let mut flags = MsFlags::MS_BIND
                    | MsFlags::MS_REMOUNT
                    | MsFlags::MS_NODEV
                    | sys.mount_flags(source);
                if *read_only {
                    flags |= MsFlags::MS_RDONLY;
                }
                sys.mount(None, &dst, None, flags, None).map_err(err)?;
            }
            MountSpec::Tmpfs { target, size, mode } => {
                check_target(target)?;
                let dst = secure_join(sys, &root, target);
                sys.mkdir_all(&dst).map_err(|source| MountError::Create {
                    path: dst.clone(),
                    source,
                })?;
                let data = format!(
                    "mode={:o},size={}",
                    mode.unwrap_or(0o1777),
                    size.unwrap_or_else(|| default_tmpfs_size(cfg))
                );
                sys.mount(
                    Some(Path::new("tmpfs")),
                    &dst,
                    Some("tmpfs"),
                    nsd,
                    Some(&data),
                )
                .map_err(|source| MountError::Tmpfs {
                    target: target.clone(),
                    source,
                })?;
            }
        }
    }

    // 8. Into the container; the host's tree is detached and gone.
    sys.pivot_root(&root)
        .map_err(|source| MountError::PivotRoot {
            root: root.clone(),
            source,
        })?;

    // 9. Hide and freeze the kernel interfaces a container must not touch
    // (all of them open to a privileged one, as in Docker).
    let (masked, readonly) = if cfg.security.privileged {
        (&[][..], &[][..])
    } else {
        (MASKED_PATHS, READONLY_PATHS)
    };
    for &path in masked {
        let p = Path::new(path);
        let r = match sys.kind(p) {
            Kind::Missing | Kind::Symlink => continue,
            Kind::Dir => sys.mount(
                Some(Path::new("tmpfs")),
                p,
                Some("tmpfs"),
                MsFlags::MS_RDONLY | nsde,
                Some("size=0"),
            ),
            Kind::File => sys.mount(
                Some(Path::new("/dev/null")),
                p,
                None,
                MsFlags::MS_BIND,
                None,
            ),
        };
        r.map_err(|source| MountError::Mask { path, source })?;
    }
    for &path in readonly {
        let p = Path::new(path);
        if matches!(sys.kind(p), Kind::Missing | Kind::Symlink) {
            continue;
        }
        sys.mount(Some(p), p, None, MsFlags::MS_BIND | MsFlags::MS_REC, None)
            .and_then(|()| {
                sys.mount(
                    None,
                    p,
                    None,
                    MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | nsde,
                    None,
                )
            })
            .map_err(|source| MountError::ReadOnly { path, source })?;
    }

    // 10. `read_only: true`.
    if cfg.read_only {
        sys.mount(
            None,
            Path::new("/"),
            None,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
            None,
        )
        .map_err(MountError::RootReadOnly)?;
    }
    Ok(())
}

/// The size of a tmpfs the user gave none for (and of stack's own `/tmp`):
/// the container's memory limit, else 64M, so no tmpfs can take more of
/// the host's memory than the container may (the kernel's default is half
/// of the host's memory).
fn default_tmpfs_size(cfg: &ContainerConfig) -> u64 {
    match cfg.limits.memory {
        Some(m) if m > 0 => m as u64,
        _ => 64 << 20,
    }
}

/// Mount the container's cgroup hierarchies read-only at `dir`: on a pure
/// v2 host the one cgroup2 there; on v1 (and hybrid) a small tmpfs with one
/// directory per hierarchy, as Docker shows them (`cpu,cpuacct` with `cpu`
/// and `cpuacct` links, `systemd`, `unified`).
fn cgroup_mounts(
    sys: &dyn Syscall,
    dir: &Path,
    hierarchies: &[Vec<String>],
    ro: MsFlags,
) -> Result<(), MountError> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC | ro;
    let cgroup_err = |source| MountError::Special {
        what: "the cgroup file system",
        target: "/sys/fs/cgroup".into(),
        source,
    };
    if let [only] = hierarchies {
        if only.len() == 1 && only[0] == "unified" {
            return special(
                sys,
                "cgroup2",
                dir,
                "/sys/fs/cgroup",
                "cgroup2",
                flags,
                None,
            );
        }
    }
    if hierarchies.is_empty() {
        return Ok(());
    }
    special(
        sys,
        "the /sys/fs/cgroup tmpfs",
        dir,
        "/sys/fs/cgroup",
        "tmpfs",
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=755,size=64k"),
    )?;
    for names in hierarchies {
        let (sub, fstype, data) = match names.as_slice() {
            [u] if u == "unified" => ("unified".to_string(), "cgroup2", None),
            [n] if n.starts_with("name=") => (
                n["name=".len()..].to_string(),
                "cgroup",
                Some(format!("none,{n}")),
            ),
            _ => (names.join(","), "cgroup", Some(names.join(","))),
        };
        let target = dir.join(&sub);
        sys.mkdir_all(&target)
            .map_err(|source| MountError::Create {
                path: target.clone(),
                source,
            })?;
        sys.mount(
            Some(Path::new(fstype)),
            &target,
            Some(fstype),
            flags,
            data.as_deref(),
        )
        .map_err(cgroup_err)?;
        if names.len() > 1 {
            for n in names {
                let link = dir.join(n);
                sys.symlink(&sub, &link)
                    .map_err(|source| MountError::Create { path: link, source })?;
            }
        }
    }
    sys.mount(
        None,
        dir,
        None,
        MsFlags::MS_REMOUNT | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC | ro,
        Some("mode=755,size=64k"),
    )
    .map_err(cgroup_err)
}

/// overlayfs splits its options on `,` and its layer lists on `:`; escape
/// both (the kernel accepts a backslash before either).
fn overlay_escape(p: &Path) -> String {
    let s = p.display().to_string();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, ',' | ':' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
