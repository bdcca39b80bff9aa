//! Resolving a target's parent directories inside the container's root.

use std::ffi::CString;
use std::io;
use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{mkdirat, Mode};

pub(super) fn oflag_dir() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC
}

/// Open `comps` (relative to the container's root) as a directory,
/// resolving symlinks inside the container only; with `create`, make the
/// missing ones (0755, as `mkdir -p`).
pub(super) fn resolve_dir(
    root: &OwnedFd,
    comps: &[CString],
    create: bool,
) -> Result<OwnedFd, (CString, io::Error)> {
    let how = OpenHow::new()
        .flags(oflag_dir())
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let mut cur = openat2(root, c".", how).map_err(|e| (CString::default(), e.into()))?;
    refuse_pseudo_fs(&cur).map_err(|e| (CString::default(), e))?;
    // One prefix at a time, so an error names the component at fault.
    for i in 0..comps.len() {
        let path = join(&comps[..=i]);
        let fail = |e: io::Error| (path.clone(), e);
        cur = match openat2(root, path.as_c_str(), how) {
            Err(Errno::ENOENT) if create => {
                // `cur` is the resolved parent: a single name is created
                // in it, never through a symlink (mkdir does not follow).
                match mkdirat(&cur, comps[i].as_c_str(), Mode::from_bits_truncate(0o755)) {
                    // EEXIST: made meanwhile, or a symlink to nothing.
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(fail(e.into())),
                }
                match openat2(root, path.as_c_str(), how) {
                    Err(Errno::ENOENT) => {
                        return Err(fail(io::Error::other(
                            "it is a symlink to something missing in the container",
                        )))
                    }
                    r => r.map_err(|e| fail(e.into()))?,
                }
            }
            r => r.map_err(|e| fail(e.into()))?,
        };
        refuse_pseudo_fs(&cur).map_err(fail)?;
    }
    Ok(cur)
}

fn join(comps: &[CString]) -> CString {
    let mut v = Vec::new();
    for (i, c) in comps.iter().enumerate() {
        if i > 0 {
            v.push(b'/');
        }
        v.extend_from_slice(c.as_bytes());
    }
    // Components come from CStrings, so there is no NUL inside.
    CString::new(v).unwrap_or_default()
}

/// Never create files in the kernel's pseudo file systems: a symlink such
/// as `/app -> /proc/sys/kernel` must not make us (with the host's
/// capabilities) write kernel settings.
pub(super) fn refuse_pseudo_fs(dir: &OwnedFd) -> io::Result<()> {
    use nix::sys::statfs::*;
    let t = fstatfs(dir)?.filesystem_type();
    if [
        PROC_SUPER_MAGIC,
        SYSFS_MAGIC,
        CGROUP_SUPER_MAGIC,
        CGROUP2_SUPER_MAGIC,
    ]
    .contains(&t)
    {
        return Err(io::Error::other(
            "the target is in /proc, /sys or a cgroup file system, which sync never writes",
        ));
    }
    Ok(())
}
