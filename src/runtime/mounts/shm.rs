//! `/dev/shm`: the container's own tmpfs; the host's (`ipc: host`); or,
//! where containers share an IPC namespace (`ipc: service:NAME`), a tmpfs
//! the supervisor mounts on the host in the shared container's bundle
//! (`<bundle>/shm`), bound into it and into every container joining it,
//! as Docker does for a `shareable` container. POSIX shared memory is then
//! shared with System V IPC. The host side is a fresh tmpfs stack never
//! reads, unmounted with the bundle.

use std::path::Path;

use nix::mount::MsFlags;

use super::{special, MountError, Syscall};
use crate::runtime::{ContainerConfig, Share};

/// Mount the container's `/dev/shm` at `target` with `flags`.
pub(super) fn mount_shm(
    sys: &dyn Syscall,
    cfg: &ContainerConfig,
    target: &Path,
    flags: MsFlags,
) -> Result<(), MountError> {
    if let Some(shared) = &cfg.shm_source {
        return bind(sys, shared, target, flags, "the shared /dev/shm");
    }
    match cfg.ipc {
        Share::Host => bind(
            sys,
            Path::new("/dev/shm"),
            target,
            flags,
            "the host's /dev/shm",
        ),
        Share::New | Share::Join(_) => special(
            sys,
            "the /dev/shm tmpfs",
            target,
            "/dev/shm",
            "tmpfs",
            flags,
            Some(&format!("mode=1777,size={}", cfg.security.shm_size)),
        ),
    }
}

/// On the host: the tmpfs at `dir` that containers sharing an IPC
/// namespace bind as `/dev/shm` (made once; a restart keeps its content,
/// as Docker's does).
pub fn shared_shm(dir: &Path, size: u64) -> Result<(), MountError> {
    if crate::runtime::mountinfo::read()
        .iter()
        .any(|m| m.mount_point == dir)
    {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|source| MountError::Create {
        path: dir.to_path_buf(),
        source,
    })?;
    nix::mount::mount(
        Some("shm"),
        dir,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some(format!("mode=1777,size={size}").as_str()),
    )
    .map_err(|e| MountError::Special {
        what: "the shared /dev/shm tmpfs",
        target: dir.display().to_string(),
        source: e.into(),
    })
}

fn bind(
    sys: &dyn Syscall,
    source: &Path,
    target: &Path,
    flags: MsFlags,
    what: &'static str,
) -> Result<(), MountError> {
    sys.mkdir_all(target).map_err(|source| MountError::Create {
        path: target.to_path_buf(),
        source,
    })?;
    let err = |source| MountError::Special {
        what,
        target: "/dev/shm".into(),
        source,
    };
    sys.mount(Some(source), target, None, MsFlags::MS_BIND, None)
        .map_err(err)?;
    sys.mount(
        None,
        target,
        None,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | flags,
        None,
    )
    .map_err(err)
}
