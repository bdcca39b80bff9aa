//! End-to-end for replicas (issue 13): `deploy.replicas`, `scale`,
//! `up --scale` and `stack scale` run `web-1 … web-N`; the service's name
//! resolves to every replica and `web-N` to one; scaling down removes the
//! highest numbers and leaves the others running; `exec --index`,
//! `logs` and `ps` tell the replicas apart. Real binary, real containers
//! and networks, as root.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;
#[path = "common/net.rs"]
mod net;

use common::{root_or_skip, text, Project};
use net::{assert_net_gone, project, ps, snapshot, up, wait_fetch, wait_resolves, SLEEP};

/// `(replica, pid, id)` of each container of `svc`, by replica.
fn replicas(p: &Project, svc: &str) -> Vec<(u64, i64, String)> {
    let ps = ps(p);
    let mut v: Vec<(u64, i64, String)> = ps["containers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["service"] == svc)
        .map(|c| {
            (
                c["replica"].as_u64().unwrap(),
                c["pid"].as_i64().unwrap_or(0),
                c["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn numbers(v: &[(u64, i64, String)]) -> Vec<u64> {
    v.iter().map(|r| r.0).collect()
}

#[test]
fn replicas_answer_by_name_scale_up_and_down_highest_first() {
    if !root_or_skip("replicas_answer_by_name_scale_up_and_down_highest_first") {
        return;
    }
    // Each replica serves its hostname (`web`, `web-2`, `web-3`) and logs it.
    let yaml = format!(
        r#"
services:
  web:
    rootfs: {{rootfs}}
    command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && echo serving as $(hostname) && exec httpd -f -p 80 -h /www"]
    deploy: {{ replicas: 3 }}
    volumes: [/scratch]
    stop_grace_period: 1s
  client:
    rootfs: {{rootfs}}
    command: {SLEEP}
    depends_on: [web]
    stop_grace_period: 1s
"#
    );
    let p = project("e2e-rep", &yaml);
    up(&p, &[]);
    let three = replicas(&p, "web");
    assert_eq!(numbers(&three), [1, 2, 3], "{three:?}");
    for (k, _, id) in &three {
        assert_eq!(*id, format!("{}-web-{k}", p.name));
    }
    // The name answers with every replica, `web-k` with one.
    wait_resolves(&p, "client", "web", "three addresses", |a| a.len() == 3);
    wait_resolves(&p, "client", "web-2", "one address", |a| a.len() == 1);
    for k in 2..=3 {
        wait_fetch(
            &p,
            "client",
            &format!("http://web-{k}/"),
            &format!("web-{k}"),
        );
    }
    // `exec --index`, and each replica its own anonymous volume.
    let sh = |index: &str, cmd: &str| {
        text(&p.run(&["exec", "-T", "--index", index, "web", "sh", "-c", cmd]))
    };
    assert!(
        sh("2", "hostname").contains("web-2"),
        "{}",
        sh("2", "hostname")
    );
    sh("2", "echo two > /scratch/f");
    assert!(
        !sh("3", "cat /scratch/f 2>&1").contains("two"),
        "volumes apart"
    );
    // `ps` and `logs` name the replicas.
    let table = p.ok(&["ps"]);
    for k in 1..=3 {
        assert!(table.contains(&format!("web-{k} ")), "{table}");
    }
    let logs = p.ok(&["logs", "web"]);
    for host in ["web-2", "web-3"] {
        assert!(
            logs.lines()
                .any(|l| l.starts_with(host) && l.ends_with(&format!("serving as {host}"))),
            "{logs}"
        );
    }

    // Down to one: the highest numbers go, replica 1 keeps running.
    let first_pid = three[0].1;
    p.ok(&["scale", "web=1"]);
    let one = replicas(&p, "web");
    assert_eq!(numbers(&one), [1], "{one:?}");
    assert_eq!(one[0].1, first_pid, "replica 1 was not recreated");
    wait_resolves(&p, "client", "web", "one address", |a| a.len() == 1);

    // `up --scale` over the file, then a plain `up` back to the file's 3.
    up(&p, &["--scale", "web=2"]);
    assert_eq!(numbers(&replicas(&p, "web")), [1, 2]);
    up(&p, &[]);
    let again = replicas(&p, "web");
    assert_eq!(numbers(&again), [1, 2, 3]);
    assert_eq!(again[0].1, first_pid, "replica 1 still not recreated");

    // Scaled to zero, dependents do not wait for it; a bad count is refused.
    let bad = p.run(&["scale", "web=many"]);
    assert!(!bad.status.success());
    assert!(text(&bad).contains("expected SERVICE=N"), "{}", text(&bad));
    let unknown = p.run(&["scale", "nope=2"]);
    assert!(
        text(&unknown).contains("no such service: nope"),
        "{}",
        text(&unknown)
    );

    let snap = snapshot(&p);
    p.ok(&["down", "-v", "-t", "1"]);
    assert_net_gone(&p, &snap);
}

#[test]
fn a_service_scaled_to_zero_runs_nothing_and_its_dependents_start() {
    if !root_or_skip("a_service_scaled_to_zero_runs_nothing_and_its_dependents_start") {
        return;
    }
    let yaml = format!(
        r#"
services:
  worker:
    rootfs: {{rootfs}}
    command: {SLEEP}
    scale: 0
    stop_grace_period: 1s
  app:
    rootfs: {{rootfs}}
    command: {SLEEP}
    depends_on: {{ worker: {{ condition: service_started }} }}
    stop_grace_period: 1s
"#
    );
    let p = project("e2e-rep0", &yaml);
    up(&p, &[]);
    assert!(replicas(&p, "worker").is_empty());
    assert_eq!(numbers(&replicas(&p, "app")), [1]);
    up(&p, &["--scale", "worker=2"]);
    assert_eq!(numbers(&replicas(&p, "worker")), [1, 2]);
    let snap = snapshot(&p);
    p.ok(&["down", "-t", "1"]);
    assert_net_gone(&p, &snap);
}
