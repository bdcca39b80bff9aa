//! Bringing a stack up: dependency order, health gating, failed starts,
//! jobs, stale answers.

use super::*;
use crate::spec::RestartPolicy;

#[test]
fn dependencies_start_first_and_a_start_is_one_job() {
    let mut h = Harness::new(stack(vec![
        plain("db"),
        needs(plain("web"), &["db"], Condition::ServiceStarted),
    ]));
    h.up();
    assert_eq!(h.jobs(), vec![start("db")], "web waits for db");
    assert_eq!(h.status("db"), Status::Created);
    assert!(!h.sup.ctrs.contains_key("web"));
    h.started("db", 10);
    assert_eq!(h.jobs(), vec![start("web")]);
    assert_eq!(h.status("db"), Status::Running);
    h.started("web", 11);
    assert_eq!(h.jobs(), vec![]);
    // Converged: another pass does nothing.
    h.advance(5_000);
    assert_eq!(h.jobs(), vec![]);
}

#[test]
fn independent_services_start_in_the_same_pass() {
    let mut h = Harness::new(stack(vec![plain("a"), plain("b"), plain("c")]));
    h.up();
    assert_eq!(h.jobs(), vec![start("a"), start("b"), start("c")]);
}

#[test]
fn a_healthy_condition_waits_for_the_probe() {
    let mut h = Harness::new(stack(vec![
        healthy_svc("db"),
        needs(plain("web"), &["db"], Condition::ServiceHealthy),
    ]));
    h.up();
    assert_eq!(h.jobs(), vec![start("db")]);
    h.started("db", 10);
    assert_eq!(h.jobs(), vec![], "no probe before its interval, no web");
    assert_eq!(h.rec("db").health, Some(crate::state::Health::Starting));
    assert_eq!(h.next_wake(), Some(Duration::from_millis(1000)));
    h.advance(1000);
    assert_eq!(h.jobs(), vec![Job::Probe("db".into())]);
    h.probed("db", true);
    assert_eq!(h.rec("db").health, Some(crate::state::Health::Healthy));
    assert_eq!(h.jobs(), vec![start("web")]);
}

#[test]
fn a_failed_start_is_a_sentence_and_blocks_its_dependents() {
    let mut h = Harness::new(stack(vec![
        plain("db"),
        needs(plain("web"), &["db"], Condition::ServiceStarted),
    ]));
    let (tx, rx) = mpsc::channel();
    h.sup.waiters.push(super::super::waiters::Waiter::settle(
        crate::plan::Goal::Started,
        None,
        None,
        tx,
    ));
    h.up();
    h.jobs();
    h.start_failed("db", "cannot run \"pg\": no such file");
    assert_eq!(h.status("db"), Status::Failed);
    assert_eq!(
        h.rec("db").error.as_deref(),
        Some("service db: cannot run \"pg\": no such file")
    );
    assert_eq!(h.jobs(), vec![], "web never starts");
    let r = rx.try_recv().expect("the waiter is answered");
    assert!(!r.ok);
    let e = r.error.unwrap();
    assert!(e.contains("service db: cannot run \"pg\""), "{e}");
    assert!(e.contains("service web: dependency db failed"), "{e}");
}

#[test]
fn a_job_that_completed_is_not_run_again() {
    let mut job = plain("migrate");
    job.restart = RestartPolicy::No;
    let mut h = Harness::new(stack(vec![
        job,
        needs(
            plain("app"),
            &["migrate"],
            Condition::ServiceCompletedSuccessfully,
        ),
    ]));
    h.up();
    assert_eq!(h.jobs(), vec![start("migrate")]);
    h.started("migrate", 20);
    assert_eq!(h.jobs(), vec![], "app waits for the job to complete");
    h.exited(20, Some(0));
    assert!(h.rec("migrate").completed);
    assert_eq!(h.jobs(), vec![start("app")]);
    h.started("app", 21);
    h.advance(60_000);
    assert_eq!(h.jobs(), vec![], "the completed job is left alone");
    // A new `up` does not run it again either.
    h.up();
    assert_eq!(h.jobs(), vec![]);
}

#[test]
fn an_answer_for_an_older_start_is_dropped() {
    let mut h = Harness::new(stack(vec![plain("web")]));
    h.up();
    h.jobs();
    let old = h.gen("web");
    h.deliver(vec![Ev::Started {
        service: "web".into(),
        gen: old + 7,
        result: Ok(Spawned {
            pid: 99,
            start_time: 1,
            into_cgroup: false,
        }
        .into()),
    }]);
    assert_eq!(h.status("web"), Status::Created, "not this start's answer");
    h.started("web", 10);
    assert_eq!(h.status("web"), Status::Running);
    assert_eq!(h.rec("web").pid, Some(10));
}

#[test]
fn force_recreate_recreates_each_existing_container_once() {
    let mut h = Harness::new(stack(vec![plain("a"), plain("b")]));
    h.up();
    h.jobs();
    h.started("a", 10);
    h.started("b", 11);
    h.up_with(UpOptions {
        force_recreate: true,
        ..Default::default()
    });
    assert_eq!(h.jobs(), vec![stop("a", true), stop("b", true)]);
    h.stopped("a", 10, true);
    h.stopped("b", 11, true);
    assert_eq!(h.jobs(), vec![start("a"), start("b")]);
    h.started("a", 12);
    h.started("b", 13);
    h.advance(1000);
    assert_eq!(h.jobs(), vec![], "recreated once, not on every pass");
}

#[test]
fn force_recreate_of_a_new_stack_creates_once() {
    let mut h = Harness::new(stack(vec![plain("a")]));
    h.up_with(UpOptions {
        force_recreate: true,
        ..Default::default()
    });
    assert_eq!(h.jobs(), vec![start("a")]);
    h.started("a", 10);
    h.advance(100);
    assert_eq!(
        h.jobs(),
        vec![],
        "a container this up created is not recreated"
    );
}

#[test]
fn up_of_named_services_starts_them_and_their_dependencies_only() {
    let mut h = Harness::new(stack(vec![
        plain("db"),
        needs(plain("web"), &["db"], Condition::ServiceStarted),
        plain("other"),
    ]));
    h.up_with(UpOptions {
        services: vec!["web".into()],
        ..Default::default()
    });
    assert_eq!(h.jobs(), vec![start("db")]);
    h.started("db", 10);
    assert_eq!(h.jobs(), vec![start("web")]);
    assert!(!h.sup.ctrs.contains_key("other"));
}
