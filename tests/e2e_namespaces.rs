//! `ipc` and `pid` at run time: whose namespaces a container is in, that
//! `/dev/shm` is shared with the IPC namespace, that a container sharing a
//! PID namespace leaves nothing behind and kills nothing of others, and
//! that a hostile peer's `/dev/shm` cannot lead the joiner outside it.
//! Real binary, real containers, as root.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::time::Duration;

use common::{
    alive, assert_nothing_left, container, ps_json, root_or_skip, text, wait_for, Project,
};

const SLEEP: &str = "rootfs: {busybox}\n    command: [sleep, '1000']";

fn ns(p: &Project, svc: &str, kind: &str) -> String {
    p.ok(&[
        "exec",
        "-T",
        svc,
        "readlink",
        &format!("/proc/self/ns/{kind}"),
    ])
    .trim()
    .to_string()
}

fn host_ns(kind: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{kind}"))
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn ipc_modes_share_the_namespace_and_dev_shm() {
    if !root_or_skip("ipc_modes_share_the_namespace_and_dev_shm") {
        return;
    }
    let p = Project::new(
        "e2e-ns-ipc",
        &format!("services:\n  a:\n    {SLEEP}\n  b:\n    {SLEEP}\n    ipc: service:a\n  own:\n    {SLEEP}\n    ipc: private\n  host:\n    {SLEEP}\n    ipc: host\n"),
    );
    p.ok(&["up", "-d"]);
    let a = ns(&p, "a", "ipc");
    assert!(a.starts_with("ipc:["), "{a}");
    assert_eq!(ns(&p, "b", "ipc"), a, "b joins a's");
    assert_ne!(ns(&p, "own", "ipc"), a);
    assert_ne!(ns(&p, "own", "ipc"), host_ns("ipc"));
    assert_eq!(ns(&p, "host", "ipc"), host_ns("ipc"));
    // POSIX shared memory lives in /dev/shm: shared along.
    p.ok(&["exec", "-T", "a", "sh", "-c", "echo from-a > /dev/shm/seg"]);
    assert_eq!(
        p.ok(&["exec", "-T", "b", "cat", "/dev/shm/seg"]).trim(),
        "from-a"
    );
    let o = p.run(&["exec", "-T", "own", "cat", "/dev/shm/seg"]);
    assert!(!o.status.success(), "own /dev/shm: {}", text(&o));
    // The host's /dev/shm, as Docker binds it for ipc: host.
    let mark = format!("stack-e2e-ipc-{}", std::process::id());
    std::fs::write(format!("/dev/shm/{mark}"), "host\n").unwrap();
    let got = p.run(&["exec", "-T", "host", "cat", &format!("/dev/shm/{mark}")]);
    let _ = std::fs::remove_file(format!("/dev/shm/{mark}"));
    assert_eq!(text(&got).trim(), "host");
    p.ok(&["down", "-t", "1"]);
    assert_nothing_left(&p);
}

#[test]
fn a_hostile_peer_cannot_redirect_the_shared_dev_shm() {
    if !root_or_skip("a_hostile_peer_cannot_redirect_the_shared_dev_shm") {
        return;
    }
    // A privileged peer writes a file, then swaps its /dev/shm for a
    // symlink pointing up and out. The joiner's /dev/shm is the host
    // tmpfs they share, not where the symlink leads.
    let p = Project::new(
        "e2e-ns-shm-escape",
        "services:\n  a:\n    rootfs: {busybox}\n    privileged: true\n    command: [sh, -c, 'echo before > /dev/shm/f && umount /dev/shm && rmdir /dev/shm && ln -s ../../../../.. /dev/shm && sleep 1000']\n    healthcheck: { test: [CMD, test, -L, /dev/shm], interval: 100ms, retries: 50 }\n  b:\n    rootfs: {busybox}\n    command: [sleep, '1000']\n    ipc: service:a\n    depends_on: { a: { condition: service_healthy } }\n",
    );
    p.ok(&["up", "-d"]);
    assert_eq!(
        p.ok(&["exec", "-T", "b", "cat", "/dev/shm/f"]).trim(),
        "before"
    );
    let o = p.run(&["exec", "-T", "b", "ls", "/dev/shm/"]);
    assert_eq!(text(&o).trim(), "f", "b sees the shared tmpfs only");
    let mounts = p.ok(&["exec", "-T", "b", "cat", "/proc/mounts"]);
    let shm = mounts
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("/dev/shm"))
        .unwrap_or_else(|| panic!("{mounts}"));
    assert!(
        shm.starts_with("shm /dev/shm tmpfs") && shm.contains("nosuid,nodev,noexec"),
        "{shm}"
    );
    p.ok(&["down", "-t", "1"]);
    assert_nothing_left(&p);
}

#[test]
fn pid_host_and_service_share_and_clean_up_only_their_own() {
    if !root_or_skip("pid_host_and_service_share_and_clean_up_only_their_own") {
        return;
    }
    // A host process the containers must not touch.
    let mut bystander = std::process::Command::new("sleep")
        .arg("1000")
        .spawn()
        .unwrap();
    let by = bystander.id() as i64;
    let p = Project::new(
        "e2e-ns-pid",
        &format!("services:\n  a:\n    {SLEEP}\n  b:\n    {SLEEP}\n    pid: service:a\n  host:\n    rootfs: {{busybox}}\n    pid: host\n    command: [sh, -c, 'sleep 1000 & sleep 1000 & touch /tmp/ready; sleep 1; exit 3']\n    restart: 'no'\n"),
    );
    p.ok(&["up", "-d"]);
    let a = ns(&p, "a", "pid");
    assert_eq!(ns(&p, "b", "pid"), a, "b joins a's");
    assert_ne!(a, host_ns("pid"));
    // b sees a's processes: a's sleep is pid 2 or more under a's pid 1.
    let procs = p.ok(&["exec", "-T", "b", "ps", "-o", "pid,args"]);
    assert!(
        procs.lines().filter(|l| l.contains("sleep 1000")).count() >= 2,
        "{procs}"
    );

    // `host` sees the bystander, and when its command exits its init
    // kills its own background sleeps (its cgroup), not the bystander.
    let cg_host = |f: &str| {
        ["/sys/fs/cgroup/pids", "/sys/fs/cgroup"]
            .iter()
            .map(|r| {
                std::path::PathBuf::from(r)
                    .join("stack/e2e-ns-pid/host")
                    .join(f)
            })
            .find(|p| p.exists())
    };
    wait_for("host to exit", Duration::from_secs(10), || {
        container(&ps_json(&p), "host")["state"] != "running"
    });
    let ps = ps_json(&p);
    assert_eq!(container(&ps, "host")["exit_code"], 3, "{ps}");
    if let Some(procs) = cg_host("cgroup.procs") {
        let left = std::fs::read_to_string(&procs).unwrap_or_default();
        assert!(left.trim().is_empty(), "left in its cgroup: {left}");
    }
    assert!(alive(by), "the bystander was killed");
    let a_pid = common::pid_of(&p, "a");
    assert!(alive(a_pid), "a was killed");
    p.ok(&["down", "-t", "1"]);
    assert_nothing_left(&p);
    assert!(alive(by), "the bystander was killed by down");
    let _ = bystander.kill();
    let _ = bystander.wait();
}
