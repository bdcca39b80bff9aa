//! Unit tests of the reconcile logic: every case of issue 4, pure.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;
use crate::spec::units::{Bytes, Millis};
use crate::spec::{Condition, Dependency, Healthcheck, RestartPolicy, Rootfs, Stack};

const NOW: u64 = 1_000_000;

fn svc(name: &str) -> Service {
    Service {
        command: Some(vec!["sleep".into(), "infinity".into()]),
        ..Service::new(name, Rootfs::Dir(PathBuf::from("/srv/rootfs")))
    }
}

fn dep(cond: Condition) -> Dependency {
    Dependency {
        condition: cond,
        restart: false,
        required: true,
    }
}

fn healthcheck() -> Healthcheck {
    Healthcheck {
        test: vec!["true".into()],
        interval: Millis(1000),
        timeout: Millis(500),
        retries: 3,
        start_period: Millis(0),
        start_interval: Millis(0),
    }
}

fn stack(services: Vec<Service>) -> Stack {
    Stack {
        name: "t".into(),
        file: PathBuf::from("/t/stack.yaml"),
        overrides: Vec::new(),
        dir: PathBuf::from("/t"),
        services: services.into_iter().map(|s| (s.name.clone(), s)).collect(),
        volumes: BTreeMap::new(),
        networks: BTreeMap::new(),
        inputs: Vec::new(),
        replicas: Default::default(),
    }
}

fn running(s: &Service) -> ObservedContainer {
    let mut c = ObservedContainer::new(s.clone(), 1);
    c.on_started(100, NOW - 60_000, BTreeMap::new());
    if s.healthcheck.is_some() {
        c.health = HealthStatus::Healthy;
    }
    c
}

fn exited(s: &Service, code: i32, at_ms: u64) -> ObservedContainer {
    let mut c = running(s);
    c.on_exited(code, false, at_ms);
    c
}

/// Observed = every service of `st` running with its current config.
fn converged(st: &Stack) -> Observed {
    Observed {
        containers: st
            .services
            .values()
            .map(|s| (s.name.clone(), running(s)))
            .collect(),
    }
}

fn opts() -> PlanOptions {
    PlanOptions {
        now_ms: NOW,
        ..Default::default()
    }
}

fn lines(p: &Plan) -> Vec<String> {
    p.actions.iter().map(|a| a.to_string()).collect()
}

// ---- reconcile -----------------------------------------------------------

#[test]
fn converged_stack_is_a_no_op() {
    let st = stack(vec![svc("db"), svc("web"), svc("cache")]);
    let p = diff(&st, &converged(&st), &opts());
    assert!(p.is_empty(), "{p}");
    assert!(p.is_converged());
    assert_eq!(p.wake_at_ms, None);
    assert_eq!(p.to_string(), "nothing to do: the stack matches the file");
}

#[test]
fn fresh_stack_creates_everything_in_dependency_order() {
    let mut web = svc("web");
    web.depends_on
        .insert("db".into(), dep(Condition::ServiceStarted));
    let st = stack(vec![web, svc("db"), svc("cache")]);
    let p = diff(&st, &Observed::default(), &opts());
    assert_eq!(
        lines(&p),
        vec![
            "create cache: new service",
            "create db: new service",
            "create web: new service, waiting for db to be created",
        ]
    );
    // Independent services are executable in the same pass.
    let now: Vec<&str> = p.executable().map(|a| a.service()).collect();
    assert_eq!(now, vec!["cache", "db"]);
}

#[test]
fn only_the_changed_service_is_recreated_with_field_reasons() {
    let mut web = svc("web");
    web.environment.insert("COLOR".into(), "red".into());
    web.limits.memory = Some(Bytes(83_886_080));
    let st = stack(vec![svc("db"), web.clone()]);
    let obs = converged(&st);

    let mut web2 = web.clone();
    web2.environment.insert("COLOR".into(), "blue".into());
    web2.environment.insert("DEBUG".into(), "1".into());
    web2.limits.memory = Some(Bytes(125_829_120));
    let st2 = stack(vec![svc("db"), web2]);
    let p = diff(&st2, &obs, &opts());
    assert_eq!(
        p.actions,
        vec![Action::Recreate {
            service: "web".into(),
            reasons: vec![
                r#"environment.COLOR "red" → "blue""#.into(),
                r#"environment.DEBUG added: "1""#.into(),
                "limits.memory 80M → 120M".into(),
            ],
        }]
    );
    assert_eq!(
        p.to_string(),
        r#"recreate web: environment.COLOR "red" → "blue", environment.DEBUG added: "1", limits.memory 80M → 120M"#
    );
}

#[test]
fn removed_keys_and_argv_changes_are_named() {
    let mut a = svc("web");
    a.user = Some("app".into());
    let mut b = svc("web");
    b.command = Some(vec!["httpd".into(), "-f".into()]);
    assert_eq!(
        reasons::changes(&a, &b),
        vec![
            r#"command ["sleep","infinity"] → ["httpd","-f"]"#.to_string(),
            r#"user removed (was "app")"#.to_string(),
        ]
    );
    let mut c = svc("web");
    c.environment.insert("a.b".into(), "1".into());
    assert_eq!(
        reasons::changes(&svc("web"), &c),
        vec![r#"environment["a.b"] added: "1""#.to_string()]
    );
}

#[test]
fn depends_on_and_profiles_do_not_recreate() {
    let st = stack(vec![svc("db"), svc("web")]);
    let obs = converged(&st);
    let mut web = svc("web");
    web.depends_on
        .insert("db".into(), dep(Condition::ServiceStarted));
    web.profiles = vec!["dev".into()];
    let p = diff(&stack(vec![svc("db"), web]), &obs, &opts());
    assert!(p.is_empty(), "{p}");
}

#[test]
fn orphans_are_reported_or_removed() {
    let st = stack(vec![svc("web"), svc("old")]);
    let obs = converged(&st);
    let st2 = stack(vec![svc("web")]);
    let p = diff(&st2, &obs, &opts());
    assert_eq!(
        p.actions,
        vec![Action::Orphan {
            service: "old".into()
        }]
    );
    assert!(p.is_converged());
    let p = diff(
        &st2,
        &obs,
        &PlanOptions {
            remove_orphans: true,
            ..opts()
        },
    );
    assert_eq!(lines(&p), vec!["remove old: not in the file"]);
}

#[test]
fn force_recreate_and_no_recreate() {
    let st = stack(vec![svc("a"), svc("b")]);
    let obs = converged(&st);
    let p = diff(
        &st,
        &obs,
        &PlanOptions {
            force_recreate: true,
            ..opts()
        },
    );
    assert_eq!(
        lines(&p),
        vec![
            "recreate a: --force-recreate",
            "recreate b: --force-recreate"
        ]
    );

    let mut a2 = svc("a");
    a2.read_only = true;
    let st2 = stack(vec![a2, svc("b"), svc("c")]);
    let p = diff(
        &st2,
        &obs,
        &PlanOptions {
            no_recreate: true,
            ..opts()
        },
    );
    // `a` changed but is kept; a new service is still created.
    assert_eq!(lines(&p), vec!["create c: new service"]);
}

#[test]
fn targets_bring_their_dependencies_unless_no_deps() {
    let mut web = svc("web");
    web.depends_on
        .insert("db".into(), dep(Condition::ServiceStarted));
    let mut db = svc("db");
    db.depends_on
        .insert("vol".into(), dep(Condition::ServiceStarted));
    let st = stack(vec![web, db, svc("vol"), svc("other")]);
    let o = PlanOptions {
        targets: vec!["web".into()],
        ..opts()
    };
    let p = diff(&st, &Observed::default(), &o);
    let svcs: Vec<&str> = p.actions.iter().map(|a| a.service()).collect();
    assert_eq!(svcs, vec!["vol", "db", "web"]);

    let p = diff(
        &st,
        &Observed::default(),
        &PlanOptions { no_deps: true, ..o },
    );
    // Only web, and it does not wait for a dependency the user left out.
    assert_eq!(lines(&p), vec!["create web: new service"]);

    let p = diff(
        &st,
        &Observed::default(),
        &PlanOptions {
            targets: vec!["nope".into()],
            ..opts()
        },
    );
    assert_eq!(lines(&p), vec!["blocked nope: no such service in the file"]);
}

#[test]
fn stopped_service_is_started() {
    let st = stack(vec![svc("db")]);
    let mut obs = converged(&st);
    obs.containers.get_mut("db").unwrap().state = RunState::Stopped;
    assert_eq!(lines(&diff(&st, &obs, &opts())), vec!["start db: stopped"]);
}

// ---- health and dependencies --------------------------------------------

fn db_web_healthy() -> Stack {
    let mut db = svc("db");
    db.healthcheck = Some(healthcheck());
    let mut web = svc("web");
    web.depends_on
        .insert("db".into(), dep(Condition::ServiceHealthy));
    stack(vec![db, web, svc("cache")])
}

#[test]
fn health_gated_start_waits_then_goes() {
    let st = db_web_healthy();
    let mut obs = Observed::default();
    let p = diff(&st, &obs, &opts());
    assert_eq!(
        lines(&p),
        vec![
            "create cache: new service",
            "create db: new service",
            "create web: new service, waiting for db to be created and healthy",
        ]
    );

    // db runs but is still starting: web waits, nothing else to do.
    let mut db = ObservedContainer::new(st.services["db"].clone(), 5);
    db.on_started(10, NOW, BTreeMap::new());
    assert_eq!(db.health, HealthStatus::Starting);
    obs.containers.insert("db".into(), db);
    obs.containers
        .insert("cache".into(), running(&st.services["cache"]));
    let p = diff(&st, &obs, &opts());
    assert_eq!(
        lines(&p),
        vec!["create web: new service, waiting for db to be healthy"]
    );
    assert_eq!(p.executable().count(), 0);
    assert!(!p.is_converged());

    obs.containers.get_mut("db").unwrap().health = HealthStatus::Healthy;
    let p = diff(&st, &obs, &opts());
    assert_eq!(lines(&p), vec!["create web: new service"]);
}

#[test]
fn service_healthy_on_a_dependency_without_healthcheck_is_blocked() {
    let mut web = svc("web");
    web.depends_on
        .insert("db".into(), dep(Condition::ServiceHealthy));
    let st = stack(vec![svc("db"), web]);
    let mut obs = converged(&st);
    obs.containers.remove("web");
    let p = diff(&st, &obs, &opts());
    match &p.actions[..] {
        [Action::Blocked { service, reason }] => {
            assert_eq!(service, "web");
            assert!(reason.contains("db has no healthcheck"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

fn migrate_stack() -> Stack {
    let mut app = svc("app");
    app.depends_on.insert(
        "migrate".into(),
        dep(Condition::ServiceCompletedSuccessfully),
    );
    let mut migrate = svc("migrate");
    migrate.command = Some(vec!["migrate".into()]);
    stack(vec![app, migrate, svc("cache")])
}

#[test]
fn failed_one_shot_job_blocks_its_dependents_only() {
    let st = migrate_stack();
    let mut obs = Observed::default();
    obs.containers
        .insert("cache".into(), running(&st.services["cache"]));
    let mut m = running(&st.services["migrate"]);
    let p = diff(
        &st,
        &{
            let mut o = obs.clone();
            o.containers.insert("migrate".into(), m.clone());
            o
        },
        &opts(),
    );
    assert_eq!(
        lines(&p),
        vec!["create app: new service, waiting for job migrate to complete"]
    );

    m.on_exited(1, false, NOW - 10);
    obs.containers.insert("migrate".into(), m);
    let p = diff(&st, &obs, &opts());
    assert_eq!(lines(&p), vec!["blocked app: job migrate exited 1"]);
    assert!(!p.is_converged());
}

#[test]
fn explicit_pass_for_a_waiting_dependent_does_not_rerun_the_failed_job() {
    // `up -d` kicked both; the job has been started since (so it is no
    // longer explicit) and failed: the dependent is blocked, not waiting
    // for the job to be started again.
    let st = migrate_stack();
    let mut obs = Observed::default();
    obs.containers
        .insert("cache".into(), running(&st.services["cache"]));
    obs.containers.insert(
        "migrate".into(),
        exited(&st.services["migrate"], 3, NOW - 10),
    );
    let o = PlanOptions {
        explicit: true,
        explicit_only: Some(["app".to_string()].into()),
        ..opts()
    };
    let p = diff(&st, &obs, &o);
    assert_eq!(lines(&p), vec!["blocked app: job migrate exited 3"]);
    // Explicit for the job too (a new `up`): the job runs again.
    let o = PlanOptions {
        explicit: true,
        ..opts()
    };
    let p = diff(&st, &obs, &o);
    assert_eq!(
        lines(&p),
        vec![
            "start migrate: exited 3",
            "create app: new service, waiting for job migrate to be started and complete"
        ]
    );
}

#[test]
fn completed_job_is_not_run_again_and_opens_the_gate() {
    let st = migrate_stack();
    let mut obs = converged(&st);
    obs.containers.remove("app");
    let m = exited(&st.services["migrate"], 0, NOW - 10);
    assert!(m.completed);
    obs.containers.insert("migrate".into(), m);
    let p = diff(&st, &obs, &opts());
    assert_eq!(lines(&p), vec!["create app: new service"]);
    // Also on an explicit `up`.
    let p = diff(
        &st,
        &obs,
        &PlanOptions {
            explicit: true,
            ..opts()
        },
    );
    assert_eq!(lines(&p), vec!["create app: new service"]);

    // A config change runs it again (and app waits for it).
    let mut st2 = st.clone();
    st2.services.get_mut("migrate").unwrap().command = Some(vec!["migrate".into(), "-v".into()]);
    let p = diff(&st2, &obs, &opts());
    assert_eq!(
        lines(&p),
        vec![
            r#"recreate migrate: command ["migrate"] → ["migrate","-v"]"#,
            "create app: new service, waiting for job migrate to be recreated and complete",
        ]
    );
}

#[test]
fn failed_set_up_is_blocking_for_service_started() {
    let mut web = svc("web");
    web.depends_on
        .insert("db".into(), dep(Condition::ServiceStarted));
    let st = stack(vec![svc("db"), web]);
    let mut obs = Observed::default();
    let mut db = ObservedContainer::new(st.services["db"].clone(), 1);
    db.on_failed("cannot run \"pg\": no such file".into(), NOW);
    obs.containers.insert("db".into(), db);
    let p = diff(&st, &obs, &opts());
    assert_eq!(
        lines(&p),
        vec![r#"blocked web: dependency db failed: cannot run "pg": no such file"#]
    );
    // An explicit `up` tries db again.
    let p = diff(
        &st,
        &obs,
        &PlanOptions {
            explicit: true,
            ..opts()
        },
    );
    assert_eq!(
        lines(&p),
        vec![
            r#"start db: failed: cannot run "pg": no such file"#,
            "create web: new service, waiting for db to be started",
        ]
    );
}

// ---- restart policies ----------------------------------------------------

fn with_policy(p: RestartPolicy) -> Stack {
    let mut w = svc("worker");
    w.restart = p;
    stack(vec![w])
}

#[test]
fn restart_no_leaves_an_exited_container() {
    let st = with_policy(RestartPolicy::No);
    let obs = Observed {
        containers: [(
            "worker".into(),
            exited(&st.services["worker"], 1, NOW - 5000),
        )]
        .into(),
    };
    assert!(diff(&st, &obs, &opts()).is_empty());
    // `up` runs it again (Compose starts exited containers).
    let p = diff(
        &st,
        &obs,
        &PlanOptions {
            explicit: true,
            ..opts()
        },
    );
    assert_eq!(lines(&p), vec!["start worker: exited 1"]);
}

#[test]
fn restart_always_restarts_any_exit_after_the_backoff() {
    let st = with_policy(RestartPolicy::Always);
    let mut c = exited(&st.services["worker"], 0, NOW - 30);
    let mut obs = Observed {
        containers: [("worker".into(), c.clone())].into(),
    };
    // Exited 30 ms ago; the first back-off is 100 ms.
    let p = diff(&st, &obs, &opts());
    assert_eq!(
        lines(&p),
        vec!["restart worker: exited 0, restart=always (1), in 70ms"]
    );
    assert_eq!(p.wake_at_ms, Some(NOW + 70));
    assert_eq!(p.executable().count(), 0);

    let p = diff(
        &st,
        &obs,
        &PlanOptions {
            now_ms: NOW + 70,
            ..opts()
        },
    );
    assert_eq!(
        p.actions,
        vec![Action::Restart {
            service: "worker".into(),
            reason: "exited 0, restart=always (1)".into(),
            policy: true
        }]
    );
    assert_eq!(p.wake_at_ms, None);

    // The engine restarts it; it dies quickly again: the next delay doubles.
    c.on_policy_restart();
    c.on_started(11, NOW + 70, BTreeMap::new());
    c.on_exited(2, false, NOW + 100);
    obs.containers.insert("worker".into(), c);
    let p = diff(
        &st,
        &obs,
        &PlanOptions {
            now_ms: NOW + 100,
            ..opts()
        },
    );
    assert_eq!(
        lines(&p),
        vec!["restart worker: exited 2, restart=always (2), in 200ms"]
    );
}

#[test]
fn backoff_sequence_cap_and_reset() {
    let seq: Vec<u64> = (0..10).map(restart::backoff).collect();
    assert_eq!(
        seq,
        vec![100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]
    );
    assert_eq!(restart::backoff(u32::MAX), restart::BACKOFF_MAX_MS);
    assert_eq!(restart::level_after_exit(5, 9_999, &Default::default()), 5);
    assert_eq!(restart::level_after_exit(5, 10_000, &Default::default()), 0);
    // `deploy.restart_policy`: a fixed delay, and its own window.
    let timing = crate::spec::RestartTiming {
        delay: Some(crate::spec::units::Millis(2500)),
        window: Some(crate::spec::units::Millis(30_000)),
    };
    assert_eq!(restart::delay_ms(&timing, 0), 2500);
    assert_eq!(restart::delay_ms(&timing, 9), 2500, "no doubling");
    assert_eq!(restart::delay_ms(&Default::default(), 3), 800);
    assert_eq!(restart::level_after_exit(5, 29_999, &timing), 5);
    assert_eq!(restart::level_after_exit(5, 30_000, &timing), 0);

    // Through the container's own bookkeeping.
    let st = with_policy(RestartPolicy::Always);
    let mut c = running(&st.services["worker"]);
    for _ in 0..4 {
        c.on_policy_restart();
    }
    c.on_started(1, NOW, BTreeMap::new());
    c.on_exited(1, false, NOW + 500);
    assert_eq!(c.backoff_level, 4);
    c.on_policy_restart();
    c.on_started(2, NOW + 2000, BTreeMap::new());
    c.on_exited(1, false, NOW + 2000 + 10_000);
    assert_eq!(c.backoff_level, 0, "stayed up 10 s: back-off reset");
    assert_eq!(c.restarts, 5, "the restart count is kept for ps");
}

#[test]
fn restart_on_failure_counts_up_to_max_then_gives_up() {
    let st = with_policy(RestartPolicy::OnFailure {
        max_retries: Some(5),
    });
    let mut c = exited(&st.services["worker"], 1, NOW - 60_000);
    c.restarts = 1;
    let obs = |c: &ObservedContainer| Observed {
        containers: [("worker".into(), c.clone())].into(),
    };
    assert_eq!(
        lines(&diff(&st, &obs(&c), &opts())),
        vec!["restart worker: exited 1, restart=on-failure (2/5)"]
    );

    c.restarts = 5;
    let p = diff(&st, &obs(&c), &opts());
    assert_eq!(
        lines(&p),
        vec!["blocked worker: exited 1, restart=on-failure gave up after 5 restarts"]
    );

    // Exit 0 under on-failure: done, never restarted.
    let c0 = exited(&st.services["worker"], 0, NOW - 10);
    assert!(c0.completed);
    assert!(diff(&st, &obs(&c0), &opts()).is_empty());

    // Unlimited on-failure, OOM kill shown.
    let st = with_policy(RestartPolicy::OnFailure { max_retries: None });
    let mut c = running(&st.services["worker"]);
    c.on_exited(137, true, NOW - 60_000);
    assert_eq!(
        lines(&diff(&st, &obs(&c), &opts())),
        vec!["restart worker: exited 137 (oom-killed), restart=on-failure (1)"]
    );
}

#[test]
fn stopped_by_user_is_not_brought_back_until_start() {
    for policy in [RestartPolicy::Always, RestartPolicy::UnlessStopped] {
        let st = with_policy(policy);
        let mut c = running(&st.services["worker"]);
        c.on_exited(143, false, NOW - 60_000);
        c.stopped_by_user = true;
        let mut obs = Observed {
            containers: [("worker".into(), c.clone())].into(),
        };
        assert!(diff(&st, &obs, &opts()).is_empty(), "{policy:?}");
        c.on_user_stop();
        obs.containers.insert("worker".into(), c.clone());
        assert!(diff(&st, &obs, &opts()).is_empty(), "{policy:?}");
        // `stack start` / `up`.
        let p = diff(
            &st,
            &obs,
            &PlanOptions {
                explicit: true,
                ..opts()
            },
        );
        assert_eq!(lines(&p), vec!["start worker: stopped"]);
        c.on_user_start();
        assert!(!c.stopped_by_user);
    }
}

#[test]
fn unhealthy_container_is_restarted_unless_opted_out() {
    let mut w = svc("worker");
    w.healthcheck = Some(healthcheck());
    w.restart = RestartPolicy::UnlessStopped;
    let st = stack(vec![w.clone()]);
    let mut c = running(&w);
    c.health = HealthStatus::Unhealthy;
    c.restarts = 2;
    let obs = Observed {
        containers: [("worker".into(), c)].into(),
    };
    assert_eq!(
        diff(&st, &obs, &opts()).actions,
        vec![Action::Restart {
            service: "worker".into(),
            reason: "unhealthy, restart=unless-stopped (3)".into(),
            policy: true
        }]
    );

    // Opt-out.
    let mut st2 = st.clone();
    st2.services
        .get_mut("worker")
        .unwrap()
        .x_stack
        .restart_unhealthy = false;
    let mut obs2 = obs.clone();
    obs2.containers.get_mut("worker").unwrap().config = st2.services["worker"].clone();
    assert!(diff(&st2, &obs2, &opts()).is_empty());

    // restart: no never restarts, even unhealthy.
    let mut st3 = st.clone();
    st3.services.get_mut("worker").unwrap().restart = RestartPolicy::No;
    let mut obs3 = obs.clone();
    obs3.containers.get_mut("worker").unwrap().config = st3.services["worker"].clone();
    assert!(diff(&st3, &obs3, &opts()).is_empty());
}

// ---- dependents on recreate ----------------------------------------------

#[test]
fn dependents_with_restart_true_restart_after_a_recreate() {
    let mut api = svc("api");
    api.depends_on.insert(
        "db".into(),
        Dependency {
            restart: true,
            ..dep(Condition::ServiceStarted)
        },
    );
    let mut ui = svc("ui");
    ui.depends_on
        .insert("db".into(), dep(Condition::ServiceStarted));
    let st = stack(vec![svc("db"), api, ui]);
    let mut obs = converged(&st);
    let stamps = obs.dep_stamps(&st.services["api"]);
    assert_eq!(stamps, BTreeMap::from([("db".to_string(), 1)]));
    for s in ["api", "ui"] {
        obs.containers.get_mut(s).unwrap().deps_at_start = stamps.clone();
    }

    let mut st2 = st.clone();
    st2.services
        .get_mut("db")
        .unwrap()
        .environment
        .insert("V".into(), "2".into());
    let p = diff(&st2, &obs, &opts());
    assert_eq!(
        lines(&p),
        vec![
            r#"recreate db: environment.V added: "2""#,
            "restart api: dependency db recreated, waiting for db to be recreated",
        ]
    );

    // Next passes: db recreated (new created_ms) and running again.
    let mut db = ObservedContainer::new(st2.services["db"].clone(), 2);
    obs.containers.insert("db".into(), db.clone());
    let p = diff(&st2, &obs, &opts());
    assert_eq!(
        lines(&p),
        vec!["restart api: dependency db recreated, waiting for db to start"]
    );
    db.on_started(55, NOW, BTreeMap::new());
    obs.containers.insert("db".into(), db);
    let p = diff(&st2, &obs, &opts());
    assert_eq!(
        p.actions,
        vec![Action::Restart {
            service: "api".into(),
            reason: "dependency db recreated".into(),
            policy: false
        }]
    );
    // The engine restarts api, recording the new stamps: converged.
    let stamps = obs.dep_stamps(&st2.services["api"]);
    let api = obs.containers.get_mut("api").unwrap();
    api.on_started(77, NOW, stamps);
    assert!(diff(&st2, &obs, &opts()).is_empty());
}

// ---- display and the health tracker ---------------------------------------

#[test]
fn plan_display_one_line_per_action() {
    let p = Plan {
        actions: vec![
            Action::Create {
                service: "cache".into(),
                reason: "new service".into(),
            },
            Action::Start {
                service: "db".into(),
                reason: "stopped".into(),
            },
            Action::Orphan {
                service: "old".into(),
            },
        ],
        wake_at_ms: None,
    };
    assert_eq!(
        p.to_string(),
        "create cache: new service\nstart db: stopped\norphan old: not in the file (--remove-orphans removes it)"
    );
}

#[test]
fn health_tracker_retries_and_recovery() {
    let hc = healthcheck(); // interval 1 s, retries 3, no start period
    let mut t = Tracker::new(&hc, 0);
    assert_eq!(t.status(), HealthStatus::Starting);
    assert_eq!(t.next_probe_at(), 1000);
    assert!(!t.probe_due(999));
    assert!(t.probe_due(1000));
    assert_eq!(t.on_result(true, 1000), Some(HealthStatus::Healthy));
    assert_eq!(t.next_probe_at(), 2000);
    assert_eq!(t.on_result(false, 2000), None);
    assert_eq!(t.on_result(false, 3000), None);
    assert_eq!(t.on_result(false, 4000), Some(HealthStatus::Unhealthy));
    assert_eq!(t.failing_streak(), 3);
    assert_eq!(t.on_result(true, 5000), Some(HealthStatus::Healthy));
    assert_eq!(t.failing_streak(), 0);
    assert_eq!(t.timeout_ms(), 500);
}

#[test]
fn health_tracker_start_period_and_start_interval() {
    let hc = Healthcheck {
        start_period: Millis(10_000),
        start_interval: Millis(200),
        retries: 2,
        ..healthcheck()
    };
    let mut t = Tracker::new(&hc, 0);
    // Probes every 200 ms during the start period.
    assert_eq!(t.next_probe_at(), 200);
    for i in 1..=20 {
        // Failures in the start period do not count.
        assert_eq!(t.on_result(false, i * 200), None);
    }
    assert_eq!(t.status(), HealthStatus::Starting);
    assert_eq!(t.failing_streak(), 0);
    assert_eq!(t.next_probe_at(), 4200);
    // After it, failures count and the interval is the normal one.
    assert_eq!(t.on_result(false, 10_000), None);
    assert_eq!(t.next_probe_at(), 11_000);
    assert_eq!(t.on_result(false, 11_000), Some(HealthStatus::Unhealthy));

    // A success during the start period makes it healthy at once, and
    // failures then count even inside the start period.
    let mut t = Tracker::new(&hc, 0);
    assert_eq!(t.on_result(true, 200), Some(HealthStatus::Healthy));
    assert_eq!(t.next_probe_at(), 1200);
    assert_eq!(t.on_result(false, 1200), None);
    assert_eq!(t.on_result(false, 2200), Some(HealthStatus::Unhealthy));
}

#[test]
fn health_tracker_docker_defaults() {
    // `retries: 0` is Docker's default, 3 (not 1).
    let hc = Healthcheck {
        retries: 0,
        ..healthcheck()
    };
    let mut t = Tracker::new(&hc, 0);
    assert_eq!(t.on_result(false, 1000), None);
    assert_eq!(t.on_result(false, 2000), None);
    assert_eq!(t.on_result(false, 3000), Some(HealthStatus::Unhealthy));
    // `start_interval: 0` with a start period is Docker's default, 5 s,
    // and applies only during the start period while starting.
    let hc = Healthcheck {
        start_period: Millis(12_000),
        start_interval: Millis(0),
        interval: Millis(1000),
        ..healthcheck()
    };
    let mut t = Tracker::new(&hc, 0);
    assert_eq!(t.next_probe_at(), 5000);
    assert_eq!(t.on_result(false, 5000), None);
    assert_eq!(t.next_probe_at(), 10_000);
    assert_eq!(t.on_result(false, 10_000), None);
    assert_eq!(t.next_probe_at(), 15_000);
    assert_eq!(t.on_result(false, 15_000), None);
    assert_eq!(t.next_probe_at(), 16_000);
    // A container adopted healthy stays healthy until a probe says not.
    let t = Tracker::new(&healthcheck(), 0).resumed(HealthStatus::Healthy);
    assert_eq!(t.status(), HealthStatus::Healthy);
}

#[test]
fn no_op_diff_of_fifty_services_is_cheap() {
    // Not a timing assertion: checks the fast path (no JSON) gives nothing.
    let services: Vec<Service> = (0..50).map(|i| svc(&format!("s{i:02}"))).collect();
    let st = stack(services);
    let obs = converged(&st);
    assert!(diff(&st, &obs, &opts()).is_empty());
}

#[test]
fn a_container_being_created_is_not_acted_on() {
    let st = stack(vec![svc("db")]);
    let mut obs = Observed::default();
    obs.containers
        .insert("db".into(), ObservedContainer::new(svc("db"), 1));
    assert!(diff(&st, &obs, &opts()).is_empty());
    // Its config changed meanwhile: recreate once the start is done.
    let mut db2 = svc("db");
    db2.hostname = Some("pg".into());
    let p = diff(&stack(vec![db2]), &obs, &opts());
    assert_eq!(
        lines(&p),
        vec![r#"recreate db: hostname added: "pg", waiting for the current start to finish"#]
    );
    assert_eq!(p.executable().count(), 0);
}

// ---- --wait ---------------------------------------------------------------

#[test]
fn readiness_for_wait() {
    let st = db_web_healthy();
    // Nothing yet: pending, with the plan's lines as reasons.
    match readiness(&st, &Observed::default(), &opts()) {
        Readiness::Pending(p) => assert_eq!(p.len(), 3, "{p:?}"),
        other => panic!("{other:?}"),
    }
    // All running, db healthy: ready.
    let obs = converged(&st);
    assert_eq!(readiness(&st, &obs, &opts()), Readiness::Ready);
    // db still starting its health checks.
    let mut o = obs.clone();
    o.containers.get_mut("db").unwrap().health = HealthStatus::Starting;
    assert_eq!(
        readiness(&st, &o, &opts()),
        Readiness::Pending(vec![("db".into(), "health: starting".into())])
    );
    // db unhealthy with restart: no → failed, naming it.
    o.containers.get_mut("db").unwrap().health = HealthStatus::Unhealthy;
    assert_eq!(
        readiness(&st, &o, &opts()),
        Readiness::Failed(vec![("db".into(), "unhealthy".into())])
    );

    // A failed job fails --wait for it and its dependents; a completed one
    // is ready.
    let st = migrate_stack();
    let mut obs = converged(&st);
    obs.containers
        .insert("migrate".into(), exited(&st.services["migrate"], 0, NOW));
    assert_eq!(readiness(&st, &obs, &opts()), Readiness::Ready);
    obs.containers.remove("app");
    obs.containers
        .insert("migrate".into(), exited(&st.services["migrate"], 3, NOW));
    assert_eq!(
        readiness(&st, &obs, &opts()),
        Readiness::Failed(vec![
            ("app".into(), "job migrate exited 3".into()),
            ("migrate".into(), "exited 3".into()),
        ])
    );
    // Targets limit what is judged.
    let o = PlanOptions {
        targets: vec!["cache".into()],
        ..opts()
    };
    assert_eq!(readiness(&st, &obs, &o), Readiness::Ready);
}

// ---- replicas --------------------------------------------------------------

#[test]
fn replicas_are_units_planned_alone_and_scaled_down_from_the_top() {
    let mut db = svc("db");
    db.replicas = 3;
    let mut app = svc("app");
    app.depends_on
        .insert("db".into(), dep(Condition::ServiceStarted));
    let file = stack(vec![db, app]);
    let three = crate::spec::replicas::expand(&file, &BTreeMap::new());
    let p = diff(&three, &Observed::default(), &opts());
    assert_eq!(
        lines(&p),
        vec![
            "create db: new service",
            "create db-2: new service",
            "create db-3: new service",
            "create app: new service, waiting for db to be created, db-2 to be created, db-3 to be created",
        ]
    );
    // `up db` targets every replica; scaling to one removes 2 and 3 (not
    // as orphans), and keeps replica 1 as it is.
    let only_db = PlanOptions {
        targets: vec!["db".into()],
        ..opts()
    };
    let p = diff(&three, &Observed::default(), &only_db);
    let now: Vec<&str> = p.executable().map(|a| a.service()).collect();
    assert_eq!(now, vec!["db", "db#2", "db#3"]);
    let one = crate::spec::replicas::expand(&file, &BTreeMap::from([("db".into(), 1)]));
    let p = diff(&one, &converged(&three), &opts());
    assert_eq!(
        lines(&p),
        vec!["remove db-2: db scaled to 1", "remove db-3: db scaled to 1"]
    );
}
