//! The container process, driven through the library (`runtime::spawn`) as
//! root on the busybox rootfs: isolation, init, logs, errors, exec.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use stack::runtime::spawn::{self, ExecOptions, Spawned};
use stack::runtime::{ContainerConfig, MountSpec, Network};

fn setup(test: &str) -> bool {
    if !common::root_or_skip(test) {
        return false;
    }
    // STACK_INIT_EXE picks another build (e.g. release, for measuring).
    if std::env::var_os("STACK_INIT_EXE").is_none() {
        spawn::set_init_exe(env!("CARGO_BIN_EXE_stack"));
    }
    true
}

/// A container's files, removed (and its init killed) when dropped.
struct Box_ {
    base: PathBuf,
    cfg: ContainerConfig,
    pid: Option<i32>,
}

impl Box_ {
    fn new(name: &str, argv: &[&str]) -> Box_ {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("rt")
            .join(name);
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        let cfg = ContainerConfig {
            env: vec!["BASE=1".into()],
            ..common::container_config("rt", name, &base, argv)
        };
        Box_ {
            base,
            cfg,
            pid: None,
        }
    }

    fn start(&mut self) -> Result<Spawned, String> {
        self.start_in(&[])
    }

    fn start_in(&mut self, procs: &[PathBuf]) -> Result<Spawned, String> {
        let s = spawn::start(&self.cfg, procs).map_err(|e| e.to_string())?;
        self.pid = Some(s.pid);
        Ok(s)
    }

    /// Wait for the container to end; its exit code.
    fn wait(&mut self) -> i32 {
        let pid = self.pid.take().expect("not started");
        let mut st = 0;
        // SAFETY: waitpid on our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut st, 0) }, pid);
        if libc::WIFEXITED(st) {
            libc::WEXITSTATUS(st)
        } else {
            128 + libc::WTERMSIG(st)
        }
    }

    /// Run to completion; (exit code, stdout lines, stderr lines).
    fn run(&mut self) -> (i32, Vec<String>, Vec<String>) {
        self.start().unwrap_or_else(|e| panic!("start failed: {e}"));
        let code = self.wait();
        let (out, err) = self.logs();
        (code, out, err)
    }

    fn logs(&self) -> (Vec<String>, Vec<String>) {
        let text = std::fs::read_to_string(&self.cfg.log_file).unwrap_or_default();
        let (mut out, mut err) = (vec![], vec![]);
        for l in text.lines() {
            match serde_json::from_str::<serde_json::Value>(l) {
                Ok(v) => {
                    let t = v["time"].as_str().unwrap();
                    assert!(
                        t.len() == 24 && t.ends_with('Z') && t.as_bytes()[19] == b'.',
                        "time {t}"
                    );
                    let line = v["line"].as_str().unwrap().to_string();
                    match v["stream"].as_str().unwrap() {
                        "stdout" => out.push(line),
                        "stderr" => err.push(line),
                        // The init's last line: the command's exit status.
                        "exit" => assert_eq!(Some(l), text.lines().last(), "exit record not last"),
                        s => panic!("stream {s}"),
                    }
                }
                // init: false writes raw lines
                Err(_) => out.push(l.to_string()),
            }
        }
        (out, err)
    }
}

impl Drop for Box_ {
    fn drop(&mut self) {
        if let Some(pid) = self.pid.take() {
            // SAFETY: kill and reap our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
        }
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// Throwaway cgroup directories a test makes by hand, removed when dropped
/// — also when the test fails half-way. Declared before the containers in
/// them, so those (killed on drop) are gone first.
struct TestCgroups(Vec<PathBuf>);

impl TestCgroups {
    fn create(dirs: &[PathBuf]) -> TestCgroups {
        let guard = TestCgroups(dirs.to_vec());
        for d in dirs {
            std::fs::create_dir_all(d).unwrap();
        }
        guard
    }
}

impl Drop for TestCgroups {
    fn drop(&mut self) {
        // rmdir works only once empty; the members may take a moment to go.
        let t = Instant::now();
        for d in self.0.iter().rev() {
            while d.exists()
                && std::fs::remove_dir(d).is_err()
                && t.elapsed() < Duration::from_secs(5)
            {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

fn host_mounts_mention(p: &Path) -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .contains(&p.display().to_string())
}

#[test]
fn output_goes_to_the_log_as_json_lines() {
    if !setup("output_goes_to_the_log_as_json_lines") {
        return;
    }
    let mut b = Box_::new(
        "logs",
        &[
            "sh",
            "-c",
            "echo hello; echo oops >&2; printf 'no newline'; exit 3",
        ],
    );
    let (code, out, err) = b.run();
    assert_eq!(code, 3);
    assert_eq!(out, ["hello", "no newline"]);
    assert_eq!(err, ["oops"]);
    // The init ends the log with the exit status, for a supervisor that
    // is not its parent.
    let log = std::fs::read_to_string(&b.cfg.log_file).unwrap();
    let last: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(
        (last["stream"].as_str(), last["line"].as_str()),
        (Some("exit"), Some("3"))
    );
}

#[test]
fn isolation_pid_hostname_proc_caps() {
    if !setup("isolation_pid_hostname_proc_caps") {
        return;
    }
    let script = "ps -o pid,comm; echo host=$(hostname); \
        echo hi > /x && cat /x; \
        (echo 1 > /proc/sys/vm/drop_caches) 2>/dev/null && echo procsys=rw || echo procsys=ro; \
        echo kcore=$([ -e /proc/kcore ] && wc -c < /proc/kcore || echo absent) keys=$(wc -c < /proc/keys) \
            timers=$(wc -c < /proc/timer_list) acpi=$(ls /proc/acpi | wc -l) fw=$(ls /sys/firmware | wc -l); \
        grep -E '^(Cap|NoNewPrivs)' /proc/self/status; \
        echo env=$BASE:$HOME:$PATH; \
        ls /dev | tr '\\n' ' '; echo; \
        ip link 2>/dev/null | grep -c LOOPBACK,UP; \
        echo fds=$(ls /proc/self/fd | wc -l)";
    let mut b = Box_::new("iso", &["sh", "-c", script]);
    b.cfg.hostname = "box1".into();
    let (code, out, err) = b.run();
    assert_eq!(code, 0, "stderr: {err:?}");
    let pids: Vec<&str> = out
        .iter()
        .skip(1)
        .take_while(|l| !l.starts_with("host="))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    // init is 1, the shell 2, then ps and the $(…) subshells only.
    assert_eq!(pids[0], "1", "{out:?}");
    assert!(out[1].contains("stack-init"), "{out:?}");
    assert!(
        pids.iter().all(|p| p.parse::<u32>().unwrap() < 10),
        "{out:?}"
    );
    assert!(out.contains(&"host=box1".to_string()), "{out:?}");
    assert!(out.contains(&"hi".to_string()), "{out:?}");
    assert!(out.contains(&"procsys=ro".to_string()), "{out:?}");
    // masked: empty files and directories (this kernel may have no kcore)
    let masked = out.iter().find(|l| l.starts_with("kcore=")).unwrap();
    assert!(masked.ends_with("keys=0 timers=0 acpi=0 fw=0"), "{masked}");
    assert!(
        masked.starts_with("kcore=0 ") || masked.starts_with("kcore=absent "),
        "{masked}"
    );
    assert!(out.contains(&"1".to_string()), "loopback not up: {out:?}");
    // Docker's default set, nothing inheritable or ambient.
    for want in [
        "CapInh:\t0000000000000000",
        "CapPrm:\t00000000a80425fb",
        "CapEff:\t00000000a80425fb",
        "CapBnd:\t00000000a80425fb",
        "CapAmb:\t0000000000000000",
        "NoNewPrivs:\t1",
    ] {
        assert!(out.iter().any(|l| l == want), "{want} not in {out:?}");
    }
    assert!(
        out.contains(
            &"env=1:/root:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string()
        ),
        "{out:?}"
    );
    let dev = out.iter().find(|l| l.contains("urandom")).expect("ls /dev");
    for d in [
        "full", "null", "ptmx", "pts", "random", "shm", "tty", "urandom", "zero", "fd", "stdin",
    ] {
        assert!(dev.split(' ').any(|x| x == d), "{d} not in /dev: {dev}");
    }
    // only 0, 1, 2 and the one ls opens
    assert!(out.contains(&"fds=4".to_string()), "{out:?}");
    // the rootfs source is untouched, the write went to the upper layer
    assert!(!common::busybox_rootfs().join("x").exists());
    assert!(b.cfg.bundle.join("upper/x").exists());
    // nothing of the container is mounted on the host
    assert!(!host_mounts_mention(&b.cfg.bundle));
}

#[test]
fn init_false_makes_the_command_pid_1() {
    if !setup("init_false_makes_the_command_pid_1") {
        return;
    }
    let mut b = Box_::new("noinit", &["sh", "-c", "echo pid=$$"]);
    b.cfg.init = false;
    let (code, out, _) = b.run();
    assert_eq!(code, 0);
    assert_eq!(out, ["pid=1"]);
}

#[test]
fn network_none_has_only_loopback_host_sees_the_host() {
    if !setup("network_none_has_only_loopback_host_sees_the_host") {
        return;
    }
    let script = "ls /sys/class/net | tr '\\n' ' '; echo; grep -c ' /sys/fs/cgroup' /proc/self/mountinfo || true";
    let mut b = Box_::new("netnone", &["sh", "-c", script]);
    let (code, out, err) = b.run();
    assert_eq!(code, 0, "{err:?}");
    assert_eq!(out, ["lo ", "0"]);
    let mut b = Box_::new("nethost", &["sh", "-c", script]);
    b.cfg.network = Network::Host;
    let (code, out, err) = b.run();
    assert_eq!(code, 0, "{err:?}");
    let host: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for name in &host {
        assert!(
            out[0].split(' ').any(|x| x == name),
            "{name} not in {out:?}"
        );
    }
    // a fresh sysfs: none of the host's cgroup hierarchies come along
    assert_eq!(out[1], "0");
}

#[test]
fn sigterm_reaches_a_shell_form_command_through_init() {
    if !setup("sigterm_reaches_a_shell_form_command_through_init") {
        return;
    }
    let mut b = Box_::new(
        "term",
        &[
            "sh",
            "-c",
            "trap 'echo got term; exit 7' TERM; echo ready; while :; do sleep 1; done",
        ],
    );
    let s = b.start().unwrap();
    let t = Instant::now();
    while !b.logs().0.contains(&"ready".to_string()) {
        assert!(t.elapsed() < Duration::from_secs(10), "never ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill our own child.
    unsafe { libc::kill(s.pid, libc::SIGTERM) };
    assert_eq!(b.wait(), 7);
    assert!(b.logs().0.contains(&"got term".to_string()));
}

#[test]
fn failures_before_the_command_are_sentences() {
    if !setup("failures_before_the_command_are_sentences") {
        return;
    }
    let mut b = Box_::new("nocmd", &["nginx", "-g", "daemon off;"]);
    let e = b.start().unwrap_err();
    assert_eq!(
        e,
        format!(
            "cannot run \"nginx\": no such file in rootfs {} (looked in /usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin, /bin)",
            common::busybox_rootfs().display()
        )
    );
    let mut b = Box_::new("nouser", &["true"]);
    b.cfg.user = Some("nginx".into());
    let e = b.start().unwrap_err();
    assert!(
        e.starts_with("user \"nginx\" is not in the container's /etc/passwd"),
        "{e}"
    );
    let mut b = Box_::new("badcwd", &["true"]);
    b.cfg.cwd = Some("/etc/passwd".into());
    let e = b.start().unwrap_err();
    assert_eq!(
        e,
        "working_dir \"/etc/passwd\" is not a directory in the container"
    );
    let mut b = Box_::new("noexec", &["/etc/passwd"]);
    let e = b.start().unwrap_err();
    assert!(
        e.starts_with("cannot run \"/etc/passwd\": permission denied"),
        "{e}"
    );
    // the file is there, its interpreter is not
    let mut b = Box_::new("nointerp", &["/bin/script.sh"]);
    std::fs::create_dir_all(b.cfg.bundle.join("upper/bin")).unwrap();
    let script = b.cfg.bundle.join("upper/bin/script.sh");
    std::fs::write(&script, "#!/usr/bin/python9\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let e = b.start().unwrap_err();
    assert!(
        e.starts_with("cannot run \"/bin/script.sh\": /bin/script.sh exists but its interpreter or a shared library it needs is missing"),
        "{e}"
    );
    // the same through `init: false`, where the init execs the command itself
    let mut b = Box_::new("noexec1", &["/etc/passwd"]);
    b.cfg.init = false;
    let e = b.start().unwrap_err();
    assert!(
        e.starts_with("cannot run \"/etc/passwd\": permission denied"),
        "{e}"
    );
    let mut b = Box_::new("ulimit", &["true"]);
    b.cfg.rlimits = vec![("nofile".into(), 1 << 30, 1 << 30)];
    let e = b.start().unwrap_err();
    assert!(
        e.starts_with("cannot set ulimit nofile to 1073741824:1073741824"),
        "{e}"
    );
    let mut b = Box_::new("novol", &["true"]);
    b.cfg.mounts = vec![MountSpec::Bind {
        source: "/nonexistent/stack".into(),
        target: "/data".into(),
        read_only: false,
    }];
    let e = b.start().unwrap_err();
    assert_eq!(
        e,
        "volume source /nonexistent/stack does not exist; create it or fix the path"
    );
    // a missing working_dir is created, as Docker does
    let mut b = Box_::new("mkcwd", &["pwd"]);
    b.cfg.cwd = Some("/srv/app".into());
    assert_eq!(b.run().1, ["/srv/app"]);
}

#[test]
fn user_volumes_tmpfs_read_only_and_ulimits() {
    if !setup("user_volumes_tmpfs_read_only_and_ulimits") {
        return;
    }
    let vol = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rt-vol");
    let _ = std::fs::remove_dir_all(&vol);
    std::fs::create_dir_all(&vol).unwrap();
    std::fs::write(vol.join("in"), "from host\n").unwrap();
    let script = "id -u; id -g; cat /data/in; echo out > /data/out; \
        (touch /ro/x) 2>/dev/null && echo ro=rw || echo ro=ro; \
        (touch /y) 2>/dev/null && echo root=rw || echo root=ro; \
        touch /scratch/z && echo scratch=ok; ulimit -n; \
        echo x > /dev/null && head -c 3 /dev/zero | wc -c";
    let mut b = Box_::new("vols", &["sh", "-c", script]);
    b.cfg.user = Some("nobody".into());
    b.cfg.read_only = true;
    b.cfg.rlimits = vec![("nofile".into(), 1000, 2000)];
    b.cfg.mounts = vec![
        MountSpec::Bind {
            source: vol.clone(),
            target: "/data".into(),
            read_only: false,
        },
        MountSpec::Bind {
            source: vol.clone(),
            target: "/ro".into(),
            read_only: true,
        },
        MountSpec::Tmpfs {
            target: "/scratch".into(),
            size: Some(1 << 20),
            mode: None,
        },
    ];
    std::fs::set_permissions(&vol, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let (code, out, err) = b.run();
    assert_eq!(code, 0, "{out:?} {err:?}");
    assert_eq!(
        out,
        [
            "65534",
            "65534",
            "from host",
            "ro=ro",
            "root=ro",
            "scratch=ok",
            "1000",
            "3"
        ]
    );
    assert_eq!(std::fs::read_to_string(vol.join("out")).unwrap(), "out\n");
    std::fs::remove_dir_all(&vol).unwrap();
}

#[test]
fn exec_runs_inside_with_exit_code_env_user_and_cgroup() {
    if !setup("exec_runs_inside_with_exit_code_env_user_and_cgroup") {
        return;
    }
    // a throwaway cgroup, to check that both the container and exec join
    // it: in the v1 pids hierarchy, or on a pure v2 host the unified tree
    let v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let (hierarchy, member_line) = if v2 {
        ("/sys/fs/cgroup", "0::/")
    } else {
        ("/sys/fs/cgroup/pids", ":pids:/")
    };
    let cg = PathBuf::from(format!("{hierarchy}/stack-rt-test-{}", std::process::id()));
    let _cleanup = TestCgroups::create(std::slice::from_ref(&cg));
    let mut b = Box_::new("exec", &["sleep", "30"]);
    b.cfg.env.push("FROM_CFG=yes".into());
    let s = b.start_in(&[cg.join("cgroup.procs")]).unwrap();
    let run = |opts: ExecOptions| {
        let out = spawn::exec_helper_command(s.pid, &opts).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        )
    };
    let sh = |c: &str| vec!["sh".to_string(), "-c".to_string(), c.to_string()];
    assert_eq!(
        run(ExecOptions {
            argv: sh("exit 3"),
            ..Default::default()
        })
        .0,
        3
    );
    let (code, out, err) = run(ExecOptions {
        argv: sh(&format!("echo $FROM_CFG $EXTRA $(id -u) $(hostname) $(pwd); grep -F '{member_line}' /proc/self/cgroup | head -1; ps -o pid,comm | wc -l")),
        env: vec!["EXTRA=e".into()],
        user: Some("nobody".into()),
        cwd: Some("/tmp".into()),
        ..Default::default()
    });
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "yes e 65534 exec /tmp");
    // inside its cgroup namespace, the container's cgroup is the root
    assert!(lines[1].ends_with(member_line), "{out}");
    // init, sleep, sh, ps (+ header) — nothing of the host
    assert!(lines[2].trim().parse::<u32>().unwrap() <= 6, "{out}");
    let (code, _, err) = run(ExecOptions {
        argv: vec!["nope".into()],
        ..Default::default()
    });
    assert_eq!(code, 126);
    assert!(
        err.contains("cannot run \"nope\": no such file in the container"),
        "{err}"
    );
    // by default exec takes the container's user, working_dir, capabilities
    // and ulimits
    let mut b2 = Box_::new("exec2", &["sleep", "30"]);
    b2.cfg.user = Some("nobody".into());
    b2.cfg.cwd = Some("/home".into());
    b2.cfg.capabilities = vec!["CAP_CHOWN".into(), "CAP_KILL".into()];
    b2.cfg.rlimits = vec![("nofile".into(), 500, 600)];
    let s2 = b2.start().unwrap();
    let out = spawn::exec_helper_command(
        s2.pid,
        &ExecOptions {
            argv: sh("id -u; pwd; grep CapBnd /proc/self/status; ulimit -n"),
            ..Default::default()
        },
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["65534", "/home", "CapBnd:\t0000000000000021", "500"]
    );
    drop(b2);
    // with `init: false` the command itself is the container's pid
    let mut b3 = Box_::new("exec3", &["sleep", "30"]);
    b3.cfg.init = false;
    let s3 = b3.start().unwrap();
    let out = spawn::exec_helper_command(
        s3.pid,
        &ExecOptions {
            argv: sh("ps -o pid,comm | grep -c sleep; exit 4"),
            ..Default::default()
        },
    )
    .output()
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1");
    drop(b3);
    // the container is in the cgroup
    let members = std::fs::read_to_string(cg.join("cgroup.procs")).unwrap();
    assert!(members.lines().any(|l| l == s.pid.to_string()), "{members}");
    // SAFETY: kill our own child.
    unsafe { libc::kill(s.pid, libc::SIGKILL) };
    assert_eq!(b.wait(), 137);
    // rmdir succeeds only once empty; the members may take a moment to go
    let t = Instant::now();
    while std::fs::remove_dir(&cg).is_err() && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!cg.exists());
}

#[test]
fn clone_into_cgroup_places_the_init_at_birth_and_the_fallback_joins_after() {
    if !setup("clone_into_cgroup_places_the_init_at_birth_and_the_fallback_joins_after") {
        return;
    }
    // The cgroup2 hierarchy (a pure v2 host's tree, or a hybrid host's
    // controller-less mount) takes the child at clone; a v1 one (pids, on
    // a hybrid host) is still joined by a write from the child.
    let pure = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let unified = if pure {
        "/sys/fs/cgroup"
    } else {
        "/sys/fs/cgroup/unified"
    };
    let mut dirs = vec![PathBuf::from(format!(
        "{unified}/stack-rt-clone3-{}",
        std::process::id()
    ))];
    if !pure {
        dirs.push(PathBuf::from(format!(
            "/sys/fs/cgroup/pids/stack-rt-clone3-{}",
            std::process::id()
        )));
    }
    let _cleanup = TestCgroups::create(&dirs);
    let procs: Vec<PathBuf> = dirs.iter().map(|d| d.join("cgroup.procs")).collect();
    let member = |pid: i32| {
        dirs.iter().all(|d| {
            std::fs::read_to_string(d.join("cgroup.procs"))
                .unwrap()
                .lines()
                .any(|l| l == pid.to_string())
        })
    };
    // Both kernels the suite runs on (host and v2 guest) are ≥ 5.7.
    let mut b = Box_::new("clone3", &["sleep", "30"]);
    let s = b.start_in(&procs).unwrap();
    assert!(s.into_cgroup, "clone3(CLONE_INTO_CGROUP) was not used");
    assert!(member(s.pid));
    drop(b);
    spawn::set_clone_into_cgroup(false);
    let mut b = Box_::new("clone3-off", &["sleep", "30"]);
    let s = b.start_in(&procs);
    spawn::set_clone_into_cgroup(true);
    let s = s.unwrap();
    assert!(!s.into_cgroup);
    assert!(member(s.pid));
    drop(b);
    // Without a cgroup2 directory there is nothing to clone into.
    let mut b = Box_::new("clone3-none", &["true"]);
    assert!(!b.start().unwrap().into_cgroup);
    assert_eq!(b.wait(), 0);
    let t = Instant::now();
    for d in &dirs {
        while std::fs::remove_dir(d).is_err() && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!d.exists(), "{} left behind", d.display());
    }
}

/// Not a check: prints how long `start` of a `/bin/true` container takes and
/// the init's PSS. Run with
/// `cargo build --release && STACK_INIT_EXE=target/release/stack cargo test
/// --test runtime_spawn -- --ignored --nocapture measure`.
#[test]
#[ignore]
fn measure_start_time_and_init_pss() {
    if !setup("measure_start_time_and_init_pss") {
        return;
    }
    let n = 50;
    for net in [Network::None, Network::Host] {
        let (mut up, mut down) = (Duration::ZERO, Duration::ZERO);
        for i in 0..n {
            let mut b = Box_::new(&format!("bench{i}"), &["/bin/true"]);
            b.cfg.network = net.clone();
            let t = Instant::now();
            b.start().unwrap();
            up += t.elapsed();
            let t = Instant::now();
            assert_eq!(b.wait(), 0);
            down += t.elapsed();
        }
        println!(
            "network {net:?}: start of a /bin/true container {:?}, then exit and reap {:?} (mean over {n})",
            up / n,
            down / n
        );
    }
    // PSS of one init, alone and with 9 more running (they share the
    // sealed binary's pages).
    let mut boxes: Vec<Box_> = (0..10)
        .map(|i| Box_::new(&format!("pss{i}"), &["sleep", "30"]))
        .collect();
    let pids: Vec<i32> = boxes.iter_mut().map(|b| b.start().unwrap().pid).collect();
    std::thread::sleep(Duration::from_millis(300));
    let rollup = |pid: i32| std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap();
    let pss = |pid: i32| -> u64 {
        rollup(pid)
            .lines()
            .find(|l| l.starts_with("Pss:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    let total: u64 = pids.iter().map(|&p| pss(p)).sum();
    assert!(total > 0);
    println!("init PSS with 10 containers: {} kB mean", total / 10);
    for l in rollup(pids[0])
        .lines()
        .filter(|l| l.starts_with("Rss") || l.starts_with("Pss"))
    {
        println!("one of them: {l}");
    }
    drop(boxes);
}
