//! What the command is allowed to be: its user (from the container's own
//! `/etc/passwd` and `/etc/group`), capabilities, `no_new_privs`, rlimits,
//! and where its executable is.

use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Why the command's identity or limits cannot be set; each a sentence.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("unknown capability {0:?}; use a name like CAP_NET_ADMIN")]
    UnknownCapability(String),
    #[error("user {0:?} is not in the container's /etc/passwd; use a name listed there or a numeric uid[:gid]")]
    UnknownUser(String),
    #[error("group {0:?} is not in the container's /etc/group; use a name listed there or a numeric gid")]
    UnknownGroup(String),
    #[error("unknown ulimit {0:?}; use one of nofile, nproc, core, memlock, stack, fsize, cpu, as, data, locks, msgqueue, nice, rtprio, sigpending")]
    UnknownRlimit(String),
    #[error("cannot set ulimit {name} to {soft}:{hard}: {source} (the hard limit cannot exceed the host's, here {host_hard})")]
    Rlimit {
        name: String,
        soft: u64,
        hard: u64,
        host_hard: String,
        source: io::Error,
    },
    #[error("ulimit {name}: soft limit {soft} is above hard limit {hard}")]
    RlimitOrder { name: String, soft: u64, hard: u64 },
}

/// Capability names by number (linux/capability.h).
use crate::caps::ALL as CAPABILITIES;

/// The names as a bit mask.
pub fn cap_mask(names: &[String]) -> Result<u64, SecurityError> {
    let mut mask = 0u64;
    for n in names {
        let up = n.to_ascii_uppercase();
        let full = if up.starts_with("CAP_") {
            up
        } else {
            format!("CAP_{up}")
        };
        let bit = CAPABILITIES
            .iter()
            .position(|c| *c == full)
            .ok_or_else(|| SecurityError::UnknownCapability(n.clone()))?;
        mask |= 1 << bit;
    }
    Ok(mask)
}

/// Who the command runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (from `/etc/group`).
    pub groups: Vec<u32>,
    /// From `/etc/passwd`, for `HOME`.
    pub home: Option<String>,
}

/// Resolve `user` (`name`, `uid`, `name:group`, `uid:gid`) against the
/// given passwd and group file contents (either may be missing).
pub fn resolve_user(
    user: Option<&str>,
    passwd: &str,
    group: &str,
) -> Result<Identity, SecurityError> {
    let spec = user.unwrap_or("0");
    let (u, g) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let entries: Vec<Vec<&str>> = passwd
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() >= 4)
        .collect();
    let entry = entries.iter().find(|f| f[0] == u).or_else(|| {
        let n: u32 = u.parse().ok()?;
        entries.iter().find(|f| f[2].parse() == Ok(n))
    });
    let (uid, mut gid, name, home) = match (entry, u.parse::<u32>()) {
        (Some(f), _) => (
            f[2].parse()
                .map_err(|_| SecurityError::UnknownUser(u.into()))?,
            f[3].parse()
                .map_err(|_| SecurityError::UnknownUser(u.into()))?,
            Some(f[0]),
            f.get(5).map(|h| h.to_string()),
        ),
        (None, Ok(uid)) => (uid, uid, None, None),
        (None, Err(_)) => return Err(SecurityError::UnknownUser(u.into())),
    };
    let groups_tbl: Vec<Vec<&str>> = group
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .filter(|f| f.len() >= 3)
        .collect();
    if let Some(g) = g {
        gid = match groups_tbl.iter().find(|f| f[0] == g) {
            Some(f) => f[2]
                .parse()
                .map_err(|_| SecurityError::UnknownGroup(g.into()))?,
            None => g
                .parse()
                .map_err(|_| SecurityError::UnknownGroup(g.into()))?,
        };
    }
    let mut groups = vec![gid];
    if let Some(name) = name {
        for f in &groups_tbl {
            if f.get(3).is_some_and(|m| m.split(',').any(|m| m == name)) {
                if let Ok(g) = f[2].parse() {
                    if !groups.contains(&g) {
                        groups.push(g);
                    }
                }
            }
        }
    }
    Ok(Identity {
        uid,
        gid,
        groups,
        home,
    })
}

/// Resolve the user inside the current root (the container's, after
/// `pivot_root`).
pub fn resolve_user_here(user: Option<&str>) -> Result<Identity, SecurityError> {
    let passwd = read_small("/etc/passwd");
    let group = read_small("/etc/group");
    resolve_user(user, &passwd, &group)
}

/// Add `group_add`'s groups (names from the current root's `/etc/group`,
/// or numbers) to `id`'s supplementary groups.
pub fn add_groups_here(id: &mut Identity, names: &[String]) -> Result<(), SecurityError> {
    if names.is_empty() {
        return Ok(());
    }
    add_groups(id, names, &read_small("/etc/group"))
}

/// [`add_groups_here`] given the group file's contents.
pub fn add_groups(id: &mut Identity, names: &[String], group: &str) -> Result<(), SecurityError> {
    for name in names {
        let by_name = group
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.len() >= 3 && f[0] == name)
            .and_then(|f| f[2].parse::<u32>().ok());
        let gid = by_name
            .or_else(|| name.parse().ok())
            .ok_or_else(|| SecurityError::UnknownGroup(name.clone()))?;
        if !id.groups.contains(&gid) {
            id.groups.push(gid);
        }
    }
    Ok(())
}

/// A container's file, read defensively: only a regular file, at most
/// 4 MiB (a rootfs may point `/etc/passwd` at a FIFO or `/dev/zero`).
fn read_small(path: &str) -> String {
    use std::io::Read;
    let Ok(f) = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    else {
        return String::new();
    };
    if !f.metadata().is_ok_and(|m| m.is_file()) {
        return String::new();
    }
    let mut buf = Vec::new();
    let _ = f.take(4 << 20).read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The default `PATH` of a container (Docker's).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The value of `PATH` in a `KEY=VALUE` list, or the default.
pub fn path_of(env: &[String]) -> &str {
    env.iter()
        .rev()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH)
}

/// Find `cmd` as `execvp` would, inside `root` (`/` after `pivot_root`).
/// `Err` lists the directories looked in.
pub fn find_executable(root: &Path, cmd: &str, path: &str) -> Result<String, Vec<String>> {
    if cmd.contains('/') {
        return Ok(cmd.to_string());
    }
    let dirs: Vec<&str> = path.split(':').filter(|d| !d.is_empty()).collect();
    for d in &dirs {
        let candidate = format!("{}/{}", d.trim_end_matches('/'), cmd);
        let on_disk = root.join(candidate.trim_start_matches('/'));
        if std::fs::metadata(&on_disk).is_ok_and(|m| m.is_file()) {
            return Ok(candidate);
        }
    }
    Err(dirs.iter().map(|d| d.to_string()).collect())
}

/// The rlimit resource for a Compose ulimit name.
pub fn rlimit_resource(name: &str) -> Option<libc::__rlimit_resource_t> {
    Some(match name {
        "nofile" => libc::RLIMIT_NOFILE,
        "nproc" => libc::RLIMIT_NPROC,
        "core" => libc::RLIMIT_CORE,
        "memlock" => libc::RLIMIT_MEMLOCK,
        "stack" => libc::RLIMIT_STACK,
        "fsize" => libc::RLIMIT_FSIZE,
        "cpu" => libc::RLIMIT_CPU,
        "as" => libc::RLIMIT_AS,
        "data" => libc::RLIMIT_DATA,
        "locks" => libc::RLIMIT_LOCKS,
        "msgqueue" => libc::RLIMIT_MSGQUEUE,
        "nice" => libc::RLIMIT_NICE,
        "rtprio" => libc::RLIMIT_RTPRIO,
        "sigpending" => libc::RLIMIT_SIGPENDING,
        "rss" => libc::RLIMIT_RSS,
        "rttime" => libc::RLIMIT_RTTIME,
        _ => return None,
    })
}

/// Apply the ulimits to the current process (inherited by the command).
pub fn apply_rlimits(rlimits: &[(String, u64, u64)]) -> Result<(), SecurityError> {
    for (name, soft, hard) in rlimits {
        let res =
            rlimit_resource(name).ok_or_else(|| SecurityError::UnknownRlimit(name.clone()))?;
        if soft > hard {
            return Err(SecurityError::RlimitOrder {
                name: name.clone(),
                soft: *soft,
                hard: *hard,
            });
        }
        let lim = libc::rlimit {
            rlim_cur: *soft,
            rlim_max: *hard,
        };
        // SAFETY: setrlimit reads a valid rlimit struct.
        if unsafe { libc::setrlimit(res, &lim) } != 0 {
            let source = io::Error::last_os_error();
            let mut cur = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit writes into a valid rlimit struct.
            unsafe { libc::getrlimit(res, &mut cur) };
            let host_hard = if cur.rlim_max == libc::RLIM_INFINITY {
                "unlimited".to_string()
            } else {
                cur.rlim_max.to_string()
            };
            return Err(SecurityError::Rlimit {
                name: name.clone(),
                soft: *soft,
                hard: *hard,
                host_hard,
                source,
            });
        }
    }
    Ok(())
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// The highest capability number the kernel knows.
pub fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

/// Drop every capability not in `keep` from the bounding set. Needs
/// CAP_SETPCAP, so it runs before the identity change. Only raw syscalls:
/// safe after fork.
pub fn drop_bounding(keep: u64, last_cap: u32) -> io::Result<()> {
    for cap in 0..=last_cap.min(63) {
        if keep & (1 << cap) == 0 {
            // SAFETY: prctl with integer arguments.
            let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
            if r != 0 {
                let e = io::Error::last_os_error();
                // EINVAL: a capability this kernel does not have.
                if e.raw_os_error() != Some(libc::EINVAL) {
                    return Err(e);
                }
            }
        }
    }
    Ok(())
}

/// Set effective = permitted = `keep`, inheritable empty, clear ambient.
/// Inheritable stays empty as in moby since CVE-2022-24769: a non-empty
/// inheritable set lets file capabilities grant more to non-root users.
pub fn set_caps(keep: u64) -> io::Result<()> {
    let hdr = CapHeader {
        version: 0x2008_0522,
        pid: 0,
    };
    let lo = keep as u32;
    let hi = (keep >> 32) as u32;
    let data = [
        CapData {
            effective: lo,
            permitted: lo,
            inheritable: 0,
        },
        CapData {
            effective: hi,
            permitted: hi,
            inheritable: 0,
        },
    ];
    // SAFETY: capset reads a v3 header and two data structs we own.
    if unsafe { libc::syscall(libc::SYS_capset, &hdr as *const CapHeader, data.as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: prctl with integer arguments.
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    Ok(())
}

/// This process's permitted capabilities.
pub fn own_permitted() -> u64 {
    let hdr = CapHeader {
        version: 0x2008_0522,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget writes a v3 header's two data structs into our array.
    if unsafe {
        libc::syscall(
            libc::SYS_capget,
            &hdr as *const CapHeader,
            data.as_mut_ptr(),
        )
    } != 0
    {
        return 0;
    }
    u64::from(data[0].permitted) | (u64::from(data[1].permitted) << 32)
}

/// Set `no_new_privs`: no exec can gain privileges (setuid bits, file caps).
pub fn no_new_privs() -> io::Result<()> {
    // SAFETY: prctl with integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Join a fresh, anonymous session keyring, so the command cannot reach the
/// keys of whoever started it through `@s` (as runc does for each
/// container). The user keyring (`@u`) is per uid and would still be host
/// root's: the seccomp profile blocks the keyring calls for that.
pub fn new_session_keyring() -> io::Result<()> {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: keyctl with a NULL name creates and joins an anonymous keyring.
    let r = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        // A kernel without keyrings has nothing to share either.
        if e.raw_os_error() != Some(libc::ENOSYS) {
            return Err(e);
        }
    }
    Ok(())
}

/// Become `id` (groups, gid, uid), using raw syscalls only.
pub fn set_identity(id: &Identity) -> io::Result<()> {
    // SAFETY: setgroups reads `len` gids from a live slice.
    if unsafe { libc::setgroups(id.groups.len(), id.groups.as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: plain syscalls with integer arguments.
    if unsafe { libc::setresgid(id.gid, id.gid, id.gid) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::setresuid(id.uid, id.uid, id.uid) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\n";
    const GROUP: &str = "root:x:0:\nwww:x:33:\nstaff:x:50:www,bob\n";

    #[test]
    fn users() {
        let r = resolve_user(None, PASSWD, GROUP).unwrap();
        assert_eq!((r.uid, r.gid, r.home.as_deref()), (0, 0, Some("/root")));
        let w = resolve_user(Some("www"), PASSWD, GROUP).unwrap();
        assert_eq!((w.uid, w.gid, w.groups.clone()), (33, 33, vec![33, 50]));
        let n = resolve_user(Some("1000:50"), PASSWD, GROUP).unwrap();
        assert_eq!((n.uid, n.gid), (1000, 50));
        let g = resolve_user(Some("www:staff"), PASSWD, GROUP).unwrap();
        assert_eq!(g.gid, 50);
        let e = resolve_user(Some("nginx"), PASSWD, GROUP).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("user \"nginx\" is not in the container's /etc/passwd"));
        assert!(resolve_user(Some("www:wheel"), PASSWD, GROUP).is_err());
    }

    #[test]
    fn caps() {
        let m = cap_mask(&["CAP_CHOWN".into(), "kill".into()]).unwrap();
        assert_eq!(m, 1 | 1 << 5);
        assert!(cap_mask(&["CAP_NOPE".into()]).is_err());
        assert_eq!(CAPABILITIES.len(), 41);
    }

    #[test]
    fn path_lookup() {
        assert_eq!(path_of(&["A=1".into(), "PATH=/x".into()]), "/x");
        assert_eq!(path_of(&[]), DEFAULT_PATH);
        let dir = std::env::temp_dir().join(format!("stack-find-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::write(dir.join("bin/tool"), "").unwrap();
        assert_eq!(
            find_executable(&dir, "tool", "/usr/bin:/bin").unwrap(),
            "/bin/tool"
        );
        assert_eq!(
            find_executable(&dir, "nope", "/usr/bin:/bin").unwrap_err(),
            vec!["/usr/bin", "/bin"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
