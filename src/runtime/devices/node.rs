//! Host device nodes passed into a container: Compose `devices:` and, for
//! `privileged: true`, everything under the host's /dev.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{access_bits, access_string, DeviceError, DeviceKind, DeviceRule};

/// A host device node to create in the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceNode {
    /// Inside the container: absolute, under /dev.
    pub path: String,
    /// `Char` or `Block`.
    pub kind: DeviceKind,
    pub major: u32,
    pub minor: u32,
    /// Permission bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl DeviceNode {
    /// The allow rule that lets the container use this node with `access`
    /// (a subset of "rwm").
    pub fn rule(&self, access: &str) -> DeviceRule {
        DeviceRule {
            allow: true,
            kind: self.kind,
            major: Some(self.major),
            minor: Some(self.minor),
            access: access.to_string(),
        }
    }
}

/// An absolute path under /dev without `..`.
fn under_dev(path: &str) -> bool {
    let mut parts = Path::new(path).components();
    parts.next() == Some(Component::RootDir)
        && parts.next() == Some(Component::Normal("dev".as_ref()))
        && {
            let rest: Vec<Component> = parts.collect();
            !rest.is_empty() && rest.iter().all(|c| matches!(c, Component::Normal(_)))
        }
}

/// The node at `path` as `meta` describes it; `None` unless it is a char or
/// block device.
fn node(path: &str, meta: &fs::Metadata) -> Option<DeviceNode> {
    let ft = meta.file_type();
    let kind = if ft.is_char_device() {
        DeviceKind::Char
    } else if ft.is_block_device() {
        DeviceKind::Block
    } else {
        return None;
    };
    Some(DeviceNode {
        path: path.to_string(),
        kind,
        major: libc::major(meta.rdev()),
        minor: libc::minor(meta.rdev()),
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
    })
}

/// A host device node for Compose `devices:` passthrough ("/dev/fuse",
/// "/dev/sda:/dev/xvda:rwm"): stat the host path (following symlinks, so
/// /dev/disk/by-id/… works), refuse anything that is not a char or block
/// device.
pub fn host_device(host_path: &Path, container_path: &str) -> Result<DeviceNode, DeviceError> {
    if !under_dev(container_path) {
        return Err(DeviceError::InvalidContainerPath {
            path: container_path.to_string(),
        });
    }
    let meta = fs::metadata(host_path).map_err(|source| DeviceError::Stat {
        path: host_path.to_path_buf(),
        source,
    })?;
    node(container_path, &meta).ok_or_else(|| DeviceError::NotADevice {
        path: host_path.to_path_buf(),
    })
}

/// Directories of /dev that hold no devices to copy (runc's HostDevices):
/// the container gets its own pts, shm and mqueue; the rest are tooling.
const SKIP_DIRS: &[&str] = &["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"];

/// Every char/block device under the host's /dev for `privileged: true`,
/// sorted by path. Skips /dev/pts, /dev/shm, /dev/mqueue, /dev/fd and
/// /dev/console (the container gets its own), as runc's HostDevices does;
/// symlinks are not followed, so each node comes once.
pub fn host_devices() -> Result<Vec<DeviceNode>, DeviceError> {
    let mut out = Vec::new();
    walk(Path::new("/dev"), true, &mut out)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn walk(dir: &Path, top: bool, out: &mut Vec<DeviceNode>) -> Result<(), DeviceError> {
    let read_err = |source| DeviceError::ReadDir {
        path: dir.to_path_buf(),
        source,
    };
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        // udev may remove a directory while we walk.
        Err(e) if !top && e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(read_err(e)),
    };
    for entry in entries {
        let entry = entry.map_err(read_err)?;
        let path = entry.path();
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(source) => return Err(DeviceError::Stat { path, source }),
        };
        let name = entry.file_name();
        if meta.is_dir() {
            if !SKIP_DIRS.iter().any(|s| name == *s) {
                walk(&path, false, out)?;
            }
            continue;
        }
        if name == "console" {
            continue;
        }
        // A node whose name is not UTF-8 cannot be named in the container's
        // config either.
        if let Some(found) = path.to_str().and_then(|p| node(p, &meta)) {
            out.push(found);
        }
    }
    Ok(())
}

/// Parse Compose's `devices:` short syntax "HOST[:CONTAINER[:PERMS]]"
/// (PERMS a subset of rwm, default rwm) into (host path, container path,
/// perms in the kernel's order). As Docker, "HOST:PERMS" is accepted too.
/// The grammar is the loader's (`crate::device_rules`).
pub fn parse_device_mapping(s: &str) -> Result<(PathBuf, String, String), DeviceError> {
    use crate::device_rules::MappingFault;
    let bad = |reason| DeviceError::InvalidMapping {
        spec: s.to_string(),
        reason,
    };
    let m = crate::device_rules::parse_device_mapping(s).map_err(|f| {
        bad(match f {
            MappingFault::TooManyParts => "it has more than three parts",
            MappingFault::HostNotAbsolute => "the host path must be absolute",
            MappingFault::ContainerNotUnderDev => {
                "the container path must be absolute and under /dev"
            }
            MappingFault::BadAccess => "PERMS must be some of r, w, m",
        })
    })?;
    // Also what `host_device` will ask of it (a name below /dev).
    if !under_dev(m.container) {
        return Err(bad("the container path must be absolute and under /dev"));
    }
    let bits = access_bits(m.access).ok_or_else(|| bad("PERMS must be some of r, w, m"))?;
    Ok((
        PathBuf::from(m.host),
        m.container.to_string(),
        access_string(bits),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings() {
        let ok = |s: &str| parse_device_mapping(s).unwrap();
        assert_eq!(
            ok("/dev/fuse"),
            ("/dev/fuse".into(), "/dev/fuse".into(), "rwm".into())
        );
        assert_eq!(
            ok("/dev/sda:/dev/xvda:rwm"),
            ("/dev/sda".into(), "/dev/xvda".into(), "rwm".into())
        );
        assert_eq!(
            ok("/dev/sda:/dev/xvda"),
            ("/dev/sda".into(), "/dev/xvda".into(), "rwm".into())
        );
        assert_eq!(
            ok("/dev/sda:r"),
            ("/dev/sda".into(), "/dev/sda".into(), "r".into())
        );
        assert_eq!(ok("/dev/sda:/dev/xvda:mr").2, "rm");
        for (s, reason) in [
            ("/a:/dev/b:r:x", "more than three parts"),
            ("dev/sda", "the host path must be absolute"),
            (":/dev/x", "the host path must be absolute"),
            ("/dev/sda:xvda", "under /dev"),
            ("/dev/sda:/xvda", "under /dev"),
            ("/dev/sda:/dev/../etc/x", "under /dev"),
            ("/dev/sda:/dev", "under /dev"),
            ("/dev/sda:/dev/xvda:rx", "PERMS must be some of r, w, m"),
            ("/dev/sda:/dev/xvda:", "PERMS must be"),
        ] {
            let e = parse_device_mapping(s).unwrap_err().to_string();
            assert!(e.contains(reason), "{s:?}: {e}");
            assert!(e.contains("use HOST[:CONTAINER[:PERMS]]"), "{e}");
        }
    }

    #[test]
    fn host_device_stats_and_refuses() {
        let null = host_device(Path::new("/dev/null"), "/dev/null").unwrap();
        assert_eq!(
            (null.kind, null.major, null.minor),
            (DeviceKind::Char, 1, 3)
        );
        assert_eq!(null.mode, 0o666);
        assert_eq!(null.rule("rw").to_v1(), "c 1:3 rw");
        let e = host_device(Path::new("/etc/passwd"), "/dev/x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "/etc/passwd is not a character or block device; `devices:` takes device nodes like /dev/fuse"
        );
        let e = host_device(Path::new("/dev/null"), "/null").unwrap_err();
        assert!(
            e.to_string().contains("must be absolute and under /dev"),
            "{e}"
        );
        let e = host_device(Path::new("/dev/stack-no-such"), "/dev/x").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot stat device /dev/stack-no-such"),
            "{e}"
        );
    }

    #[test]
    fn host_devices_lists_nodes_but_not_pts_or_console() {
        let all = host_devices().unwrap();
        assert!(all
            .iter()
            .any(|d| d.path == "/dev/null" && d.major == 1 && d.minor == 3));
        assert!(all.iter().all(|d| d.kind != DeviceKind::All));
        assert!(all.iter().all(|d| !d.path.starts_with("/dev/pts/")
            && !d.path.starts_with("/dev/shm/")
            && d.path != "/dev/console"));
        assert!(all.windows(2).all(|w| w[0].path < w[1].path));
    }
}
