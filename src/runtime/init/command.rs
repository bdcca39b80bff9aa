//! Becoming the command: the steps between fork and exec, raw syscalls
//! only, and the sentence for the step that failed.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::Prepared;
use crate::runtime::security;

// Steps of `exec_command`, reported through the exec-status pipe.
const STEP_BOUNDING: u8 = 1;
const STEP_USER: u8 = 2;
const STEP_CAPS: u8 = 3;
const STEP_NNP: u8 = 4;
const STEP_CWD: u8 = 5;
pub(crate) const STEP_FDS: u8 = 6;
const STEP_EXEC: u8 = 7;
const STEP_SECCOMP: u8 = 8;

/// Become the command: capabilities, user, no_new_privs, cwd, fds, exec.
/// Returns only on failure, with the step and errno. Raw syscalls only.
pub(crate) fn exec_command(
    p: &Prepared,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> (u8, i32) {
    let errno = |e: io::Error| e.raw_os_error().unwrap_or(libc::EIO);
    // SAFETY: plain signal-mask and disposition calls on local data: the
    // command must not inherit the init's blocked signals.
    unsafe {
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        // Ignored signals stay ignored across exec (Rust ignores SIGPIPE;
        // the supervisor may ignore more): start the command from defaults.
        for sig in 1..=libc::SIGRTMAX() {
            libc::signal(sig, libc::SIG_DFL);
        }
    }
    if let Err(e) = security::drop_bounding(p.caps, p.last_cap) {
        return (STEP_BOUNDING, errno(e));
    }
    // Without no_new_privs only CAP_SYS_ADMIN may install a filter: do it
    // while we still hold it (the profile must then allow the few calls
    // left before execve, as Docker's does).
    if !p.no_new_privs {
        if let Some(Err(e)) = p.seccomp.as_ref().map(|f| f.install()) {
            return (STEP_SECCOMP, e);
        }
    }
    if let Err(e) = security::set_identity(&p.id) {
        return (STEP_USER, errno(e));
    }
    // A non-root user ends up with no capabilities at all, as in Docker.
    let caps = if p.id.uid == 0 { p.caps } else { 0 };
    if let Err(e) = security::set_caps(caps) {
        return (STEP_CAPS, errno(e));
    }
    if p.no_new_privs {
        if let Err(e) = security::no_new_privs() {
            return (STEP_NNP, errno(e));
        }
    }
    // SAFETY: fchdir on an fd we hold, or chdir with a valid C string.
    let r = unsafe {
        match p.cwd_fd {
            Some(fd) => libc::fchdir(fd),
            None => libc::chdir(p.cwd.as_ptr()),
        }
    };
    if r != 0 {
        return (STEP_CWD, errno(io::Error::last_os_error()));
    }
    // Close-on-exec rather than close: the exec-status pipe must stay
    // usable until exec succeeds.
    // SAFETY: close_range with integer arguments.
    if unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    } != 0
    {
        return (STEP_FDS, errno(io::Error::last_os_error()));
    }
    // Last, so the filter judges the command alone, not our set-up.
    if p.no_new_privs {
        if let Some(Err(e)) = p.seccomp.as_ref().map(|f| f.install()) {
            return (STEP_SECCOMP, e);
        }
    }
    // SAFETY: NULL-terminated arrays of pointers into live CStrings.
    unsafe { libc::execve(p.path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    (STEP_EXEC, errno(io::Error::last_os_error()))
}

/// The step of `exec_command` that failed, as the user reads it.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("cannot drop capabilities: {0}")]
    Bounding(#[source] io::Error),
    #[error("cannot switch to user {user:?}: {source}")]
    User {
        user: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot set capabilities: {0}")]
    Caps(#[source] io::Error),
    #[error("cannot set no_new_privs: {0}")]
    NoNewPrivs(#[source] io::Error),
    #[error("cannot change to working_dir {cwd:?}: {source}")]
    Cwd {
        cwd: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot close inherited file descriptors: {0}")]
    Fds(#[source] io::Error),
    #[error("cannot install the seccomp filter: {0}")]
    Seccomp(#[source] io::Error),
    /// execve said ENOENT of a file that exists.
    #[error("cannot run {cmd:?}: {path} exists but its interpreter or a shared library it needs is missing in {rootfs}")]
    Interpreter {
        cmd: String,
        path: String,
        rootfs: String,
    },
    #[error("cannot run {cmd:?}: permission denied for {path} (is it executable and may user {user:?} run it?)")]
    Permission {
        cmd: String,
        path: String,
        user: String,
    },
    #[error("cannot run {cmd:?}: {path} is not an executable for this machine")]
    NotExecutable { cmd: String, path: String },
    #[error("cannot run {cmd:?}: {source}")]
    Exec {
        cmd: String,
        #[source]
        source: io::Error,
    },
}

impl StepError {
    /// The exit status Docker gives a command that could not run: 127
    /// when it (or its interpreter) is not there, 126 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            StepError::Interpreter { .. } => 127,
            _ => 126,
        }
    }

    /// What `exec_command`'s (step, errno) means for the command `p`.
    pub(crate) fn new(p: &Prepared, step: u8, errno: i32) -> StepError {
        let e = io::Error::from_raw_os_error(errno);
        let path = p.path.to_string_lossy().into_owned();
        let cmd = p.cmd.clone();
        match step {
            STEP_BOUNDING => StepError::Bounding(e),
            STEP_USER => StepError::User {
                user: p.user.clone(),
                source: e,
            },
            STEP_CAPS => StepError::Caps(e),
            STEP_NNP => StepError::NoNewPrivs(e),
            STEP_CWD => StepError::Cwd {
                cwd: p.cwd.to_string_lossy().into_owned(),
                source: e,
            },
            STEP_FDS => StepError::Fds(e),
            STEP_SECCOMP => StepError::Seccomp(e),
            _ => match errno {
                libc::ENOENT => StepError::Interpreter {
                    cmd,
                    path,
                    rootfs: p.rootfs.clone(),
                },
                libc::EACCES => StepError::Permission {
                    cmd,
                    path,
                    user: p.user.clone(),
                },
                libc::ENOEXEC => StepError::NotExecutable { cmd, path },
                _ => StepError::Exec { cmd, source: e },
            },
        }
    }
}

/// The exec-status pipe, close-on-exec: the parent reads EOF when the
/// child's exec worked, else the step that failed and its errno.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two fds into a local array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both fds are fresh and ours.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// In the forked child: tell the parent which step failed, then exit 127.
pub(crate) fn report_step(w: &OwnedFd, step: u8, errno: i32) -> ! {
    let mut msg = [0u8; 5];
    msg[0] = step;
    msg[1..].copy_from_slice(&errno.to_le_bytes());
    // SAFETY: write from a local buffer, then _exit without unwinding.
    unsafe {
        libc::write(w.as_raw_fd(), msg.as_ptr().cast(), msg.len());
        libc::_exit(127);
    }
}

/// In the parent: the step and errno the child reported, or `None` when
/// its exec worked (the pipe closed without a word).
pub(crate) fn read_step(r: OwnedFd) -> Option<(u8, i32)> {
    let mut msg = [0u8; 5];
    let n = io::Read::read(&mut File::from(r), &mut msg).unwrap_or(0);
    (n == 5).then(|| (msg[0], i32::from_le_bytes([msg[1], msg[2], msg[3], msg[4]])))
}

pub(crate) fn ptrs(v: &[CString]) -> Vec<*const libc::c_char> {
    v.iter()
        .map(|c| c.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}
