//! An image flattened into one directory, `<cache>/flat/sha256/<chain>/`,
//! for when its layers do not fit in overlay's `lowerdir=` (one page of
//! mount data, ~40 layers of cache paths) or exceed overlay's 500 layers.
//!
//! The layers are applied base first: a whiteout (0:0 device) removes the
//! name, an opaque directory empties what lower layers put there, and every
//! other non-directory is hard-linked from its layer (no data is copied;
//! nothing writes to a lower layer, so sharing the inodes is safe).
//! Directories are made with their layer's owner, mode and mtime. Every
//! path is walked from directory fds with `O_NOFOLLOW`, never following a
//! symlink a layer holds. The key `<chain>` is the sha256 of the layer
//! directories' names in order, so images with the same layers share it.

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, fstatat, futimens, mkdirat, FileStat, Mode, SFlag};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchown, linkat, unlinkat, Gid, Uid, UnlinkatFlags};
use sha2::{Digest, Sha256};

use super::super::cache::{self, io_err};
use super::super::RootfsError;
use super::whiteout::OPAQUE_XATTR;

/// Flatten `layers` (unpacked layer directories, base first) once and
/// return the directory.
pub fn flatten(cache: &Path, layers: &[PathBuf]) -> Result<PathBuf, RootfsError> {
    let mut h = Sha256::new();
    for l in layers {
        h.update(l.file_name().unwrap_or_default().as_encoded_bytes());
        h.update(b"\n");
    }
    let key = hex::encode(h.finalize());
    let dir = cache.join("flat").join("sha256");
    cache::get_or_build(&dir, &key, |tmp| {
        let dst = open_dir_at(None, tmp).map_err(|e| io_err("open", tmp, e.into()))?;
        for l in layers {
            let src = open_dir_at(None, l).map_err(|e| io_err("open layer", l, e.into()))?;
            merge(&src, &dst, l).map_err(|(rel, e)| {
                io_err(
                    &format!("flatten layer (at {})", rel.display()),
                    l,
                    e.into(),
                )
            })?;
        }
        Ok(())
    })
}

type Fail = (PathBuf, Errno);

fn open_dir_at(dir: Option<&OwnedFd>, name: &(impl nix::NixPath + ?Sized)) -> nix::Result<OwnedFd> {
    let flags = OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_RDONLY | OFlag::O_CLOEXEC;
    match dir {
        Some(d) => openat(d, name, flags, Mode::empty()),
        None => openat(nix::fcntl::AT_FDCWD, name, flags, Mode::empty()),
    }
}

fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT
}

fn names(dir: &OwnedFd) -> nix::Result<Vec<CString>> {
    let mut d = Dir::from_fd(dir.try_clone().map_err(|_| Errno::EMFILE)?)?;
    let mut out = Vec::new();
    for e in d.iter() {
        let e = e?;
        let n = e.file_name();
        if n != c"." && n != c".." {
            out.push(n.to_owned());
        }
    }
    Ok(out)
}

fn is_opaque(dir: &OwnedFd) -> bool {
    let mut v = [0u8; 4];
    // SAFETY: the fd is open, the name is NUL-terminated and the buffer
    // pointer/length describe a live local array.
    let n = unsafe {
        libc::fgetxattr(
            dir.as_raw_fd(),
            OPAQUE_XATTR.as_ptr(),
            v.as_mut_ptr().cast(),
            v.len(),
        )
    };
    n == 1 && v[0] == b'y'
}

/// Remove `name` in `dir`, a whole tree if it is a directory.
fn remove_at(dir: &OwnedFd, name: &CStr) -> nix::Result<()> {
    let st = match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::ENOENT) => return Ok(()),
        Err(e) => return Err(e),
    };
    if kind(&st) == SFlag::S_IFDIR {
        let sub = open_dir_at(Some(dir), name)?;
        for n in names(&sub)? {
            remove_at(&sub, &n)?;
        }
        unlinkat(dir, name, UnlinkatFlags::RemoveDir)
    } else {
        unlinkat(dir, name, UnlinkatFlags::NoRemoveDir)
    }
}

/// Apply the layer directory `src` onto `dst`; errors say where (`rel`).
fn merge(src: &OwnedFd, dst: &OwnedFd, rel: &Path) -> Result<(), Fail> {
    let at = |n: &CStr| rel.join(n.to_string_lossy().as_ref());
    for n in names(src).map_err(|e| (rel.to_path_buf(), e))? {
        let fail = |e| (at(&n), e);
        let st = fstatat(src, n.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW).map_err(fail)?;
        let k = kind(&st);
        if k == SFlag::S_IFCHR && st.st_rdev == 0 {
            remove_at(dst, &n).map_err(fail)?;
            continue;
        }
        if k != SFlag::S_IFDIR {
            remove_at(dst, &n).map_err(fail)?;
            linkat(src, n.as_c_str(), dst, n.as_c_str(), AtFlags::empty()).map_err(fail)?;
            continue;
        }
        let sub_src = open_dir_at(Some(src), n.as_c_str()).map_err(fail)?;
        let existing = match fstatat(dst, n.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(d) => Some(kind(&d)),
            Err(Errno::ENOENT) => None,
            Err(e) => return Err(fail(e)),
        };
        if existing.is_some() && (existing != Some(SFlag::S_IFDIR) || is_opaque(&sub_src)) {
            remove_at(dst, &n).map_err(fail)?;
        }
        if existing != Some(SFlag::S_IFDIR) || is_opaque(&sub_src) {
            mkdirat(dst, n.as_c_str(), Mode::from_bits_truncate(0o700)).map_err(fail)?;
        }
        let sub_dst = open_dir_at(Some(dst), n.as_c_str()).map_err(fail)?;
        merge(&sub_src, &sub_dst, &at(&n))?;
        fchown(
            &sub_dst,
            Some(Uid::from_raw(st.st_uid)),
            Some(Gid::from_raw(st.st_gid)),
        )
        .map_err(fail)?;
        fchmod(&sub_dst, Mode::from_bits_truncate(st.st_mode & 0o7777)).map_err(fail)?;
        let t = TimeSpec::new(st.st_mtime, st.st_mtime_nsec);
        futimens(&sub_dst, &t, &t).map_err(fail)?;
    }
    Ok(())
}
