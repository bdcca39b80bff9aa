//! The binary a container's init runs from: a sealed in-memory copy of our
//! own executable (CVE-2019-5736). A process inside a container can reach its
//! init's executable through `/proc/<pid>/exe`; if that were the host's
//! `stack` binary, root in the container could overwrite it. A memfd with
//! write seals cannot be changed by anyone, and it is made once per process.
//!
//! The same holds for every other process stack puts into a container
//! (`stack exec`, health probes, `develop.watch` sync): a script inside with
//! `#!/proc/self/exe` as its interpreter would otherwise turn such a process
//! back into the host's binary, where a watcher inside can reopen it for
//! writing. So those helpers are started from the sealed copy
//! (`sealed_command`), re-exec themselves through it when they were not
//! (`reexec_sealed`), and the code that enters a container refuses to run
//! anywhere else (`running_sealed`).

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

/// Why there is no sealed copy, or it cannot be run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SealedError {
    /// Reading the binary, or making or sealing the memfd, failed. The
    /// error is shared: it is made once and kept for every later caller.
    #[error("cannot make a sealed copy of {}: {source}", path.display())]
    Copy {
        path: PathBuf,
        #[source]
        source: Arc<io::Error>,
    },
    /// An argument or environment entry cannot be passed to execveat.
    #[error("an argument contains a NUL byte")]
    ArgumentNul,
    /// execveat of the sealed copy returned.
    #[error("cannot re-execute from the sealed copy of stack: {0}")]
    Reexec(#[source] Arc<io::Error>),
}

static INIT_EXE: Mutex<Option<PathBuf>> = Mutex::new(None);
static SEALED: OnceLock<Result<OwnedFd, SealedError>> = OnceLock::new();

/// Use `path` instead of `/proc/self/exe` as the binary that provides the
/// hidden `__init` verb. Needed when the current executable is not `stack`
/// (a test harness); must be called before the first `start`. The
/// `STACK_INIT_EXE` environment variable does the same.
pub fn set_init_exe(path: impl Into<PathBuf>) {
    if let Ok(mut g) = INIT_EXE.lock() {
        *g = Some(path.into());
    }
}

/// The path of the binary that provides `stack __init` (not sealed).
pub fn init_exe_path() -> PathBuf {
    if let Some(p) = INIT_EXE.lock().ok().and_then(|g| g.clone()) {
        return p;
    }
    if let Some(p) = std::env::var_os("STACK_INIT_EXE") {
        return PathBuf::from(p);
    }
    PathBuf::from("/proc/self/exe")
}

/// The sealed copy's fd (made on first use, then shared by every container
/// this process starts, so its pages are in memory once).
pub fn sealed_exe() -> Result<RawFd, SealedError> {
    match SEALED.get_or_init(make_sealed) {
        Ok(fd) => Ok(fd.as_raw_fd()),
        Err(e) => Err(e.clone()),
    }
}

fn make_sealed() -> Result<OwnedFd, SealedError> {
    let path = init_exe_path();
    let what = |e: io::Error| SealedError::Copy {
        path: path.clone(),
        source: Arc::new(e),
    };
    let mut src = File::open(&path).map_err(what)?;
    // SAFETY: the name is a valid C string; flags are constants.
    let fd = unsafe {
        libc::memfd_create(
            MEMFD_CNAME.as_ptr(),
            libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
        )
    };
    if fd < 0 {
        return Err(what(io::Error::last_os_error()));
    }
    // SAFETY: fd was just returned by memfd_create and is owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut dst = File::from(owned);
    io::copy(&mut src, &mut dst).map_err(what)?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: fcntl on a valid fd with a constant command and argument.
    if unsafe { libc::fcntl(dst.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
        return Err(what(io::Error::last_os_error()));
    }
    Ok(OwnedFd::from(dst))
}

/// The name the sealed copy shows in `/proc/<pid>/exe` (`/memfd:<name> (deleted)`).
const MEMFD_NAME: &str = "stack-init";
/// `MEMFD_NAME` for memfd_create.
const MEMFD_CNAME: &std::ffi::CStr = c"stack-init";

/// Whether this process runs from a sealed in-memory copy of stack: its
/// executable is a memfd whose contents can no longer be written.
pub fn running_sealed() -> bool {
    let named = std::fs::read_link("/proc/self/exe").is_ok_and(|p| {
        p.to_string_lossy()
            .starts_with(&format!("/memfd:{MEMFD_NAME}"))
    });
    if !named {
        return false;
    }
    let Ok(exe) = File::open("/proc/self/exe") else {
        return false;
    };
    // SAFETY: fcntl on a valid fd with a constant command.
    let seals = unsafe { libc::fcntl(exe.as_raw_fd(), libc::F_GET_SEALS) };
    seals >= 0 && seals & libc::F_SEAL_WRITE != 0 && seals & libc::F_SEAL_SEAL != 0
}

/// Replace this process with the sealed copy of itself, same arguments and
/// environment, unless it already runs from one. For the verbs that enter a
/// container (`exec`, `__exec`, `__sync`), before they do anything else.
pub fn reexec_sealed() -> Result<(), SealedError> {
    if running_sealed() {
        return Ok(());
    }
    let fd = sealed_exe()?;
    let cstr = |s: &std::ffi::OsStr| {
        use std::os::unix::ffi::OsStrExt;
        CString::new(s.as_bytes()).map_err(|_| SealedError::ArgumentNul)
    };
    let args: Vec<CString> = std::env::args_os()
        .map(|a| cstr(&a))
        .collect::<Result<_, _>>()?;
    let env: Vec<CString> = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k;
            kv.push("=");
            kv.push(v);
            cstr(&kv)
        })
        .collect::<Result<_, _>>()?;
    let argv: Vec<*const libc::c_char> = args
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp: Vec<*const libc::c_char> = env
        .iter()
        .map(|e| e.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    // SAFETY: fd is the sealed memfd; argv and envp are NULL-terminated
    // arrays of pointers into CStrings that live until the call returns
    // (it returns only on failure).
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd,
            c"".as_ptr(),
            argv.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    Err(SealedError::Reexec(Arc::new(io::Error::last_os_error())))
}

/// A command running the sealed copy (for helpers that enter a container):
/// its `/proc/<pid>/exe` is the memfd, never the host's file. The child
/// opens `/proc/self/fd/<fd>` during its exec, before close-on-exec fds go.
pub fn sealed_command() -> Result<Command, SealedError> {
    let fd = sealed_exe()?;
    let mut c = Command::new(format!("/proc/self/fd/{fd}"));
    std::os::unix::process::CommandExt::arg0(&mut c, "stack");
    Ok(c)
}

/// `sealed_command`, or (when no sealed copy can be made) the plain binary:
/// the helper verbs re-execute through a sealed copy of their own first,
/// and say why when they cannot.
pub fn helper_command() -> Command {
    sealed_command().unwrap_or_else(|_| {
        let mut c = Command::new(init_exe_path());
        std::os::unix::process::CommandExt::arg0(&mut c, "stack");
        c
    })
}

/// Make the sealed copy on a background thread now, so the first `start`
/// finds it ready (or waits only for the rest of the copy).
pub fn prewarm() {
    let _ = std::thread::Builder::new()
        .name("seal-init".into())
        .spawn(|| {
            let _ = sealed_exe();
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memfd_names_agree() {
        assert_eq!(MEMFD_CNAME.to_str().ok(), Some(MEMFD_NAME));
    }
}
