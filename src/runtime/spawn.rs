//! Creating the container process: namespaces, the init, pivot_root, exec.
//!
//! Interface fixed by the skeleton; the runtime owner implements it.

use std::path::PathBuf;

use super::ContainerConfig;

#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// A sentence for the user, e.g. `cannot run "nginx": no such file in rootfs …`.
    #[error("{0}")]
    Failed(String),
}

/// A started container: its init (or command, with `init: false`) in the
/// host's pid namespace. The caller is its parent and reaps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spawned {
    pub pid: i32,
    /// Field 22 of `/proc/<pid>/stat`, to recognise the same process later.
    pub start_time: u64,
}

/// Start a container; returns once its command has been exec'd, or with the
/// sentence saying why it could not be. `cgroup_procs` are the
/// `cgroup.procs` files the container joins before anything else.
pub fn start(_cfg: &ContainerConfig, _cgroup_procs: &[PathBuf]) -> Result<Spawned, SpawnError> {
    Err(SpawnError::Failed(
        "containers are not implemented yet".into(),
    ))
}

/// Entry of the hidden `stack __init` verb (pid 1 inside the container).
pub fn init_main() -> i32 {
    1
}

/// Field 22 of `/proc/<pid>/stat`; `None` if the process is gone.
pub fn proc_start_time(_pid: i32) -> Option<u64> {
    None
}

/// How to run a command inside a running container (`stack exec`, probes).
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub argv: Vec<String>,
    /// Extra `KEY=VALUE`s on top of the container's environment.
    pub env: Vec<String>,
    pub cwd: Option<String>,
    pub user: Option<String>,
    pub tty: bool,
}

/// Join the namespaces and cgroup of the container whose init is `pid`, run
/// the command, wait for it and return its exit code (128+signal if killed).
pub fn exec(_pid: i32, _opts: &ExecOptions) -> Result<i32, SpawnError> {
    Err(SpawnError::Failed("exec is not implemented yet".into()))
}
