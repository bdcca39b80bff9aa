//! End-to-end watch mode (`up --watch`, `up -d --watch`, `stack watch`):
//! saved changes go through the reconcile of `up`, invalid saves change
//! nothing, every editor save style and `env_file`s are picked up, bursts
//! coalesce, `develop.watch` restarts and syncs. Real binary, as root.
//! Outcomes are waited for by polling with generous timeouts.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::io::Read;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{busybox_rootfs, find, ps_json, root_or_skip, wait_for, Project};

const LONG: Duration = Duration::from_secs(20);

/// The pid of `svc` while it runs.
fn pid_of(p: &Project, svc: &str) -> Option<i64> {
    find(&ps_json(p), svc)
        .filter(|c| c["status"] == "running")
        .and_then(|c| c["pid"].as_i64())
}

fn listed(p: &Project, svc: &str) -> bool {
    find(&ps_json(p), svc).is_some()
}

/// Wait until `name` in the service's container is `value`.
fn wait_env(p: &Project, svc: &str, name: &str, value: &str, what: &str) {
    wait_for(what, LONG, || {
        env_in(p, svc, name).as_deref() == Some(value)
    });
}

/// The variable `name` in the service's container, as its processes see
/// it (`env`: this busybox has no `printenv` applet); `None` while the
/// container cannot run it or the variable is unset.
fn env_in(p: &Project, svc: &str, name: &str) -> Option<String> {
    let out = p.run(&["exec", "-T", svc, "env"]);
    if !out.status.success() {
        return None;
    }
    let prefix = format!("{name}=");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(String::from))
}

fn sup_log_path(p: &Project) -> PathBuf {
    p.run.join(&p.name).join("supervisor.log")
}

fn sup_log(p: &Project) -> String {
    std::fs::read_to_string(sup_log_path(p)).unwrap_or_default()
}

/// Lines of the supervisor's log that start with `prefix`.
fn count_lines(p: &Project, prefix: &str) -> usize {
    sup_log(p).lines().filter(|l| l.starts_with(prefix)).count()
}

const INVALID: &str = "reload: the file is not valid";

/// The stack file with `{busybox}` expanded (for writes by other means).
fn expand(yaml: &str) -> String {
    yaml.replace("{busybox}", &busybox_rootfs().display().to_string())
}

const TWO: &str = r#"
services:
  web:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    environment: { COLOR: red }
    stop_grace_period: 1s
  db:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    stop_grace_period: 1s
"#;

#[test]
fn env_change_recreates_only_that_service() {
    if !root_or_skip("env_change_recreates_only_that_service") {
        return;
    }
    let p = Project::new("e2e-watch-env", TWO);
    p.ok(&["up", "-d", "--watch"]);
    assert!(ps_json(&p)["watch"] == true);
    assert!(p.ok(&["ps"]).contains("watching the file"));
    let (web, db) = (pid_of(&p, "web").unwrap(), pid_of(&p, "db").unwrap());
    p.write(&TWO.replace("COLOR: red", "COLOR: blue"));
    wait_env(&p, "web", "COLOR", "blue", "COLOR=blue in web");
    assert_ne!(pid_of(&p, "web"), Some(web));
    assert_eq!(pid_of(&p, "db"), Some(db), "db must not be touched");
    // One line per action, with its reason.
    wait_for("the recreate line", LONG, || {
        sup_log(&p)
            .lines()
            .any(|l| l.starts_with("recreate web:") && l.contains("COLOR"))
    });
    // A save that changes nothing says so.
    let before = count_lines(&p, "reload: nothing changed");
    p.write(&TWO.replace("COLOR: red", "COLOR: blue"));
    wait_for("reload: nothing changed", LONG, || {
        count_lines(&p, "reload: nothing changed") > before
    });
    assert_eq!(pid_of(&p, "db"), Some(db));
}

#[test]
fn services_added_and_removed() {
    if !root_or_skip("services_added_and_removed") {
        return;
    }
    let p = Project::new("e2e-watch-addrm", TWO);
    p.ok(&["up", "-d", "--watch"]);
    let web = pid_of(&p, "web").unwrap();
    let three =
        format!("{TWO}  cache:\n    rootfs: {{busybox}}\n    command: [\"sleep\", \"1000\"]\n");
    p.write(&three);
    wait_for("cache started", LONG, || pid_of(&p, "cache").is_some());
    assert_eq!(pid_of(&p, "web"), Some(web));
    // Remove db from the file: stopped and removed.
    let db = pid_of(&p, "db").unwrap();
    let without_db = three.replace(
        "  db:\n    rootfs: {busybox}\n    command: [\"sleep\", \"1000\"]\n    stop_grace_period: 1s\n",
        "",
    );
    assert!(!without_db.contains("db:"));
    p.write(&without_db);
    wait_for("db removed", LONG, || !listed(&p, "db"));
    assert!(
        !std::path::Path::new(&format!("/proc/{db}")).exists(),
        "db's process must be gone"
    );
    assert_eq!(pid_of(&p, "web"), Some(web));
    assert!(pid_of(&p, "cache").is_some());
}

#[test]
fn invalid_saves_touch_nothing() {
    if !root_or_skip("invalid_saves_touch_nothing") {
        return;
    }
    let p = Project::new("e2e-watch-invalid", TWO);
    p.ok(&["up", "-d", "--watch"]);
    let (web, db) = (pid_of(&p, "web").unwrap(), pid_of(&p, "db").unwrap());
    let bad = [
        // A YAML error.
        (
            "yaml",
            "services:\n  web: [this is: not valid\n".to_string(),
        ),
        // An unknown key.
        ("unknown key", TWO.replace("command:", "comand:")),
        // A cycle.
        (
            "cycle",
            TWO.replace(
                "environment: { COLOR: red }",
                "environment: { COLOR: green }\n    depends_on: [db]",
            )
            .replace(
                "  db:\n    rootfs: {busybox}",
                "  db:\n    depends_on: [web]\n    rootfs: {busybox}",
            ),
        ),
        // A missing rootfs.
        (
            "missing rootfs",
            TWO.replacen("rootfs: {busybox}", "rootfs: ./no-such-rootfs", 1),
        ),
    ];
    for (what, yaml) in bad {
        let before = count_lines(&p, INVALID);
        let seen = sup_log(&p).len();
        p.write(&yaml);
        wait_for(&format!("the {what} to be reported"), LONG, || {
            count_lines(&p, INVALID) > before
        });
        // Only what this save printed.
        let log = sup_log(&p)[seen..].to_string();
        let file = p.dir.join("stack.yaml").display().to_string();
        assert!(
            log.lines().any(|l| {
                l.strip_prefix(&format!("{file}:")).is_some_and(|rest| {
                    let mut it = rest.splitn(3, ':');
                    it.next().is_some_and(|l| l.parse::<u32>().is_ok())
                        && it.next().is_some_and(|c| c.parse::<u32>().is_ok())
                })
            }),
            "{what}: no file:line:col error in the log:\n{log}"
        );
        assert_eq!(pid_of(&p, "web"), Some(web), "{what} touched web");
        assert_eq!(pid_of(&p, "db"), Some(db), "{what} touched db");
    }
    // The next valid save applies against the last valid state: only web.
    p.write(&TWO.replace("COLOR: red", "COLOR: green"));
    wait_env(&p, "web", "COLOR", "green", "COLOR=green");
    assert_eq!(pid_of(&p, "db"), Some(db));
}

#[test]
fn every_save_style_is_picked_up() {
    if !root_or_skip("every_save_style_is_picked_up") {
        return;
    }
    let p = Project::new("e2e-watch-styles", TWO);
    p.ok(&["up", "-d", "--watch"]);
    let file = p.dir.join("stack.yaml");
    let with = |c: &str| expand(&TWO.replace("COLOR: red", &format!("COLOR: {c}")));
    // In place: truncate, then write in two pieces.
    {
        use std::io::Write;
        let text = with("inplace");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&file)
            .unwrap();
        let (a, b) = text.split_at(text.len() / 2);
        f.write_all(a.as_bytes()).unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        f.write_all(b.as_bytes()).unwrap();
    }
    wait_env(&p, "web", "COLOR", "inplace", "in-place write");
    // A temp file renamed over (vim's backupcopy=no, most IDEs).
    let tmp = p.dir.join(".stack.yaml.tmp");
    std::fs::write(&tmp, with("renamed")).unwrap();
    std::fs::rename(&tmp, &file).unwrap();
    wait_env(&p, "web", "COLOR", "renamed", "rename over");
    // Delete, then create a moment later.
    let db = pid_of(&p, "db").unwrap();
    std::fs::remove_file(&file).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&file, with("recreated")).unwrap();
    wait_env(&p, "web", "COLOR", "recreated", "delete then create");
    // The file being missing for a while stopped nothing.
    assert_eq!(pid_of(&p, "db"), Some(db));
}

#[test]
fn a_burst_of_saves_applies_the_last_once() {
    if !root_or_skip("a_burst_of_saves_applies_the_last_once") {
        return;
    }
    let p = Project::new("e2e-watch-burst", TWO);
    p.ok(&["up", "-d", "--watch"]);
    let db = pid_of(&p, "db").unwrap();
    let file = p.dir.join("stack.yaml");
    // A loaded machine can stretch the burst itself past the debounce; such
    // an attempt proves nothing, so it is repeated (with new values).
    for attempt in 0..5 {
        let values: Vec<String> = (0..10).map(|i| format!("a{attempt}v{i}")).collect();
        let texts: Vec<String> = values
            .iter()
            .map(|v| expand(&TWO.replace("COLOR: red", &format!("COLOR: {v}"))))
            .collect();
        let before = count_lines(&p, "recreate web");
        let start = Instant::now();
        let mut last = start;
        let mut max_gap = Duration::ZERO;
        for (i, t) in texts.iter().enumerate() {
            if i > 0 {
                std::thread::sleep(Duration::from_millis(6));
            }
            std::fs::write(&file, t).unwrap();
            max_gap = max_gap.max(last.elapsed());
            last = Instant::now();
        }
        // First save to last: "ten saves within 100 ms".
        let took = start.elapsed();
        let last_value = values[9].clone();
        wait_for(&format!("COLOR={last_value}"), LONG, || {
            env_in(&p, "web", "COLOR").as_deref() == Some(last_value.as_str())
        });
        // Give a second (wrong) reload every chance to show up, then count.
        std::thread::sleep(Duration::from_millis(1000));
        if took > Duration::from_millis(100) || max_gap > Duration::from_millis(50) {
            eprintln!("burst attempt {attempt} took {took:?} (largest gap {max_gap:?}); again");
            continue;
        }
        let recreates: Vec<String> = sup_log(&p)
            .lines()
            .filter(|l| l.starts_with("recreate web"))
            .skip(before)
            .map(String::from)
            .collect();
        assert_eq!(recreates.len(), 1, "expected one recreate: {recreates:?}");
        assert!(recreates[0].contains(&last_value), "{}", recreates[0]);
        assert_eq!(pid_of(&p, "db"), Some(db));
        return;
    }
    panic!("the machine is too loaded: no burst of 10 saves fit in 100 ms in 5 attempts");
}

#[test]
fn env_file_changes_reload() {
    if !root_or_skip("env_file_changes_reload") {
        return;
    }
    let yaml = r#"
services:
  web:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    env_file: ./conf/web.env
    stop_grace_period: 1s
"#;
    let p = Project::new("e2e-watch-envfile", yaml);
    std::fs::create_dir_all(p.dir.join("conf")).unwrap();
    std::fs::write(p.dir.join("conf/web.env"), "GREETING=hello\n").unwrap();
    std::fs::write(p.dir.join(".env"), "").unwrap();
    p.ok(&["up", "-d", "--watch"]);
    assert_eq!(env_in(&p, "web", "GREETING").as_deref(), Some("hello"));
    std::fs::write(p.dir.join("conf/web.env"), "GREETING=bonjour\n").unwrap();
    wait_env(&p, "web", "GREETING", "bonjour", "GREETING=bonjour");
}

#[test]
fn stack_watch_starts_watching_a_running_stack() {
    if !root_or_skip("stack_watch_starts_watching_a_running_stack") {
        return;
    }
    let p = Project::new("e2e-watch-verb", TWO);
    p.ok(&["up", "-d"]);
    assert!(ps_json(&p)["watch"] == false);
    assert!(p.ok(&["ps"]).contains("not watching the file"));
    p.ok(&["watch"]);
    assert!(ps_json(&p)["watch"] == true);
    // Watching twice is fine.
    p.ok(&["watch"]);
    p.write(&TWO.replace("COLOR: red", "COLOR: watched"));
    wait_env(&p, "web", "COLOR", "watched", "COLOR=watched");
    // `down` stops the watcher with the stack.
    let sup = ps_json(&p)["supervisor_pid"].as_i64().unwrap();
    p.ok(&["down", "-t", "1"]);
    wait_for("the supervisor gone", LONG, || {
        !std::path::Path::new(&format!("/proc/{sup}")).exists()
            || std::fs::read_to_string(format!("/proc/{sup}/stat"))
                .is_ok_and(|s| s.contains(") Z "))
    });
    let out = p.run(&["watch"]);
    assert!(!out.status.success(), "watch without a running stack");
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not up"));
}

#[test]
fn foreground_up_watch_prints_each_action() {
    if !root_or_skip("foreground_up_watch_prints_each_action") {
        return;
    }
    let p = Project::new("e2e-watch-fg", TWO);
    let out_path = p.dir.join("fg.out");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = p
        .cmd(&["up", "--watch"])
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let output = || std::fs::read_to_string(&out_path).unwrap_or_default();
    wait_for("web and db running", LONG, || {
        p.run(&["ps", "--format", "json"]).status.success()
            && pid_of(&p, "web").is_some()
            && pid_of(&p, "db").is_some()
    });
    let db = pid_of(&p, "db").unwrap();
    p.write(&TWO.replace("COLOR: red", "COLOR: fg"));
    wait_for("the recreate line on the terminal", LONG, || {
        output()
            .lines()
            .any(|l| l.starts_with("recreate web:") && l.contains("fg"))
    });
    wait_env(&p, "web", "COLOR", "fg", "COLOR=fg");
    p.write("services: {");
    wait_for("the error on the terminal", LONG, || {
        output().contains(INVALID)
    });
    assert_eq!(pid_of(&p, "db"), Some(db));
    // Ctrl-C stops the stack.
    // SAFETY: kill with a pid we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let deadline = Instant::now() + LONG;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "foreground up did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut rest = String::new();
    let _ = std::fs::File::open(&out_path).and_then(|mut f| f.read_to_string(&mut rest));
    assert!(rest.contains("recreate web"));
}

#[test]
fn develop_watch_sync_and_restart() {
    if !root_or_skip("develop_watch_sync_and_restart") {
        return;
    }
    let yaml = r#"
services:
  app:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    develop:
      watch:
        - { path: ./src, action: sync, target: /app, ignore: ["*.tmp"] }
        - { path: ./conf, action: restart }
"#;
    let p = Project::new("e2e-watch-develop", yaml);
    std::fs::create_dir_all(p.dir.join("src/lib")).unwrap();
    std::fs::create_dir_all(p.dir.join("conf")).unwrap();
    p.ok(&["up", "-d", "--watch"]);
    let cat = |path: &str| {
        let out = p.run(&["exec", "-T", "app", "cat", path]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let pid = pid_of(&p, "app").unwrap();
    // Sync: a new file, a nested one, a change, a delete.
    std::fs::write(p.dir.join("src/hello.txt"), "one\n").unwrap();
    std::fs::write(p.dir.join("src/lib/x.txt"), "nested\n").unwrap();
    wait_for("hello.txt synced", LONG, || {
        cat("/app/hello.txt").as_deref() == Some("one\n")
    });
    wait_for("lib/x.txt synced", LONG, || {
        cat("/app/lib/x.txt").as_deref() == Some("nested\n")
    });
    std::fs::write(p.dir.join("src/hello.txt"), "two\n").unwrap();
    wait_for("hello.txt updated", LONG, || {
        cat("/app/hello.txt").as_deref() == Some("two\n")
    });
    std::fs::remove_file(p.dir.join("src/hello.txt")).unwrap();
    wait_for("hello.txt removed", LONG, || {
        cat("/app/hello.txt").is_none()
    });
    assert_eq!(pid_of(&p, "app"), Some(pid), "sync must not restart");
    // An ignored file is not copied (a later one is, so the first was seen).
    std::fs::write(p.dir.join("src/skip.tmp"), "no\n").unwrap();
    std::fs::write(p.dir.join("src/after.txt"), "yes\n").unwrap();
    wait_for("after.txt synced", LONG, || {
        cat("/app/after.txt").as_deref() == Some("yes\n")
    });
    assert!(cat("/app/skip.tmp").is_none(), "ignored file was synced");
    // Restart: a change under ./conf restarts the service.
    std::fs::write(p.dir.join("conf/app.conf"), "x=1\n").unwrap();
    wait_for("app restarted", LONG, || {
        pid_of(&p, "app").is_some_and(|n| n != pid)
    });
}

#[test]
fn dependents_restart_per_depends_on_restart() {
    if !root_or_skip("dependents_restart_per_depends_on_restart") {
        return;
    }
    let yaml = r#"
services:
  db:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    environment: { VERSION: "1" }
    stop_grace_period: 1s
  api:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    depends_on: { db: { condition: service_started, restart: true } }
  worker:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    depends_on: { db: { condition: service_started } }
"#;
    let p = Project::new("e2e-watch-deps", yaml);
    p.ok(&["up", "-d", "--watch"]);
    let (db, api, worker) = (
        pid_of(&p, "db").unwrap(),
        pid_of(&p, "api").unwrap(),
        pid_of(&p, "worker").unwrap(),
    );
    p.write(&yaml.replace("VERSION: \"1\"", "VERSION: \"2\""));
    wait_env(&p, "db", "VERSION", "2", "db recreated");
    assert_ne!(pid_of(&p, "db"), Some(db));
    // `restart: true`: api follows db; worker (no restart) keeps running.
    wait_for("api restarted", LONG, || {
        pid_of(&p, "api").is_some_and(|a| a != api)
    });
    assert_eq!(pid_of(&p, "worker"), Some(worker));
}

#[test]
fn develop_watch_sync_then_restart() {
    if !root_or_skip("develop_watch_sync_then_restart") {
        return;
    }
    let yaml = r#"
services:
  app:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    stop_grace_period: 1s
    develop:
      watch:
        - { path: ./src, action: sync+restart, target: /app }
"#;
    let p = Project::new("e2e-watch-syncrestart", yaml);
    std::fs::create_dir_all(p.dir.join("src")).unwrap();
    p.ok(&["up", "-d", "--watch"]);
    let pid = pid_of(&p, "app").unwrap();
    std::fs::write(p.dir.join("src/conf.txt"), "v1\n").unwrap();
    wait_for("app restarted", LONG, || {
        pid_of(&p, "app").is_some_and(|n| n != pid)
    });
    // The restarted container has the synced file.
    let out = p.ok(&["exec", "-T", "app", "cat", "/app/conf.txt"]);
    assert_eq!(out, "v1\n");
}
