//! Helpers shared by the integration tests: root detection, a busybox rootfs
//! built from Debian's busybox-static, and a runner for the real binary with
//! its own project, state and run dirs.
#![allow(dead_code)]

pub mod oci;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// True when the test may run root-only checks. Under `CI=true` not being
/// root is a failure, not a skip.
pub fn root_or_skip(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{test}: needs root, and CI=true forbids skipping");
        }
        eprintln!("skipping {test}: needs root");
    }
    root
}

/// A busybox rootfs (one per test run), built from `/bin/busybox`
/// (Debian's busybox-static).
pub fn busybox_rootfs() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("busybox-rootfs");
        let busybox = ["/bin/busybox", "/usr/bin/busybox"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("busybox not found: apt-get install busybox-static");
        let tmp = dir.with_extension(format!("tmp{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        for d in [
            "bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root",
            "home",
        ] {
            std::fs::create_dir_all(tmp.join(d)).unwrap();
        }
        std::fs::copy(busybox, tmp.join("bin/busybox")).unwrap();
        // The host's busybox, not the fresh copy: a fork in another test
        // thread may still hold the copy's write descriptor (ETXTBSY).
        let out = Command::new(busybox).arg("--list").output().unwrap();
        for applet in String::from_utf8_lossy(&out.stdout).lines() {
            if applet != "busybox" {
                let _ = std::os::unix::fs::symlink("/bin/busybox", tmp.join("bin").join(applet));
            }
        }
        std::fs::write(
            tmp.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(tmp.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").unwrap();
        if !dir.exists() {
            let _ = std::fs::rename(&tmp, &dir);
        }
        let _ = std::fs::remove_dir_all(&tmp);
        dir
    })
    .clone()
}

/// A test project: its own name, state dir and run dir, removed (with a
/// `stack down`) when dropped, also when the test fails.
pub struct Project {
    pub name: String,
    pub dir: PathBuf,
    pub state: PathBuf,
    pub run: PathBuf,
}

impl Project {
    pub fn new(name: &str, yaml: &str) -> Project {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("it")
            .join(name);
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        let p = Project {
            name: name.to_string(),
            dir: base.clone(),
            state: base.join("state"),
            run: base.join("run"),
        };
        p.write(yaml);
        p
    }

    /// Replace the stack file; `{busybox}` expands to the busybox rootfs.
    pub fn write(&self, yaml: &str) {
        let yaml = yaml.replace("{busybox}", &busybox_rootfs().display().to_string());
        std::fs::write(self.dir.join("stack.yaml"), yaml).unwrap();
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_stack"));
        c.current_dir(&self.dir)
            .env("STACK_STATE_DIR", &self.state)
            .env("STACK_RUN_DIR", &self.run)
            .env_remove("STACK_FILE")
            .env_remove("STACK_PROJECT_NAME")
            .args(["-p", &self.name])
            .args(args);
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Run and assert success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "stack {args:?} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self.run(&["down", "-v", "-t", "1"]);
    }
}

/// `stack ps --format json`, parsed.
pub fn ps_json(p: &Project) -> serde_json::Value {
    serde_json::from_str(&p.ok(&["ps", "--format", "json"])).unwrap()
}

/// The `ps` entry of `svc`, if any.
pub fn find<'a>(ps: &'a serde_json::Value, svc: &str) -> Option<&'a serde_json::Value> {
    ps["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["service"] == svc)
}

/// The `ps` entry of `svc`; panics with the whole listing when missing.
pub fn container<'a>(ps: &'a serde_json::Value, svc: &str) -> &'a serde_json::Value {
    find(ps, svc).unwrap_or_else(|| panic!("no container for {svc} in {ps:#}"))
}

/// The pid `ps` reports for `svc`.
pub fn pid_of(p: &Project, svc: &str) -> i64 {
    container(&ps_json(p), svc)["pid"].as_i64().unwrap()
}

/// Poll `f` every 50 ms until it holds; fail after `timeout`.
pub fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// stdout and stderr of a finished command, together.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Whether `pid` is a live (non-zombie) process.
pub fn alive(pid: i64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

/// Nothing of the project is left: processes, cgroups, mounts, state.
pub fn assert_nothing_left(p: &Project) {
    for root in std::fs::read_dir("/sys/fs/cgroup").unwrap() {
        let dir = root.unwrap().path().join("stack").join(&p.name);
        assert!(!dir.exists(), "cgroup left: {}", dir.display());
    }
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let state = p.state.display().to_string();
    for l in mi.lines() {
        assert!(!l.contains(&state), "mount left: {l}");
    }
    assert!(!p.state.join(&p.name).join("containers").exists());
    assert!(!p.state.join(&p.name).join("logs").exists());
    assert!(!p.run.join(&p.name).join("control.sock").exists());
}

/// A plain busybox container under `base` (bundle, log) for the runtime
/// tests that call `stack::runtime` directly: Docker's default caps, no
/// network, stack's init, cgroup `stack/<group>/<name>`.
pub fn container_config(
    group: &str,
    name: &str,
    base: &Path,
    argv: &[&str],
) -> stack::runtime::ContainerConfig {
    stack::runtime::ContainerConfig {
        id: format!("{group}-{name}-1"),
        rootfs: busybox_rootfs(),
        layers: Vec::new(),
        bundle: base.join("bundle"),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        env: vec![],
        cwd: None,
        user: None,
        hostname: name.to_string(),
        mounts: vec![],
        read_only: false,
        capabilities: stack::caps::DOCKER_DEFAULT
            .iter()
            .map(|s| s.to_string())
            .collect(),
        rlimits: vec![],
        group_add: vec![],
        sysctls: vec![],
        oom_score_adj: None,
        network: stack::runtime::Network::None,
        ipc: Default::default(),
        pid: Default::default(),
        shm_source: None,
        init: true,
        cgroup: format!("stack/{group}/{name}"),
        cgroup_hierarchies: vec![],
        security: Default::default(),
        limits: stack::runtime::CgroupLimits::default(),
        log_file: base.join("log"),
    }
}
pub mod registry;
