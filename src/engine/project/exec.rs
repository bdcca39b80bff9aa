//! `exec`, and the hidden verbs that run inside or enter a container: the
//! init (`__init`), the probes' `__exec` and `develop.watch`'s `__sync`.

use crate::engine::{convert, ops};
use crate::runtime::seccomp::SeccompProgram;
use crate::runtime::spawn::{self, ExecOptions};

use super::{Progress, Project, ProjectError};

/// What `stack exec` runs, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecRequest {
    /// The service whose container runs it.
    pub service: String,
    /// The argument vector.
    pub command: Vec<String>,
    /// `KEY=VALUE`s on top of the container's environment.
    pub env: Vec<String>,
    /// Working directory inside the container [default: its `working_dir`].
    pub workdir: Option<String>,
    /// Name or `uid[:gid]` [default: the container's user].
    pub user: Option<String>,
    /// Give the command a terminal.
    pub tty: bool,
}

/// The errors of the hidden verbs, printed as `stack: …`.
#[derive(Debug, thiserror::Error)]
pub enum InternalError {
    /// The sealed copy of the binary could not be made or run.
    #[error(transparent)]
    Sealed(#[from] crate::runtime::sealed::SealedError),
    /// The `--seccomp` argument does not decode.
    #[error("--seccomp: {0}")]
    Seccomp(String),
    /// Entering the container or running the command failed.
    #[error("{0}")]
    Exec(String),
}

/// Re-run this process from the sealed copy of the binary unless it does
/// already: everything that enters a container must (CVE-2019-5736).
pub fn seal() -> Result<(), ProjectError> {
    crate::runtime::sealed::reexec_sealed().map_err(ProjectError::Sealed)
}

impl Project {
    /// `stack exec SERVICE CMD...`: run a command in the running container
    /// and return its exit code. Call [`seal`] first, before anything else.
    pub fn exec(&self, req: &ExecRequest) -> Result<i32, ProjectError> {
        let store = &self.store;
        let (service, _) = crate::spec::replicas::split(&req.service);
        self.check_named(&[service.to_string()])?;
        let (rec, damage) = store.load_container(&req.service)?;
        if let Some(d) = damage {
            self.tell(Progress::Warning(d.to_string()));
        }
        let (service, n) = crate::spec::replicas::split(&req.service);
        let which = match n {
            1 => format!("service {service}"),
            n => format!("replica {n} of service {service}"),
        };
        let Some(rec) = rec else {
            return Err(ProjectError::Exec(format!(
                "{which} has no container in project {} (is the stack up?)",
                store.project
            )));
        };
        let Some(pid) = rec.pid.filter(|_| ops::rec_alive(&rec)) else {
            return Err(ProjectError::Exec(format!(
                "{which} is not running ({}); start it with `stack start {service}`",
                rec.state_text(),
            )));
        };
        for e in &req.env {
            if !e.contains('=') {
                return Err(ProjectError::Exec(format!("-e {e}: expected KEY=VALUE")));
            }
        }
        let opts = ExecOptions {
            argv: req.command.clone(),
            env: req.env.clone(),
            cwd: req.workdir.clone(),
            user: req.user.clone(),
            tty: req.tty,
            capabilities: Some(convert::service_capabilities(&rec.config)),
            seccomp: convert::seccomp(&rec.config).map_err(|e| {
                ProjectError::Exec(format!("service {}: seccomp: {e}", req.service))
            })?,
        };
        spawn::exec(pid, &opts).map_err(|e| match &e {
            spawn::SpawnError::Step(step) => ProjectError::ExecCommand {
                code: step.exit_code(),
                sentence: format!("service {}: {e}", req.service),
            },
            // Not found, in PATH or at its path: Docker's 127.
            spawn::SpawnError::Command(_) => ProjectError::ExecCommand {
                code: 127,
                sentence: format!("service {}: {e}", req.service),
            },
            _ => ProjectError::Exec(format!("service {}: {e}", req.service)),
        })
    }
}

/// The hidden `__exec`: a command in the container whose init is `pid`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InternalExec {
    /// Host pid of the container's init.
    pub pid: i32,
    /// The argument vector.
    pub command: Vec<String>,
    /// `KEY=VALUE`s on top of the container's environment.
    pub env: Vec<String>,
    /// Working directory inside the container.
    pub workdir: Option<String>,
    /// Name or `uid[:gid]`.
    pub user: Option<String>,
    /// Give the command a terminal.
    pub tty: bool,
    /// Capabilities to keep.
    pub caps: Option<Vec<String>>,
    /// The container's seccomp filter, as `SeccompProgram::to_hex`.
    pub seccomp: Option<String>,
}

/// Run the hidden `__exec`; its exit code, or why it could not run.
pub fn internal_exec(x: &InternalExec) -> Result<i32, InternalError> {
    crate::runtime::sealed::reexec_sealed().map_err(InternalError::Sealed)?;
    let seccomp = match x.seccomp.as_deref().map(SeccompProgram::from_hex) {
        Some(Err(e)) => return Err(InternalError::Seccomp(e.to_string())),
        Some(Ok(p)) => Some(p),
        None => None,
    };
    let opts = ExecOptions {
        seccomp,
        argv: x.command.clone(),
        env: x.env.clone(),
        cwd: x.workdir.clone(),
        user: x.user.clone(),
        tty: x.tty,
        capabilities: x.caps.clone(),
    };
    spawn::exec(x.pid, &opts).map_err(|e| InternalError::Exec(e.to_string()))
}

/// The container's init (pid 1): the hidden `__init`.
pub fn init_main() -> i32 {
    spawn::init_main()
}

/// The hidden `__dns`: the project's resolver (see `engine::network`),
/// serving `table` on `listen` until SIGTERM.
pub fn dns_main(
    table: &std::path::Path,
    listen: Vec<std::net::SocketAddr>,
) -> Result<i32, ProjectError> {
    crate::runtime::dns::serve_main(table, listen)
        .map(|()| 0)
        .map_err(|e| ProjectError::Io(std::io::Error::other(e.to_string())))
}

/// The hidden `__sync`: copy files into the container whose init is `pid`.
pub fn sync_main(pid: i32, start_time: Option<u64>) -> Result<i32, ProjectError> {
    seal()?;
    Ok(crate::runtime::sync::sync_main(pid, start_time))
}
