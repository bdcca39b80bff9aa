//! One cgroup per container, `stack/<project>/<service>`, in every
//! hierarchy used, on cgroup v1 and v2 (cgroups-rs).
//!
//! Interface fixed by the skeleton; the runtime owner implements it.

use std::path::PathBuf;

use super::CgroupLimits;

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("cgroup {path}: {message}")]
    Failed { path: String, message: String },
}

/// Usage read from the cgroup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CgroupStats {
    pub cpu_usage_ns: u64,
    pub memory_bytes: u64,
    pub pids: u64,
}

#[derive(Debug, Clone)]
pub struct Cgroup {
    /// Relative path, e.g. `stack/demo/web`.
    pub path: String,
}

impl Cgroup {
    /// Create (idempotent) with limits applied.
    pub fn create(path: &str, _limits: &CgroupLimits) -> Result<Cgroup, CgroupError> {
        Ok(Cgroup { path: path.into() })
    }
    /// Open an existing cgroup; `None` when it does not exist.
    pub fn open(path: &str) -> Option<Cgroup> {
        Some(Cgroup { path: path.into() })
    }
    /// `cgroup.procs` of every hierarchy, for the spawner to join.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        Vec::new()
    }
    /// Every pid in the cgroup.
    pub fn pids(&self) -> Vec<i32> {
        Vec::new()
    }
    /// Send `signal` to every process in the cgroup.
    pub fn kill_all(&self, _signal: i32) -> Result<(), CgroupError> {
        Ok(())
    }
    pub fn stats(&self) -> CgroupStats {
        CgroupStats::default()
    }
    /// Whether the kernel OOM-killed a process in this cgroup.
    pub fn oom_killed(&self) -> bool {
        false
    }
    /// Remove the cgroup (must be empty) and its empty parents up to `stack/`.
    pub fn delete(&self) -> Result<(), CgroupError> {
        Ok(())
    }
}

/// Relative paths of the leaf cgroups under `prefix` (e.g. `stack/demo`).
pub fn list(_prefix: &str) -> Vec<String> {
    Vec::new()
}
