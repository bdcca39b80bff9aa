//! Desired (the stack) vs observed (the containers) → actions with reasons.
//! Pure. The supervisor runs it after every event; `up --dry-run` prints it.
//!
//! (The engine's own planner, kept until `plan::diff` takes over; its
//! results have the same shape: a kind, a service, a reason.)

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::control::UpOptions;
use crate::spec::{Condition, RestartPolicy, Service, Stack};
use crate::state::{ContainerRecord, Health, Status};

/// What the engine knows of one container.
#[derive(Debug, Clone)]
pub struct Observed {
    pub rec: ContainerRecord,
    /// Being started or stopped by a worker right now.
    pub busy: bool,
    /// Time until the restart back-off allows the next attempt.
    pub restart_wait: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Create,
    Recreate,
    Start,
    Restart,
    Remove,
    /// Waiting for a dependency (a state, not an action).
    Wait,
    /// A dependency failed: cannot start until something changes.
    Blocked,
    /// In the state but not in the file, left alone.
    Orphan,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Create => "create",
            Kind::Recreate => "recreate",
            Kind::Start => "start",
            Kind::Restart => "restart",
            Kind::Remove => "remove",
            Kind::Wait => "wait",
            Kind::Blocked => "blocked",
            Kind::Orphan => "orphan",
        }
    }
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
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.kind.as_str(),
            self.service,
            self.reason
        )
    }
}

/// What the current `up` asked for beyond the file.
#[derive(Debug, Clone, Default)]
pub struct Intent {
    pub options: UpOptions,
    /// Services in scope (named + dependencies); `None`: all.
    pub scope: Option<BTreeSet<String>>,
    /// Services an `up`/`start` asked to (re)start even though they exited.
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

/// The config of a service as compared for changes (no `depends_on`,
/// `profiles`: they do not require a new container).
fn comparable(svc: &Service) -> Value {
    let mut v = serde_json::to_value(svc).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.remove("depends_on");
        m.remove("profiles");
    }
    v
}

/// `spec::config_hash`, or a hash of the comparable JSON while the spec
/// returns none.
pub fn hash(svc: &Service) -> String {
    let h = crate::spec::config_hash(svc);
    if !h.is_empty() {
        return h;
    }
    let v = comparable(svc);
    hex::encode(Sha256::digest(v.to_string().as_bytes()))
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::Null => "unset".to_string(),
        other => other.to_string(),
    };
    if s.len() > 60 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(57).map(|(i, _)| i).unwrap_or(s.len())]
        )
    } else {
        s
    }
}

fn diff_into(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                diff_into(
                    &p,
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ if a != b => out.push(format!("{path} {} → {}", short(a), short(b))),
        _ => {}
    }
}

/// The changed fields between two configs: `environment.COLOR "red" → "blue"`.
pub fn changes(old: &Service, new: &Service) -> Vec<String> {
    let mut out = Vec::new();
    diff_into("", &comparable(old), &comparable(new), &mut out);
    out
}

/// Why a restart policy brings an exited container back, or `None`.
pub fn restart_reason(svc: &Service, rec: &ContainerRecord) -> Option<String> {
    if rec.stopped_by_user || rec.status != Status::Exited {
        return None;
    }
    let exit = match rec.exit_code {
        Some(c) => format!("exited {c}"),
        None => "exited (code unknown)".to_string(),
    };
    let failed = rec.exit_code != Some(0);
    match svc.restart {
        RestartPolicy::No => None,
        RestartPolicy::Always => Some(format!("{exit}, restart=always")),
        RestartPolicy::UnlessStopped => Some(format!("{exit}, restart=unless-stopped")),
        RestartPolicy::OnFailure { max_retries } => {
            if !failed {
                return None;
            }
            match max_retries {
                Some(m) if rec.restarts >= m => None,
                Some(m) => Some(format!(
                    "{exit}, restart=on-failure ({}/{m})",
                    rec.restarts + 1
                )),
                None => Some(format!("{exit}, restart=on-failure ({})", rec.restarts + 1)),
            }
        }
    }
}

/// Whether a service's dependencies allow it to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deps {
    Ready,
    Wait(String),
    Blocked(String),
}

pub fn deps(stack: &Stack, svc: &Service, observed: &BTreeMap<String, Observed>) -> Deps {
    let mut wait = None;
    for (dep, d) in &svc.depends_on {
        let Some(dep_svc) = stack.services.get(dep) else {
            if d.required {
                return Deps::Blocked(format!(
                    "depends on {dep}, which is not in the file or its profile is not active"
                ));
            }
            continue;
        };
        let o = observed.get(dep);
        let rec = o.map(|o| &o.rec);
        let busy = o.is_some_and(|o| o.busy);
        let started = rec.is_some_and(|r| {
            !busy
                && (r.status == Status::Running
                    || (r.status == Status::Exited && r.started_at.is_some()))
        });
        if let Some(r) = rec {
            if r.status == Status::Failed && !busy {
                return Deps::Blocked(format!(
                    "{dep} failed to start: {}",
                    r.error.as_deref().unwrap_or("unknown error")
                ));
            }
        }
        let ok = match d.condition {
            Condition::ServiceStarted => started,
            Condition::ServiceHealthy => {
                if dep_svc.healthcheck.is_none() {
                    return Deps::Blocked(format!(
                        "depends on {dep} being healthy, but {dep} has no healthcheck"
                    ));
                }
                match rec {
                    Some(r) if !busy && r.status == Status::Running => match r.health {
                        Some(Health::Healthy) => true,
                        Some(Health::Unhealthy) => {
                            return Deps::Blocked(format!("{dep} is unhealthy"));
                        }
                        _ => false,
                    },
                    _ => false,
                }
            }
            Condition::ServiceCompletedSuccessfully => match rec {
                Some(r) if !busy && r.status == Status::Exited => match r.exit_code {
                    Some(0) => true,
                    Some(c) => {
                        return Deps::Blocked(format!("job {dep} exited with code {c}"));
                    }
                    None => {
                        return Deps::Blocked(format!("job {dep} exited with an unknown code"));
                    }
                },
                _ => false,
            },
        };
        if !ok && wait.is_none() {
            wait = Some(match d.condition {
                Condition::ServiceStarted => format!("waiting for {dep} to start"),
                Condition::ServiceHealthy => format!("waiting for {dep} to be healthy"),
                Condition::ServiceCompletedSuccessfully => {
                    format!("waiting for {dep} to complete successfully")
                }
            });
        }
    }
    match wait {
        Some(w) => Deps::Wait(w),
        None => Deps::Ready,
    }
}

fn with_deps(kind: Kind, name: &str, reason: String, d: Deps) -> Action {
    match d {
        Deps::Ready => Action {
            kind,
            service: name.to_string(),
            reason,
        },
        Deps::Wait(w) => Action {
            kind: Kind::Wait,
            service: name.to_string(),
            reason: w,
        },
        Deps::Blocked(b) => Action {
            kind: Kind::Blocked,
            service: name.to_string(),
            reason: b,
        },
    }
}

/// Desired vs observed → actions (in `order`), with reasons.
pub fn decide(
    stack: &Stack,
    order: &[String],
    observed: &BTreeMap<String, Observed>,
    intent: &Intent,
) -> Vec<Action> {
    let mut out = Vec::new();
    let names: Vec<&String> = order
        .iter()
        .filter(|n| stack.services.contains_key(*n))
        .chain(stack.services.keys().filter(|n| !order.contains(n)))
        .collect();
    for name in names {
        let svc = &stack.services[name];
        let in_scope = intent.scope.as_ref().is_none_or(|s| s.contains(name));
        let Some(o) = observed.get(name) else {
            if in_scope {
                out.push(with_deps(
                    Kind::Create,
                    name,
                    "new service".into(),
                    deps(stack, svc, observed),
                ));
            }
            continue;
        };
        if o.busy {
            continue;
        }
        let rec = &o.rec;
        let new_hash = hash(svc);
        let changed = rec.hash != new_hash;
        if in_scope && intent.force.contains(name) {
            out.push(Action {
                kind: Kind::Recreate,
                service: name.clone(),
                reason: "--force-recreate".into(),
            });
            continue;
        }
        if changed && !intent.options.no_recreate {
            let ch = changes(&rec.config, svc);
            let reason = if ch.is_empty() {
                "config changed".to_string()
            } else {
                ch.join(", ")
            };
            out.push(Action {
                kind: Kind::Recreate,
                service: name.clone(),
                reason,
            });
            continue;
        }
        match rec.status {
            Status::Running | Status::Stopping => {}
            Status::Created | Status::Exited | Status::Failed => {
                if in_scope && intent.kicked.contains(name) {
                    if rec.completed && !changed && !rec.stopped_by_user {
                        continue; // a finished job is not run again
                    }
                    let why = if rec.stopped_by_user {
                        "stopped".to_string()
                    } else if rec.status == Status::Failed {
                        format!(
                            "failed to start before: {}",
                            rec.error.as_deref().unwrap_or("unknown error")
                        )
                    } else {
                        rec.state_text()
                    };
                    out.push(with_deps(
                        Kind::Start,
                        name,
                        why,
                        deps(stack, svc, observed),
                    ));
                } else if let Some(r) = restart_reason(svc, rec) {
                    match o.restart_wait {
                        Some(w) if !w.is_zero() => out.push(Action {
                            kind: Kind::Wait,
                            service: name.clone(),
                            reason: format!("{r}, next attempt in {} ms", w.as_millis()),
                        }),
                        _ => out.push(Action {
                            kind: Kind::Restart,
                            service: name.clone(),
                            reason: r,
                        }),
                    }
                }
            }
        }
    }
    for (name, o) in observed {
        if stack.services.contains_key(name) || o.busy {
            continue;
        }
        out.push(if intent.options.remove_orphans {
            Action {
                kind: Kind::Remove,
                service: name.clone(),
                reason: "not in the file".into(),
            }
        } else {
            Action {
                kind: Kind::Orphan,
                service: name.clone(),
                reason: "not in the file (use --remove-orphans to remove it)".into(),
            }
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::convert::tests::svc;
    use crate::spec::units::Millis;
    use crate::spec::{Dependency, Healthcheck};

    fn stack(svcs: Vec<Service>) -> Stack {
        Stack {
            name: "demo".into(),
            file: "/x/stack.yaml".into(),
            dir: "/x".into(),
            services: svcs.into_iter().map(|s| (s.name.clone(), s)).collect(),
            volumes: Default::default(),
        }
    }

    fn running(s: &Service) -> Observed {
        let mut rec = ContainerRecord::new("demo", s, hash(s));
        rec.status = Status::Running;
        rec.pid = Some(10);
        rec.started_at = Some(1);
        Observed {
            rec,
            busy: false,
            restart_wait: None,
        }
    }

    fn dep(cond: Condition) -> Dependency {
        Dependency {
            condition: cond,
            restart: false,
            required: true,
        }
    }

    fn order(st: &Stack) -> Vec<String> {
        st.services.keys().cloned().collect()
    }

    fn lines(a: &[Action]) -> Vec<String> {
        a.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn new_services_are_created_waiting_on_deps() {
        let db = svc("db");
        let mut web = svc("web");
        web.depends_on
            .insert("db".into(), dep(Condition::ServiceStarted));
        let st = stack(vec![db, web]);
        let a = decide(&st, &order(&st), &BTreeMap::new(), &Intent::default());
        assert_eq!(
            lines(&a),
            [
                "create db: new service",
                "wait web: waiting for db to start"
            ]
        );
    }

    #[test]
    fn converged_is_empty_and_change_is_recreated_with_reason() {
        let mut web = svc("web");
        web.environment.insert("COLOR".into(), "red".into());
        let db = svc("db");
        let mut obs = BTreeMap::new();
        obs.insert("web".to_string(), running(&web));
        obs.insert("db".to_string(), running(&db));
        let st = stack(vec![web.clone(), db.clone()]);
        assert!(decide(&st, &order(&st), &obs, &Intent::default()).is_empty());
        let mut web2 = web.clone();
        web2.environment.insert("COLOR".into(), "blue".into());
        let st = stack(vec![web2, db]);
        let a = decide(&st, &order(&st), &obs, &Intent::default());
        assert_eq!(
            lines(&a),
            [r#"recreate web: environment.COLOR "red" → "blue""#]
        );
        let a = decide(
            &st,
            &order(&st),
            &obs,
            &Intent {
                options: UpOptions {
                    no_recreate: true,
                    ..Default::default()
                },
                ..Default::default()
            },
        );
        assert!(a.is_empty());
    }

    #[test]
    fn orphans() {
        let old = svc("old");
        let mut obs = BTreeMap::new();
        obs.insert("old".to_string(), running(&old));
        let st = stack(vec![]);
        let a = decide(&st, &[], &obs, &Intent::default());
        assert_eq!(a[0].kind, Kind::Orphan);
        let mut i = Intent::default();
        i.options.remove_orphans = true;
        assert_eq!(
            lines(&decide(&st, &[], &obs, &i)),
            ["remove old: not in the file"]
        );
    }

    #[test]
    fn health_and_completion_gate() {
        let mut db = svc("db");
        db.healthcheck = Some(Healthcheck {
            test: vec!["true".into()],
            interval: Millis(1000),
            timeout: Millis(1000),
            retries: 3,
            start_period: Millis(0),
            start_interval: Millis(1000),
        });
        let job = svc("job");
        let mut web = svc("web");
        web.depends_on
            .insert("db".into(), dep(Condition::ServiceHealthy));
        web.depends_on
            .insert("job".into(), dep(Condition::ServiceCompletedSuccessfully));
        let st = stack(vec![db.clone(), job.clone(), web]);
        let mut obs = BTreeMap::new();
        let mut o = running(&db);
        o.rec.health = Some(Health::Starting);
        obs.insert("db".to_string(), o);
        obs.insert("job".to_string(), running(&job));
        let a = decide(&st, &order(&st), &obs, &Intent::default());
        assert_eq!(lines(&a), ["wait web: waiting for db to be healthy"]);
        obs.get_mut("db").unwrap().rec.health = Some(Health::Healthy);
        let a = decide(&st, &order(&st), &obs, &Intent::default());
        assert_eq!(
            lines(&a),
            ["wait web: waiting for job to complete successfully"]
        );
        let j = obs.get_mut("job").unwrap();
        j.rec.status = Status::Exited;
        j.rec.exit_code = Some(3);
        let a = decide(&st, &order(&st), &obs, &Intent::default());
        assert_eq!(lines(&a), ["blocked web: job job exited with code 3"]);
        let j = obs.get_mut("job").unwrap();
        j.rec.exit_code = Some(0);
        j.rec.completed = true;
        let a = decide(&st, &order(&st), &obs, &Intent::default());
        assert_eq!(lines(&a), ["create web: new service"]);
    }

    #[test]
    fn restart_policies() {
        let mut w = svc("worker");
        w.restart = RestartPolicy::OnFailure {
            max_retries: Some(2),
        };
        let st = stack(vec![w.clone()]);
        let mut o = running(&w);
        o.rec.status = Status::Exited;
        o.rec.exit_code = Some(1);
        o.rec.restarts = 1;
        let mut obs = BTreeMap::new();
        obs.insert("worker".to_string(), o);
        assert_eq!(
            lines(&decide(&st, &order(&st), &obs, &Intent::default())),
            ["restart worker: exited 1, restart=on-failure (2/2)"]
        );
        obs.get_mut("worker").unwrap().restart_wait = Some(Duration::from_millis(400));
        assert_eq!(
            decide(&st, &order(&st), &obs, &Intent::default())[0].kind,
            Kind::Wait
        );
        obs.get_mut("worker").unwrap().rec.restarts = 2;
        assert!(decide(&st, &order(&st), &obs, &Intent::default()).is_empty());
        obs.get_mut("worker").unwrap().rec.exit_code = Some(0);
        obs.get_mut("worker").unwrap().rec.restarts = 0;
        assert!(decide(&st, &order(&st), &obs, &Intent::default()).is_empty());
        // always, but stopped by the user: stays down until start.
        let mut a = w.clone();
        a.restart = RestartPolicy::Always;
        let st = stack(vec![a.clone()]);
        let mut o = running(&a);
        o.rec.status = Status::Exited;
        o.rec.exit_code = Some(0);
        o.rec.stopped_by_user = true;
        obs.insert("worker".to_string(), o);
        assert!(decide(&st, &order(&st), &obs, &Intent::default()).is_empty());
        let mut i = Intent::default();
        i.kicked.insert("worker".into());
        assert_eq!(
            lines(&decide(&st, &order(&st), &obs, &i)),
            ["start worker: stopped"]
        );
    }

    #[test]
    fn scope_includes_dependencies() {
        let db = svc("db");
        let mut web = svc("web");
        web.depends_on
            .insert("db".into(), dep(Condition::ServiceStarted));
        let other = svc("other");
        let st = stack(vec![db, web, other]);
        let s = scope(&st, &["web".into()], false).unwrap();
        assert_eq!(s.into_iter().collect::<Vec<_>>(), ["db", "web"]);
        let s = scope(&st, &["web".into()], true).unwrap();
        assert_eq!(s.into_iter().collect::<Vec<_>>(), ["web"]);
        assert!(scope(&st, &[], false).is_none());
        let i = Intent {
            scope: scope(&st, &["web".into()], false),
            ..Default::default()
        };
        let a = decide(&st, &order(&st), &BTreeMap::new(), &i);
        assert_eq!(
            lines(&a),
            [
                "create db: new service",
                "wait web: waiting for db to start"
            ]
        );
    }
}
