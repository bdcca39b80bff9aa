//! Desired (the file) vs observed (the state store) → a plan of actions,
//! each with its reason. Pure; unit-tested without root.
//!
//! Everything here is a function of its inputs: no I/O, no clock. Time is
//! passed in as milliseconds (`now_ms`, `at_ms`), so the engine's loop can
//! call [`diff()`] on every event (level-triggered) and tests can replay any
//! timeline.
//!
//! - [`diff()`]: the reconcile step, `Stack` + [`Observed`] → [`Plan`].
//! - [`reasons`]: field-level differences between two configs.
//! - [`restart`]: restart policies and exponential back-off.
//! - [`health`]: the health-check state machine ([`health::Tracker`]).
//! - [`ready`]: what `up --wait` waits for ([`readiness`]).
//!
//! How the engine uses it, on every event (file reloaded, child exited,
//! health result, timer, control request):
//!
//! 1. update the [`ObservedContainer`]s with what happened (`on_started`,
//!    `on_exited`, `on_failed`, `on_policy_restart`, health from the
//!    [`Tracker`]);
//! 2. `let plan = diff(&stack, &observed, &opts)`;
//! 3. execute `plan.executable()` (in order; independent ones may run in
//!    parallel), mark each acted-on container `Creating`, and arm a timer
//!    for `plan.wake_at_ms`. `Wait` and `Blocked` are shown, never executed.

pub mod diff;
pub mod health;
pub mod ready;
pub mod reasons;
pub mod restart;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::spec::Service;

pub use diff::{diff, scope};
pub use health::{HealthStatus, Tracker};
pub use ready::{judge, readiness, Goal, Readiness};

/// What the supervisor knows about the running stack, by service name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    pub containers: BTreeMap<String, ObservedContainer>,
}

/// One service's container as last observed/recorded by the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservedContainer {
    /// Service name (the key in [`Observed::containers`]).
    pub service: String,
    /// The config the container was created with (for field-level reasons).
    pub config: Service,
    /// Identifies this container instance: the time (ms) it was created.
    /// A recreate gives a new value; a restart keeps it. Dependents with
    /// `depends_on.X.restart: true` compare it with what they recorded.
    pub created_ms: u64,
    pub state: RunState,
    /// `None` when the service has no healthcheck.
    pub health: HealthStatus,
    /// Restarts done by the restart policy (and unhealthy restarts) since
    /// the container was created or started by the user; `on-failure:max`
    /// counts these. Shown by `ps`.
    pub restarts: u32,
    /// Consecutive quick restarts: drives the back-off delay
    /// ([`restart::backoff`]); reset to 0 when the container stayed up for
    /// [`restart::RESET_AFTER_MS`]. Maintained by [`ObservedContainer::on_exited`].
    pub backoff_level: u32,
    /// `stack stop`: `always`/`unless-stopped` do not bring it back until
    /// `stack start` (or an explicit `up`).
    pub stopped_by_user: bool,
    /// A one-shot job that exited 0 with this config (restart `no` or
    /// `on-failure`): not run again unless its config changes.
    pub completed: bool,
    /// `created_ms` of each dependency when this container was last started
    /// (see [`Observed::dep_stamps`]); a dependency whose `created_ms`
    /// differs has been recreated since.
    #[serde(default)]
    pub deps_at_start: BTreeMap<String, u64>,
}

/// The lifecycle state of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum RunState {
    /// The engine is creating/starting it (an action is in flight).
    Creating,
    Running {
        pid: u32,
        since_ms: u64,
    },
    /// The command exited on its own (or was killed by the OOM killer).
    Exited {
        code: i32,
        oom_killed: bool,
        at_ms: u64,
    },
    /// It never ran its command: a set-up failure, as a sentence
    /// (`cannot run "nginx": no such file in rootfs ...`).
    Failed {
        sentence: String,
        at_ms: u64,
    },
    /// Created but not running, and not because it exited on its own
    /// (created and not yet started, or stopped by stack/the user).
    Stopped,
}

/// How a plan is computed: the flags of `stack up` plus the time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// `stack up SERVICE...`; empty means every service.
    pub targets: Vec<String>,
    /// `--no-deps`: do not add the targets' dependencies, and do not wait
    /// for dependencies outside the targets.
    pub no_deps: bool,
    /// `--force-recreate`: recreate every targeted existing container.
    /// Wins over `no_recreate` (the CLI rejects both together). Like
    /// `explicit`, set it only for the first pass answering the request,
    /// or every pass recreates again.
    pub force_recreate: bool,
    /// `--no-recreate`: never recreate an existing container.
    pub no_recreate: bool,
    /// `--remove-orphans`: orphans become [`Action::Remove`], not [`Action::Orphan`].
    pub remove_orphans: bool,
    /// This pass answers an explicit `stack up`/`start` (not a loop tick):
    /// containers stopped by the user, and failed containers whose policy
    /// would not restart them, are started again (completed jobs are not).
    pub explicit: bool,
    /// Limits `explicit` to these services (`None`: every service). The
    /// engine passes the services a request named and has not started yet:
    /// once started (a job that then failed, say), a service is planned as
    /// on a loop tick, so a dependent merely waiting on it does not make it
    /// run again.
    pub explicit_only: Option<BTreeSet<String>>,
    /// Limits `force_recreate` to these services (`None`: every targeted
    /// one). The engine passes the services this `up` has not recreated
    /// yet, so each is recreated once, not on every pass.
    pub force_only: Option<BTreeSet<String>>,
    /// The current time in ms (same clock as every `*_ms` in [`Observed`]).
    pub now_ms: u64,
}

/// One step of a plan, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Action {
    /// No container yet: create and start it.
    Create { service: String, reason: String },
    /// The config changed (or `--force-recreate`): stop, remove, create,
    /// start. One reason per changed field.
    Recreate {
        service: String,
        reasons: Vec<String>,
    },
    /// Start an existing container that is not running. When it was
    /// stopped by the user (an explicit `up`/`start`), the engine also calls
    /// [`ObservedContainer::on_user_start`].
    Start { service: String, reason: String },
    /// Stop it if it runs, then start it again. `policy` is true when the
    /// restart counts toward the restart policy (policy and unhealthy
    /// restarts: the engine then calls [`ObservedContainer::on_policy_restart`]);
    /// false for `dependency X recreated`.
    Restart {
        service: String,
        reason: String,
        policy: bool,
    },
    /// Stop and remove a container not in the file (`--remove-orphans`).
    Remove { service: String, reason: String },
    /// A container not in the file, only reported.
    Orphan { service: String },
    /// `then` is due but cannot run yet: a dependency's condition is not met
    /// or a back-off is running. The engine must not execute `then` now; it
    /// re-plans on the next event, or at `until_ms` (a timer) when set.
    Wait {
        service: String,
        then: Box<Action>,
        reason: String,
        until_ms: Option<u64>,
    },
    /// Cannot progress without a change: a failed job it depends on, a
    /// restart policy that gave up, a dependency without a healthcheck.
    Blocked { service: String, reason: String },
}

/// The result of [`diff()`]: what to do now, what waits, what is stuck.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// In dependency order (dependencies first), then orphans.
    pub actions: Vec<Action>,
    /// The earliest `Wait::until_ms`: the loop must wake then and re-plan.
    pub wake_at_ms: Option<u64>,
}

/// The exit code recorded when the exit itself was not seen (a container
/// adopted after a supervisor crash whose init left no code): not a success.
pub const UNKNOWN_EXIT: i32 = -1;

impl PlanOptions {
    /// Whether `service` is to be force-recreated (see `force_recreate`).
    pub fn is_forced(&self, service: &str) -> bool {
        self.force_recreate && self.force_only.as_ref().is_none_or(|s| s.contains(service))
    }

    /// Whether this pass is explicit for `service` (see `explicit`).
    pub fn is_explicit(&self, service: &str) -> bool {
        self.explicit
            && self
                .explicit_only
                .as_ref()
                .is_none_or(|s| s.contains(service))
    }
}

impl Action {
    /// The service this action is about.
    pub fn service(&self) -> &str {
        match self {
            Action::Create { service, .. }
            | Action::Recreate { service, .. }
            | Action::Start { service, .. }
            | Action::Restart { service, .. }
            | Action::Remove { service, .. }
            | Action::Orphan { service }
            | Action::Wait { service, .. }
            | Action::Blocked { service, .. } => service,
        }
    }

    /// True for actions the engine executes now (create, recreate, start,
    /// restart, remove); false for reports (orphan, wait, blocked).
    pub fn is_executable(&self) -> bool {
        matches!(
            self,
            Action::Create { .. }
                | Action::Recreate { .. }
                | Action::Start { .. }
                | Action::Restart { .. }
                | Action::Remove { .. }
        )
    }

    /// The reason of a report (`wait`, `blocked`, `orphan`), as `ps` shows
    /// it; `None` for the actions the engine executes.
    pub fn report(&self) -> Option<String> {
        match self {
            Action::Wait { reason, .. } | Action::Blocked { reason, .. } => Some(reason.clone()),
            Action::Orphan { .. } => Some("not in the file (--remove-orphans removes it)".into()),
            _ => None,
        }
    }

    /// A policy restart waiting for its back-off (a crash loop: the
    /// service has started, `up` without `--wait` need not wait for it).
    pub fn is_backoff(&self) -> bool {
        matches!(self, Action::Wait { then, until_ms: Some(_), .. }
            if matches!(**then, Action::Restart { policy: true, .. }))
    }

    /// The verb shown in the plan (`create`, `wait`, ...).
    pub fn verb(&self) -> &'static str {
        match self {
            Action::Create { .. } => "create",
            Action::Recreate { .. } => "recreate",
            Action::Start { .. } => "start",
            Action::Restart { .. } => "restart",
            Action::Remove { .. } => "remove",
            Action::Orphan { .. } => "orphan",
            Action::Wait { .. } => "wait",
            Action::Blocked { .. } => "blocked",
        }
    }
}

impl fmt::Display for Action {
    /// One line: `create cache: new service`,
    /// `recreate web: environment.COLOR "red" → "blue", limits.memory 1 → 2`,
    /// `create web: new service, waiting for db to be healthy`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A replica's unit key (`web#2`) is shown as users name it (`web-2`).
        let shown = crate::spec::replicas::display;
        match self {
            Action::Create { service, reason }
            | Action::Start { service, reason }
            | Action::Restart {
                service, reason, ..
            }
            | Action::Remove { service, reason }
            | Action::Blocked { service, reason } => {
                write!(f, "{} {}: {reason}", self.verb(), shown(service))
            }
            Action::Recreate { service, reasons } => {
                write!(f, "recreate {}: {}", shown(service), reasons.join(", "))
            }
            Action::Orphan { service } => write!(
                f,
                "orphan {}: not in the file (--remove-orphans removes it)",
                shown(service)
            ),
            Action::Wait { then, reason, .. } => write!(f, "{then}, {reason}"),
        }
    }
}

impl Plan {
    /// True when there is nothing at all to do or report.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// The actions to execute now, in order.
    pub fn executable(&self) -> impl Iterator<Item = &Action> {
        self.actions.iter().filter(|a| a.is_executable())
    }

    /// True when nothing is executable, waiting or blocked (orphans being
    /// only reported do not count): the stack matches the file.
    pub fn is_converged(&self) -> bool {
        self.actions
            .iter()
            .all(|a| matches!(a, Action::Orphan { .. }))
    }
}

impl fmt::Display for Plan {
    /// One line per action; an empty plan says so.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.actions.is_empty() {
            return write!(f, "nothing to do: the stack matches the file");
        }
        for (i, a) in self.actions.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl Observed {
    /// What a container of `svc` records in `deps_at_start` when it starts:
    /// the `created_ms` of each dependency currently observed.
    pub fn dep_stamps(&self, svc: &Service) -> BTreeMap<String, u64> {
        svc.depends_on
            .keys()
            .filter_map(|d| self.containers.get(d).map(|c| (d.clone(), c.created_ms)))
            .collect()
    }
}

impl ObservedContainer {
    /// A container being created now with `config` (state `Creating`).
    pub fn new(config: Service, created_ms: u64) -> ObservedContainer {
        ObservedContainer {
            service: config.name.clone(),
            health: HealthStatus::None,
            config,
            created_ms,
            state: RunState::Creating,
            restarts: 0,
            backoff_level: 0,
            stopped_by_user: false,
            completed: false,
            deps_at_start: BTreeMap::new(),
        }
    }

    /// The engine begins (re)starting it with `config`; it is `Creating`
    /// until [`on_started`](Self::on_started) or [`on_failed`](Self::on_failed).
    pub fn on_start(&mut self, config: Service) {
        self.service = config.name.clone();
        self.config = config;
        self.state = RunState::Creating;
    }

    /// The command is running. `deps` is [`Observed::dep_stamps`].
    pub fn on_started(&mut self, pid: u32, now_ms: u64, deps: BTreeMap<String, u64>) {
        self.state = RunState::Running {
            pid,
            since_ms: now_ms,
        };
        self.health = if self.config.healthcheck.is_some() {
            HealthStatus::Starting
        } else {
            HealthStatus::None
        };
        self.completed = false;
        self.deps_at_start = deps;
    }

    /// The command exited with `code` ([`UNKNOWN_EXIT`] when unseen).
    /// Resets the back-off when it stayed up long enough; marks a one-shot
    /// job (restart `no`/`on-failure`) that exited 0 as completed. A
    /// container the user stopped is `Stopped`, whatever its code.
    pub fn on_exited(&mut self, code: i32, oom_killed: bool, now_ms: u64) {
        if let RunState::Running { since_ms, .. } = self.state {
            self.backoff_level = restart::level_after_exit(
                self.backoff_level,
                now_ms.saturating_sub(since_ms),
                &self.config.restart_timing,
            );
        }
        self.state = if self.stopped_by_user {
            RunState::Stopped
        } else {
            RunState::Exited {
                code,
                oom_killed,
                at_ms: now_ms,
            }
        };
        self.completed = code == 0 && restart::is_one_shot(&self.config.restart);
        if self.health != HealthStatus::None {
            self.health = HealthStatus::Starting;
        }
    }

    /// The exit code arrived after the engine had already marked the exit
    /// ([`on_stopped`](Self::on_stopped) came first): note it.
    pub fn on_exit_code(&mut self, code: i32) {
        if let RunState::Exited { code: c, .. } = &mut self.state {
            if *c == UNKNOWN_EXIT {
                *c = code;
            }
        }
    }

    /// A stop by the engine finished. The exit itself may not have been
    /// seen yet: the container counts as exited with an unknown code
    /// (or `Stopped`, when the user stopped it).
    pub fn on_stopped(&mut self, now_ms: u64) {
        if self.is_running() {
            self.on_exited(UNKNOWN_EXIT, false, now_ms);
        }
    }

    /// A health result, as the [`Tracker`] judged it.
    pub fn on_health(&mut self, status: HealthStatus) {
        self.health = status;
    }

    /// The container could not run its command.
    pub fn on_failed(&mut self, sentence: String, now_ms: u64) {
        self.state = RunState::Failed {
            sentence,
            at_ms: now_ms,
        };
    }

    /// The engine executes a `Restart { policy: true }`.
    pub fn on_policy_restart(&mut self) {
        self.restarts = self.restarts.saturating_add(1);
        self.backoff_level = self.backoff_level.saturating_add(1);
    }

    /// `stack stop`: remembered until `start`. An exited container is
    /// `Stopped` now; a running one stays `Running` until its exit
    /// ([`on_exited`](Self::on_exited) then makes it `Stopped`); a failed
    /// one stays failed.
    pub fn on_user_stop(&mut self) {
        self.stopped_by_user = true;
        if matches!(self.state, RunState::Exited { .. }) {
            self.state = RunState::Stopped;
        }
    }

    /// `stack start` (or an explicit `up`) of a container the user stopped:
    /// forget the stop and the policy's counters.
    pub fn on_user_start(&mut self) {
        self.stopped_by_user = false;
        self.restarts = 0;
        self.backoff_level = 0;
    }

    /// How the planner must see a container with an operation in flight
    /// (a start or a stop on a worker): busy, not to be acted on.
    pub fn in_flight(&self) -> ObservedContainer {
        ObservedContainer {
            state: RunState::Creating,
            ..self.clone()
        }
    }

    /// True while the command runs.
    pub fn is_running(&self) -> bool {
        matches!(self.state, RunState::Running { .. })
    }
}

#[cfg(test)]
mod tests;
