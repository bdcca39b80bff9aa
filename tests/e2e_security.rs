//! The security keys at run time: `devices:`, `shm_size`, tmpfs sizes,
//! `privileged`, `security_opt` (a seccomp profile file, `unconfined`,
//! `no-new-privileges`), and that `stack exec` and health probes run under
//! the container's own filter. The attacks themselves are in e2e_escape.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use common::{container, ps_json, root_or_skip, text, Project};

/// `stack exec SERVICE sh -c SCRIPT`: (exit code, stdout + stderr).
fn sh(p: &Project, svc: &str, script: &str) -> (i32, String) {
    let o = p.run(&["exec", svc, "sh", "-c", script]);
    (o.status.code().unwrap_or(-1), text(&o))
}

#[test]
fn devices_shm_and_tmpfs_sizes_apply() {
    if !root_or_skip("devices_shm_and_tmpfs_sizes_apply") {
        return;
    }
    // A character device outside runc's default list that root may open
    // for reading without any capability (the v2 guest's /dev is small).
    let (dev, nums) = [
        ("/dev/fuse", "10, 229"),
        ("/dev/loop-control", "10, 237"),
        ("/dev/vcs", "7, 0"),
        ("/dev/tty0", "4, 0"),
    ]
    .into_iter()
    .find(|(d, _)| std::fs::File::open(d).is_ok())
    .expect("none of /dev/fuse, /dev/loop-control, /dev/vcs, /dev/tty0 opens on this host");
    let p = Project::new(
        "sec-devices",
        &r#"
services:
  box:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    devices: ["DEV:/dev/passed:r"]
    shm_size: 128M
    mem_limit: 48M
    tmpfs: ["/run:size=1m,mode=0755", "/scratch"]
  plain:
    rootfs: {busybox}
    command: ["sleep", "1000"]
"#
        .replace("DEV", dev),
    );
    p.ok(&["up", "-d"]);
    // Passed through read-only: reading opens, writing is refused by the
    // device cgroup (the node is there with the host's numbers).
    let (code, out) = sh(
        &p,
        "box",
        "ls -l /dev/passed; dd if=/dev/passed of=/dev/null bs=1 count=0 && echo read-ok; \
         echo x > /dev/passed || echo write-refused",
    );
    assert_eq!(code, 0, "{out}");
    // `ls -l` pads the numbers: compare with the spaces squeezed.
    let squeezed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(squeezed.contains(nums), "{out}");
    assert!(
        out.contains("read-ok") && out.contains("write-refused"),
        "{out}"
    );
    // Not passed through: the same node made by hand cannot be opened.
    let mk = format!(
        "mknod /dev/k c {} && dd if=/dev/k of=/dev/null bs=1 count=0 && echo OPENED; true",
        nums.replace(", ", " ")
    );
    let (_, out) = sh(&p, "plain", &mk);
    assert!(
        !out.contains("OPENED") && out.contains("Operation not permitted"),
        "{out}"
    );
    let (_, mounts) = sh(&p, "box", "cat /proc/mounts");
    let line = |target: &str| {
        mounts
            .lines()
            .find(|l| l.split(' ').nth(1) == Some(target))
            .unwrap_or_else(|| panic!("no {target} in {mounts}"))
            .to_string()
    };
    assert!(line("/dev/shm").contains("size=131072k"), "{mounts}");
    let run = line("/run");
    assert!(
        run.contains("size=1024k") && run.contains("mode=755"),
        "{run}"
    );
    // No size given: the container's memory limit.
    assert!(line("/scratch").contains("size=49152k"), "{mounts}");
    // The overlay root and /dev/shm are nodev; /dev is not.
    assert!(line("/").contains("nodev"), "{mounts}");
    assert!(!line("/dev").contains("nodev"), "{mounts}");
    // Docker's default /dev/shm without shm_size.
    let (_, plain) = sh(&p, "plain", "grep ' /dev/shm ' /proc/mounts");
    assert!(plain.contains("size=65536k"), "{plain}");
}

#[test]
fn a_missing_device_fails_up_with_a_sentence_and_leaves_nothing() {
    if !root_or_skip("a_missing_device_fails_up") {
        return;
    }
    let p = Project::new(
        "sec-nodev",
        r#"
services:
  box:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    devices: ["/dev/stack-no-such-device"]
"#,
    );
    let out = p.run(&["up", "-d"]);
    assert!(!out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("box") && t.contains("/dev/stack-no-such-device"),
        "{t}"
    );
    for root in std::fs::read_dir("/sys/fs/cgroup").unwrap() {
        let dir = root.unwrap().path().join("stack").join(&p.name).join("box");
        assert!(
            !dir.exists(),
            "cgroup made for a container that never started: {}",
            dir.display()
        );
    }
}

#[test]
fn privileged_shows_in_config_and_ps_and_drops_what_cap_drop_says() {
    if !root_or_skip("privileged_shows_in_config_and_ps") {
        return;
    }
    let p = Project::new(
        "sec-priv",
        r#"
services:
  root:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    privileged: true
    cap_drop: [NET_RAW]
  plain:
    rootfs: {busybox}
    command: ["sleep", "1000"]
"#,
    );
    let config = p.ok(&["config"]);
    assert!(config.contains("privileged: true"), "{config}");
    p.ok(&["up", "-d"]);
    let ps = ps_json(&p);
    assert_eq!(container(&ps, "root")["privileged"], true, "{ps:#}");
    assert_eq!(container(&ps, "plain")["privileged"], false, "{ps:#}");
    let (_, st) = sh(&p, "root", "grep -E '^(CapEff|Seccomp):' /proc/self/status");
    let eff = st
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
        .unwrap();
    assert_eq!(eff & (1 << 13), 0, "NET_RAW dropped: {st}");
    assert_ne!(eff & (1 << 21), 0, "SYS_ADMIN kept: {st}");
    assert!(
        st.contains("Seccomp:\t0"),
        "no filter when privileged: {st}"
    );
    // /sys and /proc/sys are writable, nothing is masked.
    let (_, mounts) = sh(
        &p,
        "root",
        "grep -E ' /sys | /proc/sys | /proc/kcore ' /proc/mounts",
    );
    assert!(
        !mounts.contains(" /proc/sys ") && !mounts.contains("/sys sysfs ro"),
        "{mounts}"
    );
}

#[test]
fn a_seccomp_profile_file_binds_the_command_exec_and_probes() {
    if !root_or_skip("a_seccomp_profile_file_binds_the_command_exec_and_probes") {
        return;
    }
    let p = Project::new("sec-profile", "services: {}\n");
    // A deny-list: everything but mkdir/mkdirat.
    std::fs::write(
        p.dir.join("no-mkdir.json"),
        r#"{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13 }
  ]
}
"#,
    )
    .unwrap();
    p.write(
        r#"
services:
  box:
    rootfs: {busybox}
    command: ["sh", "-c", "mkdir /from-command 2>/tmp/err; sleep 1000"]
    security_opt: ["seccomp=./no-mkdir.json", "no-new-privileges:false"]
    healthcheck:
      test: ["CMD", "sh", "-c", "! mkdir /from-probe"]
      interval: 200ms
      retries: 1
  open:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    security_opt: ["seccomp=unconfined"]
  default:
    rootfs: {busybox}
    command: ["sleep", "1000"]
"#,
    );
    let out = p.run(&["up", "-d", "--wait", "--wait-timeout", "30"]);
    assert!(out.status.success(), "{}", text(&out));
    // The probe could not mkdir either: healthy means refused.
    assert_eq!(container(&ps_json(&p), "box")["health"], "healthy");
    let (_, err) = sh(
        &p,
        "box",
        "cat /tmp/err; ls -d /from-command /from-probe 2>&1",
    );
    assert!(err.contains("Permission denied"), "the command: {err}");
    assert!(
        err.contains("/from-command: No such file") && err.contains("/from-probe: No such file"),
        "{err}"
    );
    let (code, out) = sh(&p, "box", "mkdir /from-exec");
    assert_ne!(code, 0, "exec runs under the container's filter: {out}");
    assert!(out.contains("Permission denied"), "{out}");
    // no-new-privileges:false reaches the command and exec.
    let (_, st) = sh(
        &p,
        "box",
        "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status",
    );
    assert!(
        st.contains("NoNewPrivs:\t0") && st.contains("Seccomp:\t2"),
        "{st}"
    );
    let (_, st) = sh(
        &p,
        "open",
        "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status",
    );
    assert!(
        st.contains("NoNewPrivs:\t1") && st.contains("Seccomp:\t0"),
        "{st}"
    );
    // Docker's default profile on the default service: its command (pid 2
    // under stack's init) is filtered, and so is exec.
    let (_, st) = sh(
        &p,
        "default",
        "grep Seccomp: /proc/2/status /proc/self/status",
    );
    assert_eq!(st.matches("Seccomp:\t2").count(), 2, "{st}");
}

#[test]
fn ps_shows_pressure_stall_information_on_v2_only() {
    if !root_or_skip("ps_shows_pressure_stall_information_on_v2_only") {
        return;
    }
    let p = Project::new(
        "sec-psi",
        r#"
services:
  box:
    rootfs: {busybox}
    command: ["sleep", "1000"]
"#,
    );
    p.ok(&["up", "-d"]);
    let ps = ps_json(&p);
    let c = container(&ps, "box");
    let pure_v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let psi = std::path::Path::new("/proc/pressure/cpu").exists();
    if pure_v2 && psi {
        for r in ["cpu", "memory", "io"] {
            assert!(c["pressure"][r]["some"]["avg10"].is_number(), "{r}: {c:#}");
        }
        assert!(
            c["pressure"]["memory"]["full"]["total_us"].is_u64(),
            "{c:#}"
        );
    } else {
        // v1 has no pressure files per cgroup.
        assert!(c.get("pressure").is_none(), "{c:#}");
    }
}
