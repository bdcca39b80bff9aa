//! Taking over a stack an earlier supervisor left: live containers kept,
//! dead ones noted, lost records rebuilt, orphans.

use super::*;
use crate::spec::RestartPolicy;

fn running_rec(s: &Service, pid: i32) -> ContainerRecord {
    let mut rec = ContainerRecord::new("t", s, crate::spec::config_hash(s));
    rec.status = Status::Running;
    rec.pid = Some(pid);
    rec.started_at = Some(T0 / 1000 - 5);
    rec
}

#[test]
fn a_live_container_is_adopted_with_its_pid() {
    let web = plain("web");
    let mut h = Harness::with_records(stack(vec![web.clone()]), vec![running_rec(&web, 50)], &[50]);
    assert_eq!(h.status("web"), Status::Running);
    assert!(h.adopted().contains(&50));
    h.up();
    assert_eq!(h.jobs(), vec![]);
    assert_eq!(h.rec("web").pid, Some(50));
}

#[test]
fn a_dead_container_is_noted_exited_and_its_policy_decides() {
    let mut web = plain("web");
    web.restart = RestartPolicy::Always;
    let mut h = Harness::with_records(stack(vec![web.clone()]), vec![running_rec(&web, 50)], &[]);
    assert_eq!(h.status("web"), Status::Exited);
    assert_eq!(h.rec("web").exit_code, None);
    h.up();
    assert_eq!(h.jobs(), vec![], "a policy restart waits for its back-off");
    h.advance(100);
    assert_eq!(h.jobs(), vec![start("web")]);
    assert_eq!(h.rec("web").restarts, 1);
}

#[test]
fn a_lost_record_is_rebuilt_from_its_cgroup() {
    let web = plain("web");
    let mut h = Harness::new(stack(vec![web]));
    h.set_cgroups(vec![("web".into(), 77, Some(5))]);
    h.sup.adopt();
    assert_eq!(h.status("web"), Status::Running);
    assert_eq!(h.rec("web").pid, Some(77));
    assert_eq!(h.rec("web").start_time, Some(5));
    assert!(h.adopted().contains(&77));
}

#[test]
fn a_changed_config_recreates_an_adopted_container() {
    let web = plain("web");
    let mut changed = web.clone();
    changed.environment.insert("A".into(), "1".into());
    let mut h = Harness::with_records(stack(vec![changed]), vec![running_rec(&web, 50)], &[50]);
    h.up();
    assert_eq!(h.jobs(), vec![stop("web", true)]);
    h.stopped("web", 50, true);
    assert_eq!(h.jobs(), vec![start("web")]);
    assert_eq!(
        h.rec("web").config.environment.get("A").map(String::as_str),
        Some("1")
    );
}

#[test]
fn an_orphan_is_reported_and_removed_only_when_asked() {
    let gone = plain("gone");
    let mut h = Harness::with_records(
        stack(vec![plain("web")]),
        vec![running_rec(&gone, 60)],
        &[60],
    );
    h.up();
    assert_eq!(h.jobs(), vec![start("web")], "the orphan is left alone");
    assert!(h.sup.ctrs.contains_key("gone"));
    h.up_with(UpOptions {
        remove_orphans: true,
        ..Default::default()
    });
    assert_eq!(h.jobs(), vec![stop("gone", true)]);
    h.stopped("gone", 60, true);
    assert!(!h.sup.ctrs.contains_key("gone"));
    assert!(h
        .sup
        .store
        .containers()
        .unwrap()
        .0
        .iter()
        .all(|r| r.service != "gone"));
}

#[test]
fn an_orphan_that_is_dead_is_removed_without_a_stop_worker() {
    let gone = plain("gone");
    let mut h = Harness::with_records(stack(vec![]), vec![running_rec(&gone, 60)], &[]);
    h.up_with(UpOptions {
        remove_orphans: true,
        ..Default::default()
    });
    assert_eq!(h.jobs(), vec![Job::RemoveFiles("gone".into())]);
    assert!(!h.sup.ctrs.contains_key("gone"));
}
