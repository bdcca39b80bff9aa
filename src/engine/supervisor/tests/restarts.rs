//! Restart policies through the loop: back-off timing, its reset, giving
//! up, unhealthy restarts, adopted exits.

use super::*;
use crate::spec::RestartPolicy;

fn always(name: &str) -> Service {
    let mut s = plain(name);
    s.restart = RestartPolicy::Always;
    s
}

#[test]
fn a_crash_waits_for_its_back_off_then_restarts() {
    let mut h = Harness::new(stack(vec![always("w")]));
    h.up();
    h.jobs();
    h.started("w", 10);
    h.exited(10, Some(1));
    assert_eq!(h.status("w"), Status::Exited);
    assert_eq!(h.jobs(), vec![], "not before the back-off");
    assert_eq!(h.rec("w").next_restart_ms, Some(T0 + 100));
    assert_eq!(h.next_wake(), Some(Duration::from_millis(100)));
    h.advance(50);
    assert_eq!(h.jobs(), vec![]);
    h.advance(50);
    assert_eq!(h.jobs(), vec![start("w")]);
    assert_eq!(h.rec("w").restarts, 1);
    // A second quick crash doubles the delay.
    h.started("w", 11);
    h.exited(11, Some(1));
    h.advance(199);
    assert_eq!(h.jobs(), vec![]);
    h.advance(1);
    assert_eq!(h.jobs(), vec![start("w")]);
    assert_eq!(h.rec("w").restarts, 2);
}

#[test]
fn the_back_off_resets_after_a_long_run() {
    let mut h = Harness::new(stack(vec![always("w")]));
    h.up();
    h.jobs();
    h.started("w", 10);
    h.exited(10, Some(1));
    h.advance(100);
    h.jobs();
    h.started("w", 11);
    h.exited(11, Some(1));
    assert_eq!(h.rec("w").backoff_level, 1);
    h.advance(200);
    h.jobs();
    h.started("w", 12);
    // Up for longer than the reset time: the next delay is 100 ms again.
    h.advance(crate::plan::restart::RESET_AFTER_MS);
    h.exited(12, Some(1));
    assert_eq!(h.rec("w").backoff_level, 0);
    h.advance(100);
    assert_eq!(h.jobs(), vec![start("w")]);
}

#[test]
fn on_failure_gives_up_after_its_maximum() {
    let mut s = plain("w");
    s.restart = RestartPolicy::OnFailure {
        max_retries: Some(1),
    };
    let mut h = Harness::new(stack(vec![s]));
    h.up();
    h.jobs();
    h.started("w", 10);
    h.exited(10, Some(3));
    h.advance(100);
    assert_eq!(h.jobs(), vec![start("w")]);
    h.started("w", 11);
    h.exited(11, Some(3));
    h.advance(10_000);
    assert_eq!(h.jobs(), vec![], "gave up");
    let ps = h.sup.ps();
    assert!(
        ps.notes.get("w").is_some_and(|n| n.contains("gave up")),
        "{:?}",
        ps.notes
    );
}

#[test]
fn on_failure_leaves_a_clean_exit_alone() {
    let mut s = plain("w");
    s.restart = RestartPolicy::OnFailure { max_retries: None };
    let mut h = Harness::new(stack(vec![s]));
    h.up();
    h.jobs();
    h.started("w", 10);
    h.exited(10, Some(0));
    h.advance(10_000);
    assert_eq!(h.jobs(), vec![]);
    assert!(h.rec("w").completed);
}

#[test]
fn an_unhealthy_container_is_restarted_through_a_stop() {
    let mut s = healthy_svc("w");
    s.restart = RestartPolicy::UnlessStopped;
    let mut h = Harness::new(stack(vec![s]));
    h.up();
    h.jobs();
    h.started("w", 10);
    for _ in 0..2 {
        h.advance(1000);
        assert_eq!(h.jobs(), vec![Job::Probe("w".into())]);
        h.probed("w", false);
    }
    assert_eq!(h.rec("w").health_output.as_deref(), Some("boom"));
    assert_eq!(h.jobs(), vec![stop("w", false)], "restart: stop first");
    assert_eq!(h.status("w"), Status::Stopping);
    h.stopped("w", 10, false);
    assert_eq!(h.jobs(), vec![start("w")]);
    assert_eq!(h.rec("w").restarts, 1);
}

#[test]
fn an_adopted_container_s_unseen_exit_counts_as_a_failure() {
    let mut s = plain("w");
    s.restart = RestartPolicy::OnFailure { max_retries: None };
    let mut rec = ContainerRecord::new("t", &s, crate::spec::config_hash(&s));
    rec.status = Status::Running;
    rec.pid = Some(40);
    rec.started_at = Some(T0 / 1000 - 60);
    let mut h = Harness::with_records(stack(vec![s]), vec![rec], &[40]);
    assert!(h.adopted().contains(&40));
    h.up();
    assert_eq!(h.jobs(), vec![], "adopted, not restarted");
    h.exited(40, None);
    assert_eq!(h.rec("w").exit_code, None);
    assert_eq!(h.rec("w").state_text(), "exited (unknown)");
    h.advance(100);
    assert_eq!(h.jobs(), vec![start("w")], "unknown is not a success");
}
