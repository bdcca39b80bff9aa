//! The safe unpack loop shared by rootfs tarballs (`tar.rs`) and image
//! layers (`layers/`).
//!
//! We unpack with our own loop instead of `tar::Archive::unpack`, because the
//! rules must hold by construction: every path is resolved component by
//! component from a directory fd with `O_NOFOLLOW` (never following a
//! symlink, so a symlink planted by an earlier entry cannot be written
//! through), `..` and absolute names are refused, relative symlink targets
//! may not climb above the root, and hard links may only point at entries
//! already unpacked inside the root.

use std::cell::Cell;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, fchmodat, fstatat, futimens, mkdirat, FchmodatFlags, Mode, SFlag};
use nix::sys::time::TimeSpec;
use nix::unistd::{
    fchown, fchownat, linkat, mkfifoat, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags,
};

use super::cache::io_err;
use super::RootfsError;

/// What `.wh.` names mean in the archive being unpacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Whiteouts {
    /// A root filesystem tarball: `.wh.` names are ordinary files.
    Files,
    /// An image layer: OCI whiteouts become overlayfs's (`layers/whiteout.rs`).
    Overlay,
}

/// How to unpack one archive, and where to report progress.
pub(super) struct Options<'a> {
    /// The archive's path, for messages.
    pub archive: &'a Path,
    pub whiteouts: Whiteouts,
    /// Whether an archive without entries is fine (an empty image layer is).
    pub allow_empty: bool,
    pub progress: &'a dyn Fn(&str),
    /// Progress lines every `tick`, once unpacking takes that long.
    pub tick: Duration,
    /// The archive's size, and the bytes of it read so far.
    pub total: u64,
    pub read: Rc<Cell<u64>>,
}

/// Bytes read from the underlying (compressed) file, for progress.
pub(super) struct Counting<R> {
    pub inner: R,
    pub count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Unpack the (decompressed) tar stream `reader` into the existing directory
/// `dest`, refusing any entry that would land outside it.
pub(super) fn unpack_stream(
    reader: impl Read,
    dest: &Path,
    o: &Options<'_>,
) -> Result<(), RootfsError> {
    let archive = o.archive;
    let bad = |message: String| RootfsError::BadArchive {
        archive: archive.into(),
        message,
    };
    let mut ar = ::tar::Archive::new(reader);
    let root = openat(
        nix::fcntl::AT_FDCWD,
        dest,
        OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| io_err("open", dest, e.into()))?;
    let mut u = Unpacker {
        archive,
        root,
        whiteouts: o.whiteouts,
        parent_cache: None,
        dirs: Vec::new(),
        skipped_devices: 0,
    };
    let start = Instant::now();
    let mut last = start;
    let mut entries = 0u64;
    for entry in ar
        .entries()
        .map_err(|e| bad(format!("not a tar archive: {e}")))?
    {
        let entry =
            entry.map_err(|e| bad(format!("corrupt archive after {entries} entries: {e}")))?;
        u.entry(entry)?;
        entries += 1;
        if last.elapsed() >= o.tick {
            last = Instant::now();
            (o.progress)(&format!(
                "unpacking {}: {}% ({} entries)",
                archive.display(),
                (o.read.get() * 100 / o.total.max(1)).min(100),
                entries
            ));
        }
    }
    if entries == 0 && !o.allow_empty {
        return Err(bad("empty or not a tar archive".into()));
    }
    u.finish_dirs();
    if u.skipped_devices > 0 {
        tracing::debug!(
            "{}: skipped {} device nodes (containers get their own /dev)",
            archive.display(),
            u.skipped_devices
        );
    }
    if start.elapsed() >= o.tick {
        (o.progress)(&format!(
            "unpacked {}: {} entries in {:.1}s",
            archive.display(),
            entries,
            start.elapsed().as_secs_f64()
        ));
    }
    Ok(())
}

/// Give the entry `p` in `dir` its owner, never following a symlink.
fn chown_entry(dir: &impl std::os::fd::AsFd, p: &Place) -> nix::Result<()> {
    fchownat(
        dir,
        p.leaf.as_os_str(),
        Some(p.uid),
        Some(p.gid),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )
}

/// Where an archive entry goes, and its metadata.
pub(super) struct Place {
    /// As written in the archive, for messages.
    pub(super) name: String,
    /// Cleaned, relative to the root.
    pub(super) rel: PathBuf,
    pub(super) parent: PathBuf,
    pub(super) leaf: std::ffi::OsString,
    mode: Mode,
    uid: Uid,
    gid: Gid,
    mtime: u64,
}

/// Why an entry name is refused: the end of an `UnsafeEntry` sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum Unclean {
    #[error("path contains `..`")]
    ParentDir,
    #[error("absolute path (entries must be relative to the root)")]
    Absolute,
}

/// Normalise an entry name to a relative path of normal components.
/// `None` is the root itself (`./`).
fn clean(raw: &Path) -> Result<Option<PathBuf>, Unclean> {
    let mut out = PathBuf::new();
    for c in raw.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => return Err(Unclean::ParentDir),
            Component::RootDir | Component::Prefix(_) => return Err(Unclean::Absolute),
        }
    }
    Ok(if out.as_os_str().is_empty() {
        None
    } else {
        Some(out)
    })
}

/// Whether a relative symlink target, read from directory `dir` (relative to
/// the root), climbs above the root. Absolute targets are resolved against
/// the container's own root at run time, so they stay inside.
fn symlink_escapes(dir: &Path, target: &Path) -> bool {
    if target.is_absolute() {
        return false;
    }
    let mut depth: i64 = dir.components().count() as i64;
    for c in target.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

pub(super) struct Unpacker<'a> {
    archive: &'a Path,
    pub(super) root: OwnedFd,
    whiteouts: Whiteouts,
    /// The last parent directory opened, since entries come grouped by
    /// directory. Dropped whenever the tree's shape changes.
    pub(super) parent_cache: Option<(PathBuf, OwnedFd)>,
    dirs: Vec<(PathBuf, u64)>,
    skipped_devices: usize,
}

impl Unpacker<'_> {
    pub(super) fn refuse(&self, entry: &str, reason: impl Into<String>) -> RootfsError {
        RootfsError::UnsafeEntry {
            archive: self.archive.into(),
            entry: entry.into(),
            reason: reason.into(),
        }
    }

    pub(super) fn io(&self, entry: &str, what: &str, e: impl Into<io::Error>) -> RootfsError {
        RootfsError::BadArchive {
            archive: self.archive.into(),
            message: format!("entry {entry:?}: {what}: {}", e.into()),
        }
    }

    /// Open the directory `rel` (relative to the root) without following any
    /// symlink, creating missing components when `create`.
    pub(super) fn open_dir(
        &self,
        rel: &Path,
        name: &str,
        create: bool,
    ) -> Result<OwnedFd, RootfsError> {
        let mut fd = self
            .root
            .try_clone()
            .map_err(|e| self.io(name, "dup root", e))?;
        let mut walked = PathBuf::new();
        for comp in rel.components() {
            let c = comp.as_os_str();
            walked.push(c);
            let flags = OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_RDONLY | OFlag::O_CLOEXEC;
            let next = match openat(&fd, c, flags, Mode::empty()) {
                Ok(n) => n,
                Err(Errno::ENOENT) if create => {
                    match mkdirat(&fd, c, Mode::from_bits_truncate(0o755)) {
                        Ok(()) | Err(Errno::EEXIST) => {}
                        Err(e) => return Err(self.io(name, "create parent directory", e)),
                    }
                    openat(&fd, c, flags, Mode::empty())
                        .map_err(|e| self.io(name, "open parent directory", e))?
                }
                Err(Errno::ENOENT) => {
                    return Err(self.refuse(
                        name,
                        format!("{} does not exist in the archive", walked.display()),
                    ))
                }
                Err(Errno::ELOOP) | Err(Errno::ENOTDIR) => {
                    let is_link = fstatat(&fd, c, AtFlags::AT_SYMLINK_NOFOLLOW)
                        .map(|st| {
                            SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK
                        })
                        .unwrap_or(false);
                    let why = if is_link {
                        "is a symlink; following it could escape the root"
                    } else {
                        "is not a directory"
                    };
                    return Err(self.refuse(name, format!("parent {} {why}", walked.display())));
                }
                Err(e) => return Err(self.io(name, "open parent directory", e)),
            };
            fd = next;
        }
        Ok(fd)
    }

    pub(super) fn parent_fd(&mut self, parent: &Path, name: &str) -> Result<OwnedFd, RootfsError> {
        if let Some((p, fd)) = &self.parent_cache {
            if p == parent {
                return fd.try_clone().map_err(|e| self.io(name, "dup", e));
            }
        }
        let fd = self.open_dir(parent, name, true)?;
        let keep = fd.try_clone().map_err(|e| self.io(name, "dup", e))?;
        self.parent_cache = Some((parent.to_path_buf(), keep));
        Ok(fd)
    }

    /// Remove whatever is at `leaf` in `dir` unless it is a directory and
    /// `keep_dir`. Returns whether a directory is (still) there.
    pub(super) fn clear(
        &mut self,
        dir: &OwnedFd,
        leaf: &OsStr,
        keep_dir: bool,
        name: &str,
    ) -> Result<bool, RootfsError> {
        let st = match fstatat(dir, leaf, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::ENOENT) => return Ok(false),
            Err(e) => return Err(self.io(name, "stat", e)),
        };
        let is_dir = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR;
        if is_dir && keep_dir {
            return Ok(true);
        }
        self.parent_cache = None;
        let flag = if is_dir {
            UnlinkatFlags::RemoveDir
        } else {
            UnlinkatFlags::NoRemoveDir
        };
        unlinkat(dir, leaf, flag).map_err(|e| self.io(name, "replace existing entry", e))?;
        Ok(false)
    }

    fn entry<R: Read>(&mut self, mut entry: ::tar::Entry<R>) -> Result<(), RootfsError> {
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let header = entry.header();
        let kind = header.entry_type();
        use ::tar::EntryType as T;
        if matches!(
            kind,
            T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink
        ) {
            return Ok(());
        }
        let raw = entry.path().map_err(|e| self.io(&name, "bad name", e))?;
        let rel = match clean(&raw).map_err(|r| self.refuse(&name, r.to_string()))? {
            Some(r) => r,
            None => {
                // `./` itself: the root directory's own mode and owner.
                if kind == T::Directory {
                    let mode = header.mode().unwrap_or(0o755) & 0o7777;
                    let _ = fchown(
                        &self.root,
                        Some(Uid::from_raw(header.uid().unwrap_or(0) as u32)),
                        Some(Gid::from_raw(header.gid().unwrap_or(0) as u32)),
                    );
                    let _ = fchmod(&self.root, Mode::from_bits_truncate(mode));
                }
                return Ok(());
            }
        };
        let parent = rel.parent().unwrap_or(Path::new("")).to_path_buf();
        let leaf = match rel.file_name() {
            Some(l) => l.to_os_string(),
            None => return Err(self.refuse(&name, "no file name")),
        };
        let p = Place {
            mode: Mode::from_bits_truncate(header.mode().unwrap_or(0o644) & 0o7777),
            uid: Uid::from_raw(header.uid().unwrap_or(0) as u32),
            gid: Gid::from_raw(header.gid().unwrap_or(0) as u32),
            mtime: header.mtime().unwrap_or(0),
            name,
            rel,
            parent,
            leaf,
        };

        if self.whiteouts == Whiteouts::Overlay {
            if let Some(w) = super::layers::whiteout::classify(&p.leaf) {
                return self.whiteout(&p, w);
            }
        }
        match kind {
            T::Directory => self.make_dir(p)?,
            T::Regular | T::Continuous | T::GNUSparse => self.make_file(&p, &mut entry)?,
            T::Symlink => self.make_symlink(&p, &entry)?,
            T::Link => self.make_hard_link(&p, &entry)?,
            T::Fifo => self.make_fifo(&p)?,
            // Containers get their own /dev; device nodes in an image are not needed.
            T::Char | T::Block => self.skipped_devices += 1,
            other => {
                tracing::warn!(
                    "{}: skipping entry {:?} of unsupported type {other:?}",
                    self.archive.display(),
                    p.name
                );
            }
        }
        Ok(())
    }

    fn make_dir(&mut self, p: Place) -> Result<(), RootfsError> {
        let dir = self.parent_fd(&p.parent, &p.name)?;
        if !self.clear(&dir, &p.leaf, true, &p.name)? {
            mkdirat(&dir, p.leaf.as_os_str(), p.mode)
                .map_err(|e| self.io(&p.name, "create directory", e))?;
        }
        chown_entry(&dir, &p).map_err(|e| self.io(&p.name, "chown", e))?;
        fchmodat(
            &dir,
            p.leaf.as_os_str(),
            p.mode,
            FchmodatFlags::FollowSymlink,
        )
        .map_err(|e| self.io(&p.name, "chmod", e))?;
        self.dirs.push((p.rel, p.mtime));
        Ok(())
    }

    fn make_file<R: Read>(
        &mut self,
        p: &Place,
        entry: &mut ::tar::Entry<R>,
    ) -> Result<(), RootfsError> {
        let dir = self.parent_fd(&p.parent, &p.name)?;
        self.clear(&dir, &p.leaf, false, &p.name)?;
        let fd = openat(
            &dir,
            p.leaf.as_os_str(),
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|e| self.io(&p.name, "create file", e))?;
        let mut f = File::from(fd);
        io::copy(entry, &mut f).map_err(|e| self.io(&p.name, "write", e))?;
        // chown before chmod: chown clears set-uid/set-gid bits.
        fchown(f.as_fd(), Some(p.uid), Some(p.gid)).map_err(|e| self.io(&p.name, "chown", e))?;
        fchmod(f.as_fd(), p.mode).map_err(|e| self.io(&p.name, "chmod", e))?;
        let t = TimeSpec::new(p.mtime as i64, 0);
        let _ = futimens(f.as_fd(), &t, &t);
        Ok(())
    }

    /// A link entry's target; `missing` says what an empty one is.
    fn link_target<R: Read>(
        &self,
        p: &Place,
        entry: &::tar::Entry<R>,
        missing: &str,
    ) -> Result<PathBuf, RootfsError> {
        Ok(entry
            .link_name()
            .map_err(|e| self.io(&p.name, "bad link target", e))?
            .ok_or_else(|| self.refuse(&p.name, missing))?
            .into_owned())
    }

    fn make_symlink<R: Read>(
        &mut self,
        p: &Place,
        entry: &::tar::Entry<R>,
    ) -> Result<(), RootfsError> {
        let target = self.link_target(p, entry, "symlink without a target")?;
        if symlink_escapes(&p.parent, &target) {
            return Err(self.refuse(
                &p.name,
                format!(
                    "symlink target {} points outside the root",
                    target.display()
                ),
            ));
        }
        let dir = self.parent_fd(&p.parent, &p.name)?;
        self.clear(&dir, &p.leaf, false, &p.name)?;
        self.parent_cache = None;
        symlinkat(target.as_os_str(), &dir, p.leaf.as_os_str())
            .map_err(|e| self.io(&p.name, "create symlink", e))?;
        chown_entry(&dir, p).map_err(|e| self.io(&p.name, "chown", e))?;
        Ok(())
    }

    fn make_hard_link<R: Read>(
        &mut self,
        p: &Place,
        entry: &::tar::Entry<R>,
    ) -> Result<(), RootfsError> {
        let target = self.link_target(p, entry, "hard link without a target")?;
        let trel = clean(&target)
            .map_err(|r| {
                self.refuse(
                    &p.name,
                    format!("hard link target {}: {r}", target.display()),
                )
            })?
            .ok_or_else(|| self.refuse(&p.name, "hard link to the root"))?;
        let tparent = trel.parent().unwrap_or(Path::new(""));
        let tleaf = trel.file_name().unwrap_or_default();
        let src_dir = self.open_dir(tparent, &p.name, false)?;
        match fstatat(&src_dir, tleaf, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(_) => {}
            Err(Errno::ENOENT) => {
                return Err(self.refuse(
                    &p.name,
                    format!(
                        "hard link target {} is not in the archive before it",
                        trel.display()
                    ),
                ))
            }
            Err(e) => return Err(self.io(&p.name, "stat link target", e)),
        }
        let dir = self.parent_fd(&p.parent, &p.name)?;
        if trel == p.rel {
            return Ok(());
        }
        self.clear(&dir, &p.leaf, false, &p.name)?;
        // No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself.
        linkat(&src_dir, tleaf, &dir, p.leaf.as_os_str(), AtFlags::empty())
            .map_err(|e| self.io(&p.name, "create hard link", e))?;
        Ok(())
    }

    fn make_fifo(&mut self, p: &Place) -> Result<(), RootfsError> {
        let dir = self.parent_fd(&p.parent, &p.name)?;
        self.clear(&dir, &p.leaf, false, &p.name)?;
        mkfifoat(&dir, p.leaf.as_os_str(), p.mode)
            .map_err(|e| self.io(&p.name, "create fifo", e))?;
        let _ = chown_entry(&dir, p);
        Ok(())
    }

    /// Directory mtimes last, since creating their children changed them.
    fn finish_dirs(&mut self) {
        for (rel, mtime) in std::mem::take(&mut self.dirs) {
            if let Ok(fd) = self.open_dir(&rel, "", false) {
                let t = TimeSpec::new(mtime as i64, 0);
                let _ = futimens(&fd, &t, &t);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_names() {
        assert_eq!(
            clean(Path::new("./a/./b")).unwrap(),
            Some(PathBuf::from("a/b"))
        );
        assert_eq!(clean(Path::new("./")).unwrap(), None);
        assert!(clean(Path::new("a/../b")).is_err());
        assert!(clean(Path::new("/etc/x")).is_err());
    }

    #[test]
    fn symlink_escape_check() {
        assert!(!symlink_escapes(
            Path::new("bin"),
            Path::new("/bin/busybox")
        ));
        assert!(!symlink_escapes(
            Path::new("usr/lib"),
            Path::new("../../lib/x")
        ));
        assert!(symlink_escapes(
            Path::new("usr/lib"),
            Path::new("../../../etc")
        ));
        assert!(symlink_escapes(Path::new(""), Path::new("..")));
        assert!(!symlink_escapes(Path::new("a"), Path::new("b/../c")));
    }
}
