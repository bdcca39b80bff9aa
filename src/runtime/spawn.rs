//! Creating the container process: namespaces, the init, pivot_root, exec.
//!
//! `start` is called from the multi-threaded supervisor, so everything that
//! allocates happens before `clone`; the child runs only raw syscalls (join
//! the cgroups, unshare the cgroup namespace, move two fds) and execs a
//! sealed copy of `stack` as `stack __init`, which is pid 1 of the new pid
//! namespace and does the rest (see `init`). The parent sends it the config
//! over a socketpair and waits for `Started` or a sentence saying why not.
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

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::channel::{self, FromInit, ToInitRef, INIT_CHANNEL_FD};
use super::{net, sealed, Attachment, ContainerConfig, Network};

pub use super::exec::{exec, exec_helper_command, ExecOptions};
pub use super::sealed::set_init_exe;

/// Why a container could not be started, or a command not run in one;
/// each a sentence for the user.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// There is no sealed copy of stack to run the init from.
    #[error(transparent)]
    Sealed(#[from] sealed::SealedError),
    /// An interface of a bridge network could not be made.
    #[error("cannot attach {interface} to bridge {bridge}: {source}")]
    Network {
        interface: String,
        bridge: String,
        #[source]
        source: super::net::NetError,
    },
    /// The network namespace to share (`Network::Join`) cannot be opened.
    #[error("cannot open network namespace {}: {source} (the service whose network this container shares must be running)", path.display())]
    JoinNetwork {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The path of `Network::Join` is not a network namespace.
    #[error("{} is not a network namespace (expected /proc/<pid>/ns/net of the container whose network is shared)", path.display())]
    NotANetworkNamespace { path: PathBuf },
    /// A file or directory the start needs could not be opened.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A kernel resource (an fd, a pipe, a channel, a keyring, a fork)
    /// could not be made; `what` completes "cannot …".
    #[error("cannot {what}: {source}")]
    Resource {
        what: &'static str,
        #[source]
        source: io::Error,
    },
    /// A string bound for the kernel holds a NUL byte; `what` names it.
    #[error("{what} {value:?} contains a NUL byte")]
    NulIn { what: &'static str, value: String },
    /// A string bound for the kernel holds a NUL byte.
    #[error("{value:?} contains a NUL byte")]
    Nul { value: String },
    /// The config could not be framed for the channel.
    #[error("cannot encode the container config: {0}")]
    Encode(#[source] io::Error),
    /// clone (or clone3) failed.
    #[error("cannot create the container's namespaces: {0}")]
    Namespaces(#[source] io::Error),
    /// The init's own sentence (sent over the channel), or what its death
    /// says.
    #[error("{sentence}")]
    Init { sentence: String },
    /// `exec` was called in a multi-threaded process.
    #[error("exec must run in a single-threaded process; use exec_helper_command (stack __exec)")]
    NotSingleThreaded,
    /// `exec` was called outside the sealed copy (CVE-2019-5736).
    #[error("exec must run from the sealed copy of stack; call sealed::reexec_sealed first")]
    NotSealed,
    /// `exec` was given an empty argv.
    #[error("no command to run in the container")]
    NoCommand,
    /// `/proc/<pid>/environ` could not be read.
    #[error("cannot read the environment of container process {pid}: {source} (is the container running?)")]
    Environ {
        pid: i32,
        #[source]
        source: io::Error,
    },
    /// `/proc/<pid>/cwd` could not be opened.
    #[error("cannot find the working directory of container process {pid}: {source}")]
    Cwd {
        pid: i32,
        #[source]
        source: io::Error,
    },
    /// `/proc/<pid>/ns/<name>` could not be opened.
    #[error("cannot open the {name} namespace of container process {pid}: {source} (is the container running?)")]
    OpenNamespace {
        name: &'static str,
        pid: i32,
        #[source]
        source: io::Error,
    },
    /// setns into it failed.
    #[error("cannot join the {name} namespace of container process {pid}: {source}")]
    JoinNamespace {
        name: &'static str,
        pid: i32,
        #[source]
        source: io::Error,
    },
    /// `/proc/<pid>/cgroup` could not be read.
    #[error("cannot read the cgroups of container process {pid}: {source}")]
    ReadCgroups {
        pid: i32,
        #[source]
        source: io::Error,
    },
    /// Writing ourselves into a `cgroup.procs` failed.
    #[error("cannot join cgroup {}: {source}", procs.display())]
    JoinCgroup {
        procs: PathBuf,
        #[source]
        source: io::Error,
    },
    /// No pty from the container's devpts.
    #[error("cannot allocate a tty in the container: {0}")]
    Tty(#[source] io::Error),
    /// The user, capabilities or limits asked for.
    #[error(transparent)]
    Security(#[from] super::security::SecurityError),
    /// The command is not in the container.
    #[error(transparent)]
    Command(#[from] super::init::CommandError),
    /// `exec -w DIR` names no directory.
    #[error("working directory {cwd:?} is not a directory in the container")]
    NotADirectory { cwd: String },
    /// A step between fork and exec failed in the child.
    #[error(transparent)]
    Step(#[from] super::init::StepError),
    /// waitpid on the exec'd command failed.
    #[error("lost the exec'd command: {0}")]
    Lost(#[source] io::Error),
}

/// A started container: its init (or command, with `init: false`) in the
/// host's pid namespace. The caller is its parent and reaps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spawned {
    pub pid: i32,
    /// Field 22 of `/proc/<pid>/stat`, to recognise the same process later.
    pub start_time: u64,
    /// Whether the kernel placed it in its cgroup v2 at clone
    /// (`CLONE_INTO_CGROUP`) rather than it joining after.
    pub into_cgroup: bool,
}

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

/// How long the init may take to set up the container before `start` gives
/// up and kills it.
const SETUP_TIMEOUT: Duration = Duration::from_secs(60);

// Exit codes of the clone child when a step before exec fails (it cannot
// talk: it may only make raw syscalls).
const EXIT_CGROUP: i32 = 120;
const EXIT_UNSHARE: i32 = 121;
const EXIT_EXEC: i32 = 122;
const EXIT_FDS: i32 = 123;
const EXIT_SETNS: i32 = 124;

/// `ioctl(NS_GET_NSTYPE)` (`_IO(0xb7, 0x3)`, Linux 4.11): the `CLONE_NEW*`
/// type of a namespace fd.
const NS_GET_NSTYPE: u64 = 0xb703;

/// The container's environment: `cfg.env` plus Docker's defaults for
/// `PATH` and `HOSTNAME` when they are not set. The init is exec'd with it,
/// so `exec` finds it again in `/proc/<init>/environ`.
pub fn container_env(cfg: &ContainerConfig) -> Vec<String> {
    let mut env = cfg.env.clone();
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.push(format!("PATH={}", super::security::DEFAULT_PATH));
    }
    if !env.iter().any(|e| e.starts_with("HOSTNAME=")) {
        env.push(format!("HOSTNAME={}", cfg.hostname));
    }
    env
}

/// Duplicate `fd` to a number ≥ 10 (close-on-exec), so moving the channel
/// to fd 3 in the child can never clobber another fd it still needs.
fn high_fd(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: fcntl on a valid fd; the result is a new fd we own.
    let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: n is a fresh fd owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

fn cstrings(v: &[String], what: &'static str) -> Result<Vec<CString>, SpawnError> {
    v.iter()
        .map(|s| {
            CString::new(s.as_bytes()).map_err(|_| SpawnError::NulIn {
                what,
                value: s.clone(),
            })
        })
        .collect()
}

/// Start a container; returns once its command has been exec'd, or with the
/// sentence saying why it could not be. `cgroup_procs` are the
/// `cgroup.procs` files the container joins before anything else.
pub fn start(cfg: &ContainerConfig, cgroup_procs: &[PathBuf]) -> Result<Spawned, SpawnError> {
    // Everything that allocates or can fail in a friendly way happens here,
    // before clone.
    let fds = ChildFds::open(cgroup_procs, &cfg.network)?;
    let (mut parent, child) = init_channel()?;
    let argv = [c"stack".as_ptr(), c"__init".as_ptr(), std::ptr::null()];
    let env = cstrings(&container_env(cfg), "environment entry")?;
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|c| c.as_ptr()).collect();
    envp.push(std::ptr::null());
    let config_msg = channel::encode(&ToInitRef::Config(cfg)).map_err(SpawnError::Encode)?;

    let mut flags =
        libc::CLONE_NEWNS | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC | libc::CLONE_NEWPID;
    match &cfg.network {
        Network::None | Network::Bridge(_) => flags |= libc::CLONE_NEWNET,
        // The host's: stay where we are. Join: the child enters it (setns
        // on `fds.netns`) before anything else.
        Network::Host | Network::Join(_) => {}
    }
    let (pid, into_cgroup) = clone_init(&fds, flags, child.as_raw_fd(), &argv, &envp)?;
    drop(child);
    drop(fds);

    // The init waits for its config: its network is made first.
    if let Network::Bridge(attachments) = &cfg.network {
        if let Err(e) = attach(pid, attachments) {
            // SAFETY: kill/waitpid on our own child's pid.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            let _ = wait_pid(pid);
            return Err(e);
        }
    }

    if let Err(sentence) = talk_to_init(&mut parent, &config_msg) {
        // SAFETY: kill/waitpid on our own child's pid.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
        let status = wait_pid(pid);
        let sentence = match sentence {
            Some(s) => s,
            None => describe_early_death(status),
        };
        return Err(SpawnError::Init { sentence });
    }
    let start_time = proc_start_time(pid).unwrap_or(0);
    Ok(Spawned {
        pid,
        start_time,
        into_cgroup,
    })
}

/// Give the container (its init is `pid`) one veth per attachment, each
/// configured inside its network namespace.
fn attach(pid: i32, attachments: &[Attachment]) -> Result<(), SpawnError> {
    let path = PathBuf::from(format!("/proc/{pid}/ns/net"));
    let ns = File::open(&path).map_err(|source| SpawnError::Open { path, source })?;
    for a in attachments {
        let fail = |source| SpawnError::Network {
            interface: a.interface.clone(),
            bridge: a.bridge.clone(),
            source,
        };
        let bridge = net::link_index(&a.bridge).map_err(fail)?.ok_or_else(|| {
            fail(net::NetError::NoSuchLink {
                name: a.bridge.clone(),
            })
        })?;
        net::create_veth(&net::Veth {
            host_name: &a.host_veth,
            peer_name: &a.interface,
            peer_netns: ns.as_fd(),
            bridge_ifindex: bridge,
            mtu: a.mtu,
            peer_mac: a.mac,
        })
        .map_err(fail)?;
        net::configure_netns(
            ns.as_fd(),
            &net::IfConfig {
                name: a.interface.clone(),
                address: (a.address, a.prefix),
                gateway: a.gateway,
            },
        )
        .map_err(fail)?;
    }
    Ok(())
}

/// The fds the clone child needs, all ≥ 10 (see `high_fd`).
struct ChildFds {
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
}

impl ChildFds {
    fn open(cgroup_procs: &[PathBuf], network: &Network) -> Result<ChildFds, SpawnError> {
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
        Ok(ChildFds {
            exe,
            procs,
            v2,
            devnull,
            netns,
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

/// The socketpair to the init: our end, and the child's (≥ 10).
fn init_channel() -> Result<(UnixStream, OwnedFd), SpawnError> {
    let (parent, child_low) = UnixStream::pair().map_err(|source| SpawnError::Resource {
        what: "create the init channel",
        source,
    })?;
    let child = high_fd(child_low.as_raw_fd()).map_err(|source| SpawnError::Resource {
        what: "duplicate fd",
        source,
    })?;
    // Only our copy may stay open, or the parent never sees the init's EOF.
    drop(child_low);
    Ok((parent, child))
}

/// Clone the init with `flags`: by `clone3(CLONE_INTO_CGROUP)` where the
/// kernel can, else by clone and a write from the child. Returns its pid
/// and whether the kernel placed it in its cgroup.
fn clone_init(
    fds: &ChildFds,
    flags: libc::c_int,
    child_fd: RawFd,
    argv: &[*const libc::c_char; 3],
    envp: &[*const libc::c_char],
) -> Result<(i32, bool), SpawnError> {
    let mut procs_raw: Vec<RawFd> = fds.procs.iter().map(|f| f.as_raw_fd()).collect();
    let (exe_fd, null_fd) = (fds.exe.as_raw_fd(), fds.devnull.as_raw_fd());
    let netns_fd = fds.netns.as_ref().map_or(-1, |f| f.as_raw_fd());

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
                unsafe {
                    child_after_clone(&procs_raw, netns_fd, child_fd, null_fd, exe_fd, argv, envp)
                }
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
            unsafe {
                child_after_clone(&procs_raw, netns_fd, child_fd, null_fd, exe_fd, argv, envp)
            }
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

/// Send the config and wait for the outcome. `Err(None)`: the init died
/// without a word (its exit status says why).
fn talk_to_init(chan: &mut UnixStream, config_msg: &[u8]) -> Result<(), Option<String>> {
    let _ = chan.set_read_timeout(Some(SETUP_TIMEOUT));
    if io::Write::write_all(chan, config_msg).is_err() {
        return Err(None);
    }
    match channel::recv::<FromInit>(chan) {
        Ok(Some(FromInit::Started { .. })) => Ok(()),
        // `init: false`: the init is about to exec the command itself;
        // the channel closing on exec means it worked.
        Ok(Some(FromInit::Exec)) => match channel::recv::<FromInit>(chan) {
            Ok(None) => Ok(()),
            Ok(Some(FromInit::Failed { sentence })) => Err(Some(sentence)),
            Ok(Some(_)) => Err(Some(
                "the container's init sent an unexpected message".into(),
            )),
            Err(e) => Err(Some(format!(
                "lost the container's init while it started the command: {e}"
            ))),
        },
        Ok(Some(FromInit::Failed { sentence })) => Err(Some(sentence)),
        Ok(None) => Err(None),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Err(Some(format!(
                "the container's set-up did not finish within {}s and was killed",
                SETUP_TIMEOUT.as_secs()
            )))
        }
        Err(e) => Err(Some(format!(
            "lost the container's init during set-up: {e}"
        ))),
    }
}

fn describe_early_death(status: Option<i32>) -> String {
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
        Some(s) if s >= 128 => format!(
            "the container's init was killed by signal {} during set-up",
            s - 128
        ),
        Some(s) => format!("the container's init exited with status {s} during set-up"),
        None => "the container's init vanished during set-up".into(),
    }
}

/// Wait for `pid` and return its status as a shell would (128+signal).
pub(crate) fn wait_pid(pid: i32) -> Option<i32> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes into a local int.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return Some(decode_status(status));
        }
        if r < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return None;
    }
}

/// `waitpid` status → exit code, 128+signal when killed.
pub(crate) fn decode_status(status: i32) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        255
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
    netns: RawFd,
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

/// Entry of the hidden `stack __init` verb (pid 1 inside the container).
pub fn init_main() -> i32 {
    super::init::main()
}

/// Field 22 of `/proc/<pid>/stat`, zombies included; `None` if the
/// process is gone.
pub use super::proc::start_time as proc_start_time;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(decode_status(7 << 8), 7);
        assert_eq!(decode_status(libc::SIGKILL), 137);
        assert!(describe_early_death(Some(EXIT_CGROUP)).contains("cgroup"));
    }
}
