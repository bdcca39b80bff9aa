//! Which cgroup hierarchies this machine has, and where: the unified (v2)
//! tree, or every v1 hierarchy mounted (named ones and a hybrid host's
//! cgroup2 included).

use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

use cgroups_rs::hierarchies;

/// Environment variable naming a cgroup2 mount to use instead of detecting
/// the layout (read once per process).
pub const V2_ROOT_ENV: &str = "STACK_CGROUP2_ROOT";

/// The controllers enabled for our subtree on v2.
pub(super) const V2_CONTROLLERS: &[&str] = &["cpu", "cpuset", "io", "memory", "pids"];

/// The mounted hierarchies we use.
#[derive(Debug, Clone)]
pub enum Layout {
    /// Every mounted hierarchy (one per controller or group of co-mounted
    /// controllers, named ones like `name=systemd`, and a hybrid host's
    /// controller-less cgroup2 as `unified`): `(controllers, mount point)`.
    V1(Vec<(Vec<String>, PathBuf)>),
    /// The unified tree's root.
    V2(PathBuf),
}

impl Layout {
    /// Detect once per process (cgroups-rs).
    pub fn get() -> &'static Layout {
        static L: OnceLock<Layout> = OnceLock::new();
        L.get_or_init(Layout::detect)
    }

    fn detect() -> Layout {
        // Use a cgroup2 mount explicitly (a hybrid host's `/sys/fs/cgroup/unified`,
        // which has no controllers but has kill/freeze; the v2 tests use it).
        if let Some(root) = std::env::var_os(V2_ROOT_ENV) {
            return Layout::V2(PathBuf::from(root));
        }
        if hierarchies::is_cgroup2_unified_mode() {
            return Layout::V2(PathBuf::from(hierarchies::UNIFIED_MOUNTPOINT));
        }
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        Layout::V1(v1_hierarchies(&mountinfo))
    }

    /// The hierarchies a container is in, by their controllers (`unified`
    /// for cgroup2), for its read-only view under `/sys/fs/cgroup`.
    pub fn hierarchies(&self) -> Vec<Vec<String>> {
        match self {
            Layout::V1(m) => m.iter().map(|(n, _)| n.clone()).collect(),
            Layout::V2(_) => vec![vec!["unified".to_string()]],
        }
    }

    /// Whether this is the unified (v2) hierarchy.
    pub fn is_v2(&self) -> bool {
        matches!(self, Layout::V2(_))
    }

    pub(super) fn roots(&self) -> Vec<PathBuf> {
        match self {
            Layout::V1(m) => m.iter().map(|(_, p)| p.clone()).collect(),
            Layout::V2(r) => vec![r.clone()],
        }
    }

    /// Mount point of a v1 controller; the unified root on v2.
    pub(super) fn root_of(&self, controller: &str) -> Option<PathBuf> {
        match self {
            Layout::V1(m) => m
                .iter()
                .find(|(names, _)| names.iter().any(|n| n == controller))
                .map(|(_, p)| p.clone()),
            Layout::V2(r) => Some(r.clone()),
        }
    }
}

/// Every cgroup hierarchy of a v1 (or hybrid) host, from mountinfo. A
/// container joins all of them, as runc does: a hierarchy it is not in
/// (`blkio`, `devices`, `name=systemd`) would have the host's root as the
/// root of its cgroup namespace, which a process inside could mount and
/// write (the CVE-2022-0492 pattern). Each hierarchy once, at its first
/// mount point.
pub(super) fn v1_hierarchies(mountinfo: &str) -> Vec<(Vec<String>, PathBuf)> {
    let mut out: Vec<(Vec<String>, PathBuf)> = Vec::new();
    for m in super::super::mountinfo::parse(mountinfo) {
        if m.root != "/" {
            continue;
        }
        let names: Vec<String> = match m.fstype.as_str() {
            "cgroup" => m
                .super_options
                .split(',')
                .filter(|o| {
                    !matches!(*o, "rw" | "ro" | "noprefix" | "clone_children" | "xattr")
                        && !o.starts_with("release_agent=")
                        && !o.starts_with("cpuset_v2_mode")
                })
                .map(str::to_string)
                .collect(),
            "cgroup2" => vec!["unified".to_string()],
            _ => continue,
        };
        if names.is_empty() || out.iter().any(|(n, _)| *n == names) {
            continue;
        }
        out.push((names, m.mount_point));
    }
    out
}
