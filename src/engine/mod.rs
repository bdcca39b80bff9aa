//! The supervisor: one event loop that observes, plans and acts, plus the
//! pieces it and the CLI share (control protocol, logs, direct operations).

pub mod control;
pub mod convert;
pub mod logs;
pub mod observe;
pub mod ops;
pub mod project;
pub mod reaper;
pub mod supervisor;
pub mod watch;

pub use project::Project;

/// Errors of the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error("{0}")]
    Io(String),
    #[error("a supervisor already runs for project {0}; use `stack down` first or talk to it")]
    AlreadyRunning(String),
}
