//! The bridge between the engine's records and the pure planner
//! (`plan::diff`): records → `plan::Observed`, `plan::Plan` → the actions
//! the engine executes, each with its reason.

use std::collections::{BTreeMap, BTreeSet};

use super::control::UpOptions;
use crate::plan::{self, HealthStatus, ObservedContainer, PlanOptions, RunState};
use crate::spec::{Service, Stack};
use crate::state::{ContainerRecord, Health, Status};

/// What the engine knows of one container.
#[derive(Debug, Clone)]
pub struct Observed {
    pub rec: ContainerRecord,
    /// Being started or stopped by a worker right now.
    pub busy: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Create,
    Recreate,
    Start,
    /// Stop if running, start again; `policy` restarts count.
    Restart,
    Remove,
    /// Waiting for a dependency (a state, not an action).
    Wait,
    /// A restart by policy waiting for its back-off.
    Backoff,
    /// A dependency failed or a policy gave up: stuck until something changes.
    Blocked,
    /// In the state but not in the file, left alone.
    Orphan,
}

impl Kind {
    /// Whether it changes something (else it is a state to report).
    pub fn acts(self) -> bool {
        matches!(
            self,
            Kind::Create | Kind::Recreate | Kind::Start | Kind::Restart | Kind::Remove
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub kind: Kind,
    pub service: String,
    pub reason: String,
    /// For `Restart`: counts toward the restart policy.
    pub policy: bool,
    /// The planner's own line (`recreate web: environment.COLOR "red" → "blue"`).
    pub line: String,
    /// For `Backoff`: when the restart is due (Unix ms).
    pub until_ms: Option<u64>,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.line)
    }
}

/// What the current `up` asked for beyond the file.
#[derive(Debug, Clone, Default)]
pub struct Intent {
    pub options: UpOptions,
    /// Services in scope (named + dependencies); `None`: all.
    pub scope: Option<BTreeSet<String>>,
    /// Services an `up`/`start` asked to (re)start even though they were
    /// stopped or exited; the plan runs as `explicit` for these only.
    pub kicked: BTreeSet<String>,
    /// Services still to be force-recreated by this `up`.
    pub force: BTreeSet<String>,
}

/// The services `up SERVICE...` touches: the named ones and, unless
/// `no_deps`, everything they depend on. `None` when no service was named.
pub fn scope(stack: &Stack, services: &[String], no_deps: bool) -> Option<BTreeSet<String>> {
    if services.is_empty() {
        return None;
    }
    let mut set = BTreeSet::new();
    let mut todo: Vec<String> = services.to_vec();
    while let Some(s) = todo.pop() {
        if !set.insert(s.clone()) || no_deps {
            continue;
        }
        if let Some(svc) = stack.services.get(&s) {
            todo.extend(svc.depends_on.keys().cloned());
        }
    }
    Some(set)
}

/// The config hash recorded with a container.
pub fn hash(svc: &Service) -> String {
    crate::spec::config_hash(svc)
}

/// A record as the planner sees it.
pub fn to_plan(o: &Observed) -> ObservedContainer {
    let r = &o.rec;
    let state = if o.busy || r.status == Status::Created || r.status == Status::Stopping {
        // An operation is in flight: the planner must not act on it.
        if o.busy {
            RunState::Creating
        } else {
            RunState::Stopped
        }
    } else {
        match r.status {
            Status::Running => RunState::Running {
                pid: r.pid.unwrap_or(0).max(0) as u32,
                since_ms: r.started_at.unwrap_or(0) * 1000,
            },
            Status::Exited if r.stopped_by_user => RunState::Stopped,
            Status::Exited => RunState::Exited {
                // Unknown (ended while no supervisor ran): not a success.
                code: r.exit_code.unwrap_or(-1),
                oom_killed: r.oom_killed,
                at_ms: r.finished_ms().unwrap_or(0),
            },
            Status::Failed => RunState::Failed {
                sentence: r.error.clone().unwrap_or_else(|| "could not start".into()),
                at_ms: r.finished_ms().unwrap_or(0),
            },
            Status::Created | Status::Stopping => RunState::Stopped,
        }
    };
    ObservedContainer {
        service: r.service.clone(),
        config: r.config.clone(),
        created_ms: r.created_ms,
        state,
        health: match r.health {
            None => HealthStatus::None,
            Some(Health::Starting) => HealthStatus::Starting,
            Some(Health::Healthy) => HealthStatus::Healthy,
            Some(Health::Unhealthy) => HealthStatus::Unhealthy,
        },
        restarts: r.restarts,
        backoff_level: r.backoff_level,
        stopped_by_user: r.stopped_by_user,
        completed: r.completed,
        deps_at_start: r.deps_at_start.clone(),
    }
}

/// Desired vs observed → the actions to execute now and the states to
/// report, through `plan::diff`. Also returns when to re-plan (Unix ms).
pub fn decide(
    stack: &Stack,
    observed: &BTreeMap<String, Observed>,
    intent: &Intent,
    now_ms: u64,
) -> (Vec<Action>, Option<u64>) {
    let obs = plan::Observed {
        containers: observed
            .iter()
            .map(|(n, o)| (n.clone(), to_plan(o)))
            .collect(),
    };
    let opts = PlanOptions {
        targets: intent.options.services.clone(),
        no_deps: intent.options.no_deps,
        force_recreate: !intent.force.is_empty(),
        no_recreate: intent.options.no_recreate,
        remove_orphans: intent.options.remove_orphans,
        explicit: !intent.kicked.is_empty(),
        explicit_only: Some(intent.kicked.clone()),
        now_ms,
    };
    let p = plan::diff(stack, &obs, &opts);
    let mut out = Vec::new();
    for a in &p.actions {
        let line = a.to_string();
        let service = a.service().to_string();
        let mk = |kind: Kind, reason: String| Action {
            kind,
            service: service.clone(),
            reason,
            policy: false,
            line: line.clone(),
            until_ms: None,
        };
        let rec = observed.get(&service).map(|o| &o.rec);
        let action = match a {
            plan::Action::Create { reason, .. } => mk(Kind::Create, reason.clone()),
            plan::Action::Recreate { reasons, .. } => {
                let forced = reasons.len() == 1 && reasons[0] == "--force-recreate";
                if forced && !intent.force.contains(&service) {
                    continue; // already recreated by this `up`
                }
                mk(Kind::Recreate, reasons.join(", "))
            }
            plan::Action::Start { reason, .. } => {
                // `explicit` is for the kicked services only.
                let needs_kick = rec.is_some_and(|r| {
                    r.stopped_by_user || matches!(r.status, Status::Exited | Status::Failed)
                });
                if needs_kick && !intent.kicked.contains(&service) {
                    continue;
                }
                mk(Kind::Start, reason.clone())
            }
            plan::Action::Restart { reason, policy, .. } => Action {
                policy: *policy,
                ..mk(Kind::Restart, reason.clone())
            },
            plan::Action::Remove { reason, .. } => mk(Kind::Remove, reason.clone()),
            plan::Action::Orphan { .. } => mk(
                Kind::Orphan,
                "not in the file (--remove-orphans removes it)".into(),
            ),
            plan::Action::Wait {
                then,
                reason,
                until_ms,
                ..
            } => {
                let backoff = matches!(**then, plan::Action::Restart { policy: true, .. })
                    && until_ms.is_some();
                Action {
                    until_ms: *until_ms,
                    ..mk(
                        if backoff { Kind::Backoff } else { Kind::Wait },
                        reason.clone(),
                    )
                }
            }
            plan::Action::Blocked { reason, .. } => mk(Kind::Blocked, reason.clone()),
        };
        out.push(action);
    }
    (out, p.wake_at_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::convert::tests::svc;
    use crate::spec::{Condition, Dependency, RestartPolicy};

    fn stack(svcs: Vec<Service>) -> Stack {
        Stack {
            name: "demo".into(),
            file: "/x/stack.yaml".into(),
            dir: "/x".into(),
            services: svcs.into_iter().map(|s| (s.name.clone(), s)).collect(),
            volumes: Default::default(),
            inputs: Vec::new(),
        }
    }

    fn running(s: &Service) -> Observed {
        let mut rec = ContainerRecord::new("demo", s, hash(s));
        rec.status = Status::Running;
        rec.pid = Some(10);
        rec.started_at = Some(1);
        rec.created_ms = 1000;
        Observed { rec, busy: false }
    }

    fn lines(a: &[Action]) -> Vec<String> {
        a.iter()
            .map(|a| format!("{:?} {}", a.kind, a.line))
            .collect()
    }

    #[test]
    fn create_then_converged() {
        let db = svc("db");
        let mut web = svc("web");
        web.depends_on.insert(
            "db".into(),
            Dependency {
                condition: Condition::ServiceStarted,
                restart: false,
                required: true,
            },
        );
        let st = stack(vec![db.clone(), web.clone()]);
        let (a, _) = decide(&st, &BTreeMap::new(), &Intent::default(), 5000);
        assert_eq!(a[0].kind, Kind::Create, "{:?}", lines(&a));
        assert_eq!(a[0].service, "db");
        assert_eq!(a[1].service, "web");
        let mut obs = BTreeMap::new();
        obs.insert("db".to_string(), running(&db));
        obs.insert("web".to_string(), running(&web));
        let (a, _) = decide(&st, &obs, &Intent::default(), 5000);
        assert!(a.is_empty(), "{:?}", lines(&a));
    }

    #[test]
    fn busy_containers_are_left_alone() {
        let mut web = svc("web");
        let mut o = running(&web);
        o.busy = true;
        web.environment.insert("A".into(), "1".into());
        let st = stack(vec![web]);
        let mut obs = BTreeMap::new();
        obs.insert("web".to_string(), o);
        let (a, _) = decide(&st, &obs, &Intent::default(), 5000);
        assert!(a.iter().all(|a| !a.kind.acts()), "{:?}", lines(&a));
    }

    #[test]
    fn explicit_start_only_for_kicked_services() {
        let a_svc = svc("a");
        let b_svc = svc("b");
        let st = stack(vec![a_svc.clone(), b_svc.clone()]);
        let mut obs = BTreeMap::new();
        for s in [&a_svc, &b_svc] {
            let mut o = running(s);
            o.rec.status = Status::Exited;
            o.rec.stopped_by_user = true;
            obs.insert(s.name.clone(), o);
        }
        let mut i = Intent::default();
        i.kicked.insert("a".into());
        let (acts, _) = decide(&st, &obs, &i, 5000);
        let starts: Vec<&str> = acts
            .iter()
            .filter(|a| a.kind == Kind::Start)
            .map(|a| a.service.as_str())
            .collect();
        assert_eq!(starts, ["a"]);
    }

    #[test]
    fn policy_restart_waits_for_backoff() {
        let mut w = svc("w");
        w.restart = RestartPolicy::Always;
        let st = stack(vec![w.clone()]);
        let mut o = running(&w);
        o.rec.status = Status::Exited;
        o.rec.exit_code = Some(1);
        o.rec.finished_at = Some(10);
        let mut obs = BTreeMap::new();
        obs.insert("w".to_string(), o);
        let (a, wake) = decide(&st, &obs, &Intent::default(), 10_000);
        assert_eq!(a[0].kind, Kind::Backoff, "{:?}", lines(&a));
        assert_eq!(wake, Some(10_100));
        let (a, _) = decide(&st, &obs, &Intent::default(), 10_200);
        assert_eq!(a[0].kind, Kind::Restart);
        assert!(a[0].policy);
    }

    #[test]
    fn backoff_counts_from_the_exit_in_milliseconds() {
        let mut w = svc("w");
        w.restart = RestartPolicy::OnFailure {
            max_retries: Some(3),
        };
        let st = stack(vec![w.clone()]);
        let mut o = running(&w);
        o.rec.status = Status::Exited;
        o.rec.exit_code = Some(1);
        // 10.950 s: whole seconds would make the 100 ms back-off already
        // over at 10.960 s.
        o.rec.set_finished(10_950);
        let mut obs = BTreeMap::new();
        obs.insert("w".to_string(), o.clone());
        let (a, wake) = decide(&st, &obs, &Intent::default(), 10_960);
        assert_eq!(a[0].kind, Kind::Backoff, "{:?}", lines(&a));
        assert_eq!(wake, Some(11_050));
        // Level 2 (after two quick restarts): 400 ms.
        o.rec.restarts = 2;
        o.rec.backoff_level = 2;
        obs.insert("w".to_string(), o.clone());
        let (a, wake) = decide(&st, &obs, &Intent::default(), 11_000);
        assert_eq!(a[0].kind, Kind::Backoff, "{:?}", lines(&a));
        assert_eq!(wake, Some(11_350));
        // A record written before `finished_ms` existed: seconds.
        o.rec.finished_ms = None;
        let mut v = serde_json::to_value(&o.rec).unwrap();
        v.as_object_mut().unwrap().remove("finished_ms");
        let back: ContainerRecord = serde_json::from_value(v).unwrap();
        assert_eq!(back.finished_ms(), Some(10_000));
    }

    #[test]
    fn scope_includes_dependencies() {
        let db = svc("db");
        let mut web = svc("web");
        web.depends_on.insert(
            "db".into(),
            Dependency {
                condition: Condition::ServiceStarted,
                restart: false,
                required: true,
            },
        );
        let st = stack(vec![db, web, svc("other")]);
        let s = scope(&st, &["web".into()], false).unwrap();
        assert_eq!(s.into_iter().collect::<Vec<_>>(), ["db", "web"]);
        assert!(scope(&st, &[], false).is_none());
    }
}
