//! The engine: the supervisor's event loop that observes, plans and acts,
//! [`Project`] — the one API the CLI calls, which alone decides whether to
//! talk to a running supervisor or act directly — and what both share
//! (control protocol, logs, direct operations, records as the planner
//! sees them).

pub mod control;
pub mod convert;
pub mod hooks;
pub mod image;
pub mod logs;
pub mod network;
pub mod observe;
pub mod ops;
pub mod project;
pub mod projects;
pub mod reaper;
pub mod secrets;
pub mod supervisor;
pub mod volumes;
pub mod watch;

pub use project::Project;

/// Errors of the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// The control socket could not be bound.
    #[error("{}: {source}", path.display())]
    Socket {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A thread the supervisor needs (signals, the control server) or its
    /// signal handlers could not be set up.
    #[error("cannot start the supervisor's {what}: {source}")]
    Setup {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("a supervisor already runs for project {0}; use `stack down` first or talk to it")]
    AlreadyRunning(String),
}
