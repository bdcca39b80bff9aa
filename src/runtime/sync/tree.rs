//! Writing and removing entries inside the container: files through a
//! temporary name and a rename, directories one name at a time.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{openat, renameat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, fstatat, mkdirat, FileStat, Mode, SFlag};
use nix::unistd::{symlinkat, unlinkat, UnlinkatFlags};

use super::resolve::{oflag_dir, refuse_pseudo_fs};

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
pub(super) fn copy_file(src: &File, mode: u32, parent: &OwnedFd, name: &CStr) -> io::Result<()> {
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

/// The names in `dir` but `.` and `..`, read in full before any is
/// changed.
fn names(dir: &OwnedFd) -> io::Result<Vec<CString>> {
    // A fresh open of the same directory: its own read position, so the
    // fd itself is never consumed.
    let listing = openat(dir, c".", oflag_dir(), Mode::empty())?;
    let mut entries = nix::dir::Dir::from_fd(listing)?;
    let mut names = Vec::new();
    for e in entries.iter() {
        let e = e?;
        let n = e.file_name();
        if n != c"." && n != c".." {
            names.push(n.to_owned());
        }
    }
    Ok(names)
}

/// Copy the host directory `src` to `name` in `parent` (merging into a
/// directory already there, replacing anything else).
pub(super) fn copy_dir(
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
pub(super) fn fill_dir(
    src: &OwnedFd,
    mode: Option<u32>,
    dst: &OwnedFd,
    depth: usize,
) -> io::Result<()> {
    refuse_pseudo_fs(dst)?;
    for n in &names(src)? {
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
pub(super) fn remove_entry(parent: &OwnedFd, name: &CStr, depth: usize) -> io::Result<()> {
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
    for n in &names(&dir)? {
        remove_entry(&dir, n, depth + 1)?;
    }
    match unlinkat(parent, name, UnlinkatFlags::RemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
