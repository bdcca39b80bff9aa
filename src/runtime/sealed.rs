//! The binary a container's init runs from: a sealed in-memory copy of our
//! own executable (CVE-2019-5736). A process inside a container can reach its
//! init's executable through `/proc/<pid>/exe`; if that were the host's
//! `stack` binary, root in the container could overwrite it. A memfd with
//! write seals cannot be changed by anyone, and it is made once per process.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

static INIT_EXE: Mutex<Option<PathBuf>> = Mutex::new(None);
static SEALED: OnceLock<Result<OwnedFd, String>> = OnceLock::new();

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
pub fn sealed_exe() -> Result<RawFd, String> {
    match SEALED.get_or_init(make_sealed) {
        Ok(fd) => Ok(fd.as_raw_fd()),
        Err(e) => Err(e.clone()),
    }
}

fn make_sealed() -> Result<OwnedFd, String> {
    let path = init_exe_path();
    let what = |e: io::Error| format!("cannot make a sealed copy of {}: {e}", path.display());
    let mut src = File::open(&path).map_err(what)?;
    let name = CString::new("stack-init").map_err(|e| e.to_string())?;
    // SAFETY: name is a valid C string; flags are constants.
    let fd =
        unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
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

/// Make the sealed copy on a background thread now, so the first `start`
/// finds it ready (or waits only for the rest of the copy).
pub fn prewarm() {
    let _ = std::thread::Builder::new()
        .name("seal-init".into())
        .spawn(|| {
            let _ = sealed_exe();
        });
}
