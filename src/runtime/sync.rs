//! Copying files from the host into a running container (`develop.watch`
//! with `action: sync`), and removing them again.
//!
//! The supervisor is multi-threaded, so it never joins a namespace itself:
//! `sync` runs `stack __sync <pid>` (a fresh, single-threaded process), sends
//! it the operations as JSON on stdin and reads one JSON reply on stdout.
//!
//! The helper opens every host source first, while its root and `/proc` are
//! still the host's, then joins the container's mount namespace and chroots
//! to the init's root. Inside, a target's parent directories are resolved
//! with `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` relative to that
//! root: a symlink the container planted (`/app -> /etc`,
//! `-> ../../..`) resolves inside the container, and one through a proc
//! magic link (`-> /proc/1/root/..`, `-> /proc/1/fd/3`) is refused. The last
//! component is never followed: a file is written to a temporary name in
//! its directory and renamed over the target (so a symlink there is
//! replaced, not written through, and a reader sees the old or the new
//! file, never half of one); a directory's entries are created one name at
//! a time relative to directory fds opened with `O_NOFOLLOW`. So with
//! `/app -> /etc` in the container, target `/app/x` writes the container's
//! `/etc/x` (what a `cp` by the container itself would do), never the
//! host's. Directories on proc, sys or cgroup file systems are never
//! written, and a pid that shares the host's mount namespace or root (a
//! stale pid) is refused; `sync_spawned` also refuses a reused pid.
//!
//! Semantics, as Docker's `cp` (which Compose's sync uses): files keep the
//! host's permission bits and are owned by root; a directory is merged into
//! the target (entries missing on the host are not deleted: the watcher
//! sends a `Remove` for them); symlinks inside a copied directory are copied
//! as symlinks; sockets, fifos and devices are skipped.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::errno::Errno;
use nix::fcntl::{openat, openat2, renameat, AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fchmod, fstat, fstatat, mkdirat, FileStat, Mode, SFlag};
use nix::unistd::{symlinkat, unlinkat, UnlinkatFlags};
use serde::{Deserialize, Serialize};

use super::exec::{single_threaded, Namespaces};
use super::spawn::Spawned;

/// One file or directory to put into the container, or remove from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncOp {
    /// Copy the host file or directory `host` (a directory recursively) to
    /// the absolute path `target` in the container, creating missing parent
    /// directories.
    Copy { host: PathBuf, target: String },
    /// Delete the file, symlink or directory tree at `target`; nothing
    /// there is not an error.
    Remove { target: String },
}

impl SyncOp {
    fn target(&self) -> &str {
        match self {
            SyncOp::Copy { target, .. } | SyncOp::Remove { target } => target,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The helper process could not be started or talked to.
    #[error("cannot run the sync helper `{exe} __sync {pid}`: {source}")]
    Helper {
        exe: PathBuf,
        pid: i32,
        source: io::Error,
    },
    /// The helper ended without a reply (crashed, or was killed).
    #[error(
        "the sync helper for container process {pid} ended without a reply ({status}){stderr}"
    )]
    NoReply {
        pid: i32,
        status: String,
        stderr: String,
    },
    /// A host path is not valid UTF-8 and cannot cross the JSON request.
    #[error("cannot sync {0}: the path is not valid UTF-8; rename it")]
    NotUtf8(PathBuf),
    /// Some operations failed (the others were applied); one sentence each.
    #[error("{}", .0.join("; "))]
    Failed(Vec<String>),
}

#[derive(Serialize, Deserialize)]
struct Request {
    ops: Vec<SyncOp>,
}

#[derive(Serialize, Deserialize)]
struct Reply {
    /// One sentence per failed operation (or one for the whole request).
    errors: Vec<String>,
}

/// The `stack __sync <pid> [--start-time N]` command (from the binary set
/// with `spawn::set_init_exe`, else our own). With a start time, the helper
/// refuses a `pid` that is now another process.
pub fn sync_helper_command(pid: i32, start_time: Option<u64>) -> Command {
    let mut c = super::sealed::helper_command();
    c.arg("__sync").arg(pid.to_string());
    if let Some(t) = start_time {
        c.arg("--start-time").arg(t.to_string());
    }
    c
}

/// Apply ops inside the container whose init is `pid`, in order. Runs in a
/// fresh `stack __sync` process (the supervisor is multi-threaded: never
/// setns or fork there). Every op is tried; the error lists those that
/// failed. A `pid` in the host's own mount namespace is refused.
pub fn sync(pid: i32, ops: &[SyncOp]) -> Result<(), SyncError> {
    sync_checked(pid, None, ops)
}

/// `sync`, also refusing the container if its init's pid now belongs to
/// another process (a different `Spawned::start_time`).
pub fn sync_spawned(c: &Spawned, ops: &[SyncOp]) -> Result<(), SyncError> {
    // 0: the start time was not known when it started.
    sync_checked(c.pid, (c.start_time != 0).then_some(c.start_time), ops)
}

fn sync_checked(pid: i32, start_time: Option<u64>, ops: &[SyncOp]) -> Result<(), SyncError> {
    if ops.is_empty() {
        return Ok(());
    }
    for op in ops {
        if let SyncOp::Copy { host, .. } = op {
            if host.to_str().is_none() {
                return Err(SyncError::NotUtf8(host.clone()));
            }
        }
    }
    let request = serde_json::to_vec(&Request { ops: ops.to_vec() })
        .map_err(|e| SyncError::Failed(vec![format!("cannot encode the sync request: {e}")]))?;
    let exe = super::sealed::init_exe_path();
    let helper = |source| SyncError::Helper {
        exe: exe.clone(),
        pid,
        source,
    };
    let mut child = sync_helper_command(pid, start_time)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(helper)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that dies early closes the pipe; its reply (or the lack
        // of one) below says why, so a write error adds nothing.
        let _ = stdin.write_all(&request);
    }
    let out = child.wait_with_output().map_err(helper)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str::<Reply>(l).ok())
    {
        Some(r) if r.errors.is_empty() && out.status.success() => Ok(()),
        Some(r) if !r.errors.is_empty() => Err(SyncError::Failed(r.errors)),
        _ => {
            let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
            Err(SyncError::NoReply {
                pid,
                status: out.status.to_string(),
                stderr: if stderr.is_empty() {
                    String::new()
                } else {
                    format!(": {stderr}")
                },
            })
        }
    }
}

/// Entry of the hidden `stack __sync <pid> [--start-time N]` verb: read the
/// request on stdin, apply it, print the reply on stdout. Exit code 0 when
/// every op was applied, else 1.
pub fn sync_main(pid: i32, start_time: Option<u64>) -> i32 {
    let errors = match read_request() {
        Ok(ops) => apply(pid, start_time, &ops),
        Err(e) => vec![e],
    };
    let code = i32::from(!errors.is_empty());
    let reply = serde_json::to_string(&Reply { errors }).unwrap_or_else(|_| {
        r#"{"errors":["the sync helper cannot encode its reply"]}"#.to_string()
    });
    println!("{reply}");
    code
}

fn read_request() -> Result<Vec<SyncOp>, String> {
    let mut buf = Vec::new();
    io::stdin()
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read the sync request on stdin: {e}"))?;
    let r: Request =
        serde_json::from_slice(&buf).map_err(|e| format!("invalid sync request on stdin: {e}"))?;
    Ok(r.ops)
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
fn apply(pid: i32, start_time: Option<u64>, ops: &[SyncOp]) -> Vec<String> {
    let mut errors = Vec::new();
    let mut ready = Vec::new();
    // Host side first: the sources are host paths.
    for op in ops {
        let what = describe(op);
        let (dir, name) = match split_target(op.target()) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{what}: {e}"));
                continue;
            }
        };
        let source = match op {
            SyncOp::Copy { host, .. } => match open_source(host) {
                Ok(s) => Some(s),
                Err(e) => {
                    errors.push(format!("{what}: {e}"));
                    continue;
                }
            },
            SyncOp::Remove { .. } => None,
        };
        if name.is_none() && !matches!(source, Some(Source::Dir(..))) {
            errors.push(format!(
                "{what}: the target is the container's root; name a path below /"
            ));
            continue;
        }
        ready.push(Prepared {
            op,
            dir,
            name,
            source,
        });
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
fn split_target(target: &str) -> Result<(Vec<CString>, Option<CString>), String> {
    if !target.starts_with('/') {
        return Err(format!(
            "target {target:?} is not an absolute path; write it as /{target}"
        ));
    }
    let mut comps = Vec::new();
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                return Err(format!(
                    "target {target:?} contains \"..\"; write the path without it"
                ))
            }
            c => comps.push(
                CString::new(c).map_err(|_| format!("target {target:?} contains a NUL byte"))?,
            ),
        }
    }
    let name = comps.pop();
    Ok((comps, name))
}

/// Open a host file or directory (following symlinks: the host side is the
/// user's own tree) with its permission bits.
fn open_source(host: &Path) -> Result<Source, String> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        // A fifo must not block the open; regular files ignore it.
        .custom_flags(libc::O_NONBLOCK)
        .open(host)
        .map_err(|e| format!("cannot open {} on the host: {e}", host.display()))?;
    let st = fstat(&f).map_err(|e| format!("cannot stat {} on the host: {e}", host.display()))?;
    let mode = st.st_mode & 0o7777;
    match SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) {
        SFlag::S_IFREG => Ok(Source::File(f, mode)),
        SFlag::S_IFDIR => Ok(Source::Dir(OwnedFd::from(f), mode)),
        _ => Err(format!(
            "{} is not a regular file or directory",
            host.display()
        )),
    }
}

/// Join the mount namespace of `pid` and make its init's root ours; returns
/// an fd of that root.
fn enter(pid: i32, start_time: Option<u64>) -> Result<OwnedFd, String> {
    if !single_threaded() {
        return Err("the sync helper must be single-threaded (run it as stack __sync)".into());
    }
    if !super::sealed::running_sealed() {
        return Err(
            "the sync helper must run from the sealed copy of stack (run it as stack __sync)"
                .into(),
        );
    }
    // We run with the host's capabilities in the container's mount
    // namespace, from the sealed copy: also not dumpable, so nothing can
    // open our memory (as exec does, CVE-2019-5736).
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    // Opened before joining: /proc is still the host's here.
    let ns = Namespaces::open(pid, &["mnt"]).map_err(|e| e.to_string())?;
    let root = File::options()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(format!("/proc/{pid}/root"))
        .map_err(|e| {
            format!(
                "cannot open the root of container process {pid}: {e} (is the container running?)"
            )
        })?;
    let root = OwnedFd::from(root);
    // Checked after the opens: if `pid` still is the process we were told
    // of now, the fds above are its (a pid is reused only after it died).
    if let Some(want) = start_time {
        if super::spawn::proc_start_time(pid) != Some(want) {
            return Err(format!(
                "container process {pid} has exited (the pid now belongs to another process)"
            ));
        }
    }
    // A stale pid of a host process would make the host's root our target.
    let id = |p: &str| nix::sys::stat::stat(p).ok().map(|s| (s.st_dev, s.st_ino));
    let host_root = id("/");
    let their_root = fstat(&root).ok().map(|s| (s.st_dev, s.st_ino));
    if id("/proc/self/ns/mnt") == id(&format!("/proc/{pid}/ns/mnt")) || their_root == host_root {
        return Err(format!(
            "process {pid} is not in a container (it shares the host's mount namespace or root)"
        ));
    }
    ns.join().map_err(|e| e.to_string())?;
    // setns(CLONE_NEWNS) already sets our root and cwd to the namespace's
    // root mount (followed down to the topmost mount: the init's
    // pivot_root'ed root). Chrooting to the init's own root as well covers
    // an init that is not at that root, and keeps absolute paths of any
    // call below inside the container.
    nix::unistd::fchdir(&root)
        .and_then(|()| nix::unistd::chroot("."))
        .map_err(|e| format!("cannot change root to the container's: {e}"))?;
    let here = nix::sys::stat::stat("/").map_err(|e| format!("cannot stat /: {e}"))?;
    let want = fstat(&root).map_err(|e| format!("cannot stat the container's root: {e}"))?;
    if (here.st_dev, here.st_ino) != (want.st_dev, want.st_ino) {
        return Err("the container's root is not our root after joining it".into());
    }
    Ok(root)
}

fn run_op(root: &OwnedFd, p: &Prepared) -> Result<(), String> {
    let at = |(dir, e): (CString, io::Error)| {
        format!("directory /{}: {}", dir.to_string_lossy(), reason(&e))
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
    r.map_err(|e| reason(&e))
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

fn oflag_dir() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC
}

/// Open `comps` (relative to the container's root) as a directory,
/// resolving symlinks inside the container only; with `create`, make the
/// missing ones (0755, as `mkdir -p`).
fn resolve_dir(
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
fn refuse_pseudo_fs(dir: &OwnedFd) -> io::Result<()> {
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

fn tmp_name(name: &CStr) -> CString {
    let mut v = b".".to_vec();
    v.extend_from_slice(name.to_bytes());
    v.extend_from_slice(format!(".stack-sync-{}", std::process::id()).as_bytes());
    CString::new(v).unwrap_or_default()
}

fn lstat_at(dir: &impl AsFd, name: &CStr) -> nix::Result<FileStat> {
    fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW)
}

fn is_dir(st: &FileStat) -> bool {
    st.st_mode & SFlag::S_IFMT.bits() == SFlag::S_IFDIR.bits()
}

/// Write `src` to a temporary name in `parent`, then rename it over `name`.
fn copy_file(src: &File, mode: u32, parent: &OwnedFd, name: &CStr) -> io::Result<()> {
    let tmp = tmp_name(name);
    let _ = unlinkat(parent, tmp.as_c_str(), UnlinkatFlags::NoRemoveDir);
    let fd = openat(
        parent,
        tmp.as_c_str(),
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o600),
    )?;
    let result = (|| {
        let mut out = File::from(fd);
        let mut input = src;
        io::copy(&mut input, &mut out)?;
        fchmod(&out, Mode::from_bits_truncate(mode))?;
        drop(out);
        rename_over(parent, &tmp, name, 0)
    })();
    if result.is_err() {
        let _ = unlinkat(parent, tmp.as_c_str(), UnlinkatFlags::NoRemoveDir);
    }
    result
}

/// Rename `tmp` over `name`; a directory there is removed first (the host
/// replaced a directory with a file or symlink).
fn rename_over(parent: &OwnedFd, tmp: &CStr, name: &CStr, depth: usize) -> io::Result<()> {
    match renameat(parent, tmp, parent, name) {
        Err(Errno::EISDIR | Errno::ENOTEMPTY | Errno::EEXIST) => {
            remove_entry(parent, name, depth)?;
            Ok(renameat(parent, tmp, parent, name)?)
        }
        r => Ok(r?),
    }
}

/// Depth limit of a copied or removed tree, far beyond real source trees:
/// it bounds the recursion (and the open directory fds).
const MAX_DEPTH: usize = 128;

fn too_deep() -> io::Error {
    io::Error::other(format!(
        "the directory tree is deeper than {MAX_DEPTH} levels"
    ))
}

/// Copy the host directory `src` to `name` in `parent` (merging into a
/// directory already there, replacing anything else).
fn copy_dir(
    src: &OwnedFd,
    mode: u32,
    parent: &OwnedFd,
    name: &CStr,
    depth: usize,
) -> io::Result<()> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    match lstat_at(parent, name) {
        Ok(st) if is_dir(&st) => {}
        Ok(_) => {
            unlinkat(parent, name, UnlinkatFlags::NoRemoveDir)?;
            mkdirat(parent, name, Mode::from_bits_truncate(0o700))?;
        }
        Err(Errno::ENOENT) => mkdirat(parent, name, Mode::from_bits_truncate(0o700))?,
        Err(e) => return Err(e.into()),
    }
    // O_NOFOLLOW: if the container swapped the directory for a symlink
    // since, this fails instead of following it.
    let dst = openat(parent, name, oflag_dir() | OFlag::O_NOFOLLOW, Mode::empty())?;
    fill_dir(src, Some(mode), &dst, depth)
}

/// Copy the entries of the host directory `src` into `dst`, then give
/// `dst` the mode `mode`.
fn fill_dir(src: &OwnedFd, mode: Option<u32>, dst: &OwnedFd, depth: usize) -> io::Result<()> {
    refuse_pseudo_fs(dst)?;
    // A fresh open of the same directory: its own read position, so the
    // source fd itself is never consumed.
    let listing = openat(src, c".", oflag_dir(), Mode::empty())?;
    let mut entries = nix::dir::Dir::from_fd(listing)?;
    let mut names: Vec<CString> = Vec::new();
    for e in entries.iter() {
        let e = e?;
        let n = e.file_name();
        if n != c"." && n != c".." {
            names.push(n.to_owned());
        }
    }
    drop(entries);
    for n in &names {
        // The host tree is read relative to fds opened on the host, never
        // following a symlink: our root is the container's by now.
        let st = match lstat_at(src, n) {
            Ok(st) => st,
            Err(Errno::ENOENT) => continue, // deleted meanwhile; a Remove follows
            Err(e) => return Err(e.into()),
        };
        let kind = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits());
        let m = st.st_mode & 0o7777;
        match kind {
            SFlag::S_IFREG => {
                let f = openat(
                    src,
                    n.as_c_str(),
                    OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )?;
                copy_file(&File::from(f), m, dst, n)?;
            }
            SFlag::S_IFDIR => {
                let d = openat(
                    src,
                    n.as_c_str(),
                    oflag_dir() | OFlag::O_NOFOLLOW,
                    Mode::empty(),
                )?;
                copy_dir(&d, m, dst, n, depth + 1)?;
            }
            SFlag::S_IFLNK => {
                let link = nix::fcntl::readlinkat(src, n.as_c_str())?;
                copy_symlink(&link, dst, n)?;
            }
            _ => {} // sockets, fifos, devices: nothing to copy
        }
    }
    if let Some(mode) = mode {
        fchmod(dst, Mode::from_bits_truncate(mode))?;
    }
    Ok(())
}

/// Create a symlink with the host's link text under a temporary name and
/// rename it over `name` (its text is never resolved here).
fn copy_symlink(link: &OsString, dst: &OwnedFd, name: &CStr) -> io::Result<()> {
    let tmp = tmp_name(name);
    let _ = unlinkat(dst, tmp.as_c_str(), UnlinkatFlags::NoRemoveDir);
    symlinkat(OsStr::new(link), dst, tmp.as_c_str())?;
    let r = rename_over(dst, &tmp, name, 0);
    if r.is_err() {
        let _ = unlinkat(dst, tmp.as_c_str(), UnlinkatFlags::NoRemoveDir);
    }
    r
}

/// Delete `name` in `parent`: a file or symlink (not followed), or a
/// directory tree. Missing is fine.
fn remove_entry(parent: &OwnedFd, name: &CStr, depth: usize) -> io::Result<()> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    match unlinkat(parent, name, UnlinkatFlags::NoRemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => return Ok(()),
        Err(Errno::EISDIR) => {}
        Err(e) => return Err(e.into()),
    }
    let dir = openat(parent, name, oflag_dir() | OFlag::O_NOFOLLOW, Mode::empty())?;
    refuse_pseudo_fs(&dir)?;
    let listing = openat(&dir, c".", oflag_dir(), Mode::empty())?;
    let mut entries = nix::dir::Dir::from_fd(listing)?;
    let mut names: Vec<CString> = Vec::new();
    for e in entries.iter() {
        let e = e?;
        let n = e.file_name();
        if n != c"." && n != c".." {
            names.push(n.to_owned());
        }
    }
    drop(entries);
    for n in &names {
        remove_entry(&dir, n, depth + 1)?;
    }
    match unlinkat(parent, name, UnlinkatFlags::RemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[CString]) -> Vec<&str> {
        v.iter().map(|c| c.to_str().unwrap()).collect()
    }

    #[test]
    fn targets_split_into_components() {
        let (d, n) = split_target("/app//src/./main.py").unwrap();
        assert_eq!(names(&d), ["app", "src"]);
        assert_eq!(n.unwrap().to_str().unwrap(), "main.py");
        let (d, n) = split_target("/").unwrap();
        assert!(d.is_empty() && n.is_none());
        assert!(split_target("app/x")
            .unwrap_err()
            .contains("write it as /app/x"));
        assert!(split_target("/app/../etc").unwrap_err().contains("\"..\""));
        assert!(split_target("/a\0b").unwrap_err().contains("NUL"));
    }

    #[test]
    fn ops_round_trip_as_json() {
        let ops = vec![
            SyncOp::Copy {
                host: "/src/a".into(),
                target: "/app/a".into(),
            },
            SyncOp::Remove {
                target: "/app/b".into(),
            },
        ];
        let s = serde_json::to_string(&Request { ops: ops.clone() }).unwrap();
        let back: Request = serde_json::from_str(&s).unwrap();
        assert_eq!(back.ops, ops);
    }

    #[test]
    fn host_side_errors_are_reported_per_op_without_joining() {
        // These fail before any namespace is joined, so they run unprivileged.
        let errs = apply(
            1,
            None,
            &[
                SyncOp::Copy {
                    host: "/nonexistent/stack-sync".into(),
                    target: "/app/x".into(),
                },
                SyncOp::Remove {
                    target: "relative".into(),
                },
                SyncOp::Copy {
                    host: "/dev/null".into(),
                    target: "/x".into(),
                },
                SyncOp::Remove { target: "/".into() },
            ],
        );
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(errs[0].starts_with(
            "cannot sync /nonexistent/stack-sync to /app/x in the container: cannot open /nonexistent/stack-sync on the host"
        ), "{errs:?}");
        assert!(errs[1].contains("not an absolute path"), "{errs:?}");
        assert!(
            errs[2].contains("not a regular file or directory"),
            "{errs:?}"
        );
        assert!(errs[3].contains("the container's root"), "{errs:?}");
    }

    #[test]
    fn helper_command_args() {
        let c = sync_helper_command(42, Some(7));
        let args: Vec<_> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args, ["__sync", "42", "--start-time", "7"]);
    }
}
