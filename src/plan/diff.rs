//! The reconcile step: desired vs observed → [`Plan`].
//!
//! Level-triggered: `diff` knows nothing of what happened before, only of
//! what is observed now, so the engine calls it after every event and
//! executes the executable actions. Waiting is part of the answer
//! ([`Action::Wait`]), never a blocked caller.

use std::collections::{BTreeMap, BTreeSet};

use super::restart::{self, Decision};
use super::{
    reasons, Action, HealthStatus, Observed, ObservedContainer, Plan, PlanOptions, RunState,
};
use crate::graph::DepGraph;
use crate::spec::{replicas, Condition, Service, Stack};

/// Compute the plan that brings `observed` to `desired`. Pure.
///
/// Services are visited in the graph's start order (dependencies first,
/// ties by name: [`DepGraph::order`]); each gets at most one action:
///
/// - not observed → `create: new service`; config changed (ignoring
///   `depends_on` and `profiles`) or `force_recreate` → `recreate` with one
///   reason per changed field; stopped → `start`;
/// - exited or failed → what its restart policy says (with back-off, as a
///   `wait` until the restart is due), or `blocked` when `on-failure:max`
///   gave up; completed one-shot jobs are left alone; `stack stop` is
///   honoured until an explicit `up`/`start`;
/// - running but unhealthy, policy not `no`, `x-stack.restart_unhealthy` →
///   `restart`; a dependency recreated since it started and declared with
///   `restart: true` → `restart`;
/// - a create/recreate/start/dependency-restart whose dependencies'
///   conditions are not met becomes `wait` (or `blocked` when they never
///   will be). Independent services are executable in the same plan.
///
/// Containers not in the file are reported (`orphan`) or, with
/// `remove_orphans`, removed.
pub fn diff(desired: &Stack, observed: &Observed, opts: &PlanOptions) -> Plan {
    let mut actions = Vec::new();
    let mut outcomes: BTreeMap<&str, Outcome> = BTreeMap::new();

    for t in &opts.targets {
        if !desired.services.contains_key(t) && !desired.replicas.contains_key(t) {
            actions.push(Action::Blocked {
                service: t.clone(),
                reason: "no such service in the file".into(),
            });
        }
    }
    // Lenient: the loader rejected cycles and unknown dependencies already;
    // a hand-made stack's are cut here, and `gate` reports a missing one.
    let graph = DepGraph::lenient(desired);
    let scope = scope_in(desired, &graph, opts);

    for name in graph.order() {
        let Some((name, svc)) = desired.services.get_key_value(name.as_str()) else {
            continue;
        };
        let name = name.as_str();
        if !scope.contains(name) {
            continue;
        }
        let ctx = Ctx {
            desired,
            observed,
            opts,
            scope: &scope,
            outcomes: &outcomes,
        };
        let intent = intent(svc, observed.containers.get(name), &ctx);
        let (action, outcome) = decide(name, svc, intent, &ctx);
        actions.extend(action);
        outcomes.insert(name, outcome);
    }

    for name in observed.containers.keys() {
        if desired.services.contains_key(name) {
            continue;
        }
        // A replica above the service's count: scaled down, not orphaned.
        let service = replicas::service_of(name);
        if let Some(n) = desired.replicas.get(service) {
            actions.push(Action::Remove {
                service: name.clone(),
                reason: format!("{service} scaled to {n}"),
            });
            continue;
        }
        actions.push(if opts.remove_orphans {
            Action::Remove {
                service: name.clone(),
                reason: "not in the file".into(),
            }
        } else {
            Action::Orphan {
                service: name.clone(),
            }
        });
    }

    let wake_at_ms = actions
        .iter()
        .filter_map(|a| match a {
            Action::Wait { until_ms, .. } => *until_ms,
            _ => None,
        })
        .min();
    Plan {
        actions,
        wake_at_ms,
    }
}

/// What this plan does to a service, as its dependents see it.
#[derive(Debug, Clone)]
enum Outcome {
    /// Nothing: judge it by its observed state.
    Steady,
    /// Being created/recreated/started/restarted (now or after a wait).
    Pending(&'static str),
    /// Stuck; the reason.
    Blocked(String),
}

/// What a service needs, before its dependencies are considered.
enum Intent {
    Nothing,
    /// Gated by the dependencies' conditions.
    Act(Action),
    /// A restart by policy: not gated (as Docker's restart manager), but
    /// due only at `due_ms` (back-off).
    Policy {
        action: Action,
        due_ms: Option<u64>,
    },
    Blocked(String),
    /// Due, but the container has an operation in flight.
    Busy(Action),
}

enum Gate {
    Open,
    Wait(String),
    Blocked(String),
}

struct Ctx<'a> {
    desired: &'a Stack,
    observed: &'a Observed,
    opts: &'a PlanOptions,
    scope: &'a BTreeSet<&'a str>,
    outcomes: &'a BTreeMap<&'a str, Outcome>,
}

fn past_tense(a: &Action) -> &'static str {
    match a {
        Action::Create { .. } => "created",
        Action::Recreate { .. } => "recreated",
        Action::Start { .. } => "started",
        _ => "restarted",
    }
}

/// The services this plan may act on: the targets and, unless `no_deps`,
/// everything they depend on, transitively. No targets: all. (Public also
/// for the engine and the CLI, which scope `up SERVICE...` the same way.)
pub fn scope<'a>(desired: &'a Stack, opts: &PlanOptions) -> BTreeSet<&'a str> {
    scope_in(desired, &DepGraph::lenient(desired), opts)
}

/// [`scope`] with the graph already built; names borrowed from `desired`.
fn scope_in<'a>(desired: &'a Stack, graph: &DepGraph, opts: &PlanOptions) -> BTreeSet<&'a str> {
    // A service named selects each of its replicas.
    let targets = replicas::units_named(desired, &opts.targets);
    graph
        .scope(&targets, opts.no_deps)
        .iter()
        .filter_map(|n| desired.services.get_key_value(n.as_str()))
        .map(|(n, _)| n.as_str())
        .collect()
}

/// The action for `name` given its intent and its dependencies' gate,
/// and what its dependents see.
fn decide(name: &str, svc: &Service, intent: Intent, ctx: &Ctx) -> (Option<Action>, Outcome) {
    match intent {
        Intent::Nothing => (None, Outcome::Steady),
        Intent::Blocked(reason) => (
            Some(Action::Blocked {
                service: name.to_string(),
                reason: reason.clone(),
            }),
            Outcome::Blocked(reason),
        ),
        Intent::Busy(action) => (
            Some(Action::Wait {
                service: name.to_string(),
                reason: "waiting for the current start to finish".into(),
                then: Box::new(action),
                until_ms: None,
            }),
            Outcome::Pending("recreated"),
        ),
        Intent::Policy { action, due_ms } => {
            let outcome = Outcome::Pending("restarted");
            match due_ms {
                Some(due) if due > ctx.opts.now_ms => (
                    Some(Action::Wait {
                        service: name.to_string(),
                        then: Box::new(action),
                        reason: format!("in {}", restart::human_ms(due - ctx.opts.now_ms)),
                        until_ms: Some(due),
                    }),
                    outcome,
                ),
                _ => (Some(action), outcome),
            }
        }
        Intent::Act(action) => {
            let pending = Outcome::Pending(past_tense(&action));
            match gate(svc, ctx) {
                Gate::Open => (Some(action), pending),
                Gate::Wait(reason) => (
                    Some(Action::Wait {
                        service: name.to_string(),
                        then: Box::new(action),
                        reason,
                        until_ms: None,
                    }),
                    pending,
                ),
                Gate::Blocked(reason) => (
                    Some(Action::Blocked {
                        service: name.to_string(),
                        reason: reason.clone(),
                    }),
                    Outcome::Blocked(reason),
                ),
            }
        }
    }
}

/// `exited 1`, `exited 137 (oom-killed)`, `failed: cannot run ...`.
fn exit_text(state: &RunState) -> Option<(String, bool, u64)> {
    match state {
        RunState::Exited {
            code,
            oom_killed,
            at_ms,
        } => {
            let oom = if *oom_killed { " (oom-killed)" } else { "" };
            Some((format!("exited {code}{oom}"), *code != 0, *at_ms))
        }
        RunState::Failed { sentence, at_ms } => Some((format!("failed: {sentence}"), true, *at_ms)),
        _ => None,
    }
}

fn intent(svc: &Service, obs: Option<&ObservedContainer>, ctx: &Ctx) -> Intent {
    let name = svc.name.clone();
    let opts = ctx.opts;
    let Some(c) = obs else {
        return Intent::Act(Action::Create {
            service: name,
            reason: "new service".into(),
        });
    };
    if opts.is_forced(&name) {
        return Intent::Act(Action::Recreate {
            service: name,
            reasons: vec!["--force-recreate".into()],
        });
    }
    if !opts.no_recreate {
        let changes = reasons::changes(&c.config, svc);
        if !changes.is_empty() {
            let recreate = Action::Recreate {
                service: name.clone(),
                reasons: changes,
            };
            if c.state == RunState::Creating {
                // Never ask the engine to act on a container it is busy
                // with; the next pass (after the start) recreates it.
                return Intent::Busy(recreate);
            }
            return Intent::Act(recreate);
        }
    }
    let explicit = opts.is_explicit(&name);
    let start = |reason: String| {
        Intent::Act(Action::Start {
            service: name.clone(),
            reason,
        })
    };
    match &c.state {
        RunState::Creating => Intent::Nothing,
        RunState::Stopped if c.stopped_by_user && !explicit => Intent::Nothing,
        RunState::Stopped => start("stopped".into()),
        RunState::Running { .. } => running_intent(svc, c, ctx),
        state @ (RunState::Exited { .. } | RunState::Failed { .. }) => {
            let Some((what, failed, at_ms)) = exit_text(state) else {
                return Intent::Nothing;
            };
            if c.stopped_by_user {
                return if explicit {
                    start("stopped".into())
                } else {
                    Intent::Nothing
                };
            }
            if c.completed || (!failed && restart::is_one_shot(&svc.restart)) {
                // A finished job is not run again with the same config.
                return Intent::Nothing;
            }
            match restart::decide(&svc.restart, failed, c.restarts) {
                Decision::Restart { attempt } => Intent::Policy {
                    action: Action::Restart {
                        service: name.clone(),
                        reason: format!("{what}, {}", restart::describe(&svc.restart, attempt)),
                        policy: true,
                    },
                    due_ms: Some(at_ms.saturating_add(restart::delay_ms(
                        &c.config.restart_timing,
                        c.backoff_level,
                    ))),
                },
                _ if explicit => start(what),
                Decision::GiveUp { max } => Intent::Blocked(format!(
                    "{what}, restart={} gave up after {max} restarts",
                    restart::policy_name(&svc.restart)
                )),
                Decision::Stay => Intent::Nothing,
            }
        }
    }
}

fn running_intent(svc: &Service, c: &ObservedContainer, ctx: &Ctx) -> Intent {
    if c.health == HealthStatus::Unhealthy
        && svc.restart != crate::spec::RestartPolicy::No
        && svc.x_stack.restart_unhealthy
    {
        return match restart::decide(&svc.restart, true, c.restarts) {
            Decision::Restart { attempt } => Intent::Policy {
                action: Action::Restart {
                    service: svc.name.clone(),
                    reason: format!("unhealthy, {}", restart::describe(&svc.restart, attempt)),
                    policy: true,
                },
                due_ms: None,
            },
            Decision::GiveUp { max } => Intent::Blocked(format!(
                "unhealthy, restart={} gave up after {max} restarts",
                restart::policy_name(&svc.restart)
            )),
            Decision::Stay => Intent::Nothing,
        };
    }
    for (dep, d) in &svc.depends_on {
        if !d.restart {
            continue;
        }
        let recreated_now = matches!(
            ctx.outcomes.get(dep.as_str()),
            Some(Outcome::Pending("recreated"))
        );
        let recreated_since = match (c.deps_at_start.get(dep), ctx.observed.containers.get(dep)) {
            (Some(stamp), Some(now)) => *stamp != now.created_ms,
            _ => false,
        };
        if recreated_now || recreated_since {
            return Intent::Act(Action::Restart {
                service: svc.name.clone(),
                reason: format!("dependency {} recreated", replicas::display(dep)),
                policy: false,
            });
        }
    }
    Intent::Nothing
}

/// Are `svc`'s dependencies' conditions met?
fn gate(svc: &Service, ctx: &Ctx) -> Gate {
    let mut waits = Vec::new();
    for (dep, d) in &svc.depends_on {
        let shown = replicas::display(dep);
        let Some(dep_svc) = ctx.desired.services.get(dep) else {
            if d.required {
                return Gate::Blocked(format!("dependency {shown} is not in the file"));
            }
            continue;
        };
        if !ctx.scope.contains(dep.as_str()) {
            // `--no-deps`: the user asked not to involve it.
            continue;
        }
        let outcome = ctx
            .outcomes
            .get(dep.as_str())
            .cloned()
            .unwrap_or(Outcome::Steady);
        if let Outcome::Pending(what) = outcome {
            waits.push(match d.condition {
                Condition::ServiceStarted => format!("{shown} to be {what}"),
                Condition::ServiceHealthy => format!("{shown} to be {what} and healthy"),
                Condition::ServiceCompletedSuccessfully => {
                    format!("job {shown} to be {what} and complete")
                }
            });
            continue;
        }
        match condition(
            &shown,
            dep_svc,
            d.condition,
            ctx.observed.containers.get(dep),
        ) {
            Gate::Open => {}
            Gate::Wait(w) => {
                if let Outcome::Blocked(r) = outcome {
                    return Gate::Blocked(format!("dependency {shown} is blocked: {r}"));
                }
                waits.push(w)
            }
            Gate::Blocked(b) => return Gate::Blocked(b),
        }
    }
    if waits.is_empty() {
        Gate::Open
    } else {
        Gate::Wait(format!("waiting for {}", waits.join(", ")))
    }
}

/// One dependency's condition against its observed container.
fn condition(dep: &str, dep_svc: &Service, cond: Condition, c: Option<&ObservedContainer>) -> Gate {
    let Some(c) = c else {
        return Gate::Wait(format!("{dep} to be created"));
    };
    if cond == Condition::ServiceHealthy && dep_svc.healthcheck.is_none() {
        return Gate::Blocked(format!(
            "dependency {dep} has no healthcheck but is required with condition service_healthy: add a healthcheck to {dep} or use service_started"
        ));
    }
    if let RunState::Stopped = c.state {
        if c.stopped_by_user && !(cond == Condition::ServiceCompletedSuccessfully && c.completed) {
            return Gate::Blocked(format!(
                "dependency {dep} was stopped by the user (`stack start {dep}`)"
            ));
        }
    }
    match cond {
        Condition::ServiceStarted => match &c.state {
            RunState::Running { .. } | RunState::Exited { .. } => Gate::Open,
            RunState::Failed { sentence, .. } => {
                Gate::Blocked(format!("dependency {dep} failed: {sentence}"))
            }
            RunState::Creating | RunState::Stopped => Gate::Wait(format!("{dep} to start")),
        },
        Condition::ServiceHealthy => match &c.state {
            RunState::Running { .. } => match c.health {
                HealthStatus::Healthy => Gate::Open,
                HealthStatus::Unhealthy => {
                    Gate::Wait(format!("{dep} to be healthy (unhealthy now)"))
                }
                HealthStatus::Starting | HealthStatus::None => {
                    Gate::Wait(format!("{dep} to be healthy"))
                }
            },
            RunState::Exited { code, .. } => Gate::Blocked(format!(
                "dependency {dep} exited {code} and cannot become healthy"
            )),
            RunState::Failed { sentence, .. } => {
                Gate::Blocked(format!("dependency {dep} failed: {sentence}"))
            }
            RunState::Creating | RunState::Stopped => Gate::Wait(format!("{dep} to be healthy")),
        },
        Condition::ServiceCompletedSuccessfully => match &c.state {
            _ if c.completed => Gate::Open,
            RunState::Exited { code: 0, .. } => Gate::Open,
            RunState::Exited {
                code, oom_killed, ..
            } => Gate::Blocked(format!(
                "job {dep} exited {code}{}",
                if *oom_killed { " (oom-killed)" } else { "" }
            )),
            RunState::Failed { sentence, .. } => {
                Gate::Blocked(format!("job {dep} failed: {sentence}"))
            }
            RunState::Running { .. } | RunState::Creating | RunState::Stopped => {
                Gate::Wait(format!("job {dep} to complete"))
            }
        },
    }
}
