//! End-to-end isolation, limits and root filesystem sources, through the
//! real binary (issue 3's test list): what one container can see and do to
//! another, the memory/pids/cpu limits, and tarball and host-binary roots.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{busybox_rootfs, container, pid_of, ps_json, root_or_skip, text, wait_for, Project};

/// The cola-wars pair on busybox: each sleeps in its own namespaces.
const COLA: &str = r#"
services:
  cocacola:
    rootfs: {busybox}
    command: ["sleep", "1000"]
  pepsi:
    rootfs: {busybox}
    command: ["sleep", "1000"]
"#;

#[test]
fn pepsi_cannot_see_or_kill_cocacola() {
    if !root_or_skip("pepsi_cannot_see_or_kill_cocacola") {
        return;
    }
    let p = Project::new("e2e-iso-cola", COLA);
    p.ok(&["up", "-d"]);
    let coke = pid_of(&p, "cocacola");

    // Inside pepsi, ps sees init (1), the command (2) and ps itself: nothing else.
    let ps = p.ok(&["exec", "-T", "pepsi", "ps", "-o", "pid,comm"]);
    let pids: Vec<&str> = ps
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert!(pids.len() <= 3, "pepsi sees more than itself:\n{ps}");
    assert!(ps.contains("sleep"), "{ps}");
    assert!(!ps.contains(&format!(" {coke} ")), "{ps}");

    // cocacola's host pid does not exist in pepsi's pid namespace.
    let out = p.run(&["exec", "-T", "pepsi", "kill", "-9", &coke.to_string()]);
    assert!(
        !out.status.success(),
        "kill of cocacola succeeded: {}",
        text(&out)
    );
    assert!(common::alive(coke), "cocacola died");
    assert_eq!(container(&ps_json(&p), "cocacola")["status"], "running");

    // Own hostname, read-only /proc/sys, masked /proc paths.
    assert_eq!(p.ok(&["exec", "-T", "pepsi", "hostname"]).trim(), "pepsi");
    let out = p.run(&[
        "exec",
        "-T",
        "pepsi",
        "sh",
        "-c",
        "echo 1 > /proc/sys/kernel/panic",
    ]);
    assert!(
        !out.status.success(),
        "/proc/sys is writable: {}",
        text(&out)
    );
    let keys = p.ok(&[
        "exec",
        "-T",
        "pepsi",
        "sh",
        "-c",
        "cat /proc/keys /proc/timer_list 2>/dev/null | wc -c",
    ]);
    assert_eq!(keys.trim(), "0", "masked /proc paths show content");
    let kcore = p.ok(&[
        "exec",
        "-T",
        "pepsi",
        "sh",
        "-c",
        "cat /proc/kcore 2>/dev/null | wc -c",
    ]);
    assert_eq!(kcore.trim(), "0", "/proc/kcore readable");

    // Writing to / goes to the container's own layer, not the shared source.
    p.ok(&[
        "exec",
        "-T",
        "pepsi",
        "sh",
        "-c",
        "echo x > /written && rm /bin/true",
    ]);
    assert!(!busybox_rootfs().join("written").exists());
    assert!(busybox_rootfs().join("bin/true").symlink_metadata().is_ok());
    let other = p.run(&["exec", "-T", "cocacola", "ls", "/written"]);
    assert!(!other.status.success(), "cocacola sees pepsi's file");
    p.ok(&["down"]);
    common::assert_nothing_left(&p);
}

#[test]
fn pids_limit_stops_a_fork_bomb_and_the_stack_survives() {
    if !root_or_skip("pids_limit_stops_a_fork_bomb") {
        return;
    }
    let p = Project::new(
        "e2e-iso-bomb",
        r#"
services:
  calm:
    rootfs: {busybox}
    command: ["sleep", "1000"]
  bomb:
    rootfs: {busybox}
    command: ["sh", "-c", "b() { b | b & }; b; sleep 1000"]
    deploy: { resources: { limits: { pids: 16 } } }
"#,
    );
    p.ok(&["up", "-d"]);
    let calm = pid_of(&p, "calm");
    let pids_max = find_cgroup_file(&p, "bomb", "pids", "pids.max");
    assert_eq!(std::fs::read_to_string(&pids_max).unwrap().trim(), "16");
    // The bomb keeps hitting the limit (fork fails, `max` counts up) while
    // the cgroup never holds more than 16 tasks.
    let events = pids_max.with_file_name("pids.events");
    let refused = || {
        std::fs::read_to_string(&events)
            .unwrap_or_default()
            .trim()
            .strip_prefix("max ")
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    wait_for("the bomb to hit its limit", Duration::from_secs(20), || {
        refused() > 0
    });
    let peak = pids_max.with_file_name("pids.peak");
    if peak.exists() {
        assert!(read_u64(&peak) <= 16, "pids.peak above the limit");
    }
    assert!(read_u64(&pids_max.with_file_name("pids.current")) <= 16);
    // The rest of the stack and the tool still work.
    assert_eq!(pid_of(&p, "calm"), calm);
    assert_eq!(
        p.ok(&["exec", "-T", "calm", "echo", "alive"]).trim(),
        "alive"
    );
    p.ok(&["down", "-t", "1"]);
    common::assert_nothing_left(&p);
}

#[test]
fn cpus_limit_holds_a_busy_loop_near_its_share() {
    if !root_or_skip("cpus_limit_holds_a_busy_loop") {
        return;
    }
    let p = Project::new(
        "e2e-iso-cpu",
        r#"
services:
  spin:
    rootfs: {busybox}
    command: ["sh", "-c", "while :; do :; done"]
    cpus: 0.1
"#,
    );
    p.ok(&["up", "-d"]);
    let cpu = |p: &Project| container(&ps_json(p), "spin")["cpu_ns"].as_u64().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let (t0, c0) = (Instant::now(), cpu(&p));
    std::thread::sleep(Duration::from_secs(2));
    let (t1, c1) = (Instant::now(), cpu(&p));
    let share = (c1 - c0) as f64 / (t1 - t0).as_nanos() as f64;
    // 10% of one core; generous tolerance for a loaded 2-core machine.
    assert!(
        (0.03..=0.2).contains(&share),
        "busy loop used {share:.3} of a core"
    );
    p.ok(&["down", "-t", "1"]);
    common::assert_nothing_left(&p);
}

#[test]
fn tarball_and_host_binary_roots() {
    if !root_or_skip("tarball_and_host_binary_roots") {
        return;
    }
    let p = Project::new("e2e-iso-roots", "services: {}\n");
    // A gzipped tarball of the busybox rootfs, as `docker export` would give.
    let tgz = p.dir.join("bb.tar.gz");
    let f = std::fs::File::create(&tgz).unwrap();
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
        f,
        flate2::Compression::fast(),
    ));
    b.follow_symlinks(false);
    b.append_dir_all(".", busybox_rootfs()).unwrap();
    b.into_inner().unwrap().finish().unwrap();
    p.write(
        r#"
services:
  fromtar:
    rootfs: ./bb.tar.gz
    command: ["sh", "-c", "echo from-tarball; exec sleep 1000"]
  fromhost:
    rootfs: { host: [/bin/sh, /bin/cat, /bin/sleep] }
    command: ["/bin/sh", "-c", "echo from-host; exec /bin/sleep 1000"]
"#,
    );
    p.ok(&["up", "-d"]);
    wait_for("both outputs", Duration::from_secs(20), || {
        let logs = p.ok(&["logs"]);
        logs.contains("from-tarball") && logs.contains("from-host")
    });
    assert_eq!(
        p.ok(&["exec", "-T", "fromhost", "/bin/cat", "/etc/passwd"])
            .lines()
            .next()
            .unwrap()
            .split(':')
            .next(),
        Some("root")
    );
    p.ok(&["down", "-t", "1"]);
    common::assert_nothing_left(&p);

    // A tarball whose entry climbs out of the root is refused, by name.
    let evil = p.dir.join("evil.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&evil).unwrap());
    let mut h = tar::Header::new_gnu();
    h.set_size(1);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    // set_path refuses "..", so write the raw name.
    h.as_old_mut().name[..13].copy_from_slice(b"../escaped-it");
    h.set_cksum();
    b.append(&h, &b"x"[..]).unwrap();
    b.into_inner().unwrap();
    p.write("services:\n  bad:\n    rootfs: ./evil.tar\n    command: [\"true\"]\n");
    let out = p.run(&["up", "-d"]);
    assert!(!out.status.success(), "an escaping tarball was accepted");
    assert!(text(&out).contains("../escaped-it"), "{}", text(&out));
    assert!(!p.dir.join("escaped-it").exists());
    assert!(!Path::new(&p.state).join("escaped-it").exists());
}

/// `<hierarchy>/stack/<project>/<service>/<file>`, v1 first, then v2.
fn find_cgroup_file(p: &Project, svc: &str, controller: &str, file: &str) -> std::path::PathBuf {
    for root in [
        format!("/sys/fs/cgroup/{controller}"),
        "/sys/fs/cgroup".into(),
    ] {
        let f = Path::new(&root)
            .join("stack")
            .join(&p.name)
            .join(svc)
            .join(file);
        if f.exists() {
            return f;
        }
    }
    panic!("no {file} for {svc}");
}

fn read_u64(f: &Path) -> u64 {
    std::fs::read_to_string(f)
        .map(|s| s.trim().parse().unwrap_or(0))
        .unwrap_or(0)
}
