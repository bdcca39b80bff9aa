//! OCI whiteouts, converted while a layer is unpacked into the form
//! overlayfs reads in a lower layer:
//!
//! - `DIR/.wh.NAME` (NAME deleted by this layer) → a character device 0:0
//!   named NAME. An entry NAME of this same layer wins over it (OCI: a
//!   whiteout hides only what lower layers have), whichever comes first.
//! - `DIR/.wh..wh..opq` (DIR's lower contents hidden) → the xattr
//!   `trusted.overlay.opaque=y` on DIR.
//! - other `.wh..wh.` names (AUFS's hard-link bookkeeping) are dropped.
//!
//! No `.wh.` name is ever written as a file.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::sys::stat::{fstatat, mknodat, Mode, SFlag};

use super::super::unpack::{Place, Unpacker};
use super::super::RootfsError;

const PREFIX: &[u8] = b".wh.";
const OPAQUE: &[u8] = b".wh..wh..opq";

/// The xattr overlayfs reads on a lower directory that hides what lies below.
pub(in crate::runtime::rootfs) const OPAQUE_XATTR: &std::ffi::CStr = c"trusted.overlay.opaque";

/// What a `.wh.` entry asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::runtime::rootfs) enum Whiteout {
    /// Hide this name of lower layers.
    Hide(OsString),
    /// Hide all of lower layers' contents of the parent directory.
    Opaque,
    /// AUFS metadata (`.wh..wh.plnk`, …): nothing to write.
    Drop,
}

/// Whether an entry's file name is a whiteout, and which.
pub(in crate::runtime::rootfs) fn classify(leaf: &OsStr) -> Option<Whiteout> {
    let b = leaf.as_bytes();
    let rest = b.strip_prefix(PREFIX)?;
    Some(if b == OPAQUE {
        Whiteout::Opaque
    } else if rest.starts_with(PREFIX) {
        Whiteout::Drop
    } else {
        Whiteout::Hide(OsStr::from_bytes(rest).to_os_string())
    })
}

/// Mark the directory `dir` opaque for overlayfs.
pub(in crate::runtime::rootfs) fn set_opaque(dir: &OwnedFd) -> Result<(), Errno> {
    // SAFETY: the fd is open for the call; the name is a NUL-terminated C
    // string and the value pointer/length describe a live one-byte buffer.
    let r = unsafe {
        libc::fsetxattr(
            dir.as_raw_fd(),
            OPAQUE_XATTR.as_ptr(),
            b"y".as_ptr().cast(),
            1,
            0,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(Errno::last())
    }
}

impl Unpacker<'_> {
    /// Apply the whiteout entry `p` (see the module's doc).
    pub(in crate::runtime::rootfs) fn whiteout(
        &mut self,
        p: &Place,
        w: Whiteout,
    ) -> Result<(), RootfsError> {
        match w {
            Whiteout::Drop => Ok(()),
            Whiteout::Opaque => {
                let dir = self.parent_fd(&p.parent, &p.name)?;
                set_opaque(&dir).map_err(|e| {
                    self.io(&p.name, "mark directory opaque (trusted.overlay.opaque)", e)
                })
            }
            Whiteout::Hide(name) => {
                if name.is_empty() || name == "." || name == ".." {
                    return Err(
                        self.refuse(&p.name, format!("whiteout of {name:?} names no entry"))
                    );
                }
                let dir = self.parent_fd(&p.parent, &p.name)?;
                match fstatat(&dir, name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
                    // This layer's own entry stays visible.
                    Ok(_) => return Ok(()),
                    Err(Errno::ENOENT) => {}
                    Err(e) => return Err(self.io(&p.name, "stat", e)),
                }
                mknodat(&dir, name.as_os_str(), SFlag::S_IFCHR, Mode::empty(), 0)
                    .map_err(|e| self.io(&p.name, "create whiteout (a 0:0 device)", e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whiteout_names() {
        let c = |s: &str| classify(OsStr::new(s));
        assert_eq!(c("a"), None);
        assert_eq!(c(".whx"), None);
        assert_eq!(c(".wh.a"), Some(Whiteout::Hide("a".into())));
        assert_eq!(c(".wh..a"), Some(Whiteout::Hide(".a".into())));
        assert_eq!(c(".wh..wh..opq"), Some(Whiteout::Opaque));
        assert_eq!(c(".wh..wh.plnk"), Some(Whiteout::Drop));
        assert_eq!(c(".wh."), Some(Whiteout::Hide("".into())));
    }
}
