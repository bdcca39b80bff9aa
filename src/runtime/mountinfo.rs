//! `/proc/self/mountinfo`, read in one place: what is mounted where (for
//! the cgroup hierarchies, and to detach what is left under a directory
//! before removing it).

use std::path::{Path, PathBuf};

/// One line of mountinfo, the fields stack uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The root of the mount within its file system (field 4).
    pub root: String,
    /// Where it is mounted (field 5), unescaped.
    pub mount_point: PathBuf,
    /// After the ` - ` separator: the file system type, the source and the
    /// super-block options (`rw,memory`, …).
    pub fstype: String,
    pub source: String,
    pub super_options: String,
}

/// Parse mountinfo text; malformed lines are skipped.
pub fn parse(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let (pre, post) = line.split_once(" - ")?;
            let pre: Vec<&str> = pre.split(' ').collect();
            let mut post = post.split(' ');
            Some(Mount {
                root: unescape(pre.get(3)?),
                mount_point: PathBuf::from(unescape(pre.get(4)?)),
                fstype: post.next()?.to_string(),
                source: unescape(post.next().unwrap_or("")),
                super_options: post.next().unwrap_or("").to_string(),
            })
        })
        .collect()
}

/// This process's mounts (none if mountinfo cannot be read).
pub fn read() -> Vec<Mount> {
    parse(&std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default())
}

/// Mountinfo escapes space, tab, newline and backslash as `\ooo`.
pub fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Mount points at or under `dir`, deepest first, each once.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = read()
        .into_iter()
        .map(|m| m.mount_point)
        .filter(|m| m.starts_with(dir))
        .collect();
    out.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    out.dedup();
    out
}

/// Detach everything mounted under `dir` (lazily: a busy mount still
/// goes); the first mount that cannot be detached is the error.
pub fn unmount_under(dir: &Path) -> Result<(), (PathBuf, nix::Error)> {
    for m in mounts_under(dir) {
        nix::mount::umount2(&m, nix::mount::MntFlags::MNT_DETACH).map_err(|e| (m, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_escapes() {
        let text = "36 35 98:0 /mnt1 /mnt/a\\040b rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n\
                    41 31 0:38 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n\
                    garbage\n";
        let m = parse(text);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].root, "/mnt1");
        assert_eq!(m[0].mount_point, PathBuf::from("/mnt/a b"));
        assert_eq!(m[0].fstype, "ext3");
        assert_eq!(m[0].source, "/dev/root");
        assert_eq!(m[1].super_options, "rw,memory");
        assert_eq!(unescape(r"/plain"), "/plain");
        assert_eq!(unescape(r"/trail\04"), r"/trail\04");
        assert!(mounts_under(Path::new("/proc")).contains(&PathBuf::from("/proc")));
    }
}
