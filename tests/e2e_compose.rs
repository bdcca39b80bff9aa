//! End-to-end for Compose files as people write them (issue 13): several
//! files merged, anonymous volumes. Real binary, real containers, as root.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use common::{assert_nothing_left, container, ps_json, root_or_skip, text, wait_for, Project};

#[test]
fn an_anonymous_volume_outlives_down_and_down_v_removes_it() {
    if !root_or_skip("an_anonymous_volume_outlives_down_and_down_v_removes_it") {
        return;
    }
    let p = Project::new(
        "e2e-compose-anon",
        "services:\n  app:\n    rootfs: {busybox}\n    command: [sleep, '1000']\n    volumes: [/data]\n",
    );
    p.ok(&["up", "-d"]);
    let sh = |cmd: &str| text(&p.run(&["exec", "-T", "app", "sh", "-c", cmd]));
    assert!(sh("echo kept > /data/f && echo done").contains("done"));
    p.ok(&["up", "-d", "--force-recreate"]);
    assert!(sh("cat /data/f").contains("kept"), "recreated");
    p.ok(&["down", "-t", "1"]);
    let vols = p.state.join(&p.name).join("volumes");
    assert!(
        std::fs::read_dir(&vols).unwrap().count() == 1,
        "down keeps it"
    );
    p.ok(&["up", "-d"]);
    assert!(sh("cat /data/f").contains("kept"), "up again");
    p.ok(&["down", "-v", "-t", "1"]);
    assert!(!vols.exists(), "down -v removes it");
    assert_nothing_left(&p);
}

#[test]
fn the_override_file_is_merged_at_run_time_too() {
    if !root_or_skip("the_override_file_is_merged_at_run_time_too") {
        return;
    }
    let p = Project::new(
        "e2e-compose-files",
        "services:\n  app:\n    rootfs: {busybox}\n    command: [sleep, '1000']\n    environment: [WHO=base, KEEP=yes]\n",
    );
    let over = |who: &str| {
        std::fs::write(
            p.dir.join("stack.override.yaml"),
            format!("services:\n  app:\n    environment: {{ WHO: {who} }}\n"),
        )
        .unwrap();
    };
    over("override");
    p.ok(&["up", "-d"]);
    let env = || text(&p.run(&["exec", "-T", "app", "sh", "-c", "echo $WHO $KEEP"]));
    assert!(env().contains("override yes"), "{}", env());
    over("changed");
    let out = p.ok(&["up", "-d"]);
    assert!(out.contains("app"), "recreated: {out}");
    assert!(env().contains("changed yes"), "{}", env());
    p.ok(&["down", "-t", "1"]);
    assert_nothing_left(&p);
}

#[test]
fn secrets_and_configs_are_read_only_files_with_their_mode_and_never_shown() {
    if !root_or_skip("secrets_and_configs_are_read_only_files_with_their_mode_and_never_shown") {
        return;
    }
    let p = Project::new(
        "e2e-compose-secrets",
        "services:\n  app:\n    rootfs: {busybox}\n    command: [sleep, '1000']\n    secrets: [pw, { source: token, target: api, uid: '65534', gid: '65534', mode: '0400' }]\n    configs: [{ source: conf, target: /etc/app.conf }]\nsecrets:\n  pw: { file: ./pw.txt }\n  token: { environment: E2E_TOKEN }\nconfigs:\n  conf: { content: \"mode = test\" }\n",
    );
    std::fs::write(p.dir.join("pw.txt"), "hunter2-file\n").unwrap();
    let with_token = |args: &[&str]| {
        let out = p
            .cmd(args)
            .env("E2E_TOKEN", "tok-from-env-42")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        text(&out)
    };
    with_token(&["up", "-d"]);
    let sh = |cmd: &str| text(&p.run(&["exec", "-T", "app", "sh", "-c", cmd]));
    let t = sh("cat /run/secrets/pw /run/secrets/api /etc/app.conf; stat -c '%a %u %g %n' /run/secrets/pw /run/secrets/api");
    assert!(t.contains("hunter2-file"), "{t}");
    assert!(t.contains("tok-from-env-42"), "{t}");
    assert!(t.contains("mode = test"), "{t}");
    assert!(t.contains("444 0 0 /run/secrets/pw"), "{t}");
    assert!(t.contains("400 65534 65534 /run/secrets/api"), "{t}");
    // Root in the container cannot change them, nor the host's file.
    let t = sh("echo evil > /run/secrets/pw; echo evil > /etc/app.conf; mount -o remount,rw /run/secrets/pw; cat /run/secrets/pw");
    assert!(t.contains("hunter2-file") && !t.contains("evil"), "{t}");
    assert_eq!(
        std::fs::read_to_string(p.dir.join("pw.txt")).unwrap(),
        "hunter2-file\n"
    );
    // The variable's value is in no output and no state file.
    let cfg = with_token(&["config"]);
    assert!(!cfg.contains("tok-from-env-42"), "{cfg}");
    assert!(cfg.contains("E2E_TOKEN"), "{cfg}");
    let mut stack = vec![p.state.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let path = e.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                // The container's own copy is the one place it is.
                if !path.ends_with("files") {
                    stack.push(path);
                }
            } else if meta.is_file() && meta.len() < 1 << 20 {
                let b = std::fs::read(&path).unwrap();
                assert!(
                    !String::from_utf8_lossy(&b).contains("tok-from-env-42"),
                    "{} holds the secret",
                    path.display()
                );
            }
        }
    }
    p.ok(&["down", "-t", "1"]);
    assert_nothing_left(&p);
}

#[test]
fn post_start_output_is_logged_and_pre_stop_runs_before_the_signal() {
    if !root_or_skip("post_start_output_is_logged_and_pre_stop_runs_before_the_signal") {
        return;
    }
    let p = Project::new(
        "e2e-compose-hooks",
        r#"services:
  app:
    rootfs: {busybox}
    user: "65534"
    command: ["sh", "-c", "trap 'echo got TERM; exit 0' TERM; echo main up; while true; do sleep 0.1; done"]
    post_start:
      - command: ["sh", "-c", "echo post_start as $(id -u) in $(pwd) with $$STAGE"]
        user: root
        working_dir: /tmp
        environment: { STAGE: hook }
    pre_stop:
      - command: ["sh", "-c", "echo pre_stop ran"]
  broken:
    rootfs: {busybox}
    command: [sleep, '1000']
    post_start:
      - command: ["sh", "-c", "echo failing; exit 3"]
"#,
    );
    p.ok(&["up", "-d", "app"]);
    let logs = p.ok(&["logs", "app"]);
    assert!(logs.contains("post_start as 0 in /tmp with hook"), "{logs}");
    p.ok(&["stop", "app"]);
    let logs = p.ok(&["logs", "app"]);
    let pre = logs
        .find("pre_stop ran")
        .unwrap_or_else(|| panic!("{logs}"));
    let term = logs.find("got TERM").unwrap_or_else(|| panic!("{logs}"));
    assert!(pre < term, "pre_stop before the signal: {logs}");

    // A failing post_start stops the container; the reason is in its log.
    let _ = p.run(&["up", "-d", "broken"]);
    common::wait_for("broken to exit", std::time::Duration::from_secs(10), || {
        let ps = common::ps_json(&p);
        common::find(&ps, "broken").is_some_and(|c| c["state"] != "running")
    });
    let logs = p.ok(&["logs", "broken"]);
    assert!(logs.contains("failing"), "{logs}");
    assert!(
        logs.contains("post_start[0] (sh -c echo failing; exit 3): exited with code 3"),
        "{logs}"
    );
    p.ok(&["down", "-t", "1"]);
    assert_nothing_left(&p);
}

#[test]
fn deploy_restart_policy_restarts_at_its_delay_and_gives_up_after_max_attempts() {
    if !root_or_skip("deploy_restart_policy_restarts_at_its_delay_and_gives_up_after_max_attempts")
    {
        return;
    }
    let p = Project::new(
        "e2e-compose-restart",
        "services:\n  flaky:\n    rootfs: {busybox}\n    command: [sh, -c, 'exit 3']\n    deploy: { restart_policy: { condition: on-failure, max_attempts: 2, delay: 300ms } }\n  done:\n    rootfs: {busybox}\n    command: [sh, -c, 'exit 0']\n    deploy: { restart_policy: { condition: on-failure } }\n",
    );
    p.run(&["up", "-d"]);
    let d = std::time::Duration::from_secs(20);
    wait_for("2 restarts, then exited", d, || {
        let ps = ps_json(&p);
        container(&ps, "flaky")["restarts"] == 2 && container(&ps, "flaky")["status"] == "exited"
    });
    // One more delay's worth: no third restart.
    std::thread::sleep(std::time::Duration::from_millis(800));
    let ps = ps_json(&p);
    assert_eq!(container(&ps, "flaky")["restarts"], 2, "gave up: {ps:#}");
    assert_eq!(container(&ps, "flaky")["exit_code"], 3, "{ps:#}");
    assert_eq!(
        container(&ps, "done")["restarts"],
        0,
        "exit 0 is done: {ps:#}"
    );
    p.ok(&["down", "-t", "1"]);
    assert_nothing_left(&p);
}

#[test]
fn volumes_from_sees_the_other_service_s_volumes_read_only() {
    if !root_or_skip("volumes_from_sees_the_other_service_s_volumes_read_only") {
        return;
    }
    let p = Project::new(
        "e2e-compose-vfrom",
        "services:\n  data:\n    rootfs: {busybox}\n    command: [sh, -c, 'echo shared > /data/f; echo anon > /cache/g; exec sleep 1000']\n    volumes: [store:/data, /cache]\n  app:\n    rootfs: {busybox}\n    command: [sleep, '1000']\n    volumes_from: ['data:ro']\nvolumes:\n  store:\n",
    );
    p.ok(&["up", "-d"]);
    let sh = |svc: &str, cmd: &str| text(&p.run(&["exec", "-T", svc, "sh", "-c", cmd]));
    common::wait_for(
        "data wrote its files",
        std::time::Duration::from_secs(10),
        || sh("app", "cat /data/f /cache/g 2>&1").contains("shared\nanon"),
    );
    let w = sh("app", "echo x > /data/f 2>&1; echo rc=$?");
    assert!(
        w.contains("Read-only file system") && w.contains("rc=1"),
        "{w}"
    );
    assert!(sh("data", "cat /data/f").contains("shared"), "unchanged");
    p.ok(&["down", "-v", "-t", "1"]);
    assert_nothing_left(&p);
}
