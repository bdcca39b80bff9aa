//! Cloning the init: the fds it needs, `clone3(CLONE_INTO_CGROUP)` or
//! clone, and the child's few raw syscalls before it execs `stack __init`.
//!
//! On cgroup v2 (and a hybrid host's unified mount) the kernel puts the
//! child into its cgroup at birth with `clone3(CLONE_INTO_CGROUP)`, Linux
//! 5.7+: no `cgroup.procs` write, and no instant where the child runs
//! outside its limits. Where clone3 is missing or refused (an older kernel,
//! a seccomp filter that answers ENOSYS as Docker's does) it falls back to
//! clone and a write from the child.
//!
//! `Network::Join` (Compose's `network_mode: service:NAME`): the parent
//! opens the namespace file and checks it is a network namespace, the clone
//! leaves out CLONE_NEWNET, and the child's first syscall is `setns` on that
//! fd. The child is a fresh single-threaded process about to exec, so
//! moving it moves nothing else; the alternative, cloning from a helper
//! thread that entered the namespace, would make the init the child of a
//! thread that ends at once (reparented within the process, but one more
//! moving part) and cost a thread per start.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::super::channel::INIT_CHANNEL_FD;
use super::super::{sealed, Network, Share};
use super::SpawnError;

/// Set to `0` to start containers with clone and a `cgroup.procs` write even
/// where clone3 could place them (to compare, or to work around a kernel).
/// Read once per process.
pub const CLONE_INTO_CGROUP_ENV: &str = "STACK_CLONE_INTO_CGROUP";

/// Set once clone3 has been refused as unknown, so later starts skip it.
static CLONE3_MISSING: AtomicBool = AtomicBool::new(false);
/// `set_clone_into_cgroup(false)` or the environment turned it off.
static CLONE3_OFF: AtomicBool = AtomicBool::new(false);
static CLONE3_ENV: std::sync::Once = std::sync::Once::new();

/// Use `clone3(CLONE_INTO_CGROUP)` where the kernel has it (the default), or
/// always clone and write `cgroup.procs`.
pub fn set_clone_into_cgroup(on: bool) {
    CLONE3_ENV.call_once(|| {});
    CLONE3_OFF.store(!on, Ordering::Relaxed);
}

const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// `struct clone_args` up to `cgroup` (`CLONE_ARGS_SIZE_VER2`).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

// Exit codes of the clone child when a step before exec fails (it cannot
// talk: it may only make raw syscalls).
const EXIT_CGROUP: i32 = 120;
const EXIT_UNSHARE: i32 = 121;
const EXIT_EXEC: i32 = 122;
const EXIT_FDS: i32 = 123;
const EXIT_SETNS: i32 = 124;
const EXIT_SETNS_IPC: i32 = 119;

/// `ioctl(NS_GET_NSTYPE)` (`_IO(0xb7, 0x3)`, Linux 4.11): the `CLONE_NEW*`
/// type of a namespace fd.
const NS_GET_NSTYPE: u64 = 0xb703;

/// Duplicate `fd` to a number ≥ 10 (close-on-exec), so moving the channel
/// to fd 3 in the child can never clobber another fd it still needs.
pub(super) fn high_fd(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: fcntl on a valid fd; the result is a new fd we own.
    let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: n is a fresh fd owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// The fds the clone child needs, all ≥ 10 (see `high_fd`).
pub(super) struct ChildFds {
    /// The sealed copy of stack.
    exe: OwnedFd,
    /// `cgroup.procs` files the child writes itself into (v1).
    procs: Vec<OwnedFd>,
    /// The cgroup2 directory and its `cgroup.procs` (at most one): joined
    /// at clone where the kernel can, else by a write too.
    v2: Option<(OwnedFd, OwnedFd)>,
    /// The child's stdin, stdout and stderr.
    devnull: OwnedFd,
    /// The network namespace the child enters first (`Network::Join`).
    netns: Option<OwnedFd>,
    /// The IPC namespace the child enters next (`ipc: Share::Join`).
    ipcns: Option<OwnedFd>,
    /// The PID namespace the clone is made in (`pid: Share::Join`): the
    /// cloning thread enters it for the clone's length.
    pidns: Option<OwnedFd>,
}

impl ChildFds {
    pub(super) fn open(
        cgroup_procs: &[PathBuf],
        network: &Network,
        ipc: Share,
        pid: Share,
    ) -> Result<ChildFds, SpawnError> {
        let dup = |what| move |source| SpawnError::Resource { what, source };
        let exe = high_fd(sealed::sealed_exe()?).map_err(dup("duplicate the init binary fd"))?;
        let open = |path: &Path, write: bool, dir: bool| {
            let mut o = File::options();
            o.read(!write).write(write);
            if dir {
                o.custom_flags(libc::O_DIRECTORY);
            }
            o.open(path).map_err(|source| SpawnError::Open {
                path: path.to_path_buf(),
                source,
            })
        };
        let mut procs = Vec::with_capacity(cgroup_procs.len());
        let mut v2: Option<(OwnedFd, OwnedFd)> = None;
        for p in cgroup_procs {
            let f = open(p, true, false)?;
            let f = high_fd(f.as_raw_fd()).map_err(dup("duplicate fd"))?;
            match p.parent().filter(|d| v2.is_none() && is_cgroup2(d)) {
                Some(dir) => v2 = Some((OwnedFd::from(open(dir, false, true)?), f)),
                None => procs.push(f),
            }
        }
        let null_low = File::options()
            .read(true)
            .write(true)
            .open("/dev/null")
            .map_err(|source| SpawnError::Open {
                path: "/dev/null".into(),
                source,
            })?;
        let devnull = high_fd(null_low.as_raw_fd()).map_err(dup("duplicate fd"))?;
        let netns = match network {
            Network::Join(path) => {
                let ns = open_netns(path)?;
                Some(high_fd(ns.as_raw_fd()).map_err(dup("duplicate fd"))?)
            }
            _ => None,
        };
        let join = |share: Share, name: &'static str, kind: libc::c_int| match share {
            Share::Join(peer) => {
                let ns = open_peer_ns(peer, name, kind)?;
                high_fd(ns.as_raw_fd())
                    .map(Some)
                    .map_err(dup("duplicate fd"))
            }
            Share::New | Share::Host => Ok(None),
        };
        Ok(ChildFds {
            exe,
            procs,
            v2,
            devnull,
            netns,
            ipcns: join(ipc, "ipc", libc::CLONE_NEWIPC)?,
            pidns: join(pid, "pid", libc::CLONE_NEWPID)?,
        })
    }
}

/// Opens the network namespace at `path` and checks that it is one, so a
/// wrong path is a sentence here and not an exit code from the child.
fn open_netns(path: &Path) -> Result<File, SpawnError> {
    let file = File::open(path).map_err(|source| SpawnError::JoinNetwork {
        path: path.to_path_buf(),
        source,
    })?;
    // SAFETY: an argument-less ioctl on an fd we own; it only returns a
    // number (or -1 with ENOTTY/EINVAL when the fd is no namespace).
    let kind = unsafe { libc::ioctl(file.as_raw_fd(), NS_GET_NSTYPE as _) };
    if kind != libc::CLONE_NEWNET {
        return Err(SpawnError::NotANetworkNamespace {
            path: path.to_path_buf(),
        });
    }
    Ok(file)
}

/// Opens `/proc/<peer>/ns/<name>` and checks it is a namespace of `kind`.
fn open_peer_ns(peer: i32, name: &'static str, kind: libc::c_int) -> Result<File, SpawnError> {
    let err = |source| SpawnError::OpenNamespace {
        name,
        pid: peer,
        source,
    };
    let file = File::open(format!("/proc/{peer}/ns/{name}")).map_err(err)?;
    // SAFETY: an argument-less ioctl on an fd we own; it only returns a number.
    let got = unsafe { libc::ioctl(file.as_raw_fd(), NS_GET_NSTYPE as _) };
    if got != kind {
        return Err(err(io::Error::other(format!("not a {name} namespace"))));
    }
    Ok(file)
}

/// While alive, the calling thread makes its children in another PID
/// namespace; dropped, it makes them in its own again. The thread's own
/// (active) namespace never changes, so this moves nothing but the next
/// clone.
struct PidNsFor {
    own: File,
}

impl PidNsFor {
    fn enter(target: &OwnedFd) -> Result<PidNsFor, SpawnError> {
        let own =
            File::open("/proc/thread-self/ns/pid").map_err(|source| SpawnError::Resource {
                what: "open this thread's PID namespace",
                source,
            })?;
        // SAFETY: setns on an fd we own; CLONE_NEWPID changes only the
        // namespace this thread's later children are made in.
        if unsafe { libc::setns(target.as_raw_fd(), libc::CLONE_NEWPID) } != 0 {
            return Err(SpawnError::Resource {
                what: "enter the PID namespace the container shares",
                source: io::Error::last_os_error(),
            });
        }
        Ok(PidNsFor { own })
    }
}

impl Drop for PidNsFor {
    fn drop(&mut self) {
        // SAFETY: as in `enter`; back to the thread's own active namespace,
        // which the kernel always allows.
        unsafe { libc::setns(self.own.as_raw_fd(), libc::CLONE_NEWPID) };
    }
}

/// Clone the init with `flags`: by `clone3(CLONE_INTO_CGROUP)` where the
/// kernel can, else by clone and a write from the child. Returns its pid
/// and whether the kernel placed it in its cgroup.
pub(super) fn clone_init(
    fds: &ChildFds,
    flags: libc::c_int,
    child_fd: RawFd,
    argv: &[*const libc::c_char; 3],
    envp: &[*const libc::c_char],
) -> Result<(i32, bool), SpawnError> {
    let mut procs_raw: Vec<RawFd> = fds.procs.iter().map(|f| f.as_raw_fd()).collect();
    let (exe_fd, null_fd) = (fds.exe.as_raw_fd(), fds.devnull.as_raw_fd());
    let netns_fd = fds.netns.as_ref().map_or(-1, |f| f.as_raw_fd());
    let ns = [netns_fd, fds.ipcns.as_ref().map_or(-1, |f| f.as_raw_fd())];
    let _pidns = fds.pidns.as_ref().map(PidNsFor::enter).transpose()?;

    let mut into_cgroup = false;
    let mut pid = -1;
    if let Some((dir, _)) = &fds.v2 {
        if clone3_wanted() {
            let args = CloneArgs {
                flags: flags as u64 | CLONE_INTO_CGROUP,
                exit_signal: libc::SIGCHLD as u64,
                cgroup: dir.as_raw_fd() as u64,
                ..CloneArgs::default()
            };
            // SAFETY: clone3 without CLONE_VM and with no stack behaves as
            // fork; `args` lives across the call and its size is passed. The
            // child runs only async-signal-safe raw syscalls, as below.
            pid = unsafe {
                libc::syscall(
                    libc::SYS_clone3,
                    &args as *const CloneArgs,
                    std::mem::size_of::<CloneArgs>(),
                )
            };
            if pid == 0 {
                // SAFETY: we are the clone child; see child_after_clone.
                unsafe { child_after_clone(&procs_raw, ns, child_fd, null_fd, exe_fd, argv, envp) }
            }
            if pid > 0 {
                into_cgroup = true;
            } else if matches!(
                io::Error::last_os_error().raw_os_error(),
                Some(libc::ENOSYS | libc::E2BIG)
            ) {
                CLONE3_MISSING.store(true, Ordering::Relaxed);
            }
        }
    }
    if pid <= 0 {
        // Fallback (or v1 only): the child joins the cgroup2 hierarchy by a
        // write too; any other clone3 error is met again here and reported.
        if let Some((_, procs_v2)) = &fds.v2 {
            procs_raw.push(procs_v2.as_raw_fd());
        }
        // SAFETY: a raw clone without CLONE_VM and with a null stack behaves
        // as fork (the child gets a copy of our memory and stack). In the
        // child we call only async-signal-safe raw syscalls on data prepared
        // above, then exec or _exit; no allocation, no locks.
        pid = unsafe {
            libc::syscall(
                libc::SYS_clone,
                (flags | libc::SIGCHLD) as libc::c_ulong,
                0usize,
                0usize,
                0usize,
                0usize,
            )
        };
        if pid == 0 {
            // SAFETY: we are the clone child; see child_after_clone.
            unsafe { child_after_clone(&procs_raw, ns, child_fd, null_fd, exe_fd, argv, envp) }
        }
    }
    if pid < 0 {
        return Err(SpawnError::Namespaces(io::Error::last_os_error()));
    }
    Ok((pid as i32, into_cgroup))
}

/// Whether to try `clone3(CLONE_INTO_CGROUP)`: not refused before, and not
/// turned off by the environment.
fn clone3_wanted() -> bool {
    CLONE3_ENV.call_once(|| {
        if std::env::var_os(CLONE_INTO_CGROUP_ENV).is_some_and(|v| v == "0") {
            CLONE3_OFF.store(true, Ordering::Relaxed);
        }
    });
    !CLONE3_MISSING.load(Ordering::Relaxed) && !CLONE3_OFF.load(Ordering::Relaxed)
}

/// Whether `dir` is on a cgroup2 file system.
fn is_cgroup2(dir: &Path) -> bool {
    nix::sys::statfs::statfs(dir)
        .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
}

pub(super) fn describe_early_death(status: Option<i32>) -> String {
    match status {
        Some(EXIT_CGROUP) => {
            "cannot join the container's cgroup (writing to cgroup.procs failed)".into()
        }
        Some(EXIT_UNSHARE) => "cannot create the container's cgroup namespace".into(),
        Some(EXIT_EXEC) => "cannot execute the container's init (the sealed copy of stack)".into(),
        Some(EXIT_FDS) => "cannot set up the container's init file descriptors".into(),
        Some(EXIT_SETNS) => {
            "cannot enter the network namespace the container shares (setns failed)".into()
        }
        Some(EXIT_SETNS_IPC) => {
            "cannot enter the IPC namespace the container shares (setns failed)".into()
        }
        Some(s) if s >= 128 => format!(
            "the container's init was killed by signal {} during set-up",
            s - 128
        ),
        Some(s) => format!("the container's init exited with status {s} during set-up"),
        None => "the container's init vanished during set-up".into(),
    }
}

/// The clone child: enter the shared network namespace (`netns` ≥ 0),
/// join cgroups, new cgroup namespace, fds 0-3, exec init.
///
/// # Safety
/// Only for the child of `clone` in `start`: touches only the given raw
/// values and makes raw syscalls (async-signal-safe), never returns.
unsafe fn child_after_clone(
    procs: &[RawFd],
    [netns, ipcns]: [RawFd; 2],
    chan: RawFd,
    null: RawFd,
    exe: RawFd,
    argv: &[*const libc::c_char; 3],
    envp: &[*const libc::c_char],
) -> ! {
    // First, so that everything the init does (its sysfs mount included)
    // happens in the namespace it shares. The fd is close-on-exec.
    if netns >= 0 && libc::setns(netns, libc::CLONE_NEWNET) != 0 {
        libc::_exit(EXIT_SETNS);
    }
    if ipcns >= 0 && libc::setns(ipcns, libc::CLONE_NEWIPC) != 0 {
        libc::_exit(EXIT_SETNS_IPC);
    }
    for &fd in procs {
        // "0" means the writing process itself.
        if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
            libc::_exit(EXIT_CGROUP);
        }
    }
    // Leave the supervisor's session and process group: a Ctrl-C or hangup
    // on the user's terminal is for the supervisor, which stops containers
    // with their stop_signal; it must not reach the inits directly.
    libc::setsid();
    // After joining, so the container's cgroup is the root it sees.
    if libc::unshare(libc::CLONE_NEWCGROUP) != 0 {
        libc::_exit(EXIT_UNSHARE);
    }
    // All our fds are >= 10, so these dup2s cannot clobber each other.
    if libc::dup2(null, 0) < 0
        || libc::dup2(null, 1) < 0
        || libc::dup2(null, 2) < 0
        || libc::dup2(chan, INIT_CHANNEL_FD) < 0
    {
        libc::_exit(EXIT_FDS);
    }
    libc::syscall(
        libc::SYS_execveat,
        exe,
        c"".as_ptr(),
        argv.as_ptr(),
        envp.as_ptr(),
        libc::AT_EMPTY_PATH,
    );
    libc::_exit(EXIT_EXEC);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_deaths_are_sentences() {
        assert!(describe_early_death(Some(EXIT_CGROUP)).contains("cgroup"));
        assert!(describe_early_death(Some(EXIT_SETNS)).contains("network namespace"));
        assert!(describe_early_death(Some(137)).contains("signal 9"));
    }
}
