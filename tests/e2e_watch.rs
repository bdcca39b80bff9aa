//! End-to-end `up --watch`: a saved change is applied, an invalid save
//! changes nothing. Real binary, as root.

mod common;

use std::time::{Duration, Instant};

use common::{root_or_skip, Project};

fn ps_json(p: &Project) -> serde_json::Value {
    serde_json::from_str(&p.ok(&["ps", "--format", "json"])).unwrap()
}

fn pid_of(p: &Project, svc: &str) -> Option<i64> {
    ps_json(p)["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["service"] == svc && c["status"] == "running")
        .and_then(|c| c["pid"].as_i64())
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

const FILE: &str = r#"
services:
  web:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    environment: { COLOR: red }
  db:
    rootfs: {busybox}
    command: ["sleep", "1000"]
"#;

#[test]
fn watched_file_changes_are_applied() {
    if !root_or_skip("watched_file_changes") {
        return;
    }
    let p = Project::new("e2e-watch", FILE);
    p.ok(&["up", "-d", "--watch"]);
    assert!(ps_json(&p)["watch"] == true);
    assert!(p.ok(&["ps"]).contains("watching the file"));
    let (web, db) = (pid_of(&p, "web").unwrap(), pid_of(&p, "db").unwrap());
    // An invalid save touches nothing.
    p.write("services: [this is: not valid");
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(pid_of(&p, "web"), Some(web));
    // A valid one recreates only what changed.
    p.write(&FILE.replace("COLOR: red", "COLOR: blue"));
    wait_for("web recreated", Duration::from_secs(10), || {
        pid_of(&p, "web").is_some_and(|w| w != web)
    });
    assert_eq!(pid_of(&p, "db"), Some(db));
    let env = p.ok(&["exec", "-T", "web", "sh", "-c", "echo $COLOR"]);
    assert_eq!(env.trim(), "blue");
}
