//! The set-up the init does inside the new namespaces before the command
//! runs; each failure is a sentence sent back to `start`.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::Prepared;
use crate::runtime::mounts::{self, MountError};
use crate::runtime::security::{self, SecurityError};
use crate::runtime::syscall::Linux;
use crate::runtime::{ContainerConfig, Network};

/// Why the init could not set the container up.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("cannot open log file {}: {source}", path.display())]
    Log {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot create the container's session keyring: {0}")]
    Keyring(#[source] io::Error),
    #[error("cannot set hostname {hostname:?}: {source}")]
    Hostname {
        hostname: String,
        #[source]
        source: nix::errno::Errno,
    },
    /// The mounts, `pivot_root` and the masked paths.
    #[error(transparent)]
    Mounts(#[from] MountError),
    #[error("cannot bring up the loopback interface: {0}")]
    Loopback(#[source] io::Error),
    /// The user, capabilities or ulimits.
    #[error(transparent)]
    Security(#[from] SecurityError),
    /// A sysctl or the OOM score.
    #[error(transparent)]
    Kernel(#[from] super::kernel::KernelError),
    #[error("no command to run; set command or entrypoint")]
    NoCommand,
    /// The command is not in the root filesystem.
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("working_dir {cwd:?} must be an absolute path")]
    CwdNotAbsolute { cwd: String },
    #[error("working_dir {cwd:?} is not a directory in the container")]
    CwdNotDirectory { cwd: String },
    #[error("cannot create working_dir {cwd:?}: {source}")]
    CwdCreate {
        cwd: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot use working_dir {cwd:?}: {source}")]
    CwdUse {
        cwd: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot change to working_dir {cwd:?}: {source}")]
    CwdChange {
        cwd: String,
        #[source]
        source: io::Error,
    },
    /// A string bound for execve holds a NUL byte; `what` names it.
    #[error("{what} {value:?} contains a NUL byte")]
    Nul { what: &'static str, value: String },
}

/// The command named by `argv[0]` is not there.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A path (it has a `/`) that does not exist.
    #[error("cannot run {cmd:?}: no such file in {rootfs}")]
    NoFile { cmd: String, rootfs: String },
    /// A name found in none of the `PATH` directories.
    #[error("cannot run {cmd:?}: no such file in {rootfs} (looked in {})", looked.join(", "))]
    NotInPath {
        cmd: String,
        rootfs: String,
        looked: Vec<String>,
    },
}

/// All set-up that may fail with a sentence, in order.
pub(super) fn prepare(cfg: ContainerConfig) -> Result<Prepared, InitError> {
    // The log file lives on the host: open it before pivot_root.
    if let Some(dir) = cfg.log_file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let log = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .open(&cfg.log_file)
        .map_err(|source| InitError::Log {
            path: cfg.log_file.clone(),
            source,
        })?;
    security::new_session_keyring().map_err(InitError::Keyring)?;
    nix::unistd::sethostname(&cfg.hostname).map_err(|source| InitError::Hostname {
        hostname: cfg.hostname.clone(),
        source,
    })?;
    // Through the host's /proc, before the container's root is entered.
    super::kernel::apply_sysctls(&cfg.sysctls)?;
    if let Some(adj) = cfg.oom_score_adj {
        super::kernel::set_oom_score_adj(adj)?;
    }
    mounts::setup(&Linux, &cfg)?;
    if cfg.network == Network::None {
        loopback_up().map_err(InitError::Loopback)?;
    }
    security::apply_rlimits(&cfg.rlimits)?;
    let mut id = security::resolve_user_here(cfg.user.as_deref())?;
    security::add_groups_here(&mut id, &cfg.group_add)?;
    // `ALL` (privileged, `cap_add: [ALL]`) means all that stack itself
    // holds: capset refuses more (a kernel's unknown bits, or what the
    // host withheld from its root).
    let caps = security::cap_mask(&cfg.capabilities)? & security::own_permitted();

    let mut env = crate::runtime::spawn::container_env(&cfg);
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", id.home.as_deref().unwrap_or("/")));
    }
    let rootfs = format!("rootfs {}", cfg.rootfs.display());
    let cmd = cfg.argv.first().cloned().ok_or(InitError::NoCommand)?;
    let path = resolve_command(&cmd, &env, &rootfs)?;

    let cwd = cfg.cwd.clone().unwrap_or_else(|| "/".into());
    if !cwd.starts_with('/') {
        return Err(InitError::CwdNotAbsolute { cwd });
    }
    match std::fs::metadata(&cwd) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(InitError::CwdNotDirectory { cwd }),
        // Docker creates a missing WORKDIR; so do we.
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&cwd).map_err(|source| InitError::CwdCreate {
                cwd: cwd.clone(),
                source,
            })?
        }
        Err(source) => return Err(InitError::CwdUse { cwd, source }),
    }
    // The init waits in the working dir, so `exec` finds it as
    // /proc/<init>/cwd and starts there by default, as Docker does.
    std::env::set_current_dir(&cwd).map_err(|source| InitError::CwdChange {
        cwd: cwd.clone(),
        source,
    })?;

    let c = |s: &str, what: &'static str| {
        CString::new(s).map_err(|_| InitError::Nul {
            what,
            value: s.to_string(),
        })
    };
    Ok(Prepared {
        init: cfg.init,
        log: Some(OwnedFd::from(log)),
        path: c(&path, "command")?,
        argv: cfg
            .argv
            .iter()
            .map(|a| c(a, "argument"))
            .collect::<Result<_, _>>()?,
        envp: env
            .iter()
            .map(|e| c(e, "environment entry"))
            .collect::<Result<_, _>>()?,
        id,
        caps,
        last_cap: security::last_cap(),
        no_new_privs: cfg.security.no_new_privs,
        seccomp: cfg.security.seccomp.as_ref().map(|p| p.load()),
        cwd: c(&cwd, "working_dir")?,
        cwd_fd: None,
        cmd,
        user: cfg.user.clone().unwrap_or_else(|| "root".into()),
        rootfs,
    })
}

/// `argv[0]` as `execvp` would find it, or the sentence saying where we looked.
pub(crate) fn resolve_command(
    cmd: &str,
    env: &[String],
    rootfs: &str,
) -> Result<String, CommandError> {
    if cmd.contains('/') {
        if std::fs::metadata(cmd).is_err() {
            return Err(CommandError::NoFile {
                cmd: cmd.to_string(),
                rootfs: rootfs.to_string(),
            });
        }
        return Ok(cmd.to_string());
    }
    security::find_executable(Path::new("/"), cmd, security::path_of(env)).map_err(|looked| {
        CommandError::NotInPath {
            cmd: cmd.to_string(),
            rootfs: rootfs.to_string(),
            looked,
        }
    })
}

/// Bring `lo` up in the new network namespace (ioctl, no `ip` binary).
fn loopback_up() -> io::Result<()> {
    #[repr(C)]
    struct IfReq {
        name: [u8; libc::IFNAMSIZ],
        flags: libc::c_short,
        _pad: [u8; 22],
    }
    // SAFETY: socket with constant arguments; the fd is owned below.
    let s = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if s < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: s is a fresh fd.
    let s = unsafe { OwnedFd::from_raw_fd(s) };
    let mut req = IfReq {
        name: [0; libc::IFNAMSIZ],
        flags: 0,
        _pad: [0; 22],
    };
    req.name[..2].copy_from_slice(b"lo");
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write an ifreq-sized struct we own.
    unsafe {
        if libc::ioctl(s.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) < 0 {
            return Err(io::Error::last_os_error());
        }
        req.flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(s.as_raw_fd(), libc::SIOCSIFFLAGS, &req) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
