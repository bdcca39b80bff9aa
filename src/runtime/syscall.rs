//! The seam between the mount set-up and the kernel: a trait with the real
//! implementation and a recording one, so the order of mount operations is
//! unit-tested without root (as youki does).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};

use super::devices::{DeviceKind, DeviceNode};

/// What is at a path (without following a final symlink).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Missing,
    Dir,
    File,
    Symlink,
}

/// The file-system operations the container set-up makes.
pub trait Syscall {
    fn mount(
        &self,
        source: Option<&Path>,
        target: &Path,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> io::Result<()>;
    /// `chdir(new_root)`, `pivot_root(".", ".")`, detach the old root, `chdir("/")`.
    fn pivot_root(&self, new_root: &Path) -> io::Result<()>;
    fn mkdir_all(&self, path: &Path) -> io::Result<()>;
    /// Create an empty file (a bind-mount target) if nothing is there.
    fn create_file(&self, path: &Path) -> io::Result<()>;
    fn symlink(&self, target: &str, link: &Path) -> io::Result<()>;
    /// A character device node, mode 0666 whatever the umask.
    fn mknod_char(&self, path: &Path, major: u32, minor: u32) -> io::Result<()>;
    /// A host device node (`devices:`, privileged), parents made, owner
    /// and mode as given; an existing node is kept.
    fn mknod_node(&self, path: &Path, node: &DeviceNode) -> io::Result<()>;
    fn kind(&self, path: &Path) -> Kind;
    fn read_link(&self, path: &Path) -> Option<PathBuf>;
    /// The `nosuid`, `nodev`, `noexec` and `rdonly` flags of the mount
    /// holding `path` (a bind remount must keep them).
    fn mount_flags(&self, path: &Path) -> MsFlags;
}

/// The real kernel.
pub struct Linux;

impl Syscall for Linux {
    fn mount(
        &self,
        source: Option<&Path>,
        target: &Path,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> io::Result<()> {
        nix::mount::mount(source, target, fstype, flags, data).map_err(io::Error::from)
    }

    fn pivot_root(&self, new_root: &Path) -> io::Result<()> {
        nix::unistd::chdir(new_root)?;
        // pivot_root(".", ".") stacks the old root on top of the new one, so
        // no directory for it is needed inside the container (runc's trick).
        nix::unistd::pivot_root(".", ".")?;
        nix::mount::umount2(".", MntFlags::MNT_DETACH)?;
        nix::unistd::chdir("/")?;
        Ok(())
    }

    fn mkdir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir_all(path)
    }

    fn create_file(&self, path: &Path) -> io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
        {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn symlink(&self, target: &str, link: &Path) -> io::Result<()> {
        match std::os::unix::fs::symlink(target, link) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            r => r,
        }
    }

    fn mknod_char(&self, path: &Path, major: u32, minor: u32) -> io::Result<()> {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: mknod and chmod with a valid C string and integer arguments.
        unsafe {
            if libc::mknod(
                c.as_ptr(),
                libc::S_IFCHR | 0o666,
                libc::makedev(major, minor),
            ) != 0
            {
                let e = io::Error::last_os_error();
                if e.raw_os_error() != Some(libc::EEXIST) {
                    return Err(e);
                }
            }
            if libc::chmod(c.as_ptr(), 0o666) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }

    fn mknod_node(&self, path: &Path, node: &DeviceNode) -> io::Result<()> {
        use std::os::unix::ffi::OsStrExt;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let c = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let kind = match node.kind {
            DeviceKind::Block => libc::S_IFBLK,
            _ => libc::S_IFCHR,
        };
        // SAFETY: mknod, chmod and chown with a valid C string and integers.
        unsafe {
            if libc::mknod(
                c.as_ptr(),
                kind | (node.mode & 0o7777),
                libc::makedev(node.major, node.minor),
            ) != 0
            {
                let e = io::Error::last_os_error();
                return match e.raw_os_error() {
                    Some(libc::EEXIST) => Ok(()),
                    _ => Err(e),
                };
            }
            if libc::chmod(c.as_ptr(), node.mode & 0o7777) != 0
                || libc::chown(c.as_ptr(), node.uid, node.gid) != 0
            {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }

    fn kind(&self, path: &Path) -> Kind {
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => Kind::Symlink,
            Ok(m) if m.is_dir() => Kind::Dir,
            Ok(_) => Kind::File,
            Err(_) => Kind::Missing,
        }
    }

    fn read_link(&self, path: &Path) -> Option<PathBuf> {
        std::fs::read_link(path).ok()
    }

    fn mount_flags(&self, path: &Path) -> MsFlags {
        use nix::sys::statvfs::FsFlags;
        let Ok(st) = nix::sys::statvfs::statvfs(path) else {
            return MsFlags::empty();
        };
        let f = st.flags();
        let mut out = MsFlags::empty();
        for (have, flag) in [
            (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
            (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
            (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
            (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
        ] {
            if f.contains(have) {
                out |= flag;
            }
        }
        out
    }
}

/// Records every operation as one line; answers `kind` from a table
/// (default: missing).
#[derive(Default)]
pub struct Recording {
    pub calls: RefCell<Vec<String>>,
    pub kinds: HashMap<PathBuf, Kind>,
    pub links: HashMap<PathBuf, PathBuf>,
    /// Make the operation whose line starts with this fail.
    pub fail_on: Option<String>,
}

impl Recording {
    fn record(&self, line: String) -> io::Result<()> {
        let fail = self.fail_on.as_deref().is_some_and(|f| line.starts_with(f));
        self.calls.borrow_mut().push(line);
        if fail {
            return Err(io::Error::from_raw_os_error(libc::EPERM));
        }
        Ok(())
    }

    /// The recorded lines.
    pub fn lines(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }
}

impl Syscall for Recording {
    fn mount(
        &self,
        source: Option<&Path>,
        target: &Path,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> io::Result<()> {
        self.record(format!(
            "mount {} {} {} {} {}",
            source.map_or("-".into(), |s| s.display().to_string()),
            target.display(),
            fstype.unwrap_or("-"),
            format!("{flags:?}")
                .trim_start_matches("MsFlags(")
                .trim_end_matches(')'),
            data.unwrap_or("-")
        ))
    }
    fn pivot_root(&self, new_root: &Path) -> io::Result<()> {
        self.record(format!("pivot_root {}", new_root.display()))
    }
    fn mkdir_all(&self, path: &Path) -> io::Result<()> {
        self.record(format!("mkdir {}", path.display()))
    }
    fn create_file(&self, path: &Path) -> io::Result<()> {
        self.record(format!("touch {}", path.display()))
    }
    fn symlink(&self, target: &str, link: &Path) -> io::Result<()> {
        self.record(format!("symlink {} {target}", link.display()))
    }
    fn mknod_char(&self, path: &Path, major: u32, minor: u32) -> io::Result<()> {
        self.record(format!("mknod {} {major}:{minor}", path.display()))
    }
    fn mknod_node(&self, path: &Path, node: &DeviceNode) -> io::Result<()> {
        self.record(format!(
            "mknod {} {:?} {}:{} {:o}",
            path.display(),
            node.kind,
            node.major,
            node.minor,
            node.mode
        ))
    }
    fn kind(&self, path: &Path) -> Kind {
        self.kinds.get(path).copied().unwrap_or(Kind::Missing)
    }
    fn read_link(&self, path: &Path) -> Option<PathBuf> {
        self.links.get(path).cloned()
    }
    fn mount_flags(&self, _path: &Path) -> MsFlags {
        MsFlags::empty()
    }
}
