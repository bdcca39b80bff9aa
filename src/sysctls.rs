//! Which kernel parameters a container may set: the one rule the file
//! loader (refusing the others by name) and the runtime (checking again
//! before it writes under `/proc/sys`) share. Pure.

/// The IPC namespace's parameters Docker allows by name (runc's list).
pub const IPC: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// The file of the dotted `name` under `/proc/sys`, when `name` is two or
/// more words of letters, digits, `_` and `-`: so it names a file there
/// and nothing outside.
pub fn proc_path(name: &str) -> Option<String> {
    let parts: Vec<&str> = name.split('.').collect();
    let clean = parts.len() >= 2
        && parts.iter().all(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
    clean.then(|| format!("/proc/sys/{}", parts.join("/")))
}

/// Whether `name` lives in a container's own namespaces (network, IPC),
/// so setting it changes nothing of the host's (Docker's rule).
pub fn is_namespaced(name: &str) -> bool {
    IPC.contains(&name) || name.starts_with("fs.mqueue.") || name.starts_with("net.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_under_proc_sys() {
        assert_eq!(
            proc_path("net.core.somaxconn").as_deref(),
            Some("/proc/sys/net/core/somaxconn")
        );
        for bad in ["net", "net..x", "net.a/../b", ".net.x", "net.x.", "net.x y"] {
            assert_eq!(proc_path(bad), None, "{bad}");
        }
        assert!(is_namespaced("kernel.shmmax") && is_namespaced("fs.mqueue.msg_max"));
        assert!(!is_namespaced("kernel.core_pattern") && !is_namespaced("kernel.shm"));
    }
}
