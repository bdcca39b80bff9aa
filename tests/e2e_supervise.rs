//! End-to-end supervision: foreground `up` (output prefixed, Ctrl-C stops
//! the stack), events, a corrupt record rebuilt from the cgroup, an
//! unhealthy container restarted, `down` after a SIGKILLed supervisor with
//! nothing left. Real binary, as root.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{alive, container, ps_json, root_or_skip, wait_for, Project};

#[test]
fn foreground_up_streams_output_and_ctrl_c_stops() {
    if !root_or_skip("foreground_up") {
        return;
    }
    let p = Project::new(
        "e2e-fg",
        r#"
services:
  hello:
    rootfs: {busybox}
    command: ["sh", "-c", "echo hello from the box; exec sleep 1000"]
  shell:
    rootfs: {busybox}
    # A shell-form command still stops on SIGTERM: init forwards it.
    command: ["sh", "-c", "trap 'echo bye; exit 0' TERM; while true; do sleep 0.1; done"]
"#,
    );
    let mut child = p
        .cmd(&["up"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|l: &String| l.starts_with("hello") && l.ends_with("| hello from the box"))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => seen.push(l),
            Err(_) => panic!("no prefixed output; saw {seen:?}"),
        }
    }
    let ps = ps_json(&p);
    assert_eq!(ps["supervisor_pid"].as_i64(), Some(child.id() as i64));
    let pid = container(&ps, "hello")["pid"].as_i64().unwrap();
    // SAFETY: SIGINT to the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "Ctrl-C did not stop the stack"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    assert!(!alive(pid), "the container must be stopped");
    while let Ok(l) = rx.recv_timeout(Duration::from_millis(500)) {
        seen.push(l);
    }
    assert!(
        seen.iter()
            .any(|l| l.starts_with("shell") && l.ends_with("| bye")),
        "SIGTERM reached the shell: {seen:?}"
    );
    let ps = ps_json(&p);
    assert_eq!(container(&ps, "hello")["status"], "exited", "{ps:#}");
    assert!(ps["supervisor_pid"].is_null());
}

#[test]
fn events_stream_and_corrupt_record_rebuilt() {
    if !root_or_skip("events_and_corrupt_record") {
        return;
    }
    let p = Project::new(
        "e2e-events",
        r#"
services:
  a:
    rootfs: {busybox}
    command: ["sleep", "1000"]
  b:
    rootfs: {busybox}
    command: ["sleep", "1000"]
"#,
    );
    p.ok(&["up", "-d"]);
    let mut ev = p
        .cmd(&["events", "--format", "json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = ev.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    // The stream may connect after a first restart has begun (a slow
    // machine, the v2 guest): the second restart is seen whole.
    let mut kinds = Vec::new();
    for _ in 0..2 {
        kinds.clear();
        p.ok(&["restart", "b"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !kinds.iter().any(|k: &String| k == "started") {
            let l = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("events so far: {kinds:?}"));
            let v: serde_json::Value = serde_json::from_str(&l).unwrap();
            assert_eq!(v["service"], "b");
            kinds.push(v["kind"].as_str().unwrap().to_string());
        }
    }
    assert!(kinds.contains(&"stopped".to_string()), "{kinds:?}");
    let _ = ev.kill();
    let _ = ev.wait();

    // Crash the supervisor and damage a record: it is reported, moved
    // aside and rebuilt from the cgroup; the container keeps its pid.
    let ps = ps_json(&p);
    let sup = ps["supervisor_pid"].as_i64().unwrap();
    let a_pid = container(&ps, "a")["pid"].as_i64().unwrap();
    // SAFETY: our supervisor.
    unsafe { libc::kill(sup as i32, libc::SIGKILL) };
    wait_for("supervisor gone", Duration::from_secs(5), || !alive(sup));
    let rec = p.state.join(&p.name).join("containers/a-1.json");
    let full = std::fs::read(&rec).unwrap();
    std::fs::write(&rec, &full[..full.len() / 3]).unwrap();
    let out = p.run(&["up", "-d"]);
    assert!(out.status.success(), "{out:?}");
    let moved: Vec<_> = std::fs::read_dir(p.state.join(&p.name).join("containers"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("a-1.json.corrupt-"))
        .collect();
    assert_eq!(moved.len(), 1, "the damaged record is kept aside");
    let log = std::fs::read_to_string(p.run.join(&p.name).join("supervisor.log")).unwrap();
    assert!(log.contains("corrupt state file"), "{log}");
    let ps = ps_json(&p);
    assert_eq!(
        container(&ps, "a")["pid"].as_i64().unwrap(),
        a_pid,
        "{ps:#}"
    );
    assert_eq!(container(&ps, "a")["status"], "running");
}

#[test]
fn unhealthy_container_is_restarted() {
    if !root_or_skip("unhealthy_restart") {
        return;
    }
    let p = Project::new(
        "e2e-unhealthy",
        r#"
services:
  sick:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    restart: always
    healthcheck:
      test: ["CMD", "false"]
      interval: 100ms
      timeout: 1s
      retries: 2
"#,
    );
    p.ok(&["up", "-d"]);
    let first = container(&ps_json(&p), "sick")["pid"].as_i64().unwrap();
    wait_for("an unhealthy restart", Duration::from_secs(20), || {
        let ps = ps_json(&p);
        let c = container(&ps, "sick");
        c["restarts"].as_u64().unwrap_or(0) >= 1 && c["pid"].as_i64() != Some(first)
    });
}

#[test]
fn down_after_sigkill_leaves_nothing() {
    if !root_or_skip("down_after_sigkill") {
        return;
    }
    let p = Project::new(
        "e2e-down",
        r#"
services:
  x:
    rootfs: {busybox}
    command: ["sh", "-c", "sleep 1000 & sleep 1000"]
    volumes: ["data:/data"]
  y:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    read_only: true
volumes:
  data: {}
"#,
    );
    p.ok(&["up", "-d"]);
    let ps = ps_json(&p);
    let pids: Vec<i64> = ["x", "y"]
        .iter()
        .map(|s| container(&ps, s)["pid"].as_i64().unwrap())
        .collect();
    let sup = ps["supervisor_pid"].as_i64().unwrap();
    // SAFETY: our supervisor.
    unsafe { libc::kill(sup as i32, libc::SIGKILL) };
    wait_for("supervisor gone", Duration::from_secs(5), || !alive(sup));
    let out = p.ok(&["ps"]);
    assert!(out.contains("no supervisor runs"), "{out}");
    p.ok(&["down", "-t", "1"]);
    for pid in pids {
        assert!(!alive(pid), "{pid} survived down");
    }
    for root in std::fs::read_dir("/sys/fs/cgroup").unwrap() {
        let dir = root.unwrap().path().join("stack").join(&p.name);
        assert!(!dir.exists(), "cgroup left: {}", dir.display());
    }
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let state = p.state.display().to_string();
    assert!(!mi.lines().any(|l| l.contains(&state)), "mount left");
    let proj = p.state.join(&p.name);
    assert!(!proj.join("containers").exists());
    assert!(!proj.join("logs").exists());
    assert!(!p.run.join(&p.name).exists(), "run dir left");
    assert!(proj.join("volumes/data").is_dir(), "named volume kept");
    p.ok(&["down", "-v"]);
    assert!(!proj.exists(), "down -v removes the volume");
}

#[test]
fn oom_kill_is_reported_by_ps() {
    if !root_or_skip("oom_kill_reported") {
        return;
    }
    let p = Project::new(
        "e2e-oom",
        r#"
services:
  hog:
    rootfs: {busybox}
    command: ["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"]
    deploy: { resources: { limits: { memory: 32M } } }
"#,
    );
    p.ok(&["up", "-d"]);
    wait_for("the OOM kill", Duration::from_secs(20), || {
        container(&ps_json(&p), "hog")["status"] == "exited"
    });
    let ps = ps_json(&p);
    assert_eq!(container(&ps, "hog")["oom_killed"], true, "{ps:#}");
    assert_eq!(container(&ps, "hog")["exit_code"], 137);
    let table = p.ok(&["ps"]);
    assert!(table.contains("exited (137, oom-killed)"), "{table}");
}

#[test]
fn exit_code_of_a_container_that_ended_unsupervised() {
    if !root_or_skip("exit_code_unsupervised") {
        return;
    }
    let p = Project::new(
        "e2e-orphan-exit",
        r#"
services:
  early:
    rootfs: {busybox}
    command: ["sh", "-c", "echo hi; sleep 1; exit 3"]
  late:
    rootfs: {busybox}
    command: ["sh", "-c", "sleep 8; exit 4"]
"#,
    );
    p.ok(&["up", "-d"]);
    let ps = ps_json(&p);
    let late = container(&ps, "late")["pid"].as_i64().unwrap();
    let sup = ps["supervisor_pid"].as_i64().unwrap();
    // SAFETY: our supervisor.
    unsafe { libc::kill(sup as i32, libc::SIGKILL) };
    // The leader thread turns zombie before the other threads have closed
    // the control socket: wait until it refuses connections too.
    let sock = p.run.join(&p.name).join("control.sock");
    wait_for("supervisor gone", Duration::from_secs(5), || {
        !alive(sup) && std::os::unix::net::UnixStream::connect(&sock).is_err()
    });
    // `early` ends while nothing supervises it: ps reads the code its init
    // recorded, and the record line never shows in the logs.
    wait_for("early to end", Duration::from_secs(10), || {
        container(&ps_json(&p), "early")["status"] == "exited"
    });
    assert_eq!(container(&ps_json(&p), "early")["exit_code"], 3);
    let logs = p.ok(&["logs", "early"]);
    assert!(logs.contains("hi") && !logs.contains("\"exit\""), "{logs}");
    // A new supervisor adopts `late` (same pid) and learns its code too.
    p.ok(&["up", "-d"]);
    assert_eq!(container(&ps_json(&p), "late")["pid"].as_i64(), Some(late));
    wait_for("late to end", Duration::from_secs(20), || {
        container(&ps_json(&p), "late")["status"] == "exited"
    });
    assert_eq!(container(&ps_json(&p), "late")["exit_code"], 4);
    p.ok(&["down", "-t", "1"]);
}
