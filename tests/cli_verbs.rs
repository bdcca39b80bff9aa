//! The verbs as a daily user meets them (issue 14): every verb answers an
//! unknown service the same way, and `start`/`restart` do not bring a
//! project up. Real binary, real containers, as root.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use common::{assert_nothing_left, root_or_skip, text, Project};

const COLA: &str = "services:\n  cocacola:\n    rootfs: {busybox}\n    command: [sleep, '1000']\n  pepsi:\n    rootfs: {busybox}\n    command: [sleep, '1000']\n";

#[test]
fn every_verb_answers_an_unknown_service_the_same_way() {
    if !root_or_skip("every_verb_answers_an_unknown_service_the_same_way") {
        return;
    }
    let p = Project::new("cli-verbs-names", COLA);
    p.ok(&["up", "-d"]);
    let want = "no such service: pepsy (did you mean pepsi?; services: cocacola, pepsi)";
    for args in [
        &["exec", "-T", "pepsy", "true"][..],
        &["restart", "pepsy"],
        &["stop", "pepsy"],
        &["start", "pepsy"],
        &["logs", "pepsy"],
        &["port", "pepsy", "80"],
        &["up", "-d", "pepsy"],
        &["config", "--hash", "pepsy"],
        &["kill", "pepsy"],
        &["top", "pepsy"],
    ] {
        let o = p.run(args);
        assert!(!o.status.success(), "{args:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim(), format!("stack: {want}"), "{args:?}");
    }
    p.ok(&["down", "-t", "1"]);
}

#[test]
fn start_and_restart_refuse_a_project_that_is_down() {
    if !root_or_skip("start_and_restart_refuse_a_project_that_is_down") {
        return;
    }
    let p = Project::new("cli-verbs-down", COLA);
    for verb in ["start", "restart"] {
        let o = p.run(&[verb]);
        assert!(!o.status.success(), "{verb}: {}", text(&o));
        assert_eq!(
            String::from_utf8_lossy(&o.stderr).trim(),
            format!("stack: project cli-verbs-down has no containers to {verb}: it is down; create and start it with `stack up -d`")
        );
        assert!(!p.run.join("cli-verbs-down").join("control.sock").exists());
        assert!(!p.state.join("cli-verbs-down").join("containers").exists());
    }
    assert_nothing_left(&p);
}

#[test]
fn exec_exits_127_for_a_missing_command_and_126_for_one_that_cannot_run() {
    if !root_or_skip("exec_exits_127_for_a_missing_command_and_126_for_one_that_cannot_run") {
        return;
    }
    let p = Project::new("cli-verbs-exec", COLA);
    p.ok(&["up", "-d"]);
    let o = p.run(&["exec", "-T", "pepsi", "no-such-command"]);
    assert_eq!(o.status.code(), Some(127), "{}", text(&o));
    assert!(text(&o).contains("no-such-command"), "{}", text(&o));
    p.ok(&["exec", "-T", "pepsi", "sh", "-c", "echo data > /tmp/plain"]);
    let o = p.run(&["exec", "-T", "pepsi", "/tmp/plain"]);
    assert_eq!(o.status.code(), Some(126), "{}", text(&o));
    let o = p.run(&["exec", "-T", "pepsi", "sh", "-c", "exit 7"]);
    assert_eq!(o.status.code(), Some(7), "the command's own code");
    p.ok(&["down", "-t", "1"]);
}

#[test]
fn ls_lists_the_machines_projects_with_their_states_and_files() {
    if !root_or_skip("ls_lists_the_machines_projects_with_their_states_and_files") {
        return;
    }
    let a = Project::new("cli-verbs-ls-a", COLA);
    let mut b = Project::new(
        "cli-verbs-ls-b",
        "services:\n  one:\n    rootfs: {busybox}\n    command: [sleep, '1000']\n",
    );
    // One machine: both under the same state and run roots.
    b.state = a.state.clone();
    b.run = a.run.clone();
    a.ok(&["up", "-d"]);
    b.ok(&["up", "-d"]);
    b.ok(&["stop", "-t", "1"]);

    let table = a.ok(&["ls"]);
    let file_a = a.dir.join("stack.yaml").display().to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("CONFIG FILES"),
        "{table}"
    );
    let row = lines
        .iter()
        .find(|l| l.starts_with("cli-verbs-ls-a"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        row.contains("running(2)") && row.ends_with(&file_a),
        "{row}"
    );
    assert!(
        !table.contains("cli-verbs-ls-b"),
        "not running: only with -a\n{table}"
    );

    let all: serde_json::Value =
        serde_json::from_str(&a.ok(&["ls", "-a", "--format", "json"])).unwrap();
    let b_row = all
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "cli-verbs-ls-b")
        .unwrap_or_else(|| panic!("{all}"));
    assert_eq!(b_row["status"], "exited(1)");
    assert_eq!(a.ok(&["ls", "-q"]).trim(), "cli-verbs-ls-a");

    a.ok(&["down", "-t", "1"]);
    b.ok(&["down", "-t", "1"]);
    assert_eq!(
        a.ok(&["ls", "-a", "-q"]).trim(),
        "",
        "down projects are gone"
    );
    assert_nothing_left(&a);
}

#[test]
fn version_prints_the_package_version() {
    let p = Project::new("cli-verbs-version", "services: {}\n");
    let v = env!("CARGO_PKG_VERSION");
    assert_eq!(p.ok(&["version"]).trim(), format!("stack version {v}"));
    let j: serde_json::Value =
        serde_json::from_str(&p.ok(&["version", "--format", "json"])).unwrap();
    assert_eq!(j["version"], v);
}

#[test]
fn top_lists_a_containers_processes_and_kill_signals_them() {
    if !root_or_skip("top_lists_a_containers_processes_and_kill_signals_them") {
        return;
    }
    let p = Project::new("cli-verbs-kill", COLA);
    p.ok(&["up", "-d"]);
    let tops: serde_json::Value =
        serde_json::from_str(&p.ok(&["top", "--format", "json", "pepsi"])).unwrap();
    let tops = tops.as_array().unwrap();
    assert_eq!(tops.len(), 1);
    assert_eq!(tops[0]["service"], "pepsi");
    let procs = tops[0]["processes"].as_array().unwrap();
    let init = common::pid_of(&p, "pepsi");
    assert!(
        procs.iter().any(|x| x["pid"] == init),
        "the init: {procs:?}"
    );
    let sleep = procs
        .iter()
        .find(|x| x["cmd"] == "sleep 1000")
        .unwrap_or_else(|| panic!("{procs:?}"));
    assert_eq!(sleep["ppid"], init);
    assert_eq!(sleep["uid"], 0);
    let table = p.ok(&["top"]);
    assert!(
        table.contains("cocacola\nUID") && table.contains("pepsi\nUID"),
        "{table}"
    );

    let o = p.run(&["kill", "-s", "BOGUS"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("-s \"BOGUS\": not a signal"),
        "{}",
        text(&o)
    );

    // TERM reaches the command through the init: it ends as killed by it.
    let o = p.run(&["kill", "-s", "TERM", "pepsi"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("pepsi  killed (SIGTERM)"), "{}", text(&o));
    common::wait_for("pepsi to exit", std::time::Duration::from_secs(10), || {
        common::container(&common::ps_json(&p), "pepsi")["status"] == "exited"
    });
    let ps = common::ps_json(&p);
    assert_eq!(common::container(&ps, "pepsi")["exit_code"], 143, "{ps}");
    assert_eq!(
        common::container(&ps, "cocacola")["status"],
        "running",
        "{ps}"
    );
    // The default is SIGKILL, to every running container.
    let o = p.run(&["kill"]);
    assert!(
        text(&o).contains("cocacola  killed (SIGKILL)"),
        "{}",
        text(&o)
    );
    assert!(
        !text(&o).contains("pepsi"),
        "pepsi is not running: {}",
        text(&o)
    );
    common::wait_for(
        "cocacola to exit",
        std::time::Duration::from_secs(10),
        || common::container(&common::ps_json(&p), "cocacola")["status"] == "exited",
    );
    p.ok(&["down", "-t", "1"]);
    assert_nothing_left(&p);
}
