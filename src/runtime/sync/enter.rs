//! Joining the container: its mount namespace, then its init's root.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;

use nix::sys::stat::fstat;

use super::helper::OpError;
use crate::runtime::exec::{single_threaded, Namespaces};

/// Join the mount namespace of `pid` and make its init's root ours; returns
/// an fd of that root.
pub(super) fn enter(pid: i32, start_time: Option<u64>) -> Result<OwnedFd, OpError> {
    if !single_threaded() {
        return Err(OpError::NotSingleThreaded);
    }
    if !crate::runtime::sealed::running_sealed() {
        return Err(OpError::NotSealed);
    }
    // We run with the host's capabilities in the container's mount
    // namespace, from the sealed copy: also not dumpable, so nothing can
    // open our memory (as exec does, CVE-2019-5736).
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    // Opened before joining: /proc is still the host's here.
    let ns = Namespaces::open(pid, &["mnt"])?;
    let root = File::options()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(format!("/proc/{pid}/root"))
        .map_err(|source| OpError::OpenRoot { pid, source })?;
    let root = OwnedFd::from(root);
    // Checked after the opens: if `pid` still is the process we were told
    // of now, the fds above are its (a pid is reused only after it died).
    if let Some(want) = start_time {
        if crate::runtime::spawn::proc_start_time(pid) != Some(want) {
            return Err(OpError::PidReused { pid });
        }
    }
    // A stale pid of a host process would make the host's root our target.
    let id = |p: &str| nix::sys::stat::stat(p).ok().map(|s| (s.st_dev, s.st_ino));
    let host_root = id("/");
    let their_root = fstat(&root).ok().map(|s| (s.st_dev, s.st_ino));
    if id("/proc/self/ns/mnt") == id(&format!("/proc/{pid}/ns/mnt")) || their_root == host_root {
        return Err(OpError::NotInContainer { pid });
    }
    ns.join()?;
    // setns(CLONE_NEWNS) already sets our root and cwd to the namespace's
    // root mount (followed down to the topmost mount: the init's
    // pivot_root'ed root). Chrooting to the init's own root as well covers
    // an init that is not at that root, and keeps absolute paths of any
    // call below inside the container.
    nix::unistd::fchdir(&root)
        .and_then(|()| nix::unistd::chroot("."))
        .map_err(OpError::Chroot)?;
    let here = nix::sys::stat::stat("/").map_err(OpError::StatSlash)?;
    let want = fstat(&root).map_err(OpError::StatRoot)?;
    if (here.st_dev, here.st_ino) != (want.st_dev, want.st_ino) {
        return Err(OpError::RootMismatch);
    }
    Ok(root)
}
