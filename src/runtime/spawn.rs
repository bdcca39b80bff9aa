//! Creating the container process: namespaces, the init, pivot_root, exec.
//!
//! `start` is called from the multi-threaded supervisor, so everything that
//! allocates happens before `clone`; the child runs only raw syscalls (join
//! the cgroups, unshare the cgroup namespace, move two fds) and execs a
//! sealed copy of `stack` as `stack __init`, which is pid 1 of the new pid
//! namespace and does the rest (see `init`). The parent sends it the config
//! over a socketpair and waits for `Started` or a sentence saying why not.
//!
//! How the init is cloned (into its cgroup at birth where the kernel can,
//! and into a shared network namespace for `Network::Join`) is `clone.rs`.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use super::channel::{self, FromInit, ToInitRef};
use super::{net, sealed, Attachment, ContainerConfig, Network, Share};

mod clone;

use clone::{clone_init, describe_early_death, high_fd, ChildFds};

pub use super::exec::{exec, exec_helper_command, ExecOptions};
pub use super::sealed::set_init_exe;
pub use clone::{set_clone_into_cgroup, CLONE_INTO_CGROUP_ENV};

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

/// How long the init may take to set up the container before `start` gives
/// up and kills it.
const SETUP_TIMEOUT: Duration = Duration::from_secs(60);

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
    let fds = ChildFds::open(cgroup_procs, &cfg.network, cfg.ipc, cfg.pid)?;
    let (mut parent, child) = init_channel()?;
    let argv = [c"stack".as_ptr(), c"__init".as_ptr(), std::ptr::null()];
    let env = cstrings(&container_env(cfg), "environment entry")?;
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|c| c.as_ptr()).collect();
    envp.push(std::ptr::null());
    let config_msg = channel::encode(&ToInitRef::Config(cfg)).map_err(SpawnError::Encode)?;

    let mut flags = libc::CLONE_NEWNS | libc::CLONE_NEWUTS;
    // Host: stay where we are. Join: the child enters the IPC namespace
    // (setns on `fds.ipcns`), and is cloned into the PID namespace.
    if cfg.ipc == Share::New {
        flags |= libc::CLONE_NEWIPC;
    }
    if cfg.pid == Share::New {
        flags |= libc::CLONE_NEWPID;
    }
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
        net::set_hairpin(&a.host_veth).map_err(fail)?;
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
    }
}
