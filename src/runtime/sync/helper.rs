//! The helper's side: check every op and open its host source while the
//! host is still ours, join the container once, then run each op there.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::stat::{fstat, SFlag};

use super::enter::enter;
use super::resolve::resolve_dir;
use super::tree::{copy_dir, copy_file, fill_dir, remove_entry};
use super::SyncOp;
use crate::runtime::spawn::SpawnError;

/// Why the helper could not apply an op (or read the request): the end of
/// one sentence of the reply, after what the op was.
#[derive(Debug, thiserror::Error)]
pub(super) enum OpError {
    #[error("cannot read the sync request on stdin: {0}")]
    ReadRequest(#[source] io::Error),
    #[error("invalid sync request on stdin: {0}")]
    BadRequest(#[source] serde_json::Error),
    #[error("target {target:?} is not an absolute path; write it as /{target}")]
    NotAbsolute { target: String },
    #[error("target {target:?} contains \"..\"; write the path without it")]
    DotDot { target: String },
    #[error("target {target:?} contains a NUL byte")]
    Nul { target: String },
    #[error("cannot open {} on the host: {source}", path.display())]
    OpenHost {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot stat {} on the host: {source}", path.display())]
    StatHost {
        path: PathBuf,
        #[source]
        source: Errno,
    },
    #[error("{} is not a regular file or directory", path.display())]
    NotFileOrDir { path: PathBuf },
    #[error("the target is the container's root; name a path below /")]
    RootTarget,
    #[error("the sync helper must be single-threaded (run it as stack __sync)")]
    NotSingleThreaded,
    #[error("the sync helper must run from the sealed copy of stack (run it as stack __sync)")]
    NotSealed,
    /// Opening or joining the container's mount namespace.
    #[error(transparent)]
    Namespace(#[from] SpawnError),
    #[error(
        "cannot open the root of container process {pid}: {source} (is the container running?)"
    )]
    OpenRoot {
        pid: i32,
        #[source]
        source: io::Error,
    },
    #[error("container process {pid} has exited (the pid now belongs to another process)")]
    PidReused { pid: i32 },
    #[error("process {pid} is not in a container (it shares the host's mount namespace or root)")]
    NotInContainer { pid: i32 },
    #[error("cannot change root to the container's: {0}")]
    Chroot(#[source] Errno),
    #[error("cannot stat /: {0}")]
    StatSlash(#[source] Errno),
    #[error("cannot stat the container's root: {0}")]
    StatRoot(#[source] Errno),
    #[error("the container's root is not our root after joining it")]
    RootMismatch,
    /// A parent directory of the target could not be resolved or made.
    #[error("directory /{dir}: {}", reason(source))]
    Dir {
        dir: String,
        #[source]
        source: io::Error,
    },
    /// The copy or removal itself failed.
    #[error("{}", reason(.0))]
    Io(#[source] io::Error),
}

/// A source opened on the host side, before entering the container.
enum Source {
    File(File, u32),
    Dir(OwnedFd, u32),
}

/// An op ready to run inside: its target split into components.
struct Prepared<'a> {
    op: &'a SyncOp,
    dir: Vec<CString>,
    name: Option<CString>,
    source: Option<Source>,
}

/// Join the container and apply `ops`; one sentence per failure.
pub(super) fn apply(pid: i32, start_time: Option<u64>, ops: &[SyncOp]) -> Vec<String> {
    let mut errors = Vec::new();
    let mut ready = Vec::new();
    // Host side first: the sources are host paths.
    for op in ops {
        match prepare(op) {
            Ok(p) => ready.push(p),
            Err(e) => errors.push(format!("{}: {e}", describe(op))),
        }
    }
    if ready.is_empty() {
        return errors;
    }
    let root = match enter(pid, start_time) {
        Ok(r) => r,
        Err(e) => {
            errors.extend(ready.iter().map(|p| format!("{}: {e}", describe(p.op))));
            return errors;
        }
    };
    for p in ready {
        if let Err(e) = run_op(&root, &p) {
            errors.push(format!("{}: {e}", describe(p.op)));
        }
    }
    errors
}

/// Split the target and open the host source, on the host side.
fn prepare(op: &SyncOp) -> Result<Prepared<'_>, OpError> {
    let (dir, name) = split_target(op.target())?;
    let source = match op {
        SyncOp::Copy { host, .. } => Some(open_source(host)?),
        SyncOp::Remove { .. } => None,
    };
    if name.is_none() && !matches!(source, Some(Source::Dir(..))) {
        return Err(OpError::RootTarget);
    }
    Ok(Prepared {
        op,
        dir,
        name,
        source,
    })
}

fn describe(op: &SyncOp) -> String {
    match op {
        SyncOp::Copy { host, target } => {
            format!(
                "cannot sync {} to {target} in the container",
                host.display()
            )
        }
        SyncOp::Remove { target } => format!("cannot remove {target} in the container"),
    }
}

/// `/a/b/c` → (["a", "b"], Some("c")); `/` → ([], None). Only absolute
/// paths without `..` (whose meaning would depend on symlinks).
pub(super) fn split_target(target: &str) -> Result<(Vec<CString>, Option<CString>), OpError> {
    if !target.starts_with('/') {
        return Err(OpError::NotAbsolute {
            target: target.to_string(),
        });
    }
    let mut comps = Vec::new();
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                return Err(OpError::DotDot {
                    target: target.to_string(),
                })
            }
            c => comps.push(CString::new(c).map_err(|_| OpError::Nul {
                target: target.to_string(),
            })?),
        }
    }
    let name = comps.pop();
    Ok((comps, name))
}

/// Open a host file or directory (following symlinks: the host side is the
/// user's own tree) with its permission bits.
fn open_source(host: &Path) -> Result<Source, OpError> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        // A fifo must not block the open; regular files ignore it.
        .custom_flags(libc::O_NONBLOCK)
        .open(host)
        .map_err(|source| OpError::OpenHost {
            path: host.to_path_buf(),
            source,
        })?;
    let st = fstat(&f).map_err(|source| OpError::StatHost {
        path: host.to_path_buf(),
        source,
    })?;
    let mode = st.st_mode & 0o7777;
    match SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) {
        SFlag::S_IFREG => Ok(Source::File(f, mode)),
        SFlag::S_IFDIR => Ok(Source::Dir(OwnedFd::from(f), mode)),
        _ => Err(OpError::NotFileOrDir {
            path: host.to_path_buf(),
        }),
    }
}

fn run_op(root: &OwnedFd, p: &Prepared) -> Result<(), OpError> {
    let at = |(dir, source): (CString, io::Error)| OpError::Dir {
        dir: dir.to_string_lossy().into_owned(),
        source,
    };
    let r = match (&p.source, &p.name) {
        (Some(src), name) => {
            let parent = resolve_dir(root, &p.dir, true).map_err(at)?;
            match (src, name) {
                (Source::File(f, mode), Some(name)) => copy_file(f, *mode, &parent, name),
                (Source::Dir(d, mode), Some(name)) => copy_dir(d, *mode, &parent, name, 0),
                // The container root keeps its own mode.
                (Source::Dir(d, _), None) => fill_dir(d, None, &parent, 0),
                (Source::File(..), None) => Err(io::Error::from(io::ErrorKind::InvalidInput)),
            }
        }
        (None, Some(name)) => match resolve_dir(root, &p.dir, false) {
            Ok(parent) => remove_entry(&parent, name, 0),
            // No parent, nothing to remove.
            Err((_, e)) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
            Err(e) => return Err(at(e)),
        },
        (None, None) => Err(io::Error::from(io::ErrorKind::InvalidInput)),
    };
    r.map_err(OpError::Io)
}

/// An error as the end of a sentence: lowercase, without "(os error N)".
fn reason(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ELOOP) => "it is, or goes through, a symlink into /proc (a magic link) or a symlink loop, which sync never follows".into(),
        Some(libc::EROFS) => "the container's file system is read-only there".into(),
        Some(n) => {
            let d = Errno::from_raw(n).desc();
            let mut c = d.chars();
            match c.next() {
                Some(f) => f.to_lowercase().chain(c).collect(),
                None => d.to_string(),
            }
        }
        None => e.to_string(),
    }
}
