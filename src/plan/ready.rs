//! `stack up --wait`: is every service running and healthy (or completed)?
//! Pure; the engine asks after each pass until `Ready` or `Failed` (or its
//! timeout). The same judgement, with [`Goal::Started`], tells `up -d`,
//! `start` and `restart` when their services have started.

use std::collections::BTreeSet;

use super::restart::{self, Decision};
use super::{diff, Action, HealthStatus, Observed, PlanOptions, RunState};
use crate::spec::{RestartPolicy, Stack};

/// Where `--wait` stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Every service is running (healthy when it has a healthcheck) or a
    /// completed one-shot job.
    Ready,
    /// Still converging: `(service, what it waits for)`, in start order.
    Pending(Vec<(String, String)>),
    /// At least one service will not get there without a change:
    /// `(service, why)`. `--wait` exits non-zero naming them.
    Failed(Vec<(String, String)>),
}

/// What is waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// `up --wait`: running and healthy, or a completed job.
    Healthy,
    /// `up -d`, `start`, `restart`: the command has started (health is not
    /// waited for, an exit is fine, a crash loop has started too).
    Started,
}

/// Judge `observed` against `desired` for `--wait` (`opts.targets` limits
/// it to `up SERVICE...` and their dependencies, as for [`diff()`]).
/// The options' one-time parts (`explicit`, `force_recreate`) are left out:
/// asked after the `up` that used them, they would read as pending for ever.
pub fn readiness(desired: &Stack, observed: &Observed, opts: &PlanOptions) -> Readiness {
    let settled = PlanOptions {
        explicit: false,
        force_recreate: false,
        ..opts.clone()
    };
    judge(desired, observed, &settled, Goal::Healthy, None)
}

/// [`readiness`] for `goal`, judging only the services in `only` (`None`:
/// all in scope). `opts` are the options of the engine's own pass, so a
/// service it is about to start counts as pending, not as stopped.
pub fn judge(
    desired: &Stack,
    observed: &Observed,
    opts: &PlanOptions,
    goal: Goal,
    only: Option<&BTreeSet<String>>,
) -> Readiness {
    let plan = diff(desired, observed, opts);
    let wanted = |n: &str| only.is_none_or(|o| o.contains(n));
    let mut pending = Vec::new();
    let mut failed = Vec::new();
    let mut planned = BTreeSet::new();
    for a in &plan.actions {
        if !wanted(a.service()) {
            continue;
        }
        match a {
            Action::Blocked { service, reason } => {
                failed.push((service.clone(), reason.clone()));
            }
            Action::Orphan { .. } | Action::Remove { .. } => continue,
            a if goal == Goal::Started && a.is_backoff() => {}
            other => pending.push((other.service().to_string(), other.to_string())),
        }
        planned.insert(a.service().to_string());
    }
    let scope = super::diff::scope(desired, opts);
    for (name, svc) in &desired.services {
        if planned.contains(name) || !scope.contains(name.as_str()) || !wanted(name) {
            continue;
        }
        let Some(c) = observed.containers.get(name) else {
            continue;
        };
        if goal == Goal::Started {
            match &c.state {
                RunState::Creating => pending.push((name.clone(), "starting".into())),
                RunState::Stopped if !c.stopped_by_user => {
                    pending.push((name.clone(), "stopped".into()))
                }
                RunState::Failed { sentence, .. } => failed.push((name.clone(), sentence.clone())),
                _ => {}
            }
            continue;
        }
        match &c.state {
            RunState::Running { .. } => match c.health {
                HealthStatus::None | HealthStatus::Healthy => {}
                HealthStatus::Starting => pending.push((name.clone(), "health: starting".into())),
                HealthStatus::Unhealthy => {
                    let restarts = svc.restart != RestartPolicy::No
                        && svc.x_stack.restart_unhealthy
                        && matches!(
                            restart::decide(&svc.restart, true, c.restarts),
                            Decision::Restart { .. }
                        );
                    if restarts {
                        pending.push((name.clone(), "unhealthy, restarting".into()));
                    } else {
                        failed.push((name.clone(), "unhealthy".into()));
                    }
                }
            },
            RunState::Creating => pending.push((name.clone(), "starting".into())),
            RunState::Exited { code, .. } if c.completed || *code == 0 => {}
            RunState::Exited {
                code, oom_killed, ..
            } => failed.push((
                name.clone(),
                format!(
                    "exited {code}{}",
                    if *oom_killed { " (oom-killed)" } else { "" }
                ),
            )),
            RunState::Failed { sentence, .. } => failed.push((name.clone(), sentence.clone())),
            RunState::Stopped if c.stopped_by_user => {
                failed.push((name.clone(), "stopped by the user".into()))
            }
            RunState::Stopped => pending.push((name.clone(), "stopped".into())),
        }
    }
    if !failed.is_empty() {
        Readiness::Failed(failed)
    } else if !pending.is_empty() {
        Readiness::Pending(pending)
    } else {
        Readiness::Ready
    }
}
