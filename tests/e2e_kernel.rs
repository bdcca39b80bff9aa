//! End-to-end for the keys by which a service meets the kernel (issue 13,
//! item 7): namespaced sysctls, `group_add`, `oom_score_adj`, the CFS
//! period and quota, `mem_swappiness`. Real binary, real containers, as
//! root; each value read back where the kernel keeps it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use common::{assert_nothing_left, pid_of, root_or_skip, text, Project};

fn host_sysctl(name: &str) -> String {
    std::fs::read_to_string(format!("/proc/sys/{}", name.replace('.', "/")))
        .unwrap()
        .trim()
        .to_string()
}

/// The directory of `pid`'s cgroup for `controller` (v2: the one line).
fn cgroup_dir(pid: i64, controller: &str) -> std::path::PathBuf {
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    for line in cg.lines() {
        let mut f = line.splitn(3, ':');
        let (_, ctrls, path) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        if v2 && ctrls.is_empty() {
            return format!("/sys/fs/cgroup{path}").into();
        }
        if !v2 && ctrls.split(',').any(|c| c == controller) {
            return format!("/sys/fs/cgroup/{ctrls}{path}").into();
        }
    }
    panic!("no {controller} cgroup for {pid} in {cg}");
}

fn read(p: std::path::PathBuf) -> String {
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .trim()
        .to_string()
}

#[test]
fn sysctls_groups_oom_score_and_cfs_reach_the_container_and_not_the_host() {
    if !root_or_skip("sysctls_groups_oom_score_and_cfs_reach_the_container_and_not_the_host") {
        return;
    }
    let (somaxconn, shmmni) = (
        host_sysctl("net.core.somaxconn"),
        host_sysctl("kernel.shmmni"),
    );
    let p = Project::new(
        "e2e-kernel",
        "services:\n  app:\n    rootfs: {busybox}\n    command: [sleep, '1000']\n    sysctls: { net.core.somaxconn: 1111, kernel.shmmni: '1234' }\n    group_add: [nogroup, '4242']\n    oom_score_adj: 345\n    cpu_period: 50000\n    cpu_quota: 25000\n    deploy: { resources: { reservations: { cpus: '0.5' } } }\n",
    );
    p.ok(&["up", "-d"]);
    let sh = |cmd: &str| text(&p.run(&["exec", "-T", "app", "sh", "-c", cmd]));
    assert_eq!(sh("cat /proc/sys/net/core/somaxconn").trim(), "1111");
    assert_eq!(sh("cat /proc/sys/kernel/shmmni").trim(), "1234");
    assert_eq!(
        host_sysctl("net.core.somaxconn"),
        somaxconn,
        "the host's stays"
    );
    assert_eq!(host_sysctl("kernel.shmmni"), shmmni, "the host's stays");
    // The command (the init's child) and an exec'd command alike.
    let init = pid_of(&p, "app");
    let cmd_pid: i64 = read(format!("/proc/{init}/task/{init}/children").into())
        .split_whitespace()
        .next()
        .expect("the command runs")
        .parse()
        .unwrap();
    let status = read(format!("/proc/{cmd_pid}/status").into());
    let groups = status.lines().find(|l| l.starts_with("Groups:")).unwrap();
    assert!(
        groups.contains("4242") && groups.contains("65534"),
        "{groups}"
    );
    assert_eq!(read(format!("/proc/{cmd_pid}/oom_score_adj").into()), "345");
    let ids = sh("id -G");
    assert!(ids.contains("4242") && ids.contains("65534"), "exec: {ids}");
    assert_eq!(sh("cat /proc/self/oom_score_adj").trim(), "345", "exec");
    let cpu = cgroup_dir(cmd_pid, "cpu");
    if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        assert_eq!(read(cpu.join("cpu.max")), "25000 50000");
        // 0.5 CPU reserved: 512 shares, v2's weight for them.
        assert_eq!(read(cpu.join("cpu.weight")), "20");
    } else {
        assert_eq!(read(cpu.join("cpu.cfs_period_us")), "50000");
        assert_eq!(read(cpu.join("cpu.cfs_quota_us")), "25000");
        assert_eq!(read(cpu.join("cpu.shares")), "512", "0.5 CPU reserved");
    }
    p.ok(&["down", "-t", "1"]);
    assert_nothing_left(&p);
}

#[test]
fn mem_swappiness_is_set_on_v1_and_refused_by_name_on_v2() {
    if !root_or_skip("mem_swappiness_is_set_on_v1_and_refused_by_name_on_v2") {
        return;
    }
    let p = Project::new(
        "e2e-kernel-swap",
        "services:\n  app:\n    rootfs: {busybox}\n    command: [sleep, '1000']\n    mem_swappiness: 7\n",
    );
    let out = p.run(&["up", "-d"]);
    if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        assert!(!out.status.success());
        let t = text(&out);
        assert!(t.contains("`mem_swappiness` needs cgroup v1"), "{t}");
    } else {
        assert!(out.status.success(), "{}", text(&out));
        let dir = cgroup_dir(pid_of(&p, "app"), "memory");
        assert_eq!(read(dir.join("memory.swappiness")), "7");
    }
    p.ok(&["down", "-t", "1"]);
    assert_nothing_left(&p);
}

#[test]
fn a_group_the_container_lacks_fails_the_start_with_its_name() {
    if !root_or_skip("a_group_the_container_lacks_fails_the_start_with_its_name") {
        return;
    }
    let p = Project::new(
        "e2e-kernel-group",
        "services:\n  app:\n    rootfs: {busybox}\n    command: [sleep, '1000']\n    group_add: [wheel]\n",
    );
    let out = p.run(&["up", "-d"]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(
        t.contains("group \"wheel\" is not in the container's /etc/group"),
        "{t}"
    );
    p.ok(&["down", "-t", "1"]);
    assert_nothing_left(&p);
}
