//! The one API the CLI calls: a [`Project`] opened from a stack file or a
//! project name, with one method per verb. Each method alone decides
//! whether to talk to the project's supervisor or to act directly on the
//! state store and the cgroups; the CLI parses, calls and prints.
//!
//! What happens while a verb runs (waiting for the lock, a damaged state
//! file, a service stopped) is told through a [`Progress`] callback, so the
//! CLI can print it at once; what a verb ends with is its return value.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::spec::{LoadOptions, Stack};
use crate::state::{ProjectLock, Store};

use super::control::{Client, ControlError};
use super::EngineError;

mod down;
mod exec;
mod images;
mod lifecycle;
mod logs;
mod plan;
mod processes;
mod ps;
mod up;

pub use down::DownOutcome;
pub use exec::{
    dns_main, init_main, internal_exec, seal, sync_main, ExecRequest, InternalError, InternalExec,
};
pub use lifecycle::Answer;
pub use plan::DryRun;
pub use processes::{Process, Top};
pub use ps::{Listing, Row};
pub use up::{Settled, UpOutcome, UpRequest};

// What the CLI prints: records, statuses, events, plans, log lines.
pub use super::control::Event;
pub use super::logs::{print_line, LogLine, Prefixer};
pub use crate::plan::Plan;
pub use crate::runtime::cgroup::Pressure;
pub use crate::state::{ContainerRecord, Health, Status};

/// Errors of the project API. Most wrap a lower room's error unchanged, so
/// the user reads the same message whichever way a verb went.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(transparent)]
    Load(#[from] crate::spec::LoadError),
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error(transparent)]
    Control(#[from] ControlError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Graph(#[from] crate::graph::GraphError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Network(#[from] crate::engine::network::NetworkError),
    #[error(transparent)]
    Image(#[from] crate::engine::image::ImageError),
    /// A service name the project does not have, with the near name and
    /// the list (`spec::no_such_service`): every verb says it the same.
    #[error("{0}")]
    NoSuchService(String),
    /// `port web 81` when web publishes no 81.
    #[error(
        "service {service} does not publish port {port}: see `stack ps` for what it publishes"
    )]
    NotPublished { service: String, port: String },
    /// `kill -s` of something that is not a signal.
    #[error("-s {0:?}: not a signal (a name such as SIGTERM or HUP, or a number)")]
    BadSignal(String),
    /// `start` or `restart` of a project that is down.
    #[error("project {project} has no containers to {verb}: it is down; create and start it with `stack up -d`")]
    NothingTo { verb: &'static str, project: String },
    /// `stop web` when the project has no container for `web`.
    #[error("no such service: {service} (no container in project {project})")]
    NoContainer { service: String, project: String },
    /// The file could not be read and project.json names none either.
    #[error("{0}")]
    NoFile(String),
    #[error("the supervisor went away")]
    SupervisorGone,
    #[error("{}", path.display())]
    SupervisorLog {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot find the stack binary")]
    NoBinary(#[source] std::io::Error),
    #[error("cannot start the supervisor")]
    Spawn(#[source] std::io::Error),
    #[error("the supervisor exited ({status}) before it was ready; its log {}:\n{tail}", log.display())]
    SupervisorExited {
        status: std::process::ExitStatus,
        log: PathBuf,
        tail: String,
    },
    #[error("the supervisor did not answer within 30 s; see {}", .0.display())]
    SupervisorSilent(PathBuf),
    #[error("project {0} is not up: start it with `stack up -d --watch` (or `stack up --watch`)")]
    NotUp(String),
    #[error("the supervisor did not start watching")]
    WatchRefused(#[source] ControlError),
    #[error("the supervisor did not start watching; see `stack logs` and its log")]
    NotWatching,
    #[error("no supervisor runs for project {0}; events exist only while one runs (`stack up`)")]
    NoEvents(String),
    #[error("no logs for service {service} in project {project} (known: {known})")]
    NoLogs {
        service: String,
        project: String,
        known: String,
    },
    /// `exec` refused before entering the container, or failed entering it.
    #[error("{0}")]
    Exec(String),
    /// `exec`'s command could not be run (not found, not executable):
    /// `stack exec` exits `code` (127 or 126), as `docker exec` does.
    #[error("{sentence}")]
    ExecCommand { sentence: String, code: i32 },
    /// The sealed copy of the binary could not be made or run.
    #[error(transparent)]
    Sealed(#[from] crate::runtime::sealed::SealedError),
}

impl ProjectError {
    /// The exit status the command line ends with for this error: 1,
    /// except what Docker gives its own numbers to.
    pub fn exit_code(&self) -> i32 {
        match self {
            ProjectError::ExecCommand { code, .. } => *code,
            _ => 1,
        }
    }
}

/// Something that happened while a verb ran, for the user to see now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Another stack command holds the project's lock; the text says which.
    Waiting(String),
    /// A problem that does not stop the verb (a damaged state file moved
    /// aside, something `down` could not remove).
    Warning(String),
    /// `stop`, `start` or `restart` left a service in this state.
    Service { service: String, state: String },
    /// `up` with a running supervisor: the file changed nothing.
    UpToDate,
    /// The supervisor refused `down`; it is cleaned up directly.
    DownRefused(String),
    /// Talking to the supervisor for `down` failed; cleaned up directly.
    DownFailed(String),
    /// A detached supervisor brought the stack to its settled state.
    Settled,
    /// An image is being imported or pulled (one line per step).
    Image(String),
}

fn ignore(_: Progress) {}

/// One project: its state store, its stack file when it could be read, and
/// how it was named (so a supervisor started for it reads the same file).
#[derive(Debug, Clone)]
pub struct Project {
    store: Store,
    stack: Option<Stack>,
    load: LoadOptions,
    verbose: u8,
    progress: fn(Progress),
    /// `up --scale`: replica counts over the file's (`None`: those the
    /// last `up` or `stack scale` left).
    scale: Option<BTreeMap<String, u32>>,
}

impl Project {
    /// The project a verb acts on. With a project name the file is
    /// optional (so `ps`, `logs`, `down` work after the file is gone);
    /// without one the file names the project.
    pub fn open(load: LoadOptions) -> Result<Project, ProjectError> {
        let (store, stack) = match &load.project_name {
            Some(name) => (Store::new(name)?, crate::spec::load(&load).ok()),
            None => {
                let stack = crate::spec::load(&load)?;
                (Store::new(&stack.name)?, Some(stack))
            }
        };
        Ok(Project::with(store, stack, load))
    }

    /// The project of a stack file that must be read (`up`, `plan`); the
    /// named `services` must be in it.
    pub fn load(load: LoadOptions, services: &[String]) -> Result<Project, ProjectError> {
        let stack = crate::spec::load(&load)?;
        check_services(&stack, services)?;
        let store = Store::new(&stack.name)?;
        Ok(Project::with(store, Some(stack), load))
    }

    fn with(store: Store, stack: Option<Stack>, load: LoadOptions) -> Project {
        Project {
            store,
            stack,
            load,
            verbose: 0,
            progress: ignore,
            scale: None,
        }
    }

    /// Where to tell what happens while a verb runs (default: nowhere).
    pub fn on_progress(mut self, f: fn(Progress)) -> Project {
        self.progress = f;
        self
    }

    /// `up --scale SERVICE=N`: run N replicas of SERVICE, whatever the
    /// file says, until the next `up`.
    pub fn scale(mut self, scale: BTreeMap<String, u32>) -> Project {
        self.scale = Some(scale);
        self
    }

    /// The counts the last `up --scale` or `stack scale` set (over the
    /// file's).
    pub fn scale_in_force(&self) -> BTreeMap<String, u32> {
        self.store.scale()
    }

    /// How verbose a supervisor this project starts is (`--verbose` count).
    pub fn verbose(mut self, n: u8) -> Project {
        self.verbose = n;
        self
    }

    /// The project's name.
    pub fn name(&self) -> &str {
        &self.store.project
    }

    /// The stack file's model, when it could be read.
    pub fn stack(&self) -> Option<&Stack> {
        self.stack.as_ref()
    }

    /// The detached supervisor's log file.
    pub fn supervisor_log(&self) -> PathBuf {
        self.store.supervisor_log()
    }

    fn tell(&self, p: Progress) {
        (self.progress)(p)
    }

    /// The project's lock, telling while another command holds it.
    fn lock(&self) -> Result<ProjectLock, ProjectError> {
        let progress = self.progress;
        Ok(self
            .store
            .lock(&|m| progress(Progress::Waiting(m.to_string())))?)
    }

    /// The running supervisor, if any: the one "talk to it, else act
    /// directly" question every verb asks.
    ///
    /// A supervisor that was just killed can still accept: its other
    /// threads are exiting and hold the socket open a moment after its
    /// main thread is a zombie, and the connection is then reset. So a
    /// connection counts only while the recorded supervisor lives; during
    /// that moment (or before a new one has written its pid file) it is
    /// tried again until it is refused or answered for.
    fn supervisor(&self) -> Option<Client> {
        let sock = self.store.control_socket();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        loop {
            let client = Client::connect(&sock)?;
            if self.store.supervisor_pid().is_some() || std::time::Instant::now() > deadline {
                return Some(client);
            }
            drop(client);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// The stack's records, damaged ones told as warnings.
    fn records(&self) -> Result<Vec<ContainerRecord>, ProjectError> {
        let (recs, damage) = self.store.containers()?;
        for d in damage {
            self.tell(Progress::Warning(d.to_string()));
        }
        Ok(recs)
    }
}

/// Every named service must be in the file.
/// (A stack of units knows its services by `replicas`, one scaled to 0
/// included.)
fn check_services(stack: &Stack, services: &[String]) -> Result<(), ProjectError> {
    for s in services {
        if !stack.services.contains_key(s) && !stack.replicas.contains_key(s) {
            let names: Vec<String> = if stack.replicas.is_empty() {
                stack.services.keys().cloned().collect()
            } else {
                stack.replicas.keys().cloned().collect()
            };
            return Err(ProjectError::NoSuchService(crate::spec::no_such_service(
                s, &names,
            )));
        }
    }
    Ok(())
}

impl Project {
    /// The project's services: the file's (a replicated one by its
    /// name), else, without a file, those its containers and logs name.
    pub fn service_names(&self) -> Vec<String> {
        if let Some(stack) = &self.stack {
            let mut names: Vec<String> = stack.services.keys().cloned().collect();
            names.extend(stack.replicas.keys().cloned());
            names.sort();
            names.dedup();
            return names;
        }
        let mut names: Vec<String> = self
            .known_units()
            .iter()
            .map(|u| crate::spec::replicas::service_of(u).to_string())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Every name in `names` is a service of the project, or a unit key of
    /// one of its replicas.
    pub fn check_named(&self, names: &[String]) -> Result<(), ProjectError> {
        let services = self.service_names();
        let units = self.known_units();
        for n in names {
            let known = services.contains(n) || units.contains(n);
            if !known {
                return Err(ProjectError::NoSuchService(crate::spec::no_such_service(
                    n, &services,
                )));
            }
        }
        Ok(())
    }
}

/// The stack's services in start order (dependencies first).
pub fn start_order(stack: &Stack) -> Result<Vec<String>, ProjectError> {
    Ok(crate::graph::DepGraph::new(stack)?.order().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_service_names_the_services() {
        let mut stack = Stack {
            name: "demo".into(),
            file: "/s/stack.yaml".into(),
            overrides: Vec::new(),
            dir: "/s".into(),
            services: Default::default(),
            volumes: Default::default(),
            networks: Default::default(),
            inputs: Vec::new(),
            replicas: Default::default(),
        };
        for n in ["db", "web"] {
            stack
                .services
                .insert(n.into(), crate::engine::convert::tests::svc(n));
        }
        assert!(check_services(&stack, &["web".into()]).is_ok());
        let e = check_services(&stack, &["api".into()]).unwrap_err();
        assert_eq!(e.to_string(), "no such service: api (services: db, web)");
    }

    #[test]
    fn wrapped_errors_keep_their_chain() {
        // `stack: {e:#}` at the edge prints the chain: context, then cause.
        let e = ProjectError::NoBinary(std::io::Error::other("gone"));
        assert_eq!(e.to_string(), "cannot find the stack binary");
        assert_eq!(
            std::error::Error::source(&e).map(|s| s.to_string()),
            Some("gone".to_string())
        );
    }
}
