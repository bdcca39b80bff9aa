//! Control requests through the loop: stop and start, restart, down in
//! dependency order, waits, reloads during a start, signals.

use super::*;
use crate::spec::RestartPolicy;

fn up_running(h: &mut Harness, names: &[(&str, i32)]) {
    h.up();
    for (n, pid) in names {
        // Dependencies first: each start is answered as it is handed out.
        h.started(n, *pid);
    }
    h.jobs();
}

#[test]
fn a_stop_during_a_start_waits_for_the_start_then_stops() {
    let mut s = plain("w");
    s.restart = RestartPolicy::Always;
    let mut h = Harness::new(stack(vec![s]));
    h.up();
    assert_eq!(h.jobs(), vec![start("w")]);
    let reply = h.request(Op::Stop {
        services: vec!["w".into()],
        timeout: None,
    });
    assert_eq!(h.jobs(), vec![], "no stop while the start runs");
    assert!(reply.try_recv().is_err());
    h.started("w", 10);
    assert_eq!(h.jobs(), vec![stop("w", false)]);
    h.exited(10, Some(143));
    h.stopped("w", 10, false);
    assert!(reply.try_recv().unwrap().ok);
    assert_eq!(h.rec("w").state_text(), "exited (143, SIGTERM, stopped)");
    h.advance(60_000);
    assert_eq!(h.jobs(), vec![], "restart: always does not undo a stop");
    // `start` does.
    let reply = h.request(Op::Start { services: vec![] });
    assert_eq!(h.jobs(), vec![start("w")]);
    h.started("w", 11);
    assert!(reply.try_recv().unwrap().ok);
    assert!(!h.rec("w").stopped_by_user);
}

#[test]
fn a_reload_during_a_start_recreates_after_the_start() {
    let mut h = Harness::new(stack(vec![plain("web")]));
    h.up();
    h.jobs();
    let mut changed = plain("web");
    changed.environment.insert("COLOR".into(), "blue".into());
    let reply = h.request(Op::Reload {
        stack: Box::new(stack(vec![changed])),
        options: UpOptions::default(),
    });
    assert!(reply.try_recv().unwrap().ok);
    assert_eq!(h.jobs(), vec![], "the start in flight is not interrupted");
    h.started("web", 10);
    assert_eq!(h.jobs(), vec![stop("web", true)]);
    h.stopped("web", 10, true);
    assert_eq!(h.jobs(), vec![start("web")]);
    h.started("web", 11);
    assert_eq!(
        h.rec("web")
            .config
            .environment
            .get("COLOR")
            .map(String::as_str),
        Some("blue")
    );
}

#[test]
fn down_stops_dependents_first_and_removes_everything() {
    let mut h = Harness::new(stack(vec![
        plain("db"),
        needs(plain("web"), &["db"], Condition::ServiceStarted),
    ]));
    up_running(&mut h, &[("db", 10), ("web", 11)]);
    let reply = h.request(Op::Down { timeout: Some(1) });
    assert_eq!(h.jobs(), vec![stop("web", true)], "db waits for web");
    h.stopped("web", 11, true);
    assert_eq!(h.jobs(), vec![stop("db", true)]);
    assert!(reply.try_recv().is_err());
    h.stopped("db", 10, true);
    assert!(h.sup.done);
    assert!(reply.try_recv().unwrap().ok);
    assert!(h.sup.ctrs.is_empty());
    assert!(h.sup.store.containers().unwrap().0.is_empty());
}

#[test]
fn restart_of_a_running_service_stops_then_starts_it_without_counting() {
    let mut s = plain("w");
    s.restart = RestartPolicy::OnFailure {
        max_retries: Some(1),
    };
    let mut h = Harness::new(stack(vec![s]));
    up_running(&mut h, &[("w", 10)]);
    let reply = h.request(Op::Restart {
        services: vec!["w".into()],
        timeout: None,
    });
    assert_eq!(h.jobs(), vec![stop("w", false)]);
    h.stopped("w", 10, false);
    assert_eq!(h.jobs(), vec![start("w")]);
    h.started("w", 11);
    assert!(reply.try_recv().unwrap().ok);
    assert_eq!(
        h.rec("w").restarts,
        0,
        "a user's restart is not the policy's"
    );
}

#[test]
fn an_unknown_service_is_refused() {
    let mut h = Harness::new(stack(vec![plain("w")]));
    h.up();
    let r = h
        .request(Op::Stop {
            services: vec!["nope".into()],
            timeout: None,
        })
        .try_recv()
        .unwrap();
    let e = r.error.unwrap_or_default();
    assert!(e.starts_with("no such service: nope (services: "), "{e}");
}

#[test]
fn wait_healthy_answers_once_healthy() {
    let mut h = Harness::new(stack(vec![healthy_svc("db")]));
    h.up();
    h.started("db", 10);
    let reply = h.request(Op::Wait {
        healthy: true,
        timeout_ms: None,
    });
    assert!(reply.try_recv().is_err(), "health: starting");
    h.advance(1000);
    h.probed("db", true);
    let r = reply.try_recv().unwrap();
    assert!(r.ok, "{:?}", r.error);
}

#[test]
fn wait_times_out_naming_what_it_waits_for() {
    let mut h = Harness::new(stack(vec![healthy_svc("db")]));
    h.up();
    h.started("db", 10);
    let reply = h.request(Op::Wait {
        healthy: true,
        timeout_ms: Some(500),
    });
    assert_eq!(h.next_wake(), Some(Duration::from_millis(500)));
    h.advance(500);
    let r = reply.try_recv().unwrap();
    assert!(!r.ok);
    let e = r.error.unwrap();
    assert_eq!(e, "timed out waiting for: db (health: starting)");
}

#[test]
fn wait_healthy_fails_for_an_unhealthy_service_that_will_not_restart() {
    let mut h = Harness::new(stack(vec![healthy_svc("db")]));
    h.up();
    h.started("db", 10);
    let reply = h.request(Op::Wait {
        healthy: true,
        timeout_ms: None,
    });
    for _ in 0..2 {
        h.advance(1000);
        h.probed("db", false);
    }
    let r = reply.try_recv().unwrap();
    assert_eq!(r.error.as_deref(), Some("service db: unhealthy: boom"));
}

#[test]
fn a_crash_loop_has_started_for_up_but_not_for_wait() {
    let mut s = plain("w");
    s.restart = RestartPolicy::Always;
    let mut h = Harness::new(stack(vec![s]));
    h.up();
    h.started("w", 10);
    h.exited(10, Some(1));
    let started = h.request(Op::Wait {
        healthy: false,
        timeout_ms: None,
    });
    assert!(started.try_recv().unwrap().ok, "up -d returns");
    let healthy = h.request(Op::Wait {
        healthy: true,
        timeout_ms: None,
    });
    assert!(healthy.try_recv().is_err(), "--wait waits on");
}

#[test]
fn the_first_signal_stops_the_stack_and_the_second_kills_it() {
    let mut h = Harness::new(stack(vec![plain("a"), plain("b")]));
    up_running(&mut h, &[("a", 10), ("b", 11)]);
    h.deliver(vec![Ev::Signal(libc::SIGINT)]);
    assert_eq!(h.jobs(), vec![stop("a", false), stop("b", false)]);
    h.deliver(vec![Ev::Signal(libc::SIGINT)]);
    assert_eq!(h.jobs(), vec![Job::Kill("a".into()), Job::Kill("b".into())]);
    h.stopped("a", 10, false);
    h.stopped("b", 11, false);
    assert!(h.sup.done);
    assert_eq!(h.status("a"), Status::Exited, "kept, not removed");
}

#[test]
fn the_first_settle_reports_a_failed_job_to_up() {
    let mut job = plain("job");
    job.command = Some(vec!["false".into()]);
    let mut h = Harness::new(stack(vec![
        job,
        needs(
            plain("app"),
            &["job"],
            Condition::ServiceCompletedSuccessfully,
        ),
    ]));
    h.up();
    h.started("job", 10);
    h.exited(10, Some(3));
    let got = Arc::new(Mutex::new(None));
    let g = got.clone();
    let mut on: Option<OnSettled> = Some(Box::new(move |r| *g.lock().unwrap() = Some(r)));
    h.sup.before_wait(&mut on);
    let r = got.lock().unwrap().take().expect("called");
    let e = r.unwrap_err();
    assert!(e.contains("service app: job job exited 3"), "{e}");
}

#[test]
fn a_recreate_judges_its_dependencies_again_before_the_new_container() {
    let mut h = Harness::new(stack(vec![
        plain("db"),
        needs(plain("web"), &["db"], Condition::ServiceStarted),
    ]));
    up_running(&mut h, &[("db", 10), ("web", 11)]);
    let mut changed = needs(plain("web"), &["db"], Condition::ServiceStarted);
    changed.environment.insert("COLOR".into(), "blue".into());
    h.request(Op::Reload {
        stack: Box::new(stack(vec![plain("db"), changed])),
        options: UpOptions::default(),
    });
    assert_eq!(h.jobs(), vec![stop("web", true)]);
    // While web's old container stops, the user stops db.
    h.request(Op::Stop {
        services: vec!["db".into()],
        timeout: None,
    });
    assert_eq!(h.jobs(), vec![], "db waits for its dependent web");
    h.stopped("web", 11, true);
    assert_eq!(
        h.jobs(),
        vec![stop("db", false)],
        "web is not created under it"
    );
    h.stopped("db", 10, false);
    assert_eq!(h.jobs(), vec![]);
    let notes = h.sup.ps().pending;
    assert!(
        notes
            .get("web")
            .is_some_and(|n| n.contains("stopped by the user")),
        "{notes:?}"
    );
    // `start db` brings db back, and the recreate completes.
    h.request(Op::Start {
        services: vec!["db".into()],
    });
    assert_eq!(h.jobs(), vec![start("db")]);
    h.started("db", 12);
    assert_eq!(h.jobs(), vec![start("web")]);
    assert!(
        !h.sup
            .last_actions
            .iter()
            .any(|l| l.starts_with("create web")),
        "{:?}",
        h.sup.last_actions
    );
}
