//! End-to-end reconcile: idempotent `up`, recreate of what changed, dry-run
//! reasons, orphans, health-gated order, failed jobs, `--wait`, restart
//! policies, crash recovery, concurrent `up`s. Real binary, as root.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::time::Duration;

use common::{container, find, pid_of, ps_json, root_or_skip, text, wait_for, Project};

const STACK: &str = r#"
services:
  db:
    rootfs: {busybox}
    command: ["sleep", "1000"]
  web:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    environment: { COLOR: red }
"#;

#[test]
fn noop_up_keeps_pids_and_change_recreates_only_that_service() {
    if !root_or_skip("noop_up_keeps_pids") {
        return;
    }
    let p = Project::new("e2e-noop", STACK);
    p.ok(&["up", "-d"]);
    let (db, web) = (pid_of(&p, "db"), pid_of(&p, "web"));
    let plan = p.ok(&["up", "--dry-run"]);
    assert!(plan.contains("nothing to do"), "{plan}");
    p.ok(&["up", "-d"]);
    assert_eq!((pid_of(&p, "db"), pid_of(&p, "web")), (db, web));

    p.write(&STACK.replace("COLOR: red", "COLOR: blue"));
    let plan = p.ok(&["plan"]);
    assert!(
        plan.contains(r#"recreate web: environment.COLOR "red" → "blue""#),
        "{plan}"
    );
    assert!(!plan.contains("db"), "{plan}");
    p.ok(&["up", "-d"]);
    assert_eq!(pid_of(&p, "db"), db, "db must be kept");
    assert_ne!(pid_of(&p, "web"), web, "web must be recreated");
    let env = p.ok(&["exec", "-T", "web", "sh", "-c", "echo $COLOR"]);
    assert_eq!(env.trim(), "blue");

    // An orphan is reported, then removed with --remove-orphans.
    p.write(
        &STACK
            .replace("COLOR: red", "COLOR: blue")
            .replace("  web:\n", "  www:\n"),
    );
    let plan = p.ok(&["plan"]);
    assert!(plan.contains("create www: new service"), "{plan}");
    assert!(plan.contains("orphan web"), "{plan}");
    p.ok(&["up", "-d"]);
    assert!(
        find(&ps_json(&p), "web").is_some(),
        "orphan kept without the flag"
    );
    let plan = p.ok(&["plan", "--remove-orphans"]);
    assert!(plan.contains("remove web: not in the file"), "{plan}");
    p.ok(&["up", "-d", "--remove-orphans"]);
    let ps = ps_json(&p);
    assert!(find(&ps, "web").is_none(), "{ps:#}");
    assert_eq!(container(&ps, "db")["pid"].as_i64().unwrap(), db);
}

#[test]
fn supervisor_sigkill_then_adopt_then_down() {
    if !root_or_skip("supervisor_sigkill") {
        return;
    }
    let p = Project::new("e2e-crash", STACK);
    p.ok(&["up", "-d"]);
    let ps = ps_json(&p);
    let sup = ps["supervisor_pid"].as_i64().unwrap();
    let web = pid_of(&p, "web");
    // SAFETY: kill the supervisor this test started.
    unsafe { libc::kill(sup as i32, libc::SIGKILL) };
    wait_for("the supervisor to die", Duration::from_secs(5), || {
        !std::path::Path::new(&format!("/proc/{sup}")).exists()
            || std::fs::read_to_string(format!("/proc/{sup}/stat"))
                .map(|s| s.contains(") Z "))
                .unwrap_or(true)
    });
    let table = p.ok(&["ps"]);
    assert!(table.contains("no supervisor runs"), "{table}");
    assert!(table.contains(&web.to_string()), "{table}");
    assert!(
        std::path::Path::new(&format!("/proc/{web}")).exists(),
        "container survived"
    );
    // Adopted: same pid, no restart.
    p.ok(&["up", "-d"]);
    let ps = ps_json(&p);
    assert!(ps["supervisor_pid"].as_i64().is_some());
    assert_eq!(container(&ps, "web")["pid"].as_i64().unwrap(), web);
    // Kill it again: down cleans up without a supervisor.
    let sup = ps["supervisor_pid"].as_i64().unwrap();
    // SAFETY: as above.
    unsafe { libc::kill(sup as i32, libc::SIGKILL) };
    std::thread::sleep(Duration::from_millis(200));
    p.ok(&["down", "-t", "1"]);
    for root in std::fs::read_dir("/sys/fs/cgroup").unwrap() {
        let dir = root.unwrap().path().join("stack").join(&p.name);
        assert!(!dir.exists(), "cgroup left: {}", dir.display());
    }
    assert!(
        !std::path::Path::new(&format!("/proc/{web}/stat")).exists()
            || std::fs::read_to_string(format!("/proc/{web}/stat"))
                .unwrap()
                .contains(") Z ")
    );
}

#[test]
fn health_gated_order_and_wait() {
    if !root_or_skip("health_gated_order") {
        return;
    }
    let p = Project::new(
        "e2e-health",
        r#"
services:
  db:
    rootfs: {busybox}
    command: ["sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 1000"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 200ms
      timeout: 2s
      retries: 3
      start_period: 10s
      start_interval: 200ms
  web:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    depends_on:
      db: { condition: service_healthy }
"#,
    );
    let out = p.run(&["up", "-d", "--wait", "--wait-timeout", "30"]);
    assert!(out.status.success(), "{}", text(&out));
    let ps = ps_json(&p);
    assert_eq!(container(&ps, "db")["health"], "healthy", "{ps:#}");
    // db becomes healthy a second after it starts; web starts after that
    // (whole seconds: a later second).
    let web_at = container(&ps, "web")["started_at"].as_u64().unwrap();
    assert!(web_at > container(&ps, "db")["started_at"].as_u64().unwrap());
}

#[test]
fn health_retries_zero_means_three() {
    if !root_or_skip("health_retries_zero") {
        return;
    }
    let p = Project::new(
        "e2e-health0",
        r#"
services:
  db:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/never"]
      interval: 700ms
      timeout: 2s
      retries: 0
"#,
    );
    p.ok(&["up", "-d"]);
    // Docker: `retries: 0` is the default, 3 failures in a row.
    let mut first = None;
    wait_for("a first probe", Duration::from_secs(10), || {
        let ps = ps_json(&p);
        let c = container(&ps, "db");
        if c["health_output"].is_null() {
            return false;
        }
        first = Some(c["health"].clone());
        true
    });
    assert_eq!(first.unwrap(), "starting", "one failure is not unhealthy");
    wait_for("unhealthy", Duration::from_secs(10), || {
        container(&ps_json(&p), "db")["health"] == "unhealthy"
    });
}

#[test]
fn failed_job_blocks_dependents_and_wait_fails() {
    if !root_or_skip("failed_job_blocks") {
        return;
    }
    let p = Project::new(
        "e2e-job",
        r#"
services:
  migrate:
    rootfs: {busybox}
    command: ["sh", "-c", "exit 3"]
  app:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    depends_on:
      migrate: { condition: service_completed_successfully }
  other:
    rootfs: {busybox}
    command: ["sleep", "1000"]
"#,
    );
    let out = p.run(&["up", "-d", "--wait", "--wait-timeout", "20"]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("migrate") && t.contains("3"), "{t}");
    let ps = ps_json(&p);
    assert!(find(&ps, "app").is_none(), "app must not start: {ps:#}");
    assert_eq!(
        container(&ps, "other")["status"],
        "running",
        "independent services run"
    );
}

#[test]
fn up_detached_returns_when_a_job_fails() {
    if !root_or_skip("up_detached_failed_job") {
        return;
    }
    for (name, policy) in [("e2e-job-no", "\"no\""), ("e2e-job-of", "on-failure:3")] {
        let p = Project::new(
            name,
            &r#"
services:
  job:
    rootfs: {busybox}
    command: ["sh", "-c", "exit 3"]
    restart: POLICY
  web:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    depends_on:
      job: { condition: service_completed_successfully }
"#
            .replace("POLICY", policy),
        );
        let mut child = p
            .cmd(&["up", "-d"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("up -d did not return ({policy})");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = child.wait_with_output().unwrap();
        let t = text(&out);
        assert!(!out.status.success(), "{policy}: {t}");
        assert!(t.contains("job job exited 3"), "{policy}: {t}");
        let ps = ps_json(&p);
        assert!(find(&ps, "web").is_none(), "{ps:#}");
        assert!(
            ps["pending"]["web"]
                .as_str()
                .is_some_and(|w| w.contains("job job exited 3")),
            "{ps:#}"
        );
    }
}

#[test]
fn start_after_stop_is_a_user_start_not_a_policy_restart() {
    if !root_or_skip("start_after_stop") {
        return;
    }
    let p = Project::new(
        "e2e-startstop",
        r#"
services:
  web:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    restart: always
"#,
    );
    p.ok(&["up", "-d", "--wait"]);
    for round in 0..2 {
        p.ok(&["stop", "-t", "1", "web"]);
        let ps = ps_json(&p);
        assert_eq!(container(&ps, "web")["status"], "exited", "{ps:#}");
        let out = p.run(&["start", "web"]);
        let t = text(&out);
        assert!(out.status.success(), "{t}");
        let ps = ps_json(&p);
        assert_eq!(
            container(&ps, "web")["status"],
            "running",
            "{round}: {ps:#}"
        );
        assert_eq!(container(&ps, "web")["restarts"], 0, "{round}: {ps:#}");
        assert_eq!(container(&ps, "web")["backoff_level"], 0, "{ps:#}");
    }
    // An explicit `up` after `stop` is a user start too.
    p.ok(&["stop", "-t", "1", "web"]);
    p.ok(&["up", "-d", "--wait"]);
    let ps = ps_json(&p);
    assert_eq!(container(&ps, "web")["status"], "running", "{ps:#}");
    assert_eq!(container(&ps, "web")["restarts"], 0, "{ps:#}");
    let log =
        std::fs::read_to_string(p.run.join("e2e-startstop/supervisor.log")).unwrap_or_default();
    assert!(log.contains("start web: stopped"), "{log}");
    assert!(!log.contains("restart web"), "{log}");
}

#[test]
fn exec_failure_is_a_sentence_and_wait_timeout() {
    if !root_or_skip("exec_failure_sentence") {
        return;
    }
    let p = Project::new(
        "e2e-fail",
        r#"
services:
  web:
    rootfs: {busybox}
    command: ["nginx-not-here"]
"#,
    );
    let out = p.run(&["up", "-d"]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("service web: "), "{t}");
    assert!(t.contains("nginx-not-here"), "{t}");
}

#[test]
fn restart_policy_on_failure_with_backoff() {
    if !root_or_skip("restart_on_failure") {
        return;
    }
    let p = Project::new(
        "e2e-restart",
        r#"
services:
  flaky:
    rootfs: {busybox}
    command: ["sh", "-c", "exit 1"]
    restart: on-failure:3
  steady:
    rootfs: {busybox}
    command: ["sh", "-c", "exit 0"]
    restart: on-failure
  always:
    rootfs: {busybox}
    command: ["sh", "-c", "sleep 0.2"]
    restart: always
"#,
    );
    p.run(&["up", "-d"]);
    wait_for("3 restarts", Duration::from_secs(20), || {
        let ps = ps_json(&p);
        container(&ps, "flaky")["restarts"] == 3 && container(&ps, "flaky")["status"] == "exited"
    });
    std::thread::sleep(Duration::from_millis(1500));
    let ps = ps_json(&p);
    assert_eq!(
        container(&ps, "flaky")["restarts"],
        3,
        "gave up after max: {ps:#}"
    );
    assert_eq!(container(&ps, "steady")["restarts"], 0, "{ps:#}");
    assert_eq!(container(&ps, "steady")["exit_code"], 0);
    assert!(
        container(&ps, "always")["restarts"].as_u64().unwrap() >= 2,
        "{ps:#}"
    );
    // Stopped by the user: `always` stays down.
    p.ok(&["stop", "always"]);
    let n = container(&ps_json(&p), "always")["restarts"]
        .as_u64()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    let ps = ps_json(&p);
    assert_eq!(container(&ps, "always")["status"], "exited");
    assert_eq!(container(&ps, "always")["restarts"].as_u64().unwrap(), n);
}

#[test]
fn short_backoffs_are_waited_for() {
    if !root_or_skip("short_backoffs") {
        return;
    }
    let p = Project::new(
        "e2e-backoff",
        r#"
services:
  flaky:
    rootfs: {busybox}
    command: ["sh", "-c", "cat /proc/uptime; exit 1"]
    restart: on-failure:3
"#,
    );
    p.run(&["up", "-d"]);
    wait_for("3 restarts", Duration::from_secs(20), || {
        let ps = ps_json(&p);
        container(&ps, "flaky")["restarts"] == 3 && container(&ps, "flaky")["status"] == "exited"
    });
    // Each run prints the (host-wide) uptime it started at, 10 ms steps.
    let logs = p.ok(&["logs", "flaky"]);
    let starts: Vec<f64> = logs
        .lines()
        .filter_map(|l| {
            l.split(|c: char| c.is_whitespace() || c == '|')
                .find_map(|w| w.contains('.').then(|| w.parse::<f64>().ok()).flatten())
        })
        .collect();
    assert_eq!(starts.len(), 4, "{logs}");
    for (i, want_ms) in [100.0, 200.0, 400.0].into_iter().enumerate() {
        let gap_ms = (starts[i + 1] - starts[i]) * 1000.0;
        assert!(
            gap_ms >= want_ms - 10.0,
            "restart {} came {gap_ms:.0} ms after the previous start, want ≥ {want_ms} ms: {logs}",
            i + 1
        );
    }
}

#[test]
fn ps_lists_a_service_once_during_backoff() {
    if !root_or_skip("ps_once_backoff") {
        return;
    }
    let p = Project::new(
        "e2e-psonce",
        r#"
services:
  web:
    rootfs: {busybox}
    command: ["sh", "-c", "exit 1"]
    restart: always
"#,
    );
    p.run(&["up", "-d"]);
    let mut seen_backoff = false;
    // Back-offs double from 100 ms; a slow machine (the v2 guest under
    // TCG) needs a few rounds before one outlasts a `ps`.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while std::time::Instant::now() < deadline && !seen_backoff {
        let ps = ps_json(&p);
        let listed =
            find(&ps, "web").is_some() as usize + ps["pending"].get("web").is_some() as usize;
        assert!(listed <= 1, "web listed twice: {ps:#}");
        if find(&ps, "web").is_some_and(|c| {
            c["state"]
                .as_str()
                .is_some_and(|s| s.contains("restarting in"))
        }) {
            seen_backoff = true;
            let table = p.ok(&["ps"]);
            let lines = table.lines().filter(|l| l.starts_with("web ")).count();
            assert!(lines <= 1, "{table}");
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    assert!(seen_backoff, "never saw the back-off");
}

#[test]
fn two_concurrent_ups() {
    if !root_or_skip("two_concurrent_ups") {
        return;
    }
    let p = Project::new("e2e-conc", STACK);
    let a = p.cmd(&["up", "-d"]).spawn().unwrap();
    let b = p.cmd(&["up", "-d"]).spawn().unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", text(&a));
    assert!(b.status.success(), "{}", text(&b));
    let ps = ps_json(&p);
    assert_eq!(ps["containers"].as_array().unwrap().len(), 2, "{ps:#}");
    for s in ["db", "web"] {
        assert_eq!(container(&ps, s)["status"], "running");
        assert_eq!(container(&ps, s)["restarts"], 0);
    }
}

const DEPS: &str = r#"
services:
  db:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    environment: { V: "1" }
  api:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    depends_on:
      db: { condition: service_started, restart: true }
  side:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    depends_on: [db]
  lone:
    rootfs: {busybox}
    command: ["sleep", "1000"]
"#;

#[test]
fn dependents_restart_flags_and_service_selection() {
    if !root_or_skip("dependents_restart") {
        return;
    }
    let p = Project::new("e2e-deps", DEPS);
    // `up api` starts api and what it depends on, nothing else.
    p.ok(&["up", "-d", "api"]);
    let ps = ps_json(&p);
    assert!(
        find(&ps, "api").is_some() && find(&ps, "db").is_some(),
        "{ps:#}"
    );
    assert!(
        find(&ps, "side").is_none() && find(&ps, "lone").is_none(),
        "{ps:#}"
    );
    p.ok(&["up", "-d"]);
    let before: Vec<i64> = ["db", "api", "side", "lone"]
        .iter()
        .map(|s| pid_of(&p, s))
        .collect();
    // db changes: db recreated, api (restart: true) restarted, side kept.
    p.write(&DEPS.replace(r#"V: "1""#, r#"V: "2""#));
    p.ok(&["up", "-d"]);
    wait_for("api restarted", Duration::from_secs(10), || {
        pid_of(&p, "api") != before[1]
    });
    assert_ne!(pid_of(&p, "db"), before[0]);
    assert_eq!(pid_of(&p, "side"), before[2], "side has no restart: true");
    assert_eq!(pid_of(&p, "lone"), before[3]);
    // --no-recreate keeps a changed service; --force-recreate renews one.
    p.write(&DEPS.replace(r#"V: "1""#, r#"V: "3""#));
    let db = pid_of(&p, "db");
    p.ok(&["up", "-d", "--no-recreate"]);
    assert_eq!(pid_of(&p, "db"), db);
    let lone = pid_of(&p, "lone");
    p.ok(&["up", "-d", "--force-recreate", "--no-deps", "lone"]);
    assert_ne!(pid_of(&p, "lone"), lone);
    assert_eq!(pid_of(&p, "db"), db, "--no-deps leaves db alone");
}
