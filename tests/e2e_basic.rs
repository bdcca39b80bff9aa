//! End-to-end: `up -d`, `ps`, `logs`, `exec`, `stop`/`start`, `down`, and
//! nothing left behind. Real binary, real containers, as root.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::time::Duration;

use common::{assert_nothing_left, container, pid_of, ps_json, root_or_skip, wait_for, Project};

const TWO: &str = r#"
services:
  db:
    rootfs: {busybox}
    command: ["sh", "-c", "echo db ready; exec sleep 1000"]
  web:
    rootfs: {busybox}
    command: ["sh", "-c", "echo web says $$COLOR; exec sleep 1000"]
    environment: { COLOR: red }
    depends_on: [db]
"#;

#[test]
fn up_ps_logs_exec_stop_start_down() {
    if !root_or_skip("up_ps_logs_exec_stop_start_down") {
        return;
    }
    let p = Project::new("e2e-basic", TWO);
    let out = p.ok(&["up", "-d"]);
    assert!(out.contains("db"), "{out}");
    assert!(out.contains("web"), "{out}");
    let ps = ps_json(&p);
    assert!(ps["supervisor_pid"].as_i64().is_some(), "{ps:#}");
    for s in ["db", "web"] {
        assert_eq!(container(&ps, s)["status"], "running", "{ps:#}");
    }
    // web started after db.
    let db_at = container(&ps, "db")["started_at"].as_u64().unwrap();
    let web_at = container(&ps, "web")["started_at"].as_u64().unwrap();
    assert!(db_at <= web_at);

    // The table says a supervisor runs.
    let table = p.ok(&["ps"]);
    assert!(table.contains("supervisor running"), "{table}");

    wait_for("logs", Duration::from_secs(10), || {
        p.ok(&["logs", "web"]).contains("web says red")
    });
    let logs = p.ok(&["logs"]);
    assert!(logs.contains("db ready"), "{logs}");
    assert!(
        logs.lines()
            .any(|l| l.starts_with("web") && l.contains("| web says red")),
        "{logs}"
    );

    // exec: exit code, env, user.
    let out = p.run(&["exec", "-T", "web", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    let env = p.ok(&[
        "exec",
        "-T",
        "-e",
        "X=1",
        "web",
        "sh",
        "-c",
        "echo $COLOR$X",
    ]);
    assert_eq!(env.trim(), "red1");
    let who = p.ok(&["exec", "-T", "-u", "nobody", "web", "id", "-u"]);
    assert_eq!(who.trim(), "65534");

    // stop / start through the supervisor.
    let web_pid = pid_of(&p, "web");
    p.ok(&["stop", "-t", "2", "web"]);
    let ps = ps_json(&p);
    assert_eq!(container(&ps, "web")["status"], "exited", "{ps:#}");
    assert_eq!(container(&ps, "web")["stopped_by_user"], true);
    assert_eq!(container(&ps, "db")["status"], "running");
    assert!(!common::alive(web_pid), "web's old process survived stop");
    p.ok(&["start", "web"]);
    let ps = ps_json(&p);
    assert_eq!(container(&ps, "web")["status"], "running", "{ps:#}");
    assert_ne!(container(&ps, "web")["pid"].as_i64().unwrap(), web_pid);

    p.ok(&["down", "-t", "2"]);
    assert_nothing_left(&p);
    let ps = p.ok(&["ps"]);
    assert!(ps.contains("no containers"), "{ps}");
}
